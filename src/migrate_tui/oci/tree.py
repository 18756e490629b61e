"""Filesystem trees of images: layers applied in order with OCI whiteouts, then views of them."""

from __future__ import annotations

import gzip
import hashlib
import io
import posixpath
import tarfile
from dataclasses import dataclass

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Node:
    kind: str  # "file" | "dir" | "symlink" | "hardlink" | "other"
    mode: int
    uid: int
    gid: int
    size: int = 0
    digest: str = ""  # sha256 of the content, files only
    linkname: str = ""
    data: bytes | None = None  # kept for files (needed to build images from them)


Tree = dict[str, Node]  # normalised relative path ("" is the root) -> node


def _norm(name: str) -> str:
    # normpath, not lstrip("./"): that also strips the dot of a top-level ".hidden" or ".wh.x"
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


def _open_layer(blob: bytes) -> tarfile.TarFile:
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    elif blob[:4] == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard
        except ImportError as exc:  # pragma: no cover - optional
            raise ValueError("zstd layers need the zstandard package") from exc
        blob = zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    return tarfile.open(fileobj=io.BytesIO(blob), mode="r:")


def apply_layers(blobs: list[bytes], *, keep_data: bool = True) -> Tree:
    tree: Tree = {"": Node("dir", 0o755, 0, 0)}
    for blob in blobs:
        with _open_layer(blob) as tar:
            members = tar.getmembers()
            # opaque whiteouts clear the directory's lower content before this layer's entries
            for member in members:
                base = posixpath.basename(member.name)
                if base == OPAQUE:
                    parent = _norm(posixpath.dirname(member.name))
                    for path in [p for p in tree if p.startswith(parent + "/") or (parent == "" and p)]:
                        del tree[path]
            for member in members:
                name = _norm(member.name)
                base = posixpath.basename(name)
                if base == OPAQUE.rsplit("/", 1)[-1] or base == OPAQUE:
                    continue
                if base.startswith(WHITEOUT):
                    target = posixpath.join(posixpath.dirname(name), base[len(WHITEOUT):])
                    for path in [p for p in tree if p == target or p.startswith(target + "/")]:
                        del tree[path]
                    continue
                if name in tree and tree[name].kind == "dir" and not member.isdir():
                    for path in [p for p in tree if p.startswith(name + "/")]:
                        del tree[path]
                tree[name] = _node(tar, member, keep_data)
                parent = posixpath.dirname(name)
                while parent and parent not in tree:
                    tree[parent] = Node("dir", 0o755, 0, 0)
                    parent = posixpath.dirname(parent)
    return tree


def _node(tar: tarfile.TarFile, member: tarfile.TarInfo, keep_data: bool) -> Node:
    mode = member.mode & 0o7777
    if member.isdir():
        return Node("dir", mode, member.uid, member.gid)
    if member.issym():
        return Node("symlink", mode, member.uid, member.gid, linkname=member.linkname)
    if member.islnk():
        return Node("hardlink", mode, member.uid, member.gid, linkname=_norm(member.linkname))
    if member.isfile():
        handle = tar.extractfile(member)
        data = handle.read() if handle else b""
        return Node("file", mode, member.uid, member.gid, len(data), "sha256:" + hashlib.sha256(data).hexdigest(),
                    data=data if keep_data else None)
    return Node("other", mode, member.uid, member.gid)


def resolve_hardlinks(tree: Tree) -> Tree:
    out = dict(tree)
    for path, node in tree.items():
        if node.kind == "hardlink" and node.linkname in tree:
            target = tree[node.linkname]
            out[path] = Node(target.kind, node.mode, node.uid, node.gid, target.size, target.digest, target.linkname, target.data)
    return out


def subtree(tree: Tree, root: str, *, skip_dotfiles: bool = False) -> Tree:
    """The tree below ``root`` (re-rooted), or {} when it is not a directory."""
    root = _norm(root)
    node = tree.get(root)
    if node is None or node.kind != "dir":
        return {}
    prefix = root + "/" if root else ""
    out: Tree = {"": node}
    for path, child in tree.items():
        if path == root or not path.startswith(prefix):
            continue
        rel = path[len(prefix):]
        if skip_dotfiles and rel.split("/", 1)[0].startswith("."):
            continue
        out[rel] = child
    return out


def graft(base: Tree, at: str, branch: Tree) -> None:
    """Place ``branch`` at ``at`` inside ``base`` (like a mount: what was there is hidden)."""
    at = _norm(at)
    for path in [p for p in base if p and (not at or p == at or p.startswith(at + "/"))]:
        del base[path]
    parent = posixpath.dirname(at)
    while at and parent and parent not in base:
        base[parent] = Node("dir", 0o755, 0, 0)
        parent = posixpath.dirname(parent)
    for rel, node in branch.items():
        base[posixpath.join(at, rel) if rel else at] = node


@dataclass
class Comparison:
    missing: list[str]
    extra: list[str]
    different: list[str]
    mode_only: list[str]

    @property
    def equal(self) -> bool:
        return not self.missing and not self.different


def compare(before: Tree, after: Tree) -> Comparison:
    missing, extra, different, mode_only = [], [], [], []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            missing.append(path)
            continue
        if path not in before:
            extra.append(path)
            continue
        a, b = before[path], after[path]
        if (a.kind, a.size, a.digest, a.linkname) != (b.kind, b.size, b.digest, b.linkname):
            different.append(path)
        elif (a.mode, a.uid, a.gid) != (b.mode, b.uid, b.gid) and path:
            mode_only.append(path)
    return Comparison(missing, extra, different, mode_only)


def resolve(tree: Tree, path: str, *, kubelet: bool = False) -> str:
    """``path`` with the symlinks on its way followed inside ``tree``, relative to its root.

    In the init container (``kubelet=False``) the copy resolves them in the image's root
    filesystem: an absolute link starts again at its root, ``..`` stops there. A ``subPath`` of an
    image volume is resolved by the kubelet on the node (``kubelet=True``): an absolute link or a
    ``..`` that leaves the volume points outside it, and the container does not start.
    """
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if not done and kubelet:
                raise ValueError(f"subPath {path} leaves the volume (..)")
            if done:
                done.pop()
            continue
        node = tree.get("/".join(done + [part]))
        if node is None or node.kind != "symlink":
            done.append(part)
            continue
        hops += 1
        if hops > 40:
            raise ValueError(f"{path}: too many levels of symbolic links")
        if node.linkname.startswith("/"):
            if kubelet:
                raise ValueError(f"subPath {path}: /{'/'.join(done + [part])} is a symlink to {node.linkname}, "
                                 "which the kubelet resolves on the node, outside the volume")
            done = []
        parts = [p for p in node.linkname.split("/") if p not in ("", ".")] + parts
    return "/".join(done)
