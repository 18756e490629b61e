"""The diff highlighter on hostile text: markup, control characters, huge lines (issue 10 item 5).

The highlighter only returns (start, end, token) spans; the diff view styles a plain ``Text``
with them, so text from a scanned file is never parsed as markup. These tests hold both halves
to that: spans stay inside the line and name known tokens; a rendered diff shows the file's
bytes literally, carries no link or click action, and no raw control character.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st
from textual.app import App, ComposeResult

from migrate_tui.render.diff import FileDiff
from migrate_tui.tui.diff_view import TOKENS, DiffView, display_text
from migrate_tui.tui.highlight import dockerfile_spans, language_of, spans, yaml_spans

HOSTILE_YAML = [
    'name: "[bold]x[/bold]"  # [@click=app.quit()]click me[/]',
    "image: [link=https://evil.example]reg/x[/link]:1",
    "key\x1b[2J: value\x07\x1b]0;pwned\x07",
    "- [red]item[/red]: {a: \\[b]}",
]
HOSTILE_DOCKERFILE = [
    "FROM [bold]alpine[/bold] AS [@click=app.quit()]x[/]",
    'RUN echo "\x1b[31mred\x1b[0m" && rm -rf $[x]',
    "COPY --from=[b]build[/b] /a /b",
]


def check_spans(line: str, found: list[tuple[int, int, str]]) -> None:
    for start, end, token in found:
        assert 0 <= start < end <= len(line), (line, start, end)
        assert token in TOKENS, token


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
@example('k: "[bold]v[/]" # [@click=app.quit()]x')
@example("- " + " " * 300 + "x")
@example('"unclosed \\" [x] # y')
@example("\x00\x1b[2J\t\r\x7f\u2028: x")
def test_spans_stay_inside_the_line_and_name_known_tokens(line: str) -> None:
    shown = display_text(line)
    check_spans(shown, yaml_spans(shown))
    check_spans(shown, dockerfile_spans(shown))


def test_the_language_comes_from_the_file_name() -> None:
    assert [language_of(p) for p in ("a/b.yaml", "c.YML", "Dockerfile", "x/Containerfile", "app.Dockerfile", "README.md")] == [
        "yaml",
        "yaml",
        "dockerfile",
        "dockerfile",
        "dockerfile",
        "text",
    ]
    assert spans("key: [bold]x", "text") == []


def test_hostile_lines_get_the_same_tokens_as_harmless_ones() -> None:
    """Brackets are text: the markup-looking parts are tokenised as YAML, never interpreted."""
    line = 'name: "[bold]x[/bold]"  # [@click=app.quit()]click me[/]'
    assert {line[s:e]: t for s, e, t in yaml_spans(line)} == {
        "name": "key",
        ":": "punct",
        '"[bold]x[/bold]"': "string",
        "# [@click=app.quit()]click me[/]": "comment",
    }
    line = "FROM [bold]alpine[/bold] AS [@click=app.quit()]x[/]"
    assert {line[s:e]: t for s, e, t in dockerfile_spans(line)} == {"FROM": "keyword", "AS": "keyword"}


@pytest.mark.timeout(60)
def test_huge_lines_are_highlighted_in_linear_time() -> None:
    """A lazy key pattern took 18 s on one 100,000-character line ("- " then blanks) and a list
    scan went quadratic on many quoted strings; the app drew such a line in the UI thread.
    At 400,000 characters the old code takes many minutes; the timeout is far above the
    ~0.3 s this takes now, so it fails only on a quadratic regression."""
    blanks = "- " + " " * 400_000 + "x"
    assert yaml_spans(blanks) == [(0, 1, "punct")]
    quoted = "k: " + '"a" &b ' * 50_000
    found = yaml_spans(quoted)
    assert len(found) == 2 + 2 * 50_000
    assert sorted(found)[:4] == [(0, 1, "key"), (1, 2, "punct"), (3, 6, "string"), (7, 9, "tag")]
    run = "RUN " + " && ".join(["apt-get install -y --no-install-recommends $PKG"] * 8_000)
    assert len(dockerfile_spans(run)) == 1 + 8_000 * 2


class DiffApp(App[None]):
    def __init__(self, diff: FileDiff) -> None:
        super().__init__()
        self.diff = diff

    def compose(self) -> ComposeResult:
        yield DiffView(id="diff")

    def on_mount(self) -> None:
        view = self.query_one(DiffView)
        view.choose_unified(True)
        view.full_context = True
        view.show_diff(self.diff)


@pytest.mark.parametrize("path, lines", [("deploy/app.yaml", HOSTILE_YAML), ("Dockerfile", HOSTILE_DOCKERFILE)])
async def test_a_diff_of_hostile_lines_shows_them_literally_and_runs_nothing(path: str, lines: list[str]) -> None:
    before = "\n".join(lines) + "\n"
    after = "\n".join(line + " # changed" for line in lines) + "\n"
    app = DiffApp(FileDiff(path, before, after, False))
    async with app.run_test(size=(400, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(DiffView)
        assert view.line_count == 2 * len(lines)
        drawn: list[str] = []
        for y in range(view.line_count):
            strip = view.render_line(y)
            for segment in strip:
                assert segment.style is None or (segment.style.link is None and not segment.style.meta), segment
                assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in segment.text), segment
            drawn.append("".join(segment.text for segment in strip).rstrip())
    width = view._number_width
    expected = [f"{n:>{width}} {'':>{width}} - {display_text(line)}" for n, line in enumerate(lines, 1)]
    expected += [f"{'':>{width}} {n:>{width}} + {display_text(line + ' # changed')}" for n, line in enumerate(lines, 1)]
    assert drawn == expected
