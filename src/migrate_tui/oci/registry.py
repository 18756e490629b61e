"""A small client for the OCI distribution API: manifests and blobs, pull and push.

Plain HTTP for loopback and ``--insecure-registry`` hosts, HTTPS otherwise. Everything a
registry sends is treated as hostile:

- credentials (``~/.docker/config.json``: ``auths``, ``credHelpers``, ``credsStore``) are only
  sent to the registry's own origin (scheme, host, port), only after it asked for them (a 401
  challenge), and never to a bearer realm reached over plain HTTP from an HTTPS registry or on
  another host over HTTP; redirects are followed by hand (at most ``MAX_REDIRECTS``) and drop
  the ``Authorization`` header whenever the origin changes (presigned URLs carry their own);
- every request has a total deadline (a registry that drips one byte at a time is cut off),
  not only a per-read timeout; answers are size-bounded;
- manifests and blobs are checked against the digest that was asked for (a pinned
  ``@sha256:…``, or a descriptor's digest and size) while they are read.
"""

from __future__ import annotations

import functools
import http.client
import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from migrate_tui.oci.layout import OCI_INDEX, OCI_MANIFEST, Layout, sha256
from migrate_tui.oci.credentials import docker_credentials
from migrate_tui.oci.stream import MAX_CONFIG, MAX_MANIFEST, BlobError, Readable, VerifiedReader, check_digest, printable
from migrate_tui.oci.transport import DEADLINE, TIMEOUT, RegistryError, Response, Deadline, opener, origin

__all__ = ["Registry", "RegistryError", "push_layout", "docker_credentials"]

ACCEPT = ", ".join(
    [
        OCI_INDEX,
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
MAX_REDIRECTS = 5
MIN_RATE = 1 << 20  # bytes per second a blob download may not fall below (on top of the deadline)
MAX_TOKEN = 1 << 20
MAX_ERROR_BODY = 2000
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")
Body = Callable[[], Readable]  # opens a request body to stream (once per attempt)


# --- the client ----------------------------------------------------------------------------------


@dataclass
class Registry:
    host: str
    insecure: bool = False
    timeout: float = TIMEOUT
    deadline: float = DEADLINE
    _token: str | None = field(default=None, init=False, repr=False)
    _basic: str | None = field(default=None, init=False, repr=False)
    _use_basic: bool = field(default=False, init=False, repr=False)
    _credentials_read: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        hostname = self.host.split("]")[0] + "]" if self.host.startswith("[") else self.host.rsplit(":", 1)[0]
        self.scheme = "http" if (self.insecure or hostname in _LOOPBACK) else "https"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}{path}"

    def credentials(self) -> str | None:
        """Read lazily: a credential helper runs only when the registry asks for credentials."""
        if not self._credentials_read:
            self._credentials_read = True
            self._basic = docker_credentials(self.host)
        return self._basic

    def _authorization(self, url: str) -> str | None:
        if origin(url) != origin(self.url("/")):
            return None  # another origin (a redirect, an upload Location elsewhere): never our credentials
        if self._token:
            return f"Bearer {self._token}"
        if self._use_basic and self._basic:
            return f"Basic {self._basic}"
        return None

    def _request(
        self,
        method: str,
        url: str,
        data: bytes | Body | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
        repository: str | None = None,
        size: int = 0,
    ) -> Response:
        # a big blob may take longer, at no less than MIN_RATE: a trickle is still cut off
        deadline = Deadline(max(self.deadline, size / MIN_RATE))
        try:
            return self._follow(method, url, data, headers or {}, deadline, retry, repository)
        except BaseException:
            deadline.cancel()
            raise

    def _follow(
        self,
        method: str,
        url: str,
        data: bytes | Body | None,
        headers: dict[str, str],
        deadline: Deadline,
        retry: bool,
        repository: str | None,
    ) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise RegistryError(f"{self.host} redirected to a URL that is not http(s); refused")
            sent = {"User-Agent": "migrate-tui", **headers}
            authorization = self._authorization(url)
            if authorization:
                sent["Authorization"] = authorization
            body: bytes | Readable | None
            stream: Readable | None
            if callable(data):
                body = stream = data()  # a streamed body is opened afresh for every attempt
            else:
                body, stream = data, None
            request = urllib.request.Request(url, data=body, method=method, headers=sent)
            try:
                raw = opener(url, deadline).open(request, timeout=min(self.timeout, deadline.remaining()))
                return Response(raw, deadline, self.host, url)
            except urllib.error.HTTPError as exc:
                if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                    url = urllib.parse.urljoin(url, exc.headers["Location"])
                    if exc.code == 303 or (exc.code in (301, 302) and method not in ("GET", "HEAD")):
                        method, data = "GET", None
                        # the body is gone, and so are the headers that describe it (a Content-Length
                        # without a body leaves the server waiting for it)
                        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-type")}
                    exc.close()
                    continue
                if exc.code == 401 and retry and origin(url) == origin(self.url("/")) and self._answer_challenge(exc, repository):
                    exc.close()
                    return self._follow(method, url, data, headers, deadline, False, repository)
                raise self._http_error(exc, method, url, deadline) from None
            except urllib.error.URLError as exc:
                if deadline.expired:
                    raise RegistryError(f"{self.host} did not finish answering within {deadline.seconds:g}s") from None
                raise RegistryError(f"can't reach {self.host}: {exc.reason}") from None
            except TimeoutError:
                raise RegistryError(f"{self.host} did not answer within {self.timeout:g}s") from None
            except (http.client.HTTPException, OSError) as exc:
                if deadline.expired:
                    raise RegistryError(f"{self.host} did not finish answering within {deadline.seconds:g}s") from None
                raise RegistryError(f"{self.host}: {printable(exc)}") from None
            except BlobError as exc:  # the blob on disk is not what its descriptor says
                raise RegistryError(f"{self.host}: not sent: {exc}") from None
            finally:
                if stream is not None:  # also when a 303 turned the request into a GET without a body
                    stream.close()
        raise RegistryError(f"{self.host}: more than {MAX_REDIRECTS} redirects")

    def _answer_challenge(self, exc: urllib.error.HTTPError, repository: str | None) -> bool:
        challenge = exc.headers.get("WWW-Authenticate", "") if exc.headers else ""
        if challenge.lower().startswith("bearer"):
            self._token = self._fetch_token(challenge, repository)
            return True
        if challenge.lower().startswith("basic") and not self._use_basic and self.credentials():
            self._use_basic = True
            return True
        return False

    def _http_error(self, exc: urllib.error.HTTPError, method: str, url: str, deadline: Deadline) -> RegistryError:
        url = printable(url.split("?", 1)[0])  # a presigned query string is a credential: never in a message
        if exc.code == 404:
            return RegistryError(f"{url}: not found in {self.host}", 404)
        if exc.code in (401, 403):
            return RegistryError(f"{self.host} refused access to {url} ({exc.code}); credentials come from ~/.docker/config.json", exc.code)
        try:
            body = exc.read(MAX_ERROR_BODY).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            body = ""
        return RegistryError(f"{method} {url}: HTTP {exc.code} {printable(_error_text(body) or exc.reason)}", exc.code)

    def _fetch_token(self, challenge: str, repository: str | None) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            raise RegistryError(f"{self.host}: bearer challenge without realm")
        realm_origin = origin(realm)
        if realm_origin[0] not in ("http", "https"):
            raise RegistryError(f"{self.host}: bearer realm '{printable(realm, 100)}' is not an http(s) URL; refused")
        if repository:
            params.setdefault("scope", f"repository:{repository}:pull")
        # Credentials go to the realm only over HTTPS, or over plain HTTP to this same (insecure) registry host.
        trusted = realm_origin[0] == "https" or (self.scheme == "http" and realm_origin[1] == origin(self.url("/"))[1])
        basic = self.credentials() if trusted else None
        headers = {"User-Agent": "migrate-tui", **({"Authorization": f"Basic {basic}"} if basic else {})}
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(params)
        deadline = Deadline(self.deadline)
        try:
            raw = opener(url, deadline).open(urllib.request.Request(url, headers=headers), timeout=min(self.timeout, deadline.remaining()))
            with Response(raw, deadline, self.host, url) as resp:
                answer = json.loads(resp.read_bounded(MAX_TOKEN, "the token answer"))
        except urllib.error.HTTPError as exc:
            deadline.cancel()
            raise RegistryError(f"{self.host}: the token service {printable(realm, 100)} answered HTTP {exc.code}", exc.code) from None
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            deadline.cancel()
            raise RegistryError(f"{self.host}: cannot get a token from {printable(realm, 100)}: {printable(exc)}") from None
        token = answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
        if not token or not isinstance(token, str):
            raise RegistryError(f"{self.host}: the token service returned no token")
        return token

    # --- pull --------------------------------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str, size: int | None = None) -> tuple[bytes, str, str]:
        """(body, media type, digest). A digest reference must match the body's sha256 (and ``size``)."""
        pinned = ":" in reference  # tags can't hold a colon: this is a digest
        if pinned:
            try:
                check_digest(reference)
            except BlobError:
                raise RegistryError(f"{repository}@{reference[:80]}: only sha256 digests are supported") from None
        with self._request(
            "GET", self.url(f"/v2/{repository}/manifests/{reference}"), headers={"Accept": ACCEPT}, repository=repository
        ) as resp:
            body = resp.read_bounded(size if size is not None else MAX_MANIFEST, f"the manifest {repository}@{reference}")
            media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
            announced = resp.headers.get("Docker-Content-Digest")
        actual = sha256(body)
        expected = reference if pinned else printable(announced or actual, 100)
        if actual != expected:
            raise RegistryError(f"{repository}@{reference}: the registry sent a manifest whose digest is {actual}, not {expected}")
        if size is not None and len(body) != size:
            raise RegistryError(f"{repository}@{reference}: the manifest has {len(body)} bytes, its descriptor says {size}")
        if not media_type:
            try:
                found = json.loads(body)
                media_type = str(found.get("mediaType", "")) if isinstance(found, dict) else ""
            except ValueError:
                media_type = ""
        return body, media_type, actual

    def open_blob(self, repository: str, digest: str, size: int | None = None, *, limit: int = MAX_CONFIG) -> VerifiedReader:
        """The blob as a stream that fails unless its length and sha256 match ``size`` and ``digest``."""
        check_digest(digest)
        resp = self._request("GET", self.url(f"/v2/{repository}/blobs/{digest}"), repository=repository, size=size or 0)
        length = resp.headers.get("Content-Length")
        bound = size if size is not None else limit
        if length and length.isdigit() and int(length) > bound:
            resp.close()
            raise RegistryError(f"{repository}: blob {digest} is announced as {length} bytes, more than the {bound} expected")
        return VerifiedReader(resp, digest, size, limit=limit, what=f"{self.host}/{repository}: blob")

    def get_blob(self, repository: str, digest: str, size: int | None = None, *, limit: int = MAX_CONFIG) -> bytes:
        try:
            with self.open_blob(repository, digest, size, limit=limit) as reader:
                return reader.read()
        except BlobError as exc:
            raise RegistryError(str(exc)) from None

    def has_blob(self, repository: str, digest: str) -> bool:
        try:
            with self._request("HEAD", self.url(f"/v2/{repository}/blobs/{digest}"), repository=repository):
                return True
        except RegistryError as exc:
            if exc.status == 404:
                return False
            raise

    # --- push --------------------------------------------------------------------------------------

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = sha256(data)
        self.push_blob_stream(repository, digest, len(data), lambda: io.BytesIO(data))
        return digest

    def push_blob_stream(self, repository: str, digest: str, size: int, open_body: Body) -> str:
        """Upload a blob of ``size`` bytes in one streaming PUT (``Content-Length``: never held in memory);
        ``open_body`` gives a fresh stream for each attempt (a redirect or a credential challenge resends)."""
        check_digest(digest)
        if self.has_blob(repository, digest):
            return digest
        with self._request("POST", self.url(f"/v2/{repository}/blobs/uploads/"), data=b"") as resp:
            location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"{repository}: upload started without a Location")
        location = urllib.parse.urljoin(self.url("/"), location)
        separator = "&" if "?" in location else "?"
        # _authorization() drops our credentials if the Location is on another origin
        with self._request(
            "PUT",
            f"{location}{separator}digest={urllib.parse.quote(digest)}",
            data=open_body,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            size=size,
        ):
            pass
        return digest

    def put_manifest(self, repository: str, tag: str, body: bytes, media_type: str) -> str:
        with self._request("PUT", self.url(f"/v2/{repository}/manifests/{tag}"), data=body, headers={"Content-Type": media_type}) as resp:
            return resp.headers.get("Docker-Content-Digest") or sha256(body)


def _error_text(body: str) -> str:
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return ""
    if not isinstance(errors, list):
        return ""
    return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))


def push_layout(layout: Layout, tag: str, reference: str, *, insecure: tuple[str, ...] = ()) -> str:
    """Push the image tagged ``tag`` in ``layout`` to ``reference``; returns the manifest digest."""
    from migrate_tui.parse.imageref import parse_image_ref

    ref = parse_image_ref(reference)
    if ref is None:
        raise RegistryError(f"'{reference}' is not an image reference")
    host = "registry-1.docker.io" if ref.registry == "docker.io" else ref.registry
    registry = Registry(host, insecure=host in insecure)
    desc = layout.find(tag)
    body = layout.read_blob(desc.digest, desc.size, limit=MAX_MANIFEST)
    manifest = json.loads(body)
    for blob in [manifest["config"], *manifest.get("layers", [])]:
        digest, size = str(blob["digest"]), int(blob["size"])
        # streamed from the layout, its digest and size checked again while it is sent
        registry.push_blob_stream(ref.repository, digest, size, functools.partial(layout.open_blob, digest, size, limit=size, what="blob"))
    return registry.put_manifest(ref.repository, ref.tag or "latest", body, desc.media_type)
