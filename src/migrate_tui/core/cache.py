"""Per-file scan results kept between runs, so a second ``check`` on a big tree only re-reads.

An entry is reused only when the file's normalised text has the same sha256 as when it was
scanned, and the whole cache is dropped when anything that could change a result changes: the
package's own source files, the configuration, the mode, the enabled rules. Files whose result
depended on *other* files (a rule asked the project for another file, whether a file exists, or
the image → Dockerfile links) are reused only while those still read the same.

The cache lives in the user's cache directory (``$MIGRATE_TUI_CACHE_DIR``, else
``$XDG_CACHE_HOME/migrate-tui``, else ``~/.cache/migrate-tui``), never in the scanned
repository: it is a pickle, and a pickle committed to a repository would run code when read.
The directory must belong to the current user and not be writable by others, or it is ignored.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 2
MAX_ENTRIES = 500_000


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
        self.entries: dict[str, tuple] = {}
        self.dirty = False
        self._load()

    def _trusted(self, path: Path) -> bool:
        try:
            st = os.lstat(path)
        except OSError:
            return False
        owned = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
        return owned and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)) and not stat.S_ISLNK(st.st_mode)

    def _load(self) -> None:
        if not (self._trusted(self.directory) and self._trusted(self.path)):
            return
        try:
            with open(self.path, "rb") as fh:
                header, entries = pickle.load(fh)
        except Exception:  # a torn or foreign cache file is just a miss
            return
        if header == (FORMAT, self.fingerprint) and isinstance(entries, dict):
            self.entries = entries

    def entry_for(self, rel: str) -> tuple | None:
        return self.entries.get(rel)

    def put(self, rel: str, entry: tuple | None) -> None:
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
            if not self._trusted(self.directory):
                return
            fd, tmp = tempfile.mkstemp(prefix=".scan-", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(((FORMAT, self.fingerprint), self.entries), fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return  # a read-only home is not an error; the next run is just cold
        self.dirty = False


def make_entry(digest: str, findings: list, diagnostics: list, deps: tuple = ()) -> tuple:
    """(text digest, pickled results, what else the result depended on: see engine._TrackingProject)."""
    return digest, pickle.dumps((findings, diagnostics), protocol=pickle.HIGHEST_PROTOCOL), deps


def fingerprint_of(*parts: Any) -> str:
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        digest.update(repr(part).encode())
    return digest.hexdigest()
