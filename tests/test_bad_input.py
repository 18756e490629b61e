"""Bad input gets a one-line diagnostic naming file and line; the scan goes on; no file touched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine

SITE = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_bytes()


def _scan(root: Path):
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}
    report, result = make_engine(root).fix()
    after = {p: p.read_bytes() for p in before}
    return result, before, after


@pytest.mark.parametrize(
    ("name", "data", "kind", "line"),
    [
        ("broken.yaml", b"initContainers:\n  - name: a\n    image: [unclosed\nfoo: bar\n", "parse", 4),
        ("dup.yaml", b"kind: Pod\ninitContainers: []\nkind: Pod\n", "parse", 3),
        (
            "chart.yaml",
            b'apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n{{- include "x" . | nindent 8 }}\n',
            "template",
            7,
        ),
        ("binary.yaml", b"initContainers:\x00\x01\x02", "binary", 1),
        ("latin1.yaml", b"initContainers: []\n# caf\xe9\n", "encoding", 2),
        ("utf16.yaml", "initContainers: []\n".encode("utf-16"), "encoding", 1),
        ("tabs.yaml", b"initContainers:\n\t- name: a\n", "parse", 2),
    ],
)
def test_bad_file_gets_one_diagnostic_and_the_scan_goes_on(tmp_path: Path, name: str, data: bytes, kind: str, line: int) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.yaml").write_bytes(SITE)
    result, before, after = _scan(tmp_path)
    diagnostics = [d for d in result.diagnostics if d.path == name]
    assert len(diagnostics) == 1, result.diagnostics
    assert diagnostics[0].kind == kind and diagnostics[0].line == line, diagnostics[0]
    assert "\n" not in diagnostics[0].message
    assert after[tmp_path / name] == before[tmp_path / name]
    assert (tmp_path / "good.yaml").read_bytes() != SITE  # the good file was still fixed


def test_file_over_the_size_limit_is_skipped(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.write(b"initContainers: []\n")
        fh.truncate(3 * 1024 * 1024)
    result, _, _ = _scan(tmp_path)
    assert [d.kind for d in result.diagnostics] == ["size"]


def test_yaml_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["initContainers: []", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    result, _, _ = _scan(tmp_path)
    assert result.findings == []


def test_symlink_out_of_the_root_is_reported_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_bytes(SITE)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "leak.yaml").symlink_to(outside / "secret.yaml")
    (root / "loop.yaml").symlink_to(root / "loop.yaml")
    result, _, _ = _scan(root)
    kinds = {d.path: d.kind for d in result.diagnostics}
    assert kinds["leak.yaml"] == "symlink"
    assert (outside / "secret.yaml").read_bytes() == SITE


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    result, _, _ = _scan(tmp_path)
    assert [(d.path, d.kind) for d in result.diagnostics] == [("pipe.yaml", "special")]


def test_unreadable_file_is_one_diagnostic(tmp_path: Path) -> None:
    """As root (CI), the check runs without CAP_DAC_OVERRIDE so permissions bite as for a user."""
    import json
    import shutil
    import subprocess
    import sys

    path = tmp_path / "locked.yaml"
    path.write_bytes(SITE)
    path.chmod(0)
    command = [sys.executable, "-m", "migrate_tui", "check", "--no-cache", "--format", "json", str(tmp_path)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root without setpriv (util-linux) can't drop the capability that reads everything")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in out.stderr
    diagnostics = json.loads(out.stdout)["diagnostics"]
    assert [(d["path"], d["kind"], d["message"]) for d in diagnostics] == [("locked.yaml", "unreadable", "permission denied")]


def test_gitignored_files_are_not_scanned(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("rendered/\n")
    (tmp_path / "rendered").mkdir()
    (tmp_path / "rendered" / "web.yaml").write_bytes(SITE)
    result, _, _ = _scan(tmp_path)
    assert result.findings == [] and result.files_scanned == 0
