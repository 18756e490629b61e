"""Issue 11 item 5: decompression and size bombs, hostile OCI layouts, and the two quadratic/cubic paths.

Every hostile image is built here: a gzip layer of a few MiB that expands to GiBs (concatenated
gzip members of pre-compressed zeros), a tiny GNU sparse tar asking for 8 GiB, a layout whose
blob is a symlink to /dev/zero or a FIFO. They must be refused with one clear line that names
the layer, without the memory a naive reader would need.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s_standin"))

from hostile import digest_of, gnu_sparse_tar, tar_of, write_layout, zero_bomb  # noqa: E402
from migrate_tui.cli import main  # noqa: E402
from migrate_tui.oci.layout import FileEntry, make_layer  # noqa: E402
from migrate_tui.oci.source import SourceError, open_tree  # noqa: E402
from migrate_tui.oci.stream import Limits  # noqa: E402
from migrate_tui.oci.tree import apply_layers  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IMAGE = "registry.example.com/web-site:1.4.2"  # the image the IV001 fixture copies from
GiB = 1 << 30


def _verify_args(tmp_path: Path, layout: Path, *extra: str) -> list[str]:
    before = tmp_path / "before.yaml"
    before.write_text((FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text())
    return ["verify", str(before), str(before), "--image", f"{IMAGE}=oci:{layout}:1.0", *extra]


@pytest.mark.timeout(120)
def test_a_gzip_bomb_is_refused_at_the_size_limit_in_bounded_memory(tmp_path: Path) -> None:
    bomb = zero_bomb("site/index.html", 3 * GiB // 2)  # 1.5 GiB of zeros in ~1.5 MiB
    assert len(bomb) < 2 << 20
    write_layout(tmp_path / "layout", [bomb])
    probe = (
        "import resource, sys\nfrom migrate_tui.cli import main\ncode = main(sys.argv[1:])\n"
        "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *_verify_args(tmp_path, tmp_path / "layout", "--max-image-size", "1GiB")],
        capture_output=True,
        text=True,
        timeout=110,
    )
    code, max_rss_kib = map(int, done.stdout.split())
    assert code == 2
    assert done.stderr == (
        f"migrate-tui verify: error: oci:{tmp_path / 'layout'}:1.0: layer {digest_of(bomb)} expands past "
        "1 GiB uncompressed (the image size limit, --max-image-size); refused\n"
    )
    assert max_rss_kib < 400 * 1024, f"{max_rss_kib} KiB resident for a bomb that is refused while streaming"


@pytest.mark.timeout(60)
def test_build_refuses_a_bomb_in_a_copy_from_image(tmp_path: Path, capsys) -> None:
    bomb = zero_bomb("site/index.html", 64 << 20)
    write_layout(tmp_path / "layout", [bomb])
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {IMAGE} AS source\nFROM scratch\nCOPY --from=source /site/ /site/\n")
    code = main(
        [
            "build",
            str(tmp_path / "ctx"),
            "-t",
            "example.test/assets:1",
            "-o",
            str(tmp_path / "out"),
            "--image",
            f"{IMAGE}=oci:{tmp_path / 'layout'}:1.0",
            "--max-image-size",
            "16MiB",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        f"migrate-tui build: error: oci:{tmp_path / 'layout'}:1.0: layer {digest_of(bomb)} "
        "expands past 16 MiB uncompressed (the image size limit, --max-image-size); refused\n"
    )


def test_a_gnu_sparse_entry_asking_for_8_gib_is_refused(tmp_path: Path) -> None:
    layer = gzip.compress(gnu_sparse_tar("disk.img", 8 * GiB), mtime=0)
    assert len(layer) < 200
    write_layout(tmp_path / "layout", [layer])
    with pytest.raises(SourceError) as caught:
        open_tree(f"oci:{tmp_path / 'layout'}:1.0")
    assert str(caught.value) == f"oci:{tmp_path / 'layout'}:1.0: layer {digest_of(layer)}: 'disk.img' is a sparse file; refused"


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    layer = gzip.compress(tar_of({f"site/{i}.txt": b"" for i in range(300)}), mtime=0)
    write_layout(tmp_path / "layout", [layer])
    with pytest.raises(SourceError) as caught:
        open_tree(f"oci:{tmp_path / 'layout'}:1.0", limits=Limits(max_entries=100))
    assert str(caught.value) == (
        f"oci:{tmp_path / 'layout'}:1.0: layer {digest_of(layer)} has more than 100 entries in the image "
        "(the entry limit, --max-image-entries); refused"
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["blob", "directory"])
def test_a_blob_symlinked_to_dev_zero_is_never_read(tmp_path: Path, where: str) -> None:
    layer = gzip.compress(tar_of({"site/index.html": b"hi"}), mtime=0)
    manifest = write_layout(tmp_path / "layout", [layer])
    blobs = tmp_path / "layout" / "blobs" / "sha256"
    if where == "blob":
        (blobs / digest_of(layer)[7:]).unlink()
        (blobs / digest_of(layer)[7:]).symlink_to("/dev/zero")
    else:
        blobs.rename(tmp_path / "elsewhere")
        blobs.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(SourceError) as caught:
        open_tree(f"oci:{tmp_path / 'layout'}:1.0")
    first = digest_of(layer) if where == "blob" else json.loads((tmp_path / "layout" / "index.json").read_text())["manifests"][0]["digest"]
    assert manifest["layers"][0]["digest"] == digest_of(layer)
    assert str(caught.value) == (
        f"oci:{tmp_path / 'layout'}:1.0: {tmp_path / 'layout'}: blob {first} (or its directory) is a symbolic link; refused"
    )


@pytest.mark.timeout(60)
def test_a_fifo_blob_is_refused_without_blocking(tmp_path: Path) -> None:
    layer = gzip.compress(tar_of({"site/index.html": b"hi"}), mtime=0)
    write_layout(tmp_path / "layout", [layer])
    blob = tmp_path / "layout" / "blobs" / "sha256" / digest_of(layer)[7:]
    blob.unlink()
    os.mkfifo(blob)
    with pytest.raises(SourceError) as caught:
        open_tree(f"oci:{tmp_path / 'layout'}:1.0")
    assert (
        str(caught.value) == f"oci:{tmp_path / 'layout'}:1.0: {tmp_path / 'layout'}: blob {digest_of(layer)} is not a regular file; refused"
    )


# --- near-linear whiteouts and layer writing: pytest-timeout is the guard (the old code took minutes) ---


@pytest.mark.timeout(60)
def test_30k_whiteouts_apply_in_near_linear_time() -> None:
    count = 30_000
    _, lower = make_layer([FileEntry(f"dir/f{i:05d}", "file", b"x") for i in range(count)] + [FileEntry("dir/kept", "file", b"k")])
    _, upper = make_layer([FileEntry(f"dir/.wh.f{i:05d}", "file", b"") for i in range(count)])
    tree = apply_layers([lower, upper], keep_data=False)
    assert sorted(tree) == ["", "dir", "dir/kept"]


@pytest.mark.timeout(60)
def test_opaque_whiteouts_keep_this_layers_entries_only() -> None:
    _, lower = make_layer(
        [FileEntry("opt/a/old", "file", b"1"), FileEntry("opt/a/sub/old", "file", b"2"), FileEntry("opt/b", "file", b"3")]
    )
    _, upper = make_layer([FileEntry("opt/a/sub/new", "file", b"4"), FileEntry("opt/a/.wh..wh..opq", "file", b"")])
    tree = apply_layers([lower, upper])
    assert sorted(tree) == ["", "opt", "opt/a", "opt/a/sub", "opt/a/sub/new", "opt/b"]
    assert tree["opt/a/sub/new"].data == b"4"


@pytest.mark.timeout(60)
def test_a_2500_deep_tree_is_written_and_read_in_near_linear_time() -> None:
    depth = 2500
    entries = [FileEntry("/".join(["d"] * level) + "/f", "file", b"%d" % level) for level in range(1, depth + 1)]
    tar_bytes, gz = make_layer(entries)
    tree = apply_layers([gz])
    assert len(tree) == 2 * depth + 1
    deepest = "/".join(["d"] * depth) + "/f"
    assert tree[deepest].data == b"%d" % depth and tree[deepest.rsplit("/", 1)[0]].kind == "dir"


@pytest.mark.timeout(60)
def test_the_digest_resolver_never_reads_a_symlinked_layout_blob(tmp_path: Path) -> None:
    from migrate_tui.platform.digest import DigestError, OciLayoutResolver

    write_layout(tmp_path / "site", [gzip.compress(tar_of({"index.html": b"hi"}), mtime=0)])
    index = json.loads((tmp_path / "site" / "index.json").read_text())
    entry = index["manifests"][0]
    entry["mediaType"] = "application/vnd.oci.image.index.v1+json"  # read without an is_file() guard before
    (tmp_path / "site" / "index.json").write_text(json.dumps(index))
    blob = tmp_path / "site" / "blobs" / "sha256" / entry["digest"][7:]
    blob.unlink()
    blob.symlink_to("/dev/zero")
    with pytest.raises(DigestError) as caught:
        OciLayoutResolver([f"example.test/site={tmp_path / 'site'}"])("example.test/site:1.0")
    assert str(caught.value) == f"{blob}: unreadable: a symbolic link; refused"


@pytest.mark.timeout(60)
def test_build_keeps_only_the_copied_files_and_bounds_them(tmp_path: Path, capsys) -> None:
    big = os.urandom(3 << 20)
    layer = gzip.compress(tar_of({"opt/big.bin": big, "site/index.html": b"<h1>hi</h1>\n"}), mtime=0)
    write_layout(tmp_path / "layout", [layer])
    (tmp_path / "ctx").mkdir()
    args = [
        "build",
        str(tmp_path / "ctx"),
        "-t",
        "example.test/assets:1",
        "--image",
        f"{IMAGE}=oci:{tmp_path / 'layout'}:1.0",
        "--max-copy-size",
        "1MiB",
    ]
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {IMAGE} AS source\nFROM scratch\nCOPY --from=source /site/ /site/\n")
    assert main([*args, "-o", str(tmp_path / "a")]) == 0  # opt/big.bin is hashed, not kept
    assert sorted(open_tree(f"oci:{tmp_path / 'a'}:1")) == ["", "site", "site/index.html"]
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {IMAGE} AS source\nFROM scratch\nCOPY --from=source /opt/ /opt/\n")
    capsys.readouterr()
    assert main([*args, "-o", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == (
        f"migrate-tui build: error: oci:{tmp_path / 'layout'}:1.0: layer {digest_of(layer)}: the files "
        "to copy from this image pass 1 MiB, spooled to disk (the copy limit, --max-copy-size); refused\n"
    )
