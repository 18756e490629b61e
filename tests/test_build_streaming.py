"""Issue 14 item 2: ``build`` and ``--push`` of big assets in constant memory, reproducibly.

The memory tests run the real CLI in a child process and read its peak RSS with
``getrusage(RUSAGE_CHILDREN)`` in a wrapper process of their own (memory, not wall clock: no
timing is asserted). Before streaming, a build held every body twice (tar and gzip in memory):
the 200 MB asset here peaked near 800 MB.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrate_tui.cli import main
from migrate_tui.oci.build import BuildError, build
from migrate_tui.oci.layout import BodyChanged, FileEntry, Layout, make_layer, sha256, write_layer
from migrate_tui.oci.registry import RegistryError, push_layout
from migrate_tui.oci.source import open_image, open_tree
from test_oci import need, registry  # noqa: F401 - the real local registry fixture

MiB = 1 << 20
BOUND_MB = 150
WRAPPER = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr,
                  "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
try:
    import zstandard  # noqa: F401

    HAVE_ZSTD = True
except ImportError:  # pragma: no cover - the test extra installs it
    HAVE_ZSTD = False


def _cli(*args: str) -> dict:
    """Run ``migrate-tui ARGS`` in a wrapper process; its exit code, output and peak RSS in MB."""
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, sys.executable, "-m", "migrate_tui", *args], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout)


def _sparse_assets(root: Path, size_mb: int = 200) -> Path:
    """A model-like context: one big mostly-hole weights file with random blocks, and small files."""
    context = root / "ctx"
    (context / "model" / "shards").mkdir(parents=True)
    big = context / "model" / "weights.bin"
    with open(big, "wb") as out:
        out.truncate((size_mb - 40) * MiB)
        for block in range(0, size_mb - 40, 16):  # 1 MiB of noise every 16 MiB: not all zeros
            out.seek(block * MiB)
            out.write(os.urandom(MiB))
    for number in range(40):
        (context / "model" / "shards" / f"part-{number:02d}.bin").write_bytes(os.urandom(256 << 10) + bytes(768 << 10))
    (context / "Dockerfile").write_text("FROM scratch\nCOPY model/ /models/bench/\n")
    return context


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _layers(layout: Path, tag: str) -> list[dict]:
    return open_image(f"oci:{layout}:{tag}").manifest["layers"]


@pytest.mark.timeout(600)
def test_a_200_mb_build_and_a_copy_from_it_stay_under_150_mb_of_memory(tmp_path: Path) -> None:
    context = _sparse_assets(tmp_path)
    run = _cli("build", str(context), "-t", "example.test/bench:1", "-o", str(tmp_path / "a"))
    assert run["rc"] == 0, run["err"]
    assert run["out"].startswith("built example.test/bench:1: sha256:")
    assert run["rss_mb"] < BOUND_MB, f"build peaked at {run['rss_mb']:.0f} MB"
    tree = open_tree(f"oci:{tmp_path / 'a'}:1", keep_data=False)
    weights = tree["models/bench/weights.bin"]
    assert (weights.size, weights.digest) == (160 * MiB, _file_sha256(context / "model" / "weights.bin"))
    assert sorted(p for p in tree if p.startswith("models/bench/shards/"))[:2] == [
        "models/bench/shards/part-00.bin",
        "models/bench/shards/part-01.bin",
    ]

    # COPY --from the built image: the bodies go through a spool file, not memory; same files, same layer
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "Dockerfile").write_text("FROM example.test/bench:1 AS src\nFROM scratch\nCOPY --from=src /models/ /models/\n")
    run = _cli(
        "build",
        str(tmp_path / "copy"),
        "-t",
        "example.test/copy:1",
        "-o",
        str(tmp_path / "b"),
        "--image",
        f"example.test/bench:1=oci:{tmp_path / 'a'}:1",
    )
    assert run["rc"] == 0, run["err"]
    assert run["rss_mb"] < BOUND_MB, f"build with COPY --from peaked at {run['rss_mb']:.0f} MB"
    assert _layers(tmp_path / "b", "1") == _layers(tmp_path / "a", "1")  # the configs differ: their history names the COPY


@need
@pytest.mark.timeout(600)
def test_pushing_a_200_mb_image_stays_under_150_mb_and_skopeo_sees_it(tmp_path: Path, registry: str) -> None:  # noqa: F811
    context = _sparse_assets(tmp_path)
    run = _cli("build", str(context), "-t", f"{registry}/bench/model:1", "-o", str(tmp_path / "oci"), "--push")
    assert run["rc"] == 0, run["err"]
    assert run["rss_mb"] < BOUND_MB, f"build --push peaked at {run['rss_mb']:.0f} MB"
    built = Layout(tmp_path / "oci").find(f"{registry}/bench/model:1")
    assert run["out"].splitlines()[-1] == f"pushed {registry}/bench/model:1@{built.digest}"
    raw = json.loads(
        subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{registry}/bench/model:1"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert sha256(json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()) == built.digest
    assert raw["layers"] == _layers(tmp_path / "oci", "1")
    assert raw["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"

    # the other image sources stream their layers too: COPY --from the registry, and from a docker save archive
    archive = tmp_path / "bench.tar"
    subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", f"docker://{registry}/bench/model:1", f"docker-archive:{archive}:bench/model:1"],
        check=True,
        capture_output=True,
    )
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "Dockerfile").write_text(
        f"FROM {registry}/bench/model:1 AS src\nFROM scratch\nCOPY --from=src /models/ /models/\n"
    )
    for name, extra in (("registry", []), ("archive", ["--image", f"{registry}/bench/model:1=docker-archive:{archive}"])):
        run = _cli("build", str(tmp_path / "copy"), "-t", "example.test/copy:1", "-o", str(tmp_path / name), *extra)
        assert run["rc"] == 0, run["err"]
        assert run["rss_mb"] < BOUND_MB, f"COPY --from the {name} peaked at {run['rss_mb']:.0f} MB"
        assert _layers(tmp_path / name, "1") == raw["layers"]


def test_the_streamed_layer_is_byte_for_byte_the_in_memory_one(tmp_path: Path) -> None:
    body = os.urandom(3 * MiB + 123)  # crosses the 1 MiB chunks of the compressing thread
    entries = [
        FileEntry("a/big.bin", "file", body, mode=0o600),
        FileEntry("a/link", "symlink", mode=0o777, linkname="big.bin"),
        FileEntry("b/empty", "file", b""),
        FileEntry("a", "dir", mode=0o750, uid=7, gid=8),
    ]
    tar_bytes, gz = make_layer(entries)
    streamed = [FileEntry("a/big.bin", "file", mode=0o600, opener=lambda: io.BytesIO(body), size=len(body)), *entries[1:]]
    written = write_layer(Layout(tmp_path), streamed, level=6)  # make_layer's level: the test images keep their digests
    assert (written.descriptor.digest, written.descriptor.size) == (sha256(gz), len(gz))
    assert (written.diff_id, written.tar_size) == (sha256(tar_bytes), len(tar_bytes))
    assert (tmp_path / "blobs" / "sha256" / sha256(gz)[7:]).read_bytes() == gz
    assert os.listdir(tmp_path / "blobs" / "sha256") == [sha256(gz)[7:]]  # no temporary file left


def test_a_body_that_changes_size_while_the_layer_is_written_stops_it_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(BodyChanged) as shorter:
        write_layer(Layout(tmp_path), [FileEntry("w.bin", "file", opener=lambda: io.BytesIO(b"x" * 10), size=11)])
    assert str(shorter.value) == "/w.bin became shorter while the layer was written"
    with pytest.raises(BodyChanged) as longer:
        write_layer(Layout(tmp_path), [FileEntry("w.bin", "file", opener=lambda: io.BytesIO(b"x" * 12), size=11)])
    assert str(longer.value) == "/w.bin became longer while the layer was written"
    assert os.listdir(tmp_path / "blobs" / "sha256") == []


def test_same_input_same_digest_and_each_level_its_own(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    (context / "site").mkdir(parents=True)
    (context / "site" / "index.html").write_text("<h1>hi</h1>\n" * 1000)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY site/ /site/\n")
    first = build(context / "Dockerfile", context, tag="1", output=tmp_path / "a")
    second = build(context / "Dockerfile", context, tag="1", output=tmp_path / "b")
    level6 = build(context / "Dockerfile", context, tag="1", output=tmp_path / "c", level=6)
    assert first.descriptor.digest == second.descriptor.digest
    assert level6.descriptor.digest != first.descriptor.digest  # the level is part of the digest: it is fixed
    assert _layers(tmp_path / "c", "1")[0]["digest"] == sha256(
        make_layer(
            [
                FileEntry(
                    "site/index.html",
                    "file",
                    ("<h1>hi</h1>\n" * 1000).encode(),
                    mode=(context / "site" / "index.html").stat().st_mode & 0o7777,
                )
            ]
        )[1]
    )
    assert open_tree(f"oci:{tmp_path / 'a'}:1")["site/index.html"].data == ("<h1>hi</h1>\n" * 1000).encode()
    with pytest.raises(BuildError) as caught:
        build(context / "Dockerfile", context, tag="1", output=tmp_path / "d", level=10)
    assert str(caught.value) == "--compression-level 10: gzip levels are 1..9"
    assert not (tmp_path / "d").exists()


@pytest.mark.skipif(not HAVE_ZSTD, reason="needs the zstandard package (the test extra)")
def test_zstd_layers_are_reproducible_and_readable(tmp_path: Path, capsys) -> None:
    context = tmp_path / "ctx"
    (context / "data").mkdir(parents=True)
    (context / "data" / "w.bin").write_bytes(bytes(range(256)) * 4096)
    os.chmod(context / "data" / "w.bin", 0o644)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY data/ /data/\n")
    for out in ("a", "b"):
        assert main(["build", str(context), "-t", "example.test/z:1", "-o", str(tmp_path / out), "--compression", "zstd"]) == 0
    a, b = _layers(tmp_path / "a", "1"), _layers(tmp_path / "b", "1")
    assert a == b
    assert a[0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"
    assert (tmp_path / "a" / "blobs" / "sha256" / a[0]["digest"][7:]).read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    node = open_tree(f"oci:{tmp_path / 'a'}:1")["data/w.bin"]
    assert node.data == bytes(range(256)) * 4096
    if shutil.which("skopeo"):  # umoci can't unpack zstd layers (0.4); skopeo reads the image
        raw = json.loads(
            subprocess.run(
                ["skopeo", "inspect", "--raw", f"oci:{tmp_path / 'a'}:example.test/z:1"], check=True, capture_output=True, text=True
            ).stdout
        )
        assert raw["layers"] == a
    if shutil.which("zstd"):  # the reference decompressor and GNU tar list the layer
        listing = subprocess.run(
            ["tar", "--zstd", "-tvf", str(tmp_path / "a" / "blobs" / "sha256" / a[0]["digest"][7:])],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        assert [line.split()[0] + " " + line.split()[1] + " " + line.split()[-1] for line in listing] == [
            "drwxr-xr-x 0/0 data/",
            "-rw-r--r-- 0/0 data/w.bin",
        ]


def test_a_fifo_in_the_context_is_refused_not_read_forever(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    (context / "site").mkdir(parents=True)
    os.mkfifo(context / "site" / "pipe")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY site/ /site/\n")
    with pytest.raises(BuildError) as caught:
        build(context / "Dockerfile", context, tag="1", output=tmp_path / "out")
    assert str(caught.value) == f"COPY: {context / 'site' / 'pipe'} is a device, FIFO or socket; a FROM scratch asset image can't carry it"
    assert not (tmp_path / "out").exists()


@need
def test_a_blob_corrupted_on_disk_is_not_pushed(tmp_path: Path, registry: str) -> None:  # noqa: F811
    context = tmp_path / "ctx"
    (context / "site").mkdir(parents=True)
    (context / "site" / "index.html").write_text("<h1>hi</h1>\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY site/ /site/\n")
    result = build(context / "Dockerfile", context, tag="1", output=tmp_path / "oci")
    layer = _layers(tmp_path / "oci", "1")[0]
    blob = tmp_path / "oci" / "blobs" / "sha256" / layer["digest"][7:]
    data = bytearray(blob.read_bytes())
    data[-9] ^= 0xFF  # same size, other bytes
    blob.write_bytes(bytes(data))
    with pytest.raises(RegistryError) as caught:
        push_layout(result.layout, "1", f"{registry}/bench/site:1")
    assert str(caught.value) == f"{registry}: not sent: {tmp_path / 'oci'}: blob {layer['digest']} does not match its digest"
