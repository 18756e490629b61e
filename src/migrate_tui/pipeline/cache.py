"""Per-file scan results kept between runs, so a second ``check`` on a big tree only re-reads.

An entry is reused only when the file's normalised text has the same sha256 as when it was
scanned, and the whole cache is dropped when anything that could change a result changes: the
package's own source files, the configuration, the mode, the enabled rules. Files whose result
depended on *other* files (a rule asked the project for another file, whether a file exists, or
the image → Dockerfile links) are reused only while those still read the same.

The cache lives in the user's cache directory (``$MIGRATE_TUI_CACHE_DIR``, else
``$XDG_CACHE_HOME/migrate-tui``, else ``~/.cache/migrate-tui``), never in the scanned
repository: it is a pickle, and a pickle committed to a repository would run code when read.
The directory must belong to the current user and not be writable by others, or it is ignored;
it and the cache file are opened without following a symlink, and the file is replaced
atomically relative to the directory's descriptor.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: nothing more to import on a warm scan
    from typing import Literal

    from migrate_tui.model.findings import Diagnostic, Finding

    # What a cached result depended on besides its own file (``engine._TrackingProject``): another
    # file's digest (None: not a readable text file), whether a file exists, the link index's fingerprint.
    ReadDep = tuple[Literal["read"], str, str | None]
    ExistsDep = tuple[Literal["exists"], str, bool]
    LinksDep = tuple[Literal["links"], str]
    Dep = ReadDep | ExistsDep | LinksDep
    StatKey = tuple[int, int, int, int]  # SourceFile.stat_key: size, mtime_ns, ctime_ns, inode
    # (text digest, pickled (findings, diagnostics), dependencies, stat key when it was read or None)
    CacheEntry = tuple[str, bytes, tuple[Dep, ...], StatKey | None]

FORMAT = 3
MAX_ENTRIES = 500_000
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def cache_dir() -> Path:
    explicit = os.environ.get("MIGRATE_TUI_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migrate-tui"


def code_fingerprint() -> str:
    """Changes whenever a module of the package changes (a development checkout included)."""
    import migrate_tui

    package = Path(migrate_tui.__file__).parent
    digest = hashlib.sha256(getattr(migrate_tui, "__version__", "").encode())
    for directory, dirs, files in sorted(os.walk(package)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(directory, name))
                digest.update(f"{directory}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class ScanCache:
    """rel path -> (text digest, pickled (findings, diagnostics), dependencies); loaded once, saved at the end."""

    def __init__(self, root: Path, fingerprint: str, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir()
        key = hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:24]
        self.path = self.directory / f"scan-{key}.pickle"
        self.fingerprint = fingerprint
        self.entries: dict[str, CacheEntry] = {}
        self.dirty = False
        self._load()

    @staticmethod
    def _trusted_stat(st: os.stat_result) -> bool:
        owned = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
        return owned and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)) and not stat.S_ISLNK(st.st_mode)

    def _trusted(self, path: Path) -> bool:
        try:
            return self._trusted_stat(os.lstat(path))
        except OSError:
            return False

    def _open_directory(self) -> int | None:
        """The cache directory's descriptor, if it is ours and not a link."""
        try:
            fd = os.open(self.directory, _DIR_FLAGS)
        except OSError:
            return None
        try:
            if stat.S_ISDIR(os.fstat(fd).st_mode) and self._trusted_stat(os.fstat(fd)):
                return fd
        except OSError:
            pass
        os.close(fd)
        return None

    def _load(self) -> None:
        dir_fd = self._open_directory()
        if dir_fd is None:
            return
        try:
            fd = os.open(self.path.name, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=dir_fd)
        except OSError:
            return
        finally:
            os.close(dir_fd)
        try:
            st = os.fstat(fd)
            if not (stat.S_ISREG(st.st_mode) and self._trusted_stat(st)):
                return
            with os.fdopen(fd, "rb", closefd=False) as fh:
                header, entries = pickle.load(fh)
        except Exception:  # a torn or foreign cache file is just a miss
            return
        finally:
            os.close(fd)
        if header == (FORMAT, self.fingerprint) and isinstance(entries, dict):
            self.entries = entries

    def entry_for(self, rel: str) -> CacheEntry | None:
        return self.entries.get(rel)

    def put(self, rel: str, entry: CacheEntry | None) -> None:
        if entry is None:
            if self.entries.pop(rel, None) is not None:
                self.dirty = True
            return
        if self.entries.get(rel) != entry:
            self.entries[rel] = entry
            self.dirty = True

    def save(self) -> None:
        if not self.dirty or len(self.entries) > MAX_ENTRIES:
            return
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return  # a read-only home is not an error; the next run is just cold
        dir_fd = self._open_directory()
        if dir_fd is None:
            return
        tmp = f".scan-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=dir_fd)
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(((FORMAT, self.fingerprint), self.entries), fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                try:
                    os.unlink(tmp, dir_fd=dir_fd)
                except OSError:
                    pass
                raise
        except OSError:
            return
        finally:
            os.close(dir_fd)
        self.dirty = False


# A stat key is trusted only for a file whose last change (its ctime) was this long before the
# scan read it: a change in the same clock tick as the read could otherwise leave the key as it was.
RACY_NS = 2_000_000_000


def make_entry(
    digest: str, findings: list[Finding], diagnostics: list[Diagnostic], deps: tuple[Dep, ...] = (), source: Any = None, read_ns: int = 0
) -> CacheEntry:
    """(text digest, pickled results, what else the result depended on: see
    engine._TrackingProject, the file's stat key when it was read or None)."""
    results = _NOTHING if not findings and not diagnostics else pickle.dumps((findings, diagnostics), protocol=pickle.HIGHEST_PROTOCOL)
    return (digest, results, deps, _trusted_key(source, read_ns))


def _trusted_key(source: Any, read_ns: int) -> StatKey | None:
    key: StatKey | None = getattr(source, "stat_key", None)
    if key is None or not read_ns or key[2] >= read_ns - RACY_NS:
        return None  # changed just before it was read: read it again next time
    return key


def with_stat_key(entry: CacheEntry, source: Any, read_ns: int) -> CacheEntry:
    """``entry`` (its text still has the digest) with the key of the file as read at ``read_ns``."""
    return entry[0], entry[1], entry[2], _trusted_key(source, read_ns)


def unchanged(path: Any, entry: CacheEntry) -> bool:
    """Is the file still the one the entry's stat key describes (so its text still has the
    entry's digest)? One ``lstat``; False when the entry has no key."""
    key = entry[3] if len(entry) > 3 else None
    if key is None:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) == key


_NOTHING = pickle.dumps(([], []), protocol=pickle.HIGHEST_PROTOCOL)


def loads_result(entry: CacheEntry) -> tuple[list[Finding], list[Diagnostic]] | None:
    """The entry's (findings, diagnostics), or None when they don't unpickle."""
    if entry[1] == _NOTHING:  # most files: no need to unpickle
        return [], []
    try:
        findings, diagnostics = pickle.loads(entry[1])
    except Exception:
        return None
    return findings, diagnostics


def fingerprint_of(*parts: Any) -> str:
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        digest.update(repr(part).encode())
    return digest.hexdigest()
