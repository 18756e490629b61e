"""The FROM-scratch Dockerfiles migrate-tui writes really build (buildah, no daemon, no network)
and hold exactly the asset files (checked with umoci on the pushed OCI layout)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, make_engine

pytestmark = pytest.mark.buildah

BUILDAH = shutil.which("buildah")
if BUILDAH is None:
    pytest.skip("buildah is not installed (apt-get install buildah)", allow_module_level=True)


class Builder:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.flags = ["--root", str(tmp / "root"), "--runroot", str(tmp / "runroot"), "--storage-driver", "vfs"]

    def run(self, *args: str) -> str:
        done = subprocess.run([BUILDAH, *self.flags, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def build(self, dockerfile: Path, context: Path, tag: str) -> None:
        self.run("bud", "--isolation", "chroot", "--pull=never", "-f", str(dockerfile), "-t", tag, str(context))

    def rootfs(self, tag: str) -> Path:
        name = tag.replace("/", "_").replace(":", "_")
        if (self.tmp / "unpacked" / name / "rootfs").is_dir():
            return self.tmp / "unpacked" / name / "rootfs"
        layout = self.tmp / "oci" / name
        layout.parent.mkdir(exist_ok=True)
        self.run("push", tag, f"oci:{layout}:v")
        if shutil.which("umoci") is None:
            pytest.skip("umoci is not installed")
        target = self.tmp / "unpacked" / name
        done = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:v", str(target)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return target / "rootfs"


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in root.rglob("*")}


def test_demo_asset_dockerfiles_build_from_scratch_with_the_asset_paths(demo_copy: Path, tmp_path: Path) -> None:
    report, _ = make_engine(demo_copy, select=("IV001", "DF")).fix(unsafe=True)
    builder = Builder(tmp_path)
    expected = {
        "web": {"site/", "site/index.html", "site/css/", "site/css/site.css", "site/.well-known/", "site/.well-known/security.txt"},
        "observability/javaagent": {"javaagent.jar"},
        "policy/bundle": {"bundle/", "bundle/.manifest", "bundle/authz.rego"},
    }
    for directory in ("web", "ml/model", "observability/javaagent", "policy/bundle", "grafana/plugins"):
        dockerfile = demo_copy / directory / "Dockerfile"
        assert f"{directory}/Dockerfile" in report.written
        assert dockerfile.read_text().count("FROM scratch") == 1
        tag = f"localhost/{directory.replace('/', '-')}-assets:test"
        builder.build(dockerfile, demo_copy / directory, tag)
        tree = _tree(builder.rootfs(tag))
        assert "bin/" not in tree and "bin/sh" not in tree, tree
        if directory in expected:
            assert tree == expected[directory], tree
    model = _tree(builder.rootfs("localhost/ml-model-assets:test"))
    assert {"models/resnet/model.onnx", "models/resnet/labels.txt"} <= model


def test_new_asset_dockerfile_builds_from_the_init_image_with_copy_chmod(tmp_path: Path) -> None:
    busybox = Path("/bin/busybox")
    if not busybox.is_file():
        pytest.skip("busybox-static is not installed (/bin/busybox)")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hooks.yaml").write_text((FIXTURES / "IV001" / "manual_chmod_after_copy.yaml").read_text())
    report, after = make_engine(repo, select=("IV001",), mode="scratch").fix()
    assert "assets/hook-scripts/Dockerfile" in report.written and not after.findings
    builder = Builder(tmp_path)
    # The old init image R, made locally: busybox plus the scripts, mode 0600.
    init_ctx = tmp_path / "init"
    (init_ctx / "scripts").mkdir(parents=True)
    shutil.copyfile(busybox, init_ctx / "busybox")
    (init_ctx / "scripts" / "pre-stop.sh").write_text("#!/bin/sh\necho bye\n")
    os.chmod(init_ctx / "scripts" / "pre-stop.sh", 0o600)
    (init_ctx / "Dockerfile").write_text("FROM scratch\nCOPY busybox /bin/busybox\nCOPY scripts/ /scripts/\n")
    builder.build(init_ctx / "Dockerfile", init_ctx, "registry.example.com/hook-scripts:1")
    asset = repo / "assets" / "hook-scripts" / "Dockerfile"
    builder.build(asset, asset.parent, "registry.example.com/hook-scripts-assets:1")
    rootfs = builder.rootfs("registry.example.com/hook-scripts-assets:1")
    assert _tree(rootfs) == {"scripts/", "scripts/pre-stop.sh"}
    assert (rootfs / "scripts" / "pre-stop.sh").stat().st_mode & 0o777 == 0o755
