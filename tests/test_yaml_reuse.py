"""Work the YAML side of a scan no longer does twice, against the way that does it twice.

- ``parse.yamldoc.FastSafeLoader`` remembers each plain scalar's resolved tag and makes the
  composer's per-node resolver hooks C no-ops: every file composes to the same nodes as with
  PyYAML's own ``CSafeLoader``, and ``_resolve`` answers what ``Resolver.resolve`` answers.
- ``parse.yamldoc.loads_like_safe`` decides, from a composed tree, that detection's loader builds
  the data PyYAML's safe constructor builds; when it says so, both loaders agree exactly.
- The fix planner patches the node tree the scan composed (``Chunk.composed``) and schema-checks
  the data its own check of the patch read (``Patched.data``): every finding, fix and refusal is
  the same as when both are composed and loaded again, on the fixtures, the demo, the corpus and
  a generated tree, and on generated documents and edits.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

import migrate_tui.fixes.yaml_edit as yamledit
from migrate_tui.fixes import yaml_patch
from migrate_tui.fixes.yaml_patch import Unsupported
from migrate_tui.parse import yamldoc
from testlib import CORPUS, DEMO, FIXTURES, FLOW_KEYS, budget, flow_yaml, make_engine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from gen_repo import generate  # noqa: E402

_PYYAML = yaml.CSafeLoader


def _yaml_files() -> list[Path]:
    roots = [FIXTURES, DEMO] + ([CORPUS] if CORPUS.is_dir() else [])
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _texts() -> list[str]:
    return [p.read_bytes().decode("utf-8", errors="replace") for p in _yaml_files()]


def _node_shape(node: Any) -> Any:
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return (
            "S",
            node.tag,
            node.value,
            node.style,
            node.start_mark.line,
            node.start_mark.column,
            node.end_mark.line,
            node.end_mark.column,
        )
    if isinstance(node, yaml.SequenceNode):
        return ("Q", node.tag, node.flow_style, node.start_mark.line, [_node_shape(c) for c in node.value])
    return ("M", node.tag, node.flow_style, node.start_mark.line, [(_node_shape(k), _node_shape(v)) for k, v in node.value])


def _composed(text: str, loader: Any) -> Any:
    try:
        return [_node_shape(n) for n in yaml.compose_all(text, Loader=loader)]
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


# -- the resolver ------------------------------------------------------------------------------


def test_every_file_composes_as_with_pyyaml() -> None:
    texts = _texts()
    assert len(texts) > 100
    for text in texts:
        for chunk in yamldoc.split_documents(text):
            body = text[chunk.start : chunk.end]
            assert _composed(body, yamldoc.FastSafeLoader) == _composed(body, _PYYAML)


def _scalar_events(text: str) -> list[tuple[str, tuple[bool, bool]]]:
    out = []
    try:
        for event in yaml.parse(text, Loader=_PYYAML):
            if isinstance(event, yaml.ScalarEvent):
                out.append((event.value, event.implicit))
    except yaml.YAMLError:
        pass
    return out


def _same_tags(values: list[tuple[str, tuple[bool, bool]]]) -> None:
    fast, pyyaml = yamldoc.FastSafeLoader(""), _PYYAML("")
    for value, implicit in values:
        for flags in (implicit, (True, False), (False, True), (False, False), (True, True)):
            assert yamldoc._resolve(fast, yaml.ScalarNode, value, flags) == pyyaml.resolve(yaml.ScalarNode, value, flags), (value, flags)
    for kind in (yaml.MappingNode, yaml.SequenceNode):
        assert yamldoc._resolve(fast, kind, None, (True, False)) == pyyaml.resolve(kind, None, (True, False))


def test_the_memoized_resolver_answers_as_pyyaml_on_every_scalar() -> None:
    _same_tags([v for text in _texts() for v in _scalar_events(text)])


@settings(max_examples=budget(300))
@given(st.text(alphabet=st.sampled_from("0123456789.-+:eExXoObBtTfFnNyY~_ =<!&*aZ"), max_size=12) | st.text(max_size=80))
@example("2001-12-14")
@example("0o17")
@example("1_000")
@example(".NaN")
@example("<<")
@example("=")
@example("!")
@example("x" * 100)  # too long to be remembered: still the same answer
def test_the_memoized_resolver_answers_as_pyyaml(value: str) -> None:
    _same_tags([(value, (True, False))])
    _same_tags([(value, (True, False))])  # (the second time from memory)


def test_the_loader_has_no_path_resolvers() -> None:
    """What the no-op hooks rely on."""
    assert not yamldoc.FastSafeLoader.yaml_path_resolvers and not yamldoc._LineLoader.yaml_path_resolvers
    assert yamldoc.FastSafeLoader.yaml_implicit_resolvers is _PYYAML.yaml_implicit_resolvers


# -- loads_like_safe -------------------------------------------------------------------------


def _plain_shape(value: Any) -> Any:
    """Types and values, ``LMap``/``LSeq`` read as ``dict``/``list`` (what the data is, not where)."""
    if isinstance(value, dict):
        return ("dict", [(_plain_shape(k), _plain_shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_plain_shape(v) for v in value])
    return (type(value).__name__, value)


def _verdict(text: str) -> tuple[bool, Any, Any]:
    """(loads_like_safe, what detection builds, what PyYAML's safe constructor builds)."""
    loader = yaml_patch._Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return False, None, None
    said = yamldoc.loads_like_safe(text, node)
    try:
        detection = _plain_shape(yamldoc.load_chunk(text, yamldoc.Chunk(0, 0, len(text), 1, False)))
    except yamldoc.YamlError as err:
        detection = ("error", err.message)
    try:
        safe = _plain_shape(yaml.load(text, Loader=_PYYAML))
    except yaml.YAMLError as exc:
        safe = ("error", str(exc))
    return said, detection, safe


def _single_documents() -> list[str]:
    out = []
    for text in _texts():
        for chunk in yamldoc.split_documents(text):
            body = text[chunk.start : chunk.end]
            try:
                loader = yaml_patch._Loader(body)
                loader.get_single_node()
                loader.dispose()
            except yaml.YAMLError:
                continue
            out.append(body)
    return out


def test_loads_like_safe_holds_on_every_document() -> None:
    said_yes = 0
    for body in _single_documents():
        said, detection, safe = _verdict(body)
        if said:
            said_yes += 1
            assert detection == safe, body
    assert said_yes > 100


NOT_ALIKE = {
    "timestamp": "a: 2001-12-14\n",
    "duplicate key": "a: 1\na: 2\n",
    "anchor": "a: &x 1\nb: *x\n",
    "ampersand in a string": "a: 'x & y'\n",
    "flow nesting in a string": "a: '" + "[" * 101 + "'\n",
    "int key": "1: a\n",
    "merge key": "m:\n  <<: {x: 1}\n",
    "tag": "a: !!set {x}\n",
    "unknown tag": "a: !Ref x\n",
    "deep": "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)) + "  " * 60 + "leaf: 1\n",
}


@pytest.mark.parametrize("text", list(NOT_ALIKE.values()), ids=list(NOT_ALIKE))
def test_loads_like_safe_refuses_what_the_loaders_read_apart(text: str) -> None:
    said, detection, safe = _verdict(text)
    assert not said


def test_loads_like_safe_counts_collections_as_the_node_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a: {b: {c: 1}}\nd: [1, [2, [3]]]\n"  # 6 collections
    monkeypatch.setattr(yamldoc, "MAX_NODES", 6)
    assert _verdict(text)[0]
    monkeypatch.setattr(yamldoc, "MAX_NODES", 5)
    said, detection, _ = _verdict(text)
    assert not said and detection[0] == "error"


_SCALARS = ["a", "'a'", '"b c"', "1", "-2", "0x1f", "1.5", ".inf", "true", "off", "null", "~", "", "2001-12-14", "!!str 3", "x&y"]


@settings(max_examples=budget(300))
@given(st.lists(st.tuples(FLOW_KEYS, flow_yaml(_SCALARS, 3)), min_size=1, max_size=4))
@example([("a", "2001-12-14")])
@example([("a", "1"), ("a", "2")])
@example([("a", "{b: x&y}")])
def test_loads_like_safe_holds_on_generated_documents(entries: list[tuple[str, str]]) -> None:
    text = "".join(f"{k}: {v}\n" for k, v in entries)
    try:
        said, detection, safe = _verdict(text)
    except yaml.YAMLError:
        return  # (not one document: nothing to decide)
    if said:
        assert detection == safe


# -- the planner: the scan's tree and the patch check's data, reused ----------------------------


def _without_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The way before: the patcher composes the chunk again, the schema check loads the rewrite again."""
    monkeypatch.setattr(yamledit, "composed_node", lambda text, chunk: None)
    real = yamledit.new_schema_errors
    monkeypatch.setattr(
        yamledit, "new_schema_errors", lambda text, chunk, new_chunk, version, new_data=None: real(text, chunk, new_chunk, version)
    )


def _result(root: Path) -> tuple[Any, ...]:
    engine = make_engine(root)
    engine.jobs = 1
    result = engine.scan()
    return (
        [(f.rule, f.location, f.message, f.explanation, f.notes, f.fix, f.fix_blocked, f.data) for f in result.findings],
        result.diagnostics,
    )


def _trees(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    generated = tmp_path_factory.mktemp("generated")
    generate(400, generated)
    return [p for p in (FIXTURES, DEMO, CORPUS, generated) if p.is_dir()]


def test_every_finding_and_fix_is_the_same_as_without_reuse(tmp_path_factory: pytest.TempPathFactory) -> None:
    fixes = 0
    for root in _trees(tmp_path_factory):
        reused = _result(root)
        with pytest.MonkeyPatch.context() as monkeypatch:
            _without_reuse(monkeypatch)
            again = _result(root)
        assert reused == again, root
        fixes += sum(1 for f in reused[0] if f[5] is not None)
    assert fixes > 50


def test_the_planner_reuses_the_scan_tree_and_the_checked_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a block-style manifest with a '---' line, the fix is planned without composing the
    chunk again and without loading the rewrite a second time (which the equality above can't see)."""
    case = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"
    text = "---\n" + case.read_text()
    (tmp_path / "m.yaml").write_text(text)
    calls: list[str] = []
    real_compose, real_load = yaml_patch._compose, yamldoc.load_chunk

    def compose_spy(body: str) -> Any:
        calls.append("compose")
        return real_compose(body)

    def load_spy(text: str, chunk: yamldoc.Chunk) -> Any:
        calls.append("load_chunk")
        return real_load(text, chunk)

    monkeypatch.setattr(yaml_patch, "_compose", compose_spy)
    monkeypatch.setattr(yamldoc, "load_chunk", load_spy)
    result = make_engine(tmp_path, select=("IV001",)).scan()
    assert [f.fixable for f in result.findings] == [True]
    assert calls == ["load_chunk"] * len(yamldoc.split_documents(text)), calls


# generated edits: the patch of the scan's tree (whole chunk, '---' line included) is the patch
# of a freshly composed body, byte for byte, with the same data or the same refusal

_LEAF = st.sampled_from(["x", "1", "true", "'q'", "2001-12-14", "a b", "-"])
_NAMES = st.sampled_from(["a", "b", "c", "d"])


def _block(depth: int, indent: int) -> st.SearchStrategy[list[str]]:
    pad = " " * indent
    leaf = st.tuples(_NAMES, _LEAF).map(lambda kv: [f"{pad}{kv[0]}: {kv[1]}"])
    if depth == 0:
        return leaf
    nested_map = st.tuples(_NAMES, _block(depth - 1, indent + 2)).map(lambda kv: [f"{pad}{kv[0]}:", *kv[1]])
    items = st.lists(_block(depth - 1, indent + 2), min_size=1, max_size=2)
    nested_seq = st.tuples(_NAMES, items).map(lambda kv: [f"{pad}{kv[0]}:"] + [line for item in kv[1] for line in _dash(item, indent)])
    return st.one_of(leaf, nested_map, nested_seq)


def _dash(lines: list[str], indent: int) -> list[str]:
    first = lines[0]
    return [" " * indent + "- " + first[indent + 2 :], *lines[1:]]


def _mutation(op: str, key: str, value: Any) -> Any:
    def mutate(doc: Any) -> None:
        if op == "set":
            doc[key] = value
        elif op == "delete" and key in doc:
            del doc[key]
        elif op == "insert" and key not in doc:
            doc.insert(0, key, value)
        elif op == "nested":  # (on the patcher's proxies and on ruamel's tree alike)
            for k in list(doc.keys()):
                child = doc[k]
                if hasattr(child, "keys"):
                    child["z"] = value
                    return
                if hasattr(child, "insert") and len(child):
                    del child[0]
                    return

    return mutate


def _plan(text: str, chunk: yamldoc.Chunk, mutate: Any) -> tuple[str, Any]:
    try:
        return yamledit._rewrite_chunk(text, chunk, mutate)
    except yamledit.RewriteRefused as exc:
        return ("refused", str(exc))
    except Unsupported as exc:  # pragma: no cover - _rewrite_chunk falls back to ruamel
        return ("unsupported", str(exc))


@settings(max_examples=budget(200))
@given(
    st.lists(_block(2, 0), min_size=1, max_size=4).map(lambda blocks: [line for b in blocks for line in b]),
    st.sampled_from(["", "---\n", "--- # c\n", "a: 0\n---\n"]),
    st.sampled_from(["set", "delete", "insert", "nested"]),
    _NAMES,
    st.sampled_from(["v", True, 3, {"k": "v"}, ["i"], "2001-12-14"]),
)
@example(["a: 1", "b:", "- c: 2", "  d: x"], "---\n", "nested", "a", "v")
@example(["a: 2001-12-14"], "--- # c\n", "set", "b", "x")
def test_patching_the_scan_tree_is_patching_a_fresh_one(lines: list[str], head: str, op: str, key: str, value: Any) -> None:
    text = head + "\n".join(lines) + "\n"
    items = list(yamldoc.load_documents(text))
    last = items[-1]
    if isinstance(last, yamldoc.YamlError) or not isinstance(last.data, dict):
        return
    chunk = last.chunk
    assert yamldoc.composed_node(text, chunk) is not None
    mutate = _mutation(op, key, value)
    reused = _plan(text, chunk, mutate)
    fresh = _plan(text, yamldoc.Chunk(chunk.index, chunk.start, chunk.end, chunk.line, chunk.marker), mutate)
    assert reused[0] == fresh[0]
    if reused[0] in ("refused", "unsupported"):
        assert reused == fresh
        return
    if fresh[1] is not None:
        assert _plain_shape(reused[1]) == _plain_shape(fresh[1])
    if reused[1] is not None:  # the data handed to the schema check is what detection reads
        probe = yamldoc.Chunk(0, 0, len(reused[0]), chunk.line, chunk.marker)
        assert _plain_shape(reused[1]) == _plain_shape(yamldoc.load_chunk(reused[0], probe))


def test_schema_errors_with_the_checked_data_are_the_errors_without() -> None:
    """Every rewrite the IV001/IV003 fixtures show (``*.fixed.yaml``), for a version that knows
    image volumes and one that doesn't: ``new_schema_errors`` given the rewrite's data says what
    it says when it loads the rewrite itself."""
    compared = invalid = 0
    for fixed in sorted((FIXTURES / "IV001").glob("*.fixed.yaml")) + sorted((FIXTURES / "IV003").glob("*.fixed.yaml")):
        original = fixed.with_name(fixed.name.replace(".fixed.yaml", ".yaml")).read_text()
        new = fixed.read_text()
        old_chunks, new_chunks = yamldoc.split_documents(original), yamldoc.split_documents(new)
        if len(old_chunks) != len(new_chunks):
            continue
        for old_chunk, new_chunk in zip(old_chunks, new_chunks):
            body = new[new_chunk.start : new_chunk.end]
            loader = yaml_patch._Loader(body)
            try:
                node = loader.get_single_node()
            except yaml.YAMLError:
                continue
            finally:
                loader.dispose()
            if node is None or not yamldoc.loads_like_safe(body, node):
                continue
            data = yamldoc.load_chunk(body, yamldoc.Chunk(0, 0, len(body), old_chunk.line, old_chunk.marker))
            for version in ((1, 30), (1, 36)):
                given = yamledit.new_schema_errors(original, old_chunk, body, version, data)
                assert given == yamledit.new_schema_errors(original, old_chunk, body, version), fixed
                compared += 1
                invalid += bool(given)
    assert compared > 50 and invalid > 10, (compared, invalid)


class _Text(str):
    """A string subclass whose str() is another text (what ``_plain`` writes, and compares)."""

    def __str__(self) -> str:
        return "other"


_atoms = st.sampled_from([None, True, False, 0, 1, 1.0, float("nan"), "a", "other", "1", _Text("a"), _Text("other"), (1, 2), b"x"])


def _values(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return _atoms
    child = _values(depth - 1)
    keys = st.sampled_from(["a", "b", 1, True, 0, None])
    return st.one_of(_atoms, st.dictionaries(keys, child, max_size=3), st.lists(child, max_size=3))


def _old_means(loaded: Any, value: Any) -> bool | str:
    try:
        return bool(loaded == yaml_patch._plain(value))
    except Unsupported:
        return "unsupported"


def _new_means(loaded: Any, value: Any) -> bool | str:
    try:
        return yaml_patch._means(loaded, value)
    except Unsupported:
        return "unsupported"


@settings(max_examples=budget(500))
@given(_values(3), _values(3))
@example({"a": [1, {"b": "x"}]}, {"a": [1, {"b": "x"}]})
@example({1: "a"}, {True: "a"})
@example({"a": "other"}, {"a": _Text("a")})
@example([float("nan")], [float("nan")])
def test_means_is_equality_with_the_plain_copy(loaded: Any, value: Any) -> None:
    """The patch check compares the reloaded text with the edited data as ``loaded ==
    _plain(data)`` did: same verdict on arbitrary values, equal or not, and a proxy stored in
    the data still makes the fast path give up."""
    assert _new_means(loaded, value) == _old_means(loaded, value)
    assert _new_means(value if not isinstance(value, _Text) else str(value), value) in (True, False)
    assert _new_means(loaded, loaded) == _old_means(loaded, loaded)


def test_means_refuses_a_stored_proxy() -> None:
    doc = yaml_patch._Doc("a: 1\n", ["a: 1", ""], 2, 0)
    node = yaml.compose("a: 1\n", Loader=yaml_patch._Loader)
    proxy = doc.wrap(node, {"a": 1})
    assert _new_means({"b": {"a": 1}}, {"b": proxy}) == _old_means({"b": {"a": 1}}, {"b": proxy}) == "unsupported"


def test_a_chunk_keeps_its_tree_out_of_its_value() -> None:
    """The kept tree is no part of what a chunk is: equality, hash and pickling ignore it, and it
    serves only the very text it was composed from."""
    import pickle

    text = "a: 1\n---\nb: [x]\n"
    chunk = list(yamldoc.load_documents(text))[1].chunk
    assert yamldoc.composed_node(text, chunk) is not None
    assert yamldoc.composed_node("a: 1\n---\nb: [x]\n ".rstrip(" "), chunk) is None  # an equal text, another object
    bare = yamldoc.Chunk(chunk.index, chunk.start, chunk.end, chunk.line, chunk.marker)
    assert chunk == bare and hash(chunk) == hash(bare) and repr(chunk) == repr(bare)
    copy = pickle.loads(pickle.dumps(chunk))
    assert copy == chunk and copy.composed is None
    anchored = "a: &x 1\nb: 2\n"  # (built by PyYAML's constructor, which may rewrite a tree: not kept)
    assert yamldoc.composed_node(anchored, list(yamldoc.load_documents(anchored))[0].chunk) is None
