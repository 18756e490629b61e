"""Words as the shell reads them: tree-sitter-bash nodes -> :class:`Word` s of :class:`Part` s
(literal text with its quoting, ``$VAR``, substitutions kept as written)."""

from __future__ import annotations

import re
from typing import NamedTuple

from tree_sitter import Node

from migrate_tui.parse.shell.source import Source, syntax_error

__all__ = ["WORD_NODES", "Part", "Word", "WordReader"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BRACED_VAR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::?[-=].*)?\Z", re.S)

WORD_NODES = frozenset(
    {
        "word",
        "string",
        "raw_string",
        "concatenation",
        "simple_expansion",
        "expansion",
        "command_substitution",
        "number",
        "ansi_c_string",
        "arithmetic_expansion",
        "translated_string",
        "brace_expression",
        "extglob_pattern",
        "test_operator",
        "variable_name",
        "special_variable_name",
        "regex",
    }
)


class Part(NamedTuple):
    kind: str  # "lit" | "var" | "sub"
    text: str  # literal text, or the reference as written ("$X", "${X}", "$(cmd)")
    quoted: bool
    name: str = ""  # for "var": the name to look up ("" when it can't be substituted)


class Word(NamedTuple):
    text: str  # raw text as written
    start: int
    end: int
    parts: tuple[Part, ...]


class WordReader(Source):
    def word(self, nodes: list[Node]) -> Word:
        if len(nodes) == 1 and nodes[0].type in ("word", "number"):  # most words: plain text, no escape
            node = nodes[0]
            start, end = self.at(node.start_byte), self.at(node.end_byte)
            raw = self.script[start:end]
            if "\\" not in raw:
                return Word(raw, start, end, (Part("lit", raw, False),))
        parts: list[Part] = []
        for node in nodes:
            self.parts(node, False, parts)
        start, end = self.at(nodes[0].start_byte), self.at(nodes[-1].end_byte)
        return Word(self.script[start:end], start, end, tuple(_merge(parts)))

    def parts(self, node: Node, quoted: bool, out: list[Part]) -> None:
        kind = node.type
        raw = self.text(node)
        if kind == "string":
            self.string(node, out)
        elif kind == "raw_string":
            out.append(Part("lit", raw[1:-1], True))
        elif kind == "ansi_c_string":
            out.append(Part("lit", raw[2:-1], True))
        elif kind == "simple_expansion":
            name = raw[1:]
            if _NAME.match(name):
                out.append(Part("var", raw, quoted, name))
            else:
                out.append(Part("lit", raw, quoted))
        elif kind == "expansion":
            match = _BRACED_VAR.match(raw[2:-1])
            out.append(Part("var", raw, quoted, match.group(1) if match else ""))
        elif kind in ("command_substitution", "arithmetic_expansion"):
            out.append(Part("sub", raw, quoted))
        elif kind == "concatenation" or kind == "variable_assignment" and node.child_count:
            self.children_parts(node, quoted, out)
        elif kind == "translated_string":
            out.append(Part("lit", "$", quoted))
            for child in node.children:
                self.parts(child, quoted, out)
        elif node.child_count == 0 or kind in (
            "word",
            "number",
            "extglob_pattern",
            "test_operator",
            "variable_name",
            "special_variable_name",
            "regex",
            "brace_expression",
        ):
            self.unquoted(raw, quoted, out)
        else:
            raise syntax_error(f"unexpected '{raw}'")

    def children_parts(self, node: Node, quoted: bool, out: list[Part]) -> None:
        """A node's children, and the text between them (tree-sitter leaves ``=`` and the like
        as anonymous children, but not always every byte)."""
        position = node.start_byte
        for child in node.children:
            if child.start_byte > position:
                self.unquoted(self.slice(position, child.start_byte), quoted, out)
            self.parts(child, quoted, out)
            position = child.end_byte
        if node.end_byte > position:
            self.unquoted(self.slice(position, node.end_byte), quoted, out)

    def unquoted(self, raw: str, quoted: bool, out: list[Part]) -> None:
        """Unquoted text: a backslash quotes the next character; a backslash-newline vanishes."""
        if quoted or "\\" not in raw:
            out.append(Part("lit", raw, quoted))
            return
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == "\\" and i + 1 < n:
                if raw[i + 1] != "\n":
                    out.append(Part("lit", raw[i + 1], True))
                i += 2
            else:
                out.append(Part("lit", c, False))
                i += 1

    def string(self, node: Node, out: list[Part]) -> None:
        """``"…"``: expansions and substitutions inside stay parts; ``\\$ \\` \\" \\\\`` and a
        backslash-newline are the only escapes."""
        out.append(Part("lit", "", True))
        position = node.start_byte + 1
        end = node.end_byte - 1
        for child in node.children:
            if child.type in ('"', "string_content"):
                continue
            if child.start_byte > position:
                out.append(Part("lit", _unescape_double(self.slice(position, child.start_byte)), True))
            self.parts(child, True, out)
            position = child.end_byte
        if end > position:
            out.append(Part("lit", _unescape_double(self.slice(position, end)), True))


def _unescape_double(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _merge(parts: list[Part]) -> list[Part]:
    """Adjacent literal parts with the same quoting are one part (as a lexer would give them)."""
    out: list[Part] = []
    for part in parts:
        if out and part.kind == "lit" and out[-1].kind == "lit" and out[-1].quoted == part.quoted:
            out[-1] = Part("lit", out[-1].text + part.text, part.quoted)
        else:
            out.append(part)
    return out
