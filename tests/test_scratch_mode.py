"""Scratch mode (DESIGN §4c): the IV001 change-set also rewrites or adds the asset Dockerfile
FROM scratch, renames the image where the repo builds it, and is applied all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from testlib import FIXTURES, make_engine
from migrate_tui.cli import main
from migrate_tui.render.diff import combined_diffs

ASSET_DOCKERFILES = [
    "grafana/plugins/Dockerfile",
    "ml/model/Dockerfile",
    "observability/javaagent/Dockerfile",
    "policy/bundle/Dockerfile",
    "web/Dockerfile",
]


def test_demo_scratch_diff_changes_manifest_dockerfile_and_skaffold_together(demo_copy: Path, capsys) -> None:
    assert main(["check", "--mode", "scratch", "--diff", "--unsafe-fixes", str(demo_copy)]) == 1
    out = capsys.readouterr().out
    for path in ASSET_DOCKERFILES:
        assert f"+++ b/{path}" in out
    assert "+FROM scratch" in out and "+++ b/skaffold.yaml" in out
    assert "+            reference: registry.example.com/platform/web-site-assets:1.4.2" in out
    assert "+    - image: registry.example.com/platform/web-site-assets" in out


def test_auto_mode_is_scratch_when_the_repo_builds_the_image_and_each_fix_is_one_change_set(demo_copy: Path) -> None:
    result = make_engine(demo_copy, select=("IV001", "DF001")).scan()
    iv = {f.location.path: f for f in result.findings if f.rule == "IV001"}
    df = {f.location.path: f for f in result.findings if f.rule == "DF001"}
    web = iv["deploy/web/deployment.yaml"]
    assert web.data["mode"] == "scratch"
    assert set(web.fix.paths) == {"deploy/web/deployment.yaml", "web/Dockerfile", "skaffold.yaml"}
    assert dict(web.fix.base_digests).keys() == set(web.fix.paths)
    # DF001 on the asset Dockerfile rides in the same change-set, with IV001's applicability.
    assert df["web/Dockerfile"].fix == web.fix
    assert df["observability/javaagent/Dockerfile"].applicability.value == "unsafe"
    assert {f.applicability.value for p, f in df.items() if "javaagent" not in p} == {"safe"}
    assert all("savings" in f.data for f in df.values())


def test_zero_rebuild_mode_leaves_dockerfiles_alone(demo_copy: Path) -> None:
    result = make_engine(demo_copy, select=("IV001", "DF001"), mode="zero-rebuild").scan()
    web = next(f for f in result.findings if f.rule == "IV001" and "web" in f.location.path)
    assert web.fix.paths == ("deploy/web/deployment.yaml",)
    df = next(f for f in result.findings if f.rule == "DF001" and f.location.path == "web/Dockerfile")
    assert df.fix is None and "copies from this image" in df.fix_blocked


def test_demo_fix_in_scratch_mode_is_idempotent(demo_copy: Path) -> None:
    report, after = make_engine(demo_copy, select=("IV001", "DF")).fix(unsafe=True)
    for path in ASSET_DOCKERFILES:
        assert path in report.written
        assert (demo_copy / path).read_text().count("FROM scratch") == 1
    assert "web-site-assets" in (demo_copy / "skaffold.yaml").read_text()
    assert not [f for f in after.findings if f.fixable]
    report2, _ = make_engine(demo_copy, select=("IV001", "DF")).fix(unsafe=True)
    assert report2.written == []


def test_change_set_is_all_or_nothing(demo_copy: Path) -> None:
    result = make_engine(demo_copy, select=("IV001",)).scan()
    web = next(f for f in result.findings if "web" in f.location.path)
    before = {p: (demo_copy / p).read_bytes() for p in web.fix.paths}
    (demo_copy / "web/Dockerfile").write_text("FROM busybox:1.37\nCOPY site/ /site/\n")  # changed since the scan
    report = make_engine(demo_copy, select=("IV001",)).apply([web], unsafe=True)
    assert report.written == [] and report.skipped
    assert (demo_copy / "deploy/web/deployment.yaml").read_bytes() == before["deploy/web/deployment.yaml"]
    assert (demo_copy / "skaffold.yaml").read_bytes() == before["skaffold.yaml"]


def test_unlinked_image_gets_a_new_asset_dockerfile_and_chmod_becomes_copy_chmod(tmp_path: Path) -> None:
    manifest = (FIXTURES / "IV001" / "manual_chmod_after_copy.yaml").read_text()
    (tmp_path / "hooks.yaml").write_text(manifest)
    assert make_engine(tmp_path, select=("IV001",)).scan().findings[0].applicability.value == "manual"  # auto: zero-rebuild
    engine = make_engine(tmp_path, select=("IV001",), mode="scratch")
    result = engine.scan()
    finding = result.findings[0]
    assert finding.applicability.value == "safe", finding.fix_blocked
    assert dict(finding.fix.base_digests)["assets/hook-scripts/Dockerfile"] is None
    diffs = {d.path: d for d in combined_diffs([finding.fix], lambda p: result.sources[p].text if p in result.sources else None)}
    new = diffs["assets/hook-scripts/Dockerfile"]
    assert new.created
    assert "FROM registry.example.com/hook-scripts:1 AS source\n" in new.after
    assert new.after.endswith("FROM scratch\nCOPY --from=source --chmod=0755 /scripts/ /scripts/\n")
    assert "reference: registry.example.com/hook-scripts-assets:1" in diffs["hooks.yaml"].after
    report, after = engine.fix()
    assert sorted(report.written) == ["assets/hook-scripts/Dockerfile", "hooks.yaml"]
    assert not after.findings


def test_symbolic_chmod_stays_manual_in_scratch_mode(tmp_path: Path) -> None:
    manifest = (FIXTURES / "IV001" / "manual_chmod_after_copy.yaml").read_text().replace("chmod -R 0755", "chmod -R go+r")
    (tmp_path / "hooks.yaml").write_text(manifest)
    finding = make_engine(tmp_path, select=("IV001",), mode="scratch").scan().findings[0]
    assert finding.applicability.value == "manual" and "octal" in finding.fix_blocked


def test_existing_asset_dockerfile_is_not_overwritten(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURES / "IV001" / "cp_r_dot_contents.yaml", tmp_path / "web.yaml")
    finding = make_engine(tmp_path, select=("IV001",), mode="scratch").scan().findings[0]
    asset = finding.data["assets"][0]["dockerfile"]
    (tmp_path / asset).parent.mkdir(parents=True)
    (tmp_path / asset).write_text("FROM busybox\n")
    finding = make_engine(tmp_path, select=("IV001",), mode="scratch").scan().findings[0]
    assert finding.fix is None and "already exists" in finding.fix_blocked
