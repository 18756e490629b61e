"""The one tree-sitter-bash parser of the process and what every reader of its trees shares:
character offsets for byte offsets, the typed errors, the reserved words.

One :class:`tree_sitter.Parser` serves the whole process, behind a lock (the TUI scans in a
worker thread; the batch scan runs files in processes). The grammar is compiled into the
``tree-sitter-bash`` wheel: nothing is built or downloaded at run time.
"""

from __future__ import annotations

import re
import threading

import tree_sitter_bash
from tree_sitter import Language, Node, Parser, Tree

__all__ = [
    "MISPLACED_KEYWORDS",
    "OPAQUE_KEYWORDS",
    "ShellError",
    "Source",
    "control_error",
    "error_nodes",
    "first_leaf",
    "encode",
    "parse_tree",
    "syntax_error",
]

_PARSER = Parser(Language(tree_sitter_bash.language()))
_PARSER_LOCK = threading.Lock()  # a TSParser must not parse in two threads at once (the TUI scans in a worker thread)

OPAQUE_KEYWORDS = {"if": "if", "case": "case", "for": "for", "select": "select", "function": "function", "{": "group { … }"}
MISPLACED_KEYWORDS = frozenset({"then", "elif", "else", "fi", "esac", "do", "done", "}", "in"})


# tree-sitter-bash 0.25's scanner crashes the process (SIGSEGV) on `{` followed by a code point
# of the higher planes (U+88C8F, U+E0000, U+100000…: unassigned, tags, private use). The parser
# reads a copy of the script where each of them is U+20000 (a letter, four UTF-8 bytes as
# well): byte offsets are unchanged, and every word's text is taken from the script itself.
_HIGH_PLANES = re.compile("[\U00030000-\U0010ffff]")


def encode(script: str) -> bytes:
    """The bytes the parser reads for ``script`` (UTF-8; see ``_HIGH_PLANES``)."""
    return _HIGH_PLANES.sub("\U00020000", script).encode("utf-8", "surrogatepass")


def parse_tree(data: bytes) -> Tree:
    with _PARSER_LOCK:
        return _PARSER.parse(data)


class ShellError(Exception):
    """The script can't be analysed; the message says why."""


def syntax_error(detail: str) -> ShellError:
    return ShellError(f"shell syntax not understood: {detail}")


def control_error(which: str) -> ShellError:
    return ShellError(f"control flow: {which}")


class Source:
    """A script and its UTF-8 bytes: tree-sitter's byte offsets as character indices."""

    def __init__(self, script: str, data: bytes) -> None:
        self.script = script
        self.data = data
        self.chars: list[int] | None = None
        if len(data) != len(script):  # byte offset -> character index
            chars = [0] * (len(data) + 1)
            position = 0
            for index, char in enumerate(script):
                width = len(char.encode("utf-8", "surrogatepass"))
                for k in range(width):
                    chars[position + k] = index
                position += width
            chars[len(data)] = len(script)
            self.chars = chars

    def at(self, byte: int) -> int:
        """The index of the character holding ``byte`` (tree-sitter's error recovery may cut a
        character in two); the script's end for an offset past it."""
        if byte >= len(self.data):
            return len(self.script)
        return byte if self.chars is None else self.chars[byte]

    def text(self, node: Node) -> str:
        return self.script[self.at(node.start_byte) : self.at(node.end_byte)]

    def line(self, node: Node) -> int:
        return node.start_point.row + 1

    def slice(self, start: int, end: int) -> str:
        """The script between two byte offsets (whole characters only)."""
        return self.script[self.at(start) : self.at(end)]


def first_leaf(node: Node) -> Node | None:
    while node.child_count:
        node = node.children[0]
    return node


def error_nodes(root: Node) -> list[Node]:
    """ERROR and MISSING nodes, in document order (outermost first)."""
    out: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            out.append(node)
        if node.has_error:
            stack.extend(reversed(node.children))
    return out
