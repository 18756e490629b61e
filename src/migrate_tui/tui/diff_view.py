"""Our own diff widget: the core's side-by-side rows drawn with the Line API.

Only the rows on screen are rendered (and cached), so a 5,000-line file costs what the
window shows. Both halves live in one widget, so they always scroll together.

Long lines are soft-wrapped by default (a change at column 120 must be visible, not cut off):
a row takes as many screen lines as its longer half needs. With wrapping off (`s`), both halves
scroll sideways together and a new diff starts scrolled to its first changed column. Below
``SPLIT_MIN_WIDTH`` columns the halves are too narrow to read, so the view is unified unless
the user chose otherwise (`u`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len
from rich.segment import Segment as RichSegment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from migrate_tui.render.diff import FileDiff, Row, Segment, side_by_side
from migrate_tui.tui.highlight import language_of, spans
from migrate_tui.tui.safe import visible

TOKENS = ("key", "string", "number", "comment", "keyword", "tag", "punct", "doc")
FULL_CONTEXT = 10**9
SPLIT_MIN_WIDTH = 100  # below this many columns, side-by-side halves are too narrow: unified


def display_text(text: str) -> str:
    """What is drawn for a piece of a scanned line: tabs expanded, control characters escaped."""
    return visible(text.expandtabs(4))


def _width(segments: tuple[Segment, ...]) -> int:
    return cell_len(display_text("".join(s.text for s in segments)))


@dataclass(frozen=True)
class UnifiedLine:
    kind: str  # equal | delete | insert | fold
    old_no: int | None
    new_no: int | None
    segments: tuple[Segment, ...]
    folded: int = 0


def unified_lines(rows: list[Row]) -> list[UnifiedLine]:
    """The same rows as a unified diff: a run of replaced lines shows all '-' then all '+'."""
    out: list[UnifiedLine] = []
    pending_plus: list[UnifiedLine] = []

    def flush() -> None:
        out.extend(pending_plus)
        pending_plus.clear()

    for row in rows:
        if row.kind in ("replace", "delete", "insert"):
            if row.left_no is not None:
                out.append(UnifiedLine("delete", row.left_no, None, row.left))
            if row.right_no is not None:
                pending_plus.append(UnifiedLine("insert", None, row.right_no, row.right))
            continue
        flush()
        if row.kind == "fold":
            out.append(UnifiedLine("fold", row.left_no, row.right_no, (), row.folded))
        else:
            out.append(UnifiedLine("equal", row.left_no, row.right_no, row.left))
    flush()
    return out


class DiffView(ScrollView, can_focus=True):
    """Before | after (or unified) view of one file of a change-set."""

    COMPONENT_CLASSES = {
        "diff--lineno",
        "diff--fold",
        "diff--gutter",
        "diff--message",
        "diff--delete",
        "diff--insert",
        "diff--delete-word",
        "diff--insert-word",
        *(f"diff--{token}" for token in TOKENS),
    }
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("left,h", "scroll_left", "Left", show=False),
        Binding("right,l", "scroll_right", "Right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "Bottom", show=False),
    ]

    unified: reactive[bool] = reactive(False)
    full_context: reactive[bool] = reactive(False)
    wrap: reactive[bool] = reactive(True)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._diff: FileDiff | None = None
        self._rows: list[Row] = []
        self._unified: list[UnifiedLine] = []
        self._message = ""
        self._number_width = 3
        self._max_text = 0
        self._language = "text"
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(2048)
        self._unified_choice: bool | None = None  # None: by width (see SPLIT_MIN_WIDTH)
        self._visual: list[tuple[int, int]] = []  # screen line -> (row index, wrapped piece)
        self._layout_key: tuple[object, ...] = ()

    def choose_unified(self, unified: bool) -> None:
        """The user's choice (`u`): it wins over the width rule from now on."""
        self._unified_choice = unified
        self.unified = unified

    def _auto_unified(self) -> None:
        width = self.size.width
        if self._unified_choice is None and width:
            self.unified = width < SPLIT_MIN_WIDTH

    # -- data -------------------------------------------------------------------------------
    def show_diff(self, diff: FileDiff | None, message: str = "") -> None:
        self._diff = diff
        self._message = message
        self._language = language_of(diff.path) if diff else "text"
        self._auto_unified()
        self._rebuild()
        self.scroll_to(self._first_changed_column(), 0, animate=False)

    @property
    def line_count(self) -> int:
        """Diff lines (rows), whatever the wrapping."""
        return len(self._unified) if self.unified else len(self._rows)

    @property
    def screen_lines(self) -> int:
        """Lines on screen once wrapped."""
        self._relayout()
        return len(self._visual)

    def _first_changed_column(self) -> int:
        """Without wrapping: scroll right so the first change of a long line is on screen."""
        if self.wrap or self._diff is None:
            return 0
        for row in self._rows:
            if row.kind not in ("replace", "insert", "delete"):
                continue
            for side in (row.right, row.left):
                column = 0
                for segment in side:
                    if segment.changed and len(side) > 1:
                        return max(0, column - 10) if column > self._text_width() - 10 else 0
                    column += cell_len(display_text(segment.text))
            return 0
        return 0

    @property
    def rows(self) -> list[Row]:
        return self._rows

    def first_change(self) -> int:
        lines: Sequence[UnifiedLine | Row] = self._unified if self.unified else self._rows
        return next((i for i, row in enumerate(lines) if row.kind not in ("equal", "fold")), 0)

    def _rebuild(self) -> None:
        self._cache.clear()
        if self._diff is None:
            self._rows, self._unified = [], []
        else:
            context = FULL_CONTEXT if self.full_context else 3
            self._rows = side_by_side(self._diff.before, self._diff.after, context=context)
            self._unified = unified_lines(self._rows)
        numbers = [n for row in self._rows for n in (row.left_no, row.right_no) if n]
        self._number_width = max(3, len(str(max(numbers, default=0))))
        self._max_text = max((_width(side) for row in self._rows for side in (row.left, row.right)), default=0)
        self._layout_key = ()
        self._update_virtual_size()
        self.refresh()

    def watch_unified(self) -> None:
        self._cache.clear()
        self._update_virtual_size()
        self.refresh()
        if self._diff is not None:
            self.post_message(self.LayoutChanged())

    class LayoutChanged(Message):
        """Unified ↔ side-by-side changed (by the user or by the width): titles follow."""

    def watch_wrap(self) -> None:
        self._cache.clear()
        self.scroll_to(0, self.scroll_y, animate=False)
        self._update_virtual_size()
        self.refresh()

    def _relayout(self) -> None:
        """Map screen lines to (row, piece): one piece per row unless wrapping splits it."""
        key = (id(self._rows), self.unified, self.wrap, self._text_width(), self.line_count)
        if key == self._layout_key:
            return
        self._layout_key = key
        width = self._text_width()
        visual: list[tuple[int, int]] = []
        if self.unified:
            for index, line in enumerate(self._unified):
                pieces = 1 if not self.wrap or line.kind == "fold" else max(1, -(-_width(line.segments) // width))
                visual += [(index, piece) for piece in range(pieces)]
        else:
            for index, row in enumerate(self._rows):
                longest = max(_width(row.left), _width(row.right)) if row.kind != "fold" else 0
                pieces = 1 if not self.wrap else max(1, -(-longest // width))
                visual += [(index, piece) for piece in range(pieces)]
        self._visual = visual

    def watch_full_context(self) -> None:
        if self._diff is not None:
            self._rebuild()

    def on_resize(self) -> None:
        self._cache.clear()
        self._auto_unified()
        self._update_virtual_size()

    def _text_width(self) -> int:
        width = self.scrollable_content_region.width or self.size.width
        if self.unified:
            return max(1, width - 2 * self._number_width - 4)
        return max(1, (width - 1) // 2 - self._number_width - 3)

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        overflow = 0 if self.wrap else max(0, self._max_text - self._text_width())
        self._relayout()
        height = len(self._visual) if self._diff is not None else 1
        self.virtual_size = Size(width + overflow, height)

    # -- drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width or self.size.width
        index = scroll_y + y
        base = self.rich_style
        if self._diff is None:
            lines = textwrap.wrap(self._message, max(10, width - 2))
            if y < len(lines):
                style = self.get_component_rich_style("diff--message", partial=True)
                return Strip([RichSegment(f" {lines[y]}", base + style)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        self._relayout()
        if index >= len(self._visual):
            return Strip.blank(width, base)
        row, piece = self._visual[index]
        key = (row, piece, scroll_x, width, self.unified, self.wrap)
        strip = self._cache.get(key)
        if strip is None:
            offset = scroll_x if not self.wrap else piece * self._text_width()
            render = self._render_unified if self.unified else self._render_split
            strip = render(row, offset, width, piece)
            self._cache[key] = strip
        return strip

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"diff--{name}", partial=True)

    def _number(self, number: int | None) -> RichSegment:
        text = f"{number:>{self._number_width}} " if number else " " * (self._number_width + 1)
        return RichSegment(text, self.rich_style + self._style("lineno"))

    def _fold(self, folded: int, width: int) -> Strip:
        label = f"··· {folded} unchanged line{'s' if folded != 1 else ''} ···"
        style = self.rich_style + self._style("fold")
        return Strip([RichSegment(label.center(width), style)]).crop_extend(0, width, style)

    def _render_split(self, index: int, scroll_x: int, width: int, piece: int = 0) -> Strip:
        row = self._rows[index]
        if row.kind == "fold":
            return self._fold(row.folded, width)
        text_width = self._text_width()
        left_kind = {"replace": "delete", "delete": "delete"}.get(row.kind, "equal")
        right_kind = {"replace": "insert", "insert": "insert"}.get(row.kind, "equal")
        left_marker = "-" if left_kind == "delete" else " "
        right_marker = "+" if right_kind == "insert" else " "
        left = self._half(row.left_no, left_marker, row.left, left_kind, scroll_x, text_width, row.left_no is None, piece)
        right = self._half(row.right_no, right_marker, row.right, right_kind, scroll_x, text_width, row.right_no is None, piece)
        gutter = Strip([RichSegment("│", self.rich_style + self._style("gutter"))])
        half_width = (width - 1) // 2
        return Strip.join(
            [
                left.crop_extend(0, half_width, self.rich_style),
                gutter,
                right.crop_extend(0, width - half_width - 1, self.rich_style),
            ]
        )

    def _half(
        self,
        number: int | None,
        marker: str,
        segments: tuple[Segment, ...],
        kind: str,
        scroll_x: int,
        text_width: int,
        empty: bool,
        piece: int = 0,
    ) -> Strip:
        row_style = self.rich_style + (self._style(kind) if kind != "equal" else Style())
        if empty:
            blank = self.rich_style + self._style("gutter")
            return Strip([RichSegment("╱" * (self._number_width + 3 + text_width), blank)])
        # A wrapped piece is marked '·'; a half shorter than its neighbour shows nothing there.
        continued = "·" if piece * text_width < _width(segments) else " "
        head = Strip(
            [
                self._number(number if piece == 0 else None),
                RichSegment(f"{marker if piece == 0 else continued} ", row_style + self._style("lineno")),
            ]
        )
        body = self._line_text(segments, kind, row_style)
        return Strip.join([head, body.crop_extend(scroll_x, scroll_x + text_width, row_style)])

    def _line_text(self, segments: tuple[Segment, ...], kind: str, row_style: Style) -> Strip:
        text = Text(no_wrap=True, end="")
        word_style = self._style(f"{kind}-word") if kind != "equal" else Style()
        # A whole line marked changed (pure insert/delete) is already coloured by its row.
        whole = len(segments) == 1
        for segment in segments:
            piece = display_text(segment.text)
            text.append(piece, word_style if segment.changed and not whole else None)
        for start, end, token in spans(text.plain, self._language):
            text.stylize(self._style(token), start, end)
        base = Text(no_wrap=True, end="", style=row_style)
        base.append_text(text)
        return Strip(base.render(self.app.console), base.cell_len)

    def _render_unified(self, index: int, scroll_x: int, width: int, piece: int = 0) -> Strip:
        line = self._unified[index]
        if line.kind == "fold":
            return self._fold(line.folded, width)
        row_style = self.rich_style + (self._style(line.kind) if line.kind != "equal" else Style())
        marker = {"delete": "-", "insert": "+"}.get(line.kind, " ") if piece == 0 else "·"
        head = Strip(
            [
                self._number(line.old_no if piece == 0 else None),
                self._number(line.new_no if piece == 0 else None),
                RichSegment(f"{marker} ", row_style + self._style("lineno")),
            ]
        )
        body = self._line_text(line.segments, line.kind, row_style)
        text_width = self._text_width()
        return Strip.join([head, body.crop_extend(scroll_x, scroll_x + text_width, row_style)]).crop_extend(0, width, row_style)
