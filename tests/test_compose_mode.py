"""DF002 compose mode (``certs-tzdata = "volumes"``): FROM scratch plus certs/tzdata image volumes
in every linked workload. Each case in ``tests/fixtures/DF002/compose/<case>/`` is a small repo
(with its ``.migrate-tui.toml``); firing cases hold the exact files ``--fix --unsafe-fixes``
writes in ``expected/`` (read by hand)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testlib import FIXTURES
from test_oci import registry  # noqa: F401,F811 - the real docker-registry on loopback, as a fixture
from migrate_tui.repo.config import ConfigError, config_from_table, load_config
from migrate_tui.pipeline.engine import Engine
from migrate_tui.platform.target import parse_target
from migrate_tui.fixes.compose import passwd_line
from dataclasses import replace

CASES = FIXTURES / "DF002" / "compose"

MESSAGE_GO = (
    "stage 1 ships /usr/local/bin/api, a static binary built in stage 0 'build', on ubuntu:22.04: use scratch with "
    "/etc/ssl/certs and /usr/share/zoneinfo as image volumes (saves ~29 MB compressed per pull: ubuntu:22.04 29 MB → scratch 0 MB)"
)
# case -> (applicability or None for no finding, refusal kind, exact fix_blocked sentence)
EXPECT = {
    "go_ubuntu_linked": ("unsafe", None, None),
    "rust_musl_two_workloads": ("unsafe", None, None),
    "kustomize_alias": ("unsafe", None, None),
    "manual_helm_values": (
        "manual",
        "unedited-mention",
        "chart/values.yaml names registry.example.com/shop/api 1 time(s), 0 of them in containers this fix "
        "edits: it may run the image (Helm values, a templated or flow-style manifest, an Argo template…) "
        "where migrate-tui can't add the volumes; add them by hand",
    ),
    "clean_dynamic_binary": (None, None, None),
    "manual_images_unset": (
        "manual",
        "images-unset",
        "compose mode needs the image references tzdata-image: set them in [tool.migrate-tui] "
        "(build them with `migrate-tui build --certs` / `--tzdata`)",
    ),
    "manual_no_linked_manifest": (
        "manual",
        "no-linked-manifest",
        "no manifest in the repository runs an image built from this Dockerfile (no pod spec runs "
        "the images it builds); a FROM scratch image whose certificates and time zones nobody "
        "mounts would lose them",
    ),
    "manual_mount_taken": (
        "manual",
        "mount-path-taken",
        "deploy/api.yaml: container 'api' already mounts /etc/ssl/certs, where an image volume would go; merge them by hand",
    ),
    "manual_compose_runner": (
        "manual",
        "compose-runner",
        "docker-compose.yaml: service 'api' runs the image with Docker Compose, which has no image "
        "volumes; the FROM scratch image would start there without certificates and time zones",
    ),
    "manual_unparseable_runner": (
        "manual",
        "unreadable-runner",
        "deploy/jobs.yaml:12 names the image but can't be parsed; a workload there could not get the volumes",
    ),
    "manual_named_user": (
        "manual",
        "named-user",
        "USER api: its uid is not known here, so no /etc/passwd line can be written; use a numeric id",
    ),
}


def _engine(root: Path, **overrides) -> Engine:
    config = replace(load_config(root), select=("DF002",), target=parse_target("k8s=1.36,containerd=2.2"), **overrides)
    return Engine(root, config)


def _copy(case: str, tmp_path: Path) -> Path:
    root = tmp_path / case
    shutil.copytree(CASES / case, root, ignore=shutil.ignore_patterns("expected"))
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".migrate-tui-cache" not in p.parts
    }


def test_every_case_is_listed() -> None:
    assert sorted(p.name for p in CASES.iterdir() if p.is_dir()) == sorted(EXPECT)


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_compose_case(case: str, tmp_path: Path) -> None:
    applicability, refusal, blocked = EXPECT[case]
    root = _copy(case, tmp_path)
    before = _files(root)
    result = _engine(root).scan()
    assert not [d for d in result.diagnostics if d.path == "Dockerfile"]
    if applicability is None:
        assert result.findings == []
        return
    [finding] = result.findings
    assert finding.applicability.value == applicability
    assert finding.data["proposed_base"] == "scratch"
    assert finding.data["compose"].get("refused") == refusal
    assert finding.fix_blocked == blocked
    if case == "go_ubuntu_linked":
        assert finding.message == MESSAGE_GO
        assert finding.data["compose"] == {"runtime": "go", "needs": ["certs", "tzdata"], "workloads": ["deploy/api.yaml (Deployment/api)"]}
    report, after = _engine(root).fix(unsafe=True)
    now = _files(root)
    expected_dir = CASES / case / "expected"
    if applicability == "manual":
        assert report.written == [] and now == before
        assert not expected_dir.exists()
        return
    expected = {**before, **_files(expected_dir)}
    assert now == expected
    assert sorted(report.written) == sorted(_files(expected_dir))
    # second pass: the scratch image is minimal, nothing left to do, nothing written
    assert _engine(root).scan().findings == []
    report2, _ = _engine(root).fix(unsafe=True)
    assert report2.written == [] and _files(root) == expected


def test_rust_case_names_every_workload_and_the_env(tmp_path: Path) -> None:
    root = _copy("rust_musl_two_workloads", tmp_path)
    [finding] = _engine(root).scan().findings
    assert finding.data["compose"]["workloads"] == ["k8s/nightly.yaml (CronJob/syncer-nightly)", "k8s/syncer.yaml (Deployment/syncer)"]
    assert finding.data["compose"]["runtime"] == "rust-musl"
    assert finding.explanation.splitlines()[-1] == (
        "Workloads: k8s/nightly.yaml (CronJob/syncer-nightly); k8s/syncer.yaml (Deployment/syncer). "
        "Environment added for rust-musl: SSL_CERT_DIR, SSL_CERT_FILE."
    )
    assert finding.fix.assumption == (
        "/usr/local/bin/syncer is static and needs nothing else from debian:bookworm-slim (no shell for `kubectl exec`, "
        "no other files; /etc/passwd holds only `nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin`), and the images "
        "mounted at /etc/ssl/certs and /usr/share/zoneinfo hold what it reads there"
    )


def test_default_mode_keeps_distroless(tmp_path: Path) -> None:
    root = _copy("go_ubuntu_linked", tmp_path)
    [finding] = _engine(root, certs_tzdata="base").scan().findings
    assert finding.data["proposed_base"] == "gcr.io/distroless/static-debian12"
    assert {e.path for e in finding.fix.edits} == {"Dockerfile"}


def test_old_platform_is_manual(tmp_path: Path) -> None:
    root = _copy("go_ubuntu_linked", tmp_path)
    config = replace(load_config(root), select=("DF002",), target=parse_target("k8s=1.30,containerd=2.2"))
    [finding] = Engine(root, config).scan().findings
    assert finding.data["compose"]["refused"] == "platform"
    assert finding.fix is None and finding.fix_blocked.startswith("Kubernetes 1.30 has no image volumes")


def test_a_new_workload_is_seen_through_the_scan_cache(tmp_path: Path) -> None:
    """A manifest added after a cached scan changes the link index, so the cached DF002 result is
    not reused: the FROM scratch fix must mount the volumes in the new workload too."""
    root = _copy("go_ubuntu_linked", tmp_path)
    cache = tmp_path / "cache"
    config = replace(load_config(root), select=("DF002",), target=parse_target("k8s=1.36,containerd=2.2"))
    [first] = Engine(root, config, cache=cache).scan().findings
    assert first.data["compose"]["workloads"] == ["deploy/api.yaml (Deployment/api)"]
    (root / "deploy" / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n"
        "      restartPolicy: Never\n      containers:\n      - name: migrate\n"
        "        image: registry.example.com/shop/api:1.4.2\n        args: [migrate]\n"
    )
    [second] = Engine(root, config, cache=cache).scan().findings
    assert second.data["compose"]["workloads"] == ["deploy/api.yaml (Deployment/api)", "deploy/job.yaml (Job/migrate)"]


@pytest.mark.parametrize(
    ("user", "line"),
    [
        (None, None),
        ("65532:65532", "app:x:65532:65532:app:/:/sbin/nologin"),
        ("1000", "app:x:1000:1000:app:/:/sbin/nologin"),
        ("nobody", "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin"),
        ("65534", "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin"),
        ("root", "root:x:0:0:root:/root:/sbin/nologin"),
        ("0:10", "root:x:0:10:root:/root:/sbin/nologin"),
    ],
)
def test_passwd_line(user, line) -> None:
    assert passwd_line(user) == line


@pytest.mark.parametrize("user", ["api", "nonroot", "1000:staff", "$UID", "x'; rm -rf /"])
def test_passwd_line_refuses_unknown_names(user) -> None:
    refused = passwd_line(user)
    assert refused.kind.value == "named-user" and refused.detail == user


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"certs-tzdata": "compose"}, "x.toml: certs-tzdata must be one of base, volumes"),
        (
            {"certs-image": "registry.example.com/ca certs:1"},
            "x.toml: 'certs-image' must be an image reference such as registry.example.com/platform/ca-certificates:2026.11",
        ),
        (
            {"tzdata-image": ""},
            "x.toml: 'tzdata-image' must be an image reference such as registry.example.com/platform/ca-certificates:2026.11",
        ),
    ],
)
def test_config_errors(table, message) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_table(table, "x.toml")
    assert str(info.value) == message


def test_config_defaults_are_unset() -> None:
    config = config_from_table({}, "x.toml")
    assert (config.certs_tzdata, config.certs_image, config.tzdata_image) == ("base", None, None)


# --- migrate-tui build --certs / --tzdata ---------------------------------------------------

HOST_CERTS = Path("/etc/ssl/certs")
HOST_ZONEINFO = Path("/usr/share/zoneinfo")


def _host_certs() -> Path:
    if not (HOST_CERTS / "ca-certificates.crt").is_file():
        pytest.skip("this machine has no /etc/ssl/certs/ca-certificates.crt")
    return HOST_CERTS


def _debian_like_certs(tmp_path: Path) -> Path:
    """A Debian-shaped certs tree: hash links → *.pem (inside), *.pem → /usr/share/… (outside)."""
    shared = tmp_path / "usr-share-ca" / "mozilla"
    shared.mkdir(parents=True)
    certs = tmp_path / "etc-ssl-certs"
    certs.mkdir()
    (shared / "Root_A.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    (shared / "Root_B.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n")
    for name in ("Root_A", "Root_B"):
        (certs / f"{name}.pem").symlink_to(shared / f"{name}.crt")
    (certs / "1a2b3c4d.0").symlink_to("Root_A.pem")
    (certs / "ca-certificates.crt").write_bytes((shared / "Root_A.crt").read_bytes() + (shared / "Root_B.crt").read_bytes())
    return certs


def _image_tree(layout: Path):
    from migrate_tui.oci.source import open_tree

    return open_tree(f"oci:{layout}")


def test_certs_image_resolves_links_that_leave_the_tree(tmp_path: Path) -> None:
    from migrate_tui.commands.build_base import build_asset

    certs = _debian_like_certs(tmp_path)
    result, copied = build_asset("certs", certs, tag="localhost/certs:1", output=tmp_path / "oci")
    assert (copied.files, copied.links_kept, copied.links_resolved) == (4, 1, 2)
    tree = _image_tree(tmp_path / "oci")
    shown = {p: (n.kind, oct(n.mode), n.linkname, n.data) for p, n in tree.items() if p}
    assert shown == {
        "1a2b3c4d.0": ("symlink", "0o777", "Root_A.pem", None),
        "Root_A.pem": ("file", "0o644", "", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        "Root_B.pem": ("file", "0o644", "", b"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"),
        "ca-certificates.crt": ("file", "0o644", "", (certs / "ca-certificates.crt").read_bytes()),
    }


def test_asset_images_are_reproducible(tmp_path: Path) -> None:
    """Same files from another path, other mtimes and modes: same digest."""
    import os

    from migrate_tui.commands.build_base import build_asset

    certs = _debian_like_certs(tmp_path / "a")
    first, _ = build_asset("certs", certs, tag="localhost/certs:1", output=tmp_path / "oci1")
    other = tmp_path / "b" / "certs"
    shutil.copytree(certs, other, symlinks=False)  # links already dereferenced here
    os.chmod(other / "ca-certificates.crt", 0o600)
    os.utime(other / "ca-certificates.crt", (1, 1))
    (other / "1a2b3c4d.0").unlink()
    (other / "1a2b3c4d.0").symlink_to("Root_A.pem")
    second, _ = build_asset("certs", other, tag="localhost/certs:1", output=tmp_path / "oci2")
    assert first.descriptor.digest == second.descriptor.digest


def test_host_directories_build_and_carry_no_host_links(tmp_path: Path) -> None:
    from migrate_tui.commands.build_base import build_asset

    certs = _host_certs()
    build_asset("certs", None, tag="localhost/certs:1", output=tmp_path / "certs")
    tree = _image_tree(tmp_path / "certs")
    assert tree["ca-certificates.crt"].data == (certs / "ca-certificates.crt").read_bytes()
    assert [p for p, n in tree.items() if n.kind == "symlink" and n.linkname.startswith("/")] == []
    if HOST_ZONEINFO.joinpath("UTC").exists():
        build_asset("tzdata", None, tag="localhost/tzdata:1", output=tmp_path / "tz")
        zones = _image_tree(tmp_path / "tz")
        from migrate_tui.oci.tree import resolve

        assert zones[resolve(zones, "UTC")].data == HOST_ZONEINFO.joinpath("UTC").resolve().read_bytes()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d: (d / "gone.pem").symlink_to("/nonexistent/gone.crt"),
            "gone.pem -> /nonexistent/gone.crt: a broken link; the image would carry it broken",
        ),
        (lambda d: (d / "outside").symlink_to("/usr"), "outside -> /usr: a directory outside {d}; copy it in first"),
    ],
)
def test_copy_tree_refuses_what_would_not_work_without_the_host(tmp_path: Path, make, message) -> None:
    from migrate_tui.commands.build_base import AssetTreeError, copy_tree

    source = tmp_path / "src"
    source.mkdir()
    make(source)
    (tmp_path / "dest").mkdir()
    with pytest.raises(AssetTreeError) as info:
        copy_tree(source, tmp_path / "dest")
    assert str(info.value) == f"{source}/" + message.format(d=source)


def test_build_cli_certs_and_usage_error(tmp_path: Path, capsys) -> None:
    from migrate_tui.cli import main

    certs = _debian_like_certs(tmp_path)
    assert main(["build", f"--certs={certs}", "-t", "localhost/certs:1", "-o", str(tmp_path / "oci")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"built localhost/certs:1 from {certs}: sha256:")
    assert out.endswith(f"(4 entries; 1 links kept, 2 resolved into files) in oci:{tmp_path / 'oci'}:localhost/certs:1\n")
    assert main(["build", "--tzdata", "-t", "localhost/tz:1", "-f", "Dockerfile"]) == 2
    assert capsys.readouterr().err == (
        "migrate-tui build: error: --tzdata builds from a directory only (no context, -f, "
        "--image, --build-arg or --docker); give the directory as --tzdata=DIR\n"
    )


# --- verify --mounted: the app sees the same files -------------------------------------------


def _stand_in_distro(tmp_path: Path, certs: Path, zoneinfo: Path) -> Path:
    """The old image: FROM scratch + Debian-shaped /etc/ssl/certs (one .pem an absolute link into
    /usr/share/ca-certificates, as Debian has them), some zoneinfo files and a fake binary."""
    from migrate_tui.oci.build import build

    ctx = tmp_path / "old-ctx"
    (ctx / "etc" / "ssl").mkdir(parents=True)
    shutil.copytree(certs, ctx / "etc" / "ssl" / "certs", symlinks=False)
    pem = sorted(p for p in (ctx / "etc" / "ssl" / "certs").iterdir() if p.suffix == ".pem")[0]
    (ctx / "usr" / "share" / "ca-certificates" / "mozilla").mkdir(parents=True)
    shutil.move(pem, ctx / "usr" / "share" / "ca-certificates" / "mozilla" / (pem.stem + ".crt"))
    pem.symlink_to(f"/usr/share/ca-certificates/mozilla/{pem.stem}.crt")
    shutil.copytree(zoneinfo, ctx / "usr" / "share" / "zoneinfo", symlinks=True)
    (ctx / "usr" / "local" / "bin").mkdir(parents=True)
    (ctx / "usr" / "local" / "bin" / "api").write_bytes(b"\x7fELF static api\n")
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY etc/ /etc/\nCOPY usr/ /usr/\n")
    build(ctx / "Dockerfile", ctx, tag="localhost/api:old", output=tmp_path / "old")
    new = tmp_path / "new-ctx"
    (new / "usr" / "local" / "bin").mkdir(parents=True)
    (new / "usr" / "local" / "bin" / "api").write_bytes(b"\x7fELF static api\n")
    (new / "Dockerfile").write_text("FROM scratch\nCOPY usr/ /usr/\n")
    build(new / "Dockerfile", new, tag="localhost/api:new", output=tmp_path / "new")
    return tmp_path


def _zoneinfo(tmp_path: Path) -> Path:
    zones = tmp_path / "zoneinfo"
    (zones / "Europe").mkdir(parents=True)
    (zones / "UTC").write_bytes(b"TZif2 UTC\n")
    (zones / "Europe" / "Paris").write_bytes(b"TZif2 Paris\n")
    (zones / "Europe" / "Brussels").symlink_to("Paris")
    (zones / "posix").symlink_to(".")
    return zones


def test_verify_mounted_proves_the_same_files_and_catches_a_difference(tmp_path: Path, capsys) -> None:
    from migrate_tui.cli import main
    from migrate_tui.commands.build_base import build_asset

    certs = _debian_like_certs(tmp_path / "host")
    zones = _zoneinfo(tmp_path / "host")
    root = _stand_in_distro(tmp_path, certs, zones)
    build_asset("certs", certs, tag="localhost/certs:1", output=root / "certs")
    build_asset("tzdata", zones, tag="localhost/tz:1", output=root / "tz")
    argv = [
        "verify",
        "--mounted",
        f"/etc/ssl/certs=oci:{root / 'certs'}",
        "--mounted",
        f"/usr/share/zoneinfo=oci:{root / 'tz'}",
        f"oci:{root / 'old'}",
        f"oci:{root / 'new'}",
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        f"OK   /etc/ssl/certs from oci:{root / 'certs'}: 0 missing, 0 different, 0 extra, 0 with other mode/owner, 4 same\n"
        f"OK   /usr/share/zoneinfo from oci:{root / 'tz'}: 0 missing, 0 different, 0 extra, 0 with other mode/owner, 5 same\n"
    )
    # negative control: a tzdata image built from a tree where Paris differs and UTC is gone
    (zones / "Europe" / "Paris").write_bytes(b"TZif2 not Paris\n")
    (zones / "UTC").unlink()
    build_asset("tzdata", zones, tag="localhost/tz:2", output=root / "tz2")
    argv[4] = f"/usr/share/zoneinfo=oci:{root / 'tz2'}"
    assert main(argv) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"FAIL /usr/share/zoneinfo from oci:{root / 'tz2'}: 1 missing, 2 different, 0 extra, 0 with other mode/owner, 2 same",
        "    missing: /usr/share/zoneinfo/UTC",
        "    different: /usr/share/zoneinfo/Europe/Brussels",
        "    different: /usr/share/zoneinfo/Europe/Paris",
    ]


def test_verify_mounted_on_this_machines_certs(tmp_path: Path, capsys) -> None:
    """The brief's end-to-end case: the old image carries this machine's /etc/ssl/certs
    (dereferenced, one .pem turned back into a Debian link); the certs image is built from the
    machine's directory by `migrate-tui build --certs`."""
    from migrate_tui.cli import main

    certs = _host_certs()
    zones = _zoneinfo(tmp_path / "host")
    root = _stand_in_distro(tmp_path, certs, zones)
    assert main(["build", "--certs", "-t", "localhost/certs:1", "-o", str(root / "certs")]) == 0
    assert main(["build", f"--tzdata={zones}", "-t", "localhost/tz:1", "-o", str(root / "tz")]) == 0
    capsys.readouterr()
    code = main(
        [
            "verify",
            "--mounted",
            f"/etc/ssl/certs=oci:{root / 'certs'}",
            "--mounted",
            f"/usr/share/zoneinfo=oci:{root / 'tz'}",
            f"oci:{root / 'old'}",
            f"oci:{root / 'new'}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith(f"OK   /etc/ssl/certs from oci:{root / 'certs'}: 0 missing, 0 different, 0 extra, ")


# --- the rewritten Dockerfile builds (buildah, no daemon, no network) --------------------------

_FAKE_GO = """#!/bin/sh
# stand-in for `go build -o OUT`: writes a 'static binary' where -o says
out=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then out="$2"; shift; fi
  shift
done
mkdir -p "$(dirname "$out")"
printf 'static api built with CGO_ENABLED=%s\\n' "$CGO_ENABLED" > "$out"
chmod 755 "$out"
"""


@pytest.mark.buildah
def test_compose_golden_dockerfile_builds_from_scratch(tmp_path: Path) -> None:
    """Golden expected/Dockerfile of go_ubuntu_linked, with golang:1.22 and ubuntu:22.04 replaced by
    local busybox stand-ins: the image holds exactly /etc/passwd (the generated line) and the binary."""
    import os
    import subprocess

    buildah, umoci, busybox = shutil.which("buildah"), shutil.which("umoci"), Path("/bin/busybox")
    if buildah is None or umoci is None or not busybox.is_file():
        pytest.skip("needs buildah, umoci and busybox-static")
    flags = ["--root", str(tmp_path / "root"), "--runroot", str(tmp_path / "runroot"), "--storage-driver", "vfs"]

    def run(*args: str) -> None:
        done = subprocess.run([buildah, *flags, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    base = tmp_path / "base"
    (base / "bin").mkdir(parents=True)
    shutil.copyfile(busybox, base / "bin" / "busybox")
    os.chmod(base / "bin" / "busybox", 0o755)
    (base / "go").write_text(_FAKE_GO)
    os.chmod(base / "go", 0o755)
    shell = 'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /usr/bin /sbin"]\n'
    (base / "Dockerfile.ubuntu").write_text("FROM scratch\nCOPY bin/busybox /bin/busybox\n" + shell)
    (base / "Dockerfile.golang").write_text("FROM scratch\nCOPY bin/busybox /bin/busybox\n" + shell + "COPY go /usr/local/bin/go\n")
    for name in ("ubuntu", "golang"):
        run(
            "bud",
            "--isolation",
            "chroot",
            "--pull=never",
            "-f",
            str(base / f"Dockerfile.{name}"),
            "-t",
            f"localhost/{name}:stand-in",
            str(base),
        )
    context = tmp_path / "app"
    (context / "cmd" / "api").mkdir(parents=True)
    (context / "cmd" / "api" / "main.go").write_text("package main\nfunc main() {}\n")
    text = (CASES / "go_ubuntu_linked" / "expected" / "Dockerfile").read_text()
    assert text.count("FROM golang:1.22 AS build") == 1 and text.count("FROM ubuntu:22.04 AS passwd") == 1
    text = text.replace("FROM golang:1.22 ", "FROM localhost/golang:stand-in ").replace(
        "FROM ubuntu:22.04 ", "FROM localhost/ubuntu:stand-in "
    )
    (context / "Dockerfile").write_text(text)
    run("bud", "--isolation", "chroot", "--pull=never", "-f", str(context / "Dockerfile"), "-t", "localhost/api:composed", str(context))
    run("push", "localhost/api:composed", f"oci:{tmp_path / 'layout'}:v")
    done = subprocess.run(
        [umoci, "unpack", "--rootless", "--image", f"{tmp_path / 'layout'}:v", str(tmp_path / "unpacked")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rootfs = tmp_path / "unpacked" / "rootfs"
    files = sorted(p.relative_to(rootfs).as_posix() for p in rootfs.rglob("*") if not p.is_dir())
    assert files == ["etc/passwd", "usr/local/bin/api"]
    assert (rootfs / "etc" / "passwd").read_text() == "app:x:65532:65532:app:/:/sbin/nologin\n"
    assert (rootfs / "usr" / "local" / "bin" / "api").read_text() == "static api built with CGO_ENABLED=0\n"


@pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs Debian docker-registry")
def test_certs_image_is_pushed_and_verified_from_the_registry(tmp_path: Path, registry: str, capsys) -> None:  # noqa: F811 - the fixture
    """`build --certs --push` lands in a real registry on loopback; `verify --mounted` reads the
    volume image from there and the old/new app images from OCI layouts."""
    from migrate_tui.cli import main

    certs = _debian_like_certs(tmp_path / "host")
    zones = _zoneinfo(tmp_path / "host")
    root = _stand_in_distro(tmp_path, certs, zones)
    ref = f"{registry}/platform/ca-certificates:2026.11"
    assert main(["build", f"--certs={certs}", "-t", ref, "-o", str(tmp_path / "certs"), "--push"]) == 0
    out = capsys.readouterr().out.splitlines()
    digest = out[0].split(": ")[1].split(" ")[0]
    assert out[1] == f"pushed {ref}@{digest}"
    assert main(["verify", "--mounted", f"/etc/ssl/certs={ref}", f"oci:{root / 'old'}", f"oci:{root / 'new'}"]) == 0
    assert capsys.readouterr().out == (
        f"OK   /etc/ssl/certs from {ref}: 0 missing, 0 different, 0 extra, 0 with other mode/owner, 4 same\n"
    )


def test_c_static_binary_gets_the_openssl_and_glibc_variables(tmp_path: Path) -> None:
    root = _copy("go_ubuntu_linked", tmp_path)
    (root / "Dockerfile").write_text(
        "FROM gcc:14 AS build\nCOPY . /src\nRUN gcc -O2 -static -o /out/api /src/main.c -lssl -lcrypto\n"
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y ca-certificates\n"
        'COPY --from=build /out/api /usr/local/bin/api\nENTRYPOINT ["/usr/local/bin/api"]\n'
    )
    [finding] = _engine(root).scan().findings
    assert finding.data["compose"]["runtime"] == "c-static"
    assert finding.data["compose"]["needs"] == ["certs"]
    _engine(root).fix(unsafe=True)
    written = (root / "deploy" / "api.yaml").read_text()
    assert (
        "            - name: TZ\n              value: Europe/Paris\n"
        "            - name: SSL_CERT_FILE\n              value: /etc/ssl/certs/ca-certificates.crt\n"
        "            - name: SSL_CERT_DIR\n              value: /etc/ssl/certs\n"
        "          volumeMounts:\n            - name: config\n              mountPath: /etc/api\n              readOnly: true\n"
        "            - name: ca-certificates\n              mountPath: /etc/ssl/certs\n              readOnly: true\n"
        "        - name: metrics-proxy\n"
    ) in written
    assert (
        "        - name: ca-certificates\n          image:\n"
        "            reference: registry.example.com/platform/ca-certificates:2026.11\n---\n"
    ) in written
    assert "TZDIR" not in "".join(e.content for e in finding.fix.edits)  # no tzdata installed: no zoneinfo volume
    assert "/usr/share/zoneinfo" not in "".join(e.content for e in finding.fix.edits)
