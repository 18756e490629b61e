"""More build systems for the link index (``core.links``): which file builds which image.

- ``bake``: ``docker buildx bake`` files (``docker-bake.hcl``/``.json`` and their ``.override``
  files, merged per directory in bake's own order) through ``core.bakehcl``;
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

A repository that still names a variable (``gcr.io/$PROJECT_ID/web``) is matched by
``repository_pattern``: the registry host written out, one path component unknown, the last one
written out. Every reader is best-effort: what it can't read gives no link, never an error.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Any, Callable, Iterable

from . import bakehcl
from .imageref import parse_image_ref
from .links import Link, _inside, _load_all, _logical_lines, _script_builds, _strip_templated_tag, parse_build_args

_MAX_YAML_NODES = 20_000  # nodes visited per document looking for Kaniko steps
_MAX_DEPTH = 40
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_TEKTON_PARAM = re.compile(r"\$\((?:inputs\.)?params(?:\.([\w-]+)|\[['\"]([\w-]+)['\"]\])\)")
_TEKTON_WORKSPACE = re.compile(r"\A\$\(workspaces\.[\w-]+\.path\)(?=/|\Z)")
_KANIKO_IMAGE = re.compile(r"kaniko-project/executor|/kaniko\b|\bkaniko\b")
_REMOTE = ("://", "git@")
_BAKE_ORDER = ("docker-bake.json", "docker-bake.hcl", "docker-bake.override.json", "docker-bake.override.hcl")


def reads(rel: str) -> bool:
    """Files only this module reads (the YAML files it also looks at are read by ``core.links``)."""
    name = posixpath.basename(rel).lower()
    return (name.startswith(("docker-bake", "cloudbuild")) and name.endswith((".hcl", ".json"))) or \
        name in ("pom.xml", "build.gradle", "build.gradle.kts")


class Collector:
    """Collects links from every file handed to ``add``; ``links()`` gives them by source."""

    def __init__(self, files: set[str]) -> None:
        self.files = files
        self.found: dict[str, list[Link]] = {s: [] for s in ("bake", "jib", "ko", "gitlab", "cloudbuild", "tekton", "kaniko")}
        self.bake: dict[str, list[tuple[str, str]]] = {}
        self.tekton_tasks: dict[str, tuple[str, dict]] = {}
        self.tekton_uses: list[tuple[str, str, dict[str, str]]] = []

    def add(self, rel: str, text: str) -> None:
        name = posixpath.basename(rel).lower()
        try:
            if name.startswith("docker-bake") and name.endswith((".hcl", ".json")):
                self.bake.setdefault(posixpath.dirname(rel), []).append((rel, text))
            elif name == "pom.xml":
                self.found["jib"] += from_pom(rel, text)
            elif name in ("build.gradle", "build.gradle.kts"):
                self.found["jib"] += from_gradle(rel, text)
            elif name.startswith("cloudbuild") and name.endswith((".yaml", ".yml", ".json")):
                self.found["cloudbuild"] += from_cloudbuild(rel, text, self.files)
            elif name.endswith((".yaml", ".yml")):
                if name in (".gitlab-ci.yml", ".gitlab-ci.yaml") or name.endswith(".gitlab-ci.yml"):
                    self.found["gitlab"] += from_gitlab(rel, text, self.files)
                else:
                    if "kaniko" in text and "destination" in text:
                        self.found["kaniko"] += from_kaniko_yaml(rel, text, self.files)
                    if "tekton.dev/" in text:
                        tasks, uses = tekton_task_uses(rel, text)
                        self.tekton_tasks.update({n: (rel, d) for n, d in tasks.items()})
                        self.tekton_uses += uses
                if "ko://" in text:
                    self.found["ko"] += from_ko_references(rel, text)
        except RecursionError:
            pass  # a pathological file gives no links

    def links(self) -> dict[str, list[Link]]:
        out = {k: list(v) for k, v in self.found.items()}
        try:
            out["tekton"] += tekton_links(self.tekton_tasks, self.tekton_uses, self.files)
        except RecursionError:
            pass
        for directory in sorted(self.bake):
            files = sorted(self.bake[directory], key=lambda item: _bake_rank(item[0]))
            try:
                out["bake"] += from_bake(directory, files, self.files)
            except RecursionError:
                pass
        return {k: [l for l in v if acceptable(l)] for k, v in out.items()}


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


def repository_pattern(repository: str) -> re.Pattern | None:
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


# --------------------------------------------------------------------------- paths


def _resolve(base: str, raw: str) -> str | None:
    """``raw`` (relative to ``base``) as a root-relative path, or None outside the root."""
    joined = posixpath.normpath(posixpath.join(base, raw)) if base else posixpath.normpath(raw)
    joined = "." if joined in ("", ".") else joined
    return joined if not posixpath.isabs(joined) and _inside(joined) else None


def _dockerfile_and_context(bases: Iterable[str], context_raw: str, dockerfile_raw: str | None,
                            files: set[str], dockerfile_from_context: bool = True) -> tuple[str, str] | None:
    """(Dockerfile, context) for the first base under which the Dockerfile exists, else the
    first base's; None when a path leaves the root or is remote."""
    if any(r in context_raw for r in _REMOTE) or "$" in context_raw:
        return None
    if dockerfile_raw is not None and ("$" in dockerfile_raw or any(r in dockerfile_raw for r in _REMOTE)):
        return None
    first = None
    for base in dict.fromkeys(bases):
        context = _resolve(base, context_raw)
        if context is None:
            continue
        if dockerfile_raw is None:
            dockerfile = _resolve(context, "Dockerfile")
        else:
            dockerfile = _resolve(context if dockerfile_from_context else base, dockerfile_raw)
        if dockerfile is None:
            continue
        if dockerfile in files:
            return dockerfile, context
        first = first or (dockerfile, context)
    return first


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
    artifact = re.search(r"</parent>\s*(?:<[^>]+>[^<]*</[^>]+>\s*)*?<artifactId>([^<]+)</artifactId>|"
                         r"<modelVersion>[^<]*</modelVersion>\s*(?:<[^>]+>[^<]*</[^>]+>\s*)*?<artifactId>([^<]+)</artifactId>", text)
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
_GRADLE_TO_IMAGE = re.compile(
    r"(?:\bjib\.to\.image|\bto\s*\{[^{}]{0,2000}?\bimage|\bto\.image)\s*=\s*(['\"])([^'\"$\n]+)\1")


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


# --------------------------------------------------------------------------- Kaniko


def kaniko_flags(words: list[str]) -> tuple[list[str], str | None, str | None, str | None]:
    """(destinations, dockerfile, context, target) of Kaniko executor arguments."""
    destinations, dockerfile, context, target = [], None, None, None
    i = 0
    while i < len(words):
        name, eq, inline = words[i].partition("=")
        known = name in ("--destination", "-d", "--dockerfile", "-f", "--context", "-c", "--target")
        value = inline if eq else (words[i + 1] if known and i + 1 < len(words) else None)
        if value is not None:
            if name in ("--destination", "-d"):
                destinations.append(value)
            elif name in ("--dockerfile", "-f"):
                dockerfile = value
            elif name in ("--context", "-c"):
                context = value
            elif name == "--target":
                target = value
        i += 1 if (eq or not known) else 2
    return destinations, dockerfile, context, target


def _kaniko_root_relative(path: str, roots: tuple[str, ...]) -> str | None:
    """A Kaniko path (``dir://``, a workspace, ``$CI_PROJECT_DIR``) relative to the repository."""
    if path.startswith("dir://"):
        path = path[len("dir://"):]
    path = _TEKTON_WORKSPACE.sub(".", path)
    for root in roots:
        if path == root or path.startswith(root.rstrip("/") + "/"):
            path = "." + path[len(root.rstrip("/")):]
            break
    if posixpath.isabs(path) or "$" in path or any(r in path for r in _REMOTE):
        return None
    return path or "."


def _kaniko_links(rel: str, words: list[str], expand: Callable[[str], str], roots: tuple[str, ...],
                  source: str, origin: str, files: set[str], default_context: str | None = None) -> list[Link]:
    destinations, dockerfile_raw, context_raw, target = kaniko_flags([expand(w) for w in words])
    context_raw = context_raw if context_raw is not None else default_context
    if not destinations or context_raw is None:
        return []
    context_rel = _kaniko_root_relative(context_raw, roots)
    if context_rel is None:
        return []
    dockerfile_rel = None
    from_context = True
    if dockerfile_raw is not None:
        if dockerfile_raw.startswith("/") or dockerfile_raw.startswith("$"):
            dockerfile_rel = _kaniko_root_relative(dockerfile_raw, roots)
            from_context = False
            if dockerfile_rel is None:
                return []
        else:
            dockerfile_rel = dockerfile_raw
    found = _dockerfile_and_context(["."], context_rel, dockerfile_rel, files, from_context)
    if (found is None or found[0] not in files) and dockerfile_rel is not None and from_context:
        # Kaniko also reads a relative --dockerfile from where it runs (the repository root)
        from_root = _dockerfile_and_context(["."], context_rel, dockerfile_rel, files, False)
        if from_root is not None and from_root[0] in files:
            found = from_root
    if found is None:
        return []
    dockerfile, context = found
    return [Link(d, dockerfile, context, source, origin, target) for d in destinations
            if not d.startswith("$") and (parsed_host_literal(d))]


def parsed_host_literal(image: str) -> bool:
    """A name whose registry host is written out (``$CI_REGISTRY_IMAGE:tag`` is not)."""
    return "$" not in image.split("/", 1)[0]


def _tekton_params(doc: dict) -> dict[str, str]:
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    values: dict[str, str] = {}
    task_spec = spec.get("taskSpec") if isinstance(spec.get("taskSpec"), dict) else {}
    for params, key in ((spec.get("params"), "default"), (task_spec.get("params"), "default"), (spec.get("params"), "value")):
        for param in params if isinstance(params, list) else []:
            if isinstance(param, dict) and isinstance(param.get("name"), str) and isinstance(param.get(key), str):
                values[param["name"]] = param[key]
    return values


def from_kaniko_yaml(rel: str, text: str, files: set[str]) -> list[Link]:
    """Kaniko executor containers and Tekton steps (``args``, ``command`` or ``script``), with
    ``$(params.X)`` from the document's params."""
    links = []
    for doc in _load_all(text):
        if isinstance(doc, dict):
            links += _kaniko_steps(rel, doc, _tekton_params(doc), None, files)
    return links


def _kaniko_steps(rel: str, doc: dict, params: dict[str, str], origin: str | None, files: set[str],
                  source: str = "kaniko") -> list[Link]:
    def expand(word: str) -> str:
        return _TEKTON_PARAM.sub(lambda m: params.get(m.group(1) or m.group(2), m.group(0)), word)

    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    declared = [w.get("name") for w in spec.get("workspaces") or [] if isinstance(w, dict) and isinstance(w.get("name"), str)]
    roots = tuple(f"/workspace/{name}" for name in declared) + ("/workspace/source",)
    links = []
    for step in _containers(doc):
        image = step.get("image")
        if not isinstance(image, str) or not _KANIKO_IMAGE.search(image):
            continue
        words: list[str] = []
        for key in ("command", "args"):
            value = step.get(key)
            if isinstance(value, list):
                words += [str(w) for w in value if isinstance(w, (str, int))]
        if isinstance(step.get("script"), str):
            for _, _, line in _logical_lines(step["script"]):
                try:
                    words += shlex.split(line, comments=True)
                except ValueError:
                    continue
        line = step.line_of("image") if hasattr(step, "line_of") else 0
        links += _kaniko_links(rel, words, expand, roots, source, origin or f"{rel}:{line}", files)
    return links


# Tekton catalog tasks that build ``$(params.IMAGE)`` from ``$(params.DOCKERFILE)`` (relative to
# the source workspace) and ``$(params.CONTEXT)``.
_CATALOG_BUILD_TASKS = ("kaniko", "buildah")


def _task_ref_name(holder: dict) -> str | None:
    ref = holder.get("taskRef")
    if not isinstance(ref, dict):
        return None
    if isinstance(ref.get("name"), str):
        return ref["name"]
    for param in ref.get("params") or [] if isinstance(ref.get("params"), list) else []:
        if isinstance(param, dict) and param.get("name") == "name" and isinstance(param.get("value"), str):
            return param["value"]  # a resolver (hub, bundles, git) naming the task
    return None


def _param_values(params: Any, key: str = "value") -> dict[str, str]:
    out = {}
    for param in params if isinstance(params, list) else []:
        if isinstance(param, dict) and isinstance(param.get("name"), str) and isinstance(param.get(key), (str, int)):
            out[param["name"]] = str(param[key])
    return out


def tekton_task_uses(rel: str, text: str) -> tuple[dict[str, dict], list[tuple[str, str, dict[str, str]]]]:
    """(Tasks defined here by name, and (origin, task name, params) of each TaskRun and
    Pipeline task that runs a task by reference)."""
    tasks: dict[str, dict] = {}
    uses: list[tuple[str, str, dict[str, str]]] = []
    for doc in _load_all(text):
        if not isinstance(doc, dict) or not str(doc.get("apiVersion", "")).startswith("tekton.dev/"):
            continue
        kind = doc.get("kind")
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        if kind in ("Task", "ClusterTask") and isinstance(metadata.get("name"), str):
            tasks[metadata["name"]] = doc
        elif kind == "TaskRun":
            name = _task_ref_name(spec)
            if name:
                line = spec.line_of("taskRef") if hasattr(spec, "line_of") else 0
                uses.append((f"{rel}:{line}", name, _param_values(spec.get("params"))))
        elif kind in ("Pipeline", "PipelineRun"):
            pipeline = spec if kind == "Pipeline" else spec.get("pipelineSpec")
            if not isinstance(pipeline, dict):
                continue
            defaults = _param_values(pipeline.get("params"), "default")
            if kind == "PipelineRun":
                defaults.update(_param_values(spec.get("params")))
            for group in ("tasks", "finally"):
                for task in pipeline.get(group) or [] if isinstance(pipeline.get(group), list) else []:
                    name = _task_ref_name(task) if isinstance(task, dict) else None
                    if not name:
                        continue
                    params = {k: _TEKTON_PARAM.sub(lambda m: defaults.get(m.group(1) or m.group(2), m.group(0)), v)
                              for k, v in _param_values(task.get("params")).items()}
                    line = task.line_of("taskRef") if hasattr(task, "line_of") else 0
                    uses.append((f"{rel}:{line}", name, params))
    return tasks, uses


def tekton_links(tasks: dict[str, tuple[str, dict]], uses: list[tuple[str, str, dict[str, str]]],
                 files: set[str]) -> list[Link]:
    """Links of the tasks run by reference: a Task of the repository (its Kaniko steps with the
    given params over its defaults), or a catalog build task (``IMAGE``/``DOCKERFILE``/``CONTEXT``)."""
    links = []
    for origin, name, params in uses:
        if name in tasks:
            rel, doc = tasks[name]
            links += _kaniko_steps(rel, doc, {**_tekton_params(doc), **params}, origin, files, "tekton")
        elif name in _CATALOG_BUILD_TASKS and "IMAGE" in params:
            image = params["IMAGE"]
            context_raw = params.get("CONTEXT", ".")
            dockerfile_raw = params.get("DOCKERFILE", "./Dockerfile")
            found = _dockerfile_and_context(["."], context_raw, dockerfile_raw, files, dockerfile_from_context=False)
            if found is not None and found[0] not in files and name == "kaniko":
                in_context = _dockerfile_and_context(["."], context_raw, dockerfile_raw, files)
                found = in_context if in_context is not None and in_context[0] in files else found
            if found is not None and parsed_host_literal(image):
                links.append(Link(image, found[0], found[1], "tekton", origin))
    return links


def _containers(doc: Any) -> Iterable[dict]:
    """Dicts with an ``image`` anywhere in a document (containers, steps, sidecars), bounded."""
    stack = [(doc, 0)]
    seen = 0
    while stack and seen < _MAX_YAML_NODES:
        node, depth = stack.pop()
        seen += 1
        if depth > _MAX_DEPTH:
            continue
        if isinstance(node, dict):
            if isinstance(node.get("image"), str):
                yield node
            stack += [(v, depth + 1) for v in reversed(list(node.values())) if isinstance(v, (dict, list))]
        elif isinstance(node, list):
            stack += [(v, depth + 1) for v in reversed(node) if isinstance(v, (dict, list))]


# --------------------------------------------------------------------------- GitLab CI


def _expander(variables: dict[str, str]) -> Callable[[str], str]:
    def expand(value: str) -> str:
        for _ in range(5):
            new = _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), value)
            if new == value:
                break
            value = new
        return value
    return expand


def _gitlab_variables(value: Any) -> dict[str, str]:
    out = {}
    for name, item in (value or {}).items() if isinstance(value, dict) else ():
        if isinstance(item, dict):
            item = item.get("value")
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            out[str(name)] = str(item)
    return out


def _script_items(value: Any) -> Iterable[tuple[int, str]]:
    """(line, text) of each script line (nested lists are YAML anchors' way to share steps)."""
    if isinstance(value, str):
        yield 0, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            line = value.line_of(i) if hasattr(value, "line_of") else 0
            if isinstance(item, str):
                yield line, item
            elif isinstance(item, list):
                for inner_line, inner in _script_items(item):
                    yield inner_line or line, inner


def from_gitlab(rel: str, text: str, files: set[str]) -> list[Link]:
    """``docker build`` and ``/kaniko/executor`` in the ``script:`` of GitLab CI jobs."""
    links = []
    for doc in _load_all(text):
        if not isinstance(doc, dict):
            continue
        global_vars = {"CI_PROJECT_DIR": ".", **_gitlab_variables(doc.get("variables"))}
        for job in doc.values():
            if not isinstance(job, dict) or "script" not in job:
                continue
            expand = _expander({**global_vars, **_gitlab_variables(job.get("variables")), "CI_PROJECT_DIR": "."})
            for key in ("before_script", "script"):
                for line, item in _script_items(job.get(key)):
                    for _, _, logical in _logical_lines(item):
                        found = _gitlab_command(rel, logical, expand, max(line - 1, 0), files)
                        links += found
    return links


def _gitlab_command(rel: str, line: str, expand: Callable[[str], str], line_offset: int, files: set[str]) -> list[Link]:
    builds = _script_builds(rel, line, expand, "", "gitlab", line_offset, spans=False)
    if builds:
        return [l for l in builds if parsed_host_literal(l.image)]
    if "executor" not in line:
        return []
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return []
    for i, word in enumerate(words):
        if word.endswith("/kaniko/executor") or word == "executor":
            return _kaniko_links(rel, words[i + 1:], expand, (), "gitlab", f"{rel}:{line_offset + 1}", files)
    return []


# --------------------------------------------------------------------------- Google Cloud Build


def from_cloudbuild(rel: str, text: str, files: set[str]) -> list[Link]:
    """``steps`` running ``gcr.io/cloud-builders/docker build`` (or Kaniko), ``dir:`` and
    ``substitutions:`` defaults followed; paths are tried from the file's directory, then the
    repository root (a trigger builds the whole repository)."""
    links = []
    base = posixpath.dirname(rel)
    for doc in _load_all(text):
        if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
            continue
        substitutions = {k: str(v) for k, v in (doc.get("substitutions") or {}).items()
                         if isinstance(k, str) and k.startswith("_") and isinstance(v, (str, int))} \
            if isinstance(doc.get("substitutions"), dict) else {}
        expand = _expander(substitutions)
        for step in doc["steps"]:
            if not isinstance(step, dict) or not isinstance(step.get("name"), str):
                continue
            args = step.get("args")
            words = [str(a) for a in args if isinstance(a, (str, int))] if isinstance(args, list) else []
            step_dir = str(step.get("dir") or "")
            bases = [posixpath.join(base, step_dir) if step_dir else base, step_dir or "."]
            line = step.line_of("args") if hasattr(step, "line_of") and "args" in step else 0
            origin = f"{rel}:{line}"
            name = step["name"]
            if _KANIKO_IMAGE.search(name):
                # Cloud Build mounts the source at /workspace, Kaniko's default context
                links += _kaniko_links(rel, words, expand, ("/workspace",), "cloudbuild", origin, files, "/workspace")
            elif re.search(r"(?:\A|/)docker(?::[\w.-]+)?\Z", name) and words[:1] == ["build"]:
                links += _cloudbuild_docker(words[1:], expand, bases, origin, files)
            elif str(step.get("entrypoint") or "") in ("bash", "sh") and words:
                for word in words:
                    for _, _, logical in _logical_lines(word):
                        for link in _script_builds(rel, logical, expand, bases[0], "cloudbuild", max(line - 1, 0),
                                                   spans=False):
                            links.append(link)
    return [l for l in links if parsed_host_literal(l.image)]


def _cloudbuild_docker(words: list[str], expand, bases: list[str], origin: str, files: set[str]) -> list[Link]:
    tags, dockerfile, target, positional = parse_build_args([expand(w) for w in words])
    if not tags or not positional:
        return []
    found = _dockerfile_and_context(bases, positional[-1], dockerfile, files, dockerfile_from_context=False)
    if found is None:
        return []
    dockerfile_rel, context = found
    return [Link(tag, dockerfile_rel, context, "cloudbuild", origin, target) for tag in tags]


# --------------------------------------------------------------------------- buildx bake


def _bake_rank(rel: str) -> tuple[int, str]:
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
        found = _dockerfile_and_context([directory], context_raw, dockerfile_raw, files)
        if found is None:
            continue
        dockerfile, context = found
        stage = merged.string(target.get("target")) if "target" in target else None
        tags = target.get("tags")
        for value in tags.value if isinstance(tags, bakehcl.Value) and isinstance(tags.value, list) else []:
            image = merged.string(value)
            if not image:
                continue
            image = image[:-1] if image.endswith(":") else image
            span = value.span if value.literal else None
            links.append(Link(image, dockerfile, context, "bake", f"{value.origin}", stage, span))
    return links
