"""Issue 11 item 8: what a registry (or a layout) returns for a digest must be that digest.

A hostile registry answers ``@sha256:GOOD`` with other content: no digest header, or a header
that repeats the digest asked for. Blobs that differ, or run past their descriptor's size,
are refused while they stream.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s_standin"))

from hostile import Reply, RegistryApp, Server, digest_of, image_blobs, write_layout  # noqa: E402
from migrate_tui.cli import main  # noqa: E402
from migrate_tui.oci.registry import Registry, RegistryError  # noqa: E402
from migrate_tui.oci.source import SourceError, open_tree  # noqa: E402


@pytest.fixture(autouse=True)
def no_proxies_no_login(tmp_path: Path, monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


GOOD_BLOBS, GOOD = image_blobs({"site/index.html": b"<h1>the real site</h1>\n"})
EVIL_BLOBS, EVIL = image_blobs({"site/index.html": b"<script>steal()</script>\n"})
GOOD_DIGEST, EVIL_DIGEST = digest_of(GOOD), digest_of(EVIL)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("header", [False, True])  # no Docker-Content-Digest / one that lies
def test_a_pinned_manifest_with_other_content_is_refused(header: bool) -> None:
    app = RegistryApp(blobs={**GOOD_BLOBS, **EVIL_BLOBS}, manifests={GOOD_DIGEST: EVIL}, send_digest_header=False)
    if header:
        original = app.__call__
        app = lambda r: _with_header(original(r), GOOD_DIGEST)  # noqa: E731
    with Server(app) as registry:
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host).get_manifest("team/site", GOOD_DIGEST)
    assert str(caught.value) == f"team/site@{GOOD_DIGEST}: the registry sent a manifest whose digest is {EVIL_DIGEST}, not {GOOD_DIGEST}"


def _with_header(reply: Reply, digest: str) -> Reply:
    reply.headers["Docker-Content-Digest"] = digest
    return reply


@pytest.mark.timeout(60)
def test_build_never_bakes_content_that_does_not_match_the_pinned_digest(tmp_path: Path, capsys) -> None:
    app = RegistryApp(blobs={**GOOD_BLOBS, **EVIL_BLOBS}, manifests={GOOD_DIGEST: EVIL}, send_digest_header=False)
    with Server(app) as registry:
        context = tmp_path / "assets"
        context.mkdir()
        (context / "Dockerfile").write_text(
            f"FROM {registry.host}/team/site@{GOOD_DIGEST} AS source\nFROM scratch\nCOPY --from=source /site/ /site/\n"
        )
        code = main(["build", str(context), "-t", "example.test/site-assets:1", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"migrate-tui build: error: {registry.host}/team/site@{GOOD_DIGEST}: team/site@{GOOD_DIGEST}: "
        f"the registry sent a manifest whose digest is {EVIL_DIGEST}, not {GOOD_DIGEST}\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.timeout(60)
def test_a_blob_with_other_bytes_of_the_same_size_is_refused() -> None:
    layer = json.loads(GOOD)["layers"][0]
    forged = bytes(b ^ 0xFF for b in GOOD_BLOBS[layer["digest"]])
    app = RegistryApp(blobs={layer["digest"]: forged})
    with Server(app) as registry:
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host).get_blob("team/site", layer["digest"], layer["size"])
    assert str(caught.value) == f"{registry.host}/team/site: blob {layer['digest']} does not match its digest"


@pytest.mark.timeout(60)
def test_a_blob_that_runs_past_its_descriptor_is_cut_off() -> None:
    layer = json.loads(GOOD)["layers"][0]

    def endless(request):  # the right bytes, then zeros (bounded here only to keep a broken client from eating RAM)
        if "/blobs/" not in request.path:
            return Reply(404)
        return Reply(200, {}, iter([GOOD_BLOBS[layer["digest"]]] + [b"\0" * 65536] * 512))

    with Server(endless) as registry:
        with pytest.raises(RegistryError) as caught:
            Registry(registry.host).get_blob("team/site", layer["digest"], layer["size"])
    assert str(caught.value) == f"{registry.host}/team/site: blob {layer['digest']} is larger than its descriptor's {layer['size']} bytes"


def test_a_layout_blob_that_does_not_match_its_descriptor_size_is_refused(tmp_path: Path) -> None:
    manifest = write_layout(tmp_path / "layout", [GOOD_BLOBS[json.loads(GOOD)["layers"][0]["digest"]]])
    layer = manifest["layers"][0]
    blob = tmp_path / "layout" / "blobs" / "sha256" / layer["digest"][7:]
    blob.write_bytes(blob.read_bytes() + b"trailing")
    with pytest.raises(SourceError) as caught:
        open_tree(f"oci:{tmp_path / 'layout'}:1.0")
    assert str(caught.value) == (
        f"oci:{tmp_path / 'layout'}:1.0: {tmp_path / 'layout'}: layer {layer['digest']} "
        f"is larger than its descriptor's {layer['size']} bytes"
    )
