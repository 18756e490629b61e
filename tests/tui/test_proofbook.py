"""The TUI's record of proofs: shown for the fix it judged (or the change-set's), dropped when a
re-plan changes that fix, re-applied (lowering the change-set) while it doesn't."""

from __future__ import annotations

import dataclasses

from testlib import FIXTURES, make_engine
from migrate_tui.model.findings import Applicability
from migrate_tui.proof.prove import Proof, ProofKind
from migrate_tui.tui.proofbook import ProofBook
from migrate_tui.tui.review import fix_digest


def _finding(tmp_path):
    (tmp_path / "deploy.yaml").write_text((FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text())
    (finding,) = make_engine(tmp_path).scan().findings
    assert finding.fix is not None and finding.applicability is Applicability.SAFE
    return finding


def test_a_proof_is_shown_while_its_fix_is_planned_and_dropped_after(tmp_path) -> None:
    finding = _finding(tmp_path)
    book = ProofBook()
    proof = Proof(ProofKind.DIFFERENT, detail="/site/index.html differs")
    digest = fix_digest(finding.fix)
    book.record(finding.key, digest, digest, proof)
    assert book.shown_for(finding, []) is proof
    # the re-plan keeps the fix: the proof lowers it again (DIFFERENT: manual, nothing written)
    (again,) = book.reapplied([finding])
    assert again.applicability is Applicability.MANUAL and again.fix_blocked is not None
    assert finding.key in book
    # a re-plan that changes the fix drops the proof: it judged another change-set
    edit = dataclasses.replace(finding.fix.edits[0], content=finding.fix.edits[0].content + "# re-planned\n")
    replanned = dataclasses.replace(finding, fix=dataclasses.replace(finding.fix, edits=(edit, *finding.fix.edits[1:])))
    assert book.reapplied([replanned]) == [replanned]
    assert not book and book.shown_for(replanned, []) is None


def test_a_proven_fix_stays_as_the_rules_planned_it(tmp_path) -> None:
    finding = _finding(tmp_path)
    book = ProofBook()
    digest = fix_digest(finding.fix)
    book.record(finding.key, digest, digest, Proof(ProofKind.PROVEN))
    assert book.reapplied([finding]) == [finding]
    assert book.shown_for(finding, []) is book[finding.key][2]
