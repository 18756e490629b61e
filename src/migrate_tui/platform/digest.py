"""What an image tag points to: its manifest digest and the platforms its index covers.

Two sources, both opt-in (rules stay offline by default):

- an **OCI image layout directory** (``index.json`` + ``blobs/``, as written by
  ``migrate-tui build``, ``skopeo copy … oci:DIR:TAG``, ``buildah push … oci:DIR``,
  ``docker buildx build --output type=oci``): ``DIR`` (images found by their
  ``io.containerd.image.name`` / ``org.opencontainers.image.ref.name`` annotations) or
  ``IMAGE=DIR`` (the layout holds that repository; tags matched by ``ref.name``);
- a **registry**, through the OCI distribution API: ``GET /v2/<name>/manifests/<tag>`` with the
  manifest media types in ``Accept``; the digest is ``Docker-Content-Digest`` (checked against
  the sha256 of the body). Anonymous bearer tokens are fetched when the registry asks for one.

A resolver is any ``Callable[[str], ImageInfo | None]``: ``None`` means "not known here";
``DigestError`` means "known to be unresolvable" (the message says why).
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from migrate_tui.parse.imageref import ImageRef, parse_image_ref

if TYPE_CHECKING:
    from migrate_tui.oci.registry import Registry

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
DOCKER_HUB = "registry-1.docker.io"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class DigestError(Exception):
    """The reference can't be resolved; the message is a sentence for the user."""


def parse_reference(text: str) -> ImageRef:
    ref = parse_image_ref(text)
    if ref is None:
        raise DigestError(f"'{text}' is not an image reference that can be resolved")
    return ref


def _tag_of(ref: ImageRef) -> str:
    return ref.effective_tag or "latest"


def pinned_reference(text: str, digest: str) -> str:
    """``name:tag@digest`` as written (the tag stays for people; the runtime pulls by digest)."""
    return parse_reference(text).with_digest(digest).raw


@dataclass(frozen=True)
class ImageInfo:
    digest: str  # of the manifest or index the tag points to
    platforms: tuple[str, ...] | None  # "linux/amd64"...; None when unknown
    source: str  # where it came from, for messages ("OCI layout out/site", "registry ghcr.io")


Resolver = Callable[[str], "ImageInfo | None"]


def _platforms_of_index(index: dict[str, Any]) -> tuple[str, ...]:
    out = []
    entries = index.get("manifests")
    for entry in entries if isinstance(entries, list) else []:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(platform, dict):
            continue
        os_name, arch = platform.get("os"), platform.get("architecture")
        if not arch or arch == "unknown":  # attestation manifests (buildx) carry unknown/unknown
            continue
        text = f"{os_name}/{arch}" + (f"/{platform['variant']}" if platform.get("variant") else "")
        out.append(text)
    return tuple(dict.fromkeys(out))


class OciLayoutResolver:
    """Resolves references from OCI image layout directories on disk (no network)."""

    def __init__(self, layouts: Iterable[str | Path], *, root: Path | None = None) -> None:
        self.layouts: list[tuple[str | None, Path]] = []
        for item in layouts:
            text = str(item)
            image, sep, directory = text.rpartition("=") if "=" in text else (None, "", text)
            path = Path(directory)
            if root is not None and not path.is_absolute():
                path = root / path
            self.layouts.append(((image or None) if sep else None, path))

    def __call__(self, reference: str) -> ImageInfo | None:
        ref = parse_reference(reference)
        for image, directory in self.layouts:
            if image is not None and not parse_reference(image).same_repository(ref):
                continue
            found = self._lookup(directory, ref, by_tag_only=image is not None)
            if found is not None:
                return found
        return None

    def _lookup(self, directory: Path, ref: ImageRef, *, by_tag_only: bool) -> ImageInfo | None:
        index = _read_json(directory / "index.json", directory)
        manifests = index.get("manifests", [])
        if not isinstance(manifests, list) or not all(isinstance(entry, dict) for entry in manifests):
            raise DigestError(f"{directory}/index.json: 'manifests' is not a list of descriptors")
        for entry in manifests:
            notes = entry.get("annotations") or {}
            if not isinstance(notes, dict):
                raise DigestError(f"{directory}/index.json: descriptor annotations are not a mapping")
            full = notes.get("io.containerd.image.name")
            ref_name = notes.get("org.opencontainers.image.ref.name")
            if not isinstance(full, (str, type(None))) or not isinstance(ref_name, (str, type(None))):
                raise DigestError(f"{directory}/index.json: an image name annotation is not a string")
            if ref.digest:  # a pinned reference names one manifest, whatever the tags say
                if entry.get("digest") == ref.digest:
                    return self._info(directory, entry)
                continue
            if full and not by_tag_only:
                other = parse_reference(full)
                if other.same_repository(ref) and _tag_of(other) == _tag_of(ref):
                    return self._info(directory, entry)
                continue
            if ref_name and ("/" in ref_name or ":" in ref_name):  # some tools store the full reference
                other = parse_reference(ref_name)
                if other.same_repository(ref) and _tag_of(other) == _tag_of(ref):
                    return self._info(directory, entry)
                continue
            if ref_name == _tag_of(ref) and (by_tag_only or _repository_hint(directory, ref)):
                return self._info(directory, entry)
        return None

    def _info(self, directory: Path, entry: dict[str, Any]) -> ImageInfo:
        digest = entry.get("digest", "")
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise DigestError(f"{directory}/index.json: descriptor digest '{digest}' is not a sha256 digest")
        platforms: tuple[str, ...] | None = None
        media = entry.get("mediaType", "")
        blob = directory / "blobs" / "sha256" / digest.split(":", 1)[1]
        if media in INDEX_TYPES:
            platforms = _platforms_of_index(_read_json(blob, directory))
        elif entry.get("platform"):
            platforms = _platforms_of_index({"manifests": [entry]})
        elif media in MANIFEST_TYPES and blob.is_file():
            manifest = _read_json(blob, directory)
            config = manifest.get("config")
            config_digest = str(config.get("digest", "")) if isinstance(config, dict) else ""
            config_blob = directory / "blobs" / "sha256" / config_digest.split(":", 1)[-1]
            if config_blob.is_file():
                config = _read_json(config_blob, directory)
                if config.get("architecture"):
                    platforms = (f"{config.get('os', 'linux')}/{config['architecture']}",)
        return ImageInfo(digest, platforms, f"OCI layout {directory}")


def _repository_hint(directory: Path, ref: ImageRef) -> bool:
    """A bare DIR whose images carry only a tag: accept it when the directory is named like the repo."""
    return directory.name == ref.repository.rsplit("/", 1)[-1]


MAX_LAYOUT_JSON = 4 << 20  # index.json, manifests and configs are a few KiB


def _read_json(path: Path, layout: Path) -> dict[str, Any]:
    """A small JSON file of a (possibly committed, so untrusted) layout: never through a symlink,
    never a FIFO or device, never more than ``MAX_LAYOUT_JSON`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise DigestError(f"{layout}: not an OCI image layout ({path.name} missing)") from None
    except OSError as exc:
        reason = "a symbolic link; refused" if exc.errno == errno.ELOOP else exc.strerror
        raise DigestError(f"{path}: unreadable: {reason}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DigestError(f"{path}: not a regular file; refused")
        if info.st_size > MAX_LAYOUT_JSON:
            raise DigestError(f"{path}: larger than {MAX_LAYOUT_JSON} bytes; refused")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = json.loads(handle.read(MAX_LAYOUT_JSON + 1).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DigestError(f"{path}: unreadable: {exc}") from None
    finally:
        os.close(fd)
    if not isinstance(data, dict):
        raise DigestError(f"{path}: not a JSON object")
    return data


class RegistryResolver:
    """Resolves references with the OCI distribution API (network: only when the user asked).

    The transport (plain HTTP on loopback, bearer tokens, size limits, timeouts) is
    ``migrate_tui.oci.registry.Registry``, the same client ``build --push`` and ``verify`` use.
    """

    def __init__(self, *, timeout: float = 10.0, plain_http: Sequence[str] = ()) -> None:
        self.timeout = timeout
        self.plain_http = set(plain_http)
        self._cache: dict[str, ImageInfo] = {}
        self._registries: dict[str, Registry] = {}

    def _registry(self, ref: ImageRef) -> Registry:
        from migrate_tui.oci.registry import Registry

        host = DOCKER_HUB if ref.registry == "docker.io" else ref.registry
        if host not in self._registries:
            # a manifest lookup is small: its whole request (not each read) ends within 3 timeouts
            self._registries[host] = Registry(
                host, insecure=host in self.plain_http, timeout=self.timeout, deadline=max(self.timeout * 3, 1.0)
            )
        return self._registries[host]

    def __call__(self, reference: str) -> ImageInfo | None:
        from migrate_tui.oci.registry import RegistryError

        if reference in self._cache:
            return self._cache[reference]
        ref = parse_reference(reference)
        registry = self._registry(ref)
        try:
            body, media, digest = registry.get_manifest(ref.repository, ref.digest or _tag_of(ref))
        except RegistryError as exc:
            raise DigestError(f"{ref.raw}: {exc}") from None
        try:
            manifest = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            manifest = None
        if not isinstance(manifest, dict):
            raise DigestError(f"{ref.raw}: the registry answered with something that is not a manifest")
        media = manifest.get("mediaType") or media
        platforms = _platforms_of_index(manifest) if media in INDEX_TYPES or "manifests" in manifest else None
        if platforms is None:
            platforms = self._single_platform(registry, ref, manifest)
        info = ImageInfo(digest, platforms, f"registry {ref.registry}")
        self._cache[reference] = info
        return info

    @staticmethod
    def _single_platform(registry: Registry, ref: ImageRef, manifest: dict[str, Any]) -> tuple[str, ...] | None:
        from migrate_tui.oci.registry import RegistryError

        descriptor = manifest.get("config")
        if not isinstance(descriptor, dict) or not isinstance(descriptor.get("digest"), str):
            return None
        size = descriptor.get("size")
        try:
            config = json.loads(registry.get_blob(ref.repository, descriptor["digest"], size if isinstance(size, int) else None))
        except (RegistryError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(config, dict):
            return None
        arch = config.get("architecture")
        return (f"{config.get('os', 'linux')}/{arch}",) if arch else None


def chain(*resolvers: Resolver | None) -> Resolver | None:
    """The first resolver that knows the reference wins; None when no resolver was given."""
    active = [r for r in resolvers if r is not None]
    if not active:
        return None

    def resolve(reference: str) -> ImageInfo | None:
        for resolver in active:
            found = resolver(reference)
            if found is not None:
                return found
        return None

    return resolve
