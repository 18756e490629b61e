"""Reading and writing OCI image layouts (``oci-layout``, ``index.json``, ``blobs/sha256/…``).

Writing is reproducible: sorted tar entries, mtime 0, uid/gid 0 unless asked, gzip with no
name and mtime 0 at a fixed level, fixed ``created`` dates — the same input gives the same digest.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from .stream import MAX_CONFIG, BlobError, VerifiedReader

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
EPOCH = "1970-01-01T00:00:00Z"
REF_NAME = "org.opencontainers.image.ref.name"


class LayoutError(Exception):
    """A layout that can't be read or written; the message names the file."""


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict = field(default_factory=dict, hash=False, compare=False)
    platform: dict | None = field(default=None, hash=False, compare=False)

    def to_json(self) -> dict:
        out: dict = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = self.annotations
        return out

    @classmethod
    def from_json(cls, data: dict) -> Descriptor:
        return cls(data["mediaType"], data["digest"], int(data["size"]), dict(data.get("annotations") or {}), data.get("platform"))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class FileEntry:
    """One entry of a layer: ``path`` is relative (no leading slash)."""

    path: str
    kind: str  # "file" | "dir" | "symlink"
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    linkname: str = ""


def make_layer(entries: list[FileEntry]) -> tuple[bytes, bytes]:
    """(uncompressed tar, gzip) of ``entries`` with every parent directory, sorted, mtime 0."""
    by_path: dict[str, FileEntry] = {}
    for entry in entries:
        path = entry.path.strip("/")
        by_path[path] = entry
        # walk up only until a known parent: linear in the tree, not in depth x entries
        parent = posixpath.dirname(path)
        while parent and parent not in by_path:
            by_path[parent] = FileEntry(parent, "dir", mode=0o755)
            parent = posixpath.dirname(parent)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(by_path):
            entry = by_path[path]
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
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    tar_bytes = raw.getvalue()
    zipped = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=zipped, compresslevel=6, mtime=0) as gz:
        gz.write(tar_bytes)
    return tar_bytes, zipped.getvalue()


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

    def index(self) -> dict:
        try:
            return json.loads((self.path / "index.json").read_text())
        except (OSError, ValueError) as exc:
            raise LayoutError(f"{self.path}: not an OCI image layout (index.json: {exc})") from None

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
        (self.path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        if not (self.path / "index.json").exists():
            (self.path / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}))

    def add_manifest(self, desc: Descriptor, tag: str) -> None:
        index = self.index()
        kept = [m for m in index.get("manifests", []) if (m.get("annotations") or {}).get(REF_NAME) != tag]
        entry = Descriptor(desc.media_type, desc.digest, desc.size, {REF_NAME: tag}).to_json()
        index["manifests"] = kept + [entry]
        (self.path / "index.json").write_text(json.dumps(index, indent=2))


def write_image(layout: Layout, layers: list[tuple[bytes, bytes]], *, tag: str, labels: dict[str, str] | None = None,
                architecture: str = "amd64", os_name: str = "linux", history: list[str] | None = None) -> Descriptor:
    """Write a single-platform image of ``layers`` ((tar, gzip) pairs) and tag it in the layout."""
    layout.init()
    layer_descs = []
    diff_ids = []
    for tar_bytes, gz_bytes in layers:
        digest = layout.write_blob(gz_bytes)
        layer_descs.append(Descriptor(OCI_LAYER_GZIP, digest, len(gz_bytes)))
        diff_ids.append(sha256(tar_bytes))
    config = {
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
    manifest = {
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
