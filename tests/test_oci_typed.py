"""What typing oci/ and commands/ (mypy --strict) brought to light, each with a real component:
hostile OCI layouts given as ``--image REF=oci:DIR``, a ``docker save`` archive written by skopeo,
and a loopback server that answers a streamed upload with a 303."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "k8s_standin"))

from hostile import Reply, Request, Server  # noqa: E402
from migrate_tui.cli import main  # noqa: E402
from migrate_tui.oci.build import build  # noqa: E402
from migrate_tui.oci.registry import Registry  # noqa: E402
from migrate_tui.oci.source import SourceError, open_image, open_tree  # noqa: E402


def _copy_from(tmp_path: Path, base: Path) -> list[str]:
    """``migrate-tui build`` of a Dockerfile that copies from the image in ``base``."""
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM example.test/base:1 AS base\nFROM scratch\nCOPY --from=base /site /site\n")
    return ["build", str(context), "-t", "example.test/site:1", "-o", str(tmp_path / "out"), "--image", f"example.test/base:1=oci:{base}"]


def _site(tmp_path: Path) -> Path:
    context = tmp_path / "site-ctx"
    (context / "site").mkdir(parents=True)
    (context / "site" / "index.html").write_text("<h1>hi</h1>\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY site/ /site/\n")
    return context


def test_a_layout_whose_index_is_not_an_object_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Layout.index() returned whatever index.json held: a JSON array ended in AttributeError
    # ("internal error") instead of the user's error about the layout they named
    base = tmp_path / "base"
    base.mkdir()
    (base / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (base / "index.json").write_text("[]")
    assert main(_copy_from(tmp_path, base)) == 2
    err = capsys.readouterr().err
    assert err == f"migrate-tui build: error: oci:{base}: {base}: not an OCI image layout (index.json: not a JSON object)\n"
    assert not (tmp_path / "out").exists()


def test_a_layout_whose_tag_annotation_is_not_a_string_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Descriptor.annotations promised str values; a number under ref.name reached name.rsplit()
    base = tmp_path / "base"
    context = _site(tmp_path)
    result = build(context / "Dockerfile", context, tag="1", output=base)
    index = json.loads((base / "index.json").read_text())
    index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": 7}
    (base / "index.json").write_text(json.dumps(index))
    with pytest.raises(SourceError) as raised:
        open_image(f"oci:{base}:1")
    assert str(raised.value) == f"oci:{base}:1: the descriptor of {result.descriptor.digest} has annotations that are not strings"
    assert main(_copy_from(tmp_path, base)) == 2
    assert capsys.readouterr().err == (
        f"migrate-tui build: error: oci:{base}: the descriptor of {result.descriptor.digest} has annotations that are not strings\n"
    )


@pytest.mark.parametrize("entry", ['"sha256:0"', "[1]", "null"])
def test_a_layout_whose_index_lists_a_descriptor_that_is_not_an_object_is_a_one_line_error(tmp_path: Path, entry: str) -> None:
    # was one line before too (a TypeError's wording); guards Descriptor.from_json's new checks, which read data.get
    base = tmp_path / "base"
    base.mkdir()
    (base / "index.json").write_text('{"schemaVersion": 2, "manifests": [%s]}' % entry)
    with pytest.raises(SourceError) as raised:
        open_image(f"oci:{base}")
    assert str(raised.value) == f"oci:{base}: a descriptor is not a JSON object"


@pytest.mark.skipif(not shutil.which("skopeo"), reason="needs skopeo (make test installs it)")
def test_a_docker_save_archive_gives_the_same_tree_as_its_layout(tmp_path: Path) -> None:
    # the archive's layers are read through _ClosingMember (now an io.RawIOBase) under io.BufferedReader
    context = _site(tmp_path)
    (context / "site" / "big.bin").write_bytes(bytes(range(256)) * 8192)  # 2 MiB: more than one buffered read
    build(context / "Dockerfile", context, tag="1", output=tmp_path / "layout")
    archive = tmp_path / "site.tar"
    subprocess.run(
        ["skopeo", "copy", "--quiet", f"oci:{tmp_path / 'layout'}:1", f"docker-archive:{archive}:example.test/site:1"],
        check=True,
        capture_output=True,
    )
    from_layout = open_tree(f"oci:{tmp_path / 'layout'}:1")
    from_archive = open_tree(f"docker-archive:{archive}")
    assert sorted(from_archive) == ["", "site", "site/big.bin", "site/index.html"]
    assert from_archive["site/big.bin"].data == bytes(range(256)) * 8192
    assert from_archive["site/index.html"].data == b"<h1>hi</h1>\n"
    assert {p: (n.kind, n.digest, n.size) for p, n in from_archive.items()} == {
        p: (n.kind, n.digest, n.size) for p, n in from_layout.items()
    }


class _Tracked(io.BytesIO):
    opened: list[_Tracked] = []

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        _Tracked.opened.append(self)


@pytest.mark.timeout(60)
def test_a_streamed_upload_answered_with_303_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Registry._follow closed a streamed body only while `data` was still callable: a 303 (which
    # turns the PUT into a GET without a body) left the upload's stream open
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_Tracked, "opened", [])

    def registry(request: Request) -> Reply:
        path = request.path.split("?")[0]
        if request.method == "HEAD":
            return Reply(404)
        if request.method == "POST":
            return Reply(202, {"Location": "/v2/team/site/blobs/uploads/session-1"})
        if request.method == "PUT":
            return Reply(303, {"Location": "/v2/team/site/blobs/uploads/session-1/done"})
        return Reply(201 if path.endswith("/done") else 404)

    body = b"layer bytes\n"
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    with Server(registry) as server:
        assert Registry(server.host).push_blob_stream("team/site", digest, len(body), lambda: _Tracked(body)) == digest
    assert [(r.method, r.path.split("?")[0], r.body) for r in server.requests] == [
        ("HEAD", f"/v2/team/site/blobs/{digest}", b""),
        ("POST", "/v2/team/site/blobs/uploads/", b""),
        ("PUT", "/v2/team/site/blobs/uploads/session-1", body),
        ("GET", "/v2/team/site/blobs/uploads/session-1/done", b""),
    ]
    assert [stream.closed for stream in _Tracked.opened] == [True]


@pytest.mark.parametrize(
    "entry",
    ['{"annotations": 5}', '{"mediaType": "x", "size": 1}', '{"mediaType": "x", "digest": "sha256:00", "size": "big"}', "[]"],
)
def test_building_into_a_layout_with_a_broken_index_entry_is_a_one_line_error(
    tmp_path: Path, entry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # build -o into an existing layout read its index.json entries unchecked: an entry of the wrong
    # shape was an internal error (AttributeError, KeyError); the index is left as it was
    out = tmp_path / "out"
    out.mkdir()
    (out / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    broken = '{"schemaVersion": 2, "manifests": [%s]}' % entry
    (out / "index.json").write_text(broken)
    context = _site(tmp_path)
    code = main(["build", str(context), "-t", "site:1", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("migrate-tui build: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "internal error" not in err
    assert (out / "index.json").read_text() == broken


def test_a_layout_index_is_replaced_whole(tmp_path: Path) -> None:
    # index.json is written to a temporary file beside it and renamed over it: a reader (or a
    # crash) never sees half of it, and no temporary file is left behind
    context = _site(tmp_path)
    out = tmp_path / "out"
    build(context / "Dockerfile", context, tag="1", output=out)
    first = (out / "index.json").stat().st_ino
    build(context / "Dockerfile", context, tag="2", output=out)
    assert (out / "index.json").stat().st_ino != first
    names = sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in json.loads((out / "index.json").read_text())["manifests"])
    assert names == ["1", "2"]
    assert sorted(p.name for p in out.iterdir()) == ["blobs", "index.json", "oci-layout"]
