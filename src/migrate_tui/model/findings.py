"""The shapes every part of migrate-tui speaks: findings, fixes (change-sets), diagnostics.

Pure data, no I/O. The CLI, the TUI and the formats read these; rules produce them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any


class Applicability(StrEnum):
    """How far a fix can be trusted (ruff's Safe / Unsafe / DisplayOnly)."""

    SAFE = "safe"  # provably equivalent
    UNSAFE = "unsafe"  # equivalent under a stated assumption
    MANUAL = "manual"  # explanation only; never applied automatically


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


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


@dataclass(frozen=True, kw_only=True)
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
        return any(p == q and s1 < e2 and s2 < e1 for p, s1, e1 in self.scopes for q, s2, e2 in other.scopes)


@dataclass(frozen=True, kw_only=True)
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
    # Stable identity within the file, independent of line numbers and wording (the pod-spec path
    # and volume, the stage and instruction): baselines, the TUI and de-duplication key on it.
    anchor: str = ""
    # The YAML document the finding is about, as (first line, last line): a suppression comment
    # anywhere in that object silences it.
    doc_span: tuple[int, int] | None = None

    @property
    def applicability(self) -> Applicability:
        return self.fix.applicability if self.fix else Applicability.MANUAL

    @property
    def fixable(self) -> bool:
        return self.fix is not None and self.fix.applicability is not Applicability.MANUAL

    @property
    def key(self) -> str:
        """Stable identity for baselines, TUI selection and de-duplication (line-independent)."""
        raw = f"{self.rule}\0{self.location.path}\0{self.anchor or self.message}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


class DiagnosticKind(str, Enum):
    """Why a file (or part of it) was not checked. The string values are the JSON API."""

    PARSE = "parse"  # malformed YAML / Dockerfile syntax
    TEMPLATE = "template"  # Helm/Jinja template, not plain YAML
    BINARY = "binary"
    SIZE = "size"  # over the size limit
    ENCODING = "encoding"  # not UTF-8
    SYMLINK = "symlink"  # points out of the root, dangles or loops
    UNREADABLE = "unreadable"
    SPECIAL = "special"  # FIFO, socket, device
    WRITE = "write"  # a fix could not be written
    CONFIG = "config"
    UNUSED_SUPPRESSION = "unused-suppression"  # the file WAS checked; a comment silences nothing
    INTERNAL = "internal"  # migrate-tui crashed on this file (a bug): exit code 2

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def file_checked(self) -> bool:
        """True when the file was still checked in full (the diagnostic is only advice)."""
        return self is DiagnosticKind.UNUSED_SUPPRESSION


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A file that could not be read, parsed or written: shown like a finding, never a traceback.

    ``kind`` accepts the plain string value too (``"parse"``) and is stored as the enum.
    """

    path: str
    line: int
    kind: DiagnosticKind
    message: str
    column: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.kind, DiagnosticKind):
            object.__setattr__(self, "kind", DiagnosticKind(self.kind))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.kind}: {self.message}"


def exception_summary(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` on one line (the message's lines joined, a long one cut): how a crash
    is named in an INTERNAL diagnostic or a blocked fix."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    summary = f"{name}: {text}" if text else name
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
