"""OCI image layouts on disk and a minimal OCI distribution registry on 127.0.0.1.

The registry answers ``GET /v2/<name>/manifests/<tag|digest>`` and ``GET /v2/<name>/blobs/<digest>``
with the ``Docker-Content-Digest`` header, honours ``Accept``, and can demand an anonymous
bearer token (``WWW-Authenticate: Bearer realm=…/token,service=…``) like Docker Hub and GHCR.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"


def _blob(data: dict | bytes) -> tuple[bytes, str]:
    raw = data if isinstance(data, bytes) else json.dumps(data, sort_keys=True).encode()
    return raw, "sha256:" + hashlib.sha256(raw).hexdigest()


def image_blobs(platforms: list[str]) -> tuple[dict[str, bytes], str, str]:
    """(blobs by digest, top digest, top media type) for an image over ``platforms``."""
    blobs: dict[str, bytes] = {}
    manifests = []
    for platform in platforms:
        os_name, arch = platform.split("/")[:2]
        config, config_digest = _blob({"architecture": arch, "os": os_name, "rootfs": {"type": "layers", "diff_ids": []}})
        blobs[config_digest] = config
        manifest, manifest_digest = _blob(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "config": {"mediaType": CONFIG, "digest": config_digest, "size": len(config)},
                "layers": [],
            }
        )
        blobs[manifest_digest] = manifest
        manifests.append(
            {"mediaType": MANIFEST, "digest": manifest_digest, "size": len(manifest), "platform": {"architecture": arch, "os": os_name}}
        )
    if len(platforms) == 1:
        top = manifests[0]["digest"]
        return blobs, top, MANIFEST
    index, index_digest = _blob({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests})
    blobs[index_digest] = index
    return blobs, index_digest, INDEX


def write_layout(directory: Path, images: dict[str, list[str]], *, full_names: bool = True) -> dict[str, str]:
    """An OCI layout holding ``{reference: platforms}``; returns {reference: digest}."""
    (directory / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    entries, digests = [], {}
    for reference, platforms in images.items():
        blobs, top, media = image_blobs(platforms)
        for digest, raw in blobs.items():
            (directory / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(raw)
        tag = reference.rsplit(":", 1)[1]
        annotations = {"org.opencontainers.image.ref.name": tag}
        if full_names:
            annotations["io.containerd.image.name"] = reference
        entries.append({"mediaType": media, "digest": top, "size": len(blobs[top]), "annotations": annotations})
        digests[reference] = top
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}))
    return digests


class Registry:
    """``with Registry({"site:1.0": ["linux/amd64"]}) as reg: reg.host`` → ``127.0.0.1:PORT``."""

    def __init__(self, images: dict[str, list[str]], *, token: str | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self.tags: dict[tuple[str, str], tuple[str, str]] = {}
        self.token = token
        self.requests: list[dict] = []
        for reference, platforms in images.items():
            name, tag = reference.rsplit(":", 1)
            blobs, top, media = image_blobs(platforms)
            self.blobs.update(blobs)
            self.tags[(name, tag)] = (top, media)
        registry = self
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {"registry": registry}))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> Registry:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    registry: Registry

    def log_message(self, *args) -> None:
        pass

    def _reply(self, code: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        reg = self.registry
        reg.requests.append({"path": url.path, "accept": self.headers.get("Accept"), "authorization": self.headers.get("Authorization")})
        if url.path == "/token":
            scope = parse_qs(url.query).get("scope", [""])[0]
            self._reply(200, json.dumps({"token": reg.token, "scope": scope}).encode(), {"Content-Type": "application/json"})
            return
        if reg.token and self.headers.get("Authorization") != f"Bearer {reg.token}":
            realm = f"http://{reg.host}/token"
            self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": f'Bearer realm="{realm}",service="standin"'})
            return
        parts = url.path.split("/")
        if len(parts) >= 5 and parts[1] == "v2" and parts[-2] in ("manifests", "blobs"):
            name, kind, ref = "/".join(parts[2:-2]), parts[-2], parts[-1]
            if kind == "blobs" or ref.startswith("sha256:"):
                raw = reg.blobs.get(ref)
                media = json.loads(raw).get("mediaType", CONFIG) if raw else None
            else:
                found = reg.tags.get((name, ref))
                raw, media = (reg.blobs[found[0]], found[1]) if found else (None, None)
            if raw is None:
                self._reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                return
            if kind == "manifests" and media not in (self.headers.get("Accept") or ""):
                self._reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"not acceptable"}]}')
                return
            digest = "sha256:" + hashlib.sha256(raw).hexdigest()
            self._reply(200, raw, {"Content-Type": media, "Docker-Content-Digest": digest})
            return
        self._reply(404)
