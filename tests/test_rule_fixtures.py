"""One parametrised test per fixture: exact findings, exact output, a clean second pass, and no
finding on clean files; plus a gate that fails when a registered rule has no fixtures.

Fixtures live in ``tests/fixtures/<CODE>/``: ``<case>.<ext>`` fires (its ``# expect: CODE
applicability`` header lines list the findings), ``<case>.findings.txt`` is the snapshot of what
a user reads about it (each finding's location, rule, applicability, message, notes, fix title
and applicability, assumption, why it was not fixed), ``<case>.fixed.<ext>`` is the exact result
of ``check --fix --unsafe-fixes``, ``clean_<case>.<ext>`` must not fire.

A missing or different snapshot fails. After a deliberate change, regenerate them all with ONE
command, then read the diff (``git diff tests/fixtures``) before committing::

    MIGRATE_TUI_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_rule_fixtures.py

``MIGRATE_TUI_UPDATE_GOLDEN=1`` does the same for the ``.fixed`` files (the bytes written).
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine
from migrate_tui.rules import all_rules

_EXPECT = re.compile(r"^#\s*expect:\s*([A-Z]{2}\d{3})\s+(safe|unsafe|manual)\s*$", re.M)
UPDATE = os.environ.get("MIGRATE_TUI_UPDATE_GOLDEN") == "1"
UPDATE_SNAPSHOTS = os.environ.get("MIGRATE_TUI_UPDATE_SNAPSHOTS") == "1"
SNAPSHOT_COMMAND = "MIGRATE_TUI_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_rule_fixtures.py"


def _is_fixed(path: Path) -> bool:
    return ".fixed" in path.name


def _fixed_name(path: Path) -> str:
    name = path.name
    if "." in name and not name.startswith("Dockerfile"):
        stem, ext = name.split(".", 1)
        return f"{stem}.fixed.{ext}"
    return name + ".fixed"


def _snapshot_path(path: Path) -> Path:
    return path.with_name(path.name.split(".")[0] + ".findings.txt")


def render_snapshot(findings) -> str:
    """What a user reads about each finding, one stable text block per finding."""
    out = []
    for f in findings:
        loc = f.location
        out.append(f"{loc.path}:{loc.line}:{loc.column}: {f.rule} [{f.applicability.value}] {f.message}")
        for note in f.notes:
            out.append(f"  = note: {note}")
        if f.fix is not None:
            out.append(f"  = fix ({f.fix.applicability.value}): {f.fix.description}")
            if f.fix.assumption:
                out.append(f"  = assumes: {f.fix.assumption}")
        if f.fix_blocked:
            out.append(f"  = not fixed: {f.fix_blocked}")
    return "\n".join(out) + "\n"


def _check_snapshot(path: Path, findings) -> None:
    snapshot = _snapshot_path(path)
    got = render_snapshot(findings)
    if UPDATE_SNAPSHOTS:
        snapshot.write_text(got, encoding="utf-8")
    assert snapshot.exists(), f"missing snapshot {snapshot.name}: create it with `{SNAPSHOT_COMMAND}` and read it"
    assert got == snapshot.read_text(encoding="utf-8"), (
        f"{snapshot.name} differs; after a deliberate change run `{SNAPSHOT_COMMAND}` and read the diff"
    )


def _cases() -> list:
    out = []
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if re.fullmatch(r"[A-Z]{2}\d{3}", p.name)):
        for path in sorted(rule_dir.iterdir()):
            if path.is_file() and not _is_fixed(path) and not path.name.endswith((".md", ".json", ".findings.txt")):
                out.append(pytest.param(rule_dir.name, path, id=f"{rule_dir.name}/{path.name}"))
    return out


def _stage(tmp_path: Path, path: Path) -> Path:
    """Copy a fixture (and its build context, if any) into a fresh root."""
    root = tmp_path / "repo"
    root.mkdir()
    context = path.parent / (path.name.split(".")[0] + ".context")
    if context.is_dir():
        shutil.copytree(context, root, dirs_exist_ok=True)
    target = root / path.name
    shutil.copyfile(path, target)
    return target


@pytest.mark.parametrize(("code", "path"), _cases())
def test_fixture(code: str, path: Path, tmp_path: Path) -> None:
    staged = _stage(tmp_path, path)
    root = staged.parent
    engine = make_engine(root, select=(code,))
    result = engine.scan()
    assert not [d for d in result.diagnostics if d.path == staged.name], result.diagnostics
    got = Counter((f.rule, f.applicability.value) for f in result.findings)
    expected = Counter(_EXPECT.findall(path.read_text(encoding="utf-8")))
    if path.name.startswith("clean_"):
        assert not result.findings, [f.message + " / " + str(f.fix_blocked) for f in result.findings]
        assert not _snapshot_path(path).exists(), f"{_snapshot_path(path).name}: a clean fixture has no findings to snapshot"
        return
    _check_snapshot(path, result.findings)
    assert expected, f"{path.name} has no '# expect: CODE applicability' line"
    assert got == expected, [(f.rule, f.applicability.value, f.message, f.fix_blocked) for f in result.findings]

    fixed_path = path.with_name(_fixed_name(path))
    fixable = [f for f in result.findings if f.fixable]
    report, after = engine.fix(unsafe=True)
    from migrate_tui.write.writer import WriteRefusal

    waits = {id(f) for f, kind in report.refused if kind is WriteRefusal.OVERLAPS}
    assert not [s for s in report.skipped if id(s[0]) not in waits], report.skipped
    if not fixable:
        assert not report.written
        assert not fixed_path.exists(), f"{fixed_path.name} exists but nothing is fixable"
        return
    new_bytes = staged.read_bytes()
    if UPDATE:
        fixed_path.write_bytes(new_bytes)
    assert fixed_path.exists(), f"missing golden {fixed_path.name} (run with MIGRATE_TUI_UPDATE_GOLDEN=1 and read it)"
    assert new_bytes == fixed_path.read_bytes()
    # A second pass has nothing left to fix and changes nothing.
    assert not [f for f in after.findings if f.fixable]
    report2, _ = make_engine(root, select=(code,)).fix(unsafe=True)
    assert report2.written == []
    assert staged.read_bytes() == new_bytes


def test_every_rule_has_firing_and_clean_fixtures() -> None:
    missing = []
    for code in all_rules():
        directory = FIXTURES / code
        files = [p for p in directory.iterdir()] if directory.is_dir() else []
        firing = [p for p in files if not p.name.startswith("clean_") and not _is_fixed(p) and not p.name.endswith(".findings.txt")]
        clean = [p for p in files if p.name.startswith("clean_")]
        if not firing or not clean:
            missing.append(code)
    assert not missing, f"rules without firing and clean fixtures: {missing}"
