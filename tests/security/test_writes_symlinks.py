"""Issue 11, item 3: a symlinked directory never takes a write out of the repository — neither
one passed on the command line nor one swapped in between planning and writing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from migrate_tui.cli import main
from migrate_tui.write import writer
from migrate_tui.repo.config import Config
from migrate_tui.repo.discover import find_root
from migrate_tui.pipeline.engine import Engine
from migrate_tui.platform.target import parse_target
from migrate_tui.write.writer import WriteRefusal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SITE = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"
SITE_FIXED = FIXTURES / "IV001" / "cp_r_dot_contents.fixed.yaml"


def _engine(root: Path) -> Engine:
    return Engine(root, Config(select=("IV001",), target=parse_target("k8s=1.36,containerd=2.2")))


def test_check_fix_on_a_symlinked_directory_out_of_the_repo_writes_nothing_outside(tmp_path: Path, monkeypatch, capsys) -> None:
    outside = tmp_path / "outside" / "k8s"
    outside.mkdir(parents=True)
    shutil.copyfile(SITE, outside / "web.yaml")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "deploy").mkdir()
    (repo / "deploy" / "k8s").symlink_to(outside)
    monkeypatch.chdir(repo)
    main(["check", "--fix", "deploy/k8s"])
    captured = capsys.readouterr()
    assert (outside / "web.yaml").read_bytes() == SITE.read_bytes()
    assert sorted(p.name for p in outside.iterdir()) == ["web.yaml"]
    assert find_root(Path("deploy/k8s")) == repo
    assert "deploy/k8s:1:1: error[symlink] symlink points outside the repository" in captured.out + captured.err


def test_a_directory_swapped_for_a_symlink_between_planning_and_writing_loses_the_race(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    shutil.copyfile(SITE, root / "deploy" / "web.yaml")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copyfile(SITE, outside / "web.yaml")  # same bytes: the digest check alone can't tell
    engine = _engine(root)
    result = engine.scan()
    real_write_all = writer._write_all

    def swap_then_write(*args, **kwargs):
        os.rename(root / "deploy", tmp_path / "deploy.moved")
        (root / "deploy").symlink_to(outside)
        return real_write_all(*args, **kwargs)

    monkeypatch.setattr(writer, "_write_all", swap_then_write)
    report = engine.apply(result.findings, sources=result.sources)
    assert report.written == []
    assert [k for _, k in report.refused] == [WriteRefusal.SYMLINK]
    assert (outside / "web.yaml").read_bytes() == SITE.read_bytes()
    assert sorted(p.name for p in outside.iterdir()) == ["web.yaml"]
    assert (tmp_path / "deploy.moved" / "web.yaml").read_bytes() == SITE.read_bytes()


def test_without_the_swap_the_same_fix_is_written(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    shutil.copyfile(SITE, root / "deploy" / "web.yaml")
    os.chmod(root / "deploy" / "web.yaml", 0o640)
    report, _ = _engine(root).fix()
    assert report.written == ["deploy/web.yaml"]
    assert (root / "deploy" / "web.yaml").read_bytes() == SITE_FIXED.read_bytes()
    assert oct(os.stat(root / "deploy" / "web.yaml").st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in (root / "deploy").iterdir()) == ["web.yaml"]


def test_a_file_named_through_a_directory_link_inside_the_repo_is_fixed_where_it_lives(tmp_path: Path, monkeypatch, capsys) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "base").mkdir()
    shutil.copyfile(SITE, repo / "base" / "web.yaml")
    (repo / "overlay").symlink_to(repo / "base")
    monkeypatch.chdir(repo)
    assert main(["check", "--fix", "overlay/web.yaml"]) == 1
    capsys.readouterr()
    assert (repo / "base" / "web.yaml").read_bytes() == SITE_FIXED.read_bytes()
    assert (repo / "overlay").is_symlink()


def test_a_refused_run_leaves_no_new_directory_and_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
    from migrate_tui.platform.target import Target

    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    (root / "deploy" / "x.yaml").write_text("a: 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.yaml").write_text("a: 1\n")
    digest = writer.text_digest("a: 1\n")
    fix = Fix(
        applicability=Applicability.SAFE,
        description="x",
        edits=(Edit("assets/new/Dockerfile", 0, 0, "FROM scratch\n"), Edit("deploy/x.yaml", 0, 0, "# hi\n")),
        base_digests=(("assets/new/Dockerfile", None), ("deploy/x.yaml", digest)),
    )
    real_write_all = writer._write_all

    def swap_then_write(*args, **kwargs):
        os.rename(root / "deploy", tmp_path / "deploy.moved")
        (root / "deploy").symlink_to(outside)
        return real_write_all(*args, **kwargs)

    monkeypatch.setattr(writer, "_write_all", swap_then_write)
    report = writer.apply_fixes(
        root, [Finding(rule="IV001", severity=Severity.WARNING, location=Location("x"), message="m", fix=fix)], Target()
    )
    assert report.written == []
    assert [k for _, k in report.refused] == [WriteRefusal.SYMLINK]
    assert sorted(p.name for p in root.iterdir()) == ["deploy"]
    assert sorted(p.name for p in outside.iterdir()) == ["x.yaml"]
    assert (outside / "x.yaml").read_text() == "a: 1\n"
