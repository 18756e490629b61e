"""The JSON writer of ``check --format json|sarif`` writes exactly what ``json.dumps(value,
indent=2)`` writes, for every value (its own fast path or, outside it, json.dumps itself)."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import DEMO, budget, make_engine
from migrate_tui.render.formats import render
from migrate_tui.render.formats.jsonout import dumps_indented


class Kind(str, enum.Enum):
    A = "a\u00e9\n"


keys = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(),  # control characters, surrogates, non-ASCII: the escaper's business
    st.just(Kind.A),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=budget(300))
@given(values)
@example({"a": [], "b": {}, "c": [{}], "d": {"e": [1, True, None, "x\u2028\x1b[31m"]}})
@example({2: "int key", None: "none key", True: "bool key", 1.5: "float key"})
@example([math.nan, math.inf, -math.inf, -0.0, 1e300])
@example({"deep": [[[[["x", {"y": [[]]}]]]]]})
def test_the_same_bytes_as_json_dumps(value) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)


def test_a_very_deep_value_and_a_cycle_are_json_dumps_business() -> None:
    deep: list = []
    node = deep
    for _ in range(300):
        node.append([])
        node = node[0]
    assert dumps_indented(deep) == json.dumps(deep, indent=2)
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented(cycle)


def test_an_unknown_type_raises_as_json_dumps_does() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"x": object()})


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_check_output_is_unchanged_on_the_demo(fmt: str) -> None:
    result = make_engine(DEMO).scan()
    assert result.findings
    text = render(result, fmt)
    assert text == json.dumps(json.loads(text), indent=2) + "\n"
    assert text.startswith("{\n  ")
