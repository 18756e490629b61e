"""Applying change-sets: validated, atomic, all-or-nothing per fix, never outside the root.

For each file: the bytes on disk must still be what the scan read (else the fix is skipped and
reported), the edited text must parse back and validate, then it is written to a temporary
file beside it (same mode and owner, fsync'd) and moved over the original with ``os.replace``.

Never outside the root, under ``.git/`` or through a link: every path is checked when the fix is
planned (:func:`repo.safepath.write_path_problem`), and the write itself walks from an opened
root directory one component at a time with ``O_NOFOLLOW`` and creates, renames and fsyncs
relative to the parent's descriptor, so a directory swapped for a symlink after the check is
refused instead of followed. Refusals are typed (:class:`WriteRefusal`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import stat
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Iterable, Iterator

from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.model.findings import Applicability, Diagnostic, DiagnosticKind, Edit, Finding, Fix, text_digest
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.repo.safepath import (
    CONTROL_CHARS,
    PathRefusal,
    UnsafePath,
    describe,
    fd_inside,
    has_control_chars,
    open_dir_beneath,
    open_root,
    remove_empty_dirs,
    write_path_problem,
)
from migrate_tui.repo.sources import SourceFile, decode, encode
from migrate_tui.platform.target import Target
from migrate_tui.parse.yamldoc import Chunk, YamlError, load_chunk, split_documents


class WriteRefusal(StrEnum):
    """Why a fix's file was not written (decide on this, not on the sentence)."""

    EMPTY = "empty"
    ABSOLUTE = "absolute"
    PARENT = "parent"
    GIT = "git"
    CONTROL_CHARACTERS = "control"
    SPECIAL_CHARACTERS = "special"
    NOT_NORMAL = "not-normal"
    SYMLINK = "symlink"
    NOT_DIRECTORY = "not-directory"
    OUTSIDE_ROOT = "outside"
    NOT_REGULAR = "not-regular"
    INVALID_REFERENCE = "invalid-reference"
    CHANGED_ON_DISK = "changed"
    ALREADY_EXISTS = "exists"
    WOULD_NOT_VALIDATE = "invalid"
    UNREADABLE = "unreadable"
    OVERLAPS = "overlaps"  # not refused for good: it waits for the next round (ruff's approach)

    @classmethod
    def of(cls, kind: PathRefusal) -> WriteRefusal:
        return cls(kind.value)


class _Refused(Exception):
    def __init__(self, kind: WriteRefusal, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _path_refused(rel: str, kind: PathRefusal) -> _Refused:
    return _Refused(WriteRefusal.of(kind), f"{rel}: {describe(kind)}; refused")


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    applied: list[Finding] = field(default_factory=list)
    # (finding, reason): not applied this time (file changed on disk, validation failed, conflict)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # (finding, kind) for every fix the writer refused (its sentence is in ``skipped``)
    refused: list[tuple[Finding, WriteRefusal]] = field(default_factory=list)

    def merge(self, other: WriteReport) -> None:
        self.written += [p for p in other.written if p not in self.written]
        self.applied += other.applied
        self.skipped += other.skipped
        self.diagnostics += other.diagnostics
        self.refused += other.refused

    def refuse(self, finding: Finding, kind: WriteRefusal, message: str) -> None:
        self.skipped.append((finding, message))
        self.refused.append((finding, kind))


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
        from migrate_tui.parse.dockerfile.names import is_dockerfile_name

        return _verify_dockerfile(text, before) if is_dockerfile_name(path.rsplit("/", 1)[-1]) else []
    from migrate_tui.platform.validate import validate_object

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
    from migrate_tui.platform.validate import validate_object

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
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile

    known = {message for _, message in parse_dockerfile(before).errors} if before else set()
    return [f"line {line}: {message}" for line, message in parse_dockerfile(text).errors if message not in known]


def apply_fixes(
    root: Path, findings: list[Finding], target: Target, *, unsafe: bool = False, sources: dict[str, SourceFile] | None = None
) -> WriteReport:
    report = WriteReport()
    chosen, waiting = select_fixes(findings, unsafe=unsafe)
    for finding, reason in waiting:
        report.refuse(finding, WriteRefusal.OVERLAPS, reason)
    try:
        root_fd = open_root(root)
    except OSError as exc:
        report.diagnostics.append(Diagnostic(".", 1, DiagnosticKind.WRITE, f"cannot open the root: {exc.strerror or exc}; nothing written"))
        return report
    try:
        while chosen:
            plan, rejected = _plan(root_fd, chosen, target)
            if not rejected:
                break
            for finding, kind, message in rejected:
                report.refuse(finding, kind, message)
            chosen = [f for f in chosen if all(f is not r for r, _, _ in rejected)]
        else:
            return report
    finally:
        os.close(root_fd)
    written = _write_all(root, plan, report)
    report.written += written
    # (select_fixes chose findings with a fix only)
    report.applied += [f for f in chosen if all(p in written for p in f.fix.paths)]  # type: ignore[union-attr]
    report.applied += twins(findings, report.applied)
    return report


@dataclass
class _FilePlan:
    path: str
    source: SourceFile | None  # None: a new file
    text: str
    owners: list[Finding] = field(default_factory=list)


def _plan(root_fd: int, chosen: list[Finding], target: Target) -> tuple[list[_FilePlan], list[tuple[Finding, WriteRefusal, str]]]:
    """New texts per file, and the findings whose fix can't be applied (kind and sentence)."""
    rejected: list[tuple[Finding, WriteRefusal, str]] = []
    current: dict[str, SourceFile | _Refused | None] = {}
    edits: dict[str, list[Edit]] = {}
    owners: dict[str, list[Finding]] = {}
    for finding in chosen:
        fix: Fix = finding.fix  # type: ignore[assignment]  # chosen findings all have a fix (select_fixes)
        refusal: _Refused | None = None
        for path in fix.paths:
            problem = write_path_problem(path)
            if problem is not None:
                refusal = _path_refused(path, problem)
                break
        expected = dict(fix.base_digests)
        for path in fix.paths:
            expected.setdefault(path, None)  # an edited file with no digest must be new
        for path, digest in () if refusal else expected.items():
            problem = write_path_problem(path)
            if problem is not None:
                refusal = _path_refused(path, problem)
                break
            if path not in current:
                current[path] = _read_current(root_fd, path)
            now = current[path]
            if isinstance(now, _Refused):
                refusal = now
            elif digest is None and now is not None:
                refusal = _Refused(WriteRefusal.ALREADY_EXISTS, f"{path} already exists; not overwritten")
            elif digest is not None and (now is None or now.digest != digest):
                refusal = _Refused(WriteRefusal.CHANGED_ON_DISK, f"{path} changed on disk since the scan; not written (scan again)")
            if refusal:
                break
        if refusal:
            rejected.append((finding, refusal.kind, refusal.message))
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
        refusal = content_refusal(path, text, before)
        if refusal is None:
            problems = verify_text(path, text, before, target)
            if problems:
                refusal = _Refused(WriteRefusal.WOULD_NOT_VALIDATE, f"{path}: the rewrite would not validate: {problems[0]}")
        if refusal is not None:
            for finding in owners[path]:
                rejected.append((finding, refusal.kind, refusal.message))
            continue
        plans.append(_FilePlan(path, source if isinstance(source, SourceFile) else None, text, owners[path]))
    return plans, rejected


# --------------------------------------------------------------------------- what is written

# Keys whose values are paths, names or image references: a fix never writes a new one with
# control characters, and a new reference must be a valid OCI reference, exactly as written.
_PATH_KEYS = frozenset({"mountPath", "subPath", "subPathExpr", "name", "path", "claimName"})
_REFERENCE_KEYS = frozenset({"reference", "image"})


def _count_controls(text: str) -> int:
    return sum(1 for m in CONTROL_CHARS.finditer(text) if m.group() not in "\n\t\r")


def content_refusal(path: str, text: str, before: str | None) -> _Refused | None:
    """Why the new text of ``path`` must not be written: control characters it adds, or (YAML)
    a new path/name with control characters or a new image reference that is not valid."""
    if _count_controls(text) > _count_controls(before or ""):
        return _Refused(WriteRefusal.CONTROL_CHARACTERS, f"{path}: the rewrite would add control characters; refused")
    if not path.lower().endswith((".yaml", ".yml")):
        return None
    new_bodies = _bodies(text)
    old_bodies = _bodies(before) if before is not None else {}
    old = _scalars(before, [c for b, c in old_bodies.items() if b not in new_bodies]) if before is not None else set()
    for key, value in sorted(_scalars(text, [c for b, c in new_bodies.items() if b not in old_bodies]) - old):
        if has_control_chars(value) and (key in _PATH_KEYS or key in _REFERENCE_KEYS):
            return _Refused(WriteRefusal.CONTROL_CHARACTERS, f"{path}: the rewrite would write a {key} with control characters; refused")
        if key in _REFERENCE_KEYS and (value != value.strip() or parse_image_ref(value) is None):
            return _Refused(
                WriteRefusal.INVALID_REFERENCE, f"{path}: the rewrite would write {json.dumps(value)}, not a valid image reference; refused"
            )
    return None


def _bodies(text: str) -> dict[str, Chunk]:
    return {text[c.start : c.end]: c for c in split_documents(text)}


def _scalars(text: str, chunks: list[Chunk]) -> set[tuple[str, str]]:
    """(key, string value) pairs of every mapping in the given documents (those that load)."""
    out: set[tuple[str, str]] = set()
    for chunk in chunks:
        try:
            data = load_chunk(text, chunk)
        except YamlError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(value, str) and isinstance(key, str):
                        out.add((key, value))
                    elif isinstance(value, (dict, list)):
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(v for v in node if isinstance(v, (dict, list)))
    return out


# --------------------------------------------------------------------------- reading and writing by descriptor

_FILE_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_TMP_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _split(rel: str) -> tuple[list[str], str]:
    parts = rel.split("/")
    return parts[:-1], parts[-1]


def _read_current(root_fd: int, rel: str) -> SourceFile | _Refused | None:
    """The file as it is now (None: it does not exist), read without following any link."""
    parents, name = _split(rel)
    try:
        dir_fd = open_dir_beneath(root_fd, parents, rel=rel)
    except FileNotFoundError:
        return None
    except UnsafePath as exc:
        return _path_refused(rel, exc.kind)
    except OSError as exc:
        return _Refused(WriteRefusal.UNREADABLE, f"{rel}: cannot open its directory: {exc.strerror or exc}")
    try:
        return _read_in(dir_fd, rel, name)
    finally:
        os.close(dir_fd)


def _read_in(dir_fd: int, rel: str, name: str) -> _OnDisk | _Refused | None:
    try:
        fd = os.open(name, _FILE_READ, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        try:
            if stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode):
                return _Refused(WriteRefusal.SYMLINK, f"{rel} is a symlink; migrate-tui never writes through a link")
        except OSError:
            pass
        return _Refused(WriteRefusal.UNREADABLE, f"{rel}: cannot read: {exc.strerror or exc}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _Refused(WriteRefusal.NOT_REGULAR, f"{rel} is not a regular file; not written")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except OSError as exc:
        return _Refused(WriteRefusal.UNREADABLE, f"{rel}: cannot read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    decoded = decode(rel, b"".join(chunks))
    if isinstance(decoded, Diagnostic):
        return _Refused(WriteRefusal.UNREADABLE, f"{rel}: {decoded.message}")
    text, bom, newline = decoded
    # uid/gid by keyword: positionally they would land in SourceFile's stat_key and uid
    return _OnDisk(rel, Path(rel), text, newline, bom, stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_size, uid=st.st_uid, gid=st.st_gid)


@dataclass(frozen=True)
class _OnDisk(SourceFile):
    """A file as the writer read it through a descriptor: with its owner, to keep it."""

    uid: int = -1
    gid: int = -1


@dataclass
class _Staged:
    plan: _FilePlan
    dir_fd: int
    name: str
    tmp: str


def _write_all(root: Path, plans: list[_FilePlan], report: WriteReport) -> list[str]:
    """Stage every file first, then swap them in: a failure or refusal while staging writes nothing.

    Each file is written relative to its parent directory's descriptor, opened from the root
    without following links, and the file must still be what the plan read. ^C while staging
    removes the temporary files and writes nothing; the swap itself runs with SIGINT held back,
    so an interrupted ``--fix`` leaves each file either old or new, never half-written, and no
    temporary file behind.
    """
    if not plans:
        return []
    real_root = os.path.realpath(root)
    dirs: dict[tuple[str, ...], int] = {}
    created: list[tuple[str, ...]] = []
    staged: list[_Staged] = []
    current: _FilePlan | None = None
    try:
        root_fd = open_root(root)
        try:
            for plan in plans:
                current = plan
                parents, name = _split(plan.path)
                key = tuple(parents)
                if key not in dirs:
                    dirs[key] = open_dir_beneath(root_fd, parents, create=True, rel=plan.path, created=created)
                dir_fd = dirs[key]
                if not fd_inside(dir_fd, real_root):
                    raise _path_refused(plan.path, PathRefusal.OUTSIDE)
                fresh = _still_as_planned(dir_fd, plan, name)
                data = encode(plan.source, plan.text) if plan.source else plan.text.encode("utf-8")
                tmp = f".{name[:180]}.{secrets.token_hex(4)}.migrate-tui"
                with _sigint_held():  # a ^C between creating the temp file and recording it would leak it
                    fd = os.open(tmp, _TMP_CREATE, 0o600, dir_fd=dir_fd)
                    staged.append(_Staged(plan, dir_fd, name, tmp))
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    _copy_metadata(fh.fileno(), fresh)
                    os.fsync(fh.fileno())
            current = None
            for item in staged:  # last look before the swap: nothing moved out, nothing appeared
                current = item.plan
                if not fd_inside(item.dir_fd, real_root):
                    raise _path_refused(item.plan.path, PathRefusal.OUTSIDE)
                _still_as_planned(item.dir_fd, item.plan, item.name)
            current = None
        except BaseException:
            with _sigint_held():  # a second ^C must not stop the clean-up half way
                for item in staged:
                    _unlink_quietly(item.tmp, item.dir_fd)
                _close_all(dirs)
                remove_empty_dirs(root_fd, created)  # nothing written: no directory left behind either
            raise
        finally:
            os.close(root_fd)
    except BaseException as exc:
        rel = current.path if current is not None else plans[0].path
        if isinstance(exc, UnsafePath):
            exc = _path_refused(rel, exc.kind)
        if isinstance(exc, _Refused):
            owners = current.owners if current is not None else []
            for finding in owners:
                report.refuse(finding, exc.kind, exc.message)
            others = {id(f): f for p in plans for f in p.owners if all(f is not o for o in owners)}
            report.skipped += [(f, f"not written: {rel} was refused in the same run") for f in others.values()]
            return []
        if not isinstance(exc, OSError):
            raise
        report.diagnostics.append(Diagnostic(rel, 1, DiagnosticKind.WRITE, f"cannot write: {exc.strerror or exc}; nothing written"))
        return []
    written = []
    try:
        with _sigint_held():
            try:
                for item in staged:
                    os.replace(item.tmp, item.name, src_dir_fd=item.dir_fd, dst_dir_fd=item.dir_fd)
                    written.append(item.plan.path)
            finally:
                for item in staged:
                    if item.plan.path not in written:
                        _unlink_quietly(item.tmp, item.dir_fd)
        for fd in dirs.values():
            _fsync_fd(fd)
    finally:
        _close_all(dirs)
    return written


def _still_as_planned(dir_fd: int, plan: _FilePlan, name: str) -> _OnDisk | None:
    """Raise :class:`_Refused` unless the file is still what the plan read (or still absent)."""
    now = _read_in(dir_fd, plan.path, name)
    if isinstance(now, _Refused):
        raise now
    if plan.source is None and now is not None:
        raise _Refused(WriteRefusal.ALREADY_EXISTS, f"{plan.path} already exists; not overwritten")
    if plan.source is not None and (now is None or now.digest != plan.source.digest):
        raise _Refused(WriteRefusal.CHANGED_ON_DISK, f"{plan.path} changed on disk since the scan; not written (scan again)")
    return now


def _close_all(dirs: dict[tuple[str, ...], int]) -> None:
    for fd in dirs.values():
        try:
            os.close(fd)
        except OSError:
            pass
    dirs.clear()


def _unlink_quietly(name: str, dir_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
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


def _copy_metadata(fd: int, source: _OnDisk | None) -> None:
    """The new file gets the old one's mode and owner (as read through the descriptor)."""
    if source is None:
        os.fchmod(fd, 0o644 & ~_UMASK)
        return
    os.fchmod(fd, source.mode & 0o7777)
    if source.uid >= 0 and hasattr(os, "fchown"):
        try:
            os.fchown(fd, source.uid, source.gid)
        except PermissionError:
            pass


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import (the main thread): os.umask() changes process state, so calling it from a
# TUI worker thread could race with other threads creating files.
_UMASK = _read_umask()


def _fsync_fd(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:
        pass


def digest_of(text: str) -> str:
    return text_digest(text)
