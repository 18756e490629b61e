"""The FROM-scratch Dockerfiles migrate-tui writes really build (buildah, no daemon, no network)
and hold exactly the asset files (checked with umoci on the pushed OCI layout)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine

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
        done = subprocess.run(
            ["umoci", "unpack", "--rootless", "--image", f"{layout}:v", str(target)], capture_output=True, text=True, timeout=120
        )
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


_FAKE_APT_GET = """#!/bin/sh
# A stand-in apt-get: `update` writes an index file, `install` records the package names.
case "$1" in
  update) mkdir -p /var/lib/apt/lists && echo index > /var/lib/apt/lists/deb.debian.org_InRelease ;;
  install) shift; mkdir -p /var/lib/dpkg
           for p in "$@"; do case "$p" in -*) ;; *) echo "$p" >> /var/lib/dpkg/installed ;; esac; done ;;
  *) exit 2 ;;
esac
"""


@pytest.mark.parametrize("case", ["continuation_last_line", "trailing_comment", "escape_backtick", "crlf_continuation"])
def test_df004_fixed_runs_build_and_leave_no_apt_lists(case: str, tmp_path: Path) -> None:
    """The DF004 goldens run under a real shell (buildah, on a busybox stand-in for Debian whose
    apt-get writes an index file): the fixed RUN builds, installs, and removes the lists; the
    original RUN leaves them (so the check can fail). Heredoc RUNs need buildah >= 1.33."""
    busybox = Path("/bin/busybox")
    if not busybox.is_file():
        pytest.skip("busybox-static is not installed (/bin/busybox)")
    builder = Builder(tmp_path)
    base = tmp_path / "base"
    (base / "bin").mkdir(parents=True)
    shutil.copyfile(busybox, base / "bin" / "busybox")
    os.chmod(base / "bin" / "busybox", 0o755)
    (base / "apt-get").write_text(_FAKE_APT_GET)
    os.chmod(base / "apt-get", 0o755)
    (base / "Dockerfile").write_text(
        "FROM scratch\nCOPY bin/busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /usr/bin"]\n'
        "COPY apt-get /usr/bin/apt-get\n"
    )
    builder.build(base / "Dockerfile", base, "localhost/fake-debian:12")
    for variant in ("fixed", "original"):
        context = tmp_path / variant
        context.mkdir()
        name = f"{case}.fixed.Dockerfile" if variant == "fixed" else f"{case}.Dockerfile"
        text = (FIXTURES / "DF004" / name).read_bytes().replace(b"FROM debian:bookworm-slim", b"FROM localhost/fake-debian:12")
        (context / "Dockerfile").write_bytes(text)
        builder.build(context / "Dockerfile", context, f"localhost/df004-{variant}:t")
        rootfs = builder.rootfs(f"localhost/df004-{variant}:t")
        assert (rootfs / "var/lib/dpkg/installed").read_text() == "curl\n"
        lists = sorted(p.name for p in (rootfs / "var/lib/apt/lists").iterdir())
        assert lists == ([] if variant == "fixed" else ["deb.debian.org_InRelease"])


def _entries(root: Path, tops: list[str]) -> dict[str, tuple]:
    """Type, mode, link target and bytes of every entry at or under the ``tops`` paths."""
    out: dict[str, tuple] = {}
    for top in tops:
        start = root / top.lstrip("/")
        for path in [start, *sorted(start.rglob("*"))] if start.is_dir() and not start.is_symlink() else [start]:
            st = path.lstat()
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = ("dir", oct(st.st_mode & 0o7777))
            else:
                out[rel] = ("file", oct(st.st_mode & 0o7777), path.read_bytes())
    return out


_ARRANGED = {
    "chmod_run": [
        ("autoinstrumentation", ("dir", "0o755")),
        ("autoinstrumentation/agent-2.4.jar", ("file", "0o644")),
        ("autoinstrumentation/ext", ("dir", "0o744")),
        ("autoinstrumentation/ext/plugin.jar", ("file", "0o644")),
    ],
    "arrange_cp_ln_mkdir": [
        ("agent", ("dir", "0o755")),
        ("agent/agent.jar", ("link", "lib/agent-2.4.jar")),
        ("agent/conf", ("dir", "0o755")),
        ("agent/conf/.keep", ("file", "0o644")),
        ("agent/dist", ("dir", "0o755")),
        ("agent/dist/agent-2.4.jar", ("file", "0o644")),
        ("agent/dist/ext", ("dir", "0o744")),
        ("agent/dist/ext/plugin.jar", ("file", "0o644")),
        ("agent/lib", ("dir", "0o755")),
        ("agent/lib/agent-2.4.jar", ("file", "0o644")),
        ("agent/lib/ext", ("dir", "0o744")),
        ("agent/lib/ext/plugin.jar", ("file", "0o644")),
    ],
}


@pytest.mark.parametrize(("case", "base"), [("chmod_run", "busybox:1.36"), ("arrange_cp_ln_mkdir", "alpine:3.20")])
def test_df001_assets_stage_ships_the_same_files_from_scratch(case: str, base: str, tmp_path: Path) -> None:
    """issue 13 item 4: the shipped stage's RUNs move into a build stage; the FROM scratch image
    holds exactly the arranged files of the original image (modes, links, bytes), and no shell."""
    busybox = Path("/bin/busybox")
    if not busybox.is_file():
        pytest.skip("busybox-static is not installed (/bin/busybox)")
    builder = Builder(tmp_path)
    shell = tmp_path / "shell"
    (shell / "bin").mkdir(parents=True)
    shutil.copyfile(busybox, shell / "bin" / "busybox")
    os.chmod(shell / "bin" / "busybox", 0o755)
    (shell / "Dockerfile").write_text(
        'FROM scratch\nCOPY bin/busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin"]\n'
    )
    builder.build(shell / "Dockerfile", shell, "localhost/shell-base:test")
    # The build image the fixtures copy from: a private directory, a private file, a nested jar.
    agent = tmp_path / "agent"
    (agent / "out" / "ext").mkdir(parents=True)
    (agent / "out" / "agent-2.4.jar").write_bytes(b"PK\x03\x04 agent")
    (agent / "out" / "ext" / "plugin.jar").write_bytes(b"PK\x03\x04 plugin")
    os.chmod(agent / "out" / "agent-2.4.jar", 0o600)
    os.chmod(agent / "out" / "ext", 0o700)
    (agent / "Dockerfile").write_text("FROM scratch\nCOPY out/ /out/\n")
    for tag in ("registry.example.com/agent-build:1", "registry.example.com/agent-build:2.4"):
        builder.build(agent / "Dockerfile", agent, tag)
    trees = {}
    for variant in ("original", "fixed"):
        context = tmp_path / variant
        context.mkdir()
        name = f"{case}.fixed.Dockerfile" if variant == "fixed" else f"{case}.Dockerfile"
        text = (FIXTURES / "DF001" / name).read_text().replace(f"FROM {base}", "FROM localhost/shell-base:test")
        (context / "Dockerfile").write_text(text)
        builder.build(context / "Dockerfile", context, f"localhost/df001-{variant}:t")
        trees[variant] = builder.rootfs(f"localhost/df001-{variant}:t")
    tops = sorted({p.relative_to(trees["fixed"]).parts[0] for p in trees["fixed"].iterdir()})
    assert "bin" not in tops
    shipped = _entries(trees["fixed"], tops)
    assert shipped == _entries(trees["original"], tops)
    # go+r applied to the private files and directory, the link kept as a link
    assert sorted((k, v[:2]) for k, v in shipped.items()) == _ARRANGED[case]
