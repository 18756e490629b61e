"""More build systems for the link index (``analysis.links.index``): which file builds which image.

- ``bake``: ``docker buildx bake`` files (``docker-bake.hcl``/``.json`` and their ``.override``
  files, merged per directory in bake's own order) through ``parse.bakehcl``;
- ``jib``: ``jib-maven-plugin`` ``<to><image>`` in pom.xml and ``jib { to { image = … } }`` in
  build.gradle(.kts) — built without a Dockerfile;
- ``ko``: ``ko://`` references in YAML — built without a Dockerfile;
- ``gitlab``: ``docker build`` and Kaniko in ``.gitlab-ci.yml`` job scripts (``variables:``
  expanded, ``$CI_PROJECT_DIR`` is the repository root);
- ``cloudbuild``: docker (and Kaniko) steps of ``cloudbuild.yaml``/``.json`` (``substitutions:``
  defaults expanded; ``$PROJECT_ID`` and other built-ins stay variables);
- ``tekton``: Tekton TaskRuns and Pipeline(Run) tasks running, by reference, a Task of the
  repository that runs Kaniko, or the catalog ``kaniko``/``buildah`` task (``IMAGE``,
  ``DOCKERFILE``, ``CONTEXT`` params; pipeline ``$(params.X)`` from defaults and the run's values);
- ``kaniko``: ``--destination`` of a Kaniko executor in any YAML (Tekton Task and TaskRun steps,
  Kubernetes Jobs), ``$(params.X)`` from the document's params.

The readers live in ``analysis.links.tools`` (bake, Jib, ko) and ``analysis.links.ci``; this module
collects their links and keeps only well-formed ones. A repository that still names a variable (``gcr.io/$PROJECT_ID/web``) is matched by
``repository_pattern``: the registry host written out, one path component unknown, the last one
written out. Every reader is best-effort: what it can't read gives no link, never an error.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from migrate_tui.analysis.links import ci
from migrate_tui.analysis.links import tools
from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.analysis.links.index import Link, _strip_templated_tag


def reads(rel: str) -> bool:
    """Files only this module reads (the YAML files it also looks at are read by ``analysis.links.index``)."""
    name = posixpath.basename(rel).lower()
    return (name.startswith(("docker-bake", "cloudbuild")) and name.endswith((".hcl", ".json"))) or name in (
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
    )


class Collector:
    """Collects links from every file handed to ``add``; ``links()`` gives them by source."""

    def __init__(self, files: set[str]) -> None:
        self.files = files
        self.found: dict[str, list[Link]] = {s: [] for s in ("bake", "jib", "ko", "gitlab", "cloudbuild", "tekton", "kaniko")}
        self.bake: dict[str, list[tuple[str, str]]] = {}
        self.tekton_tasks: dict[str, tuple[str, dict[Any, Any]]] = {}
        self.tekton_uses: list[tuple[str, str, dict[str, str]]] = []

    def add(self, rel: str, text: str) -> None:
        name = posixpath.basename(rel).lower()
        try:
            if name.startswith("docker-bake") and name.endswith((".hcl", ".json")):
                self.bake.setdefault(posixpath.dirname(rel), []).append((rel, text))
            elif name == "pom.xml":
                self.found["jib"] += tools.from_pom(rel, text)
            elif name in ("build.gradle", "build.gradle.kts"):
                self.found["jib"] += tools.from_gradle(rel, text)
            elif name.startswith("cloudbuild") and name.endswith((".yaml", ".yml", ".json")):
                self.found["cloudbuild"] += ci.from_cloudbuild(rel, text, self.files)
            elif name.endswith((".yaml", ".yml")):
                if name in (".gitlab-ci.yml", ".gitlab-ci.yaml") or name.endswith(".gitlab-ci.yml"):
                    self.found["gitlab"] += ci.from_gitlab(rel, text, self.files)
                else:
                    if "kaniko" in text and "destination" in text:
                        self.found["kaniko"] += ci.from_kaniko_yaml(rel, text, self.files)
                    if "tekton.dev/" in text:
                        tasks, uses = ci.tekton_task_uses(rel, text)
                        self.tekton_tasks.update({n: (rel, d) for n, d in tasks.items()})
                        self.tekton_uses += uses
                if "ko://" in text:
                    self.found["ko"] += tools.from_ko_references(rel, text)
        except RecursionError:
            pass  # a pathological file gives no links

    def links(self) -> dict[str, list[Link]]:
        out = {k: list(v) for k, v in self.found.items()}
        try:
            out["tekton"] += ci.tekton_links(self.tekton_tasks, self.tekton_uses, self.files)
        except RecursionError:
            pass
        for directory in sorted(self.bake):
            files = sorted(self.bake[directory], key=lambda item: tools.bake_rank(item[0]))
            try:
                out["bake"] += tools.from_bake(directory, files, self.files)
            except RecursionError:
                pass
        # a link to a Dockerfile that is not there would only block fixes
        return {k: [l for l in dict.fromkeys(v) if acceptable(l) and (l.dockerless or l.dockerfile in self.files)] for k, v in out.items()}


_KO_NAME = re.compile(r"ko://[A-Za-z0-9][A-Za-z0-9._~/-]{0,250}")
_ANY_VAR = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|\$\w+")


def acceptable(link: Link) -> bool:
    """A name that is an image reference once its variables are filled in (or a ko:// import
    path), and paths and names that print as they are: nothing else from a build file is kept."""
    texts = (link.image, link.dockerfile, link.context, link.target or "")
    if not all(t.isprintable() and not any(c.isspace() for c in t) for t in texts):
        return False
    if link.builder == "ko" and link.image.startswith("ko://"):
        return _KO_NAME.fullmatch(link.image) is not None
    if "$" in _strip_templated_tag(link.image) and repository_pattern(link.image) is None:
        return False
    return parse_image_ref(_ANY_VAR.sub("x", link.image)) is not None


def repository_pattern(repository: str) -> re.Pattern[str] | None:
    """``gcr.io/$PROJECT_ID/web`` → a regex for ``gcr.io/<one component>/web``; None when the
    name is too open to be matched safely (unknown host, several or a last unknown component)."""
    parts = repository.partition("@")[0].split("/")
    parts[-1] = parts[-1].partition(":")[0]
    host = parts[0]
    if len(parts) < 3 or "$" in host or "{" in host or not ("." in host or ":" in host or host == "localhost"):
        return None
    unknown = [i for i, p in enumerate(parts) if "$" in p or "{" in p]
    if len(unknown) != 1 or unknown[0] == len(parts) - 1:
        return None
    pieces = []
    for part in parts:
        if "$" in part or "{" in part:
            chunks = re.split(r"\$\{[^}]*\}|\$\([^)]*\)|\$\w+", part)
            if any("$" in c or "{" in c or "}" in c for c in chunks):
                return None
            pieces.append("[a-z0-9._-]+".join(re.escape(c) for c in chunks))
        else:
            pieces.append(re.escape(part.lower()))
    return re.compile("/".join(pieces))
