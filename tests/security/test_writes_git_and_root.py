"""Issue 11, item 2: never write under .git/, outside the root, or through `..` — refused when
the fix is planned (with a typed reason) and again by the writer, the last line of defence."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_tui.repo.config import Config
from migrate_tui.pipeline.engine import Engine
from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.repo.safepath import PathRefusal, write_path_problem
from migrate_tui.platform.target import Target, parse_target
from migrate_tui.write.writer import WriteRefusal, apply_fixes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_volume_name_with_dot_dot_and_git_never_creates_a_git_hook(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    text = (FIXTURES / "IV001" / "manual_two_images_one_dir.yaml").read_text()
    (root / "merged.yaml").write_text(text.replace("name: plugins", "name: a/../../.git/hooks"))
    config = Config(
        select=("IV001",), target=parse_target("k8s=1.36,containerd=2.2"), image_name_template="registry.example.com/assets:{tag}"
    )
    engine = Engine(root, config, mode="scratch")
    result = engine.scan()
    [finding] = result.findings
    assert finding.fix is None
    report = engine.apply(result.findings, sources=result.sources, unsafe=True)
    assert report.written == []
    assert _files(root) == ["merged.yaml"]


def _fix(path: str) -> Finding:
    fix = Fix(
        applicability=Applicability.SAFE,
        description="x",
        edits=(Edit(path, 0, 0, "FROM scratch\n"),),
        base_digests=((path, None),),
    )
    return Finding(rule="IV001", severity=Severity.WARNING, location=Location("a.yaml"), message="m", fix=fix)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (".git/hooks/Dockerfile", WriteRefusal.GIT),
        ("sub/.GIT/config", WriteRefusal.GIT),
        ("a/../.git/hooks/x", WriteRefusal.PARENT),
        ("a/../../evil", WriteRefusal.PARENT),
        ("/tmp/evil", WriteRefusal.ABSOLUTE),
        ("assets/x\n/Dockerfile", WriteRefusal.CONTROL_CHARACTERS),
        ("assets//Dockerfile", WriteRefusal.NOT_NORMAL),
        ("", WriteRefusal.EMPTY),
    ],
)
def test_the_writer_refuses_paths_under_git_absolute_or_with_dot_dot(tmp_path: Path, path: str, kind: WriteRefusal) -> None:
    root = tmp_path / "repo"
    (root / ".git" / "hooks").mkdir(parents=True)
    report = apply_fixes(root, [_fix(path)], Target())
    assert report.written == []
    assert [k for _, k in report.refused] == [kind]
    assert _files(tmp_path) == []


def test_the_writer_refuses_a_parent_that_resolves_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "assets").symlink_to(tmp_path / "elsewhere")
    report = apply_fixes(root, [_fix("assets/Dockerfile")], Target())
    assert report.written == []
    assert [k for _, k in report.refused] == [WriteRefusal.SYMLINK]
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_the_asset_dockerfile_path_of_a_hostile_volume_name_is_refused_when_planned() -> None:
    from migrate_tui.fixes.asset_image import _asset_path

    assert _asset_path("assets/{name}/Dockerfile", name="pod-a/../../.git/hooks", image="x") == (
        "assets/pod-a/../../.git/hooks/Dockerfile",
        PathRefusal.PARENT,
    )
    assert _asset_path("{name}/Dockerfile", name=".git", image="x") == (".git/Dockerfile", PathRefusal.GIT)
    assert _asset_path("assets/{name}/Dockerfile", name="web", image="x") == "assets/web/Dockerfile"
    assert _asset_path("assets/{nope}/Dockerfile", name="web", image="x") is None


def test_lexical_checks_name_the_problem() -> None:
    assert write_path_problem("assets/web/Dockerfile") is None
    assert write_path_problem("a/.git") is PathRefusal.GIT
    assert write_path_problem("../x") is PathRefusal.PARENT
    assert write_path_problem("C:/x") is PathRefusal.ABSOLUTE
    assert write_path_problem("a\\..\\x") is PathRefusal.SPECIAL


def test_an_edit_to_an_existing_file_without_a_digest_never_overwrites_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "keep.yaml").write_text("precious: true\n")
    fix = Fix(
        applicability=Applicability.SAFE,
        description="x",
        edits=(Edit("new/Dockerfile", 0, 0, "FROM scratch\n"), Edit("keep.yaml", 0, 0, "a: 1\n")),
        base_digests=(("new/Dockerfile", None),),
    )
    report = apply_fixes(
        root, [Finding(rule="IV001", severity=Severity.WARNING, location=Location("a.yaml"), message="m", fix=fix)], Target()
    )
    assert report.written == []
    assert [k for _, k in report.refused] == [WriteRefusal.ALREADY_EXISTS]
    assert (root / "keep.yaml").read_text() == "precious: true\n"
    assert _files(root) == ["keep.yaml"]
