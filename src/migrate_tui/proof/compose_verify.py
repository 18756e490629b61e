"""Prove a composed image (DF002 compose mode) shows the program the same files: directory ``X``
of the old image against image volume ``B`` mounted at ``X`` over the new image.

``verify`` proper models init-container copies; here nothing is copied. A program opens
``X/name`` and the kernel follows symlinks in *its* filesystem: in the old image
``/etc/ssl/certs/ACCV.pem`` is a link to ``/usr/share/ca-certificates/…``, in the volume it may
be the file itself. So each side is the container's view (image tree, volumes grafted at their
mount paths), every entry below ``X`` is resolved as the program would, and the final files are
compared by type, size and content digest; modes and owners are reported apart, link
spellings are not differences.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Callable

from migrate_tui.oci.tree import Comparison, Node, Tree, compare, graft, resolve

TreeLoader = Callable[[str], Tree]


@dataclass(frozen=True)
class MountedDirResult:
    directory: str  # "/etc/ssl/certs"
    volume: str  # the image mounted there after
    comparison: Comparison


def container_view(image: Tree, volumes: dict[str, Tree]) -> Tree:
    """The container's filesystem: the image with each volume tree mounted at its path."""
    view = dict(image)
    for mount_path, branch in sorted(volumes.items()):
        graft(view, mount_path, branch or {"": Node("dir", 0o755, 0, 0)})
    return view


def resolved_listing(view: Tree, directory: str) -> Tree:
    """What a program sees below ``directory``: path → the node it ends at (links followed);
    a dangling or looping link shows as kind "missing"."""
    try:
        base = resolve(view, directory.strip("/"))
    except ValueError:
        return {}
    root = view.get(base)
    if root is None or root.kind != "dir":
        return {}
    prefix = base + "/" if base else ""
    out: Tree = {"": Node("dir", root.mode, root.uid, root.gid)}
    for path in view:
        if not path.startswith(prefix) or path == base:
            continue
        rel = path[len(prefix) :]
        try:
            final = view.get(resolve(view, path))
        except ValueError:
            final = None
        if final is None or final.kind in ("symlink", "hardlink"):
            out[rel] = Node("missing", 0, 0, 0)
        elif final.kind == "dir":
            out[rel] = Node("dir", final.mode, final.uid, final.gid)
        else:
            out[rel] = Node(final.kind, final.mode, final.uid, final.gid, final.size, final.digest)
    return out


def compare_mounted(before_image: Tree, after_image: Tree, volumes: dict[str, Tree]) -> dict[str, Comparison]:
    """For each mount path: the old image's directory against the volume seen there."""
    after = container_view(after_image, volumes)
    return {mount: compare(resolved_listing(before_image, mount), resolved_listing(after, mount)) for mount in sorted(volumes)}


def verify_mounted(before: str, after: str, mounts: list[tuple[str, str]], load: TreeLoader) -> list[MountedDirResult]:
    """``before``/``after``: the old and the new app image; ``mounts``: (mount path, volume image)."""
    volumes = {_absolute(path): load(image) for path, image in mounts}
    references = {_absolute(path): image for path, image in mounts}
    results = compare_mounted(load(before), load(after), volumes)
    return [MountedDirResult(path, references[path], c) for path, c in results.items()]


def _absolute(path: str) -> str:
    return "/" + posixpath.normpath("/" + path).strip("/")
