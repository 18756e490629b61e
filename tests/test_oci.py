"""Daemon-free build, push and verify against real components: the Debian docker-registry on
127.0.0.1, skopeo and umoci as independent checkers."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine
from migrate_tui.cli import main
from migrate_tui.oci.build import BuildError, build
from migrate_tui.oci.layout import FileEntry, make_layer
from migrate_tui.oci.registry import push_layout
from migrate_tui.oci.tree import apply_layers

need = pytest.mark.skipif(
    not (shutil.which("docker-registry") and shutil.which("skopeo") and shutil.which("umoci")),
    reason="needs Debian docker-registry, skopeo and umoci (make test installs them)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry(tmp_path: Path):
    port = _free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage:\n  filesystem: {{rootdirectory: {tmp_path / 'registry-data'}}}\n  delete: {{enabled: true}}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"http://{host}/v2/", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("docker-registry did not start: " + (proc.stderr.read().decode() if proc.stderr else ""))
            time.sleep(0.05)
    yield host
    proc.terminate()
    proc.wait(timeout=10)


def _site_context(root: Path) -> Path:
    context = root / "web"
    (context / "site" / "css").mkdir(parents=True)
    (context / "site" / "index.html").write_text("<h1>hello</h1>\n")
    (context / "site" / "css" / "site.css").write_text("body{}\n")
    (context / "site" / ".well-known").mkdir()
    (context / "site" / ".well-known" / "security.txt").write_text("Contact: x\n")
    (context / "Dockerfile").write_text(
        "FROM scratch\nLABEL org.opencontainers.image.title=site\nCOPY site/ /site/\nCOPY --chmod=0600 site/index.html /private/index.html\n"
    )
    return context


@need
def test_build_is_reproducible_and_umoci_unpacks_what_was_copied(tmp_path: Path) -> None:
    context = _site_context(tmp_path)
    first = build(context / "Dockerfile", context, tag="1.0", output=tmp_path / "a")
    second = build(context / "Dockerfile", context, tag="1.0", output=tmp_path / "b")
    assert first.descriptor.digest == second.descriptor.digest
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{tmp_path / 'a'}:1.0", str(tmp_path / "bundle")], check=True, capture_output=True
    )
    rootfs = tmp_path / "bundle" / "rootfs"
    assert (rootfs / "site" / "index.html").read_text() == "<h1>hello</h1>\n"
    assert (rootfs / "site" / ".well-known" / "security.txt").exists()
    assert oct((rootfs / "private" / "index.html").stat().st_mode & 0o777) == "0o600"
    inspected = json.loads(
        subprocess.run(["skopeo", "inspect", "--raw", f"oci:{tmp_path / 'a'}:1.0"], check=True, capture_output=True, text=True).stdout
    )
    assert inspected["layers"][0]["mediaType"].endswith("tar+gzip")


@need
def test_push_lands_in_a_real_registry_with_the_same_digest(tmp_path: Path, registry: str) -> None:
    context = _site_context(tmp_path)
    result = build(context / "Dockerfile", context, tag="1.0", output=tmp_path / "layout")
    digest = push_layout(result.layout, "1.0", f"{registry}/platform/site:1.0")
    assert digest == result.descriptor.digest
    out = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{registry}/platform/site:1.0"], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out)["Digest"] == digest


def test_run_instructions_are_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo hi\n")
    with pytest.raises(BuildError, match="only FROM scratch builds without a daemon"):
        build(tmp_path / "Dockerfile", tmp_path, tag="x", output=tmp_path / "o")


def test_whiteouts_and_opaque_directories_are_applied() -> None:
    _, lower = make_layer([FileEntry("etc/a", "file", b"a"), FileEntry("etc/b", "file", b"b"), FileEntry("opt/x/1", "file", b"1")])
    _, upper = make_layer(
        [FileEntry("etc/.wh.a", "file", b""), FileEntry("opt/x/.wh..wh..opq", "file", b""), FileEntry("opt/x/2", "file", b"2")]
    )
    tree = apply_layers([lower, upper])
    assert "etc/a" not in tree and "etc/b" in tree
    assert "opt/x/1" not in tree and tree["opt/x/2"].data == b"2"


@need
def test_verify_proves_the_zero_rebuild_and_scratch_migrations(tmp_path: Path, registry: str, capsys) -> None:
    # The old asset image: the site under /site plus a "shell" (what FROM busybox would add).
    context = _site_context(tmp_path)
    (context / "bin").mkdir()
    (context / "bin" / "sh").write_bytes(b"\x7fELF fake shell")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY bin/ /bin/\nCOPY site/ /site/\n")
    old = build(context / "Dockerfile", context, tag="1.4.2", output=tmp_path / "old")
    push_layout(old.layout, "1.4.2", f"{registry}/platform/web-site:1.4.2")

    repo = tmp_path / "repo"
    repo.mkdir()
    manifest = (
        (FIXTURES / "IV001" / "cp_r_dot_contents.yaml")
        .read_text()
        .replace("registry.example.com/web-site:1.4.2", f"{registry}/platform/web-site:1.4.2")
    )
    (repo / "web.yaml").write_text(manifest)
    (tmp_path / "before.yaml").write_text(manifest)
    make_engine(repo, select=("IV001",), mode="zero-rebuild").fix()
    args = ["verify", str(tmp_path / "before.yaml"), str(repo / "web.yaml"), "--insecure-registry", registry]
    assert main(args) == 0, capsys.readouterr().out
    assert "OK   Deployment/web container 'nginx' at /usr/share/nginx/html: 0 missing, 0 different" in capsys.readouterr().out

    # Scratch mode: a new FROM scratch asset image built from the old one, pulled from the registry.
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "Dockerfile").write_text(
        f"FROM {registry}/platform/web-site:1.4.2 AS source\nFROM scratch\nCOPY --from=source /site/ /site/\n"
    )
    assert (
        main(
            [
                "build",
                str(assets),
                "-t",
                f"{registry}/platform/web-site-assets:1.4.2",
                "-o",
                str(tmp_path / "new"),
                "--push",
                "--insecure-registry",
                registry,
            ]
        )
        == 0
    )
    scratch = (repo / "web.yaml").read_text().replace("platform/web-site:1.4.2", "platform/web-site-assets:1.4.2")
    (tmp_path / "after-scratch.yaml").write_text(scratch)
    assert main(["verify", str(tmp_path / "before.yaml"), str(tmp_path / "after-scratch.yaml"), "--insecure-registry", registry]) == 0
    capsys.readouterr()

    # A wrong migration is caught: the subPath points at the image root, so /bin/sh appears and /index.html is missing.
    wrong = "".join(l for l in (repo / "web.yaml").read_text().splitlines(True) if l.strip() != "subPath: site")
    (tmp_path / "wrong.yaml").write_text(wrong)
    assert main(["verify", str(tmp_path / "before.yaml"), str(tmp_path / "wrong.yaml"), "--insecure-registry", registry]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "missing: /index.html" in out and "extra: /bin/sh" in out
