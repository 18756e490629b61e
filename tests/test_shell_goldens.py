"""The shell model's outputs over every command the tests and fixtures contain, against the
goldens recorded from the hand-written parser before the switch to tree-sitter-bash
(``tests/shell_goldens/generate.py`` writes them; read the diff before committing new ones)."""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location("shell_goldens_generate", HERE / "shell_goldens" / "generate.py")
assert _SPEC is not None and _SPEC.loader is not None
generate = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = generate
_SPEC.loader.exec_module(generate)


def _compare(which: str) -> None:
    path = generate.GOLDENS[which]
    expected = path.read_text(encoding="utf-8").splitlines()
    actual = generate.records(which)
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected, actual, "golden", "now", lineterm="", n=0))
        pytest.fail(f"{path.name} differs from what the shell model says now:\n{diff[:20000]}")


def test_repo_commands_match_the_goldens() -> None:
    _compare("repo")


def test_corpus_commands_match_the_goldens(corpus: Path) -> None:
    _compare("corpus")
