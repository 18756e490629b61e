"""Filesystem trees of images: layers applied in order with OCI whiteouts, then views of them."""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import posixpath
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from migrate_tui.oci.stream import CHUNK, MAX_METADATA, Limits, RawStream, Readable, VerifiedReader, fill, human_size

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

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
    body: Callable[[], Readable] | None = field(default=None, compare=False)  # a kept body spooled to disk instead


class Spool:
    """File bodies copied out of layers into one unlinked temporary file, read back by offset:
    ``build`` copies from an image without holding what it copies in memory."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.file = tempfile.TemporaryFile(dir=directory)
        self.size = 0

    def append(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.size += len(chunk)

    def opener(self, offset: int, length: int) -> Callable[[], Readable]:
        """Opens the body later; it holds the spool, which lives as long as a node needs it."""
        self.file.flush()
        return functools.partial(self._segment, offset, length)

    def _segment(self, offset: int, length: int) -> _Segment:
        return _Segment(self.file.fileno(), offset, length)

    def close(self) -> None:
        self.file.close()


class _Segment(io.RawIOBase):
    """``length`` bytes of a file descriptor from ``offset`` (``pread``: segments share the file)."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        super().__init__()
        self.fd, self.offset, self.left = fd, offset, length

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        want = self.left if n is None or n < 0 else min(n, self.left)
        data = os.pread(self.fd, want, self.offset) if want else b""
        self.offset += len(data)
        self.left -= len(data)
        return data

    def readinto(self, buffer: WriteableBuffer) -> int:
        return fill(buffer, self.read)


Tree = dict[str, Node]  # normalised relative path ("" is the root) -> node


def _norm(name: str) -> str:
    # normpath, not lstrip("./"): that also strips the dot of a top-level ".hidden" or ".wh.x"
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


class LayerError(ValueError):
    """A layer that can't be applied: a bound exceeded, a sparse entry, a corrupt archive."""


@dataclass(frozen=True)
class Blob:
    """A layer to read: its digest (for messages) and how to open it as a (verified) stream."""

    digest: str
    open: Callable[[], RawStream]


class _Budget:
    """Uncompressed bytes and entries left for the whole image."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bytes = 0
        self.entries = 0
        self.kept = 0

    def spend(self, count: int, layer: str) -> None:
        self.bytes += count
        if self.bytes > self.limits.max_bytes:
            raise LayerError(
                f"layer {layer} expands past {human_size(self.limits.max_bytes)} uncompressed "
                "(the image size limit, --max-image-size); refused"
            )

    def keep(self, count: int, layer: str, spooled: bool = False) -> None:
        self.kept += count
        if self.kept > self.limits.max_kept_bytes:
            where = "spooled to disk" if spooled else "held in memory"
            raise LayerError(
                f"layer {layer}: the files to copy from this image pass {human_size(self.limits.max_kept_bytes)}, "
                f"{where} (the copy limit, --max-copy-size); refused"
            )

    def entry(self, layer: str) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise LayerError(
                f"layer {layer} has more than {self.limits.max_entries} entries in the image "
                "(the entry limit, --max-image-entries); refused"
            )


class _Uncompressed(io.RawIOBase):
    """The decompressed layer as a forward-only stream, every byte charged to the budget.

    Seeking forward reads and discards (``tarfile`` skips file bodies that way); a single read
    larger than ``MAX_METADATA`` can only be ``tarfile`` loading one header record (a PAX or
    GNU long-name block), which is never legitimately that big.
    """

    def __init__(self, source: Readable, budget: _Budget, layer: str) -> None:
        self.source = source
        self.budget = budget
        self.layer = layer
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > MAX_METADATA:
            raise LayerError(f"layer {self.layer} has a tar header record larger than {human_size(MAX_METADATA)}; refused")
        data = self.source.read(n)
        self.budget.spend(len(data), self.layer)
        self.position += len(data)
        return data

    def readinto(self, buffer: WriteableBuffer) -> int:
        return fill(buffer, self.read)

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self.position + offset if whence == 1 else None
        if target is None or target < self.position:
            raise LayerError(f"layer {self.layer}: the archive asks to seek backwards")
        while self.position < target:
            if not self.read(min(CHUNK, target - self.position)):
                break
        return self.position


def _decompressed(stream: RawStream) -> Readable:
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream, CHUNK)
    magic = buffered.peek(4)[:4]
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered, mode="rb")
    if magic == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard
        except ImportError as exc:  # pragma: no cover - optional
            raise LayerError("zstd layers need the zstandard package") from exc
        return zstandard.ZstdDecompressor().stream_reader(buffered)
    return buffered


def apply_layers(
    blobs: Iterable[bytes | Blob],
    *,
    keep_data: bool | Callable[[str], bool] = True,
    limits: Limits | None = None,
    spool: Spool | None = None,
) -> Tree:
    """The filesystem the layers build, applied in order with OCI whiteouts.

    Each layer is streamed (never read whole), its uncompressed size and entry count charged to
    one per-image budget; sparse entries are refused. File bodies are kept (``Node.data``) when
    ``keep_data`` says so for their path, within ``Limits.max_kept_bytes`` (in ``spool``, on disk,
    when one is given: ``Node.body`` then opens them). Near-linear: a child index makes a
    whiteout or an opaque directory cost what it removes, not the size of the tree.
    """
    budget = _Budget(limits or Limits())
    tree: Tree = {"": Node("dir", 0o755, 0, 0)}
    children: dict[str, set[str]] = {"": set()}
    for number, blob in enumerate(blobs, 1):
        if isinstance(blob, (bytes, bytearray)):
            blob = Blob(f"#{number}", functools.partial(io.BytesIO, bytes(blob)))
        with blob.open() as raw:
            try:
                _apply_layer(tree, children, raw, blob.digest, budget, keep_data, spool)
            except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise LayerError(f"layer {blob.digest} is not a readable tar archive: {exc}") from None
            if isinstance(raw, VerifiedReader):
                raw.finish()  # the rest of the blob still has to match its digest
    return tree


def _apply_layer(
    tree: Tree,
    children: dict[str, set[str]],
    raw: RawStream,
    layer: str,
    budget: _Budget,
    keep_data: bool | Callable[[str], bool],
    spool: Spool | None = None,
) -> None:
    added: set[str] = set()
    opaque: list[str] = []
    stream = _Uncompressed(_decompressed(raw), budget, layer)
    with tarfile.open(fileobj=stream, mode="r:") as tar:
        while (member := tar.next()) is not None:
            # tarfile keeps every header otherwise; `members` is a documented-by-source attribute typeshed omits
            tar.members.clear()  # type: ignore[attr-defined]
            budget.entry(layer)
            if member.issparse() or member.type == tarfile.GNUTYPE_SPARSE:
                raise LayerError(f"layer {layer}: {member.name!r} is a sparse file; refused")
            name = _norm(member.name)
            base = posixpath.basename(name)
            if base == OPAQUE:
                opaque.append(_norm(posixpath.dirname(name)))
                continue
            if base.startswith(WHITEOUT):
                _remove(tree, children, posixpath.join(posixpath.dirname(name), base[len(WHITEOUT) :]))
                continue
            if name in tree and tree[name].kind == "dir" and not member.isdir():
                _remove(tree, children, name)
            if name:
                keep = keep_data if isinstance(keep_data, bool) else keep_data(name)
                _add(tree, children, name, _node(tar, member, keep, budget, layer, spool))
                added.add(name)
            else:
                tree[""] = _node(tar, member, False, budget, layer)
    for directory in opaque:
        _clear_lower(tree, children, directory, added)


def _add(tree: Tree, children: dict[str, set[str]], name: str, node: Node) -> None:
    """Set ``name`` and link it (and any missing parent directory) into the child index."""
    tree[name] = node
    if node.kind == "dir":
        children.setdefault(name, set())
    child = name
    while child:
        parent = posixpath.dirname(child)
        siblings = children.setdefault(parent, set())
        if child in siblings:
            break  # linked before, and so are its ancestors
        siblings.add(child)
        if parent in tree:
            break
        tree[parent] = Node("dir", 0o755, 0, 0)
        child = parent


def _remove(tree: Tree, children: dict[str, set[str]], name: str) -> None:
    """Delete ``name`` and everything below it: the cost is what is removed."""
    if not name or name not in tree:
        return
    children.get(posixpath.dirname(name), set()).discard(name)
    stack = [name]
    while stack:
        path = stack.pop()
        tree.pop(path, None)
        stack.extend(children.pop(path, ()))


def _clear_lower(tree: Tree, children: dict[str, set[str]], directory: str, added: set[str]) -> None:
    """An opaque whiteout: what lower layers put below ``directory`` goes; this layer's entries stay."""
    if directory not in tree:
        return
    prefix = directory + "/" if directory else ""
    keep: set[str] = set()
    for path in added:
        if path.startswith(prefix) and path != directory:
            while path != directory and path not in keep:
                keep.add(path)
                path = posixpath.dirname(path)
    stack = [directory]
    while stack:
        current = stack.pop()
        for child in list(children.get(current, ())):
            if child in keep:
                stack.append(child)
            else:
                _remove(tree, children, child)


def _node(tar: tarfile.TarFile, member: tarfile.TarInfo, keep_data: bool, budget: _Budget, layer: str, spool: Spool | None = None) -> Node:
    mode = member.mode & 0o7777
    if member.isdir():
        return Node("dir", mode, member.uid, member.gid)
    if member.issym():
        return Node("symlink", mode, member.uid, member.gid, linkname=member.linkname)
    if member.islnk():
        return Node("hardlink", mode, member.uid, member.gid, linkname=_norm(member.linkname))
    if member.isfile():
        handle = tar.extractfile(member)
        digest = hashlib.sha256()
        kept: list[bytes] = []
        size = 0
        start = spool.size if spool is not None else 0
        while handle is not None and (chunk := handle.read(CHUNK)):
            digest.update(chunk)
            size += len(chunk)
            if keep_data:
                budget.keep(len(chunk), layer, spooled=spool is not None)
                if spool is not None:
                    spool.append(chunk)
                else:
                    kept.append(chunk)
        if keep_data and spool is not None:
            return Node("file", mode, member.uid, member.gid, size, "sha256:" + digest.hexdigest(), body=spool.opener(start, size))
        return Node("file", mode, member.uid, member.gid, size, "sha256:" + digest.hexdigest(), data=b"".join(kept) if keep_data else None)
    return Node("other", mode, member.uid, member.gid)


def resolve_hardlinks(tree: Tree) -> Tree:
    out = dict(tree)
    for path, node in tree.items():
        if node.kind == "hardlink" and node.linkname in tree:
            target = tree[node.linkname]
            out[path] = Node(
                target.kind, node.mode, node.uid, node.gid, target.size, target.digest, target.linkname, target.data, target.body
            )
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
        rel = path[len(prefix) :]
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
    same: int = 0  # entries (files, dirs, links) both sides show identically, the root excluded

    @property
    def equal(self) -> bool:
        return not self.missing and not self.different


def compare(before: Tree, after: Tree) -> Comparison:
    missing: list[str] = []
    extra: list[str] = []
    different: list[str] = []
    mode_only: list[str] = []
    same = 0
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
            continue
        if path:
            same += 1
        if (a.mode, a.uid, a.gid) != (b.mode, b.uid, b.gid) and path:
            mode_only.append(path)
    return Comparison(missing, extra, different, mode_only, same)


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
                raise ValueError(
                    f"subPath {path}: /{'/'.join(done + [part])} is a symlink to {node.linkname}, "
                    "which the kubelet resolves on the node, outside the volume"
                )
            done = []
        parts = [p for p in node.linkname.split("/") if p not in ("", ".")] + parts
    return "/".join(done)
