"""Reading and writing OCI image layouts (``oci-layout``, ``index.json``, ``blobs/sha256/…``).

Writing is reproducible: sorted tar entries, mtime 0, uid/gid 0 unless asked, gzip with no
name and mtime 0 at a fixed level, fixed ``created`` dates — the same input gives the same digest.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
import json
import os
import posixpath
import queue
import stat
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Mapping, NotRequired, Protocol, Sequence, TypedDict

from migrate_tui.oci.stream import MAX_CONFIG, BlobError, Readable, VerifiedReader, printable

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
EPOCH = "1970-01-01T00:00:00Z"
REF_NAME = "org.opencontainers.image.ref.name"


class LayoutError(Exception):
    """A layout that can't be read or written; the message names the file."""


class DescriptorJson(TypedDict):
    """A descriptor as we write it (what we read is checked by ``Descriptor.from_json``)."""

    mediaType: str
    digest: str
    size: int
    platform: NotRequired[dict[str, Any]]
    annotations: NotRequired[dict[str, str]]


class _RootFs(TypedDict):
    type: str
    diff_ids: list[str]


class _History(TypedDict):
    created: str
    created_by: str


class _ImageConfig(TypedDict):
    """The image config ``write_image`` writes (OCI image-spec config.md)."""

    architecture: str
    os: str
    created: str
    config: dict[str, dict[str, str]]  # {"Labels": {...}}, or {}
    rootfs: _RootFs
    history: list[_History]


class _ImageManifest(TypedDict):
    """The manifest ``write_image`` writes (OCI image-spec manifest.md)."""

    schemaVersion: int
    mediaType: str
    config: DescriptorJson
    layers: list[DescriptorJson]
    annotations: NotRequired[dict[str, str]]


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    platform: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    def to_json(self) -> DescriptorJson:
        out: DescriptorJson = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = self.annotations
        return out

    @classmethod
    def from_json(cls, data: object) -> Descriptor:
        """A descriptor from JSON read from outside (``index.json``): its shape checked."""
        if not isinstance(data, dict):
            raise LayoutError("a descriptor is not a JSON object")
        annotations = data.get("annotations") or {}
        if not isinstance(annotations, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()):
            raise LayoutError(f"the descriptor of {printable(data.get('digest'), 80)} has annotations that are not strings")
        media_type, digest, size = data.get("mediaType"), data.get("digest"), data.get("size")
        if not isinstance(media_type, str) or not isinstance(digest, str) or type(size) is not int or size < 0:
            raise LayoutError(f"the descriptor of {printable(digest, 80)} has no mediaType, digest or size of the right type")
        return cls(media_type, digest, size, dict(annotations), data.get("platform"))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(data: Mapping[str, object]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class FileEntry:
    """One entry of a layer: ``path`` is relative (no leading slash).

    A file's body is ``data``, or, for big files, ``opener`` (a stream of exactly ``size``
    bytes, opened only while the layer is written): a build never holds file bodies in memory.
    """

    path: str
    kind: str  # "file" | "dir" | "symlink"
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    linkname: str = ""
    opener: Callable[[], Readable] | None = field(default=None, compare=False)
    size: int | None = None  # the body's length when ``opener`` gives it


class BodyChanged(Exception):
    """A file's body was not the size it had when it was listed (it changed during the build)."""


GZIP_LEVEL = 6  # make_layer's level (the test images' digests depend on it)
BUILD_GZIP_LEVEL = 1  # build's default: as fast as ``gzip -1``, 2.5 % bigger and 2.6x faster than level 6 (benchmarks/build.py)
ZSTD_LEVEL = 3
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
COPY_BUFFER = 1 << 20


def _sorted_entries(entries: Iterable[FileEntry]) -> list[FileEntry]:
    """``entries`` with every parent directory, sorted by path (the last entry for a path wins)."""
    by_path: dict[str, FileEntry] = {}
    for entry in entries:
        path = entry.path.strip("/")
        by_path[path] = entry
        # walk up only until a known parent: linear in the tree, not in depth x entries
        parent = posixpath.dirname(path)
        while parent and parent not in by_path:
            by_path[parent] = FileEntry(parent, "dir", mode=0o755)
            parent = posixpath.dirname(parent)
    return [by_path[path] for path in sorted(by_path)]


class _Exactly(io.RawIOBase):
    """``size`` bytes of ``raw``; a body that ends early or goes on is a ``BodyChanged``."""

    def __init__(self, raw: Readable, size: int, path: str) -> None:
        super().__init__()
        self.raw, self.left, self.path = raw, size, path

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        want = self.left if n is None or n < 0 else min(n, self.left)
        data = self.raw.read(want) if want else b""
        while len(data) < want:  # a short read is not the end; an empty one is
            more = self.raw.read(want - len(data))
            if not more:
                raise BodyChanged(f"{self.path} became shorter while the layer was written")
            data += more
        self.left -= len(data)
        if not self.left and self.raw.read(1):
            raise BodyChanged(f"{self.path} became longer while the layer was written")
        return data


class Sink(Protocol):
    """Where a tar is written: ``BytesIO``, a file, or ``_Pipeline``."""

    def write(self, data: bytes, /) -> object: ...

    def tell(self) -> int: ...


def write_tar(entries: Iterable[FileEntry], out: Sink) -> None:
    """The uncompressed tar of ``entries`` (sorted, with parents, mtime 0), written to ``out`` as it goes."""
    # what tarfile.open(mode="w", ...) does, with copybufsize, which typeshed's open() overloads leave out;
    # writing, tarfile calls only write() and tell() (typeshed's _Fileobj also asks for read, seek and close)
    with tarfile.TarFile(fileobj=out, mode="w", format=tarfile.PAX_FORMAT, copybufsize=COPY_BUFFER) as tar:  # type: ignore[arg-type]
        for entry in _sorted_entries(entries):
            path = entry.path.strip("/")
            info = tarfile.TarInfo(path + ("/" if entry.kind == "dir" else ""))
            info.mtime = 0
            info.uid, info.gid = entry.uid, entry.gid
            info.uname = info.gname = ""
            info.mode = entry.mode
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.linkname
                tar.addfile(info)
            elif entry.opener is not None:
                info.size = int(entry.size or 0)
                with contextlib.closing(entry.opener()) as body:
                    tar.addfile(info, _Exactly(body, info.size, "/" + path))
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))


def make_layer(entries: list[FileEntry]) -> tuple[bytes, bytes]:
    """(uncompressed tar, gzip) of ``entries`` with every parent directory, sorted, mtime 0 (in memory: small layers)."""
    raw = io.BytesIO()
    write_tar(entries, raw)
    tar_bytes = raw.getvalue()
    zipped = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=zipped, compresslevel=GZIP_LEVEL, mtime=0) as gz:
        gz.write(tar_bytes)
    return tar_bytes, zipped.getvalue()


@dataclass(frozen=True)
class WrittenLayer:
    """A layer blob already in the layout: its descriptor and ``diff_id`` (sha256 of the tar)."""

    descriptor: Descriptor
    diff_id: str
    tar_size: int
    new: bool = False  # the layout did not hold this blob before


class _Hashing(io.RawIOBase):
    """Writes through to ``out`` and hashes what passes."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self.out, self.hash, self.size = out, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        size = memoryview(data).nbytes
        self.hash.update(data)
        self.size += size
        self.out.write(data)
        return size


class _Compressor(Protocol):
    """``gzip.GzipFile`` or zstandard's ``ZstdCompressionWriter``, writing into ``_Hashing``."""

    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


class _Pipeline(io.RawIOBase):
    """Where ``tarfile`` writes: the tar is hashed here (``diff_id``) and handed in 1 MiB chunks to a
    thread that compresses, hashes and writes the blob (zlib, zstd and sha256 release the GIL, so
    reading files and compressing overlap on two cores). At most ``DEPTH`` chunks wait: constant memory."""

    DEPTH = 4

    def __init__(self, out: BinaryIO, compression: str, level: int) -> None:
        super().__init__()
        self.diff = hashlib.sha256()
        self.tar_size = 0
        self.blob = _Hashing(out)
        self._pending = bytearray()
        self._queue: queue.Queue[bytes | None] = queue.Queue(self.DEPTH)
        self._error: BaseException | None = None
        if compression == "zstd":
            import zstandard  # optional: pip install 'migrate-tui[zstd]'

            # the stub asks for IO[bytes]; the writer calls only write() and flush(), which _Hashing has
            self._compressor: _Compressor = zstandard.ZstdCompressor(level=level).stream_writer(self.blob, closefd=False)  # type: ignore[arg-type]
        elif compression == "gzip":
            self._compressor = gzip.GzipFile(filename="", mode="wb", fileobj=self.blob, compresslevel=level, mtime=0)
        else:
            raise ValueError(f"unknown compression {compression!r} (gzip or zstd)")
        self._thread = threading.Thread(target=self._run, name="layer-compress", daemon=True)
        self._thread.start()

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.tar_size

    def write(self, data: ReadableBuffer) -> int:
        if self._error is not None:
            raise self._error
        size = memoryview(data).nbytes
        self.diff.update(data)
        self.tar_size += size
        if not self._pending and size >= COPY_BUFFER:
            self._queue.put(bytes(data))
        else:
            self._pending += data
            if len(self._pending) >= COPY_BUFFER:
                self._queue.put(bytes(self._pending))
                self._pending.clear()
        return size

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._compressor.write(chunk)
                except BaseException as exc:  # noqa: BLE001 - handed to the writing thread
                    self._error = exc

    def finish(self) -> None:
        if self._pending:
            self._queue.put(bytes(self._pending))
            self._pending.clear()
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._compressor.close()

    def abort(self) -> None:
        self._error = self._error or RuntimeError("aborted")
        self._queue.put(None)
        self._thread.join()


def write_layer(layout: "Layout", entries: Iterable[FileEntry], *, compression: str = "gzip", level: int | None = None) -> WrittenLayer:
    """Stream ``entries`` as a layer into ``layout``: tar, compression and both sha256 in one pass,
    into a temporary file beside the blobs, renamed to its digest at the end. Constant memory."""
    if level is None:
        level = ZSTD_LEVEL if compression == "zstd" else BUILD_GZIP_LEVEL
    directory = layout.path / "blobs" / "sha256"
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".layer-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            pipeline = _Pipeline(out, compression, level)
            try:
                write_tar(entries, pipeline)
                pipeline.finish()
            except BaseException:
                pipeline.abort()
                raise
        digest = "sha256:" + pipeline.blob.hash.hexdigest()
        target = layout.blob_path(digest)
        new = not target.exists()
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    media_type = OCI_LAYER_ZSTD if compression == "zstd" else OCI_LAYER_GZIP
    return WrittenLayer(Descriptor(media_type, digest, pipeline.blob.size), "sha256:" + pipeline.diff.hexdigest(), pipeline.tar_size, new)


class Layout:
    """An OCI image layout directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def blob_path(self, digest: str) -> Path:
        algo, _, hexdigest = digest.partition(":")
        if algo != "sha256" or len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
            raise LayoutError(f"unsupported digest {digest!r}")
        return self.path / "blobs" / algo / hexdigest

    def open_blob(self, digest: str, size: int | None = None, *, limit: int = MAX_CONFIG, what: str = "blob") -> VerifiedReader:
        """A verified stream of the blob: a regular file (never a symlink, FIFO or device) whose
        length and sha256 must match ``size`` and ``digest``."""
        self.blob_path(digest)  # validates the digest's form
        hexdigest = digest.partition(":")[2]
        fds: list[int] = []
        try:
            fds.append(os.open(self.path, os.O_RDONLY | os.O_DIRECTORY))
            for part in ("blobs", "sha256"):
                fds.append(os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
            fd = os.open(hexdigest, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fds[-1])
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise LayoutError(f"{self.path}: blob {digest} (or its directory) is a symbolic link; refused") from None
            raise LayoutError(f"{self.path}: missing blob {digest}: {exc.strerror}") from None
        finally:
            for opened in fds:
                os.close(opened)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise LayoutError(f"{self.path}: blob {digest} is not a regular file; refused")
        os.set_blocking(fd, True)
        return VerifiedReader(os.fdopen(fd, "rb"), digest, size, limit=limit, what=f"{self.path}: {what}")

    def read_blob(self, digest: str, size: int | None = None, *, limit: int = MAX_CONFIG) -> bytes:
        with self.open_blob(digest, size, limit=limit) as reader:
            try:
                data = reader.read()
            except BlobError as exc:
                raise LayoutError(str(exc)) from None
        return data

    def write_blob(self, data: bytes) -> str:
        digest = sha256(data)
        target = self.blob_path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return digest

    def index(self) -> dict[str, Any]:
        try:
            index = json.loads((self.path / "index.json").read_text())
        except (OSError, ValueError) as exc:
            raise LayoutError(f"{self.path}: not an OCI image layout (index.json: {exc})") from None
        if not isinstance(index, dict):
            raise LayoutError(f"{self.path}: not an OCI image layout (index.json: not a JSON object)")
        return index

    def manifests(self) -> list[Descriptor]:
        return [Descriptor.from_json(m) for m in self.index().get("manifests", [])]

    def find(self, tag: str | None) -> Descriptor:
        manifests = self.manifests()
        if tag is None:
            if len(manifests) == 1:
                return manifests[0]
            raise LayoutError(f"{self.path}: holds {len(manifests)} images; name one with :TAG")
        for desc in manifests:
            name = desc.annotations.get(REF_NAME, "")
            if name == tag or name.rsplit(":", 1)[-1] == tag:
                return desc
        raise LayoutError(f"{self.path}: no image tagged {tag!r}")

    def init(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.path / "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}))
        if not (self.path / "index.json").exists():
            _write_atomically(self.path / "index.json", json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}))

    def add_manifest(self, desc: Descriptor, tag: str) -> None:
        index = self.index()
        listed = index.get("manifests", [])
        if not isinstance(listed, list):
            raise LayoutError(f"{self.path}: index.json: 'manifests' is not a list")
        for entry in listed:
            Descriptor.from_json(entry)  # its shape checked: a one-line error, and the index left as it is
        kept = [m for m in listed if (m.get("annotations") or {}).get(REF_NAME) != tag]
        added = Descriptor(desc.media_type, desc.digest, desc.size, {REF_NAME: tag}).to_json()
        index["manifests"] = kept + [added]
        _write_atomically(self.path / "index.json", json.dumps(index, indent=2))


def _write_atomically(target: Path, text: str) -> None:
    """``text`` written to a temporary file beside ``target``, then renamed over it."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def write_image(
    layout: Layout,
    layers: Sequence[tuple[bytes, bytes] | WrittenLayer],
    *,
    tag: str,
    labels: dict[str, str] | None = None,
    architecture: str = "amd64",
    os_name: str = "linux",
    history: list[str] | None = None,
) -> Descriptor:
    """Write a single-platform image of ``layers`` ((tar, gzip) pairs, or layers ``write_layer``
    already streamed into the layout) and tag it in the layout."""
    layout.init()
    layer_descs = []
    diff_ids = []
    for layer in layers:
        if isinstance(layer, WrittenLayer):
            layer_descs.append(layer.descriptor)
            diff_ids.append(layer.diff_id)
            continue
        tar_bytes, gz_bytes = layer
        digest = layout.write_blob(gz_bytes)
        layer_descs.append(Descriptor(OCI_LAYER_GZIP, digest, len(gz_bytes)))
        diff_ids.append(sha256(tar_bytes))
    config: _ImageConfig = {
        "architecture": architecture,
        "os": os_name,
        "created": EPOCH,
        "config": {"Labels": dict(sorted((labels or {}).items()))} if labels else {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        # umoci needs `created` on every history entry
        "history": [{"created": EPOCH, "created_by": h} for h in (history or ["migrate-tui build"] * len(layers))],
    }
    config_bytes = canonical_json(config)
    config_desc = Descriptor(OCI_CONFIG, layout.write_blob(config_bytes), len(config_bytes))
    manifest: _ImageManifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_desc.to_json(),
        "layers": [d.to_json() for d in layer_descs],
    }
    if labels:
        manifest["annotations"] = {k: v for k, v in sorted(labels.items()) if k.startswith("org.opencontainers.")}
        if not manifest["annotations"]:
            del manifest["annotations"]
    manifest_bytes = canonical_json(manifest)
    desc = Descriptor(OCI_MANIFEST, layout.write_blob(manifest_bytes), len(manifest_bytes))
    layout.add_manifest(desc, tag)
    return desc
