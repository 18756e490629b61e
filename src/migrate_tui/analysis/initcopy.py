"""What an init container leaves in an emptyDir, and how its consumers could see the same
thing through an image volume. Shared by IV001, IV002 and ``verify``.

The init container's filesystem is its image overlaid by every one of its volume mounts
(nested mounts and ``subPath`` file mounts included): a copy source at, above or inside a
mounted volume gets files from that volume, which no image volume can carry. A command that
changes a copy source before the copy (``sed -i``, ``rm``, ``chmod`` in the init container's
own filesystem) makes the copy differ from the image too.

Pure functions over plain dicts: no YAML, no I/O. Reasons are typed (:mod:`..core.reasons`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from migrate_tui.model.reasons import Blocker, BlockerKind, Note, NoteKind
from migrate_tui.parse.shell import Command, CopyOp, Op, OpaqueKind, OpKind, ParsedCommand, parse_container_command
from migrate_tui.analysis.imagecommand import ImageDefault, ImageDefaults, image_run, parse_image_run

_FILE_SUFFIXES = (
    ".jar",
    ".war",
    ".bin",
    ".onnx",
    ".pt",
    ".pth",
    ".safetensors",
    ".gguf",
    ".pb",
    ".h5",
    ".tflite",
    ".so",
    ".json",
    ".yaml",
    ".yml",
    ".conf",
    ".cfg",
    ".ini",
    ".txt",
    ".html",
    ".js",
    ".css",
    ".py",
    ".sh",
    ".tar",
    ".gz",
    ".tgz",
    ".zip",
    ".xml",
    ".properties",
    ".toml",
    ".pem",
    ".crt",
    ".key",
    ".rego",
    ".wasm",
    ".exe",
    ".dll",
)


# Commands that rewrite file contents: after a copy they turn it into templating (IV002).
_TEXT_EDITORS = frozenset({"sed", "awk", "gawk", "perl", "envsubst", "yq", "jq", "ed", "ex", "patch"})
_MODE_TOOLS = frozenset({"chmod", "chown", "chgrp"})


def _lead(op: Op) -> Command | None:
    """The simple command an op starts with (a ``while`` loop, or a pipeline that starts with
    one, starts with none)."""
    first = op.commands[0] if op.commands else None
    return first if first is not None and first.written_argv[:1] == op.argv[:1] else None


def _lead_tool(op: Op) -> str:
    """The tool an op starts with, as the analysis names it: its first command's name, or ""
    when that command runs behind a wrapper. ``sudo sed -i …`` or ``exec chmod …`` is judged as
    any other change, not as an editor or a mode change: that is how the analysis read the op
    before the shared Command (it looked at the op's first word, the wrapper), kept as it was
    because reading the tool behind the wrapper changes verdicts (IV001 manual -> IV002)."""
    lead = _lead(op)
    return lead.name if lead is not None and not lead.wrappers else ""


@dataclass(frozen=True)
class Placement:
    """One piece of the volume: ``vol_dir`` (relative to the volume root) shows ``image_dir``."""

    vol_dir: str  # "" is the volume root
    image_dir: str  # absolute path in the init image ("/" for the whole image)
    source: str  # the copy source as resolved (a dir, or a file for single-file copies)
    kind: str  # "contents" | "glob" | "entry" | "file"
    text: str  # the shell command, for messages


class Relation(Enum):
    """Where a mounted volume sits relative to a copy source."""

    AT = "at"  # the volume is mounted exactly at the source
    ABOVE = "above"  # the source lies inside the volume
    BELOW = "below"  # the volume is mounted inside the source tree


@dataclass(frozen=True)
class InitMount:
    """One of the init container's volume mounts, normalised."""

    path: str  # absolute, normalised mountPath
    volume: str  # the volume's name
    kind: str  # the volume's source key: configMap, secret, projected, emptyDir, ... ("undeclared")
    mount: dict[str, Any]


@dataclass(frozen=True)
class VolumeSource:
    """A copy source that gets files from a mounted volume rather than from the image."""

    command: str  # the copy, as written
    source: str
    mount: InitMount
    relation: Relation

    def describe(self) -> str:
        what = f"the {self.mount.kind} volume '{self.mount.volume}'"
        if self.relation is Relation.BELOW:
            return f"{what} is mounted at {self.mount.path} inside the copy source {self.source}"
        if self.relation is Relation.AT:
            return f"the copy source {self.source} is {what}"
        return f"the copy source {self.source} lies in {what} mounted at {self.mount.path}"


@dataclass(frozen=True)
class Consumer:
    container: dict[str, Any]
    group: str  # "initContainers" | "containers" | "ephemeralContainers"
    index: int
    mount_index: int
    mount: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.container.get("name", f"{self.group}[{self.index}]"))

    @property
    def mount_path(self) -> str:
        return norm_path(self.mount.get("mountPath", "/"))

    @property
    def sub_path(self) -> str:
        return _clean_rel(str(self.mount.get("subPath", "") or ""))

    @property
    def read_only(self) -> bool:
        return self.mount.get("readOnly") is True


@dataclass
class VolumeFlow:
    """The analysis of init container ``init`` writing emptyDir ``volume``."""

    init: dict[str, Any]
    init_index: int
    volume: dict[str, Any]
    volume_index: int
    mount: dict[str, Any]  # the init container's mount of the volume
    parsed: ParsedCommand
    placements: list[Placement] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    manual: list[Blocker] = field(default_factory=list)  # reasons the copy is not equivalent as-is
    unsafe: list[str] = field(default_factory=list)  # assumptions under which it is
    notes: list[Note] = field(default_factory=list)
    fills: list[str] = field(default_factory=list)  # IV002: download / templating / opaque reasons
    volume_sources: list[VolumeSource] = field(default_factory=list)  # copies that read a mounted volume
    refused_sources: list[str] = field(default_factory=list)  # copies into the volume refused for what they read or write
    post_copy_modes: list[str] = field(default_factory=list)  # chmod/chown commands (scratch mode can carry them)
    landings: list[str] = field(default_factory=list)  # where placed copies land, in the init container's view

    @property
    def name(self) -> str:
        return str(self.volume.get("name"))

    @property
    def declared(self) -> bool:
        """The volume is declared in this pod spec (not only in a template an operator merges)."""
        return self.volume_index >= 0

    @property
    def dest_root(self) -> str:
        return norm_path(self.mount.get("mountPath", "/"))

    @property
    def init_sub_path(self) -> str:
        return _clean_rel(str(self.mount.get("subPath", "") or ""))

    @property
    def image(self) -> str | None:
        image = self.init.get("image")
        return str(image) if image else None

    @property
    def copies(self) -> bool:
        return bool(self.placements)

    @property
    def copies_into(self) -> bool:
        """Some copy into the volume was seen (placed, or refused because of what it reads)."""
        return bool(self.placements or self.volume_sources or self.refused_sources)


def norm_path(path: object) -> str:
    """An absolute, normalised mount path: ``/site/``, ``//site``, ``/site/./`` are ``/site``."""
    return "/" + posixpath.normpath("/" + str(path)).lstrip("/")


def _clean_rel(path: str) -> str:
    path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
    return "" if path == "." else path


def _under(path: str, root: str) -> bool:
    return path == root or root == "/" or path.startswith(root.rstrip("/") + "/")


def _overlaps(a: str, b: str) -> bool:
    return _under(a, b) or _under(b, a)


def _resolved(path: str) -> bool:
    return path.startswith("/") and "$" not in path and "`" not in path


_GLOB = frozenset("*?[")


def _fixed_prefix(source: str) -> str:
    """The directory a glob pattern can't leave (``/site/*.html`` -> ``/site``)."""
    parts = source.split("/")
    cut = next((i for i, part in enumerate(parts) if not _GLOB.isdisjoint(part)), len(parts))
    return "/".join(parts[:cut]) or "/"


def _relation(source: str, mount_path: str) -> Relation | None:
    if source == mount_path:
        return Relation.AT
    if _under(source, mount_path):
        return Relation.ABOVE
    if _under(mount_path, source):
        return Relation.BELOW
    return None


def _volume_key(volume: object) -> str:
    """configMap, secret, projected... ("undeclared" when ``volumes`` has no such entry)."""
    if isinstance(volume, dict):
        return next((str(k) for k in volume if k != "name"), "undeclared")
    return "undeclared"


def init_mounts(container: dict[str, Any], by_name: dict[Any, Any]) -> list[InitMount]:
    """Every volume mount of ``container``, normalised, duplicates (same volume, path, subPath) once."""
    out: dict[tuple[str, str, str], InitMount] = {}
    for mount in _mounts(container):
        name = str(mount.get("name"))
        path = norm_path(mount.get("mountPath", "/"))
        key = (name, path, _clean_rel(str(mount.get("subPath", "") or "")))
        if key not in out:
            out[key] = InitMount(path, name, _volume_key(by_name.get(mount.get("name"), (0, None))[1]), mount)
    return list(out.values())


def _rel(path: str, root: str) -> str:
    if path == root:
        return ""
    return _clean_rel(path[len(root.rstrip("/")) :])


def _containers(spec: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for group in ("initContainers", "containers", "ephemeralContainers"):
        items = spec.get(group)
        if isinstance(items, list):
            out += [(group, i, c) for i, c in enumerate(items) if isinstance(c, dict)]
    return out


def _mounts(container: dict[str, Any]) -> list[dict[str, Any]]:
    mounts = container.get("volumeMounts")
    return [m for m in mounts if isinstance(m, dict)] if isinstance(mounts, list) else []


def literal_env(container: dict[str, Any]) -> dict[str, str]:
    env = container.get("env")
    out: dict[str, str] = {}
    if isinstance(env, list):
        for item in env:
            if isinstance(item, dict) and "value" in item and isinstance(item.get("name"), str):
                out[item["name"]] = str(item["value"])
    return out


def parse_command(container: dict[str, Any]) -> ParsedCommand:
    command = container.get("command")
    args = container.get("args")
    command_words = tuple(str(c) for c in command) if isinstance(command, list) else None
    args_words = tuple(str(a) for a in args) if isinstance(args, list) else None
    working_dir = container.get("workingDir")
    env = tuple(literal_env(container).items())
    key = (command_words, args_words, str(working_dir) if working_dir else None, env)
    if sum(len(word) for part in (command_words or (), args_words or (), *env) for word in part) > _REMEMBERED_TEXT:
        return _parse_command(*key)
    return _remembered_parse(*key)


#: commands with more text than this are parsed each time (``_remembered_parse`` keeps small ones)
_REMEMBERED_TEXT = 4096


def _parse_command(
    command: tuple[str, ...] | None, args: tuple[str, ...] | None, working_dir: str | None, env: tuple[tuple[str, str], ...]
) -> ParsedCommand:
    return parse_container_command(
        list(command) if command is not None else None, list(args) if args is not None else None, working_dir, dict(env)
    )


#: ``parse_container_command`` is a function of these values and its result is immutable (frozen
#: dataclasses and tuples): a repository repeats the same init-container commands across its
#: manifests, and each pod spec's containers are parsed by IV001 and IV002 alike.
_remembered_parse = lru_cache(maxsize=1024)(_parse_command)


def analyse_pod_spec(
    spec: dict[str, Any],
    merged_by: str = "",
    assembled: bool = False,
    shared_volumes: tuple[Any, ...] = (),
    image_defaults: ImageDefaults | None = None,
) -> list[VolumeFlow]:
    """Every (init container, emptyDir it mounts and some other container reads) pair.

    ``merged_by`` names the operator that merges this pod template with containers of its own
    (they are not in ``spec``); ``assembled`` says the spec was put together from several places
    of the manifest (an Argo Workflows template; the workflow's volumes come in
    ``shared_volumes``, after the spec's own). ``image_defaults`` gives what an init container's
    image runs by default (its Entrypoint/Cmd/Env/WorkingDir), combined with the container's own
    command the Kubernetes way (rules/_imagecommand.py); without it a container that sets no
    command is opaque."""
    volumes = spec.get("volumes")
    if not isinstance(volumes, list):
        volumes = []
    if shared_volumes:
        volumes = [*volumes, *shared_volumes]
    by_name = {v.get("name"): (i, v) for i, v in enumerate(volumes) if isinstance(v, dict)}
    inits = spec.get("initContainers")
    if not isinstance(inits, list):
        return []
    flows: list[VolumeFlow] = []
    everyone = _containers(spec)
    duplicates = _duplicate_names(volumes, everyone)
    for init_index, init in enumerate(inits):
        if not isinstance(init, dict) or init.get("restartPolicy") == "Always":
            continue  # a native sidecar runs alongside the app: not a one-shot copy
        parsed: ParsedCommand | None = None
        mounts = init_mounts(init, by_name)
        for init_mount in mounts:
            mount = init_mount.mount
            entry = by_name.get(mount.get("name"))
            if entry is None and merged_by and mount.get("name") is not None:
                # Declared in another template the operator merges with this one: analysed, never rewritten.
                entry = (-1, {"name": mount.get("name")})
            elif entry is None or not isinstance(entry[1], dict) or "emptyDir" not in entry[1]:
                continue
            volume_index, volume = entry
            default = image_defaults(init) if image_defaults is not None else None
            if parsed is None:
                parsed = parse_image_run(init, default) if isinstance(default, ImageDefault) else parse_command(init)
            flow = VolumeFlow(init, init_index, volume, volume_index, mount, parsed)
            _note_image_default(flow, default)
            flow.consumers = [
                Consumer(c, group, index, mi, m)
                for group, index, c in everyone
                if not (group == "initContainers" and index <= init_index)
                for mi, m in enumerate(_mounts(c))
                if m.get("name") == flow.name
            ]
            _trace_ops(flow, mounts)
            if not flow.declared and not flow.copies_into:
                continue  # only a copy is worth reporting into a volume this template doesn't declare
            flow.manual += duplicates + _expression_mounts(flow, init)
            if flow.placements or flow.fills or flow.manual:
                flows.append(flow)
    for flow in flows:
        # Init containers that also just copy into the same volume are co-writers, not readers.
        co_writers = {
            f.init_index for f in flows if f is not flow and f.name == flow.name and f.placements and not f.fills and not f.manual
        }
        flow.consumers = [c for c in flow.consumers if not (c.group == "initContainers" and c.index in co_writers)]
        _judge_consumers(flow, spec, merged_by)
        _judge_volume(flow)
        if merged_by:
            flow.manual.append(_operator_blocker(flow, merged_by, assembled, any(flow.volume is v for v in shared_volumes)))
    return flows


def _note_image_default(flow: VolumeFlow, default: ImageDefault | Blocker | None) -> None:
    """Say where the command came from when the image supplied it; a typed reason when the
    image's default is known but can't stand in for the command."""
    if isinstance(default, Blocker):
        flow.manual.append(default)
        return
    if default is None or not image_run(flow.init, default).from_image:
        return
    run = image_run(flow.init, default)
    shown = " ".join(run.argv)
    shown = shown if len(shown) <= 80 else shown[:79] + "…"
    flow.notes.append(
        Note(NoteKind.IMAGE_COMMAND, f"'{flow.init.get('name')}' sets no command: it runs its image's default `{shown}` ({default.origin})")
    )
    if default.assumed:
        flow.unsafe.append(
            f"{flow.image} runs the default command of {default.origin} as the file is now "
            "(an image built from an older version may copy something else), and nothing outside this "
            "repository runs that command"
        )


def _expression_mounts(flow: VolumeFlow, init: dict[str, Any]) -> list[Blocker]:
    """A mount of the volume with subPathExpr: which directory it is depends on the pod's
    environment, so where copies land (or what a reader sees) can't be placed."""
    blockers = []
    who = [(str(init.get("name")), flow.mount)] + [(c.name, c.mount) for c in flow.consumers]
    for name, mount in who:
        if mount.get("subPathExpr"):
            blockers.append(
                Blocker(
                    BlockerKind.UNRESOLVED_PATH,
                    f"'{name}' mounts '{flow.name}' with subPathExpr {mount.get('subPathExpr')}: the directory depends on the pod's environment",
                )
            )
    return blockers


def _duplicate_names(volumes: list[Any], everyone: list[tuple[str, int, dict[str, Any]]]) -> list[Blocker]:
    """Two volumes or two containers with one name: the API server rejects the pod, and which
    entry a mount or a rewrite means is a guess."""
    blockers: list[Blocker] = []
    names = [v.get("name") for v in volumes if isinstance(v, dict)]
    for name in dict.fromkeys(n for n in names if names.count(n) > 1):
        blockers.append(
            Blocker(
                BlockerKind.DUPLICATE_NAME,
                f"volumes lists '{name}' more than once; the API server rejects the pod and a rewrite can't tell the entries apart",
            )
        )
    containers = [c.get("name") for _, _, c in everyone if c.get("name") is not None]
    for name in dict.fromkeys(n for n in containers if containers.count(n) > 1):
        blockers.append(
            Blocker(
                BlockerKind.DUPLICATE_NAME,
                f"two containers are named '{name}'; the API server rejects the pod",
            )
        )
    return blockers


def _trace_ops(flow: VolumeFlow, mounts: list[InitMount]) -> None:
    parsed = flow.parsed
    if parsed.opaque:
        if parsed.opaque_kind is OpaqueKind.NO_COMMAND:
            flow.fills.append(f"{parsed.opaque}; migrate-tui can't see what it writes into '{flow.name}'")
        else:
            flow.manual.append(Blocker(BlockerKind.UNREADABLE_COMMAND, f"the command can't be analysed ({parsed.opaque})"))
        return
    root = flow.dest_root
    # Paths of the init container's own filesystem (or another volume) changed so far:
    # (path, command, only strictly below the path matters, the command edits text).
    changed: list[tuple[str, str, bool, bool]] = []
    existing_dirs = {root}
    programs = []  # ops that run an executable or script from the image
    made: list[tuple[str, str]] = []  # (directory under the mount, mkdir command)
    for op in parsed.ops:
        if op.kind in (OpKind.HARMLESS, OpKind.WAIT):
            continue
        if op.kind is OpKind.MKDIR:
            existing_dirs.update(op.paths)
            made += [(p, op.text) for p in op.paths if _under(p, root) and p != root]
            # mkdir of a copy source (or above it) is a no-op when the copy works; inside it, not.
            changed += [(p, op.text, True, False) for p in op.paths if _resolved(p) and not _under(p, root)]
            continue
        copying = op.copy is not None and (op.kind is OpKind.COPY or any(_under(p, root) for p in op.paths))
        if copying:  # a copy, or a copy with changes (install) into the volume
            _trace_copy(flow, op, mounts, changed, existing_dirs)
            if op.copy is not None and op.copy.tool == "mv":  # the sources are gone from the init container's filesystem
                changed += [(p, op.text, False, False) for p in op.copy.sources]
            continue
        touched = [p for p in op.paths if _overlaps(p, root) or not _resolved(p)]
        if op.kind is OpKind.DOWNLOAD:
            # Even a download elsewhere taints the copies: they may copy what was downloaded.
            flow.fills.append(f"`{op.text}`: {op.reason or 'downloads over the network'}")
            continue
        if op.kind is OpKind.TEMPLATE:
            flow.fills.append(f"`{op.text}`: {op.reason or 'renders a template'}")
            continue
        editor = _lead_tool(op) in _TEXT_EDITORS
        if op.kind is OpKind.MODIFY and editor:
            if touched or not op.paths:
                flow.fills.append(f"`{op.text}`: edits the copied files in place (templating)")
            else:
                changed += [(p, op.text, False, True) for p in op.paths]
            continue
        if op.kind is OpKind.MODIFY:
            if op.paths and not touched:
                # changes another volume (judged with that volume) or the init container's own
                # filesystem, which dies with it: matters only to a later copy that reads it
                changed += [(p, op.text, False, False) for p in op.paths]
                continue
            name = op.argv[0] if op.argv else "a command"
            kind = BlockerKind.CHANGES_COPY
            if _lead_tool(op) in _MODE_TOOLS and all(_under(p, root) for p in touched):
                flow.post_copy_modes.append(op.text)
                kind = BlockerKind.MODE_CHANGE
            flow.manual.append(Blocker(kind, f"`{op.text}`: {op.reason or f'{name} changes the copied tree'}", op.text))
            continue
        if op.program or any(_overlaps(p, root) for p in op.paths):
            programs.append(op)  # runs a program from the image, or writes the volume opaquely
        flow.manual.append(
            Blocker(BlockerKind.OPAQUE_COMMAND, f"`{op.text}`: {op.reason or 'runs a program migrate-tui cannot see into'}", op.text)
        )
    for path, command in made:
        # A directory some copy lands in (or leads to) exists either way; any other is an empty
        # directory the emptyDir has and the image volume doesn't (unless the image does).
        if flow.placements and not any(_under(landing, path) for landing in flow.landings):
            flow.unsafe.append(
                f"`{command}` creates {path}, which no copy fills; the image volume has it only if the image does, "
                "so this assumes no reader needs that empty directory"
            )
    if programs and not flow.copies_into and not flow.fills:
        # Like an init container with no command: what fills the volume can't be seen.
        op = programs[0]
        if op.program:
            flow.fills.append(
                f"`{op.text}`: {op.program} is a program from the image that migrate-tui can't see into; "
                f"read it (or the Dockerfile that builds the image) to see what it writes into '{flow.name}'"
            )
        else:
            flow.fills.append(f"`{op.text}`: {op.reason}; what it writes into '{flow.name}' can't be known here")


def _trace_copy(
    flow: VolumeFlow, op: Op, mounts: list[InitMount], changed: list[tuple[str, str, bool, bool]], existing_dirs: set[str]
) -> None:
    copy = op.copy
    if copy is None:  # the caller traces copies only
        return
    root = flow.dest_root
    landings = _landings(copy)
    if not any(_under(landing, root) for landing in landings):
        if any(_under(root, landing) for landing in _merged_into(copy)):
            flow.refused_sources += copy.sources
            flow.manual.append(
                Blocker(
                    BlockerKind.CHANGES_COPY,
                    f"`{op.text}` copies into {copy.dest}, above the volume's mount {root}; what lands in '{flow.name}' depends on the image's tree",
                    op.text,
                )
            )
            return
        # writes somewhere else (another volume or the init container's own filesystem)
        changed += [(landing, op.text, False, False) for landing in landings]
        return
    if op.conditional:
        flow.manual.append(Blocker(BlockerKind.CONDITIONAL_COPY, f"`{op.text}` only runs when an earlier command fails", op.text))
        return
    for source, form in zip(copy.sources, copy.forms):
        reach = _fixed_prefix(source) if form == "pattern" else source
        found = [VolumeSource(op.text, source, m, r) for m in mounts if (r := _relation(reach, m.path)) is not None]
        if found:
            flow.volume_sources += found
            for found_one in found:
                flow.manual.append(
                    Blocker(
                        BlockerKind.VOLUME_IN_SOURCE,
                        f"`{op.text}`: {found_one.describe()}, so those files come from the volume, not from the image; an image volume can't carry them",
                        op.text,
                    )
                )
            continue
        edits = [c for c in changed if _changes(c, reach)]
        if edits:
            flow.refused_sources.append(source)
            path, command, _, editor = edits[0]
            if editor:
                flow.fills.append(f"`{command}`: edits {path} before `{op.text}` copies it (templating)")
            else:
                flow.manual.append(
                    Blocker(
                        BlockerKind.SOURCE_CHANGED,
                        f"`{command}` changes {path} before `{op.text}` copies it; the image doesn't have that change",
                        op.text,
                    )
                )
            continue
        if "$" in source or "$" in copy.dest:
            flow.refused_sources.append(source)
            flow.manual.append(Blocker(BlockerKind.UNRESOLVED_PATH, f"`{op.text}` uses a variable migrate-tui can't resolve", op.text))
            continue
        if form == "pattern":
            flow.refused_sources.append(source)
            flow.manual.append(
                Blocker(
                    BlockerKind.GLOB_PATTERN,
                    f"`{op.text}`: the glob {source} selects files migrate-tui can't list without the image",
                    op.text,
                )
            )
            continue
        if any(
            f.startswith(
                ("--exclude", "--include", "--chmod", "--chown", "-L", "--dereference", "--filter", "-s", "--symbolic-link", "-l", "--link")
            )
            for f in copy.flags
        ):
            flow.refused_sources.append(source)
            flow.manual.append(Blocker(BlockerKind.FILTERED_COPY, f"`{op.text}` filters or transforms while copying", op.text))
            continue
        if copy.transforms:
            flow.refused_sources.append(source)
            flow.manual.append(
                Blocker(
                    BlockerKind.FILTERED_COPY,
                    f"`{op.text}` {copy.transforms[0]}; a mount shows the image's files as they are",
                    op.text,
                )
            )
            continue
        placement, landing = _place(source, form, copy, root, flow.init_sub_path, existing_dirs, op.text)
        nested = [m for m in mounts if m.mount is not flow.mount and m.path != root and _under(m.path, landing)]
        if nested:
            flow.refused_sources.append(source)
            m = nested[0]
            flow.manual.append(
                Blocker(
                    BlockerKind.VOLUME_IN_DESTINATION,
                    f"`{op.text}` also writes into the {m.kind} volume '{m.volume}' mounted at {m.path} inside {root}; an image volume would not",
                    op.text,
                )
            )
            continue
        flow.placements.append(placement)
        flow.landings.append(landing)


def _landings(copy: CopyOp) -> list[str]:
    """Where a copy's sources may land: the destination, and DEST/NAME for an entry."""
    out = []
    for src, form in zip(copy.sources, copy.forms):
        if form == "entry":
            out.append(posixpath.join(copy.dest, posixpath.basename(src)))
        out.append(copy.dest)
    return list(dict.fromkeys(out))


def _merged_into(copy: CopyOp) -> list[str]:
    """The directories whose existing subtree a copy writes into (an entry goes to DEST/NAME
    when DEST is a directory, which it is when a volume is mounted inside it)."""
    return list(
        dict.fromkeys(
            posixpath.join(copy.dest, posixpath.basename(src)) if form == "entry" else copy.dest
            for src, form in zip(copy.sources, copy.forms)
        )
    )


def _changes(change: tuple[str, str, bool, bool], source: str) -> bool:
    """Did an earlier command (``change``) alter what a copy of ``source`` reads?"""
    path, _, strictly_inside, _ = change
    if not _resolved(path):
        return True
    if strictly_inside:
        return path != source and _under(path, source)
    return _overlaps(path, source)


def _place(source: str, form: str, copy: CopyOp, root: str, init_sub: str, existing_dirs: set[str], text: str) -> tuple[Placement, str]:
    dest = copy.dest
    dest_is_dir = copy.dest_trailing_slash or dest in existing_dirs or len(copy.sources) > 1
    if form in ("contents", "glob"):
        landing = dest
        image_dir, kind = source, form
    elif not _under(dest, root):
        # the entry lands on the mount point itself: cp merges its contents into the volume root
        landing = posixpath.join(dest, posixpath.basename(source))
        image_dir, kind = source, "contents"
    else:
        looks_file = (not copy.recursive) or posixpath.basename(source).lower().endswith(_FILE_SUFFIXES)
        landing = posixpath.join(dest, posixpath.basename(source)) if dest_is_dir else dest
        kind = "file" if looks_file else "entry"
        image_dir = source
        if kind == "entry":
            existing_dirs.add(landing)
    vol = _rel(landing, root)
    if init_sub:
        vol = posixpath.join(init_sub, vol) if vol else init_sub
    return Placement(vol, image_dir, source, kind, text), landing


def _operator_blocker(flow: VolumeFlow, operator: str, assembled: bool, shared: bool) -> Blocker:
    """Why a pod template an operator merges is not rewritten: what the manifest can't show."""
    if not flow.declared:
        return Blocker(
            BlockerKind.OPERATOR_MERGED,
            f"'{flow.name}' is not declared in this pod template: {operator} declares it or merges it from another "
            "template (top-level or per-component), so what kind of volume it is and who reads it can't be seen here; "
            "check the generated pod and rewrite by hand",
        )
    if assembled and shared:
        return Blocker(
            BlockerKind.OPERATOR_MERGED,
            f"'{flow.name}' is declared at the workflow level (spec.volumes): {operator} adds it to the pod of every "
            "template, so a rewrite changes them all; rewrite it by hand",
        )
    if assembled:
        return Blocker(
            BlockerKind.OPERATOR_MERGED,
            f"{operator} builds this pod from the template (container, sidecars, volumes) and containers of its own; "
            "migrate-tui does not rewrite workflow templates: rewrite it by hand",
        )
    if not flow.consumers:
        return Blocker(
            BlockerKind.OPERATOR_MERGED,
            f"no container in this manifest mounts '{flow.name}', but {operator} merges this pod template with containers "
            "it creates itself (not in this manifest), which may mount it; check the generated workload and rewrite by hand",
        )
    return Blocker(
        BlockerKind.OPERATOR_MERGED,
        f"{operator} merges this pod template with containers it creates itself (not in this manifest): they may mount "
        f"'{flow.name}' too, and a CRD schema older than image volumes drops the `image` source; rewrite by hand",
    )


def _judge_consumers(flow: VolumeFlow, spec: dict[str, Any], merged_by: str = "") -> None:
    if not flow.consumers:
        if merged_by:
            return  # said by _operator_blocker: the operator's own containers may read it
        flow.manual.append(
            Blocker(
                BlockerKind.NO_READER,
                f"no other container in this object mounts '{flow.name}' (added elsewhere, e.g. by a patch or an operator?); nothing to rewrite here",
            )
        )
        return
    for consumer in flow.consumers:
        if consumer.group == "initContainers":
            later = parse_command(consumer.container)
            writes = [op for op in later.ops if op.kind not in (OpKind.HARMLESS, OpKind.WAIT)]
            if later.opaque or (writes and not consumer.read_only):
                why = later.opaque or writes[0].text
                flow.manual.append(
                    Blocker(
                        BlockerKind.LATER_WRITER,
                        f"init container '{consumer.name}' runs after the copy with '{flow.name}' mounted read-write ({why}); it may change the copied tree",
                    )
                )
                continue
        if not consumer.read_only:
            flow.unsafe.append(
                f"'{consumer.name}' mounts '{flow.name}' at {consumer.mount_path} without readOnly: true; "
                "image volumes are always read-only, so this assumes it never writes there"
            )
        unpacked = [p.source for p in flow.placements if p.source.lower().endswith((".war", ".ear"))]
        if unpacked:
            flow.manual.append(
                Blocker(
                    BlockerKind.UNPACKED_ARCHIVE,
                    f"{unpacked[0]} is an archive that servlet containers unpack beside it in the same directory; "
                    "a read-only image volume breaks that (deploy it exploded, or keep the copy)",
                )
            )
        executed = _executed_paths(consumer.container)
        for path in executed:
            if _under(path, consumer.mount_path):
                flow.manual.append(
                    Blocker(
                        BlockerKind.EXECUTED_FILE,
                        f"'{consumer.name}' executes {path} from the volume; some runtimes mount image volumes noexec, "
                        "and a renamed binary can't be expressed as a mount",
                    )
                )
                break
        same = [m for m in _mounts(consumer.container) if norm_path(m.get("mountPath", "/")) == consumer.mount_path]
        if len(same) > 1:
            flow.manual.append(
                Blocker(
                    BlockerKind.DUPLICATE_NAME,
                    f"'{consumer.name}' mounts {len(same)} volumes at {consumer.mount_path}; the API server rejects the pod",
                )
            )
        for other in _mounts(consumer.container):
            path = norm_path(other.get("mountPath", "/"))
            if other is not consumer.mount and path != consumer.mount_path and _under(path, consumer.mount_path):
                flow.manual.append(
                    Blocker(
                        BlockerKind.READER_NESTED_MOUNT,
                        f"'{consumer.name}' also mounts '{other.get('name')}' at {path} inside {consumer.mount_path}; "
                        "an image volume is read-only, so the runtime can't create that mount point unless the image has it",
                    )
                )
                break


def _executed_paths(container: dict[str, Any]) -> list[str]:
    paths: list[str] = []
    parsed = parse_command(container)
    for op in parsed.ops:
        paths += _programs_by_path(op)
    command = container.get("command")
    if isinstance(command, list) and command and str(command[0]).startswith("/"):
        paths.append(str(command[0]))
    for hook in _exec_hooks(container):
        if hook and str(hook[0]).startswith("/"):
            paths.append(str(hook[0]))
        inner = parse_container_command([str(h) for h in hook], None)
        for op in inner.ops:
            paths += _programs_by_path(op)
    return paths


def _programs_by_path(op: Op) -> list[str]:
    """The programs an op runs by absolute path: its first word as written, and each of its
    commands' own name behind the wrappers (``exec /vol/bin/app``, ``… | /vol/bin/filter``)."""
    words = [*op.argv[:1], *(c.words[0].text for c in op.commands if c.words)]
    return [w for w in dict.fromkeys(words) if w.startswith("/")]


def _exec_hooks(container: dict[str, Any]) -> list[list[Any]]:
    hooks = []
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        for phase in ("postStart", "preStop"):
            handler = lifecycle.get(phase)
            if isinstance(handler, dict) and isinstance(handler.get("exec"), dict):
                hooks.append(handler["exec"].get("command") or [])
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        handler = container.get(probe)
        if isinstance(handler, dict) and isinstance(handler.get("exec"), dict):
            hooks.append(handler["exec"].get("command") or [])
    return [h for h in hooks if isinstance(h, list)]


def _judge_volume(flow: VolumeFlow) -> None:
    empty_dir = flow.volume.get("emptyDir")
    if isinstance(empty_dir, dict) and empty_dir.get("medium") == "Memory":
        flow.notes.append(
            Note(NoteKind.MEMORY_MEDIUM, "the emptyDir was in memory (medium: Memory); reads now come from disk and the page cache")
        )
    if not flow.image:
        flow.manual.append(
            Blocker(BlockerKind.NO_IMAGE, "the init container names no image in this file (injected elsewhere?); nothing to reference")
        )


@dataclass(frozen=True)
class MountSpec:
    volume: str  # the image volume's name
    mount_path: str
    sub_path: str  # "" = no subPath (whole image)


def volume_names(flows: list[VolumeFlow]) -> dict[str, str]:
    """image -> image-volume name: the first image keeps the emptyDir's name."""
    names: dict[str, str] = {}
    for flow in flows:
        if flow.image and flow.image not in names:
            names[flow.image] = flow.name if not names else f"{flow.name}-{flow.init.get('name', len(names))}"
    return names


def plan_mounts(
    flows: list[VolumeFlow], consumer: Consumer, names: dict[str, str], assumptions: list[str] | None = None
) -> tuple[list[MountSpec], list[Blocker], list[Note]]:
    """The image-volume mounts that show ``consumer`` what it saw, plus blockers and notes;
    what the mounts assume (unsafe) is appended to ``assumptions``."""
    blockers: list[Blocker] = []
    notes: list[Note] = []
    pieces: list[tuple[str, str, str, bool]] = []  # (vol_dir, image_dir, volume name, a single file)
    for flow in flows:
        volume = names.get(flow.image or "", flow.name)
        for p in flow.placements:
            if p.kind == "file":
                landing_dir, name = posixpath.split(p.vol_dir)
                if name != posixpath.basename(p.source):
                    blockers.append(
                        Blocker(
                            BlockerKind.RENAMED_FILE,
                            f"`{p.text}` renames {p.source} to {name}; a mount can't rename a file (scratch mode can build an image with the new name)",
                            p.text,
                        )
                    )
                    continue
                image_dir = posixpath.dirname(p.source) or "/"
                pieces.append((landing_dir, image_dir, volume, True))
                notes.append(
                    Note(
                        NoteKind.SIBLING_FILES,
                        f"containerd mounts only directories: {image_dir} is mounted whole, so the files beside {posixpath.basename(p.source)} appear too",
                    )
                )
            else:
                pieces.append((p.vol_dir, p.image_dir, volume, False))
                if p.kind == "glob":
                    notes.append(
                        Note(
                            NoteKind.DOT_FILES,
                            f"`{p.text}` skipped dot-files through the shell glob; with the mount, dot-files under {p.image_dir} appear too",
                        )
                    )
    seen: dict[str, tuple[str, str]] = {}
    image_of = {volume: image for image, volume in names.items()}
    # Directories of the volume that only single-file copies land in: the copies create no
    # directory below them, so a reader's subPath there was an empty directory the kubelet made.
    file_only = {p[0] for p in pieces if p[3]} - {p[0] for p in pieces if not p[3]}
    for vol_dir, image_dir, volume, _ in pieces:
        if vol_dir in seen and seen[vol_dir] != (image_dir, volume):
            was = f"{seen[vol_dir][0]} of {image_of.get(seen[vol_dir][1], seen[vol_dir][1])}"
            now = f"{image_dir} of {image_of.get(volume, volume)}"
            blockers.append(
                Blocker(
                    BlockerKind.MERGED_TREES,
                    f"{was} and {now} are merged into {'/' + vol_dir if vol_dir else 'the volume root'}; "
                    "image-volume mounts can't merge trees (scratch mode can)",
                )
            )
        seen[vol_dir] = (image_dir, volume)
    dirs = sorted(seen)
    for a in dirs:
        for b in dirs:
            if a != b and (a == "" or b.startswith(a + "/")):
                blockers.append(
                    Blocker(BlockerKind.NESTED_COPIES, f"copies land inside each other ({a or '/'} and {b}); mounts would hide files")
                )
    specs: list[MountSpec] = []
    base = consumer.mount_path
    sub = consumer.sub_path
    for vol_dir, (image_dir, volume) in sorted(seen.items()):
        image_rel = _clean_rel(image_dir)
        if not sub or sub == vol_dir or vol_dir.startswith(sub + "/"):
            rel = vol_dir[len(sub) :].strip("/") if sub else vol_dir
            specs.append(MountSpec(volume, posixpath.join(base, rel) if rel else base, image_rel))
        elif vol_dir in file_only and (vol_dir == "" or sub.startswith(vol_dir + "/")):
            # No copy made that directory: before, the kubelet created it empty; a mount shows
            # the image's directory of that name (other files), or fails when it has none.
            blockers.append(
                Blocker(
                    BlockerKind.UNFILLED_PART,
                    f"'{consumer.name}' mounts subPath {sub} of '{consumer.mount.get('name')}', a directory no copy makes "
                    f"(only single files land in {'/' + vol_dir if vol_dir else 'the volume root'}): it was empty in the emptyDir, "
                    "and an image-volume mount can't show an empty directory",
                )
            )
        elif vol_dir == "" or sub.startswith(vol_dir + "/"):
            inner = sub[len(vol_dir) :].strip("/")
            specs.append(MountSpec(volume, base, posixpath.join(image_rel, inner) if image_rel else inner))
            if assumptions is not None:
                # The kubelet creates a missing subPath directory in an emptyDir; an image
                # volume's subPath must exist in the image.
                assumptions.append(
                    f"'{consumer.name}' mounts subPath {sub} of '{flow_name_of(flows)}', inside the copied {image_dir}: "
                    f"this assumes {posixpath.join(image_dir, inner)} exists in the image (the kubelet created it empty in the emptyDir)"
                )
    if not specs and not blockers:
        blockers.append(
            Blocker(
                BlockerKind.UNFILLED_PART, f"'{consumer.name}' mounts a part of '{consumer.mount.get('name')}' that the copy doesn't fill"
            )
        )
    for spec in specs:
        if spec.mount_path == "/":
            blockers.append(Blocker(BlockerKind.MOUNT_AT_ROOT, "the volume would be mounted at /, which fails for image volumes"))
        if spec.mount_path != base:
            notes.append(
                Note(
                    NoteKind.PARTIAL_VIEW,
                    f"'{consumer.name}' now sees {spec.mount_path} from the image volume; the rest of {base} comes from its own image",
                )
            )
    return specs, blockers, _unique(notes)


def flow_name_of(flows: list[VolumeFlow]) -> str:
    return flows[0].name if flows else ""


def _unique(items: list[Note]) -> list[Note]:
    return list(dict.fromkeys(items))
