"""``analysis.initcopy.parse_command`` remembers small commands: the result for a container is
the one ``parse_container_command`` gives (equal, and immutable, so one object can serve every
container that runs the same command), on every container of the fixtures, the demo and the
corpus; a large command is parsed each time and never kept."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from migrate_tui.analysis import initcopy
from migrate_tui.analysis.workloads import containers
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.parse.shell import parse_container_command
from migrate_tui.parse.yamldoc import YamlError, load_documents
from testlib import CORPUS, DEMO, FIXTURES


def _containers() -> list[dict[str, Any]]:
    roots = [FIXTURES, DEMO] + ([CORPUS] if CORPUS.is_dir() else [])
    out = []
    for path in sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
        for item in load_documents(path.read_bytes().decode("utf-8", errors="replace")):
            if isinstance(item, YamlError) or not isinstance(item.data, dict):
                continue
            for ref in find_pod_specs(item.data):
                out += containers(ref.spec)
    return out


def _direct(container: dict[str, Any]) -> Any:
    """What parse_command did before it remembered anything."""
    command, args = container.get("command"), container.get("args")
    working_dir = container.get("workingDir")
    return parse_container_command(
        [str(c) for c in command] if isinstance(command, list) else None,
        [str(a) for a in args] if isinstance(args, list) else None,
        str(working_dir) if working_dir else None,
        initcopy.literal_env(container),
    )


def _frozen(value: Any) -> None:
    """Nothing in a parsed command can change: frozen dataclasses, tuples, strings, enums."""
    if dataclasses.is_dataclass(value):
        assert type(value).__dataclass_params__.frozen, type(value)  # type: ignore[attr-defined]
        for f in dataclasses.fields(value):
            _frozen(getattr(value, f.name))
    elif isinstance(value, tuple):
        for item in value:
            _frozen(item)
    else:
        assert value is None or isinstance(value, (str, int, bool)), type(value)


def test_remembered_commands_are_the_commands_parsed_each_time() -> None:
    seen = _containers()
    assert len(seen) > 200
    for container in seen:
        parsed = initcopy.parse_command(container)
        assert parsed == _direct(container), container.get("name")
        assert initcopy.parse_command(container) == parsed
        _frozen(parsed)


def test_one_object_for_one_command_and_large_commands_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    small = {"name": "a", "command": ["sh", "-c", "cp -r /site/. /html/"], "env": [{"name": "X", "value": "1"}]}
    assert initcopy.parse_command(small) is initcopy.parse_command(dict(small, name="b"))
    assert initcopy.parse_command(dict(small, env=[{"name": "X", "value": "2"}])) is not initcopy.parse_command(small)
    large = {"name": "c", "command": ["sh", "-c", "cp -r /site/. /html/ && " + "echo " + "x" * 5000]}
    before = initcopy._remembered_parse.cache_info().currsize
    first = initcopy.parse_command(large)
    assert first == _direct(large) and first is not initcopy.parse_command(large)
    assert initcopy._remembered_parse.cache_info().currsize == before
