"""Issue 11 item 6: ``build`` never reads outside its context, and never drops hard links.

Sources are resolved as BuildKit does: every symlink on the way is followed with the context as
``/`` (an absolute target starts again at the context root, ``..`` stops at it); ``..`` in the
source itself that would leave the context is refused; links inside a copied directory are
copied as links, never followed.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s_standin"))

from hostile import write_layout  # noqa: E402
from migrate_tui.cli import main  # noqa: E402
from migrate_tui.oci.build import BuildError, build  # noqa: E402
from migrate_tui.oci.source import open_tree  # noqa: E402

SECRET = b"-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n"


def _contents(layout: Path, tag: str = "1") -> dict[str, tuple[str, bytes | str]]:
    tree = open_tree(f"oci:{layout}:{tag}")
    return {p: (n.kind, n.data if n.kind == "file" else n.linkname) for p, n in sorted(tree.items()) if n.kind != "dir"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "home" / ".ssh" / "id_rsa").write_bytes(SECRET)
    (tmp_path / "ctx-secret").mkdir()
    (tmp_path / "ctx-secret" / "key").write_bytes(SECRET)
    context = tmp_path / "ctx"
    (context / "site").mkdir(parents=True)
    (context / "site" / "index.html").write_text("<h1>hi</h1>\n")
    return context


@pytest.mark.parametrize("target", ["absolute", "relative"])
def test_a_globbed_symlink_to_a_directory_outside_the_context_is_not_followed_out(workspace: Path, target: str) -> None:
    outside = workspace.parent / "home" / ".ssh"
    (workspace / "data").symlink_to(outside if target == "absolute" else Path("..") / "home" / ".ssh")
    (workspace / "Dockerfile").write_text("FROM scratch\nCOPY data* /d/\n")
    with pytest.raises(BuildError) as caught:
        build(workspace / "Dockerfile", workspace, tag="1", output=workspace.parent / "out")
    inside = str(outside).lstrip("/") if target == "absolute" else "home/.ssh"
    assert str(caught.value) == (
        f"COPY data*: data not found in the build context {workspace} (a symlink that resolves to /{inside} inside the build context)"
    )
    assert not (workspace.parent / "out").exists()


def test_the_cli_reports_the_escape_as_a_clean_error(workspace: Path, capsys) -> None:
    (workspace / "data").symlink_to(workspace.parent / "home" / ".ssh")
    (workspace / "Dockerfile").write_text("FROM scratch\nCOPY data /d/\n")
    assert main(["build", str(workspace), "-t", "example.test/x:1", "-o", str(workspace.parent / "out")]) == 2
    assert capsys.readouterr().err.startswith("migrate-tui build: error: COPY data: data not found in the build context ")


def test_dot_dot_out_of_the_context_is_refused_even_with_a_shared_prefix(workspace: Path) -> None:
    (workspace / "Dockerfile").write_text("FROM scratch\nCOPY ../ctx-secret/key /k\n")
    with pytest.raises(BuildError) as caught:
        build(workspace / "Dockerfile", workspace, tag="1", output=workspace.parent / "out")
    assert str(caught.value) == "COPY ../ctx-secret/key: outside the build context (sources can't climb out with '..')"


def test_links_inside_a_copied_directory_are_copied_as_links(workspace: Path) -> None:
    (workspace / "site" / "key").symlink_to(workspace.parent / "ctx-secret" / "key")
    (workspace / "site" / "up").symlink_to("../../home/.ssh")
    (workspace / "Dockerfile").write_text("FROM scratch\nCOPY site/ /site/\n")
    build(workspace / "Dockerfile", workspace, tag="1", output=workspace.parent / "out")
    assert _contents(workspace.parent / "out") == {
        "site/index.html": ("file", b"<h1>hi</h1>\n"),
        "site/key": ("symlink", str(workspace.parent / "ctx-secret" / "key")),
        "site/up": ("symlink", "../../home/.ssh"),
    }


def test_symlinks_that_stay_inside_the_context_are_followed_like_buildkit(workspace: Path) -> None:
    (workspace / "conf").mkdir()
    (workspace / "conf" / "nginx.conf").write_text("server {}\n")
    (workspace / "site-link").symlink_to("site")
    (workspace / "cfg").symlink_to("/conf")  # absolute: from the context root
    (workspace / "Dockerfile").write_text("FROM scratch\nCOPY site-link/ /site/\nCOPY cfg/nginx.conf /etc/nginx/\n")
    build(workspace / "Dockerfile", workspace, tag="1", output=workspace.parent / "out")
    assert _contents(workspace.parent / "out") == {
        "etc/nginx/nginx.conf": ("file", b"server {}\n"),
        "site/index.html": ("file", b"<h1>hi</h1>\n"),
    }


def test_hardlinked_context_files_are_both_copied_reproducibly(workspace: Path) -> None:
    os.link(workspace / "site" / "index.html", workspace / "site" / "home.html")
    (workspace / "Dockerfile").write_text("FROM scratch\nCOPY site/ /site/\n")
    first = build(workspace / "Dockerfile", workspace, tag="1", output=workspace.parent / "a")
    second = build(workspace / "Dockerfile", workspace, tag="1", output=workspace.parent / "b")
    assert first.descriptor.digest == second.descriptor.digest
    assert _contents(workspace.parent / "a") == {
        "site/home.html": ("file", b"<h1>hi</h1>\n"),
        "site/index.html": ("file", b"<h1>hi</h1>\n"),
    }


def _image_with_hardlinks(directory: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("other/logo.png", b"\x89PNG logo"), ("site/index.html", b"<h1>hi</h1>\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (("site/copy.html", "site/index.html"), ("site/logo.png", "other/logo.png")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.LNKTYPE, target
            tar.addfile(info)
    write_layout(directory, [gzip.compress(raw.getvalue(), mtime=0)])


def test_hard_links_in_a_copy_from_image_are_copied_not_dropped(workspace: Path) -> None:
    _image_with_hardlinks(workspace.parent / "src-layout")
    (workspace / "Dockerfile").write_text("FROM example.test/src:1.0 AS src\nFROM scratch\nCOPY --from=src /site/ /site/\n")
    assert (
        main(
            [
                "build",
                str(workspace),
                "-t",
                "example.test/x:1",
                "-o",
                str(workspace.parent / "out"),
                "--image",
                f"example.test/src:1.0=oci:{workspace.parent / 'src-layout'}:1.0",
            ]
        )
        == 0
    )
    assert _contents(workspace.parent / "out", "1") == {
        "site/copy.html": ("file", b"<h1>hi</h1>\n"),
        "site/index.html": ("file", b"<h1>hi</h1>\n"),
        "site/logo.png": ("file", b"\x89PNG logo"),
    }
