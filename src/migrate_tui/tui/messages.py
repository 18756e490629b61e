"""Small messages the workers post to the review screen, and it to the app ("messages up").

Every scan message carries the scan's ``generation``: after a re-plan (mode toggle, write),
messages still queued from the previous scan are recognised and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from migrate_tui.model.findings import Diagnostic, Finding


@dataclass
class ScanBegan(Message):
    generation: int
    total: int


@dataclass
class ScanProgress(Message):
    generation: int
    done: int
    total: int
    path: str

    def can_replace(self, message: Message) -> bool:
        # Only the latest progress matters: a burst collapses to one repaint.
        return isinstance(message, ScanProgress) and message.generation == self.generation


@dataclass
class FindingsArrived(Message):
    generation: int
    findings: tuple[Finding, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass
class ScanCompleted(Message):
    generation: int
    result: Any  # core.engine.ScanResult


@dataclass
class ScanFailed(Message):
    generation: int
    error: str


@dataclass
class WriteCompleted(Message):
    report: Any  # core.writer.WriteReport


@dataclass
class WriteFailed(Message):
    error: str


@dataclass
class ProofFinished(Message):
    """A ``prove`` worker's outcome for one change-set: ``digest`` is the fix that was proven
    (a re-plan meanwhile gives the finding another fix, and the proof is then dropped)."""

    generation: int
    key: str
    digest: str
    proof: Any  # oci.prove.Proof


@dataclass
class QuitConfirmed(Message):
    """The review screen's guard passed (nothing unwritten, or the user said yes): the app
    exits with the code it owns."""
