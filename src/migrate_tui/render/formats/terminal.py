"""One function between a scanned file's strings and a terminal: ``visible``.

Every string in a finding or diagnostic may come from a hostile repository (a file name, a
container name, a YAML value). Printed raw, ``ESC[2J`` clears the screen, an OSC 0 sequence
retitles the window, OSC 8 plants a link, a newline or carriage return forges a line such as a fake
"All checks passed", and bidi overrides reorder what the reader sees. ``visible`` turns every
such character into a printable escape (``\\x1b``, ``\\n``, ``\\u202e``) so it is shown, never
obeyed. The text, github and diff outputs all go through it; JSON and SARIF escape by syntax.
"""

from __future__ import annotations

import re

# C0 controls except TAB, DEL, C1 controls; ALM, LRM/RLM; line/paragraph separators; the bidi
# embeddings, overrides and isolates; lone surrogates (undecodable bytes of a file name, which
# would also make the print itself fail).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` with every character that a terminal would obey shown as an escape."""
    return _UNSAFE.sub(_escape, str(text))


def visible_lines(text: str) -> str:
    """``visible`` for multi-line output of our own making (a diff): each line's content is
    escaped, the ``\n`` between lines are kept."""
    return "\n".join(visible(line) for line in text.split("\n"))
