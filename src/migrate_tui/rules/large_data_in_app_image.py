"""DF005 large-data-in-app-image

## What it does
Measures the bytes that each `COPY`/`ADD` of a shipped application stage pulls from the build
context (honouring `.dockerignore`), and reports data over `large-data-threshold` (50 MB by
default) or files with model/data extensions (`.onnx`, `.pt`, `.safetensors`, `.gguf`,
`.parquet`, `.csv.gz`, `.bin` ≥ 1 MB…). Data-only images (no `RUN`/`CMD`/`ENTRYPOINT`) are
asset images already and are not judged.

Also finds models and datasets *fetched* in an earlier stage and copied into the app image: a
stage that runs `git clone https://huggingface.co/…` (or any `git clone` in a stage that uses
`git lfs`), `wget`/`curl` of a URL ending in `.onnx`, `.pt`, `.safetensors`, `.gguf`, `.bin`…
(or on Hugging Face), `huggingface-cli download … --local-dir` / `hf download`, or `ADD` of such
a URL, followed by `COPY --from=<that stage or its index>` of what it fetched. `ARG` defaults
are expanded; the RUN is read as the shell reads it (an `echo "git clone …"` fetches nothing).
The finding sits on the COPY and names the fetch stage, the URL or repository and the
destination.

## Why is this bad?
The data is re-pushed and re-pulled with every rebuild of the application, and every
application version stores its own copy. As an asset image mounted as an image volume it is
built and pulled once per data version, and nodes share it between pods.

## Example
```dockerfile
FROM python:3.12-slim
COPY models/ /app/models/
CMD ["python", "serve.py"]
```

## Use instead
```dockerfile
# models/Dockerfile: the asset image
FROM scratch
COPY models/ /models/
```
and mount it in the pod: `volumes: [{name: models, image: {reference: …/models:1}}]` at
`/app/models`.

For a fetch stage:
```dockerfile
FROM alpine/git:2.45.2 AS model
RUN git lfs install && git clone --depth 1 https://huggingface.co/org/model /model
FROM python:3.12-slim
COPY --from=model /model /app/model
CMD ["python", "serve.py"]
```
becomes a new asset Dockerfile (at `asset-dockerfile-path`, `{name}` = `<image>-<stage>`):
```dockerfile
FROM alpine/git:2.45.2 AS model
RUN git lfs install && git clone --depth 1 https://huggingface.co/org/model /model
FROM scratch
COPY --from=model /model/ /
```
the app image loses the COPY (and the fetch stage, when nothing else uses it), and the pods
that run the app image mount the asset image (named by `image-name-template` from
`<image>-<stage>:<tag of the manifest>`) read-only at `/app/model`. The asset image's root is
the fetched directory, so the app sees the same paths. The fetch stage runs `RUN`: build the
asset image with buildah or docker (`migrate-tui build` builds only its `FROM scratch` part).

## Fix safety
Data copied from the build context: **manual**: splitting the image changes how it is built
and deployed; the message gives the measured size and the asset Dockerfile to start from.

Data fetched in a stage:
- **unsafe** when a manifest in the repository runs an image built from this Dockerfile (build
  definitions link it: skaffold, compose, Makefile, CI…): one change-set writes the asset
  Dockerfile, drops the COPY and adds the image volume and its read-only mounts to every
  container that runs the image. The assumption: the app only reads the data there, never
  writes (an image volume is read-only), the asset image is built and pushed before the
  workloads roll out, and workloads outside the repository that run the app image mount it too.
- **manual**, with the asset Dockerfile in the explanation, when no manifest in the repository
  runs the image (dropping the COPY with nothing mounting the data would break the app), when
  the target platform has no image volumes, when the COPY copies a single file or part of a
  fetched directory (an image volume mounts a whole image at a directory), names several
  sources or a pattern, when where the fetch writes can't be read (stdout, the Hugging Face
  cache), when the app image also uses the destination (another COPY lands in it, a RUN names
  it: the volume would hide it or the data would be missing at build time), when the fetch
  stage builds on or copies from other stages, when a container already
  mounts something at or around the destination, or when the asset Dockerfile path exists.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import posixpath
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from migrate_tui.analysis.context import RuleContext
from migrate_tui.model.findings import Finding, Location, Severity
from migrate_tui.analysis.savings import human_bytes, measured
from migrate_tui.repo.sources import SourceFile, is_inside
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage, expand_args
from migrate_tui.rules import DockerfileRule
from migrate_tui.analysis import stages as dfx
from migrate_tui.fixes import fetched_model as fetched

if TYPE_CHECKING:
    from pathspec import PathSpec

CODE = "DF005"
MODEL_SUFFIXES = (".onnx", ".pt", ".pth", ".safetensors", ".gguf", ".ckpt", ".h5", ".tflite", ".pb", ".mlmodel", ".keras")
DATA_SUFFIXES = (".parquet", ".csv.gz", ".bin", ".npy", ".npz", ".arrow", ".feather", ".tfrecord", ".jsonl.gz", ".sqlite", ".db")
_DATA_MIN = 1_000_000
_MAX_FILES = 200_000


def check(subject: tuple[SourceFile, Dockerfile], ctx: RuleContext) -> Iterator[Finding]:
    source, parsed = subject
    _, shipped = dfx.shipped_for(ctx, source.path, parsed)
    # (context dir, its .dockerignore, the global ARGs): looked up for the first COPY from the context
    build_context: tuple[str, PathSpec[Any] | None, dict[str, str | None]] | None = None
    for stage in parsed.stages:
        target = shipped.get(stage.index)
        if target is None:
            continue
        base, chain = parsed.root_base(target.stage)
        if not dfx.runs_something([target.stage, *chain[1:]]):
            continue  # a data-only image is an asset image already (DF001's business)
        for instr in stage.instructions:
            if instr.keyword not in ("COPY", "ADD"):
                continue
            if instr.flag("from") is not None:
                if not may_fetch(parsed, instr):
                    continue  # judge would find no fetch: skip reading the stage's RUN scripts
                finding = fetched.judge(ctx, source, parsed, stage, target, instr, shipped)
            else:
                if build_context is None:
                    context = _context_dir(ctx, source.path)
                    build_context = context, _dockerignore(ctx.root, context, source.path), dict(parsed.global_args)
                finding = _judge(ctx, source, stage, target, instr, *build_context, parsed.escape)
            if finding is not None:
                yield finding


# The command names the fetch model (analysis.fetch_stage) recognises, as substrings of a RUN's
# text, and the characters through which a word can become one of them without naming it
# (quotes, escapes, ARG/ENV and shell expansions, globs, brace expansion).
_FETCH_NEEDLES = ("git", "wget", "curl", "hf", "huggingface")
_WORD_BUILDERS = frozenset("$\\\"'`{}[]*?~!")
# one search for: any fetch needle, or any word builder
_FETCH_OR_BUILDER = re.compile("|".join(map(re.escape, _FETCH_NEEDLES)) + "|[" + re.escape("".join(sorted(_WORD_BUILDERS))) + "]")


def may_fetch(parsed: Dockerfile, copy: Instruction) -> bool:
    """False only when the stage ``COPY --from`` names (and the stages it builds on) can't fetch a
    model: no ``ADD``, and every ``RUN`` a shell-form line whose text names no fetch command and
    holds no character that could build one. A cheap text test before ``fetched.judge`` reads
    every RUN script of the chain; True whenever it can't tell."""
    stage = parsed.copy_sources_from(copy)
    if not isinstance(stage, Stage):
        return True  # an image or nothing: judge answers at once
    _, chain = parsed.root_base(stage)
    for link in chain:
        for instr in link.instructions:
            if instr.keyword == "ADD" or (instr.keyword == "RUN" and _run_may_fetch(instr)):
                return True
    return False


def _run_may_fetch(instr: Instruction) -> bool:
    if instr.json_args is not None or instr.heredocs:
        return True
    text = instr.args.lower()
    return _FETCH_OR_BUILDER.search(text) is not None


def _context_dir(ctx: RuleContext, dockerfile: str) -> str:
    try:
        index = ctx.project.links()
        links = [l for l in index.links_for_dockerfile(dockerfile) if l.source != "directory"]
    except Exception:  # noqa: BLE001
        links = []
    return links[0].context if links else (posixpath.dirname(dockerfile) or ".")


def _dockerignore(root: Path, context: str, dockerfile: str) -> PathSpec[Any] | None:
    for candidate in (os.path.join(root, dockerfile + ".dockerignore"), os.path.join(root, context, ".dockerignore")):
        if _is_file(candidate):
            import pathspec

            lines = []
            for line in Path(candidate).read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    lines.append(line.lstrip("/"))
            return pathspec.PathSpec.from_lines("gitignore", lines)
    return None


# what Path.is_file treats as "not a file" rather than an error
_NOT_THERE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _is_file(path: str) -> bool:
    """``Path(path).is_file()`` without building a Path (two look-ups per Dockerfile scanned)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno not in _NOT_THERE:
            raise
        return False
    except ValueError:  # a NUL in the path
        return False


def _judge(
    ctx: RuleContext,
    source: SourceFile,
    stage: Stage,
    target: dfx.Target,
    instr: Instruction,
    context: str,
    ignore: PathSpec[Any] | None,
    env: dict[str, str | None],
    escape: str,
) -> Finding | None:
    words = list(instr.json_args) if instr.json_args is not None else instr.args.split()
    if len(words) < 2:
        return None
    total = 0
    data_files: list[tuple[str, int]] = []
    root = ctx.root / context
    for raw in words[:-1]:
        pattern = expand_args(raw, env, escape)
        if "$" in pattern or "://" in pattern or pattern.startswith("git@"):
            continue
        for rel, size in _files(root, pattern.lstrip("/"), ignore):
            total += size
            lower = rel.lower()
            if lower.endswith(MODEL_SUFFIXES) or (lower.endswith(DATA_SUFFIXES) and size >= _DATA_MIN):
                data_files.append((rel, size))
    threshold = ctx.config.large_data_threshold
    if total <= threshold and not data_files:
        return None
    dest = words[-1]
    savings = measured("data", total, f"{human_bytes(total)} measured in the build context leaves the app image")
    reasons = []
    if total > threshold:
        reasons.append(f"{human_bytes(total)} (over large-data-threshold {human_bytes(threshold)})")
    if data_files:
        shown = ", ".join(f"{p} ({human_bytes(s)})" for p, s in data_files[:3])
        reasons.append(f"model/data files: {shown}" + (f" and {len(data_files) - 3} more" if len(data_files) > 3 else ""))
    message = (
        f"{dfx.label(stage)}: `{instr.keyword} {' '.join(words)}` copies {'; '.join(reasons)} into an app image: "
        f"ship it as an asset image mounted as an image volume"
    )
    explanation = "\n".join(
        [
            f"{dfx.label(stage)} {dfx.ships(stage, target)}; the copy pulls {human_bytes(total)} "
            f"from the build context {context} (after .dockerignore).",
            "Start from an asset Dockerfile such as:",
            "    FROM scratch",
            f"    COPY {' '.join(words[:-1])} {dest}",
            f"and mount that image as an image volume at {dest} in the pod, then drop this COPY.",
        ]
    )
    anchor = f"{stage.index}:{instr.args[:80]}"
    data = {
        "stage": stage.index,
        "stage_name": stage.name,
        "target_reason": target.reason,
        "bytes": total,
        "files": [p for p, _ in data_files],
        "savings": savings,
    }
    return Finding(
        rule=CODE,
        severity=Severity.WARNING,
        location=Location(source.path, instr.line),
        message=message,
        explanation=explanation,
        data=data,
        fix_blocked="splitting data out of an app image changes its build and deployment; see the explanation",
        anchor=anchor,
    )


def _files(root: Path, pattern: str, ignore: PathSpec[Any] | None) -> Iterator[tuple[str, int]]:
    """(context-relative path, size) of every regular file ``pattern`` selects."""
    if not root.is_dir():
        return
    pattern = posixpath.normpath(pattern) if pattern not in ("", ".") else "."
    if pattern.startswith("../"):
        return
    has_glob = any(c in pattern for c in "*?[")
    start = root
    if not has_glob and pattern != ".":
        start = root / pattern
        if start.is_file() and not start.is_symlink():
            if ignore is None or not ignore.match_file(pattern):
                yield pattern, start.stat().st_size
            return
        if not start.is_dir() or not is_inside(root, start):
            return
    count = 0
    for directory, dirnames, filenames in os.walk(start):
        dirnames.sort()
        rel_dir = Path(directory).relative_to(root).as_posix()
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not _selected(rel, pattern, has_glob):
                continue
            if ignore is not None and ignore.match_file(rel):
                continue
            path = Path(directory) / name
            try:
                if path.is_symlink() and not is_inside(root, path):
                    continue
                st = path.stat()
            except OSError:
                continue
            count += 1
            if count > _MAX_FILES:
                return
            yield rel, st.st_size


def _selected(rel: str, pattern: str, has_glob: bool) -> bool:
    if pattern == ".":
        return True
    if has_glob:
        parts = rel.split("/")
        depth = pattern.count("/") + 1
        head = "/".join(parts[:depth])
        return fnmatch.fnmatchcase(head, pattern)
    return rel == pattern or rel.startswith(pattern.rstrip("/") + "/")


RULE = DockerfileRule(
    code=CODE,
    name="large-data-in-app-image",
    summary="Large data (models, datasets, site bundles) copied into an app image: split it into an asset image",
    check=check,
)
