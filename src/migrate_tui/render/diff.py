"""Diffs of change-sets: unified text for the CLI, side-by-side rows for the TUI (same data)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable, Iterable

from migrate_tui.model.findings import Edit, Fix


@dataclass(frozen=True)
class FileDiff:
    path: str
    before: str  # "" for a new file
    after: str
    created: bool = False

    def unified(self, context: int = 3) -> str:
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            "/dev/null" if self.created else f"a/{self.path}",
            f"b/{self.path}",
            n=context,
        )
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


def file_diffs(fix: Fix, read: Callable[[str], str | None]) -> list[FileDiff]:
    """One FileDiff per file the fix touches; ``read`` returns a file's scanned text or None."""
    from migrate_tui.write.writer import apply_edits

    diffs = []
    for path in fix.paths:
        before = read(path)
        edits = [e for e in fix.edits if e.path == path]
        diffs.append(FileDiff(path, before or "", apply_edits(before or "", edits), before is None))
    return diffs


def combined_diffs(fixes: Iterable[Fix], read: Callable[[str], str | None]) -> list[FileDiff]:
    """Several fixes' edits per file, applied together (for `check --diff`)."""
    from migrate_tui.write.writer import apply_edits

    edits: dict[str, list[Edit]] = {}
    for fix in fixes:
        for edit in fix.edits:
            edits.setdefault(edit.path, []).append(edit)
    out = []
    for path in sorted(edits):
        before = read(path)
        out.append(FileDiff(path, before or "", apply_edits(before or "", edits[path]), before is None))
    return out


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool


@dataclass(frozen=True)
class Row:
    """One line of a side-by-side view. ``kind``: equal | replace | delete | insert | fold."""

    kind: str
    left_no: int | None
    left: tuple[Segment, ...]
    right_no: int | None
    right: tuple[Segment, ...]
    folded: int = 0  # for kind == "fold": how many equal lines are hidden


def side_by_side(before: str, after: str, context: int = 3) -> list[Row]:
    """Rows with intra-line segments; runs of equal lines longer than 2*context are folded."""
    a = before.splitlines()
    b = after.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            count = i2 - i1
            if count > 2 * context + 1:
                keep_head = context if rows else 0
                keep_tail = context if i2 < len(a) or j2 < len(b) else 0
                for k in range(keep_head):
                    rows.append(_equal(a, i1 + k, j1 + k))
                hidden = count - keep_head - keep_tail
                if hidden > 0:
                    rows.append(Row("fold", i1 + keep_head + 1, (), j1 + keep_head + 1, (), hidden))
                for k in range(count - keep_tail, count):
                    rows.append(_equal(a, i1 + k, j1 + k))
            else:
                rows += [_equal(a, i1 + k, j1 + k) for k in range(count)]
        elif tag == "replace":
            for k in range(max(i2 - i1, j2 - j1)):
                left = a[i1 + k] if i1 + k < i2 else None
                right = b[j1 + k] if j1 + k < j2 else None
                if left is not None and right is not None:
                    ls, rs = intraline(left, right)
                    rows.append(Row("replace", i1 + k + 1, ls, j1 + k + 1, rs))
                elif left is not None:
                    rows.append(Row("delete", i1 + k + 1, (Segment(left, True),), None, ()))
                else:
                    rows.append(Row("insert", None, (), j1 + k + 1, (Segment(right or "", True),)))
        elif tag == "delete":
            rows += [Row("delete", k + 1, (Segment(a[k], True),), None, ()) for k in range(i1, i2)]
        else:
            rows += [Row("insert", None, (), k + 1, (Segment(b[k], True),)) for k in range(j1, j2)]
    return rows


def _equal(a: list[str], i: int, j: int) -> Row:
    return Row("equal", i + 1, (Segment(a[i], False),), j + 1, (Segment(a[i], False),))


def intraline(left: str, right: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Word-level changed segments of a replaced line pair."""
    import re

    lw = re.findall(r"\s+|[\w./:-]+|[^\w\s]", left)
    rw = re.findall(r"\s+|[\w./:-]+|[^\w\s]", right)
    ls: list[Segment] = []
    rs: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, lw, rw, autojunk=False).get_opcodes():
        if i2 > i1:
            ls.append(Segment("".join(lw[i1:i2]), tag != "equal"))
        if j2 > j1:
            rs.append(Segment("".join(rw[j1:j2]), tag != "equal"))
    return tuple(ls), tuple(rs)
