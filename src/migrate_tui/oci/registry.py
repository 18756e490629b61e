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

import base64
import functools
import http.client
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .layout import OCI_INDEX, OCI_MANIFEST, sha256
from .stream import MAX_CONFIG, MAX_MANIFEST, BlobError, VerifiedReader, check_digest

ACCEPT = ", ".join(
    [OCI_INDEX, OCI_MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json",
     "application/vnd.docker.distribution.manifest.v2+json"]
)
TIMEOUT = 30  # seconds without a byte before a read fails
DEADLINE = 300  # seconds for one whole request, body included
MAX_REDIRECTS = 5
MAX_TOKEN = 1 << 20
MAX_ERROR_BODY = 2000
CREDENTIAL_HELPER_TIMEOUT = 10
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")
_HUB_ALIASES = ("registry-1.docker.io", "index.docker.io", "docker.io")
_HELPER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class RegistryError(Exception):
    """A registry answer that stops the command; the message is one line for the user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# --- credentials ---------------------------------------------------------------------------------


def _config_keys(host: str) -> tuple[str, ...]:
    if host in _HUB_ALIASES:
        return ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
    return (host, f"https://{host}", f"http://{host}")


def _server_name(key: str) -> str:
    return re.sub(r"^https?://", "", key).split("/")[0]


def docker_credentials(host: str) -> str | None:
    """base64 ``user:password`` for ``host`` from the Docker config, or None.

    Order as in the docker CLI: ``credHelpers[host]``, then ``credsStore``, then ``auths``.
    """
    config = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    wanted = set(_config_keys(host))
    helpers = data.get("credHelpers") if isinstance(data.get("credHelpers"), dict) else {}
    for key, helper in helpers.items():
        if key in wanted or _server_name(key) in wanted:
            return _from_helper(str(helper), key)
    auths = data.get("auths") if isinstance(data.get("auths"), dict) else {}
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        for key in [k for k in auths if k in wanted or _server_name(k) in wanted] or [_config_keys(host)[0] if host in _HUB_ALIASES else host]:
            found = _from_helper(store, key)
            if found:
                return found
    for key, value in auths.items():
        if (key in wanted or _server_name(key) in wanted) and isinstance(value, dict) and value.get("auth"):
            return str(value["auth"])
    return None


def _from_helper(name: str, server: str) -> str | None:
    """Run ``docker-credential-NAME get`` with ``server`` on stdin (the credential helper protocol)."""
    if not _HELPER_NAME.match(name):
        raise RegistryError(f"~/.docker/config.json names a credential helper '{name[:40]}' that is not a plain name")
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        raise RegistryError(f"credential helper docker-credential-{name} (from ~/.docker/config.json) is not on PATH")
    try:
        done = subprocess.run([program, "get"], input=server.encode(), capture_output=True,
                              timeout=CREDENTIAL_HELPER_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise RegistryError(f"credential helper docker-credential-{name} did not answer within {CREDENTIAL_HELPER_TIMEOUT}s") from None
    except OSError as exc:
        raise RegistryError(f"credential helper docker-credential-{name} could not run: {exc.strerror}") from None
    if done.returncode != 0:
        return None  # "credentials not found in native keychain": anonymous, as docker does
    try:
        answer = json.loads(done.stdout[:MAX_TOKEN])
        user, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"credential helper docker-credential-{name} answered something that is not credentials") from None
    if user == "<token>":  # an identity token for OAuth2 refresh: not supported, stay anonymous
        return None
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


# --- transport: one deadline per request, redirects by hand --------------------------------------


class _Deadline:
    """Shuts the request's sockets down when its time is up (a per-read timeout can't bound a trickle)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, deadline: _Deadline, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        self.timeout = min(self.timeout or TIMEOUT, self._deadline.remaining())
        super().connect()
        self._deadline.watch(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, deadline: _Deadline, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        create = self._create_connection

        def create_and_watch(*a, **k):
            sock = create(*a, **k)
            deadline.watch(sock)  # the TLS handshake is bounded too
            return sock

        self._create_connection = create_and_watch

    def connect(self) -> None:
        self.timeout = min(self.timeout or TIMEOUT, self._deadline.remaining())
        super().connect()
        self._deadline.watch(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(functools.partial(_HTTPConnection, deadline=self.deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(functools.partial(_HTTPSConnection, deadline=self.deadline), req, context=self._context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError: ``Registry`` follows them itself and decides on credentials."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib API
        return None


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _opener(url: str, deadline: _Deadline) -> urllib.request.OpenerDirector:
    handlers: list = [_HTTPHandler(deadline), _HTTPSHandler(deadline), _NoRedirect()]
    if _is_loopback(urllib.parse.urlsplit(url).hostname or ""):  # never send loopback traffic through a proxy
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)


class Response:
    """An open answer: ``status``, ``headers``, bounded reads; closing ends its deadline."""

    def __init__(self, raw, deadline: _Deadline, host: str, url: str) -> None:
        self.raw = raw
        self.deadline = deadline
        self.host = host
        self.url = url
        self.status = raw.status
        self.headers = raw.headers

    def read(self, n: int = -1) -> bytes:
        try:
            data = self.raw.read(n)
        except (http.client.HTTPException, OSError) as exc:
            if self.deadline.expired:
                raise RegistryError(f"{self.host} did not finish answering within {self.deadline.seconds:g}s") from None
            raise RegistryError(f"{self.host}: the answer broke off: {exc}") from None
        if self.deadline.expired:
            raise RegistryError(f"{self.host} did not finish answering within {self.deadline.seconds:g}s")
        return data

    def readable(self) -> bool:
        return True

    def read_bounded(self, limit: int, what: str) -> bytes:
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise RegistryError(f"{self.host}: {what} is {length} bytes, more than the {limit} allowed")
        body = self.read(limit + 1)
        if len(body) > limit:
            raise RegistryError(f"{self.host}: {what} is larger than the {limit} bytes allowed")
        return body

    def close(self) -> None:
        self.deadline.cancel()
        self.raw.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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

    def _request(self, method: str, url: str, data: bytes | None = None, headers: dict | None = None,
                 retry: bool = True, repository: str | None = None) -> Response:
        deadline = _Deadline(self.deadline)
        try:
            return self._follow(method, url, data, headers or {}, deadline, retry, repository)
        except BaseException:
            deadline.cancel()
            raise

    def _follow(self, method: str, url: str, data: bytes | None, headers: dict, deadline: _Deadline,
                retry: bool, repository: str | None) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise RegistryError(f"{self.host} redirected to a URL that is not http(s); refused")
            sent = {"User-Agent": "migrate-tui", **headers}
            authorization = self._authorization(url)
            if authorization:
                sent["Authorization"] = authorization
            request = urllib.request.Request(url, data=data, method=method, headers=sent)
            try:
                raw = _opener(url, deadline).open(request, timeout=min(self.timeout, deadline.remaining()))
                return Response(raw, deadline, self.host, url)
            except urllib.error.HTTPError as exc:
                if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                    url = urllib.parse.urljoin(url, exc.headers["Location"])
                    if exc.code == 303 or (exc.code in (301, 302) and method not in ("GET", "HEAD")):
                        method, data = "GET", None
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
                raise RegistryError(f"{self.host}: {exc}") from None
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

    def _http_error(self, exc: urllib.error.HTTPError, method: str, url: str, deadline: _Deadline) -> RegistryError:
        if exc.code == 404:
            return RegistryError(f"{url}: not found in {self.host}", 404)
        if exc.code in (401, 403):
            return RegistryError(f"{self.host} refused access to {url} ({exc.code}); credentials come from ~/.docker/config.json", exc.code)
        try:
            body = exc.read(MAX_ERROR_BODY).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            body = ""
        return RegistryError(f"{method} {url}: HTTP {exc.code} {_error_text(body) or exc.reason}", exc.code)

    def _fetch_token(self, challenge: str, repository: str | None) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            raise RegistryError(f"{self.host}: bearer challenge without realm")
        realm_origin = origin(realm)
        if realm_origin[0] not in ("http", "https"):
            raise RegistryError(f"{self.host}: bearer realm {realm[:100]!r} is not an http(s) URL; refused")
        if repository:
            params.setdefault("scope", f"repository:{repository}:pull")
        # Credentials go to the realm only over HTTPS, or over plain HTTP to this same (insecure) registry host.
        trusted = realm_origin[0] == "https" or (self.scheme == "http" and realm_origin[1] == origin(self.url("/"))[1])
        basic = self.credentials() if trusted else None
        headers = {"User-Agent": "migrate-tui", **({"Authorization": f"Basic {basic}"} if basic else {})}
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(params)
        deadline = _Deadline(self.deadline)
        try:
            raw = _opener(url, deadline).open(urllib.request.Request(url, headers=headers), timeout=min(self.timeout, deadline.remaining()))
            with Response(raw, deadline, self.host, url) as resp:
                answer = json.loads(resp.read_bounded(MAX_TOKEN, "the token answer"))
        except urllib.error.HTTPError as exc:
            deadline.cancel()
            raise RegistryError(f"{self.host}: the token service {realm} answered HTTP {exc.code}", exc.code) from None
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            deadline.cancel()
            raise RegistryError(f"{self.host}: cannot get a token from {realm}: {exc}") from None
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
        with self._request("GET", self.url(f"/v2/{repository}/manifests/{reference}"), headers={"Accept": ACCEPT},
                           repository=repository) as resp:
            body = resp.read_bounded(size if size is not None else MAX_MANIFEST, f"the manifest {repository}@{reference}")
            media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
            announced = resp.headers.get("Docker-Content-Digest")
        actual = sha256(body)
        expected = reference if pinned else (announced or actual)
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
        resp = self._request("GET", self.url(f"/v2/{repository}/blobs/{digest}"), repository=repository)
        length = resp.headers.get("Content-Length")
        bound = size if size is not None else limit
        if length and length.isdigit() and int(length) > bound:
            resp.close()
            raise RegistryError(f"{repository}: blob {digest} is announced as {length} bytes, more than the {bound} expected")
        return VerifiedReader(resp, digest, size, limit=limit, what=f"{self.host}/{repository}: blob")  # type: ignore[arg-type]

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
        if self.has_blob(repository, digest):
            return digest
        with self._request("POST", self.url(f"/v2/{repository}/blobs/uploads/"), data=b"") as resp:
            location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"{repository}: upload started without a Location")
        location = urllib.parse.urljoin(self.url("/"), location)
        separator = "&" if "?" in location else "?"
        # _authorization() drops our credentials if the Location is on another origin
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
    except (ValueError, AttributeError):
        return ""
    if not isinstance(errors, list):
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
    body = layout.read_blob(desc.digest, desc.size, limit=MAX_MANIFEST)
    manifest = json.loads(body)
    for blob in [manifest["config"], *manifest.get("layers", [])]:
        registry.push_blob(ref.repository, layout.read_blob(blob["digest"], int(blob["size"]), limit=int(blob["size"])))
    return registry.put_manifest(ref.repository, ref.tag or "latest", body, desc.media_type)
