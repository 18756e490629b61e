"""The fast YAML constructors (``parse/yamldoc._construct`` for detection, ``fixes/yaml_patch._construct``
for the text patcher) against PyYAML's own: the same data, the same line numbers, the same errors
(line and message), on every YAML file of the fixtures, the demo and the corpus, and on inputs
chosen to leave the fast path (merge keys, tags, other key types, deep nesting, anchors) or to
fail in it (duplicate keys, node limits, unknown tags)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrate_tui.fixes import yaml_patch
from migrate_tui.parse import yamldoc
from testlib import CORPUS, DEMO, FIXTURES, FLOW_KEYS, budget, flow_yaml


def _shape(value: Any) -> Any:
    """The value with its types and line numbers, comparable with ==."""
    if isinstance(value, yamldoc.LMap):
        return ("LMap", value.line, [(_shape(k), value.key_lines.get(k), _shape(v)) for k, v in value.items()])
    if isinstance(value, yamldoc.LSeq):
        return ("LSeq", value.line, list(value.item_lines), [_shape(v) for v in value])
    if isinstance(value, dict):
        return (type(value).__name__, [(_shape(k), _shape(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple, set)):
        return (type(value).__name__, [_shape(v) for v in (sorted(value, key=repr) if isinstance(value, set) else value)])
    return (type(value).__name__, value)


def _documents(text: str, monkeypatch: pytest.MonkeyPatch, fast: bool) -> list[Any]:
    # _FAST_DEPTH -1: every collection leaves the fast path at once, so PyYAML builds the document
    monkeypatch.setattr(yamldoc, "_FAST_DEPTH", 48 if fast else -1)
    out = []
    for item in yamldoc.load_documents(text):
        out.append(("error", item.line, item.message) if isinstance(item, yamldoc.YamlError) else ("doc", item.chunk, _shape(item.data)))
    return out


def _plain(text: str, monkeypatch: pytest.MonkeyPatch, fast: bool) -> Any:
    monkeypatch.setattr(yaml_patch, "_FAST_DEPTH", 48 if fast else -1)
    try:
        return _shape(yaml_patch._load(text))
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


def _assert_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _documents(text, monkeypatch, True) == _documents(text, monkeypatch, False)
    for chunk in yamldoc.split_documents(text):
        body = text[chunk.start : chunk.end]
        fast = _plain(body, monkeypatch, True)
        assert fast == _plain(body, monkeypatch, False)
        try:  # and PyYAML's own yaml.load, untouched
            reference = _shape(yaml.load(body, Loader=yaml_patch._Loader))
        except yaml.YAMLError as exc:
            reference = ("error", type(exc).__name__, str(exc))
        assert fast == reference


def _yaml_files() -> list[Path]:
    roots = [FIXTURES, DEMO] + ([CORPUS] if CORPUS.is_dir() else [])
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def test_every_yaml_file_loads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _yaml_files()
    assert len(files) > 100
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        _assert_same(text, monkeypatch)


DEEP = "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)) + "  " * 60 + "leaf: 1\n"
CASES = {
    "plain": "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: ~, f: true, g: 1.5, h: 0x1f, i: 2001-12-14}\n",
    "duplicate key": "spec:\n  containers: []\n  containers: [1]\n",
    "duplicate key after a nested one": "a:\n  b: 1\n  b: 2\nc: 1\nc: 2\n",
    "merge key": "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
    "merge key without anchor": "m:\n  <<: {x: 1}\n  y: 2\n",
    "value key": "m:\n  =: 1\n",
    "int key": "1: a\n2: b\n",
    "bool key": "on: push\n",
    "null key": "~: x\n",
    "complex key": "? [a, b]\n: c\n",
    "unhashable key": "? {a: 1}\n: c\n",
    "unknown tag": "a: !Ref foo\n",
    "unknown collection tag": "a: !Thing {b: 1}\n",
    "str tag on a map": "a: !!str {b: 1}\n",
    "omap": "a: !!omap [x: 1, y: 2]\n",
    "set": "a: !!set {x, y}\n",
    "binary": "a: !!binary aGVsbG8=\n",
    "explicit map tag": "a: !!map {b: 1}\n",
    "timestamp": "when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\n",
    "deep": DEEP,
    "deep in a list": "- " + "[" * 70 + "]" * 70 + "\n",
    "anchors": "a: &x [1, 2]\nb: *x\n",
    "ampersand in text only": "a: 'x & y'\n",
    "empty": "",
    "comment only": "# nothing\n",
    "scalar document": "just text\n",
    "sequence document": "- a\n- {b: c}\n- - d\n",
    "empty collections": "a: {}\nb: []\nc:\n",
    "multi document": "a: 1\n---\nb: 2\n---\n- x\n",
    "invalid": "a: [\n",
    "two docs in one chunk": "a: 1\n--- \nb: 2\n",
}


@pytest.mark.parametrize("text", list(CASES.values()), ids=list(CASES))
def test_chosen_inputs_load_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(text, monkeypatch)


def test_the_fast_path_keeps_its_errors_and_lines() -> None:
    """What the comparison above relies on, stated: the duplicate key is reported on its line,
    the lines are file lines, and a timestamp is text for detection but a date for the patcher."""
    items = list(yamldoc.load_documents("x: 1\n---\nspec:\n  a: 1\n  a: 2\n"))
    assert isinstance(items[1], yamldoc.YamlError)
    assert (items[1].line, items[1].message) == (5, "duplicate key 'a' (Kubernetes keeps only the last)")
    doc = list(yamldoc.load_documents("a: 1\n---\nb:\n  - c\n  - d: 2001-12-14\n"))[1]
    assert doc.data.line == 3 and doc.data["b"].item_lines == [4, 5] and doc.data["b"][1] == {"d": "2001-12-14"}
    assert doc.data["b"][1].key_lines == {"d": 5}
    assert yaml_patch._load("d: 2001-12-14\n") == {"d": datetime.date(2001, 12, 14)}


def test_the_node_limit_counts_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamldoc, "MAX_NODES", 5)
    text = "a: {b: {c: 1}}\nd: [1, [2, [3]]]\n"
    assert _documents(text, monkeypatch, True) == _documents(text, monkeypatch, False)
    assert _documents(text, monkeypatch, True)[0][0] == "error"
    monkeypatch.setattr(yamldoc, "MAX_NODES", 6)
    assert _documents(text, monkeypatch, True) == _documents(text, monkeypatch, False)
    assert _documents(text, monkeypatch, True)[0][0] == "doc"


_SCALARS = ["a", "'a'", '"b c"', "1", "-2", "0x1f", "1.5", ".inf", "true", "off", "null", "~", "", "2001-12-14", "!!str 3", "!T x"]


@settings(max_examples=budget(200))
@given(st.lists(st.tuples(FLOW_KEYS, flow_yaml(_SCALARS, 3)), min_size=1, max_size=4))
@example([("a", "1"), ("a", "2")])
@example([("<<", "{a: 1}"), ("b", "[1, {c: d}]")])
def test_generated_documents_load_the_same(entries: list[tuple[str, str]]) -> None:
    text = "".join(f"{k}: {v}\n" for k, v in entries)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _assert_same(text, monkeypatch)
