"""The proofs the TUI's `p` has run this session, and what they still say after a re-plan.

Plain data over ``proof.prove``'s ``Proof``, kept apart from the screen (which only records a
proof when its worker finishes and asks which proof to show). ``proof/`` itself is imported on
the first proof, not when the TUI starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migrate_tui.model.findings import Finding
from migrate_tui.tui.review import fix_digest

if TYPE_CHECKING:
    from migrate_tui.proof.prove import Proof


class ProofBook(dict[str, tuple[str, frozenset[str], "Proof"]]):
    """The proofs of this session: finding key -> (digest of the fix it judged, digests of the
    fixes it is shown for, the proof). A proof holds while the fix it judged is the one planned."""

    def record(self, key: str, judged: str, shown: str, proof: Proof) -> None:
        self[key] = (judged, frozenset({shown}), proof)

    def shown_for(self, finding: Finding, members: list[Finding]) -> Proof | None:
        """The proof shown for ``finding``: its own or its change-set's (``members``), while the
        fix is the one it judged."""
        if finding.fix is None:
            return None
        digest = fix_digest(finding.fix)
        for key in [finding.key, *(m.key for m in members)]:
            entry = self.get(key)
            if entry is not None and digest in entry[1]:
                return entry[2]
        return None

    def reapplied(self, findings: list[Finding]) -> list[Finding]:
        """A re-plan's findings with the proofs still valid re-applied (a proof lowers until the
        fix it judged changes); proofs of fixes that changed are dropped."""
        if not self:
            return findings
        from migrate_tui.tui.proving import lowered  # (proof/ is imported on the first proof, not at start-up)

        by_key = {f.key: f for f in findings}
        replaced: dict[str, Finding] = {}
        for key, (digest, _shown, proof) in list(self.items()):
            finding = by_key.get(key)
            if finding is None or finding.fix is None or fix_digest(finding.fix) != digest:
                del self[key]
                continue
            members = [f for f in findings if f.fix is not None and fix_digest(f.fix) == digest]
            for judged in lowered(members, finding, proof):
                replaced[judged.key] = judged
        return [replaced.get(f.key, f) for f in findings]
