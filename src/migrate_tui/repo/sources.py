"""Reading files safely: one ``SourceFile`` per readable text file, or a ``Diagnostic`` saying why not.

Never follows a symlink out of the root, never opens FIFOs or devices, never reads past the size
limit, and folds BOM / CRLF into a normalised text that every rule sees (the writer restores them).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from migrate_tui.model.findings import Diagnostic, DiagnosticKind, text_digest

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
_BINARY_SNIFF = 8192


@dataclass(frozen=True)
class SourceFile:
    path: str  # POSIX, relative to root
    # where it was read: the scan's absolute path string (``abspath`` makes the Path on demand;
    # a Path per file cost more than reading it), or the writer's root-relative Path
    location: str | Path
    text: str  # normalised: no BOM, LF line endings
    newline: str  # "\n" or "\r\n" (the file's dominant ending)
    bom: bool
    mode: int
    mtime_ns: int
    size: int
    # (size, mtime_ns, ctime_ns, inode) of the regular file as stat'ed before it was read, for
    # the result cache (``pipeline.cache``); None when it was read through a symlink
    stat_key: tuple[int, int, int, int] | None = field(default=None, compare=False)

    @property
    def abspath(self) -> Path:
        return Path(self.location)

    @property
    def digest(self) -> str:
        return text_digest(self.text)

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def relpath(root: Path, path: Path | str) -> str:
    fast = _rel_below(str(root), str(path))
    return fast if fast is not None else Path(os.path.relpath(path, root)).as_posix()


@lru_cache(maxsize=64)
def _plain_root(root: str) -> bool:
    """An absolute, normalised root, so a path below it is the root, '/', and the rest."""
    return os.path.isabs(root) and os.path.normpath(root) == root and not root.startswith("//") and root != "/"


def _rel_below(root: str, path: str) -> str | None:
    """``os.path.relpath`` for a normalised path strictly below a normalised root (what the walk
    produces), without its cost; None in every other case."""
    if os.sep != "/" or not path.startswith(root) or path[len(root) : len(root) + 1] != "/" or not _plain_root(root):
        return None
    rest = path[len(root) + 1 :]
    parts = rest.split("/")
    if "" in parts or "." in parts or ".." in parts:
        return None
    return rest


def is_inside(root: Path, path: Path | str) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True


def read_source(root: Path, path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceFile | Diagnostic:
    rel = relpath(root, path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Diagnostic(rel, 1, DiagnosticKind.UNREADABLE, "file vanished during the scan")
    except OSError as exc:
        return Diagnostic(rel, 1, DiagnosticKind.UNREADABLE, f"cannot stat: {exc.strerror or exc}")
    key = stat_key(st)
    if stat.S_ISLNK(st.st_mode):
        if not is_inside(root, path):
            return Diagnostic(rel, 1, DiagnosticKind.SYMLINK, f"symlink points outside the repository ({os.readlink(path)}); not read")
        try:
            st = os.stat(path)
        except OSError:
            return Diagnostic(rel, 1, DiagnosticKind.SYMLINK, "dangling or looping symlink; not read")
    if not stat.S_ISREG(st.st_mode):
        return Diagnostic(rel, 1, DiagnosticKind.SPECIAL, "not a regular file (FIFO, socket or device); not opened")
    if st.st_size > max_bytes:
        return Diagnostic(rel, 1, DiagnosticKind.SIZE, f"file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit; skipped")
    try:
        # O_NONBLOCK: a FIFO swapped in after the lstat must not hang the scan.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                return Diagnostic(rel, 1, DiagnosticKind.SPECIAL, "not a regular file; not read")
            raw = read_fd(fd, max_bytes + 1, min(opened.st_size, max_bytes) + 1)
        finally:
            os.close(fd)
    except PermissionError:
        return Diagnostic(rel, 1, DiagnosticKind.UNREADABLE, "permission denied")
    except OSError as exc:
        return Diagnostic(rel, 1, DiagnosticKind.UNREADABLE, f"cannot read: {exc.strerror or exc}")
    if len(raw) > max_bytes:
        return Diagnostic(rel, 1, DiagnosticKind.SIZE, f"file grew over the {max_bytes:,}-byte limit while reading; skipped")
    decoded = decode(rel, raw)
    if isinstance(decoded, Diagnostic):
        return decoded
    text, bom, newline = decoded
    return SourceFile(rel, os.fspath(path), text, newline, bom, stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_size, key)


def stat_key(st: os.stat_result) -> tuple[int, int, int, int] | None:
    """What tells a regular file's content apart without reading it, as far as a cache may trust:
    size, mtime and ctime (which no tool can set back) in nanoseconds, and the inode (a file
    replaced by another). None for anything but a regular file."""
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def read_fd(fd: int, limit: int, hint: int) -> bytes:
    """At most ``limit`` bytes of ``fd``. The first read asks for ``hint`` bytes (the size the file
    had, plus one, so one read and the end-of-file read suffice), later ones for 1 MiB; plain
    ``os.read`` calls: a buffered file object per file cost more than the reading."""
    chunks: list[bytes] = []
    total = 0
    want = hint
    while total < limit:
        chunk = os.read(fd, min(want, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = 1 << 20
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode(rel: str, raw: bytes) -> tuple[str, bool, str] | Diagnostic:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Diagnostic(rel, 1, DiagnosticKind.ENCODING, "UTF-16 file (byte-order mark); only UTF-8 is read")
    bom = raw.startswith(b"\xef\xbb\xbf")
    if bom:
        raw = raw[3:]
    nul = raw.find(b"\0", 0, _BINARY_SNIFF)
    if nul >= 0:
        return Diagnostic(rel, raw.count(b"\n", 0, nul) + 1, DiagnosticKind.BINARY, "binary file (NUL byte); skipped")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return Diagnostic(rel, line, DiagnosticKind.ENCODING, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); skipped")
    crlf = text.count("\r\n")
    # Only a file that is CRLF throughout is folded; a mixed file keeps its bytes as they are.
    newline = "\r\n" if crlf and crlf == text.count("\n") else "\n"
    if newline == "\r\n":
        text = text.replace("\r\n", "\n")
    return text, bom, newline


def encode(source: SourceFile, text: str) -> bytes:
    """The bytes to write for ``text`` (normalised) with the source's BOM and line endings."""
    if source.newline == "\r\n":
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if source.bom else data
