"""Nothing lost: atomic writes that keep mode, line endings, BOM and untouched bytes; a file
changed since the scan is never overwritten; fixing twice changes nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine

SITE = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"
SITE_FIXED = FIXTURES / "IV001" / "cp_r_dot_contents.fixed.yaml"


def _repo(tmp_path: Path, data: bytes, name: str = "web.yaml") -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / name).write_bytes(data)
    return root


def test_crlf_and_bom_survive_a_rewrite(tmp_path: Path) -> None:
    original = b"\xef\xbb\xbf" + SITE.read_bytes().replace(b"\n", b"\r\n")
    root = _repo(tmp_path, original)
    report, _ = make_engine(root, select=("IV001",)).fix()
    assert report.written == ["web.yaml"]
    data = (root / "web.yaml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data == b"\xef\xbb\xbf" + SITE_FIXED.read_bytes().replace(b"\n", b"\r\n")


def test_mixed_line_endings_keep_untouched_bytes(tmp_path: Path) -> None:
    text = SITE.read_bytes()
    mixed = b"# windows line\r\n" + text
    root = _repo(tmp_path, mixed)
    make_engine(root, select=("IV001",)).fix()
    assert (root / "web.yaml").read_bytes().startswith(b"# windows line\r\n# expect: IV001 safe\n")


def test_file_mode_is_kept(tmp_path: Path) -> None:
    root = _repo(tmp_path, SITE.read_bytes())
    os.chmod(root / "web.yaml", 0o640)
    make_engine(root, select=("IV001",)).fix()
    assert stat.S_IMODE(os.stat(root / "web.yaml").st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file another owner")
def test_file_owner_and_group_are_kept(tmp_path: Path) -> None:
    root = _repo(tmp_path, SITE.read_bytes())
    os.chown(root / "web.yaml", 1234, 5678)
    report, _ = make_engine(root, select=("IV001",)).fix()
    assert report.written == ["web.yaml"]
    st = os.stat(root / "web.yaml")
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert (root / "web.yaml").read_bytes() == SITE_FIXED.read_bytes()


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    root = _repo(tmp_path, SITE.read_bytes())
    make_engine(root, select=("IV001",)).fix()
    assert sorted(p.name for p in root.iterdir()) == ["web.yaml"]


def test_file_changed_after_the_scan_is_not_written(tmp_path: Path) -> None:
    root = _repo(tmp_path, SITE.read_bytes())
    engine = make_engine(root, select=("IV001",))
    result = engine.scan()
    edited = SITE.read_bytes() + b"# someone edited this meanwhile\n"
    (root / "web.yaml").write_bytes(edited)
    report = engine.apply(result.findings, sources=result.sources)
    assert report.written == []
    assert "changed on disk since the scan" in report.skipped[0][1]
    assert (root / "web.yaml").read_bytes() == edited


def test_a_symlinked_manifest_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_bytes(SITE.read_bytes())
    root = tmp_path / "repo"
    root.mkdir()
    (root / "link.yaml").symlink_to(outside)
    report, result = make_engine(root, select=("IV001",)).fix()
    assert report.written == []
    assert outside.read_bytes() == SITE.read_bytes()
    assert any(d.kind == "symlink" for d in result.diagnostics)


def test_other_documents_stay_byte_identical(tmp_path: Path) -> None:
    other = b"# leading comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a:   'spaced'   # odd spacing\n"
    root = _repo(tmp_path, other + b"---\n" + SITE.read_bytes() + b"---\n" + other[18:])
    make_engine(root, select=("IV001",)).fix()
    data = (root / "web.yaml").read_bytes()
    assert data.startswith(other + b"---\n")
    assert data.endswith(b"---\n" + other[18:])


def test_indented_sequences_keep_their_style(tmp_path: Path) -> None:
    src = (FIXTURES / "IV001" / "tar_pipe.yaml").read_text()
    root = _repo(tmp_path, src.encode())
    make_engine(root, select=("IV001",)).fix()
    text = (root / "web.yaml").read_text()
    assert "        volumes:\n        - name: policies\n" not in text
    assert (
        "      volumes:\n        - name: policies\n          image:\n            reference: registry.example.com/opa-bundle:1.8.0\n" in text
    )


def test_a_rewrite_that_would_not_validate_is_refused_with_the_reason(tmp_path: Path) -> None:
    # Kubernetes 1.30 has no image volumes: the schema rejects the field, so nothing is written.
    root = _repo(tmp_path, SITE.read_bytes())
    engine = make_engine(root, select=("IV001",), target="k8s=1.30,containerd=2.2,gate=on")
    report, result = engine.fix()
    assert report.written == []
    finding = result.findings[0]
    assert finding.fix is None and "1.31" in (finding.fix_blocked or "")


def test_new_files_are_created_inside_the_root_only(tmp_path: Path) -> None:
    from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
    from migrate_tui.write.writer import apply_fixes
    from migrate_tui.platform.target import Target

    root = tmp_path / "repo"
    root.mkdir()
    escape = Fix(
        applicability=Applicability.SAFE,
        description="x",
        edits=(Edit("../evil.txt", 0, 0, "boom\n"),),
        base_digests=(("../evil.txt", None),),
    )
    inside = Fix(
        applicability=Applicability.SAFE,
        description="y",
        edits=(Edit("assets/new/Dockerfile", 0, 0, "FROM scratch\n"),),
        base_digests=(("assets/new/Dockerfile", None),),
    )
    findings = [
        Finding(rule="IV001", severity=Severity.WARNING, location=Location("a"), message="m", fix=escape),
        Finding(rule="IV001", severity=Severity.WARNING, location=Location("b"), message="m", fix=inside),
    ]
    report = apply_fixes(root, findings, Target())
    assert not (tmp_path / "evil.txt").exists()
    assert (root / "assets/new/Dockerfile").read_text() == "FROM scratch\n"
    assert any("outside the repository" in reason for _, reason in report.skipped)


def test_one_change_set_reached_by_two_findings_is_written_once_and_counts_for_both(tmp_path: Path) -> None:
    from dataclasses import replace

    root = _repo(tmp_path, SITE.read_bytes())
    engine = make_engine(root, select=("IV001",))
    result = engine.scan()
    first = result.findings[0]
    twin = replace(first, rule="DF001", message="the asset image's side of the same change-set")
    report = engine.apply([first, twin], sources=result.sources)
    assert report.written == ["web.yaml"]
    assert report.skipped == []
    assert {f.rule for f in report.applied} == {"IV001", "DF001"}
    assert (root / "web.yaml").read_bytes() == SITE_FIXED.read_bytes()
