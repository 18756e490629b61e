"""The pure review state: decisions by key, the filter language."""

from __future__ import annotations

from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.tui.review import Review, group_key, parse_query, why_not_acceptable


def finding(path: str, applicability: Applicability | None, rule: str = "IV001", blocked: str | None = None) -> Finding:
    fix = (
        Fix(applicability=applicability, description="do it", edits=(Edit(path, 0, 0, "x"),), assumption="nobody writes")
        if applicability
        else None
    )
    return Finding(
        rule=rule, severity=Severity.WARNING, location=Location(path, 3), message=f"message about {path}", fix=fix, fix_blocked=blocked
    )


SAFE = finding("a/safe.yaml", Applicability.SAFE)
UNSAFE = finding("b/unsafe.yaml", Applicability.UNSAFE)
MANUAL = finding("c/manual.yaml", None, rule="IV002", blocked="wget downloads over the network")


def test_accept_all_safe_and_manual_refusal() -> None:
    review = Review([SAFE, UNSAFE, MANUAL])
    assert review.accept_all_safe() == [review.set_of(SAFE)]
    assert review.accepted_findings() == [SAFE]
    assert not review.accept(MANUAL)
    assert not review.is_accepted(MANUAL) and review.set_of(MANUAL) is None
    assert why_not_acceptable(MANUAL) == "no automatic rewrite: wget downloads over the network"
    assert why_not_acceptable(UNSAFE) is None


def test_decisions_survive_a_rescan_by_key() -> None:
    review = Review([SAFE, UNSAFE])
    review.accept(SAFE)
    review.accept(UNSAFE)
    moved = Finding(rule=SAFE.rule, severity=SAFE.severity, location=Location(SAFE.location.path, 9), message=SAFE.message, fix=SAFE.fix)
    assert review.replace([moved], []) == []
    assert review.is_accepted(moved) and review.accepted == {review.set_of(moved)}


def test_query_terms_combine() -> None:
    review = Review([SAFE, UNSAFE, MANUAL])
    review.accept(SAFE)

    def shown(text: str) -> list[str]:
        query = parse_query(text)
        return [f.location.path for f in review.findings if query.matches(f, review)]

    assert shown("") == ["a/safe.yaml", "b/unsafe.yaml", "c/manual.yaml"]
    assert shown("rule:IV002") == ["c/manual.yaml"]
    assert shown("rule:iv") == ["a/safe.yaml", "b/unsafe.yaml", "c/manual.yaml"]
    assert shown("is:safe") == ["a/safe.yaml"]
    assert shown("is:accepted") == ["a/safe.yaml"]
    assert shown("is:pending") == ["b/unsafe.yaml"]
    assert shown("is:blocked") == ["c/manual.yaml"]
    assert shown("path:b/ unsafe") == ["b/unsafe.yaml"]
    assert shown('"message about c"') == ["c/manual.yaml"]
    assert parse_query("is:bogus").errors


def test_group_key_names_every_file_of_a_multi_file_change_set() -> None:
    fix = Fix(applicability=Applicability.SAFE, description="two", edits=(Edit("k.yaml", 0, 0, "a"), Edit("Dockerfile", 0, 0, "b")))
    assert (
        group_key(Finding(rule="IV003", severity=Severity.INFO, location=Location("k.yaml"), message="m", fix=fix)) == "k.yaml + Dockerfile"
    )
