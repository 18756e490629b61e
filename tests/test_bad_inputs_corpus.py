"""The bad-input corpus (tests/bad_inputs/, expectations in EXPECTED.toml): every file gets the
one diagnostic it should, nothing raises, nothing outside the root is read, and no byte changes
except in the files meant to be fixed. Also: files deleted, changed or swapped for a symlink
between the scan and the write are refused and reported, never written."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
EXPECTED = tomllib.loads((CORPUS / "EXPECTED.toml").read_text(encoding="utf-8"))
SITE = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_bytes()
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _build(kind: str, root: Path, rel: str, outside: Path) -> bool:
    """Make one run-time corpus entry; False when this platform or user can't."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "sparse_100mb":
        with open(path, "wb") as fh:
            fh.write(b"initContainers: []\n")
            fh.truncate(100 * 1024 * 1024)  # sparse: no disk space used
    elif kind == "long_line":
        path.write_bytes(b"initContainers: []\nx: " + b"a" * 1_500_000 + b"\n")
    elif kind == "fifo":
        if not hasattr(os, "mkfifo"):
            return False
        os.mkfifo(path)
    elif kind == "symlink_out":
        (outside / "secret.yaml").write_bytes(SITE)
        path.symlink_to(outside / "secret.yaml")
    elif kind == "symlinked_dir_out":
        (outside / "dir").mkdir()
        (outside / "dir" / "inner.yaml").write_bytes(SITE)
        path.parent.rmdir()
        path.parent.symlink_to(outside / "dir", target_is_directory=True)
    elif kind == "symlink_loop":
        path.symlink_to(path.name)
    elif kind == "unreadable":
        if IS_ROOT:
            return False
        path.write_bytes(SITE)
        path.chmod(0)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null
        except (PermissionError, AttributeError, OSError):
            return False
    else:  # pragma: no cover - a typo in EXPECTED.toml
        raise AssertionError(f"unknown build recipe {kind!r}")
    return True


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("corpus")
    root = base / "repo"
    outside = base / "outside"
    outside.mkdir()
    shutil.copytree(CORPUS, root)
    (root / ".git").mkdir()
    built = {rel: _build(spec["build"], root, rel, outside) for rel, spec in EXPECTED.items() if "build" in spec}
    before = _snapshot(root)
    outside_before = _snapshot(outside)
    report, result = make_engine(root).fix()
    yield root, built, before, report, result
    _snapshot(outside) == outside_before or pytest.fail("a file outside the root changed")
    locked = root / "locked.yaml"
    if locked.exists():
        locked.chmod(0o644)


def _snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 10 * 1024 * 1024:
            continue
        try:
            out[path.relative_to(root).as_posix()] = path.read_bytes()
        except OSError:
            pass
    return out


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_corpus_entry_gets_its_diagnostic(scanned, rel: str) -> None:
    root, built, before, report, result = scanned
    spec = EXPECTED[rel]
    if "build" in spec and not built[rel]:
        pytest.skip(f"can't build {spec['build']} here")
    mine = [d for d in result.diagnostics if d.path == rel]
    if spec["kind"] == "any":
        assert len(mine) <= 1, mine
    elif spec["kind"] in ("none", "absent"):
        assert mine == [], mine
        if spec["kind"] == "absent":
            assert not [f for f in result.findings if f.location.path == rel]
    else:
        assert len(mine) == 1, (rel, result.diagnostics)
        got = mine[0]
        assert (got.kind, got.line) == (spec["kind"], spec["line"]), got
        assert spec["message"] in got.message, got
        assert "\n" not in got.message
    if spec.get("fixed"):
        assert rel in report.written
    elif rel in before:
        assert (root / rel).read_bytes() == before[rel], f"{rel} changed"


def test_nothing_else_was_written(scanned) -> None:
    root, _, before, report, _ = scanned
    fixed = {rel for rel, spec in EXPECTED.items() if spec.get("fixed")}
    assert set(report.written) == fixed
    after = _snapshot(root)
    assert {k for k in after if k not in before} <= {k for k in after if k.startswith(".migrate-tui-cache/")}
    assert not [p for p in root.rglob("*.migrate-tui")], "temporary files left behind"


def test_cli_on_the_corpus_never_prints_a_traceback(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(CORPUS, root)
    (root / ".git").mkdir()
    env = dict(os.environ, MIGRATE_TUI_CACHE_DIR=str(tmp_path / "cache"))
    for args in (["check", "--format", "json"], ["check", "--diff"], ["check", "--format", "sarif"]):
        proc = subprocess.run([sys.executable, "-m", "migrate_tui", *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode in (0, 1), (args, proc.returncode, proc.stderr)


# --- between the scan and the write ------------------------------------------------------


def _scanned_repo(tmp_path: Path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "web.yaml").write_bytes(SITE)
    engine = make_engine(root, select=("IV001",))
    result = engine.scan()
    assert result.fixable
    return root, engine, result


def test_file_changed_after_the_scan_is_not_written(tmp_path: Path) -> None:
    root, engine, result = _scanned_repo(tmp_path)
    changed = SITE.replace(b"copy-site", b"copy-html")
    (root / "web.yaml").write_bytes(changed)
    report = engine.apply(result.findings, sources=result.sources)
    assert report.written == []
    assert "changed on disk since the scan" in report.skipped[0][1]
    assert (root / "web.yaml").read_bytes() == changed


def test_file_deleted_after_the_scan_is_not_recreated(tmp_path: Path) -> None:
    root, engine, result = _scanned_repo(tmp_path)
    (root / "web.yaml").unlink()
    report = engine.apply(result.findings, sources=result.sources)
    assert report.written == [] and report.skipped
    assert not (root / "web.yaml").exists()


def test_file_swapped_for_a_symlink_after_the_scan_is_not_written_through(tmp_path: Path) -> None:
    root, engine, result = _scanned_repo(tmp_path)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_bytes(SITE)
    (root / "web.yaml").unlink()
    (root / "web.yaml").symlink_to(elsewhere)
    report = engine.apply(result.findings, sources=result.sources)
    assert report.written == [] and "symlink" in report.skipped[0][1]
    assert elsewhere.read_bytes() == SITE and (root / "web.yaml").is_symlink()


def test_directory_swapped_for_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    (root / "deploy" / "web.yaml").write_bytes(SITE)
    engine = make_engine(root, select=("IV001",))
    result = engine.scan()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "web.yaml").write_bytes(SITE)
    shutil.rmtree(root / "deploy")
    (root / "deploy").symlink_to(outside, target_is_directory=True)
    report = engine.apply(result.findings, sources=result.sources)
    assert report.written == []
    assert (outside / "web.yaml").read_bytes() == SITE
