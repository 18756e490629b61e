"""A small, strict, bounded reader for ``docker buildx bake`` files (HCL and JSON).

It reads what bake files use to name their builds: blocks with labels (``target "web" { … }``,
``variable "TAG" { default = "1" }``), attributes, strings with ``${VAR}`` interpolation,
numbers, booleans, lists and objects. Any other expression (function calls, conditionals,
``for``, ``target.x.tags``) reads as *unknown*: an attribute that is unknown gives no link,
the rest of the file still counts. A file it can't tokenise or nest (heredocs, unbalanced
braces, more than ``MAX_DEPTH`` levels or ``MAX_TOKENS`` tokens) gives ``None``: no links,
never an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

MAX_TOKENS = 200_000
MAX_DEPTH = 32
MAX_TARGETS = 2_000
MAX_INHERITS = 16

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class Unreadable(Exception):
    """Outside the subset: the whole file is skipped."""


@dataclass
class Value:
    kind: str  # "str" | "template" | "ref" | "scalar" | "list" | "map" | "unknown"
    value: Any = None
    origin: str = ""  # "docker-bake.hcl:12"
    span: tuple[str, int, int] | None = None  # where a plain literal string's text is written

    @property
    def literal(self) -> bool:
        return self.kind == "str" and self.span is not None


UNKNOWN = Value("unknown")


@dataclass
class Token:
    kind: str  # "ident" | "string" | "number" | "nl" | punctuation character
    value: Any
    start: int
    end: int
    line: int


# A piece of a string: literal text, ("var", name) for ${name}, ("unknown",) for any other ${...}.
Part: TypeAlias = str | tuple[Literal["var"], str] | tuple[Literal["unknown"]]
# What a body holds: ("attr", name, value) or ("block", type, labels, body).
Item: TypeAlias = tuple[Literal["attr"], str, Value] | tuple[Literal["block"], str, list[str], list["Item"]]


def _string_parts(text: str, i: int, line: int) -> tuple[list[Part], int, bool]:
    """Parts of the string whose opening quote is at ``i - 1``: (parts, index after the closing
    quote, plain) where parts are str or ("var", name) or ("unknown",)."""
    parts: list[Part] = []
    buf: list[str] = []
    plain = True
    n = len(text)
    while True:
        if i >= n or text[i] == "\n":
            raise Unreadable(f"line {line}: unterminated string")
        c = text[i]
        if c == '"':
            break
        if c == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt in _ESCAPES:
                buf.append(_ESCAPES[nxt])
                i += 2
            elif nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[i + 2 : i + 6]):
                buf.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
            else:
                raise Unreadable(f"line {line}: unknown escape")
            plain = False
            continue
        if c in "$%" and text.startswith(c + c + "{", i):
            buf.append(c + "{")
            i += 3
            plain = False
            continue
        if c in "$%" and text.startswith(c + "{", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text[j] == "\n":
                    raise Unreadable(f"line {line}: interpolation across lines")
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise Unreadable(f"line {line}: unterminated interpolation")
            inner = text[i + 2 : j - 1].strip()
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(("var", inner) if c == "$" and _IDENT.fullmatch(inner) else ("unknown",))
            plain = False
            i = j
            continue
        buf.append(c)
        i += 1
    if buf or not parts:
        parts.append("".join(buf))
    return parts, i + 1, plain


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        if len(tokens) > MAX_TOKENS:
            raise Unreadable("too many tokens")
        c = text[i]
        if c == "\n":
            if not tokens or tokens[-1].kind != "nl":
                tokens.append(Token("nl", None, i, i + 1, line))
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                raise Unreadable(f"line {line}: unterminated comment")
            line += text.count("\n", i, end)
            i = end + 2
        elif c == '"':
            parts, end, plain = _string_parts(text, i + 1, line)
            tokens.append(Token("string", (parts, plain), i, end, line))
            i = end
        elif text.startswith("<<", i):
            raise Unreadable(f"line {line}: heredoc")
        elif (m := _IDENT.match(text, i)) is not None:
            tokens.append(Token("ident", m.group(0), i, m.end(), line))
            i = m.end()
        elif (m := _NUMBER.match(text, i)) is not None:
            tokens.append(Token("number", m.group(0), i, m.end(), line))
            i = m.end()
        elif c in "{}[]()=,:.?!<>+-*/%&|":
            tokens.append(Token(c, c, i, i + 1, line))
            i += 1
        else:
            raise Unreadable(f"line {line}: unexpected character")
    return tokens


class _Parser:
    def __init__(self, rel: str, tokens: list[Token]) -> None:
        self.rel = rel
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def kind(self) -> str | None:
        tok = self.peek()
        return tok.kind if tok else None

    def skip_newlines(self) -> None:
        while self.kind() == "nl":
            self.pos += 1

    def expect(self, kind: str) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind:
            raise Unreadable(f"expected {kind!r}")
        self.pos += 1
        return tok

    def body(self, depth: int) -> list[Item]:
        """Attributes ("attr", name, Value) and blocks ("block", type, labels, body)."""
        if depth > MAX_DEPTH:
            raise Unreadable("nested too deep")
        items: list[Item] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if tok is None or tok.kind == "}":
                return items
            name = self.expect("ident").value
            if self.kind() == "=":
                self.pos += 1
                items.append(("attr", name, self.expr(depth + 1, {"nl", "}"})))
                if self.kind() not in (None, "nl", "}"):
                    raise Unreadable("junk after an attribute")
                continue
            labels: list[str] = []
            while self.kind() in ("string", "ident"):
                label = self.tokens[self.pos]  # kind() is not None: there is a token
                self.pos += 1
                if label.kind == "string":
                    parts, plain = label.value
                    if not plain or len(parts) != 1:
                        raise Unreadable("templated block label")
                    labels.append(parts[0])
                else:
                    labels.append(label.value)
            self.expect("{")
            inner = self.body(depth + 1)
            self.expect("}")
            items.append(("block", name, labels, inner))

    def expr(self, depth: int, terminators: set[str]) -> Value:
        if depth > MAX_DEPTH:
            raise Unreadable("nested too deep")
        tok = self.peek()
        if tok is None:
            raise Unreadable("missing value")
        origin = f"{self.rel}:{tok.line}"
        value: Value
        if tok.kind == "string":
            self.pos += 1
            parts, plain = tok.value
            if len(parts) == 1 and isinstance(parts[0], str):
                value = Value("str", parts[0], origin, (self.rel, tok.start + 1, tok.end - 1) if plain else None)
            else:
                value = Value("template", parts, origin)
        elif tok.kind == "number" or (tok.kind == "ident" and tok.value in ("true", "false", "null")):
            self.pos += 1
            value = Value("scalar", tok.value, origin)
        elif tok.kind == "ident":
            self.pos += 1
            value = Value("ref", tok.value, origin)
        elif tok.kind == "[":
            self.pos += 1
            items = []
            while True:
                self.skip_newlines()
                if self.kind() == "]":
                    self.pos += 1
                    break
                items.append(self.expr(depth + 1, {",", "]"}))
                self.skip_newlines()
                if self.kind() == ",":
                    self.pos += 1
                elif self.kind() != "]":
                    raise Unreadable("bad list")
            value = Value("list", items, origin)
        elif tok.kind == "{":
            self.pos += 1
            entries: dict[str, Value] = {}
            while True:
                self.skip_newlines()
                if self.kind() == "}":
                    self.pos += 1
                    break
                key = self.peek()
                if key is None or key.kind not in ("ident", "string"):
                    raise Unreadable("bad object key")
                self.pos += 1
                if self.kind() not in ("=", ":"):
                    raise Unreadable("bad object entry")
                self.pos += 1
                entry = self.expr(depth + 1, {",", "nl", "}"})
                if key.kind == "ident":
                    entries[key.value] = entry
                elif key.value[1] and len(key.value[0]) == 1 and isinstance(key.value[0][0], str):
                    entries[key.value[0][0]] = entry
                if self.kind() == ",":
                    self.pos += 1
            value = Value("map", entries, origin)
        else:
            value = UNKNOWN
        if self.kind() is None or self.kind() in terminators:
            return value
        self.skip_rest(terminators)
        return Value("unknown", None, origin)

    def skip_rest(self, terminators: set[str]) -> None:
        """Step over an expression outside the subset, up to a terminator at the same level."""
        depth = 0
        while (tok := self.peek()) is not None:
            if depth == 0 and tok.kind in terminators:
                return
            if tok.kind in "([{" and len(tok.kind) == 1:
                depth += 1
                if depth > MAX_DEPTH:
                    raise Unreadable("nested too deep")
            elif tok.kind in ")]}" and len(tok.kind) == 1:
                if depth == 0:
                    return
                depth -= 1
            self.pos += 1
        if depth:
            raise Unreadable("unbalanced brackets")


@dataclass
class BakeFile:
    variables: dict[str, Value] = field(default_factory=dict)
    targets: dict[str, dict[str, Value]] = field(default_factory=dict)


def read_bake(rel: str, text: str) -> BakeFile | None:
    """The variables and targets of one bake file, or None outside the subset."""
    try:
        if rel.lower().endswith(".json"):
            return _from_json(rel, text)
        parser = _Parser(rel, tokenize(text))
        items = parser.body(0)
        if parser.peek() is not None:
            return None  # a stray "}"
    except (Unreadable, RecursionError, ValueError):
        return None
    out = BakeFile()
    for item in items:
        if item[0] != "block" or len(item[2]) != 1:
            continue
        kind, (label,), body = item[1], item[2], item[3]
        attrs = {i[1]: i[2] for i in body if i[0] == "attr"}
        if kind == "variable":
            out.variables[label] = attrs.get("default", Value("str", ""))
        elif kind == "target" and len(out.targets) < MAX_TARGETS:
            out.targets.setdefault(label, {}).update(attrs)
    return out


def _from_json(rel: str, text: str) -> BakeFile | None:
    data = json.loads(text)
    if not isinstance(data, dict):
        return None
    out = BakeFile()
    for name, spec in (data.get("variable") or {}).items() if isinstance(data.get("variable"), dict) else ():
        if isinstance(spec, dict):
            out.variables[str(name)] = _json_value(rel, text, spec.get("default", ""), 0)
    for name, spec in (data.get("target") or {}).items() if isinstance(data.get("target"), dict) else ():
        if isinstance(spec, dict) and len(out.targets) < MAX_TARGETS:
            out.targets[str(name)] = {str(k): _json_value(rel, text, v, 0) for k, v in spec.items()}
    return out


def _json_value(rel: str, text: str, data: Any, depth: int) -> Value:
    if depth > MAX_DEPTH:
        return UNKNOWN
    if isinstance(data, str):
        encoded = json.dumps(data, ensure_ascii=False)
        at = text.find(encoded)
        line = text.count("\n", 0, at) + 1 if at != -1 else 0
        origin = f"{rel}:{line}"
        try:
            escaped = data.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts, _, plain = _string_parts(escaped, 0, line) if "\n" not in data else ([data], 0, False)
        except Unreadable:
            return Value("unknown", None, origin)
        if len(parts) == 1 and isinstance(parts[0], str):
            unique = at != -1 and text.find(encoded, at + 1) == -1 and encoded[1:-1] == data
            return Value("str", parts[0], origin, (rel, at + 1, at + len(encoded) - 1) if unique and plain else None)
        return Value("template", parts, origin)
    if isinstance(data, list):
        return Value("list", [_json_value(rel, text, v, depth + 1) for v in data])
    if isinstance(data, dict):
        return Value("map", {str(k): _json_value(rel, text, v, depth + 1) for k, v in data.items()})
    if isinstance(data, (bool, int, float)) or data is None:
        return Value("scalar", json.dumps(data))
    return UNKNOWN


class BakeProject:
    """The bake files of one directory merged in order: a later file's variable defaults and
    target attributes override the earlier ones."""

    def __init__(self) -> None:
        self.variables: dict[str, Value] = {}
        self.targets: dict[str, dict[str, Value]] = {}

    def merge(self, bake: BakeFile) -> None:
        self.variables.update(bake.variables)
        for name, attrs in bake.targets.items():
            if name in self.targets or len(self.targets) < MAX_TARGETS:
                self.targets.setdefault(name, {}).update(attrs)

    def target_names(self) -> list[str]:
        return list(self.targets)

    def resolved_target(self, name: str, _seen: tuple[str, ...] = ()) -> dict[str, Value] | None:
        """The target's attributes with ``inherits`` applied (parents first, own last)."""
        if name in _seen or len(_seen) > MAX_INHERITS or name not in self.targets:
            return None
        own = self.targets[name]
        out: dict[str, Value] = {}
        parents = own.get("inherits")
        if parents is not None:
            if parents.kind != "list":
                return None
            for parent in parents.value:
                parent_name = self.string(parent)
                resolved = self.resolved_target(parent_name, _seen + (name,)) if parent_name else None
                if resolved is None:
                    return None
                out.update(resolved)
        out.update({k: v for k, v in own.items() if k != "inherits"})
        return out

    def string(self, value: Value | None, _depth: int = 0) -> str | None:
        """The string ``value`` evaluates to with variable defaults, or None when unknown."""
        if value is None or _depth > 8:
            return None
        if value.kind == "scalar":
            return "" if value.value == "null" else str(value.value)
        if value.kind == "str":
            return str(value.value)
        if value.kind == "ref":
            return self.string(self.variables.get(value.value), _depth + 1)
        if value.kind == "template":
            out = []
            for part in value.value:
                if isinstance(part, str):
                    out.append(part)
                elif part[0] == "var" and part[1] in self.variables:
                    resolved = self.string(self.variables[part[1]], _depth + 1)
                    if resolved is None:
                        return None
                    out.append(resolved)
                else:
                    return None
            return "".join(out)
        return None
