"""The asset side of an IV001 change-set in scratch mode.

For each init image ``R`` the pod copies from:

- when the repo builds ``R`` from a Dockerfile whose shipped stage only copies files in (every
  path the init container copies comes from a ``COPY``/``ADD``), that Dockerfile is rewritten
  to ``FROM scratch`` in place, keeping every asset path and ``--chown/--chmod``;
- otherwise a new ``FROM R AS source`` / ``FROM scratch`` / ``COPY --from=source …`` Dockerfile
  is added at ``config.asset_dockerfile_path``;
- the manifest references the new name from ``config.image_name_template``. When the link came
  from a build definition whose image name can be edited exactly (skaffold, compose, a
  Makefile/script ``-t``), that name is renamed in the same change-set, so the repo keeps
  building what the manifest references. When it can't (config mapping, directory
  heuristic, CI workflow), the image keeps its name, with a note.

``chmod``/``chown`` that the init container ran after the copy become ``COPY --chmod/--chown``
when they cover exactly the copied tree with an octal mode / numeric owner.

Pure planning: returns edits, never writes.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.model.findings import Diagnostic, Edit
from migrate_tui.parse.shell import parse_container_command
from migrate_tui.repo.safepath import PathRefusal, describe, dockerfile_word, has_control_chars, write_path_problem
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage, parse_dockerfile
from migrate_tui.analysis import stages as dfx
from migrate_tui.analysis.workloads import grouped_containers, pod_specs, same_repository
from migrate_tui.fixes.assets_stage import copier_command, unique_stage_name

if TYPE_CHECKING:
    from migrate_tui.analysis.context import RuleContext
    from migrate_tui.analysis.initcopy import VolumeFlow
    from migrate_tui.analysis.links.index import Link


@dataclass
class AssetImage:
    image: str  # R, as the manifest writes it
    new_ref: str  # what the image volume references
    dockerfile: str  # the asset Dockerfile (rewritten, created or already minimal)
    how: str  # "rewritten" | "created" | "unchanged"
    edits: list[Edit] = field(default_factory=list)
    digests: list[tuple[str, str | None]] = field(default_factory=list)
    scopes: list[tuple[str, int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ScratchPlan:
    assets: dict[str, AssetImage] = field(default_factory=dict)
    folded: set[str] = field(default_factory=set)  # chmod/chown command texts carried into COPY flags
    blockers: list[str] = field(default_factory=list)


def _link_for(ctx: RuleContext, image: str, *, allow_heuristic: bool) -> Link | None:
    link = ctx.project.dockerfile_for(image)
    if link is not None and link.source == "directory" and not allow_heuristic:
        return None
    return link


def wants_scratch(ctx: RuleContext, images: list[str]) -> bool:
    """``--mode scratch``, or ``auto`` when the repo builds every init image of the group."""
    if ctx.mode == "scratch":
        return True
    if ctx.mode != "auto" or not images:
        return False
    for image in images:
        if _link_for(ctx, image, allow_heuristic=False) is None:
            new_ref = asset_reference(ctx.config.image_name_template, image)
            if new_ref is None or _link_for(ctx, new_ref, allow_heuristic=False) is None:
                return False
    return True


def _split_ref(image: str) -> tuple[str, str | None, str | None]:
    """(repository as written, tag, digest)."""
    name, _, digest = image.partition("@")
    last = name.rfind("/")
    colon = name.find(":", last + 1)
    if colon != -1:
        return name[:colon], name[colon + 1 :], digest or None
    return name, None, digest or None


def _format_name(template: str, written: str, missing_tag: str) -> str | None:
    """``template`` filled in from ``written`` (``missing_tag`` when it names no tag)."""
    repo, tag, _ = _split_ref(written)
    try:
        return template.format(image=repo, tag=tag or missing_tag, name=repo.rsplit("/", 1)[-1])
    except (KeyError, IndexError, ValueError):
        return None


def asset_reference(template: str, image: str) -> str | None:
    new = _format_name(template, image, "latest")
    return new if new is not None and _exact_reference(new) else None


def _renamed_build_name(template: str, written: str) -> str | None:
    """The build definition's image name under the template (tag kept only if it had one)."""
    new = _format_name(template, written, "\0")
    if new is None:
        return None
    new = new.replace(":\0", "").replace("\0", "")
    return new if _exact_reference(new) else None


# --------------------------------------------------------------------------- chmod/chown folding


def fold_modes(flow: VolumeFlow) -> tuple[dict[str, str], list[str], list[str]]:
    """COPY flags for the chmod/chown the init container ran after copying, the command texts
    they replace, and reasons for those that can't be folded."""
    flags: dict[str, str] = {}
    folded: list[str] = []
    refused: list[str] = []
    root = flow.dest_root
    landings = {posixpath.normpath(posixpath.join(root, p.vol_dir)) for p in flow.placements}
    files = {posixpath.normpath(posixpath.join(root, p.vol_dir)) for p in flow.placements if p.kind == "file"}
    for text in flow.post_copy_modes:
        parsed = parse_container_command(["sh", "-c", text], None)  # the command as the init container's shell reads it
        if parsed.opaque is not None or len(parsed.ops) != 1:
            refused.append(f"`{text}` can't be parsed")
            continue
        words = list(parsed.ops[0].argv)
        command = posixpath.basename(words[0]) if words else ""
        options = [w for w in words[1:] if w.startswith("-")]
        rest = [w for w in words[1:] if not w.startswith("-")]
        recursive = any(o in ("-R", "--recursive") or (o.startswith("-") and not o.startswith("--") and "R" in o) for o in options)
        if len(rest) < 2 or any(o not in ("-R", "--recursive", "-v", "-f") for o in options):
            refused.append(f"`{text}`: options migrate-tui can't carry into COPY")
            continue
        value, paths = rest[0], [posixpath.normpath(p.rstrip("/") or "/") for p in rest[1:]]
        whole = all((p in landings or p == root) and (recursive or p in files) for p in paths)
        if not whole:
            refused.append(f"`{text}` changes only part of the copied tree; COPY --chmod/--chown apply to all of it")
            continue
        if command == "chmod":
            if not (value.isdigit() and len(value) in (3, 4) and all(c in "01234567" for c in value)):
                refused.append(f"`{text}`: COPY --chmod takes an octal mode, not {value}")
                continue
            flags["chmod"] = value
        elif command in ("chown", "chgrp"):
            owner = value if command == "chown" else f"0:{value}"
            if not all(part.isdigit() for part in owner.replace(":", " ").replace(".", " ").split()):
                refused.append(f"`{text}`: a FROM-scratch image has no /etc/passwd; use numeric ids")
                continue
            flags["chown"] = owner.replace(".", ":")
        folded.append(text)
    return flags, folded, refused


# --------------------------------------------------------------------------- what may be written


def _shown(text: str) -> str:
    """A hostile string in a message: quoted, every control or non-ASCII character escaped."""
    return json.dumps(text)


def _exact_reference(image: str) -> bool:
    """A valid OCI reference exactly as written (no surrounding blanks, nothing templated)."""
    return image == image.strip() and not has_control_chars(image) and parse_image_ref(image) is not None


def _asset_path(template: str, **values: str) -> str | tuple[str, PathRefusal] | None:
    """The root-relative path ``template`` gives, or (path, why it can't be written); None: bad template."""
    try:
        raw = template.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        return None
    problem = write_path_problem(raw)
    rel = posixpath.normpath(raw) if problem is None or problem is PathRefusal.NOT_NORMAL else raw
    problem = write_path_problem(rel)
    return (rel, problem) if problem is not None else rel


def _copy_line(stage: str, flag_text: str, source: str, dest: str) -> str | tuple[str, PathRefusal]:
    """``COPY --from=stage [flags] source dest``, in JSON form when a path needs quoting."""
    words = []
    for path in (source, dest):
        word = dockerfile_word(path)
        if isinstance(word, PathRefusal):
            return path, word
        words.append(word)
    if all(not w.startswith('"') for w in words):
        return f"COPY --from={stage}{flag_text} {words[0]} {words[1]}"
    return f"COPY --from={stage}{flag_text} [{words[0]}, {words[1]}]"


def _refused(what: str, path: str, kind: PathRefusal) -> str:
    return f"{what} {_shown(path)}: {describe(kind)}"


# --------------------------------------------------------------------------- planning


def plan_scratch(ctx: RuleContext, group: list[VolumeFlow], names: dict[str, str]) -> ScratchPlan:
    plan = ScratchPlan()
    allow_heuristic = ctx.mode == "scratch"
    for image in names:
        flows = [f for f in group if f.image == image]
        flags: dict[str, str] = {}
        for flow in flows:
            more, folded, refused = fold_modes(flow)
            flags.update(more)
            plan.folded.update(folded)
            plan.blockers += refused
        sources = _asset_sources(flows)
        asset = _plan_one(ctx, image, sources, flags, allow_heuristic, flows)
        if isinstance(asset, str):
            plan.blockers.append(asset)
        else:
            plan.assets[image] = asset
    return plan


def _asset_sources(flows: list[VolumeFlow]) -> list[tuple[str, str]]:
    """(path in the image, kind) the init containers copy: what the asset image must hold."""
    out: dict[str, str] = {}
    for flow in flows:
        for p in flow.placements:
            path = posixpath.normpath(p.source if p.kind == "file" else p.image_dir)
            out.setdefault(path, "file" if p.kind == "file" else "dir")
    return sorted(out.items())


def _read(ctx: RuleContext, rel: str) -> SourceFile | None:
    found = ctx.project.read(rel)
    return None if isinstance(found, Diagnostic) else found


def _plan_one(
    ctx: RuleContext, image: str, sources: list[tuple[str, str]], flags: dict[str, str], allow_heuristic: bool, flows: list[VolumeFlow]
) -> AssetImage | str:
    template = ctx.config.image_name_template
    new_ref = asset_reference(template, image)
    if new_ref is None:
        return f"image-name template {template!r} gives no valid reference for {_shown(image)}"
    link = _link_for(ctx, image, allow_heuristic=allow_heuristic)
    if link is None:
        # A previous change-set may already have renamed the build to the asset name.
        renamed = _link_for(ctx, new_ref, allow_heuristic=False)
        if renamed is not None:
            source = _read(ctx, renamed.dockerfile)
            if source is not None:
                parsed = parse_dockerfile(source.text)
                stage = parsed.stage(renamed.target) if renamed.target else (parsed.stages[-1] if parsed.stages else None)
                if stage is not None and dfx.is_scratch(parsed.root_base(stage)[0]):
                    return AssetImage(
                        image,
                        new_ref,
                        renamed.dockerfile,
                        "unchanged",
                        notes=[f"{renamed.dockerfile} already builds {new_ref} FROM scratch"],
                    )
        return _new_dockerfile(ctx, image, new_ref, sources, flags, None)
    source = _read(ctx, link.dockerfile)
    if source is None:
        return f"{link.dockerfile} (linked to {image} by {link.source}) can't be read"
    own = list({id(f.init): str(f.init.get("name")) for f in flows}.values())
    others = other_runners(ctx, image, own=own)
    if others:
        return _new_dockerfile(
            ctx,
            image,
            new_ref,
            sources,
            flags,
            f"{link.dockerfile} can't be rewritten in place: {others[0]} also runs {_shown(image)}, and its builds would change under it",
        )
    rewrite = _rewrite_in_place(ctx, link, source, image, new_ref, sources, flags)
    if isinstance(rewrite, AssetImage):
        return rewrite
    return _new_dockerfile(ctx, image, new_ref, sources, flags, f"{link.dockerfile} can't be rewritten in place: {rewrite}")


def other_runners(ctx: RuleContext, image: str, *, own: list[str]) -> list[str]:
    """Containers in the repository that run an image of ``image``'s repository, beyond the init
    containers this change-set removes (``own``, by name, each discounted once), as
    ``"file: container 'x'"``. Rewriting that image's Dockerfile in place (or renaming its build)
    would change what they run, so the change-set writes a new asset Dockerfile instead."""
    wanted = parse_image_ref(image)
    if wanted is None:
        return []
    found: list[str] = []
    left = list(own)
    for rel in ctx.project.links().runners_of(image):
        text = ctx.project.read(rel)
        if not isinstance(text, SourceFile):
            found.append(f"{rel} (unreadable)")
            continue
        for subject in pod_specs(text):
            for group, container in grouped_containers(subject.ref.spec):
                if same_repository(container.get("image"), wanted):
                    name = str(container.get("name"))
                    if group == "initContainers" and name in left:
                        left.remove(name)
                        continue
                    found.append(f"{rel}: container '{name}'")
    return found


def _rewrite_in_place(
    ctx: RuleContext, link: Link, source: SourceFile, image: str, new_ref: str, sources: list[tuple[str, str]], flags: dict[str, str]
) -> AssetImage | str:
    parsed = parse_dockerfile(source.text)
    if parsed.errors:
        return f"it does not parse cleanly (line {parsed.errors[0][0]}: {parsed.errors[0][1]})"
    stage = parsed.stage(link.target) if link.target else (parsed.stages[-1] if parsed.stages else None)
    if stage is None:
        return f"no stage {link.target!r}" if link.target else "it has no FROM"
    base, chain = parsed.root_base(stage)
    if len(chain) > 1:
        return f"{dfx.label(stage)} builds on stage '{chain[-1].name}'"
    if dfx.is_windows(base, parsed):
        return "it has a Windows base"
    if copier_command(parsed, stage) is not None:
        return _rewrite_copier(ctx, link, source, parsed, stage, image, new_ref, sources, flags)
    shape = dfx.shape(parsed, chain)
    if shape.runs or shape.mode_runs or shape.commands or shape.other:
        first = (shape.runs + shape.mode_runs + shape.commands + shape.other)[0]
        return f"line {first.line} `{first.keyword}` needs the base image"
    if shape.whole_fs:
        return f"line {shape.whole_fs[0].line} copies a whole filesystem"
    if shape.named_chown:
        return f"line {shape.named_chown[0].line} uses --chown with a user name (no /etc/passwd in scratch)"
    dests = dfx.copy_destinations(parsed, stage)
    covering: dict[int, Instruction] = {}
    for path, _kind in sources:
        hits = [(instr, d) for instr, d in dests if _covers(d, path)]
        if not hits:
            return f"{path} comes from the base image, not from a COPY/ADD"
        for instr, _ in hits:
            covering[instr.start] = instr
    edits: list[Edit] = []
    notes: list[str] = []
    already = dfx.is_scratch(base)
    if not already:
        start, end = stage.base_span
        edits.append(Edit(source.path, start, end, "scratch"))
    for instr in covering.values():
        edits += _flag_edits(source.path, source.text, instr, flags)
    digests: list[tuple[str, str | None]] = [(source.path, source.digest)] if edits else []
    scopes: list[tuple[str, int, int]] = [(source.path, 0, len(source.text))] if edits else []
    reference = image if already else _rename_build(ctx, link, image, new_ref, edits, digests, scopes, notes)
    how = "unchanged" if not edits else "rewritten"
    if already:
        notes.append(f"{link.dockerfile} already builds {image} FROM scratch")
    else:
        notes.append(f"{link.dockerfile} ({dfx.label(stage)}) becomes FROM scratch and keeps every asset path")
    return AssetImage(image, reference, link.dockerfile, how, edits, digests, scopes, notes)


def _rename_build(
    ctx: RuleContext,
    link: Link,
    image: str,
    new_ref: str,
    edits: list[Edit],
    digests: list[tuple[str, str | None]],
    scopes: list[tuple[str, int, int]],
    notes: list[str],
) -> str:
    """Rename the build definition's image to the asset name when it can be edited exactly
    (edits, digests, scopes and notes appended); the reference the image volume uses."""
    reference = image
    renamed = _renamed_build_name(ctx.config.image_name_template, link.image) if link.name_span else None
    if renamed and renamed != link.image and link.name_span:
        path, s, e = link.name_span
        build = _read(ctx, path)
        if build is not None and build.text[s:e] == link.image:
            edits.append(Edit(path, s, e, renamed))
            digests.append((path, build.digest))
            scopes.append((path, s, e))
            reference = new_ref
            notes.append(
                f"{link.origin} now builds {renamed} from {link.dockerfile} (FROM scratch); "
                f"the old {link.image} tags stay as they are for anything else that still runs `cp` from them"
            )
    else:
        notes.append(
            f"{image} keeps its name: {link.source} ({link.origin}) links it to {link.dockerfile} but names it nowhere "
            f"migrate-tui can edit; anything else that runs `cp` from new builds of it needs the same migration"
        )
    if _split_ref(image)[2] and reference != image:
        notes.append(f"{image} was pinned by digest; pin {reference} again once it is built")
    return reference


def _covers(dest: str, path: str) -> bool:
    d = dest.rstrip("/") or "/"
    return path == d or d == "/" or path.startswith(d + "/")


def _flag_edits(path: str, text: str, instr: Instruction, flags: dict[str, str]) -> list[Edit]:
    """Insert or replace ``--chmod``/``--chown`` on a COPY/ADD."""
    edits = []
    for name in ("chown", "chmod"):
        if name not in flags:
            continue
        existing = instr.flag(name)
        token = f"--{name}={flags[name]}"
        if existing is not None:
            if text[existing.start : existing.end] != token:
                edits.append(Edit(path, existing.start, existing.end, token))
            continue
        at = instr.start + len(instr.raw_keyword)
        edits.append(Edit(path, at, at, " " + token))
    return edits


def _new_dockerfile(
    ctx: RuleContext, image: str, new_ref: str, sources: list[tuple[str, str]], flags: dict[str, str], why: str | None
) -> AssetImage | str:
    if not _exact_reference(image):
        return f"the init image {_shown(image)} is not a valid image reference; no Dockerfile is written for it"
    repo, _, _ = _split_ref(image)
    name = repo.rsplit("/", 1)[-1]
    rel = _asset_path(ctx.config.asset_dockerfile_path, name=name, image=repo)
    if rel is None:
        return f"asset-dockerfile-path {ctx.config.asset_dockerfile_path!r} is not a valid template"
    if isinstance(rel, tuple):
        return _refused("asset-dockerfile-path gives", *rel)
    flag_text = "".join(f" --{k}={flags[k]}" for k in ("chown", "chmod") if k in flags)
    lines = [
        f"# Asset image for {image}: only the files its init container copied, no shell.",
        f"# Build and push it as {new_ref} (e.g. `buildah bud -f {rel} -t {new_ref} .`).",
        f"FROM {image} AS source",
        "",
        "FROM scratch",
    ]
    for path, kind in sources:
        if path == "/":
            return f"the init container copies the whole image root of {image}; an asset image can't tell the assets from the base"
        dest = path if kind == "file" else path.rstrip("/") + "/"
        line = _copy_line("source", flag_text, dest, dest)
        if isinstance(line, tuple):
            return _refused("the copy source", *line)
        lines.append(line)
    content = "\n".join(lines) + "\n"
    existing = _read(ctx, rel) if ctx.project.exists(rel) else None
    notes = [f"new {rel} builds {new_ref} FROM scratch from {image}"] + ([why] if why else [])
    if existing is not None:
        if existing.text == content:
            return AssetImage(image, new_ref, rel, "unchanged", notes=[f"{rel} already builds {new_ref}"])
        return f"{rel} already exists with other content; set asset-dockerfile-path to another place"
    return AssetImage(image, new_ref, rel, "created", [Edit(rel, 0, 0, content)], [(rel, None)], [(rel, 0, 0)], notes)


# --------------------------------------------------------------------------- union images


def plan_volume_image(ctx: RuleContext, group: list[VolumeFlow], volume: str, owner: str) -> AssetImage | str:
    """One new asset image whose root *is* the emptyDir as the init containers left it.

    For what mounts of the init images can't express (two images merged into one directory,
    a renamed file, copies nested in each other): each copy becomes a ``COPY --from`` into the
    path it landed on in the volume, in the order the init containers ran (later files win,
    as with ``cp``), and the readers mount the whole image (or their own ``subPath`` of it).
    """
    images = list(dict.fromkeys(f.image for f in group if f.image))
    if not images:
        return "no init image to build from"
    bad = next((i for i in images if not _exact_reference(i)), None)
    if bad is not None:
        return f"the init image {_shown(bad)} is not a valid image reference; no Dockerfile is written for it"
    for what, text in (("the volume name", volume), ("the owner", owner)):
        if has_control_chars(text):
            return _refused(what, text, PathRefusal.CONTROL)
    repo, tag, _ = _split_ref(images[0])
    owner_name = owner.rsplit("/", 1)[-1] or "pod"
    base = f"{repo.rsplit('/', 1)[0] + '/' if '/' in repo else ''}{owner_name}-{volume}"
    new_ref = asset_reference(ctx.config.image_name_template, f"{base}:{tag or 'latest'}")
    if new_ref is None:
        return f"image-name template {ctx.config.image_name_template!r} gives no valid reference for {_shown(base)}"
    rel = _asset_path(ctx.config.asset_dockerfile_path, name=f"{owner_name}-{volume}", image=base)
    if rel is None:
        return f"asset-dockerfile-path {ctx.config.asset_dockerfile_path!r} is not a valid template"
    if isinstance(rel, tuple):
        return _refused("asset-dockerfile-path gives", *rel)
    stages = {image: f"source{i + 1}" for i, image in enumerate(images)}
    lines = [
        f"# Asset image for emptyDir '{volume}' of {owner}: the files its init containers copied, no shell.",
        f"# Build and push it as {new_ref} (e.g. `migrate-tui build -f {rel} -t {new_ref} .`).",
    ]
    lines += [f"FROM {image} AS {stage}" for image, stage in stages.items()]
    lines += ["", "FROM scratch"]
    notes = [f"new {rel} builds {new_ref} FROM scratch: its root is the emptyDir '{volume}' as the copies left it"]
    flags_all: dict[str, str] = {}
    for flow in sorted(group, key=lambda f: f.init_index):
        flags, folded, refused = fold_modes(flow)
        if refused:
            return "; ".join(refused)
        flags_all.update(flags)
        flag_text = "".join(f" --{k}={flags[k]}" for k in ("chown", "chmod") if k in flags)
        stage = stages[flow.image] if flow.image else None
        for p in flow.placements:
            if stage is None:
                return f"init container {_shown(str(flow.init.get('name')))} names no image; no Dockerfile is written for what it copies"
            target = "/" + p.vol_dir if p.vol_dir else "/"
            if p.kind == "file":
                line = _copy_line(stage, flag_text, p.source, target)
            else:
                source = p.image_dir.rstrip("/") + "/" if p.image_dir != "/" else "/"
                line = _copy_line(stage, flag_text, source, target.rstrip("/") + "/")
            if isinstance(line, tuple):
                return _refused("the copy source", *line)
            lines.append(line)
            if p.kind == "file":
                continue
            if p.kind == "glob":
                notes.append(f"`{p.text}` skipped dot-files through the shell glob; COPY takes them too")
    content = "\n".join(lines) + "\n"
    if ctx.project.exists(rel):
        existing = _read(ctx, rel)
        if existing is not None and existing.text == content:
            return AssetImage(images[0], new_ref, rel, "unchanged", notes=[f"{rel} already builds {new_ref}"])
        return f"{rel} already exists with other content; set asset-dockerfile-path to another place"
    return AssetImage(images[0], new_ref, rel, "created", [Edit(rel, 0, 0, content)], [(rel, None)], [(rel, 0, 0)], notes)


# --------------------------------------------------------------------------- copier images


def _rewrite_copier(
    ctx: RuleContext,
    link: Link,
    source: SourceFile,
    parsed: Dockerfile,
    stage: Stage,
    image: str,
    new_ref: str,
    sources: list[tuple[str, str]],
    flags: dict[str, str],
) -> AssetImage | str:
    """A copier image rewritten in place: its stage (download and all) becomes a build stage,
    its CMD/ENTRYPOINT goes, and a new last stage ships ``FROM scratch`` with the paths the init
    containers copied, taken from the build stage exactly as the old image held them."""
    if stage.name or stage is not parsed.stages[-1]:
        return f"{dfx.label(stage)} is named or is not the last stage; split it by hand"
    name = unique_stage_name(parsed, "fetch")
    flag_text = "".join(f" --{k}={flags[k]}" for k in ("chown", "chmod") if k in flags)
    lines = ["FROM scratch"]
    for path, kind in sources:
        if path == "/":
            return f"the init container copies the whole image root of {_shown(image)}; an asset image can't tell the assets from the base"
        dest = path if kind == "file" else path.rstrip("/") + "/"
        line = _copy_line(name, flag_text, dest, dest)
        if isinstance(line, tuple):
            return _refused("the copy source", *line)
        lines.append(line)
    text = source.text
    _, base_end = stage.base_span
    edits = [Edit(source.path, base_end, base_end, f" AS {name}")]
    for instr in stage.instructions:
        if instr.keyword in ("CMD", "ENTRYPOINT"):
            start, end = dfx.whole_lines(text, instr.start, instr.end)
            edits.append(Edit(source.path, start, end, ""))
    tail = "" if text.endswith("\n") or not text else "\n"
    edits.append(Edit(source.path, len(text), len(text), tail + "\n" + "\n".join(lines) + "\n"))
    digests: list[tuple[str, str | None]] = [(source.path, source.digest)]
    scopes: list[tuple[str, int, int]] = [(source.path, 0, len(text))]
    notes = [
        f"{link.dockerfile} ({dfx.label(stage)}) becomes build stage '{name}' (its download stays there, its "
        f"{'/'.join(dict.fromkeys(i.keyword for i in stage.instructions if i.keyword in ('CMD', 'ENTRYPOINT')))} "
        "goes) and ships FROM scratch with the copied paths"
    ]
    reference = _rename_build(ctx, link, image, new_ref, edits, digests, scopes, notes)
    return AssetImage(image, reference, link.dockerfile, "rewritten", edits, digests, scopes, notes)
