"""The shapes every part of migrate-tui speaks: findings, fixes (change-sets), diagnostics.

Pure data, no I/O. The CLI, the TUI and the formats read these; rules produce them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Applicability(str, Enum):
    """How far a fix can be trusted (ruff's Safe / Unsafe / DisplayOnly)."""

    SAFE = "safe"  # provably equivalent
    UNSAFE = "unsafe"  # equivalent under a stated assumption
    MANUAL = "manual"  # explanation only; never applied automatically

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file. ``path`` is POSIX and relative to the scan root; lines are 1-based."""

    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``text[start:end]`` of ``path`` with ``content``.

    Offsets index the file's *normalised* text (BOM removed, CRLF folded to LF), the same text
    every rule sees; the writer restores BOM and line endings. ``start == end == 0`` on a file
    that does not exist yet creates it.
    """

    path: str
    start: int
    end: int
    content: str

    def overlaps(self, other: Edit) -> bool:
        if self.path != other.path:
            return False
        if self.start == self.end == other.start == other.end:
            return True
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Fix:
    """A change-set: edits over one or more files that must be applied together, or not at all."""

    applicability: Applicability
    description: str
    edits: tuple[Edit, ...]
    # For UNSAFE fixes: the assumption under which the fix is equivalent (shown before accepting).
    assumption: str | None = None
    # sha256 of each touched file's normalised text when the fix was planned; None = new file.
    base_digests: tuple[tuple[str, str | None], ...] = ()
    # (path, start, end) regions the fix was planned against (a whole YAML document): two fixes
    # whose scopes overlap were each planned without the other and must not be applied together.
    scopes: tuple[tuple[str, int, int], ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for edit in self.edits:
            seen.setdefault(edit.path, None)
        return tuple(seen)

    def conflicts_with(self, other: Fix) -> bool:
        if any(a.overlaps(b) for a in self.edits for b in other.edits):
            return True
        return any(
            p == q and s1 < e2 and s2 < e1 for p, s1, e1 in self.scopes for q, s2, e2 in other.scopes
        )


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    location: Location
    message: str
    explanation: str = ""
    fix: Fix | None = None
    notes: tuple[str, ...] = ()
    # Other places the finding is about (consumer containers, the Dockerfile that builds an image).
    related: tuple[Location, ...] = ()
    # Structured extras for JSON/TUI (e.g. estimated savings, the pod-spec path).
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # When a rewrite was planned but refused (validation failed, platform too old...), why.
    fix_blocked: str | None = None

    @property
    def applicability(self) -> Applicability:
        return self.fix.applicability if self.fix else Applicability.MANUAL

    @property
    def fixable(self) -> bool:
        return self.fix is not None and self.fix.applicability is not Applicability.MANUAL

    @property
    def key(self) -> str:
        """Stable identity for baselines, TUI selection and de-duplication (line-independent)."""
        anchor = self.data.get("anchor", "")
        raw = f"{self.rule}\0{self.location.path}\0{anchor or self.message}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A file that could not be read, parsed or written: shown like a finding, never a traceback."""

    path: str
    line: int
    kind: str  # parse | template | binary | size | encoding | symlink | unreadable | special | write | config
    message: str
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.kind}: {self.message}"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
