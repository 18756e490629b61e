"""Shortcuts taken for the cold scan's speed, each against the slow way it replaces."""

from __future__ import annotations


import pytest

from migrate_tui.parse.dockerfile import parser


def _slow_lstrip_count(s: str) -> int:
    n = 0
    while n < len(s) and s[n] in parser._GO_SPACE:
        n += 1
    return n


@pytest.mark.parametrize("s", ["", "FROM a", "  \t x", "\xa0\u3000y", "\x1cz", " \x1c", "\u2028\u2029", "   ", "a  "])
def test_go_space_counts_match_the_character_loop(s: str) -> None:
    # Go's unicode.IsSpace: \x85, \xa0, \u3000 are spaces; \x1c-\x1f (str.isspace) are not
    assert parser._lstrip_count(s) == _slow_lstrip_count(s)
    assert parser._rstrip_count(s) == _slow_lstrip_count(s[::-1])


@pytest.mark.parametrize(
    "line",
    ["RUN a \\", "RUN a \\ \t", "RUN a \\\\", "\\", "RUN a", "RUN a\\b", "RUN a `", "RUN a ` ", "RUN a ``", "", " \\ "],
)
@pytest.mark.parametrize("escape", ["\\", "`"])
def test_continuation_precheck_agrees_with_the_regex(line: str, escape: str) -> None:
    """The parser only runs the continuation regex on lines whose end, blanks aside, is the
    escape character; every other line can't match it."""
    cont = parser._continuation(escape)
    full = cont.search(line)
    if not line.rstrip(" \t").endswith(escape):
        assert full is None


def test_continued_and_escaped_lines_parse_as_before() -> None:
    df = parser.parse_dockerfile("FROM a\nRUN one \\ \t\n  two\nRUN three \\\\\nRUN four\n")
    assert [(i.keyword, i.args, i.line, i.end_line) for i in df.instructions] == [
        ("FROM", "a", 1, 1),
        ("RUN", "one   two", 2, 3),
        ("RUN", "three \\\\", 4, 4),
        ("RUN", "four", 5, 5),
    ]
    tick = parser.parse_dockerfile("# escape=`\nFROM a\nRUN one `\n two \\\n")
    assert [i.args for i in tick.instructions] == ["a", "one  two \\"]
