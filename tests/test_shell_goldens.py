"""The shell model's outputs over every command the tests and fixtures contain, against the
goldens recorded from the hand-written parser before the switch to tree-sitter-bash
(``tests/shell_goldens/generate.py`` writes them; read the diff before committing new ones).

An input whose output changed fails. Inputs the goldens don't have yet (a new fixture, a new
test literal) or no longer occur are not a change of the shell model: they are reported as a
warning, and ``generate.py`` brings the goldens up to date (``--check`` is strict)."""

from __future__ import annotations

import difflib
import importlib.util
import json
import sys
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location("shell_goldens_generate", HERE / "shell_goldens" / "generate.py")
assert _SPEC is not None and _SPEC.loader is not None
generate = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = generate
_SPEC.loader.exec_module(generate)


def _key(line: str) -> str:
    record = json.loads(line)
    return json.dumps(record.get("input") or record.get("run") or record.get("split_script"), sort_keys=True)


def _compare(which: str) -> None:
    path = generate.GOLDENS[which]
    expected = {_key(line): line for line in path.read_text(encoding="utf-8").splitlines()}
    actual = {_key(line): line for line in generate.records(which)}
    changed = [key for key in expected if key in actual and actual[key] != expected[key]]
    if changed:
        diff = "\n".join(
            line for key in changed for line in difflib.unified_diff([expected[key]], [actual[key]], "golden", "now", lineterm="", n=0)
        )
        pytest.fail(f"{len(changed)} record(s) of {path.name} changed:\n{diff[:20000]}")
    new = len(actual.keys() - expected.keys())
    gone = len(expected.keys() - actual.keys())
    if new or gone:
        warnings.warn(f"{path.name}: {new} new and {gone} vanished input(s); run tests/shell_goldens/generate.py", stacklevel=1)


def test_repo_commands_match_the_goldens() -> None:
    _compare("repo")


def test_corpus_commands_match_the_goldens(corpus: Path) -> None:
    _compare("corpus")
