"""HTTP for the registry client: a total deadline per request, no automatic redirects, bounded reads.

``urllib`` follows redirects itself and copies ``Authorization`` to any host; here a redirect
comes back to the caller, which decides what to send where. A per-read timeout can't bound a
server that drips one byte at a time, so every request also has a deadline after which its
sockets are shut down.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from types import TracebackType
from typing import IO, Any, Callable

TIMEOUT = 30  # seconds without a byte before a read fails
BLOCKSIZE = 1 << 20  # a streamed request body is sent in blocks of this size
DEADLINE = 300  # seconds for one whole request, body included


class RegistryError(Exception):
    """A registry answer that stops the command; the message is one line for the user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Deadline:
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
    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        self.timeout = min(self.timeout or TIMEOUT, self._deadline.remaining())
        super().connect()
        self._deadline.watch(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    _create_connection: Callable[..., socket.socket]  # set by HTTPConnection.__init__; typeshed leaves it out

    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        create = self._create_connection

        def create_and_watch(*a: Any, **k: Any) -> socket.socket:
            sock = create(*a, **k)
            deadline.watch(sock)  # the TLS handshake is bounded too
            return sock

        self._create_connection = create_and_watch

    def connect(self) -> None:
        self.timeout = min(self.timeout or TIMEOUT, self._deadline.remaining())
        super().connect()
        self._deadline.watch(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPConnection, deadline=self.deadline, blocksize=BLOCKSIZE), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline, context: ssl.SSLContext | None = None) -> None:
        super().__init__(context=context)
        self.deadline = deadline
        self.context = context  # None: http.client's default context (system CAs, SSL_CERT_FILE)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPSConnection, deadline=self.deadline, blocksize=BLOCKSIZE), req, context=self.context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError: ``Registry`` follows them itself and decides on credentials."""

    def redirect_request(  # noqa: PLR0913 - urllib API
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def opener(url: str, deadline: Deadline) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_HTTPHandler(deadline), _HTTPSHandler(deadline), _NoRedirect()]
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

    def __init__(self, raw: http.client.HTTPResponse, deadline: Deadline, host: str, url: str) -> None:
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

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.close()
