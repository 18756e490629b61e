"""Issue 11 item 7: credentials never follow a redirect (or an upload Location) to another origin.

Two local servers: the registry on 127.0.0.1 and a "blob store" on 127.0.0.2 (another host) or on
127.0.0.1 with another port (another origin). Each records the headers it received.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s_standin"))

from hostile import RegistryApp, Server, blob_store, digest_of, image_blobs  # noqa: E402
from migrate_tui.oci.build import build  # noqa: E402
from migrate_tui.oci.registry import Registry, push_layout  # noqa: E402

BASIC = base64.b64encode(b"alice:s3cret").decode()


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch) -> Path:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


def _login(config: Path, host: str) -> None:
    (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": BASIC}}}))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("auth", ["basic", "bearer"])
@pytest.mark.parametrize("elsewhere", ["127.0.0.2", "127.0.0.1"])  # another host / the same host, another port
def test_a_blob_redirect_to_another_origin_gets_no_credentials(docker_config: Path, auth: str, elsewhere: str) -> None:
    blobs, manifest = image_blobs({"site/index.html": b"<h1>hi</h1>\n"})
    layer = json.loads(manifest)["layers"][0]
    with Server(blob_store(blobs), elsewhere) as store:
        app = RegistryApp(
            blobs=blobs, manifests={"1.0": manifest}, blob_redirect=lambda d: f"{store.url}/store/{d}?X-Amz-Signature=presigned"
        )
        with Server(app, "127.0.0.1") as registry:
            if auth == "basic":
                app.basic = BASIC
            else:
                app.token, app.realm, app.token_basic = "tok3n", f"{registry.url}/token", BASIC
            _login(docker_config, registry.host)
            data = Registry(registry.host).get_blob("team/site", layer["digest"], layer["size"])
    assert data == blobs[layer["digest"]]
    sent = "Basic " + BASIC if auth == "basic" else "Bearer tok3n"
    blob_gets = [r for r in registry.requests if "/blobs/" in r.path]
    assert [r.headers.get("authorization") for r in blob_gets] == [None, sent]  # challenge, then credentials
    assert [(r.path, r.headers.get("authorization")) for r in store.requests] == [
        (f"/store/{layer['digest']}?X-Amz-Signature=presigned", None)
    ]


@pytest.mark.timeout(60)
def test_a_push_upload_location_on_another_host_gets_no_credentials(tmp_path: Path, docker_config: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "index.html").write_text("<h1>hi</h1>\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY index.html /site/\n")
    result = build(context / "Dockerfile", context, tag="1.0", output=tmp_path / "layout")
    with Server(blob_store({}), "127.0.0.2") as store:
        app = RegistryApp(basic=BASIC, upload_location=f"{store.url}/upload/session-1?signature=abc")
        with Server(app, "127.0.0.1") as registry:
            _login(docker_config, registry.host)
            digest = push_layout(result.layout, "1.0", f"{registry.host}/team/site:1.0")
    assert digest == result.descriptor.digest and digest_of(app.manifests["1.0"]) == digest
    assert [(r.method, r.headers.get("authorization")) for r in store.requests] == [("PUT", None), ("PUT", None)]
    assert all(r.path.startswith("/upload/session-1?signature=abc&digest=sha256%3A") for r in store.requests)
    assert all(r.headers.get("authorization") == f"Basic {BASIC}" for r in registry.requests[1:])
