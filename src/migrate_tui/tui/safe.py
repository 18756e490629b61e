"""Strings from scanned files on screen: never markup, never terminal control sequences.

A file name or YAML value can hold Textual markup (``x[a=b:c].yaml``, ``[@click=…]``) or escape
sequences (``ESC[2J``, OSC 8). Every path, message or value the app shows goes through
``visible`` (control characters become readable escapes such as ``\\x1b``) and reaches Textual
as ``Text``/``Content``, never as a markup string.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.content import Content

# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what is drawn.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "\\n"
    if code == 0x0D:
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """``value`` as one line of printable text (tabs kept, other controls shown escaped)."""
    return _CONTROL.sub(_escape_char, str(value))


def visible_block(value: object) -> str:
    """Like ``visible`` but keeps line breaks (for multi-line explanations)."""
    return "\n".join(visible(line) for line in str(value).split("\n"))


def text(value: object, style: str = "") -> Text:
    return Text(visible(value), style=style)


def content(value: object) -> Content:
    """Plain (never markup) content for border titles and labels."""
    return Content(visible(value))
