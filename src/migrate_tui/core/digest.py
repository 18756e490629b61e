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

import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .imageref import ImageRef, parse_image_ref

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
DOCKER_HUB = "registry-1.docker.io"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_MANIFEST = 4 * 1024 * 1024


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


def _platforms_of_index(index: dict) -> tuple[str, ...]:
    out = []
    for entry in index.get("manifests", []):
        platform = entry.get("platform") or {}
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
        manifests = index.get("manifests", []) if isinstance(index, dict) else []
        for entry in manifests:
            notes = entry.get("annotations") or {}
            full = notes.get("io.containerd.image.name")
            ref_name = notes.get("org.opencontainers.image.ref.name")
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

    def _info(self, directory: Path, entry: dict) -> ImageInfo:
        digest = entry.get("digest", "")
        if not _DIGEST.match(digest):
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
            config_digest = (manifest.get("config") or {}).get("digest", "")
            config_blob = directory / "blobs" / "sha256" / config_digest.split(":", 1)[-1]
            if config_blob.is_file():
                config = _read_json(config_blob, directory)
                if config.get("architecture"):
                    platforms = (f"{config.get('os', 'linux')}/{config['architecture']}",)
        return ImageInfo(digest, platforms, f"OCI layout {directory}")


def _repository_hint(directory: Path, ref: ImageRef) -> bool:
    """A bare DIR whose images carry only a tag: accept it when the directory is named like the repo."""
    return directory.name == ref.repository.rsplit("/", 1)[-1]


def _read_json(path: Path, layout: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DigestError(f"{layout}: not an OCI image layout ({path.name} missing)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DigestError(f"{path}: unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise DigestError(f"{path}: not a JSON object")
    return data


class RegistryResolver:
    """Resolves references with the OCI distribution API (network: only when the user asked)."""

    def __init__(self, *, timeout: float = 10.0, plain_http: Sequence[str] = ()) -> None:
        self.timeout = timeout
        self.plain_http = set(plain_http)
        self._cache: dict[str, ImageInfo] = {}

    def _base(self, ref: ImageRef) -> str:
        host = DOCKER_HUB if ref.registry == "docker.io" else ref.registry
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        loopback = hostname in ("localhost", "127.0.0.1", "[::1]")
        scheme = "http" if (loopback or host in self.plain_http) else "https"
        return f"{scheme}://{host}"

    def __call__(self, reference: str) -> ImageInfo | None:
        if reference in self._cache:
            return self._cache[reference]
        ref = parse_reference(reference)
        base = self._base(ref)
        url = f"{base}/v2/{ref.repository}/manifests/{ref.digest or _tag_of(ref)}"
        body, headers = self._get(url, ref)
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        claimed = headers.get("Docker-Content-Digest")
        if claimed and claimed != actual:
            raise DigestError(f"{ref.registry} sent Docker-Content-Digest {claimed} for a body whose sha256 is {actual}")
        try:
            manifest = json.loads(body)
        except json.JSONDecodeError:
            raise DigestError(f"{url}: the registry answered with something that is not a manifest") from None
        media = manifest.get("mediaType") or headers.get("Content-Type", "").split(";")[0]
        platforms = _platforms_of_index(manifest) if media in INDEX_TYPES or "manifests" in manifest else None
        if platforms is None:
            platforms = self._single_platform(base, ref, manifest)
        info = ImageInfo(actual, platforms, f"registry {ref.registry}")
        self._cache[reference] = info
        return info

    def _single_platform(self, base: str, ref: ImageRef, manifest: dict) -> tuple[str, ...] | None:
        config_digest = (manifest.get("config") or {}).get("digest")
        if not config_digest:
            return None
        try:
            body, _ = self._get(f"{base}/v2/{ref.repository}/blobs/{config_digest}", ref, accept="*/*")
            config = json.loads(body)
        except (DigestError, json.JSONDecodeError):
            return None
        arch = config.get("architecture")
        return (f"{config.get('os', 'linux')}/{arch}",) if arch else None

    def _get(self, url: str, ref: ImageRef, *, accept: str = ACCEPT, token: str | None = None) -> tuple[bytes, dict]:
        request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "migrate-tui"})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with self._opener(url).open(request, timeout=self.timeout) as response:
                body = response.read(MAX_MANIFEST + 1)
                if len(body) > MAX_MANIFEST:
                    raise DigestError(f"{url}: manifest larger than {MAX_MANIFEST} bytes")
                return body, dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and token is None:
                challenge = exc.headers.get("WWW-Authenticate", "")
                return self._get(url, ref, accept=accept, token=self._token(challenge, ref))
            if exc.code == 404:
                raise DigestError(f"{ref.raw}: not found in {ref.registry}") from None
            if exc.code in (401, 403):
                raise DigestError(f"{ref.raw}: {ref.registry} refused anonymous access ({exc.code})") from None
            raise DigestError(f"{ref.raw}: {ref.registry} answered {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise DigestError(f"{ref.raw}: can't reach {ref.registry}: {exc.reason}") from None
        except TimeoutError:
            raise DigestError(f"{ref.raw}: {ref.registry} did not answer within {self.timeout:g}s") from None
        except OSError as exc:
            raise DigestError(f"{ref.raw}: {ref.registry}: {exc}") from None

    def _token(self, challenge: str, ref: ImageRef) -> str:
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() != "bearer":
            raise DigestError(f"{ref.raw}: {ref.registry} needs credentials (anonymous access refused)")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        realm = fields.pop("realm", None)
        if not realm:
            raise DigestError(f"{ref.raw}: {ref.registry} sent a token challenge without a realm")
        fields.setdefault("scope", f"repository:{ref.repository}:pull")
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(fields)
        try:
            with self._opener(url).open(url, timeout=self.timeout) as response:
                data = json.loads(response.read(1 << 20))
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            raise DigestError(f"{ref.raw}: anonymous token from {realm} failed: {exc}") from None
        token = data.get("token") or data.get("access_token")
        if not token:
            raise DigestError(f"{ref.raw}: {realm} returned no token")
        return str(token)

    @staticmethod
    def _opener(url: str) -> urllib.request.OpenerDirector:
        host = urllib.parse.urlsplit(url).hostname or ""
        if host in ("localhost", "127.0.0.1", "::1"):  # never send loopback traffic through a proxy
            return urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return urllib.request.build_opener()


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
