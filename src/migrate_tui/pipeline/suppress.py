"""Inline suppressions: ``# migrate-tui: ignore[IV001]`` (or ``ignore`` for every rule).

On the finding's line or the line above it, it silences that line; as a top-level comment of a
YAML document (column 0, inside the document) it silences the whole object;
``# migrate-tui: ignore-file[DF004]`` anywhere silences the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PATTERN = re.compile(r"#\s*migrate-tui:\s*(ignore-file|ignore)(?:\[([A-Za-z0-9_,\s]*)\])?", re.I)
ALL = "*"


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)
    top_level: dict[int, set[str]] = field(default_factory=dict)  # line -> codes, for column-0 comments
    file_wide: set[str] = field(default_factory=set)
    used: set[tuple[int, str]] = field(default_factory=set)

    def silences(self, code: str, line: int, doc_span: tuple[int, int] | None = None) -> bool:
        def hit(codes: set[str]) -> bool:
            return ALL in codes or code in codes

        if hit(self.file_wide):
            return True
        for candidate in (line, line - 1):
            codes = self.by_line.get(candidate)
            if codes and hit(codes):
                self.used.add((candidate, code))
                return True
        if doc_span is not None:
            first, last = doc_span
            for comment_line, codes in self.top_level.items():
                if first <= comment_line <= last and hit(codes):
                    self.used.add((comment_line, code))
                    return True
        return False

    def unused(self, active: set[str], known: set[str]) -> list[tuple[int, str]]:
        """(line, code) of line suppressions that silenced nothing; ``active``: rules run on this file."""
        out = []
        for line, codes in sorted(self.by_line.items()):
            used_here = {code for used_line, code in self.used if used_line == line}
            if ALL in codes:
                if not used_here and active:
                    out.append((line, ALL))
                continue
            for code in sorted(codes):
                if code not in known:
                    out.append((line, code))
                elif code in active and code not in used_here:
                    out.append((line, code))
        return out


def parse_suppressions(text: str) -> Suppressions:
    result = Suppressions()
    if "migrate-tui" not in text:
        return result
    for number, line in enumerate(text.splitlines(), start=1):
        match = _PATTERN.search(line)
        if match is None:
            continue
        codes = {c.strip().upper() for c in (match.group(2) or "").split(",") if c.strip()} or {ALL}
        if match.group(1).lower() == "ignore-file":
            result.file_wide |= codes
            continue
        result.by_line.setdefault(number, set()).update(codes)
        if line.startswith("#"):
            result.top_level.setdefault(number, set()).update(codes)
    return result
