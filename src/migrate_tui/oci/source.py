"""Where an image comes from: an OCI layout (``oci:DIR[:TAG]``), a ``docker save`` archive
(``docker-archive:FILE``), or a registry (``docker://REF`` or a bare reference)."""

from __future__ import annotations

import functools
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable

from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.oci.layout import OCI_INDEX, Layout, LayoutError
from migrate_tui.oci.registry import Registry, RegistryError
from migrate_tui.oci.stream import MAX_CONFIG, MAX_MANIFEST, BlobError, Limits, RawStream, check_digest, fill
from migrate_tui.oci.tree import Blob, LayerError, Spool, Tree, apply_layers

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Json = dict[str, Any]  # a manifest, an index, a config or a descriptor: JSON from outside, its shape checked here

INDEX_TYPES = (OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json")


class SourceError(Exception):
    """An image that can't be opened; one line for the user."""


@dataclass
class Image:
    name: str
    manifest: Json
    config: Json
    open_layer: Callable[[Json], RawStream]  # layer descriptor -> a stream checked against its digest and size

    @property
    def layer_digests(self) -> list[str]:
        return [layer["digest"] for layer in self.manifest.get("layers", [])]

    def layers(self) -> list[Blob]:
        """The layers as streams to open in turn (never read whole into memory)."""
        return [Blob(layer["digest"], functools.partial(self.open_layer, layer)) for layer in self.manifest.get("layers", [])]


def _pick_platform(index: Json, platform: str) -> Json:
    os_name, _, arch = platform.partition("/")
    entry: Json  # parse_manifest checked every entry is a descriptor object
    for entry in index.get("manifests", []):
        p = entry.get("platform") or {}
        if p.get("os") == os_name and p.get("architecture") == arch:
            return entry
    raise SourceError(f"the image index has no {platform} manifest")


def _descriptor(value: object, where: str) -> Json:
    if not isinstance(value, dict):
        raise SourceError(f"{where} is not a descriptor object")
    try:
        check_digest(value.get("digest"))
    except BlobError as exc:
        raise SourceError(f"{where}: {exc}") from None
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise SourceError(f"{where} has no valid size")
    return value


def _json_type(value: object) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")


def parse_manifest(body: bytes, where: str) -> Json:
    """A manifest or index as JSON, its shape checked: anything else is a one-line error."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SourceError(f"{where} is not JSON") from None
    if not isinstance(data, dict):
        raise SourceError(f"{where} is a JSON {_json_type(data)}, not an object")
    if data.get("mediaType") in INDEX_TYPES or "manifests" in data:
        entries = data.get("manifests")
        if not isinstance(entries, list):
            raise SourceError(f"{where} is an image index without a list of manifests")
        for number, entry in enumerate(entries):
            _descriptor(entry, f"{where}: manifests[{number}]")
            if entry.get("platform") is not None and not isinstance(entry["platform"], dict):
                raise SourceError(f"{where}: manifests[{number}].platform is not an object")
        return data
    _descriptor(data.get("config"), f"{where}: config")
    layers = data.get("layers", [])
    if not isinstance(layers, list):
        raise SourceError(f"{where}: layers is not a list")
    for number, layer in enumerate(layers):
        _descriptor(layer, f"{where}: layers[{number}]")
    return data


def _parse_config(body: bytes, where: str) -> Json:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SourceError(f"{where} is not JSON") from None
    if not isinstance(data, dict):
        raise SourceError(f"{where} is a JSON {_json_type(data)}, not an object")
    return data


def open_image(spec: str, *, platform: str = "linux/amd64", insecure: tuple[str, ...] = ()) -> Image:
    try:
        if spec.startswith("oci:"):
            return _open_layout(spec[4:], platform)
        if spec.startswith("docker-archive:"):
            return _open_archive(Path(spec[len("docker-archive:") :]))
        return _open_registry(spec.removeprefix("docker://"), platform, insecure)
    except SourceError as exc:
        raise SourceError(f"{spec}: {exc}") from None
    except (LayoutError, RegistryError, OSError, ValueError, KeyError, TypeError, tarfile.TarError) as exc:
        raise SourceError(f"{spec}: {exc}") from None


def open_tree(
    spec: str,
    *,
    platform: str = "linux/amd64",
    insecure: tuple[str, ...] = (),
    limits: Limits | None = None,
    keep_data: bool | Callable[[str], bool] = True,
    spool: Spool | None = None,
) -> Tree:
    """The filesystem of the image ``spec``, every layer streamed, verified and bounded by ``limits``;
    kept file bodies go to ``spool`` (on disk) when one is given, else into memory."""
    image = open_image(spec, platform=platform, insecure=insecure)
    try:
        return apply_layers(image.layers(), keep_data=keep_data, limits=limits, spool=spool)
    except (LayoutError, RegistryError, LayerError, BlobError, OSError, tarfile.TarError) as exc:
        raise SourceError(f"{spec}: {exc}") from None


def _open_layout(rest: str, platform: str) -> Image:
    path, sep, tag = rest.rpartition(":")
    if not sep or "/" in tag:
        path, tag = rest, ""
    layout = Layout(Path(path))
    desc = layout.find(tag or None)
    body = parse_manifest(layout.read_blob(desc.digest, desc.size, limit=MAX_MANIFEST), f"manifest {desc.digest}")
    if body.get("mediaType") in INDEX_TYPES or "manifests" in body:
        entry = _pick_platform(body, platform)
        body = parse_manifest(layout.read_blob(entry["digest"], entry["size"], limit=MAX_MANIFEST), f"manifest {entry['digest']}")
        if "manifests" in body:
            raise SourceError(f"manifest {entry['digest']}: an index inside an index is not supported")
    config_desc = body["config"]
    config = _parse_config(
        layout.read_blob(config_desc["digest"], config_desc["size"], limit=MAX_CONFIG), f"config {config_desc['digest']}"
    )
    return Image(f"oci:{rest}", body, config, lambda d: layout.open_blob(d["digest"], d["size"], limit=d["size"], what="layer"))


def _open_registry(text: str, platform: str, insecure: tuple[str, ...]) -> Image:
    ref = parse_image_ref(text)
    if ref is None:
        raise SourceError(f"'{text}' is not an image reference")
    host = "registry-1.docker.io" if ref.registry == "docker.io" else ref.registry
    registry = Registry(host, insecure=host in insecure)
    body, media_type, digest = registry.get_manifest(ref.repository, ref.digest or ref.effective_tag or "latest")
    manifest = parse_manifest(body, f"manifest {digest}")
    if media_type in INDEX_TYPES or "manifests" in manifest:
        entry = _pick_platform(manifest, platform)
        body, _, _ = registry.get_manifest(ref.repository, entry["digest"], entry["size"])
        manifest = parse_manifest(body, f"manifest {entry['digest']}")
        if "manifests" in manifest:
            raise SourceError(f"manifest {entry['digest']}: an index inside an index is not supported")
    config_desc = manifest["config"]
    config = _parse_config(registry.get_blob(ref.repository, config_desc["digest"], config_desc["size"]), f"config {config_desc['digest']}")
    return Image(text, manifest, config, lambda d: registry.open_blob(ref.repository, d["digest"], d["size"], limit=d["size"]))


MAX_ARCHIVE_MEMBERS = 100_000


def _open_archive(path: Path) -> Image:
    """A ``docker save`` archive: layers are streamed from it, never loaded whole."""
    members: dict[str, tarfile.TarInfo] = {}
    with tarfile.open(path) as tar:
        for count, member in enumerate(tar, 1):
            if count > MAX_ARCHIVE_MEMBERS:
                raise SourceError(f"more than {MAX_ARCHIVE_MEMBERS} members; not a docker save archive")
            if member.issparse():
                raise SourceError(f"{member.name!r} is a sparse file; refused")
            members[member.name] = member
        entries = json.loads(_small_member(tar, members, "manifest.json"))
        if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
            raise SourceError("manifest.json is not a docker save manifest")
        entry = entries[0]
        config = _parse_config(_small_member(tar, members, str(entry.get("Config"))), f"docker-archive:{path}")
        layers: list[Json] = []
        for name in entry.get("Layers") or []:
            layer = members.get(str(name))
            if layer is None or not layer.isfile():
                raise SourceError(f"layer {str(name)[:100]!r} is missing from the archive")
            layers.append({"digest": str(name), "size": layer.size, "mediaType": "application/vnd.docker.image.rootfs.diff.tar"})

    def open_layer(descriptor: Json) -> RawStream:
        archive = tarfile.open(path)
        handle = archive.extractfile(members[descriptor["digest"]])
        if handle is None:
            archive.close()
            raise SourceError(f"layer {descriptor['digest']!r} is not a file in the archive")
        return _ClosingMember(handle, archive)

    return Image(f"docker-archive:{path}", {"layers": layers}, config, open_layer)


class _ClosingMember(io.RawIOBase):
    """A layer inside a ``docker save`` archive: closing it closes the archive too."""

    def __init__(self, handle: IO[bytes], archive: tarfile.TarFile) -> None:
        super().__init__()
        self.handle, self.archive = handle, archive

    def read(self, n: int | None = -1) -> bytes:
        return self.handle.read(-1 if n is None else n)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        return fill(buffer, self.handle.read)

    def close(self) -> None:
        if not self.closed:
            self.handle.close()
            self.archive.close()
        super().close()


def _small_member(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> bytes:
    member = members.get(name)
    if member is None or not member.isfile():
        raise SourceError(f"{name[:100]!r} is missing from the archive")
    if member.size > MAX_CONFIG:
        raise SourceError(f"{name[:100]!r} is larger than {MAX_CONFIG} bytes")
    handle = tar.extractfile(member)
    return handle.read() if handle else b""
