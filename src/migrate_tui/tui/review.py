"""What the reviewer has decided, and which findings the filter shows: plain data, no widgets.

The app keeps one ``Review``; widgets read it and post messages, only the app changes it.
Decisions are keyed by ``Finding.key`` (line-independent), so they survive a re-scan.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Iterable

from ..core.model import Applicability, Diagnostic, Finding

ICONS = {Applicability.SAFE: "✓", Applicability.UNSAFE: "▲", Applicability.MANUAL: "◆"}


def group_key(finding: Finding) -> str:
    """The tree group of a finding: its file, or every file of a change-set spanning several."""
    if finding.fix is not None and len(finding.fix.paths) > 1:
        return " + ".join(finding.fix.paths)
    return finding.location.path


def why_not_acceptable(finding: Finding) -> str | None:
    """None when the change-set can be accepted; else a sentence saying why not."""
    if finding.fixable:
        return None
    if finding.fix_blocked:
        return f"the rewrite was refused: {finding.fix_blocked}"
    return "this finding has no automatic rewrite; its panel says what to do by hand"


@dataclass
class Review:
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)

    def add(self, findings: Iterable[Finding], diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.findings.extend(findings)
        self.diagnostics.extend(diagnostics)

    def replace(self, findings: list[Finding], diagnostics: list[Diagnostic]) -> None:
        """A finished scan's sorted lists; decisions on findings that vanished are dropped."""
        self.findings = list(findings)
        self.diagnostics = list(diagnostics)
        keys = {f.key for f in self.findings}
        self.accepted &= keys

    def by_key(self, key: str) -> Finding | None:
        return next((f for f in self.findings if f.key == key), None)

    def is_accepted(self, finding: Finding) -> bool:
        return finding.key in self.accepted

    def accept(self, finding: Finding) -> None:
        if why_not_acceptable(finding) is None:
            self.accepted.add(finding.key)

    def reject(self, finding: Finding) -> None:
        self.accepted.discard(finding.key)

    def accept_all_safe(self) -> list[Finding]:
        """Accept every safe change-set not yet accepted; returns the newly accepted ones."""
        new = [
            f for f in self.findings
            if f.fixable and f.applicability is Applicability.SAFE and f.key not in self.accepted
        ]
        self.accepted.update(f.key for f in new)
        return new

    def accepted_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.key in self.accepted]

    def accepted_files(self) -> list[str]:
        files: dict[str, None] = {}
        for finding in self.accepted_findings():
            for path in finding.fix.paths if finding.fix else ():
                files.setdefault(path, None)
        return sorted(files)

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Applicability}
        for finding in self.findings:
            out[finding.applicability.value] += 1
        out["accepted"] = len(self.accepted)
        out["diagnostics"] = len(self.diagnostics)
        return out


@dataclass(frozen=True)
class Query:
    """A parsed filter: every term must match (``rule:IV001 is:safe nginx``)."""

    rules: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # safe | unsafe | manual | accepted | pending | blocked
    paths: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.rules or self.kinds or self.paths or self.words)

    def matches(self, finding: Finding, review: Review | None = None) -> bool:
        if self.rules and not any(finding.rule.upper().startswith(r) for r in self.rules):
            return False
        if self.paths and not any(p in group_key(finding).lower() for p in self.paths):
            return False
        for kind in self.kinds:
            if not _is(kind, finding, review):
                return False
        haystack = f"{finding.rule} {group_key(finding)} {finding.message}".lower()
        return all(word in haystack for word in self.words)


KINDS = ("safe", "unsafe", "manual", "accepted", "pending", "blocked", "fixable")


def _is(kind: str, finding: Finding, review: Review | None) -> bool:
    if kind in ("safe", "unsafe", "manual"):
        return finding.applicability.value == kind
    if kind == "accepted":
        return review is not None and review.is_accepted(finding)
    if kind == "pending":
        return finding.fixable and not (review is not None and review.is_accepted(finding))
    if kind == "blocked":
        return finding.fix_blocked is not None
    return finding.fixable  # fixable


def parse_query(text: str) -> Query:
    try:
        terms = shlex.split(text)
    except ValueError:  # an unbalanced quote while typing
        terms = text.split()
    rules, kinds, paths, words, errors = [], [], [], [], []
    for term in terms:
        name, sep, value = term.partition(":")
        name = name.lower()
        if sep and name == "rule" and value:
            rules.append(value.upper())
        elif sep and name == "is" and value:
            if value.lower() in KINDS:
                kinds.append(value.lower())
            else:
                errors.append(f"is:{value}? use one of {', '.join(KINDS)}")
        elif sep and name == "path" and value:
            paths.append(value.lower())
        else:
            words.append(term.lower())
    return Query(tuple(rules), tuple(kinds), tuple(paths), tuple(words), tuple(errors))
