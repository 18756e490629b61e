"""Fast YAML loading for detection: documents split on their markers, libyaml underneath, and
every mapping/sequence remembers the line of each key and item.

Only files that will be rewritten go through ruamel.yaml (see ``yamledit``).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Iterator

import yaml

try:  # libyaml: ~10x faster than the pure-Python loader
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _BaseLoader

_MARKER = re.compile(r"^---(?=[ \t]|$)", re.M)
_TEMPLATE = re.compile(r"\{\{-?\s|\{\{[-.$/a-zA-Z(]|\{%")
MAX_NODES = 200_000  # a document with more nodes than this is refused (YAML bombs)
# libyaml composes deep flow nesting in quadratic time ("[[[[...", 20k levels: 10 s), and the
# constructor recurses: refuse deeper documents before parsing. Block nesting is bounded by the
# file size limit (each level costs a wider indent on every line).
MAX_FLOW_DEPTH = 100
_OPENERS = re.compile(r"[\[\]{}]")


# Keys / indices from a document's root to one of its nodes.
YamlPath = tuple[Hashable, ...]


class LMap(dict[Any, Any]):
    """A dict that knows its own line and the line of each key (1-based, file-relative)."""

    __slots__ = ("line", "key_lines")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LSeq(list[Any]):
    __slots__ = ("line", "item_lines")

    def __init__(self, *args: Iterable[Any]) -> None:
        super().__init__(*args)
        self.line = 0
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


@dataclass(frozen=True)
class Chunk:
    """One YAML document's text: ``text[start:end]`` of the file, beginning at ``line``."""

    index: int
    start: int
    end: int
    line: int
    marker: bool  # begins with a '---' line
    # (text, node) once ``load_chunk`` has composed the chunk of ``text`` and built its data
    # without touching the node tree: the text patcher (fixes/yaml_patch) reuses the tree instead
    # of composing the same text again. Not part of the chunk's value (equality, repr, pickling).
    composed: tuple[str, Any] | None = field(default=None, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "composed": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def composed_node(text: str, chunk: Chunk) -> Any:
    """The node tree ``load_chunk`` composed from this very ``text`` (the same str object) for
    ``chunk``, untouched by construction; None when there is none to reuse."""
    kept = chunk.composed
    return kept[1] if kept is not None and kept[0] is text else None


@dataclass
class YamlDocument:
    chunk: Chunk
    data: Any  # LMap / LSeq / scalar / None


class YamlError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def split_documents(text: str) -> list[Chunk]:
    """Split on '---' lines at column 0 (the YAML spec forbids them inside scalars)."""
    starts = [m.start() for m in _MARKER.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    chunks = []
    line = 1
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunks.append(Chunk(i, start, end, line, text.startswith("---", start) and _MARKER.match(text, start) is not None))
        line += text.count("\n", start, end)
    return chunks


#: plain scalar text -> its implicit tag (what ``Resolver.resolve`` answers for it); filled by
#: ``_resolve``, short values only, cleared when full
_IMPLICIT_TAGS: dict[str, str] = {}
_MEMO_SIZE = 1 << 15
_MEMO_VALUE_LEN = 64


def _resolve(self: Any, kind: Any, value: Any, implicit: tuple[bool, bool]) -> Any:
    """``Resolver.resolve`` for a loader without path resolvers, remembering each plain scalar's
    tag: the C composer calls it for every scalar, and the same keys and values come back in
    every manifest. A quoted scalar (``implicit[0]`` false) is a string whatever it holds."""
    if kind is _Scalar:
        if not implicit[0]:
            return _STR
        tag = _IMPLICIT_TAGS.get(value)
        if tag is None:
            tag = _RESOLVER_RESOLVE(self, kind, value, implicit)
            if len(value) <= _MEMO_VALUE_LEN:
                if len(_IMPLICIT_TAGS) >= _MEMO_SIZE:
                    _IMPLICIT_TAGS.clear()
                _IMPLICIT_TAGS[value] = tag
        return tag
    # (a collection: its default tag, as Resolver.resolve answers without path resolvers)
    if kind is yaml.MappingNode:
        return _MAP
    if kind is yaml.SequenceNode:
        return _SEQ
    return _RESOLVER_RESOLVE(self, kind, value, implicit)


_RESOLVER_RESOLVE = yaml.resolver.Resolver.resolve


class FastSafeLoader(_BaseLoader):  # type: ignore[misc]  # PyYAML is untyped here: subclass of Any
    """PyYAML's (C) safe loader, with the resolver hooks that its composer calls for every node
    made cheap. Exact as long as the loader has no path resolvers (SafeLoader has none; checked
    below) and no implicit resolver is added to it (none is: tests/test_yaml_reuse.py compares
    ``_resolve`` with ``Resolver.resolve``).

    ``descend_resolver``/``ascend_resolver`` return at once without path resolvers: C callables
    that do nothing (they are not descriptors, so the composer's ``self.descend_resolver(parent,
    index)`` calls them as they are) save two Python frames per node."""

    resolve = _resolve
    descend_resolver = operator.is_  # (parent, index) -> a bool nobody reads
    ascend_resolver = tuple  # () -> the empty tuple, nobody reads it


if _BaseLoader.yaml_path_resolvers:  # pragma: no cover - PyYAML's safe loader has none
    raise ImportError("the YAML loader has path resolvers: FastSafeLoader's hooks would skip them")


class _LineLoader(FastSafeLoader):
    line_offset = 0
    nodes = 0

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LMap:  # noqa: D401 - PyYAML hook
        self._count()
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
        self.flatten_mapping(node)
        result = LMap()
        result.line = node.start_mark.line + 1 + self.line_offset
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise YamlError(key_node.start_mark.line + 1 + self.line_offset, "unhashable mapping key") from None
            if key in result and type(key) is type(next(k for k in result if k == key)):
                raise YamlError(key_node.start_mark.line + 1 + self.line_offset, f"duplicate key '{key}' (Kubernetes keeps only the last)")
            result[key] = self.construct_object(value_node, deep=deep)
            result.key_lines[key] = key_node.start_mark.line + 1 + self.line_offset
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LSeq:
        self._count()
        result = LSeq(self.construct_object(child, deep=deep) for child in node.value)
        result.line = node.start_mark.line + 1 + self.line_offset
        result.item_lines = [child.start_mark.line + 1 + self.line_offset for child in node.value]
        return result

    def _count(self) -> None:
        type(self).nodes += 1
        if type(self).nodes > MAX_NODES:
            raise YamlError(1, f"document expands to more than {MAX_NODES:,} nodes (alias bomb?); skipped")


def _construct_lmap(loader: _LineLoader, node: yaml.MappingNode) -> LMap:
    return loader.construct_mapping(node, deep=True)


def _construct_lseq(loader: _LineLoader, node: yaml.SequenceNode) -> LSeq:
    return loader.construct_sequence(node, deep=True)


def _construct_timestamp_as_text(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    # Kubernetes reads YAML as JSON: a bare date is a string there.
    text: str = loader.construct_scalar(node)
    return text


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_lmap)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_lseq)
_LineLoader.add_constructor("tag:yaml.org,2002:omap", _construct_lseq)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def load_chunk(text: str, chunk: Chunk) -> Any:
    """Parse one document. Raises YamlError(line, message) on anything libyaml rejects."""
    body = text[chunk.start : chunk.end]
    deep = _too_deep(body)
    if deep is not None:
        raise YamlError(chunk.line + body.count("\n", 0, deep), f"flow collections nest more than {MAX_FLOW_DEPTH} levels deep; skipped")
    loader = _LineLoader(body)
    loader.line_offset = chunk.line - 1
    _LineLoader.nodes = 0
    try:
        if not loader.check_node():
            return None
        node = loader.get_node()
        if node is None:
            return None
        data, pristine = _construct(loader, node, "&" not in body)
        if "&" in body and "*" in body and _expanded_size(data) > MAX_NODES:
            raise YamlError(chunk.line, f"aliases expand the document to more than {MAX_NODES:,} nodes (a YAML bomb?); skipped")
        if pristine and isinstance(node, yaml.MappingNode) and len(body) <= _KEEP_NODES_BELOW:
            object.__setattr__(chunk, "composed", (text, node))
        return data
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + chunk.line - 1) if mark else chunk.line
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(line, f"invalid YAML: {_one_line(problem)}") from None
    except yaml.reader.ReaderError as exc:  # a control character (NUL...) in the text
        position = exc.position if isinstance(exc.position, int) else 0
        line = chunk.line + body.count("\n", 0, position)
        raise YamlError(
            line, f"invalid YAML: control character #x{exc.character if isinstance(exc.character, int) else 0:04x} not allowed"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(chunk.line, f"invalid YAML: {_one_line(str(exc))}") from None
    except RecursionError:
        raise YamlError(chunk.line, "document nests too deeply; skipped") from None
    finally:
        loader.dispose()


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
#: scalar tags whose PyYAML constructor is a plain function of the node (no generator, no state)
_PLAIN_SCALARS = frozenset("tag:yaml.org,2002:" + t for t in ("null", "bool", "int", "float", "binary", "timestamp"))
#: levels the fast constructor goes down before it hands the document to PyYAML's (whose
#: recursion, and RecursionError, then decide exactly as before)
_FAST_DEPTH = 48


class _Fallback(Exception):
    """The document needs PyYAML's own constructor (deep nesting, merge keys, other key types, tags)."""


#: a chunk longer than this does not keep its node tree (``Chunk.composed``): memory over speed
_KEEP_NODES_BELOW = 1 << 16


def _construct(loader: _LineLoader, node: yaml.Node, fast: bool) -> tuple[Any, bool]:
    """``loader.construct_document(node)``, the common case without PyYAML's generic machinery;
    and whether the fast path built it (then the node tree is as composed: PyYAML's constructor
    may rewrite merge keys in place).

    ``fast`` only for a document without anchors (a tree: no node is shared, so no memo of
    constructed nodes is needed). Mappings whose keys are all plain strings, sequences and the
    plain scalar tags are built here, in the same order, with the same counting and duplicate-key
    errors; a document with anything else (merge keys, other key types, collection tags, nesting
    deeper than ``_FAST_DEPTH``) starts over with PyYAML's constructor. The differential test
    (tests/test_yaml_fast_construct.py) compares both on every fixture."""
    if fast:
        try:
            return _fast(loader, node, 0), True
        except _Fallback:
            _LineLoader.nodes = 0
            loader.constructed_objects, loader.recursive_objects = {}, {}
    return loader.construct_document(node), False


def _fast(loader: _LineLoader, node: yaml.Node, depth: int) -> Any:
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
    offset = 1 + loader.line_offset
    depth += 1
    if kind is yaml.MappingNode and tag == _MAP:
        pairs = node.value
        for key_node, _ in pairs:
            if key_node.tag != _STR or type(key_node) is not _Scalar:
                raise _Fallback
        loader._count()
        result = _new_dict(LMap)  # (LMap() without its Python __init__: both slots are set here)
        result.line = node.start_mark.line + offset
        result.key_lines = key_lines = {}
        for key_node, value_node in pairs:
            key = key_node.value
            if key in result:
                raise YamlError(key_node.start_mark.line + offset, f"duplicate key '{key}' (Kubernetes keeps only the last)")
            # (a plain string value, the common case, without a call)
            result[key] = value_node.value if value_node.tag == _STR and type(value_node) is _Scalar else _fast(loader, value_node, depth)
            key_lines[key] = key_node.start_mark.line + offset
        return result
    if kind is yaml.SequenceNode and tag == _SEQ:
        loader._count()
        children = node.value
        seq = _new_list(LSeq)  # (LSeq() without its Python __init__: both slots are set below)
        append = seq.append
        for child in children:
            append(child.value if child.tag == _STR and type(child) is _Scalar else _fast(loader, child, depth))
        seq.line = node.start_mark.line + offset
        seq.item_lines = [child.start_mark.line + offset for child in children]
        return seq
    raise _Fallback


_Scalar = yaml.ScalarNode
_new_dict = dict.__new__
_new_list = list.__new__
#: the scalar tags both loaders build with the same (SafeConstructor) function: not timestamps,
#: which detection reads as text and PyYAML as dates
_SHARED_SCALARS = frozenset({_STR} | _PLAIN_SCALARS - {"tag:yaml.org,2002:timestamp"})


def loads_like_safe(text: str, node: yaml.Node) -> bool:
    """Whether ``load_chunk`` on ``text``, whose single document composes to ``node``, builds
    without error the very data (value for value, type for type; ``LMap``/``LSeq`` for
    ``dict``/``list``) that PyYAML's safe constructor builds from ``node``. Decided on the text
    and the node tree, without building anything: true when the text has no anchor and no flow
    nesting past ``MAX_FLOW_DEPTH``, and the tree has only plain-string keys (no duplicate in a
    mapping), no collection deeper than the fast constructor goes, at most ``MAX_NODES``
    collections and no scalar tag but str, null, bool, int, float and binary. Those are the
    documents ``_fast`` builds alone, with PyYAML's own scalar constructors.
    (tests/test_yaml_fast_construct.py checks this against both loaders.)"""
    if "&" in text or _too_deep(text) is not None:
        return False
    count = 0
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        kind = type(current)
        if kind is _Scalar:
            if current.tag not in _SHARED_SCALARS:
                return False
            continue
        if depth > _FAST_DEPTH:
            return False
        count += 1
        if kind is yaml.MappingNode and current.tag == _MAP:
            keys = set()
            for key_node, value_node in current.value:
                if key_node.tag != _STR or type(key_node) is not _Scalar or key_node.value in keys:
                    return False
                keys.add(key_node.value)
                stack.append((value_node, depth + 1))
        elif kind is yaml.SequenceNode and current.tag == _SEQ:
            stack.extend((child, depth + 1) for child in current.value)
        else:
            return False
    return count <= MAX_NODES


def _expanded_size(data: Any) -> int:
    """Nodes the document has once every alias is expanded (what kubectl or json.dumps would see)."""
    sizes: dict[int, int] = {}
    # post-order over the distinct containers: linear in the document, not in its expansion
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, (dict, list)) or (id(node) in sizes and not done):
            continue
        children = list(node.values()) if isinstance(node, dict) else node
        if done:
            sizes[id(node)] = min(1 + sum(sizes.get(id(c), 1) for c in children), 1 << 62)
            continue
        sizes[id(node)] = 1  # a cycle (impossible after construction) counts once
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, (dict, list)))
    return sizes.get(id(data), 1)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _too_deep(body: str) -> int | None:
    """Offset where flow nesting passes MAX_FLOW_DEPTH (brackets in quotes count too: harmless)."""
    if body.count("[") + body.count("{") <= MAX_FLOW_DEPTH:
        return None
    depth = 0
    for match in _OPENERS.finditer(body):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return match.start()
        elif depth:
            depth -= 1
    return None


def template_line(text: str) -> int | None:
    """The line of the first Helm/Jinja template marker, or None."""
    match = _TEMPLATE.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1


def load_documents(text: str) -> Iterator[YamlDocument | YamlError]:
    for chunk in split_documents(text):
        try:
            yield YamlDocument(chunk, load_chunk(text, chunk))
        except YamlError as err:
            yield err


def walk_path(data: Any, path: YamlPath) -> Any:
    for step in path:
        data = data[step]
    return data
