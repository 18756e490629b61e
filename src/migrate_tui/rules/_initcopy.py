"""What an init container leaves in an emptyDir, and how its consumers could see the same
thing through an image volume (DESIGN.md §4). Shared by IV001, IV002 and ``policy``.

Pure functions over plain dicts: no YAML, no I/O.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from ..core.shell import OpKind, ParsedCommand, parse_container_command

_FILE_SUFFIXES = (
    ".jar", ".war", ".bin", ".onnx", ".pt", ".pth", ".safetensors", ".gguf", ".pb", ".h5", ".tflite", ".so", ".json",
    ".yaml", ".yml", ".conf", ".cfg", ".ini", ".txt", ".html", ".js", ".css", ".py", ".sh", ".tar", ".gz", ".tgz",
    ".zip", ".xml", ".properties", ".toml", ".pem", ".crt", ".key", ".rego", ".wasm", ".exe", ".dll",
)


# Commands that rewrite file contents: after a copy they turn it into templating (IV002).
_TEXT_EDITORS = frozenset({"sed", "awk", "gawk", "perl", "envsubst", "yq", "jq", "ed", "ex", "patch"})


@dataclass(frozen=True)
class Placement:
    """One piece of the volume: ``vol_dir`` (relative to the volume root) shows ``image_dir``."""

    vol_dir: str  # "" is the volume root
    image_dir: str  # absolute path in the init image ("/" for the whole image)
    source: str  # the copy source as resolved (a dir, or a file for single-file copies)
    kind: str  # "contents" | "glob" | "entry" | "file"
    text: str  # the shell command, for messages


@dataclass(frozen=True)
class Consumer:
    container: dict
    group: str  # "initContainers" | "containers" | "ephemeralContainers"
    index: int
    mount_index: int
    mount: dict

    @property
    def name(self) -> str:
        return str(self.container.get("name", f"{self.group}[{self.index}]"))

    @property
    def mount_path(self) -> str:
        return posixpath.normpath(str(self.mount.get("mountPath", "/")))

    @property
    def sub_path(self) -> str:
        return _clean_rel(str(self.mount.get("subPath", "") or ""))

    @property
    def read_only(self) -> bool:
        return self.mount.get("readOnly") is True


@dataclass
class VolumeFlow:
    """The analysis of init container ``init`` writing emptyDir ``volume``."""

    init: dict
    init_index: int
    volume: dict
    volume_index: int
    mount: dict  # the init container's mount of the volume
    parsed: ParsedCommand
    placements: list[Placement] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)  # reasons the copy is not equivalent as-is
    unsafe: list[str] = field(default_factory=list)  # assumptions under which it is
    notes: list[str] = field(default_factory=list)
    fills: list[str] = field(default_factory=list)  # IV002: download / templating / opaque reasons
    foreign_sources: list[str] = field(default_factory=list)  # copies from configMaps, secrets...
    post_copy_modes: list[str] = field(default_factory=list)  # chmod/chown commands (scratch mode can carry them)

    @property
    def name(self) -> str:
        return str(self.volume.get("name"))

    @property
    def dest_root(self) -> str:
        return posixpath.normpath(str(self.mount.get("mountPath", "/")))

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


def _clean_rel(path: str) -> str:
    path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
    return "" if path == "." else path


def _under(path: str, root: str) -> bool:
    return path == root or root == "/" or path.startswith(root.rstrip("/") + "/")


def _rel(path: str, root: str) -> str:
    if path == root:
        return ""
    return _clean_rel(path[len(root.rstrip("/")) :])


def _containers(spec: dict) -> list[tuple[str, int, dict]]:
    out = []
    for group in ("initContainers", "containers", "ephemeralContainers"):
        items = spec.get(group)
        if isinstance(items, list):
            out += [(group, i, c) for i, c in enumerate(items) if isinstance(c, dict)]
    return out


def _mounts(container: dict) -> list[dict]:
    mounts = container.get("volumeMounts")
    return [m for m in mounts if isinstance(m, dict)] if isinstance(mounts, list) else []


def literal_env(container: dict) -> dict[str, str]:
    env = container.get("env")
    out: dict[str, str] = {}
    if isinstance(env, list):
        for item in env:
            if isinstance(item, dict) and "value" in item and isinstance(item.get("name"), str):
                out[item["name"]] = str(item["value"])
    return out


def parse_command(container: dict) -> ParsedCommand:
    command = container.get("command")
    args = container.get("args")
    command = [str(c) for c in command] if isinstance(command, list) else None
    args = [str(a) for a in args] if isinstance(args, list) else None
    working_dir = container.get("workingDir")
    return parse_container_command(command, args, str(working_dir) if working_dir else None, literal_env(container))


def analyse_pod_spec(spec: dict) -> list[VolumeFlow]:
    """Every (init container, emptyDir it mounts and some other container reads) pair."""
    volumes = spec.get("volumes")
    if not isinstance(volumes, list):
        volumes = []
    by_name = {v.get("name"): (i, v) for i, v in enumerate(volumes) if isinstance(v, dict)}
    inits = spec.get("initContainers")
    if not isinstance(inits, list):
        return []
    flows: list[VolumeFlow] = []
    everyone = _containers(spec)
    for init_index, init in enumerate(inits):
        if not isinstance(init, dict) or init.get("restartPolicy") == "Always":
            continue  # a native sidecar runs alongside the app: not a one-shot copy
        parsed: ParsedCommand | None = None
        for mount in _mounts(init):
            entry = by_name.get(mount.get("name"))
            if entry is None or not isinstance(entry[1], dict) or "emptyDir" not in entry[1]:
                continue
            volume_index, volume = entry
            parsed = parsed or parse_command(init)
            flow = VolumeFlow(init, init_index, volume, volume_index, mount, parsed)
            flow.consumers = [
                Consumer(c, group, index, mi, m)
                for group, index, c in everyone
                if not (group == "initContainers" and index <= init_index)
                for mi, m in enumerate(_mounts(c))
                if m.get("name") == flow.name
            ]
            _trace_ops(flow, init, by_name)
            if flow.placements or flow.fills or flow.manual:
                flows.append(flow)
    for flow in flows:
        # Init containers that also just copy into the same volume are co-writers, not readers.
        co_writers = {
            f.init_index for f in flows
            if f is not flow and f.name == flow.name and f.placements and not f.fills and not f.manual
        }
        flow.consumers = [
            c for c in flow.consumers if not (c.group == "initContainers" and c.index in co_writers)
        ]
        _judge_consumers(flow, spec)
        _judge_volume(flow)
    return flows


def _trace_ops(flow: VolumeFlow, init: dict, by_name: dict) -> None:
    parsed = flow.parsed
    if parsed.opaque:
        if parsed.opaque.startswith("no command"):
            flow.fills.append(f"{parsed.opaque}; migrate-tui can't see what it writes into '{flow.name}'")
        else:
            flow.manual.append(f"the command can't be analysed ({parsed.opaque})")
        return
    root = flow.dest_root
    other_mounts = [
        (posixpath.normpath(str(m.get("mountPath", "/"))), m) for m in _mounts(init) if m is not flow.mount
    ]
    existing_dirs = {root}
    for op in parsed.ops:
        if op.kind in (OpKind.HARMLESS, OpKind.WAIT):
            continue
        if op.kind is OpKind.MKDIR:
            existing_dirs.update(op.paths)
            continue
        if op.kind is OpKind.COPY and op.copy is not None:
            copy = op.copy
            if not _under(copy.dest, root) and not _lands_in(copy, root):
                continue  # writes somewhere else (another volume or the init's own filesystem)
            if op.conditional:
                flow.manual.append(f"`{op.text}` only runs when an earlier command fails")
                continue
            for source, form in zip(copy.sources, copy.forms):
                foreign = next((m for p, m in other_mounts if _under(source, p)), None)
                if foreign is not None:
                    vol = by_name.get(foreign.get("name"), (0, {}))[1]
                    kind = next((k for k in ("configMap", "secret", "emptyDir", "persistentVolumeClaim", "hostPath", "projected", "downwardAPI") if k in vol), "volume")
                    flow.foreign_sources.append(f"`{op.text}` copies from the {kind} volume '{foreign.get('name')}', not from the image")
                    continue
                if "$" in source or "$" in copy.dest:
                    flow.manual.append(f"`{op.text}` uses a variable migrate-tui can't resolve")
                    continue
                if form == "pattern":
                    flow.manual.append(f"`{op.text}`: the glob {source} selects files migrate-tui can't list without the image")
                    continue
                if any(f.startswith(("--exclude", "--include", "--chmod", "--chown", "-L", "--dereference", "--filter", "-s", "--symbolic-link", "-l", "--link")) for f in copy.flags):
                    flow.manual.append(f"`{op.text}` filters or transforms while copying")
                    continue
                flow.placements.append(_place(source, form, copy, root, flow.init_sub_path, existing_dirs, op.text))
            continue
        touched = [p for p in op.paths if _under(p, root)]
        if op.kind is OpKind.DOWNLOAD:
            # Even a download elsewhere taints the copies: they may copy what was downloaded.
            flow.fills.append(f"`{op.text}`: {op.reason or 'downloads over the network'}")
            continue
        if op.kind is OpKind.TEMPLATE:
            flow.fills.append(f"`{op.text}`: {op.reason or 'renders a template'}")
            continue
        if op.kind is OpKind.MODIFY and posixpath.basename(op.argv[0] if op.argv else "") in _TEXT_EDITORS:
            if touched or not op.paths:
                flow.fills.append(f"`{op.text}`: edits the copied files in place (templating)")
            continue
        if op.kind is OpKind.MODIFY:
            if op.paths and not touched:
                if any(_under(p, m) for p in op.paths for m, _ in other_mounts):
                    continue  # changes another volume; judged with that volume
                continue  # changes only the init container's own filesystem, which dies with it
            name = op.argv[0] if op.argv else "a command"
            if posixpath.basename(name) in ("chmod", "chown", "chgrp"):
                flow.post_copy_modes.append(op.text)
            flow.manual.append(f"`{op.text}`: {op.reason or f'{name} changes the copied tree'}")
            continue
        flow.manual.append(f"`{op.text}`: {op.reason or 'runs a program migrate-tui cannot see into'}")


def _lands_in(copy, root: str) -> bool:
    """`cp -r /etc/agent /opt` with the volume mounted at /opt/agent: the entry lands on the mount."""
    return any(
        form == "entry" and _under(posixpath.join(copy.dest, posixpath.basename(src)), root)
        for src, form in zip(copy.sources, copy.forms)
    )


def _place(source: str, form: str, copy, root: str, init_sub: str, existing_dirs: set[str], text: str) -> Placement:
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
    return Placement(vol, image_dir, source, kind, text)


def _judge_consumers(flow: VolumeFlow, spec: dict) -> None:
    if not flow.consumers:
        flow.manual.append(
            f"no other container in this object mounts '{flow.name}' (added elsewhere, e.g. by a patch or an operator?); nothing to rewrite here"
        )
        return
    for consumer in flow.consumers:
        if consumer.group == "initContainers":
            later = parse_command(consumer.container)
            writes = [op for op in later.ops if op.kind not in (OpKind.HARMLESS, OpKind.WAIT)]
            if later.opaque or (writes and not consumer.read_only):
                why = later.opaque or writes[0].text
                flow.manual.append(
                    f"init container '{consumer.name}' runs after the copy with '{flow.name}' mounted read-write ({why}); it may change the copied tree"
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
                f"{unpacked[0]} is an archive that servlet containers unpack beside it in the same directory; "
                "a read-only image volume breaks that (deploy it exploded, or keep the copy)"
            )
        executed = _executed_paths(consumer.container)
        for path in executed:
            if _under(path, consumer.mount_path):
                flow.manual.append(
                    f"'{consumer.name}' executes {path} from the volume; some runtimes mount image volumes noexec, "
                    "and a renamed binary can't be expressed as a mount"
                )
                break


def _executed_paths(container: dict) -> list[str]:
    paths: list[str] = []
    parsed = parse_command(container)
    for op in parsed.ops:
        if op.argv and op.argv[0].startswith("/"):
            paths.append(op.argv[0])
    command = container.get("command")
    if isinstance(command, list) and command and str(command[0]).startswith("/"):
        paths.append(str(command[0]))
    for hook in _exec_hooks(container):
        if hook and str(hook[0]).startswith("/"):
            paths.append(str(hook[0]))
        inner = parse_container_command([str(h) for h in hook], None)
        paths += [op.argv[0] for op in inner.ops if op.argv and op.argv[0].startswith("/")]
    return paths


def _exec_hooks(container: dict) -> list[list[Any]]:
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
        flow.notes.append("the emptyDir was in memory (medium: Memory); reads now come from disk and the page cache")
    if not flow.image:
        flow.manual.append("the init container names no image in this file (injected elsewhere?); nothing to reference")


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


def plan_mounts(flows: list[VolumeFlow], consumer: Consumer, names: dict[str, str]) -> tuple[list[MountSpec], list[str], list[str]]:
    """The image-volume mounts that show ``consumer`` what it saw, plus blockers and notes."""
    blockers: list[str] = []
    notes: list[str] = []
    pieces: list[tuple[str, str, str]] = []  # (vol_dir, image_dir, volume name)
    for flow in flows:
        volume = names.get(flow.image or "", flow.name)
        for p in flow.placements:
            if p.kind == "file":
                landing_dir, name = posixpath.split(p.vol_dir)
                if name != posixpath.basename(p.source):
                    blockers.append(
                        f"`{p.text}` renames {p.source} to {name}; a mount can't rename a file (scratch mode can build an image with the new name)"
                    )
                    continue
                image_dir = posixpath.dirname(p.source) or "/"
                pieces.append((landing_dir, image_dir, volume))
                notes.append(
                    f"containerd mounts only directories: {image_dir} is mounted whole, so the files beside {posixpath.basename(p.source)} appear too"
                )
            else:
                pieces.append((p.vol_dir, p.image_dir, volume))
                if p.kind == "glob":
                    notes.append(f"`{p.text}` skipped dot-files through the shell glob; with the mount, dot-files under {p.image_dir} appear too")
    seen: dict[str, tuple[str, str]] = {}
    for vol_dir, image_dir, volume in pieces:
        if vol_dir in seen and seen[vol_dir] != (image_dir, volume):
            blockers.append(
                f"{seen[vol_dir][0]} and {image_dir} are merged into one directory; image-volume mounts can't merge trees (scratch mode can)"
            )
        seen[vol_dir] = (image_dir, volume)
    dirs = sorted(seen)
    for a in dirs:
        for b in dirs:
            if a != b and (a == "" or b.startswith(a + "/")):
                blockers.append(f"copies land inside each other ({a or '/'} and {b}); mounts would hide files")
    specs: list[MountSpec] = []
    base = consumer.mount_path
    sub = consumer.sub_path
    for vol_dir, (image_dir, volume) in sorted(seen.items()):
        image_rel = _clean_rel(image_dir)
        if not sub or sub == vol_dir or vol_dir.startswith(sub + "/"):
            rel = vol_dir[len(sub):].strip("/") if sub else vol_dir
            specs.append(MountSpec(volume, posixpath.join(base, rel) if rel else base, image_rel))
        elif vol_dir == "" or sub.startswith(vol_dir + "/"):
            inner = sub[len(vol_dir):].strip("/")
            specs.append(MountSpec(volume, base, posixpath.join(image_rel, inner) if image_rel else inner))
    if not specs and not blockers:
        blockers.append(f"'{consumer.name}' mounts a part of '{consumer.mount.get('name')}' that the copy doesn't fill")
    for spec in specs:
        if spec.mount_path == "/":
            blockers.append("the volume would be mounted at /, which fails for image volumes")
        if spec.mount_path != base:
            notes.append(
                f"'{consumer.name}' now sees {spec.mount_path} from the image volume; the rest of {base} comes from its own image"
            )
    return specs, blockers, _unique(notes)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
