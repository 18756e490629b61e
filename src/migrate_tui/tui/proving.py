"""The TUI's `p` (prove): what a proof does to a change-set and what the panel says about it.

Plain functions over ``proof.prove``'s typed ``Proof``; the app runs ``prove`` in a worker and
hands the outcome here. A proof can only lower a fix (``proof.prove.sharpen``); when it does, every
finding of the change-set (an IV001 and the DF001 building its image share one) carries the
lowered fix, so the change-set gets a new id and an accept on the old one is withdrawn by
``Review.revise``, exactly as after a re-plan.
"""

from __future__ import annotations

import dataclasses

from migrate_tui.model.findings import Finding
from migrate_tui.proof.prove import Proof, ProofKind, sharpen

PROVABLE_RULE = "IV001"  # only an image-volume fix has a verify comparison

# (panel style, what the proof did to the fix) per kind
CONSEQUENCE = {
    ProofKind.PROVEN: ("green", "The fix stands as the rules judged it."),
    ProofKind.PROVEN_WITH_EXTRA: (
        "yellow",
        "The readers would see files they did not see before: the fix is now "
        "unsafe, and accepting it asks you to confirm the assumption below.",
    ),
    ProofKind.DIFFERENT: ("red", "The readers would not see the same files: the fix is now manual and is not written."),
    ProofKind.UNREACHABLE: (
        "dim",
        "Nothing changed: the rules' verdict stands, unproven. `migrate-tui PATH --image "
        "REF=oci:DIR[:TAG]` (or config oci-layouts) names where an image comes from.",
    ),
    ProofKind.NOT_APPLICABLE: ("dim", "Nothing changed."),
}


def provable(members: list[Finding], finding: Finding) -> Finding | None:
    """The finding whose fix a proof runs on: ``finding`` itself, or the IV001 of its change-set."""
    for candidate in [finding, *members]:
        if candidate.rule == PROVABLE_RULE and candidate.fixable:
            return candidate
    return None


def lowered(members: list[Finding], finding: Finding, proof: Proof) -> list[Finding]:
    """The change-set's findings with the fix the proof leaves (empty: the fix is unchanged)."""
    judged = sharpen(finding, proof)
    if judged.fix == finding.fix and judged.fix_blocked == finding.fix_blocked:
        return []
    out = []
    for member in [finding, *(m for m in members if m.key != finding.key)]:
        data = judged.data if member.key == finding.key else member.data
        out.append(dataclasses.replace(member, fix=judged.fix, fix_blocked=judged.fix_blocked, data=data))
    return out


def proof_section(proof: Proof) -> tuple[list[str], str]:
    """The panel's "Proof" lines and their style."""
    style, consequence = CONSEQUENCE[proof.kind]
    return [proof.summary(), consequence], style
