"""Fast text-level rewriting of block-style YAML, used before falling back to ruamel.yaml.

The document is composed by libyaml (every node knows where it starts and ends). The mutation
runs against light proxies that speak the subset of ruamel's CommentedMap/CommentedSeq API the
rules use (``[]``, ``del``, ``insert``, ``get``, ``keys``, ``in``, ``len``, iteration); each
operation becomes a line edit of the original text and a change of a plain "shadow" copy of the
data. The patched text must load back to exactly the shadow, or the fast path gives up
(``Unsupported``) and ruamel does the work. Flow-style collections, first keys sharing a
sequence dash line and multi-line scalars being replaced are left to ruamel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator

import yaml

from migrate_tui.parse.yamldoc import FastSafeLoader, loads_like_safe

_Loader = FastSafeLoader  # PyYAML's C safe loader (parse/yamldoc.py)
# A composed PyYAML node (MappingNode, SequenceNode or ScalarNode); PyYAML ships no type stubs.
_Node = Any


class Unsupported(Exception):
    """The fast path can't do this edit exactly; use ruamel."""


def _plain(value: Any) -> Any:
    if isinstance(value, _Collection):
        raise Unsupported("a proxy was stored inside the document")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _means(loaded: Any, value: Any, item: bool = False) -> bool:
    """``loaded == _plain(value)``, without building ``_plain(value)`` (and Unsupported where it
    raises, or False: either way the fast path gives up). Python's equality, step for step: a
    dict has the same size and, for each of ``value``'s keys (``_plain`` keeps them), an equal
    value; a list the same length and equal items; a string is compared as ``str(value)``;
    anything else as it is, and as an ``item`` of a dict or list also when it is the very same
    object (``_plain`` keeps it, and containers compare their items identity first: ``nan``)."""
    if isinstance(value, _Collection):
        raise Unsupported("a proxy was stored inside the document")
    if isinstance(value, dict):
        if type(loaded) is not dict or len(loaded) != len(value):
            return False
        for key, child in value.items():
            if key not in loaded or not _means(loaded[key], child, True):
                return False
        return True
    if isinstance(value, list):
        if type(loaded) is not list or len(loaded) != len(value):
            return False
        return all(_means(a, b, True) for a, b in zip(loaded, value))
    if isinstance(value, str):
        return bool(loaded == str(value))
    return (item and loaded is value) or bool(loaded == value)


def _scalar_text(value: Any, style: str | None = None) -> str:
    """One-line YAML for a scalar; ``style`` keeps the quoting of the scalar it replaces."""
    if isinstance(value, (dict, list)):
        raise Unsupported("not a scalar")
    if type(value) in (str, int, bool):  # the pure-Python emitter is slow: remember (not floats: 0.0 == -0.0)
        kind: type = type(value)  # a plain `type`: mypy wrongly rejects type[Any] as an lru_cache key
        return _scalar_text_of(kind, value, style)
    return _emit_scalar(value, style)


@lru_cache(maxsize=4096)
def _scalar_text_of(kind: type, value: Any, style: str | None) -> str:
    """(``kind`` is in the key: 1 and True are equal keys but different YAML.)"""
    return _emit_scalar(value, style)


#: strings PyYAML writes as they are when it may choose (its emitter allows a plain scalar: no
#: indicator first, no ': ' or ' #', no trailing ':'), provided the resolver reads them back as
#: strings (not 'true', '1.5', '~', '<<', '='); checked against the emitter by a test
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./@+=-]*(?::[A-Za-z0-9_./@+=-]+)*")


def _emit_scalar(value: Any, style: str | None) -> str:
    quoting = style if style in ('"', "'") and isinstance(value, str) else None
    if quoting is None and type(value) is str and _PLAIN_SAFE.fullmatch(value) and _resolves_to_str(value):
        return value  # (the pure-Python emitter costs ~0.1 ms a call)
    return _dump_scalar(value, quoting)


def _dump_scalar(value: Any, quoting: str | None) -> str:
    text: str = yaml.safe_dump(_plain(value), default_flow_style=True, width=1 << 30, allow_unicode=True, default_style=quoting)
    text = text[: -len("\n...\n")] if text.endswith("\n...\n") else text.rstrip("\n")
    if "\n" in text:
        raise Unsupported("multi-line scalar")
    return text


_RESOLVER = yaml.resolver.Resolver()  # the implicit tags of CSafeLoader (and of safe_dump)


def _resolves_to_str(value: str) -> bool:
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    return tag == _STR


@dataclass(eq=False, slots=True)
class _Slot:
    key: Any = None  # maps only
    key_node: Any = None  # original entries: their nodes (geometry)
    value_node: Any = None
    value: Any = None  # the original (shadow) value, or what the mutation put there
    deleted: bool = False
    replaced: bool = False  # an original scalar whose text was replaced in place

    @property
    def original(self) -> bool:
        return self.value_node is not None


@dataclass
class _Doc:
    text: str
    lines: list[str]
    mapping_step: int
    seq_offset: int
    edits: list[tuple[int, int, list[str]]] = field(default_factory=list)
    proxies: list[_Map | _Seq] = field(default_factory=list)

    def blank_or_comment(self, line: int) -> bool:
        stripped = self.lines[line].strip() if line < len(self.lines) else ""
        return not stripped or stripped.startswith("#")

    def content_end(self, node: _Node, floor: int) -> int:
        """Exclusive end line of ``node``'s text, trailing blank/comment lines trimmed."""
        mark = node.end_mark
        line = mark.line
        if line >= len(self.lines):
            end = len(self.lines)
        else:
            before = self.lines[line][: mark.column]
            end = line if not before.strip() else line + 1
        while end - 1 > floor and self.blank_or_comment(end - 1):
            end -= 1
        return max(end, floor + 1)

    def wrap(self, node: _Node, shadow: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return _Map(self, node, shadow)
        if isinstance(node, yaml.SequenceNode):
            return _Seq(self, node, shadow)
        return shadow


class _Collection:
    doc: _Doc
    slots: list[_Slot]
    _wrapped: dict[int, Any]
    _live_slots: list[_Slot] | None = None  # (``_live``, until the next change: ``_sync``)

    def _live(self) -> list[_Slot]:
        """The slots not deleted, in order (one list until the next change; callers only read it)."""
        live = self._live_slots
        if live is None:
            live = self._live_slots = [s for s in self.slots if not s.deleted]
        return live

    def __len__(self) -> int:
        return len(self._live())

    def _value(self, slot: _Slot) -> Any:
        if slot.original and not slot.replaced:
            if id(slot) not in self._wrapped:
                self._wrapped[id(slot)] = self.doc.wrap(slot.value_node, slot.value)
            return self._wrapped[id(slot)]
        return slot.value

    def _virtual_edits(
        self, anchor_after: Callable[[_Slot], int], anchor_before: Callable[[_Slot], int], render: Callable[[_Slot], list[str]]
    ) -> list[tuple[int, int, list[str]]]:
        out = []
        run: list[_Slot] = []
        previous: _Slot | None = None
        for slot in [*self.slots, None]:
            if slot is not None and not slot.original:
                run.append(slot)
                continue
            if run:
                if previous is not None:
                    anchor = anchor_after(previous)
                elif slot is not None:
                    anchor = anchor_before(slot)
                else:
                    raise Unsupported("nothing to anchor an insertion to")
                out.append((anchor, anchor, [line for item in run for line in render(item)]))
                run = []
            if slot is not None:
                previous = slot
        return out


class _Map(_Collection):
    def __init__(self, doc: _Doc, node: _Node, shadow: dict[Any, Any]) -> None:
        if len(node.value) != len(shadow):
            raise Unsupported("merge keys or duplicate keys")
        self.doc, self.node, self.data = doc, node, shadow
        self.slots = [_Slot(key=k, key_node=kn, value_node=vn, value=v) for (kn, vn), (k, v) in zip(node.value, list(shadow.items()))]
        self._wrapped: dict[int, Any] = {}
        doc.proxies.append(self)

    def _slot(self, key: Any) -> _Slot:
        for slot in self._live():
            if slot.key == key:
                return slot
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        return any(s.key == key for s in self._live())

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def keys(self) -> list[Any]:
        return [s.key for s in self._live()]

    def items(self) -> list[tuple[Any, Any]]:
        return [(k, self[k]) for k in self.keys()]

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __getitem__(self, key: Any) -> Any:
        return self._value(self._slot(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self:
            self.insert(len(self), key, value)
            return
        slot = self._slot(key)
        if slot.original:
            node = slot.value_node
            if not isinstance(node, yaml.ScalarNode) or node.style in ("|", ">") or node.start_mark.line != node.end_mark.line:
                raise Unsupported("replacing a collection or a multi-line value")
            line = node.start_mark.line
            text = self.doc.lines[line]
            self.doc.edits.append(
                (line, line + 1, [text[: node.start_mark.column] + _scalar_text(value, node.style) + text[node.end_mark.column :]])
            )
            slot.replaced = True
        slot.value = value
        self._sync()

    def __delitem__(self, key: Any) -> None:
        slot = self._slot(key)
        if slot.original:
            self._check_own_line(slot)
            start = slot.key_node.start_mark.line
            self.doc.edits.append((start, self._entry_end(slot), []))
            slot.deleted = True
        else:
            self.slots.remove(slot)
        self._sync()

    def insert(self, position: int, key: Any, value: Any) -> None:
        if key in self:
            raise Unsupported("insert of an existing key")
        live = self._live()
        index = self.slots.index(live[position]) if position < len(live) else len(self.slots)
        self.slots.insert(index, _Slot(key=key, value=value))
        self._sync()

    def _entry_end(self, slot: _Slot) -> int:
        return self.doc.content_end(slot.value_node, slot.key_node.start_mark.line)

    def _check_own_line(self, slot: _Slot) -> None:
        line = self.doc.lines[slot.key_node.start_mark.line]
        if line[: slot.key_node.start_mark.column].strip():
            raise Unsupported("key shares its line with a sequence dash")

    def _before(self, slot: _Slot) -> int:
        self._check_own_line(slot)
        line: int = slot.key_node.start_mark.line
        return line

    def _sync(self) -> None:
        self._live_slots = None
        items = [(s.key, s.value) for s in self._live()]
        self.data.clear()
        self.data.update(items)

    def edits(self) -> list[tuple[int, int, list[str]]]:
        if all(s.original for s in self.slots):
            return []
        if self.node.flow_style or not self.node.value:
            raise Unsupported("flow or empty mapping")
        column = self.node.value[0][0].start_mark.column
        return self._virtual_edits(self._entry_end, self._before, lambda s: render_entry(s.key, s.value, column, self.doc))


class _Seq(_Collection):
    def __init__(self, doc: _Doc, node: _Node, shadow: list[Any]) -> None:
        self.doc, self.node, self.data = doc, node, shadow
        self.slots = [_Slot(value_node=n, value=v) for n, v in zip(node.value, list(shadow))]
        self._wrapped: dict[int, Any] = {}
        doc.proxies.append(self)

    def __getitem__(self, index: int) -> Any:
        return self._value(self._live()[index])

    def __iter__(self) -> Iterator[Any]:
        return iter([self._value(s) for s in self._live()])

    def __delitem__(self, index: int) -> None:
        slot = self._live()[index]
        if slot.original:
            self.doc.edits.append((self._dash_line(slot), self._item_end(slot), []))
            slot.deleted = True
        else:
            self.slots.remove(slot)
        self._sync()

    def insert(self, index: int, value: Any) -> None:
        live = self._live()
        position = self.slots.index(live[index]) if index < len(live) else len(self.slots)
        self.slots.insert(position, _Slot(value=value))
        self._sync()

    def append(self, value: Any) -> None:
        self.insert(len(self), value)

    def _sync(self) -> None:
        self._live_slots = None
        self.data[:] = [s.value for s in self._live()]

    @property
    def dash_column(self) -> int:
        if self.node.flow_style or not self.node.value:
            raise Unsupported("flow or empty sequence")
        first = self.node.value[0].start_mark
        text = self.doc.lines[first.line]
        dash: int = text.rfind("-", 0, first.column)
        if dash < 0 or text[dash + 1 : first.column].strip() or text[:dash].strip():
            raise Unsupported("the first item does not start on its dash line")
        return dash

    def _dash_line(self, slot: _Slot) -> int:
        mark = slot.value_node.start_mark
        text = self.doc.lines[mark.line]
        dash = self.dash_column
        if text[:dash].strip() or text[dash : dash + 1] != "-" or text[dash + 1 : mark.column].strip():
            raise Unsupported("a sequence item does not start on its dash line")
        line: int = mark.line
        return line

    def _item_end(self, slot: _Slot) -> int:
        originals = [s for s in self.slots if s.original]
        i = originals.index(slot)
        start = self._dash_line(slot)
        if i + 1 < len(originals):
            end = self._dash_line(originals[i + 1])
            while end - 1 > start and self.doc.blank_or_comment(end - 1):
                end -= 1
            return end
        return self.doc.content_end(slot.value_node, start)

    def edits(self) -> list[tuple[int, int, list[str]]]:
        if all(s.original for s in self.slots):
            return []
        dash = self.dash_column
        column = self.node.value[0].start_mark.column
        return self._virtual_edits(self._item_end, self._dash_line, lambda s: render_item(s.value, dash, column, self.doc))


def render_entry(key: Any, value: Any, column: int, doc: _Doc) -> list[str]:
    pad = " " * column
    head = f"{pad}{_scalar_text(key)}:"
    if isinstance(value, dict):
        if not value:
            return [head + " {}"]
        return [head] + [line for k, v in value.items() for line in render_entry(k, v, column + doc.mapping_step, doc)]
    if isinstance(value, list):
        if not value:
            return [head + " []"]
        dash = column + doc.seq_offset
        return [head] + [line for item in value for line in render_item(item, dash, dash + 2, doc)]
    return [f"{head} {_scalar_text(value)}"]


def render_item(value: Any, dash: int, item_column: int, doc: _Doc) -> list[str]:
    if isinstance(value, dict) and value:
        lines = [line for k, v in value.items() for line in render_entry(k, v, item_column, doc)]
        first = lines[0]
        return [" " * dash + "-" + " " * (item_column - dash - 1) + first[item_column:]] + lines[1:]
    if isinstance(value, (dict, list)):
        raise Unsupported("empty or nested collection item")
    return [" " * dash + "- " + _scalar_text(value)]


def fast_rewrite(body: str, mutate: Callable[[Any], None], mapping_step: int, seq_offset: int) -> str:
    """The new text of ``body`` after ``mutate``, or Unsupported."""
    return fast_patch(body, mutate, mapping_step, seq_offset).text


@dataclass(frozen=True)
class Patched:
    """The patched text, and what it loads to when that is also exactly what detection's loader
    (``parse.yamldoc.load_chunk``) builds from it (``None`` otherwise): the check of the patch
    has read it already, so a schema check of the rewrite need not load it again."""

    text: str
    data: Any = None


def fast_patch(body: str, mutate: Callable[[Any], None], mapping_step: int, seq_offset: int, composed: _Node | None = None) -> Patched:
    """``fast_rewrite``, with what the patched text loads to. ``composed``: ``body``'s single
    document node as libyaml composed it (``parse.yamldoc.composed_node``), untouched by any
    constructor; ``body`` is then not composed again. The patch only reads the tree."""
    shadow: Any = None
    node = composed
    if node is not None:
        try:
            if _has_aliases(body):
                raise Unsupported("anchors and aliases")
            scalars = _Loader("")  # (for its scalar constructors: they read only the node)
            try:
                shadow = _fast(scalars, node, 0)
            finally:
                scalars.dispose()
        except _Fallback:
            node = None  # (PyYAML's constructor may rewrite a tree: compose one of our own)
        except yaml.YAMLError as exc:
            raise Unsupported(str(exc)) from None
    if node is None:
        node, shadow = _compose(body)
    lines = body.split("\n")
    doc = _Doc(body, lines, mapping_step, seq_offset)
    root = doc.wrap(node, shadow)
    try:
        mutate(root)
    except (TypeError, AttributeError, ValueError) as exc:
        raise Unsupported(f"mutation needs more than the fast path offers: {exc}") from None
    edits = list(doc.edits)
    for proxy in doc.proxies:
        edits += proxy.edits()
    # an edit inside a deleted range (an item removed, then its whole list) is moot
    deletions = [(a, b) for a, b, content in edits if b > a and not content]

    def moot(edit: tuple[int, int, list[str]]) -> bool:
        start, end, _ = edit
        for a, b in deletions:
            if (a, b) == (start, end):
                continue
            if start == end and a < start < b:
                return True
            if start < end and a <= start and end <= b:
                return True
        return False

    edits = [e for e in edits if not moot(e)]
    new_lines = list(lines)
    previous_start = len(lines) + 1
    for start, end, content in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if end > previous_start and start != end:
            raise Unsupported("overlapping edits")
        new_lines[start:end] = content
        previous_start = start
    new = "\n".join(new_lines)
    try:
        loaded, new_node, fast = _load_node(new)
    except yaml.YAMLError:
        raise Unsupported("the patched text does not parse") from None
    if not _means(loaded, shadow):
        raise Unsupported("the patched text does not mean what the edit means")
    return Patched(new, loaded if fast and new_node is not None and loads_like_safe(new, new_node) else None)


def _compose(body: str) -> tuple[_Node, Any]:
    """(the single document node of ``body``, the data PyYAML's safe constructor builds from it)."""
    try:
        loader = _Loader(body)
        try:
            node = loader.get_single_node()
            if node is None or not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
                raise Unsupported("empty or scalar document")
            if _has_aliases(body):
                raise Unsupported("anchors and aliases")
            shadow = _construct(loader, node, "&" not in body)[0]
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise Unsupported(str(exc)) from None
    return node, shadow


def _load(text: str) -> Any:
    """``yaml.load(text, Loader=_Loader)``, built by ``_construct``."""
    return _load_node(text)[0]


def _load_node(text: str) -> tuple[Any, _Node | None, bool]:
    """(``_load(text)``, the node it was built from, whether ``_fast`` built it alone)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None, False
        data, fast = _construct(loader, node, "&" not in text)
        return data, node, fast
    finally:
        loader.dispose()


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
#: scalar tags whose PyYAML constructor is a plain function of the node (no generator, no state)
_PLAIN_SCALARS = frozenset("tag:yaml.org,2002:" + t for t in ("null", "bool", "int", "float", "binary", "timestamp"))
_FAST_DEPTH = 48  # deeper documents are PyYAML's (its recursion limit decides as before)
_Scalar = yaml.ScalarNode


class _Fallback(Exception):
    """The document needs PyYAML's own constructor."""


def _construct(loader: Any, node: _Node, fast: bool) -> tuple[Any, bool]:
    """``loader.construct_document(node)`` (PyYAML's safe constructor), without its generic
    machinery in the common case: ``fast`` only for a document without anchors (a tree, so no
    memo of shared nodes); maps with plain string keys, sequences and the plain scalar tags are
    built here, anything else starts the document over with PyYAML. (parse/yamldoc.py does the
    same for the line-numbered loader; tests/test_yaml_fast_construct.py compares both.) And
    whether ``_fast`` built it alone."""
    if fast:
        try:
            return _fast(loader, node, 0), True
        except _Fallback:
            loader.constructed_objects, loader.recursive_objects = {}, {}
    return loader.construct_document(node), False


def _fast(loader: Any, node: _Node, depth: int) -> Any:
    tag = node.tag
    kind = type(node)
    if kind is _Scalar:
        if tag == _STR:
            return node.value
        if tag in _PLAIN_SCALARS:
            return loader.yaml_constructors[tag](loader, node)
        return loader.construct_object(node, deep=True)  # (an unknown tag: PyYAML's error)
    if depth > _FAST_DEPTH:
        raise _Fallback
    depth += 1
    if kind is yaml.MappingNode and tag == _MAP:
        pairs = node.value
        for key_node, _ in pairs:
            if key_node.tag != _STR or type(key_node) is not _Scalar:
                raise _Fallback
        result = {}
        for key_node, value_node in pairs:  # a duplicate key: the last value, at the first place
            result[key_node.value] = (
                value_node.value if value_node.tag == _STR and type(value_node) is _Scalar else _fast(loader, value_node, depth)
            )
        return result
    if kind is yaml.SequenceNode and tag == _SEQ:
        return [child.value if child.tag == _STR and type(child) is _Scalar else _fast(loader, child, depth) for child in node.value]
    raise _Fallback


def _has_aliases(body: str) -> bool:
    return "&" in body and any(isinstance(ev, (yaml.AliasEvent,)) or getattr(ev, "anchor", None) for ev in yaml.parse(body, Loader=_Loader))
