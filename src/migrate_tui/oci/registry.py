"""A small client for the OCI distribution API: manifests and blobs, pull and push.

Plain HTTP for loopback and ``--insecure-registry`` hosts, HTTPS otherwise. Credentials come
from ``~/.docker/config.json`` (``auths``: ``auth`` = base64 user:password); bearer tokens are
fetched when the registry answers 401 with ``WWW-Authenticate: Bearer``. Only called when a
command was asked to talk to a registry.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .layout import OCI_INDEX, OCI_MANIFEST, sha256

ACCEPT = ", ".join(
    [OCI_INDEX, OCI_MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json",
     "application/vnd.docker.distribution.manifest.v2+json"]
)
TIMEOUT = 30


class RegistryError(Exception):
    """A registry answer that stops the command; the message is one line for the user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _docker_credentials(host: str) -> str | None:
    config = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    try:
        auths = json.loads(config.read_text()).get("auths", {})
    except (OSError, ValueError):
        return None
    for key, value in auths.items():
        name = re.sub(r"^https?://", "", key).split("/")[0]
        if name == host and isinstance(value, dict) and value.get("auth"):
            return str(value["auth"])
    return None


_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")
MAX_MANIFEST = 4 * 1024 * 1024


def _opener(url: str) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in _LOOPBACK:  # never send loopback traffic through a proxy
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


@dataclass
class Registry:
    host: str
    insecure: bool = False
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        hostname = self.host.split("]")[0] + "]" if self.host.startswith("[") else self.host.rsplit(":", 1)[0]
        self.scheme = "http" if (self.insecure or hostname in _LOOPBACK) else "https"
        self._token: str | None = None
        self._basic = _docker_credentials(self.host)

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}{path}"

    def _request(self, method: str, url: str, data: bytes | None = None, headers: dict | None = None,
                 retry: bool = True, repository: str | None = None):
        headers = {"User-Agent": "migrate-tui", **(headers or {})}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        elif self._basic:
            headers["Authorization"] = f"Basic {self._basic}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            return _opener(url).open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "") if exc.headers else ""
            if exc.code == 401 and retry and challenge.lower().startswith("bearer"):
                self._token = self._fetch_token(challenge, repository)
                return self._request(method, url, data, headers, retry=False, repository=repository)
            if exc.code == 404:
                raise RegistryError(f"{url}: not found in {self.host}", 404) from None
            if exc.code in (401, 403):
                raise RegistryError(f"{self.host} refused access to {url} ({exc.code}); credentials come from ~/.docker/config.json") from None
            body = exc.read(2000).decode("utf-8", "replace")
            raise RegistryError(f"{method} {url}: HTTP {exc.code} {_error_text(body) or exc.reason}") from None
        except urllib.error.URLError as exc:
            raise RegistryError(f"can't reach {self.host}: {exc.reason}") from None
        except TimeoutError:
            raise RegistryError(f"{self.host} did not answer within {self.timeout:g}s") from None
        except OSError as exc:
            raise RegistryError(f"{self.host}: {exc}") from None

    def _fetch_token(self, challenge: str, repository: str | None) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            raise RegistryError(f"{self.host}: bearer challenge without realm")
        if repository:
            params.setdefault("scope", f"repository:{repository}:pull")
        headers = {"Authorization": f"Basic {self._basic}"} if self._basic else {}
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(params)
        try:
            with _opener(url).open(urllib.request.Request(url, headers=headers), timeout=self.timeout) as resp:
                answer = json.loads(resp.read(1 << 20))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryError(f"{self.host}: cannot get a token from {realm}: {exc}") from None
        token = answer.get("token") or answer.get("access_token")
        if not token:
            raise RegistryError(f"{self.host}: the token service returned no token")
        return str(token)

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str, str]:
        """(body, media type, digest)."""
        with self._request("GET", self.url(f"/v2/{repository}/manifests/{reference}"), headers={"Accept": ACCEPT},
                           repository=repository) as resp:
            body = resp.read(MAX_MANIFEST + 1)
            if len(body) > MAX_MANIFEST:
                raise RegistryError(f"{repository}@{reference}: manifest larger than {MAX_MANIFEST} bytes")
            media_type = resp.headers.get("Content-Type", "").split(";")[0]
            digest = resp.headers.get("Docker-Content-Digest") or sha256(body)
        if digest != sha256(body):
            raise RegistryError(f"{repository}@{reference}: manifest does not match its digest")
        return body, media_type or json.loads(body).get("mediaType", ""), digest

    def get_blob(self, repository: str, digest: str) -> bytes:
        with self._request("GET", self.url(f"/v2/{repository}/blobs/{digest}"), repository=repository) as resp:
            data = resp.read()
        if sha256(data) != digest:
            raise RegistryError(f"{repository}: blob {digest} does not match its digest")
        return data

    def has_blob(self, repository: str, digest: str) -> bool:
        try:
            with self._request("HEAD", self.url(f"/v2/{repository}/blobs/{digest}")):
                return True
        except RegistryError as exc:
            if exc.status == 404:
                return False
            raise

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = sha256(data)
        if self.has_blob(repository, digest):
            return digest
        with self._request("POST", self.url(f"/v2/{repository}/blobs/uploads/"), data=b"") as resp:
            location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"{repository}: upload started without a Location")
        location = urllib.parse.urljoin(self.url("/"), location)
        separator = "&" if "?" in location else "?"
        with self._request("PUT", f"{location}{separator}digest={urllib.parse.quote(digest)}", data=data,
                           headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}):
            pass
        return digest

    def put_manifest(self, repository: str, tag: str, body: bytes, media_type: str) -> str:
        with self._request("PUT", self.url(f"/v2/{repository}/manifests/{tag}"), data=body, headers={"Content-Type": media_type}) as resp:
            return resp.headers.get("Docker-Content-Digest") or sha256(body)


def _error_text(body: str) -> str:
    try:
        errors = json.loads(body).get("errors") or []
    except ValueError:
        return ""
    return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))


def push_layout(layout, tag: str, reference: str, *, insecure: tuple[str, ...] = ()) -> str:
    """Push the image tagged ``tag`` in ``layout`` to ``reference``; returns the manifest digest."""
    from ..core.imageref import parse_image_ref

    ref = parse_image_ref(reference)
    if ref is None:
        raise RegistryError(f"'{reference}' is not an image reference")
    host = "registry-1.docker.io" if ref.registry == "docker.io" else ref.registry
    registry = Registry(host, insecure=host in insecure)
    desc = layout.find(tag)
    body = layout.read_blob(desc.digest)
    manifest = json.loads(body)
    for blob in [manifest["config"], *manifest.get("layers", [])]:
        registry.push_blob(ref.repository, layout.read_blob(blob["digest"]))
    return registry.put_manifest(ref.repository, ref.tag or "latest", body, desc.media_type)
