"""The fast text patcher and the ruamel round trip are two implementations of one edit: on every
fixture they must write the same bytes, and block-style files must take the fast path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import migrate_tui.fixes.yaml_edit as yamledit
from testlib import FIXTURES, make_engine
from migrate_tui.fixes.yaml_patch import Unsupported, fast_rewrite

CASES = sorted(
    p for code in ("IV001", "IV003") for p in (FIXTURES / code).glob("*.yaml") if ".fixed" not in p.name and not p.name.startswith("clean_")
)


def _fix(tmp: Path, case: Path, code: str) -> bytes:
    root = tmp / case.stem
    root.mkdir(parents=True)
    shutil.copyfile(case, root / case.name)
    make_engine(root, select=(code,)).fix(unsafe=True)
    return (root / case.name).read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_path_and_ruamel_write_the_same_bytes(case: Path, tmp_path: Path, monkeypatch) -> None:
    code = case.parent.name
    fast = _fix(tmp_path / "fast", case, code)

    def refuse(*args, **kwargs):
        raise Unsupported("forced onto the ruamel path")

    monkeypatch.setattr(yamledit, "fast_patch", refuse)
    slow = _fix(tmp_path / "slow", case, code)
    assert fast == slow


CP_CASES = sorted(p for p in (FIXTURES / "IV001").glob("cp_*.yaml") if ".fixed" not in p.name)
# Flow-style items (``- {name: x, mountPath: y}``) in the lines a fix touches are left to ruamel
# by design (test_flow_style_is_left_to_ruamel); every other cp_* fixture is block style.
FLOW_STYLE = {"cp_glob_dotfiles.yaml"}


@pytest.mark.parametrize("case", CP_CASES, ids=lambda p: p.name)
def test_block_style_fixture_takes_the_fast_path(case: Path, tmp_path: Path, monkeypatch) -> None:
    """Each block-style ``cp_*`` fixture is rewritten by the fast patcher alone: it returns a text
    for every planned rewrite and the ruamel fallback (``load_rt``) is never entered. The
    flow-style one goes to ruamel, and says so."""
    calls: list[str] = []
    real_fast, real_load = yamledit.fast_patch, yamledit.load_rt

    def fast_spy(*args, **kwargs):
        try:
            result = real_fast(*args, **kwargs)
        except Unsupported:
            calls.append("fast refused")
            raise
        calls.append("fast")
        return result

    def load_spy(*args, **kwargs):
        calls.append("ruamel")
        return real_load(*args, **kwargs)

    monkeypatch.setattr(yamledit, "fast_patch", fast_spy)
    monkeypatch.setattr(yamledit, "load_rt", load_spy)
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copyfile(case, root / case.name)
    result = make_engine(root, select=("IV001",)).scan()
    assert [f.fixable for f in result.findings] == [True], [(f.message, f.fix_blocked) for f in result.findings]
    if case.name in FLOW_STYLE:
        assert calls == ["fast refused", "ruamel"], calls
    else:
        assert calls and set(calls) == {"fast"}, calls


def test_replacing_a_scalar_keeps_its_quotes_and_comment() -> None:
    body = 'a:\n  ref: "x:1"  # pinned later\n  b: 2\n'
    out = fast_rewrite(body, lambda d: d["a"].__setitem__("ref", "x:1@sha256:00"), 2, 0)
    assert out == 'a:\n  ref: "x:1@sha256:00"  # pinned later\n  b: 2\n'


def test_flow_style_is_left_to_ruamel() -> None:
    with pytest.raises(Unsupported):
        fast_rewrite("a: {b: 1}\n", lambda d: d["a"].insert(1, "c", 2), 2, 0)


def test_deleting_an_item_keeps_the_comment_above_the_next_one() -> None:
    body = "xs:\n- name: a\n  v: 1\n# about b\n- name: b\n"
    out = fast_rewrite(body, lambda d: d["xs"].__delitem__(0), 2, 0)
    assert out == "xs:\n# about b\n- name: b\n"
