"""What the reviewer has decided, and which findings the filter shows: plain data, no widgets.

The unit of decision is the *change-set* (one ``Fix``: edits over one or more files applied
together or not at all), not the finding: an IV001 on a manifest and the DF001 on the Dockerfile
that builds its image can carry the same change-set, and the writer writes it once. ``Review``
is the one decision model the tree, the counters, the dialogs and the writer read:

* a change-set's id is the digest of its fix (edits, applicability, assumption), so a decision
  is tied to the exact change that was reviewed;
* every finding of a change-set shows the same state; deciding on one decides on the set;
* after a re-plan (re-scan, mode change), a decision whose findings now carry a *different* fix
  is withdrawn (the change-set goes back to pending) and the reason is kept for the panel.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass, field
from typing import Iterable

from migrate_tui.model.findings import Applicability, Diagnostic, Finding, Fix

ICONS = {Applicability.SAFE: "✓", Applicability.UNSAFE: "▲", Applicability.MANUAL: "◆"}


def group_key(finding: Finding) -> str:
    """The tree group of a finding: its file, or every file of a change-set spanning several."""
    if finding.fix is not None and len(finding.fix.paths) > 1:
        return " + ".join(finding.fix.paths)
    return finding.location.path


def fix_digest(fix: Fix) -> str:
    """The change-set id: what is written (edits), and under which terms (applicability, assumption)."""
    edits = sorted((e.path, e.start, e.end, e.content) for e in fix.edits)
    raw = json.dumps([edits, fix.applicability.value, fix.assumption or ""], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def why_not_acceptable(finding: Finding) -> str | None:
    """None when the change-set can be accepted; else a sentence saying why not."""
    if finding.fixable:
        return None
    if finding.fix_blocked:
        return f"no automatic rewrite: {finding.fix_blocked}"
    return "this finding has no automatic rewrite; its panel says what to do by hand"


def _what_changed(old: Fix, new: Fix) -> str:
    if old.applicability is not new.applicability:
        return f"it was {old.applicability.value} and is now {new.applicability.value}"
    if (old.assumption or "") != (new.assumption or ""):
        return "its assumption changed"
    if {e.path for e in old.edits} != {e.path for e in new.edits}:
        return "it now touches other files"
    return "its edits changed"


@dataclass
class Accepted:
    """One accepted change-set: the fix as reviewed and the findings that carried it."""

    fix: Fix
    members: frozenset[str]


@dataclass
class Review:
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # change-set id -> the decision (only accepts are stored; everything else is pending)
    decisions: dict[str, Accepted] = field(default_factory=dict)
    # change-set id -> why an earlier accept was withdrawn (shown until the user decides again)
    resets: dict[str, str] = field(default_factory=dict)
    _sets: dict[str, list[Finding]] = field(default_factory=dict, repr=False)
    _set_of: dict[str, str] = field(default_factory=dict, repr=False)
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _undo: list[tuple[dict[str, Accepted], dict[str, str]]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._reindex()

    # -- the index ----------------------------------------------------------------------------
    def _reindex(self) -> None:
        self._sets, self._set_of, self._index = {}, {}, {}
        for position, finding in enumerate(self.findings):
            self._index[finding.key] = position
            self._join(finding)

    def _join(self, finding: Finding) -> None:
        if finding.fixable and finding.fix is not None:
            cid = fix_digest(finding.fix)
            self._set_of[finding.key] = cid
            members = self._sets.setdefault(cid, [])
            if all(m.key != finding.key for m in members):
                members.append(finding)

    def add(self, findings: Iterable[Finding], diagnostics: Iterable[Diagnostic] = ()) -> None:
        """Streamed findings; one with a key already known replaces the old one (a re-scan)."""
        changed = False
        for finding in findings:
            position = self._index.get(finding.key)
            if position is None:
                self._index[finding.key] = len(self.findings)
                self.findings.append(finding)
                self._join(finding)
            else:
                self.findings[position] = finding
                changed = True
        if changed:
            self._reindex()
        known = set(self.diagnostics)
        self.diagnostics.extend(d for d in diagnostics if d not in known)

    def replace(self, findings: list[Finding], diagnostics: list[Diagnostic], *, cause: str = "the re-plan") -> list[str]:
        """A finished scan's sorted lists. Returns the ids of change-sets whose accept was withdrawn.

        A decision is kept when its change-set (same digest) is still there; when the findings
        that carried it now carry another fix, the new change-set is pending and ``resets``
        says why; when they are gone (fixed, file deleted), the decision is dropped.
        """
        self.findings = list(findings)
        self.diagnostics = list(diagnostics)
        self._reindex()
        withdrawn: list[str] = []
        for cid, decision in list(self.decisions.items()):
            if cid in self._sets:
                continue
            del self.decisions[cid]
            successors = {self._set_of[k] for k in decision.members if k in self._set_of}
            for new in successors:
                if new in self.decisions:
                    continue
                fix = self._sets[new][0].fix
                assert fix is not None
                self.resets[new] = (
                    f"You had accepted this change-set, but {cause} changed it ({_what_changed(decision.fix, fix)}): review it again."
                )
                withdrawn.append(new)
        self.resets = {cid: why for cid, why in self.resets.items() if cid in self._sets and cid not in self.decisions}
        return withdrawn

    def revise(self, findings: Iterable[Finding], *, cause: str) -> list[str]:
        """Replace findings by key (a proof judged their fix): as after a re-plan, an accept on a
        change-set whose fix changed is withdrawn and ``cause`` says why. Returns the withdrawn ids."""
        new = {f.key: f for f in findings}
        return self.replace([new.get(f.key, f) for f in self.findings], self.diagnostics, cause=cause)

    def by_key(self, key: str) -> Finding | None:
        position = self._index.get(key)
        return self.findings[position] if position is not None else None

    # -- change-sets ---------------------------------------------------------------------------
    def set_of(self, finding: Finding) -> str | None:
        """The id of the finding's change-set (None: nothing to accept)."""
        return self._set_of.get(finding.key)

    def members(self, cid: str) -> list[Finding]:
        return list(self._sets.get(cid, ()))

    def change_sets(self, findings: Iterable[Finding] | None = None) -> list[str]:
        """Distinct change-set ids of ``findings`` (all by default), in order."""
        out: dict[str, None] = {}
        for finding in self.findings if findings is None else findings:
            cid = self._set_of.get(finding.key)
            if cid is not None:
                out.setdefault(cid, None)
        return list(out)

    def fix_of(self, cid: str) -> Fix:
        fix = self._sets[cid][0].fix
        assert fix is not None
        return fix

    def reset_reason(self, finding: Finding) -> str | None:
        cid = self.set_of(finding)
        return self.resets.get(cid) if cid is not None else None

    # -- decisions -----------------------------------------------------------------------------
    def is_accepted(self, finding: Finding) -> bool:
        cid = self._set_of.get(finding.key)
        return cid is not None and cid in self.decisions

    @property
    def accepted(self) -> set[str]:
        """Ids of the accepted change-sets that the current plan still holds."""
        return {cid for cid in self.decisions if cid in self._sets}

    def _remember(self) -> None:
        self._undo.append((dict(self.decisions), dict(self.resets)))
        del self._undo[:-100]

    def _set(self, cids: Iterable[str], accepted: bool) -> list[str]:
        changed = []
        for cid in cids:
            if accepted and cid not in self.decisions:
                self.decisions[cid] = Accepted(self.fix_of(cid), frozenset(m.key for m in self._sets[cid]))
                changed.append(cid)
            elif not accepted and cid in self.decisions:
                del self.decisions[cid]
                changed.append(cid)
            self.resets.pop(cid, None)
        return changed

    def accept(self, finding: Finding) -> bool:
        cid = self.set_of(finding)
        if cid is None or cid in self.decisions:
            return False
        self._remember()
        return bool(self._set([cid], True))

    def reject(self, finding: Finding) -> bool:
        cid = self.set_of(finding)
        if cid is None or cid not in self.decisions:
            return False
        self._remember()
        return bool(self._set([cid], False))

    def decide(self, cids: Iterable[str], accepted: bool, *, undoable: bool = True) -> list[str]:
        """Accept (or withdraw) several change-sets as one undoable step; returns those that changed."""
        cids = [c for c in cids if c in self._sets]
        if undoable and any((c in self.decisions) != accepted for c in cids):
            self._remember()
        return self._set(cids, accepted)

    def forget(self, findings: Iterable[Finding]) -> None:
        """Drop the decisions on change-sets that were written (not undoable: the bytes changed)."""
        keys = {f.key for f in findings}
        for cid in [c for c, d in self.decisions.items() if d.members & keys]:
            del self.decisions[cid]
        self._undo.clear()

    def undo(self) -> bool:
        if not self._undo:
            return False
        self.decisions, self.resets = self._undo.pop()
        return True

    def accept_all_safe(self, visible: Iterable[Finding] | None = None) -> list[str]:
        """Accept every safe change-set (of ``visible`` findings) not yet accepted; returns the new ids."""
        cids = [
            cid for cid in self.change_sets(visible) if self.fix_of(cid).applicability is Applicability.SAFE and cid not in self.decisions
        ]
        return self.decide(cids, True)

    def accepted_findings(self) -> list[Finding]:
        """One finding per accepted change-set (the writer writes each change-set once)."""
        return [self._sets[cid][0] for cid in self.change_sets() if cid in self.decisions]

    def accepted_files(self) -> list[str]:
        files: dict[str, None] = {}
        for cid in self.accepted:
            for path in self.fix_of(cid).paths:
                files.setdefault(path, None)
        return sorted(files)

    def counts(self) -> dict[str, int]:
        """Change-sets per applicability, manual findings, decisions and diagnostics."""
        out = {a.value: 0 for a in Applicability}
        for cid in self._sets:
            out[self.fix_of(cid).applicability.value] += 1
        out[Applicability.MANUAL.value] = sum(1 for f in self.findings if self.set_of(f) is None)
        out["accepted"] = len(self.accepted)
        out["accepted_files"] = len(self.accepted_files())
        out["pending"] = len(self._sets) - out["accepted"]
        out["diagnostics"] = len(self.diagnostics)
        out["internal"] = sum(1 for d in self.diagnostics if is_internal(d))
        return out


def is_internal(diagnostic: Diagnostic) -> bool:
    """A crash of migrate-tui itself on this file (not a problem of the file)."""
    return str(getattr(diagnostic.kind, "value", diagnostic.kind)) == "internal"


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

    def matches_diagnostic(self, diagnostic: Diagnostic) -> bool:
        """Diagnostics have no rule nor decision: rule: and is: terms hide them."""
        if self.rules or self.kinds:
            return False
        if self.paths and not any(p in diagnostic.path.lower() for p in self.paths):
            return False
        haystack = f"{diagnostic.path} {getattr(diagnostic.kind, 'value', diagnostic.kind)} {diagnostic.message}".lower()
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
