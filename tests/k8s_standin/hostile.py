"""Hostile servers and images for the security tests (loopback only, everything built here).

- ``Server(handler, address)``: a threaded HTTP server on ``127.0.0.x`` that records every
  request (method, path, headers) and answers with ``handler(request) -> Reply`` — a test
  writes a lying registry, a blob store, a token realm or a slow-loris in a few lines;
- ``tls_files(tmp)``: a self-signed certificate for ``127.0.0.2`` (openssl), to run a
  registry over HTTPS that the client trusts through ``SSL_CERT_FILE``;
- tar/gzip builders for layers (bombs by concatenated gzip members, sparse headers).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import ssl
import subprocess
import tarfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    length: int | None = None  # Content-Length to announce (default: len(body) when body is bytes)
    pause: float = 0.0  # seconds between chunks of an iterable body
    raw: Iterable[bytes] | None = None  # bytes written as they are (status line and headers included), ``pause`` apart


class Server:
    """``with Server(handler, "127.0.0.2") as s: s.host`` → ``127.0.0.2:PORT``; ``s.requests``."""

    def __init__(self, handler: Callable[[Request], Reply], address: str = "127.0.0.1", *, tls: tuple[Path, Path] | None = None) -> None:
        self.requests: list[Request] = []
        self.handler = handler
        self.server = ThreadingHTTPServer((address, 0), type("H", (_Handler,), {"owner": self}))
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.owner.requests.append(request)
        reply = self.owner.handler(request)
        try:
            if reply.raw is not None:
                for chunk in reply.raw:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(reply.pause)
                self.close_connection = True
                return
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if isinstance(reply.body, bytes):
                self.send_header("Content-Length", str(reply.length if reply.length is not None else len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
                return
            if reply.length is not None:
                self.send_header("Content-Length", str(reply.length))
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in reply.body:
                self.wfile.write(chunk)
                self.wfile.flush()
                if reply.pause:
                    time.sleep(reply.pause)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _handle  # noqa: N815


def tls_files(directory: Path, ip: str = "127.0.0.2") -> tuple[Path, Path]:
    """(certificate, key) for ``ip``, self-signed; trust it with ``SSL_CERT_FILE=certificate``."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={ip}",
            "-addext",
            f"subjectAltName=IP:{ip}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


# --- images ----------------------------------------------------------------------------------------


def tar_of(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def zero_bomb(name: str, size: int, *, chunk: int = 1 << 20) -> bytes:
    """A gzip'd tar with one file of ``size`` zero bytes, a few KiB per MiB: concatenated gzip
    members of one pre-compressed MiB of zeros (a valid gzip stream, as RFC 1952 allows)."""
    assert size % chunk == 0
    info = tarfile.TarInfo(name)
    info.size = size
    header = info.tobuf(format=tarfile.PAX_FORMAT)
    zeros = gzip.compress(b"\0" * chunk, compresslevel=9, mtime=0)
    return gzip.compress(header, mtime=0) + zeros * (size // chunk) + gzip.compress(b"\0" * 1024, mtime=0)


def gnu_sparse_tar(name: str, real_size: int) -> bytes:
    """An old-GNU sparse entry: a tiny archive whose one file claims ``real_size`` bytes of holes."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.GNUTYPE_SPARSE
    info.size = 0
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    # one sparse region (offset real_size-1, 1 byte... but no data stored), realsize at 483
    header[386:398] = b"%011o\0" % (real_size - 1)
    header[398:410] = b"%011o\0" % 0
    header[483:495] = b"%011o\0" % real_size
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + b"\0" * 1024


def write_layout(directory: Path, layers: list[bytes], *, tag: str = "1.0") -> dict:
    """An OCI layout with one image of ``layers`` (already compressed blobs); returns the manifest."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    descriptors = []
    for layer in layers:
        (blobs / digest_of(layer)[7:]).write_bytes(layer)
        descriptors.append({"mediaType": LAYER, "digest": digest_of(layer), "size": len(layer)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    (blobs / digest_of(config)[7:]).write_bytes(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": descriptors,
    }
    body = json.dumps(manifest).encode()
    (blobs / digest_of(body)[7:]).write_bytes(body)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": MANIFEST, "digest": digest_of(body), "size": len(body), "annotations": {"org.opencontainers.image.ref.name": tag}}
        ],
    }
    (directory / "index.json").write_text(json.dumps(index))
    return manifest


def image_blobs(files: dict[str, bytes]) -> tuple[dict[str, bytes], bytes]:
    """(blobs by digest, manifest body) of a one-layer image holding ``files``."""
    layer = gzip.compress(tar_of(files), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": digest_of(config), "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": digest_of(layer), "size": len(layer)}],
        }
    ).encode()
    return {digest_of(layer): layer, digest_of(config): config}, manifest


@dataclass
class RegistryApp:
    """A small distribution-API handler for ``Server``: serves ``manifests`` (tag or digest → body)
    and ``blobs``; can demand Basic or Bearer auth, redirect blob GETs, and accept pushes whose
    upload ``Location`` points elsewhere. Hostile variants are plain attribute changes."""

    blobs: dict = field(default_factory=dict)
    manifests: dict = field(default_factory=dict)
    basic: str | None = None  # base64 user:password required
    token: str | None = None  # bearer token required (realm given by ``realm``)
    realm: str = ""
    token_basic: str | None = None  # the /token endpoint here wants these Basic credentials
    blob_redirect: Callable[[str], str] | None = None  # digest -> URL to 307 to
    upload_location: str | None = None  # absolute Location for POST /blobs/uploads/
    send_digest_header: bool = True

    def authorized(self, request: Request) -> Reply | None:
        got = request.headers.get("authorization")
        if self.basic and got != f"Basic {self.basic}":
            return Reply(401, {"WWW-Authenticate": 'Basic realm="hostile"'}, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        if self.token and got != f"Bearer {self.token}":
            return Reply(
                401, {"WWW-Authenticate": f'Bearer realm="{self.realm}",service="hostile"'}, b'{"errors":[{"code":"UNAUTHORIZED"}]}'
            )
        return None

    def __call__(self, request: Request) -> Reply:
        path = request.path.split("?")[0]
        if path == "/token":
            if self.token_basic and request.headers.get("authorization") != f"Basic {self.token_basic}":
                return Reply(401, {}, b"{}")
            return Reply(200, {"Content-Type": "application/json"}, json.dumps({"token": self.token}).encode())
        if path == "/v2/":
            return self.authorized(request) or Reply(200, {}, b"{}")
        denied = self.authorized(request)
        if denied:
            return denied
        parts = path.split("/")
        if request.method == "POST" and path.endswith("/blobs/uploads/"):
            return Reply(202, {"Location": self.upload_location or f"{path}session-1"})
        if request.method == "PUT" and "/manifests/" in path:
            self.manifests[parts[-1]] = request.body
            return Reply(201, {"Docker-Content-Digest": digest_of(request.body)})
        if request.method == "HEAD" and "/blobs/" in path:
            return Reply(200 if parts[-1] in self.blobs else 404, {}, b"")
        if "/manifests/" in path:
            body = self.manifests.get(parts[-1])
            if body is None:
                return Reply(404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            headers = {"Content-Type": MANIFEST}
            if self.send_digest_header:
                headers["Docker-Content-Digest"] = digest_of(body)
            return Reply(200, headers, body)
        if "/blobs/" in path:
            if self.blob_redirect:
                return Reply(307, {"Location": self.blob_redirect(parts[-1])}, b"")
            body = self.blobs.get(parts[-1])
            return Reply(200, {}, body) if body is not None else Reply(404, {}, b"")
        return Reply(404, {}, b"")


def blob_store(blobs: dict) -> Callable[[Request], Reply]:
    """Another host that serves blobs at ``/store/<digest>?sig=…`` and takes uploads (PUT)."""

    def handle(request: Request) -> Reply:
        path = request.path.split("?")[0]
        if request.method == "PUT":
            return Reply(201, {}, b"")
        body = blobs.get(path.rsplit("/", 1)[-1])
        return Reply(200, {}, body) if body is not None else Reply(404, {}, b"")

    return handle
