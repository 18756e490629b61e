"""Links from CI systems (see ``analysis.links.builds``): Kaniko executors in any YAML, Tekton
Pipelines and TaskRuns, GitLab CI job scripts and Google Cloud Build steps."""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Any, Callable, Iterable

from migrate_tui.analysis.links.tools import REMOTE, dockerfile_and_context, host_written_out
from migrate_tui.analysis.links.index import Link, _load_all, _logical_lines, _script_builds, parse_build_args

_MAX_YAML_NODES = 20_000  # nodes visited per document looking for Kaniko steps
_MAX_DEPTH = 40
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_TEKTON_PARAM = re.compile(r"\$\((?:inputs\.)?params(?:\.([\w-]+)|\[['\"]([\w-]+)['\"]\])\)")
_TEKTON_WORKSPACE = re.compile(r"\A\$\(workspaces\.[\w-]+\.path\)(?=/|\Z)")
KANIKO_IMAGE = re.compile(r"kaniko-project/executor|/kaniko\b|\bkaniko\b")


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
        path = path[len("dir://") :]
    path = _TEKTON_WORKSPACE.sub(".", path)
    for root in roots:
        if path == root or path.startswith(root.rstrip("/") + "/"):
            path = "." + path[len(root.rstrip("/")) :]
            break
    if posixpath.isabs(path) or "$" in path or any(r in path for r in REMOTE):
        return None
    return path or "."


def _kaniko_links(
    rel: str,
    words: list[str],
    expand: Callable[[str], str],
    roots: tuple[str, ...],
    source: str,
    origin: str,
    files: set[str],
    default_context: str | None = None,
    runs_in_root: bool = True,
) -> list[Link]:
    """Kaniko finds a relative ``--dockerfile`` (default ``Dockerfile``) from where it runs
    first, then in the context: ``runs_in_root`` says whether it runs in the repository."""
    destinations, dockerfile_raw, context_raw, target = kaniko_flags([expand(w) for w in words])
    context_raw = context_raw if context_raw is not None else default_context
    if not destinations or context_raw is None:
        return []
    context_rel = _kaniko_root_relative(context_raw, roots)
    if context_rel is None:
        return []
    dockerfile_raw = dockerfile_raw or "Dockerfile"
    if dockerfile_raw.startswith(("/", "$", "dir://")):
        dockerfile_rel = _kaniko_root_relative(dockerfile_raw, roots)
        if dockerfile_rel is None:
            return []
        found = dockerfile_and_context(["."], context_rel, dockerfile_rel, files, False)
    else:
        found = None
        for from_context in (False, True) if runs_in_root else (True,):
            found = found or dockerfile_and_context(["."], context_rel, dockerfile_raw, files, from_context)
    if found is None:
        return []
    dockerfile, context = found
    return [Link(d, dockerfile, context, source, origin, target) for d in destinations if not d.startswith("$") and host_written_out(d)]


def _tekton_params(doc: dict[Any, Any]) -> dict[str, str]:
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    values: dict[str, str] = {}
    task_spec = spec.get("taskSpec")
    if not isinstance(task_spec, dict):
        task_spec = {}
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


def _kaniko_steps(
    rel: str, doc: dict[Any, Any], params: dict[str, str], origin: str | None, files: set[str], source: str = "kaniko"
) -> list[Link]:
    def expand(word: str) -> str:
        return _TEKTON_PARAM.sub(lambda m: params.get(m.group(1) or m.group(2), m.group(0)), word)

    spec = doc.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    declared = [w.get("name") for w in spec.get("workspaces") or [] if isinstance(w, dict) and isinstance(w.get("name"), str)]
    roots = tuple(f"/workspace/{name}" for name in declared) + ("/workspace/source",)
    links = []
    for step in _containers(doc):
        image = step.get("image")
        if not isinstance(image, str) or not KANIKO_IMAGE.search(image):
            continue
        words: list[str] = []
        for key in ("command", "args"):
            value = step.get(key)
            if isinstance(value, list):
                words += [str(w) for w in value if isinstance(w, (str, int))]
        if isinstance(step.get("script"), str):
            for _, _, script_line in _logical_lines(step["script"]):
                try:
                    words += shlex.split(script_line, comments=True)
                except ValueError:
                    continue
        line = step.line_of("image") if hasattr(step, "line_of") else 0
        working_dir = step.get("workingDir")
        in_root = isinstance(working_dir, str) and _kaniko_root_relative(expand(working_dir), roots) == "."
        links += _kaniko_links(rel, words, expand, roots, source, origin or f"{rel}:{line}", files, None, in_root)
    return links


# Tekton catalog tasks that build ``$(params.IMAGE)`` from ``$(params.DOCKERFILE)`` (relative to
# the source workspace) and ``$(params.CONTEXT)``.
_CATALOG_BUILD_TASKS = ("kaniko", "buildah")


def _task_ref_name(holder: dict[Any, Any]) -> str | None:
    ref = holder.get("taskRef")
    if not isinstance(ref, dict):
        return None
    name = ref.get("name")
    if isinstance(name, str):
        return name
    for param in ref.get("params") or [] if isinstance(ref.get("params"), list) else []:
        if isinstance(param, dict) and param.get("name") == "name" and isinstance(value := param.get("value"), str):
            return value  # a resolver (hub, bundles, git) naming the task
    return None


def _param_values(params: Any, key: str = "value") -> dict[str, str]:
    out = {}
    for param in params if isinstance(params, list) else []:
        if isinstance(param, dict) and isinstance(param.get("name"), str) and isinstance(param.get(key), (str, int)):
            out[param["name"]] = str(param[key])
    return out


def tekton_task_uses(rel: str, text: str) -> tuple[dict[str, dict[Any, Any]], list[tuple[str, str, dict[str, str]]]]:
    """(Tasks defined here by name, and (origin, task name, params) of each TaskRun and
    Pipeline task that runs a task by reference)."""
    tasks: dict[str, dict[Any, Any]] = {}
    uses: list[tuple[str, str, dict[str, str]]] = []
    for doc in _load_all(text):
        if not isinstance(doc, dict) or not str(doc.get("apiVersion", "")).startswith("tekton.dev/"):
            continue
        kind = doc.get("kind")
        spec = doc.get("spec")
        if not isinstance(spec, dict):
            spec = {}
        metadata = doc.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
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
                    params = {
                        k: _TEKTON_PARAM.sub(lambda m: defaults.get(m.group(1) or m.group(2), m.group(0)), v)
                        for k, v in _param_values(task.get("params")).items()
                    }
                    line = task.line_of("taskRef") if hasattr(task, "line_of") else 0
                    uses.append((f"{rel}:{line}", name, params))
    return tasks, uses


def tekton_links(tasks: dict[str, tuple[str, dict[Any, Any]]], uses: list[tuple[str, str, dict[str, str]]], files: set[str]) -> list[Link]:
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
            found = dockerfile_and_context(["."], context_raw, dockerfile_raw, files, dockerfile_from_context=False)
            if found is None and name == "kaniko":
                found = dockerfile_and_context(["."], context_raw, dockerfile_raw, files)
            if found is not None and host_written_out(image):
                links.append(Link(image, found[0], found[1], "tekton", origin))
    return links


def _containers(doc: Any) -> Iterable[dict[Any, Any]]:
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
    """``docker build`` and ``/kaniko/executor`` in the ``script:`` of GitLab CI jobs
    (``extends:`` followed for scripts and variables; hidden ``.template`` jobs don't run)."""
    links = []
    for doc in _load_all(text):
        if not isinstance(doc, dict):
            continue
        global_vars = {"CI_PROJECT_DIR": ".", **_gitlab_variables(doc.get("variables"))}
        jobs = {str(k): v for k, v in doc.items() if isinstance(v, dict)}
        for name in jobs:
            if name.startswith("."):
                continue
            job = _gitlab_job(jobs, name, ())
            if "script" not in job:
                continue
            expand = _expander({**global_vars, **job["variables"], "CI_PROJECT_DIR": "."})
            for key in ("before_script", "script"):
                for line, item in _script_items(job.get(key)):
                    for _, _, logical in _logical_lines(item):
                        links += _gitlab_command(rel, logical, expand, max(line - 1, 0), files)
    return links


def _gitlab_job(jobs: dict[str, dict[Any, Any]], name: str, seen: tuple[str, ...]) -> dict[Any, Any]:
    """The job with what it ``extends`` merged in (own keys win, variables merge)."""
    job = jobs.get(name)
    if job is None or name in seen or len(seen) > 10:
        return {"variables": {}}
    parents = job.get("extends")
    parents = [parents] if isinstance(parents, str) else parents if isinstance(parents, list) else []
    merged: dict[Any, Any] = {"variables": {}}
    for parent in parents:
        if isinstance(parent, str):
            inherited = _gitlab_job(jobs, parent, seen + (name,))
            merged = {**merged, **inherited, "variables": {**merged["variables"], **inherited["variables"]}}
    return {**merged, **job, "variables": {**merged["variables"], **_gitlab_variables(job.get("variables"))}}


def _gitlab_command(rel: str, line: str, expand: Callable[[str], str], line_offset: int, files: set[str]) -> list[Link]:
    builds = _script_builds(rel, line, expand, "", "gitlab", line_offset, spans=False)
    if builds:
        return [l for l in builds if host_written_out(l.image)]
    if "executor" not in line:
        return []
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return []
    for i, word in enumerate(words):
        if word.endswith("/kaniko/executor") or word == "executor":
            return _kaniko_links(rel, words[i + 1 :], expand, (), "gitlab", f"{rel}:{line_offset + 1}", files)
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
        substitutions = (
            {
                k: str(v)
                for k, v in (doc.get("substitutions") or {}).items()
                if isinstance(k, str) and k.startswith("_") and isinstance(v, (str, int))
            }
            if isinstance(doc.get("substitutions"), dict)
            else {}
        )
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
            if KANIKO_IMAGE.search(name):
                # Cloud Build mounts the source at /workspace, Kaniko's default context
                links += _kaniko_links(rel, words, expand, ("/workspace",), "cloudbuild", origin, files, "/workspace")
            elif re.search(r"(?:\A|/)docker(?::[\w.-]+)?\Z", name) and words[:1] == ["build"]:
                links += _cloudbuild_docker(words[1:], expand, bases, origin, files)
            elif str(step.get("entrypoint") or "") in ("bash", "sh") and words:
                for word in words:
                    for _, _, logical in _logical_lines(word):
                        for link in _script_builds(rel, logical, expand, bases[0], "cloudbuild", max(line - 1, 0), spans=False):
                            links.append(link)
    return [l for l in links if host_written_out(l.image)]


def _cloudbuild_docker(words: list[str], expand: Callable[[str], str], bases: list[str], origin: str, files: set[str]) -> list[Link]:
    tags, dockerfile, target, positional = parse_build_args([expand(w) for w in words])
    if not tags or not positional:
        return []
    found = dockerfile_and_context(bases, positional[-1], dockerfile, files, dockerfile_from_context=False)
    if found is None:
        return []
    dockerfile_rel, context = found
    return [Link(tag, dockerfile_rel, context, "cloudbuild", origin, target) for tag in tags]
