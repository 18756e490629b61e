"""Round-trip YAML rewriting: the ONE place ruamel.yaml is configured.

A changed document is loaded and dumped by ruamel twice, unmodified (``base``) and modified
(``new``); only the lines that differ between those two dumps are patched into the original
text. Everything ruamel would have re-formatted on its own (quoting, spacing, flow style,
comments it moves) stays byte-identical, and a change that touches lines ruamel can't
reproduce is refused instead of reflowing the document.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any, Callable

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from migrate_tui.parse.yamldoc import Chunk, composed_node
from migrate_tui.fixes.yaml_patch import Unsupported, fast_patch

if TYPE_CHECKING:
    from migrate_tui.platform.target import Version

_HUGE_WIDTH = 1 << 30  # never fold a long line


class RewriteRefused(Exception):
    """The document can't be rewritten without touching lines the change is not about
    (``kind`` FORMAT), or planning the rewrite crashed (``kind`` INTERNAL, a bug)."""

    FORMAT = "format"
    INTERNAL = "internal"

    def __init__(self, message: str, kind: str = FORMAT) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Indent:
    mapping: int = 2
    sequence: int = 2
    offset: int = 0

    @property
    def dash_indent(self) -> str:
        return " " * self.offset


_SEQ_UNDER_KEY = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*( *)- ", re.M)
_MAP_UNDER_KEY = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*( *)[^\s#-]", re.M)


def guess_indent(text: str) -> Indent:
    """The document's own mapping indent and sequence dash offset (most common wins)."""
    maps: dict[int, int] = {}
    for m in _MAP_UNDER_KEY.finditer(text):
        step = len(m.group(2)) - len(m.group(1))
        if step > 0:
            maps[step] = maps.get(step, 0) + 1
    mapping = max(maps, key=lambda k: (maps[k], -k)) if maps else 2
    seqs: dict[int, int] = {}
    for m in _SEQ_UNDER_KEY.finditer(text):
        offset = len(m.group(2)) - len(m.group(1))
        if offset >= 0:
            seqs[offset] = seqs.get(offset, 0) + 1
    offset = max(seqs, key=lambda k: (seqs[k], -k)) if seqs else 0
    # ruamel: "sequence" is where the item content starts, relative to the parent key
    return Indent(mapping=mapping, sequence=max(offset + 2, mapping), offset=offset)


def make_yaml(indent: Indent) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _HUGE_WIDTH
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    yaml.allow_duplicate_keys = False
    return yaml


def load_rt(text: str, indent: Indent) -> Any:
    try:
        return make_yaml(indent).load(text)
    except YAMLError as exc:
        raise RewriteRefused(f"ruamel.yaml can't load the document: {str(exc).splitlines()[0]}") from None


def dump_rt(data: Any, indent: Indent) -> str:
    stream = io.StringIO()
    make_yaml(indent).dump(data, stream)
    return stream.getvalue()


def rewrite_chunk(text: str, chunk: Chunk, mutate: Callable[[Any], None]) -> str:
    """The chunk's new text after ``mutate`` changed its ruamel tree (marker line kept).

    Any other exception while planning (in ``mutate``, the fast patcher or ruamel) is a bug: it
    becomes a ``RewriteRefused`` of kind INTERNAL, so the finding stays, unfixed, with the reason.
    """
    return _planned(text, chunk, mutate)[0]


def rewrite_and_check(text: str, chunk: Chunk, mutate: Callable[[Any], None], schema_version: Version) -> tuple[str, list[str]]:
    """``rewrite_chunk``, then ``new_schema_errors`` of its result: the rewrite's new text and the
    schema errors it would add. One load of the new text serves both when the fast patcher's
    check has read it exactly as detection would (``yaml_patch.Patched.data``)."""
    new_chunk, data = _planned(text, chunk, mutate)
    return new_chunk, new_schema_errors(text, chunk, new_chunk, schema_version, data)


def _planned(text: str, chunk: Chunk, mutate: Callable[[Any], None]) -> tuple[str, Any]:
    try:
        return _rewrite_chunk(text, chunk, mutate)
    except RewriteRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a crash in one fix must not stop the scan
        from migrate_tui.model.findings import exception_summary

        raise RewriteRefused(
            f"planning the rewrite crashed ({exception_summary(exc)}); not rewritten, this is a bug in migrate-tui, please report it",
            RewriteRefused.INTERNAL,
        ) from exc


def _rewrite_chunk(text: str, chunk: Chunk, mutate: Callable[[Any], None]) -> tuple[str, Any]:
    """(the chunk's new text, what it loads to when the fast patcher read it exactly, else None)."""
    whole = text[chunk.start : chunk.end]
    header = ""
    body = whole
    if chunk.marker:
        newline = whole.find("\n")
        header = whole if newline < 0 else whole[: newline + 1]
        body = "" if newline < 0 else whole[newline + 1 :]
        rest = header[3:].strip()
        if rest and not rest.startswith("#"):
            raise RewriteRefused("content on the '---' line; not rewritten")
    indent = guess_indent(body)
    try:  # exact line edits on block-style YAML: ~50x faster than a ruamel round trip
        composed = composed_node(text, chunk)
        if composed is None:
            fast = fast_patch(body, mutate, indent.mapping, indent.offset)
            # (its data is the body's: with a '---' line, detection reads another text)
            return header + fast.text, None if header else fast.data
        # The scan's tree is the whole chunk's, '---' line included: patch the whole chunk. No
        # edit reaches that line (no node is on it: content there was refused above).
        fast = fast_patch(whole, mutate, indent.mapping, indent.offset, composed)
        if not fast.text.startswith(header):  # pragma: no cover - see above
            raise Unsupported("the '---' line changed")
        return fast.text, fast.data
    except Unsupported:
        pass
    data = load_rt(body, indent)
    base = dump_rt(data, indent)
    mutate(data)
    new = dump_rt(data, indent)
    patched = three_way(body, base, new)
    if patched is None or not same_meaning(patched, new):
        raise RewriteRefused("the change touches lines ruamel.yaml can't reproduce exactly (unusual formatting); not rewritten")
    return header + patched, None


def same_meaning(left: str, right: str) -> bool:
    """Both texts load to equal data (the safety net under the line patching)."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return bool(yaml.load(left, Loader=loader) == yaml.load(right, Loader=loader))
    except yaml.YAMLError:
        return False


def three_way(original: str, base: str, new: str) -> str | None:
    """Apply the base→new line changes onto ``original``; None when a change can't be placed.

    Lines are aligned on their stripped text, so a block that ruamel re-indents (a sequence
    whose dash offset differs from the rest of the file) still maps onto the original lines.
    The caller checks the result means what ``new`` means, so a wrong alignment can't slip by.
    """
    if base == new:
        return original
    if base == original:
        return new
    o_lines = original.splitlines(keepends=True)
    b_lines = base.splitlines(keepends=True)
    n_lines = new.splitlines(keepends=True)
    matcher = SequenceMatcher(None, [l.strip() for l in b_lines], [l.strip() for l in o_lines], autojunk=False)
    b_to_o: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            b_to_o[block.a + k] = block.b + k
    replacements: list[tuple[int, int, list[str]]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, b_lines, n_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:
            mapped = [b_to_o[i] for i in range(i1, i2) if i in b_to_o]
            if len(mapped) != i2 - i1 or mapped != sorted(mapped):
                return None
            start, end = mapped[0], mapped[-1] + 1
        elif i1 - 1 in b_to_o:
            start = end = b_to_o[i1 - 1] + 1
        elif i1 in b_to_o:
            start = end = b_to_o[i1]
        elif i1 == 0:
            start = end = 0
        else:
            return None
        replacements.append((start, end, n_lines[j1:j2]))
    previous_start = len(o_lines) + 1
    for start, end, lines in sorted(replacements, key=lambda r: (r[0], r[1]), reverse=True):
        if end > previous_start:
            return None  # two changes landed on the same original lines
        o_lines[start:end] = lines
        previous_start = start
    result = "".join(o_lines)
    if original.endswith("\n") and result and not result.endswith("\n"):
        result += "\n"
    return result


def shrink(old: str, new: str) -> tuple[int, int, str]:
    """The smallest line-aligned replacement turning ``old`` into ``new``: ``(start, end, content)``
    such that ``old[:start] + content + old[end:] == new``."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < min(len(old_lines), len(new_lines)) - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    start = sum(len(l) for l in old_lines[:head])
    end = len(old) - sum(len(l) for l in old_lines[len(old_lines) - tail :]) if tail else len(old)
    return start, end, "".join(new_lines[head : len(new_lines) - tail])


def new_schema_errors(text: str, chunk: Chunk, new_chunk: str, schema_version: Version, new_data: Any = None) -> list[str]:
    """Schema errors that ``new_chunk`` (the rewritten text of document ``chunk`` of ``text``) has
    and the original did not; a YAML error in the rewrite is one problem. The original is loaded
    and validated only when the rewrite has errors to compare. (Pod specs are looked for only
    when an object's kind has no schema: ``validate_object`` reads the paths only then.)

    ``new_data``: what ``load_chunk`` builds from ``new_chunk``, when the caller knows it (the fast
    patcher's check read it: ``Patched.data``); a rewrite valid as that data is valid, anything
    else is decided on a fresh load, as without it."""
    from migrate_tui.parse.podspec import find_pod_specs
    from migrate_tui.platform.validate import validate_object
    from migrate_tui.parse.yamldoc import YamlError, load_chunk

    if new_data is not None and not validate_object(new_data, schema_version, (r.path for r in find_pod_specs(new_data))):
        return []
    probe = Chunk(0, 0, len(new_chunk), chunk.line, chunk.marker)
    try:
        data = load_chunk(new_chunk, probe)
    except YamlError as err:
        return [err.message]
    after_errors = validate_object(data, schema_version, (r.path for r in find_pod_specs(data)))
    if not after_errors:
        return []
    try:
        before = load_chunk(text, chunk)
    except YamlError as err:
        return [err.message]
    before_errors = set(validate_object(before, schema_version, (r.path for r in find_pod_specs(before))))
    return [e for e in after_errors if e not in before_errors]
