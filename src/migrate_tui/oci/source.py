"""Where an image comes from: an OCI layout (``oci:DIR[:TAG]``), a ``docker save`` archive
(``docker-archive:FILE``), or a registry (``docker://REF`` or a bare reference)."""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core.imageref import parse_image_ref
from .layout import OCI_INDEX, Layout, LayoutError
from .registry import Registry, RegistryError

INDEX_TYPES = (OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json")


class SourceError(Exception):
    """An image that can't be opened; one line for the user."""


@dataclass
class Image:
    name: str
    manifest: dict
    config: dict
    fetch: Callable[[str], bytes]  # digest -> blob bytes

    @property
    def layer_digests(self) -> list[str]:
        return [layer["digest"] for layer in self.manifest.get("layers", [])]

    def layers(self) -> list[bytes]:
        return [self.fetch(d) for d in self.layer_digests]


def _pick_platform(index: dict, platform: str) -> str:
    os_name, _, arch = platform.partition("/")
    for entry in index.get("manifests", []):
        p = entry.get("platform") or {}
        if p.get("os") == os_name and p.get("architecture") == arch:
            return entry["digest"]
    raise SourceError(f"the image index has no {platform} manifest")


def open_image(spec: str, *, platform: str = "linux/amd64", insecure: tuple[str, ...] = ()) -> Image:
    try:
        if spec.startswith("oci:"):
            return _open_layout(spec[4:], platform)
        if spec.startswith("docker-archive:"):
            return _open_archive(Path(spec[len("docker-archive:"):]))
        return _open_registry(spec.removeprefix("docker://"), platform, insecure)
    except (LayoutError, RegistryError, OSError, ValueError, KeyError, tarfile.TarError) as exc:
        raise SourceError(f"{spec}: {exc}") from None


def _open_layout(rest: str, platform: str) -> Image:
    path, sep, tag = rest.rpartition(":")
    if not sep or "/" in tag:
        path, tag = rest, ""
    layout = Layout(Path(path))
    desc = layout.find(tag or None)
    body = json.loads(layout.read_blob(desc.digest))
    if body.get("mediaType") in INDEX_TYPES or "manifests" in body:
        body = json.loads(layout.read_blob(_pick_platform(body, platform)))
    config = json.loads(layout.read_blob(body["config"]["digest"]))
    return Image(f"oci:{rest}", body, config, layout.read_blob)


def _open_registry(text: str, platform: str, insecure: tuple[str, ...]) -> Image:
    ref = parse_image_ref(text)
    if ref is None:
        raise SourceError(f"'{text}' is not an image reference")
    host = "registry-1.docker.io" if ref.registry == "docker.io" else ref.registry
    registry = Registry(host, insecure=host in insecure)
    body, media_type, digest = registry.get_manifest(ref.repository, ref.digest or ref.effective_tag or "latest")
    manifest = json.loads(body)
    if media_type in INDEX_TYPES or "manifests" in manifest:
        body, _, _ = registry.get_manifest(ref.repository, _pick_platform(manifest, platform))
        manifest = json.loads(body)
    config = json.loads(registry.get_blob(ref.repository, manifest["config"]["digest"]))
    return Image(text, manifest, config, lambda d: registry.get_blob(ref.repository, d))


def _open_archive(path: Path) -> Image:
    with tarfile.open(path) as tar:
        members = {m.name: m for m in tar.getmembers()}
        entries = json.loads(tar.extractfile(members["manifest.json"]).read())  # type: ignore[union-attr]
        entry = entries[0]
        blobs: dict[str, bytes] = {}
        config = json.loads(tar.extractfile(members[entry["Config"]]).read())  # type: ignore[union-attr]
        layers = []
        for name in entry["Layers"]:
            data = tar.extractfile(members[name]).read()  # type: ignore[union-attr]
            from .layout import sha256

            digest = sha256(data)
            blobs[digest] = data
            layers.append({"digest": digest, "mediaType": "application/vnd.docker.image.rootfs.diff.tar"})
    return Image(f"docker-archive:{path}", {"layers": layers}, config, blobs.__getitem__)
