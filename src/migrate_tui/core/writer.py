"""Applying change-sets: validated, atomic, all-or-nothing per fix, never outside the root.

For each file: the bytes on disk must still be what the scan read (else the fix is skipped and
reported), the edited text must parse back and validate, then it is written to a temporary
file beside it (same mode and owner, fsync'd) and moved over the original with ``os.replace``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .model import Applicability, Diagnostic, Edit, Finding, Fix, text_digest
from .podspec import find_pod_specs
from .sources import SourceFile, encode, is_inside, read_source
from .target import Target
from .yamldoc import YamlError, load_chunk, split_documents


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    applied: list[Finding] = field(default_factory=list)
    # (finding, reason): not applied this time (file changed on disk, validation failed, conflict)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def merge(self, other: WriteReport) -> None:
        self.written += [p for p in other.written if p not in self.written]
        self.applied += other.applied
        self.skipped += other.skipped
        self.diagnostics += other.diagnostics


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.content + text[edit.end :]
    return text


def select_fixes(findings: Iterable[Finding], *, unsafe: bool) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """Fixes to apply now, and those that wait (overlap with an earlier one) — ruff's approach."""
    chosen: list[Finding] = []
    waiting: list[tuple[Finding, str]] = []
    for finding in findings:
        fix = finding.fix
        if fix is None or fix.applicability is Applicability.MANUAL:
            continue
        if fix.applicability is Applicability.UNSAFE and not unsafe:
            continue
        if any(other.fix is not None and other.fix.edits == fix.edits for other in chosen):
            continue  # the same change-set reached through another finding (IV001 and DF001): one write
        if any(fix.conflicts_with(other.fix) for other in chosen if other.fix):
            waiting.append((finding, "overlaps another fix in the same document; applied in the next round"))
            continue
        chosen.append(finding)
    return chosen, waiting


def twins(findings: Iterable[Finding], applied: list[Finding]) -> list[Finding]:
    """Findings whose change-set is identical to one that was applied."""
    done = [f.fix.edits for f in applied if f.fix is not None]
    return [f for f in findings if f.fix is not None and all(f is not a for a in applied) and f.fix.edits in done]


def verify_text(path: str, text: str, before: str | None, target: Target) -> list[str]:
    """Problems with the new text of ``path``: it must parse, and changed documents must validate."""
    if not path.lower().endswith((".yaml", ".yml")):
        return _verify_dockerfile(text, before) if "dockerfile" in path.lower() or "containerfile" in path.lower() else []
    from .validate import validate_object

    old_chunks = set()
    if before is not None:
        old_chunks = {before[c.start : c.end] for c in split_documents(before)}
    problems: list[str] = []
    for chunk in split_documents(text):
        body = text[chunk.start : chunk.end]
        try:
            data = load_chunk(text, chunk)
        except YamlError as err:
            problems.append(f"line {err.line}: {err.message}")
            continue
        if body in old_chunks or not isinstance(data, dict):
            continue
        paths = [ref.path for ref in find_pod_specs(data)]
        new_errors = validate_object(data, target.schema_version, paths)
        if new_errors:
            old_errors = set(_old_errors(before, chunk.index, target)) if before is not None else set()
            problems += [f"line {chunk.line}: {e}" for e in new_errors if e not in old_errors]
    return problems


def _old_errors(before: str, index: int, target: Target) -> list[str]:
    from .validate import validate_object

    chunks = split_documents(before)
    if index >= len(chunks):
        return []
    try:
        data = load_chunk(before, chunks[index])
    except YamlError:
        return []
    if not isinstance(data, dict):
        return []
    return validate_object(data, target.schema_version, [ref.path for ref in find_pod_specs(data)])


def _verify_dockerfile(text: str, before: str | None) -> list[str]:
    """Parser errors the edit introduced (errors the file already had don't block a fix)."""
    from ..dockerfile.parser import parse_dockerfile

    known = {message for _, message in parse_dockerfile(before).errors} if before else set()
    return [f"line {line}: {message}" for line, message in parse_dockerfile(text).errors if message not in known]


def apply_fixes(root: Path, findings: list[Finding], target: Target, *, unsafe: bool = False,
                sources: dict[str, SourceFile] | None = None) -> WriteReport:
    report = WriteReport()
    chosen, waiting = select_fixes(findings, unsafe=unsafe)
    report.skipped += waiting
    while chosen:
        plan, rejected = _plan(root, chosen, target, sources or {})
        if not rejected:
            break
        report.skipped += rejected
        chosen = [f for f in chosen if all(f is not r for r, _ in rejected)]
    else:
        return report
    written = _write_all(root, plan, report)
    report.written += written
    report.applied += [f for f in chosen if all(p in written for p in f.fix.paths)]  # type: ignore[union-attr]
    report.applied += twins(findings, report.applied)
    return report


@dataclass
class _FilePlan:
    path: str
    source: SourceFile | None  # None: a new file
    text: str


def _plan(root: Path, chosen: list[Finding], target: Target, sources: dict[str, SourceFile]):
    """New texts per file, and the findings whose fix can't be applied (with the reason)."""
    rejected: list[tuple[Finding, str]] = []
    current: dict[str, SourceFile | None] = {}
    edits: dict[str, list[Edit]] = {}
    owners: dict[str, list[Finding]] = {}
    for finding in chosen:
        fix: Fix = finding.fix  # type: ignore[assignment]
        reason = None
        for path, digest in fix.base_digests or tuple((p, None) for p in fix.paths):
            if path not in current:
                current[path] = _read_current(root, path)
            now = current[path]
            if isinstance(now, Diagnostic):
                reason = now.message
            elif digest is None and now is not None:
                reason = f"{path} already exists; not overwritten"
            elif digest is not None and (now is None or now.digest != digest):
                reason = f"{path} changed on disk since the scan; not written (scan again)"
            if reason:
                break
        if reason:
            rejected.append((finding, reason))
            continue
        for edit in fix.edits:
            edits.setdefault(edit.path, []).append(edit)
            owners.setdefault(edit.path, []).append(finding)
    if rejected:
        return [], rejected
    plans = []
    for path, file_edits in edits.items():
        source = current.get(path)
        before = source.text if isinstance(source, SourceFile) else None
        text = apply_edits(before or "", file_edits)
        problems = verify_text(path, text, before, target)
        if problems:
            for finding in owners[path]:
                rejected.append((finding, f"{path}: the rewrite would not validate: {problems[0]}"))
            continue
        plans.append(_FilePlan(path, source if isinstance(source, SourceFile) else None, text))
    return plans, rejected


def _read_current(root: Path, rel: str) -> SourceFile | Diagnostic | None:
    path = root / rel
    if not is_inside(root, path.parent):
        return Diagnostic(rel, 1, "write", "outside the repository root; refused")
    if path.is_symlink():
        return Diagnostic(rel, 1, "write", "is a symlink; migrate-tui never writes through a link")
    if not path.exists():
        return None
    return read_source(root, path, max_bytes=1 << 40)


def _write_all(root: Path, plans: list[_FilePlan], report: WriteReport) -> list[str]:
    """Stage every file first, then swap them in: a failure while staging writes nothing.

    ^C while staging removes the temporary files and writes nothing; the swap itself runs with
    SIGINT held back, so an interrupted ``--fix`` leaves each file either old or new, never
    half-written, and no temporary file behind.
    """
    staged: list[tuple[str, Path, Path]] = []
    try:
        for plan in plans:
            target_path = root / plan.path
            data = encode(plan.source, plan.text) if plan.source else plan.text.encode("utf-8")
            target_path.parent.mkdir(parents=True, exist_ok=True)
            with _sigint_held():  # a ^C between creating the temp file and recording it would leak it
                fd, tmp = tempfile.mkstemp(prefix=f".{target_path.name}.", suffix=".migrate-tui", dir=target_path.parent)
                staged.append((plan.path, Path(tmp), target_path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            _copy_metadata(target_path, Path(tmp), plan.source)
    except BaseException as exc:
        with _sigint_held():  # a second ^C must not stop the clean-up half way
            for _, tmp, _ in staged:
                _unlink_quietly(tmp)
        if not isinstance(exc, OSError):
            raise
        report.diagnostics.append(Diagnostic(plans[len(staged) - 1].path if staged else plans[0].path, 1, "write",
                                             f"cannot write: {exc.strerror or exc}; nothing written"))
        return []
    written = []
    with _sigint_held():
        try:
            for rel, tmp, target_path in staged:
                os.replace(tmp, target_path)
                written.append(rel)
        finally:
            for rel, tmp, _ in staged:
                if rel not in written:
                    _unlink_quietly(tmp)
    for directory in {t.parent for _, _, t in staged}:
        _fsync_dir(directory)
    return written


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@contextlib.contextmanager
def _sigint_held():
    """Hold SIGINT back (it is delivered on exit) while a change-set is swapped in."""
    can_block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if not can_block:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _copy_metadata(original: Path, tmp: Path, source: SourceFile | None) -> None:
    if source is None:
        os.chmod(tmp, 0o644 & ~_UMASK)
        return
    st = os.stat(original)
    os.chmod(tmp, st.st_mode & 0o7777)
    if hasattr(os, "chown"):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import (the main thread): os.umask() changes process state, so calling it from a
# TUI worker thread could race with other threads creating files.
_UMASK = _read_umask()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def digest_of(text: str) -> str:
    return text_digest(text)
