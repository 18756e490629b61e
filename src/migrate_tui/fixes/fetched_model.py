"""DF005 for a model or dataset fetched in an earlier stage and copied into the app image.

``FROM alpine/git AS model`` + ``RUN git clone https://huggingface.co/org/m /model``, then
``COPY --from=model /model /app/model`` in the shipped stage: the finding sits on the COPY and
names the fetch stage, the URL/repository and the destination. The split it proposes:

- a NEW asset Dockerfile (``asset-dockerfile-path``) holding the fetch stage as written (the
  global ``ARG``s before it) and ``FROM scratch`` + ``COPY --from=<stage> <dir>/ /``: the image
  root *is* the fetched directory, so it can be mounted where the COPY put it;
- the serving Dockerfile drops the COPY, and the fetch stage when nothing else uses it (and no
  numeric ``--from`` would shift);
- every manifest in the repo whose containers run an image built by this Dockerfile (link index)
  gains an image volume (reference from ``image-name-template``) mounted read-only at the COPY
  destination in those containers.

All three in one change-set, **unsafe** (the app only reads the model there). With no linked
manifest that runs the image the fix is **manual**: dropping the COPY with nothing mounting the
model would break the app. Pure planning: returns edits, never writes.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from migrate_tui.model.findings import Applicability, Diagnostic, Edit, Finding, Fix, Location, Severity
from migrate_tui.repo.safepath import has_control_chars
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage, expand_args
from migrate_tui.analysis import stages as dfx
from migrate_tui.fixes.asset_image import _asset_path, _copy_line, _refused, _shown, _split_ref, asset_reference
from migrate_tui.analysis.fetch_stage import LandsAs, covers, stage_env, stage_fetches

if TYPE_CHECKING:
    from migrate_tui.analysis.context import PodSpecSubject, RuleContext
    from migrate_tui.analysis.fetch_stage import Fetch

CODE = "DF005"
_GLOB = re.compile(r"[*?\[]")
# (pod spec subject, [(container group, index)], image as written) of a workload that runs the app image
_Runner = tuple["PodSpecSubject", list[tuple[str, int]], str]
# (pod spec subject, [(container group, index)], name of the image volume it gets)
_Mounting = tuple["PodSpecSubject", list[tuple[str, int]], str]


class SplitBlocker(StrEnum):
    """Why the split is not written (messages quote the sentence; code decides on the kind)."""

    NO_MANIFEST = "no-linked-manifest"
    UNKNOWN_DEST = "unknown-destination"
    NOT_A_DIRECTORY = "not-a-directory"
    COPY_FORM = "copy-form"
    DESTINATION_USED = "destination-used"
    FETCH_STAGE = "fetch-stage-needs-more"
    TARGET = "target"
    ASSET_PATH = "asset-path"
    MANIFEST = "manifest"


def judge(
    ctx: RuleContext,
    source: SourceFile,
    parsed: Dockerfile,
    stage: Stage,
    target: dfx.Target,
    instr: Instruction,
    shipped: dict[int, dfx.Target],
) -> Finding | None:
    fetch_stage = parsed.copy_sources_from(instr)
    if not isinstance(fetch_stage, Stage) or fetch_stage.index in shipped:
        return None
    _, chain = parsed.root_base(fetch_stage)
    fetches = [f for s in chain for f in stage_fetches(parsed, s)]
    if not fetches:
        return None
    words = list(instr.json_args) if instr.json_args is not None else instr.args.split()
    if len(words) < 2:
        return None
    env = stage_env(parsed, stage)
    sources = [posixpath.normpath(posixpath.join("/", expand_args(w, env, parsed.escape))) for w in words[:-1]]
    matched = [f for f in fetches if f.dest is None or any(covers(s, f.dest) or covers(f.dest, s) for s in sources)]
    if not matched:
        return None
    dest = next((d for i, d in dfx.copy_destinations(parsed, stage) if i is instr), words[-1])
    mount_path = posixpath.normpath(dest)
    shown_fetches = "; ".join(f"line {f.line} `{f.describe()}`" + (f" into {f.dest}" if f.dest else "") for f in matched[:3])
    more = f" and {len(matched) - 3} more" if len(matched) > 3 else ""
    copy_text = source.text[instr.start : instr.end]
    message = (
        f"{dfx.label(stage)}: `{_clip(copy_text)}` ships data that {dfx.label(fetch_stage)} fetches "
        f"({_clip(matched[0].describe())}) into an app image at {mount_path}: build it as its own asset image "
        "and mount it as an image volume"
    )
    anchor = f"{stage.index}:fetched:{instr.args[:80]}"
    data: dict[str, Any] = {
        "stage": stage.index,
        "stage_name": stage.name,
        "target_reason": target.reason,
        "fetch_stage": fetch_stage.index,
        "fetch_stage_name": fetch_stage.name,
        "fetches": [{"tool": f.tool.value, "source": f.source, "dest": f.dest} for f in matched],
        "destination": mount_path,
    }
    explanation = [
        f"{dfx.label(stage)} {dfx.ships(stage, target)}; line {instr.line} copies "
        f"from {dfx.label(fetch_stage)}, which fetches {shown_fetches}{more}. Every rebuild of the app "
        "re-pushes the data, and every app version stores its own copy."
    ]
    plan = _plan(ctx, source, parsed, stage, target, instr, fetch_stage, chain, sources, matched, mount_path, words)
    location = Location(source.path, instr.line)
    if isinstance(plan[0], SplitBlocker):
        kind, reason, asset_text = plan
        data["fix_blocked_kind"] = kind.value
        if asset_text:
            explanation += [
                "Start from an asset Dockerfile such as:",
                *("    " + l if l else "" for l in asset_text.splitlines()),
                f"mount that image as an image volume at {mount_path} (readOnly) in the pods that run this image, then drop this COPY.",
            ]
        return Finding(
            rule=CODE,
            severity=Severity.WARNING,
            location=location,
            message=_plain(message),
            explanation=_plain("\n".join(explanation)),
            data=data,
            fix_blocked=_plain(reason),
            anchor=anchor,
        )
    fix, notes, related = plan
    data["change_set"] = "asset-image-split"
    explanation += notes
    return Finding(
        rule=CODE,
        severity=Severity.WARNING,
        location=location,
        message=_plain(message),
        explanation=_plain("\n".join(explanation)),
        fix=fix,
        notes=tuple(_plain(n) for n in notes),
        related=related,
        data=data,
        anchor=anchor,
    )


def _plain(text: str) -> str:
    """A text quoting a scanned file, every control character escaped (newlines kept): it goes to
    terminals, Textual markup stays the renderer's business."""
    return "".join(c if c == "\n" or c.isprintable() else repr(c)[1:-1] for c in text)


def _clip(text: str, width: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------- planning


def _plan(
    ctx: RuleContext,
    source: SourceFile,
    parsed: Dockerfile,
    stage: Stage,
    target: dfx.Target,
    instr: Instruction,
    fetch_stage: Stage,
    chain: list[Stage],
    sources: list[str],
    matched: list[Fetch],
    mount_path: str,
    words: list[str],
) -> tuple[Fix, list[str], tuple[Location, ...]] | tuple[SplitBlocker, str, str]:
    """(fix, notes, related) or (SplitBlocker, reason, asset Dockerfile text or "")."""
    name = fetch_stage.name or "fetch"
    if len(sources) != 1 or _GLOB.search(words[0]):
        return SplitBlocker.COPY_FORM, "the COPY names several sources or a pattern; split it by hand", ""
    src = sources[0]
    if any(f.dest is None for f in matched):
        unknown = next(f for f in matched if f.dest is None)
        return (
            SplitBlocker.UNKNOWN_DEST,
            f"line {unknown.line}: where `{_clip(unknown.describe())}` puts its files "
            "can't be read (stdout, the Hugging Face cache, a path that is not literal)",
            "",
        )
    is_dir = all(f.dest is not None and covers(src, f.dest) and (f.dest != src or f.lands_as is LandsAs.DIRECTORY) for f in matched)
    if not is_dir:
        return (
            SplitBlocker.NOT_A_DIRECTORY,
            f"{src} is a single file or part of a fetched directory; an image volume "
            "mounts a whole image at a directory, so the asset image's layout must be chosen by hand",
            "",
        )
    if has_control_chars(mount_path) or has_control_chars(src):
        return SplitBlocker.COPY_FORM, "the COPY's paths hold control characters; not written", ""
    if mount_path == "/" or not mount_path.startswith("/"):
        return SplitBlocker.COPY_FORM, f"the COPY writes into {mount_path}; an image volume can't be mounted there", ""
    hidden = _also_written(parsed, target, instr, mount_path)
    if hidden:
        return SplitBlocker.DESTINATION_USED, hidden, ""
    flags: dict[str, str] = {}
    for flag in instr.flags:
        if flag.name in ("chmod", "chown") and flag.value and re.fullmatch(r"[0-7]{3,4}|\d+(:\d+)?", flag.value):
            flags[flag.name] = flag.value
        elif flag.name not in ("from", "link"):
            return SplitBlocker.COPY_FORM, f"the COPY's --{flag.name} flag can't be carried into an asset image", ""
    if len(chain) > 1 or any(
        dfx.copy_source(parsed, i) is not None or any(f.name == "mount" and "from=" in (f.value or "") for f in i.flags)
        for i in fetch_stage.instructions
    ):
        return (
            SplitBlocker.FETCH_STAGE,
            f"{dfx.label(fetch_stage)} builds on or copies from other stages; the asset Dockerfile would need them too",
            "",
        )
    serving = _serving_images(ctx, source, parsed, target)
    repo_image = serving[0] if serving else None
    base_name = (
        _split_ref(repo_image)[0].rsplit("/", 1)[-1]
        if repo_image
        else posixpath.splitext(posixpath.basename(source.path))[0].lower().replace("dockerfile", "") or "app"
    )
    asset_name = f"{base_name.strip('.-_') or 'app'}-{name}"
    rel = _asset_path(
        ctx.config.asset_dockerfile_path, name=asset_name, image=f"{_split_ref(repo_image)[0]}-{name}" if repo_image else asset_name
    )
    if rel is None:
        return SplitBlocker.ASSET_PATH, f"asset-dockerfile-path {ctx.config.asset_dockerfile_path!r} is not a valid template", ""
    if isinstance(rel, tuple):
        return SplitBlocker.ASSET_PATH, _refused("asset-dockerfile-path gives", *rel), ""
    runners = _runners(ctx, serving)
    new_ref = None
    written = runners[0][2] if runners else repo_image
    if written:
        repo, tag, _ = _split_ref(written)
        new_ref = asset_reference(ctx.config.image_name_template, f"{repo}-{name}" + (f":{tag}" if tag else ""))
    content = _asset_dockerfile(source, parsed, fetch_stage, name, src, flags, rel, new_ref)
    if isinstance(content, tuple):
        return SplitBlocker.ASSET_PATH, content[1], ""
    if not runners:
        why = (
            "no manifest in the repository runs an image built from this Dockerfile"
            if serving
            else "no build definition in the repository names the image this Dockerfile builds"
        )
        return (
            SplitBlocker.NO_MANIFEST,
            f"{why}; dropping the COPY with nothing mounting the data would break the "
            "app, so write the asset image and the image volume by hand",
            content,
        )
    if new_ref is None:
        return (
            SplitBlocker.ASSET_PATH,
            f"image-name template {ctx.config.image_name_template!r} gives no valid reference for {_shown(str(written))}",
            content,
        )
    blocker = ctx.target.image_volume_blocker()
    if blocker:
        return SplitBlocker.TARGET, f"target {ctx.target.describe()}: {blocker}", content
    if ctx.project.exists(rel):
        return (SplitBlocker.ASSET_PATH, f"{rel} already exists; set asset-dockerfile-path to another place", content)
    manifest = _manifest_edits(ctx, runners, name, new_ref, mount_path)
    if isinstance(manifest, str):
        return SplitBlocker.MANIFEST, manifest, content
    edits, digests, scopes, related, where = manifest
    df_edits = _dockerfile_edits(source, parsed, instr, fetch_stage)
    notes = [
        f"new {rel} builds {new_ref} FROM scratch: its root is {src} of {dfx.label(fetch_stage)} "
        "(the fetch stage runs RUN: build it with buildah or docker, then push it)",
        f"{source.path} drops line {instr.line}" + (f" and {dfx.label(fetch_stage)} (nothing else uses it)" if len(df_edits) > 1 else ""),
        *(f"{w}: mounts image volume '{v}' ({new_ref}) read-only at {mount_path}" for w, v in where),
    ]
    assumption = (
        f"the app only reads the data at {mount_path}, never writes there (an image volume is read-only), "
        f"{new_ref} is built from {rel} and pushed before the workloads roll out, and any workload outside this "
        "repository that runs the app image mounts it too"
    )
    fix = Fix(
        applicability=Applicability.UNSAFE,
        description=f"Split {dfx.label(fetch_stage)} into asset image {new_ref} ({rel}) mounted at {mount_path}",
        edits=(*df_edits, Edit(rel, 0, 0, content), *edits),
        assumption=assumption,
        base_digests=((source.path, source.digest), (rel, None), *digests),
        scopes=((source.path, 0, len(source.text)), (rel, 0, 0), *scopes),
    )
    return fix, notes, tuple(related)


def _also_written(parsed: Dockerfile, target: dfx.Target, instr: Instruction, mount_path: str) -> str | None:
    """Why the shipped image needs ``mount_path`` for more than the fetched data (another COPY
    lands there, a RUN names it): an image volume mounted there would hide or drop that."""
    _, chain = parsed.root_base(target.stage)
    for stage in chain:
        for other, dest in dfx.copy_destinations(parsed, stage):
            if other is not instr and covers(mount_path, posixpath.normpath(dest)):
                return f"line {other.line} also writes into {posixpath.normpath(dest)}; an image volume at {mount_path} would hide it"
        for other in stage.instructions:
            if other.keyword == "RUN" and re.search(rf"{re.escape(mount_path)}(?![\w.-])", dfx.command_text(other)):
                return f"line {other.line} uses {mount_path} at build time; with an image volume the data is only there when the pod runs"
    return None


def _serving_images(ctx: RuleContext, source: SourceFile, parsed: Dockerfile, target: dfx.Target) -> list[str]:
    try:
        index = ctx.project.links()
    except Exception:  # noqa: BLE001 - a broken build file must not hide the finding
        return []
    finder = index.links_for_dockerfile
    last = parsed.stages[-1]
    return list(
        dict.fromkeys(
            l.image
            for l in finder(source.path)
            if l.source != "directory" and (parsed.stage(l.target) if l.target else last) is target.stage
        )
    )


def _runners(ctx: RuleContext, images: list[str]) -> list[_Runner]:
    """(pod spec subject, [(container group, index)], image as written) for every pod template in
    the repo whose containers run one of ``images``."""
    from migrate_tui.parse.imageref import parse_image_ref
    from migrate_tui.analysis.workloads import pod_specs, same_repository

    if not images:
        return []
    index = ctx.project.links()
    runners_of = index.runners_of
    files: dict[str, None] = {}
    for image in images:
        files.update(dict.fromkeys(runners_of(image)))
    wanted = [parse_image_ref(i) for i in images]
    out: list[_Runner] = []
    for rel in sorted(files):
        found = ctx.project.read(rel)
        if isinstance(found, Diagnostic):
            continue
        for subject in pod_specs(found):
            spec = subject.ref.spec
            hits: list[tuple[str, int]] = []
            written: str | None = None
            for group in ("initContainers", "containers"):
                items = spec.get(group) if isinstance(spec, dict) else None
                for i, container in enumerate(items if isinstance(items, list) else []):
                    if isinstance(container, dict) and any(same_repository(container.get("image"), w) for w in wanted):
                        hits.append((group, i))
                        written = written or str(container.get("image"))
            if hits and written is not None:  # (written is set with the first hit)
                out.append((subject, hits, written))
    return out


def _asset_dockerfile(
    source: SourceFile, parsed: Dockerfile, fetch_stage: Stage, name: str, src: str, flags: dict[str, str], rel: str, new_ref: str | None
) -> str | tuple[str, str]:
    text = source.text
    args = [text[i.start : i.end] for i in parsed.instructions if i.keyword == "ARG" and i.start < parsed.stages[0].from_instruction.start]
    last = fetch_stage.instructions[-1] if fetch_stage.instructions else fetch_stage.from_instruction
    start = fetch_stage.from_instruction.start
    body = text[start : last.end]
    if fetch_stage.name is None:
        at = fetch_stage.base_span[1] - start
        body = body[:at] + f" AS {name}" + body[at:]
    flag_text = "".join(f" --{k}={flags[k]}" for k in ("chown", "chmod") if k in flags)
    line = _copy_line(name, flag_text, src.rstrip("/") + "/", "/")
    if isinstance(line, tuple):
        return "", _refused("the copy source", *line)
    tag = new_ref or "<asset image reference>"
    # Parser directives first (an ``escape`` directive changes how the stage's lines continue).
    directives = [
        f"# {key}={value}" for key, value in parsed.directives.items() if key in ("syntax", "escape") and not has_control_chars(value)
    ]
    lines = [
        *directives,
        f"# Asset image: what {dfx.label(fetch_stage)} of {source.path} fetches into {src}, without a shell.",
        f"# Build and push it as {tag} (e.g. `buildah bud -f {rel} -t {tag} .`);",
        "# mount it as an image volume where the app image used to COPY it.",
        *args,
        *([""] if args else []),
        body,
        "",
        "FROM scratch",
        line,
    ]
    return "\n".join(lines) + "\n"


def _dockerfile_edits(source: SourceFile, parsed: Dockerfile, instr: Instruction, fetch_stage: Stage) -> list[Edit]:
    """Drop the COPY; drop the fetch stage too when nothing else uses it and no numeric stage
    reference after it would shift."""
    text = source.text
    a, b = dfx.whole_lines(text, instr.start, instr.end)
    edits = [Edit(source.path, a, b, "")]
    others: list[Stage | Instruction] = []  # what still uses the fetch stage
    numeric_after = False
    for stage in parsed.stages:
        if stage.parent is fetch_stage:
            others.append(stage)
        for i in stage.instructions:
            if any(int(n) > fetch_stage.index for n in _numeric_stage_refs(i)):
                numeric_after = True
            if i is instr:
                continue
            if dfx.copy_source(parsed, i) is fetch_stage:
                others.append(i)
            for f in i.flags:
                if f.name == "mount" and f.value:
                    found = re.search(r"(?:^|,)from=([^,]+)", f.value)
                    if found and parsed.stage(found.group(1)) is fetch_stage:
                        others.append(i)
    if others or numeric_after:
        return edits
    last = fetch_stage.instructions[-1] if fetch_stage.instructions else fetch_stage.from_instruction
    s, e = dfx.whole_lines(text, fetch_stage.from_instruction.start, last.end)
    while text.startswith("\n", e):
        e += 1
    edits.insert(0, Edit(source.path, s, e, ""))
    return edits


def _numeric_stage_refs(instr: Instruction) -> list[str]:
    """Stage indices an instruction names: ``COPY --from=1``, ``RUN --mount=…,from=1``."""
    out: list[str] = []
    for flag in instr.flags:
        value = flag.value or ""
        if flag.name == "from" and value.isdigit():
            out.append(value)
        elif flag.name == "mount":
            found = re.search(r"(?:^|,)from=(\d+)(?:,|$)", value)
            if found:
                out.append(found.group(1))
    return out


def _volume_name(spec: Any, base: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")[:50] or "model"
    taken = {v.get("name") for v in (spec.get("volumes") or []) if isinstance(v, dict)}
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _manifest_edits(
    ctx: RuleContext, runners: list[_Runner], name: str, new_ref: str, mount_path: str
) -> tuple[list[Edit], list[tuple[str, str | None]], list[tuple[str, int, int]], list[Location], list[tuple[str, str]]] | str:
    """Edits adding the image volume and its read-only mounts, or why they can't be written."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from migrate_tui.parse.yamldoc import YamlError
    from migrate_tui.fixes.yaml_edit import RewriteRefused, rewrite_and_check, shrink

    by_chunk: dict[tuple[str, int], list[_Mounting]] = defaultdict(list)
    sources: dict[str, SourceFile] = {}
    where: list[tuple[str, str]] = []
    related: list[Location] = []
    for subject, hits, _ in runners:
        spec = subject.ref.spec
        if not isinstance(spec.get("volumes", []) or [], list) or any(
            not isinstance(spec[g][i].get("volumeMounts", []) or [], list) for g, i in hits
        ):
            return f"{subject.location(spec)}: volumes or volumeMounts is not a list; not rewritten"
        for group, i in hits:
            container = spec[group][i]
            for mount in container.get("volumeMounts") or []:
                path = posixpath.normpath(str(mount.get("mountPath", ""))) if isinstance(mount, dict) else ""
                if path and (covers(path, mount_path) or covers(mount_path, path)):
                    return (
                        f"{subject.location(container)}: container '{container.get('name')}' already mounts "
                        f"{path}, which overlaps {mount_path}"
                    )
            related.append(subject.location(container))
        volume = _volume_name(spec, name)
        by_chunk[(subject.path, subject.chunk.start)].append((subject, hits, volume))
        sources[subject.path] = subject.source
        where.append((f"{subject.path} ({subject.ref.owner})", volume))
    edits: list[Edit] = []
    digests: list[tuple[str, str | None]] = []
    scopes: list[tuple[str, int, int]] = []
    for (path, _), items in sorted(by_chunk.items()):
        source = sources[path]
        chunk = items[0][0].chunk

        def mutate(document: Any, items: list[_Mounting] = items) -> None:
            for subject, hits, volume in items:
                spec = document
                for step in subject.ref.path:
                    spec = spec[step]
                entry = CommentedMap()
                entry["name"] = volume
                image = CommentedMap()
                image["reference"] = new_ref
                image["pullPolicy"] = "IfNotPresent"
                entry["image"] = image
                if "volumes" not in spec or spec["volumes"] is None:
                    spec["volumes"] = CommentedSeq()
                spec["volumes"].append(entry)
                for group, i in hits:
                    container = spec[group][i]
                    mount = CommentedMap()
                    mount["name"] = volume
                    mount["mountPath"] = mount_path
                    mount["readOnly"] = True
                    if "volumeMounts" not in container or container["volumeMounts"] is None:
                        container["volumeMounts"] = CommentedSeq()
                    container["volumeMounts"].append(mount)

        try:
            new_chunk, problems = rewrite_and_check(source.text, chunk, mutate, ctx.target.schema_version)
        except (RewriteRefused, YamlError) as err:
            return f"{path}: {getattr(err, 'message', None) or err}"
        if problems:
            version = ctx.target.schema_version
            return f"{path}: the rewrite would not validate for Kubernetes {version[0]}.{version[1]}: {problems[0]}"
        old = source.text[chunk.start : chunk.end]
        start, end, content = shrink(old, new_chunk)
        edits.append(Edit(path, chunk.start + start, chunk.start + end, content))
        if (path, source.digest) not in digests:
            digests.append((path, source.digest))
        scopes.append((path, chunk.start, chunk.end))
    return edits, digests, scopes, related, where
