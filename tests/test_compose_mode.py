"""DF002 compose mode (``certs-tzdata = "volumes"``): FROM scratch plus certs/tzdata image volumes
in every linked workload. Each case in ``tests/fixtures/DF002/compose/<case>/`` is a small repo
(with its ``.migrate-tui.toml``); firing cases hold the exact files ``--fix --unsafe-fixes``
writes in ``expected/`` (read by hand)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES
from migrate_tui.core.config import ConfigError, config_from_table, load_config
from migrate_tui.core.engine import Engine
from migrate_tui.core.target import parse_target
from migrate_tui.rules._compose import passwd_line
from dataclasses import replace

CASES = FIXTURES / "DF002" / "compose"

MESSAGE_GO = ("stage 1 ships /usr/local/bin/api, a static binary built in stage 0 'build', on ubuntu:22.04: use scratch with "
              "/etc/ssl/certs and /usr/share/zoneinfo as image volumes (saves ~29 MB compressed per pull: ubuntu:22.04 29 MB → scratch 0 MB)")
# case -> (applicability or None for no finding, refusal kind, exact fix_blocked sentence)
EXPECT = {
    "go_ubuntu_linked": ("unsafe", None, None),
    "rust_musl_two_workloads": ("unsafe", None, None),
    "clean_dynamic_binary": (None, None, None),
    "manual_images_unset": ("manual", "images-unset",
                            "compose mode needs the image references tzdata-image: set them in [tool.migrate-tui] "
                            "(build them with `migrate-tui build --certs` / `--tzdata`)"),
    "manual_no_linked_manifest": ("manual", "no-linked-manifest",
                                  "no manifest in the repository runs an image built from this Dockerfile (no pod spec runs "
                                  "the images it builds); a FROM scratch image whose certificates and time zones nobody "
                                  "mounts would lose them"),
    "manual_mount_taken": ("manual", "mount-path-taken",
                           "deploy/api.yaml: container 'api' already mounts /etc/ssl/certs, where an image volume would go; "
                           "merge them by hand"),
    "manual_named_user": ("manual", "named-user",
                          "USER api: its uid is not known here, so no /etc/passwd line can be written; use a numeric id"),
}


def _engine(root: Path, **overrides) -> Engine:
    config = replace(load_config(root), select=("DF002",), target=parse_target("k8s=1.36,containerd=2.2"), **overrides)
    return Engine(root, config)


def _copy(case: str, tmp_path: Path) -> Path:
    root = tmp_path / case
    shutil.copytree(CASES / case, root, ignore=shutil.ignore_patterns("expected"))
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".migrate-tui-cache" not in p.parts}


def test_every_case_is_listed() -> None:
    assert sorted(p.name for p in CASES.iterdir() if p.is_dir()) == sorted(EXPECT)


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_compose_case(case: str, tmp_path: Path) -> None:
    applicability, refusal, blocked = EXPECT[case]
    root = _copy(case, tmp_path)
    before = _files(root)
    result = _engine(root).scan()
    assert not result.diagnostics
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
        assert finding.data["compose"] == {"runtime": "go", "needs": ["certs", "tzdata"],
                                           "workloads": ["deploy/api.yaml (Deployment/api)"]}
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
        "Environment added for rust-musl: SSL_CERT_DIR, SSL_CERT_FILE.")
    assert finding.fix.assumption == (
        "/usr/local/bin/syncer is static and needs nothing else from debian:bookworm-slim (no shell for `kubectl exec`, "
        "no other files; /etc/passwd holds only `nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin`), and the images "
        "mounted at /etc/ssl/certs and /usr/share/zoneinfo hold what it reads there")


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
        "        image: registry.example.com/shop/api:1.4.2\n        args: [migrate]\n")
    [second] = Engine(root, config, cache=cache).scan().findings
    assert second.data["compose"]["workloads"] == ["deploy/api.yaml (Deployment/api)", "deploy/job.yaml (Job/migrate)"]


@pytest.mark.parametrize(("user", "line"), [
    (None, None),
    ("65532:65532", "app:x:65532:65532:app:/:/sbin/nologin"),
    ("1000", "app:x:1000:1000:app:/:/sbin/nologin"),
    ("nobody", "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin"),
    ("65534", "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin"),
    ("root", "root:x:0:0:root:/root:/sbin/nologin"),
    ("0:10", "root:x:0:10:root:/root:/sbin/nologin"),
])
def test_passwd_line(user, line) -> None:
    assert passwd_line(user) == line


@pytest.mark.parametrize("user", ["api", "nonroot", "1000:staff", "$UID", "x'; rm -rf /"])
def test_passwd_line_refuses_unknown_names(user) -> None:
    refused = passwd_line(user)
    assert refused.kind.value == "named-user" and refused.detail == user


@pytest.mark.parametrize(("table", "message"), [
    ({"certs-tzdata": "compose"}, "x.toml: certs-tzdata must be one of base, volumes"),
    ({"certs-image": "registry.example.com/ca certs:1"},
     "x.toml: 'certs-image' must be an image reference such as registry.example.com/platform/ca-certificates:2026.11"),
    ({"tzdata-image": ""},
     "x.toml: 'tzdata-image' must be an image reference such as registry.example.com/platform/ca-certificates:2026.11"),
])
def test_config_errors(table, message) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_table(table, "x.toml")
    assert str(info.value) == message


def test_config_defaults_are_unset() -> None:
    config = config_from_table({}, "x.toml")
    assert (config.certs_tzdata, config.certs_image, config.tzdata_image) == ("base", None, None)
