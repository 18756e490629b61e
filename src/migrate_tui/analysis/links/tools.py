"""Links from build tools' own files (see ``analysis.links.builds``): ``docker buildx bake`` files
(through ``parse.bakehcl``), Jib in pom.xml and build.gradle(.kts), ``ko://`` references; and the
path rules every new source shares (root-relative, never outside the root, never remote)."""

from __future__ import annotations

import posixpath
import re
from typing import Iterable

from migrate_tui.parse import bakehcl
from migrate_tui.analysis.links.index import Link, _inside, _strip_templated_tag

REMOTE = ("://", "git@")
# bake's own lookup order (after compose files, which ``analysis.links.index`` reads as compose)
_BAKE_ORDER = ("docker-bake.json", "docker-bake.override.json", "docker-bake.hcl", "docker-bake.override.hcl")


# --------------------------------------------------------------------------- paths


def resolve_in_root(base: str, raw: str) -> str | None:
    """``raw`` (relative to ``base``) as a root-relative path, or None outside the root."""
    joined = posixpath.normpath(posixpath.join(base, raw)) if base else posixpath.normpath(raw)
    joined = "." if joined in ("", ".") else joined
    return joined if not posixpath.isabs(joined) and _inside(joined) else None


def dockerfile_and_context(
    bases: Iterable[str], context_raw: str, dockerfile_raw: str | None, files: set[str], dockerfile_from_context: bool = True
) -> tuple[str, str] | None:
    """(Dockerfile, context) for the first base under which the Dockerfile exists; None when
    it exists under none (a link to a missing file would only block fixes), or a path leaves
    the root or is remote."""
    if any(r in context_raw for r in REMOTE) or "$" in context_raw:
        return None
    if dockerfile_raw is not None and ("$" in dockerfile_raw or any(r in dockerfile_raw for r in REMOTE)):
        return None
    for base in dict.fromkeys(bases):
        context = resolve_in_root(base, context_raw)
        if context is None:
            continue
        if dockerfile_raw is None:
            dockerfile = resolve_in_root(context, "Dockerfile")
        else:
            dockerfile = resolve_in_root(context if dockerfile_from_context else base, dockerfile_raw)
        if dockerfile is None:
            continue
        if dockerfile in files:
            return dockerfile, context
    return None


def host_written_out(image: str) -> bool:
    """A name whose registry host is written out (``$CI_REGISTRY_IMAGE:tag`` is not)."""
    return "$" not in image.split("/", 1)[0]


# --------------------------------------------------------------------------- Jib


_POM_PLUGIN = re.compile(r"<plugin>(?:(?!</plugin>).){0,20000}?</plugin>", re.S)
_POM_TO_IMAGE = re.compile(r"<to>\s*(?:<!--.*?-->\s*)*(?:<[^>]+>[^<]*</[^>]+>\s*)*?<image>\s*([^<\s]+)\s*</image>", re.S)
_POM_PROPERTIES = re.compile(r"<properties>(.*?)</properties>", re.S)
_POM_PROPERTY = re.compile(r"<([\w.-]+)>\s*([^<]*?)\s*</\1>")
_MAVEN_REF = re.compile(r"\$\{([\w.-]+)\}")


def from_pom(rel: str, text: str) -> list[Link]:
    """``jib-maven-plugin`` ``<configuration><to><image>``: built by Jib, no Dockerfile."""
    if "jib-maven-plugin" not in text:
        return []
    properties: dict[str, str] = {}
    found = _POM_PROPERTIES.search(text)
    if found:
        properties = {m.group(1): m.group(2) for m in _POM_PROPERTY.finditer(found.group(1))}
    artifact = re.search(
        r"</parent>\s*(?:<[^>]+>[^<]*</[^>]+>\s*)*?<artifactId>([^<]+)</artifactId>|"
        r"<modelVersion>[^<]*</modelVersion>\s*(?:<[^>]+>[^<]*</[^>]+>\s*)*?<artifactId>([^<]+)</artifactId>",
        text,
    )
    if artifact:
        properties.setdefault("project.artifactId", (artifact.group(1) or artifact.group(2)).strip())
    context = posixpath.dirname(rel) or "."
    links = []
    for plugin in _POM_PLUGIN.finditer(text):
        body = plugin.group(0)
        if "<artifactId>jib-maven-plugin</artifactId>" not in body:
            continue
        to = _POM_TO_IMAGE.search(body)
        if not to:
            continue
        written = to.group(1)
        image = _MAVEN_REF.sub(lambda m: properties.get(m.group(1), m.group(0)), written)
        if "${" in _strip_templated_tag(image):
            continue
        at = plugin.start() + to.start(1)
        line = text.count("\n", 0, at) + 1
        links.append(Link(image, "", context, "jib", f"{rel}:{line}", builder="jib"))
    return links


_GRADLE_JIB = re.compile(r"\bjib\s*\{|\bjib\.to\.image\b")
_GRADLE_TO_IMAGE = re.compile(r"(?:\bjib\.to\.image|\bto\s*\{[^{}]{0,2000}?\bimage|\bto\.image)\s*=\s*(['\"])([^'\"$\n]+)\1")


def from_gradle(rel: str, text: str) -> list[Link]:
    """``jib { to { image = '…' } }`` (Groovy or Kotlin DSL): built by Jib, no Dockerfile."""
    if not _GRADLE_JIB.search(text):
        return []
    context = posixpath.dirname(rel) or "."
    links = []
    for found in _GRADLE_TO_IMAGE.finditer(text):
        image = found.group(2).strip()
        line = text.count("\n", 0, found.start(2)) + 1
        links.append(Link(image, "", context, "jib", f"{rel}:{line}", builder="jib"))
    return links


# --------------------------------------------------------------------------- ko


_KO_REF = re.compile(r"^[ \t]*(?:-[ \t]+)?image:[ \t]*[\"']?(ko://[^\s\"'#]+)", re.M)


def from_ko_references(rel: str, text: str) -> list[Link]:
    """``image: ko://github.com/acme/app/cmd/web``: ko builds (and names) it at deploy time."""
    links = []
    for found in _KO_REF.finditer(text):
        line = text.count("\n", 0, found.start(1)) + 1
        links.append(Link(found.group(1), "", ".", "ko", f"{rel}:{line}", builder="ko"))
    return links


# --------------------------------------------------------------------------- buildx bake


def bake_rank(rel: str) -> tuple[int, str]:
    name = posixpath.basename(rel).lower()
    return (_BAKE_ORDER.index(name) if name in _BAKE_ORDER else len(_BAKE_ORDER), name)


def from_bake(directory: str, files_in_dir: list[tuple[str, str]], files: set[str]) -> list[Link]:
    """Targets of the bake files of one directory, merged in bake's order (later files override
    attributes), ``inherits`` followed; contexts are relative to the directory."""
    merged = bakehcl.BakeProject()
    for rel, text in files_in_dir:
        parsed = bakehcl.read_bake(rel, text)
        if parsed is not None:
            merged.merge(parsed)
    links = []
    for name in merged.target_names():
        target = merged.resolved_target(name)
        if target is None or "dockerfile-inline" in target:
            continue
        context_raw = merged.string(target.get("context")) if "context" in target else "."
        dockerfile_raw = merged.string(target.get("dockerfile")) if "dockerfile" in target else None
        if context_raw is None or ("dockerfile" in target and dockerfile_raw is None):
            continue
        found = dockerfile_and_context([directory], context_raw, dockerfile_raw, files)
        if found is None:
            continue
        dockerfile, context = found
        stage = merged.string(target.get("target")) if "target" in target else None
        if "target" in target and not stage:
            continue  # a stage we can't name: the last one would be a guess
        tags = target.get("tags")
        for value in tags.value if isinstance(tags, bakehcl.Value) and isinstance(tags.value, list) else []:
            image = merged.string(value)
            if not image:
                continue
            image = image[:-1] if image.endswith(":") else image
            span = value.span if value.literal else None
            links.append(Link(image, dockerfile, context, "bake", f"{value.origin}", stage, span))
    return links
