"""Where migrate-tui may write, and how a path or name is spelled in what it writes.

Two halves:

- pure checks: :func:`write_path_problem` says why a root-relative path must never be written
  (absolute, ``..``, a ``.git`` component, control characters...), :func:`dockerfile_word`
  spells a path for a Dockerfile (plain, JSON-quoted, or refused), both as a typed
  :class:`PathRefusal`;
- directory file descriptors: :func:`open_dir_beneath` walks from an opened root one component
  at a time with ``O_NOFOLLOW``, so a directory swapped for a symlink after the check is never
  followed; callers then create, read and rename *relative to that descriptor*.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from enum import StrEnum

__all__ = [
    "CONTROL_CHARS",
    "PathRefusal",
    "UnsafePath",
    "describe",
    "dockerfile_word",
    "fd_inside",
    "has_control_chars",
    "open_dir_beneath",
    "open_root",
    "remove_empty_dirs",
    "write_path_problem",
]


class PathRefusal(StrEnum):
    """Why a path (or a name used as one) is not written."""

    EMPTY = "empty"
    ABSOLUTE = "absolute"
    PARENT = "parent"  # a `..` component
    GIT = "git"  # a `.git` component: hooks and config run code
    CONTROL = "control"  # newline, ESC, NUL, Unicode line separators, bidi controls
    SPECIAL = "special"  # characters a builder or another OS reinterprets ($, \, quotes, globs)
    NOT_NORMAL = "not-normal"  # empty or `.` components (`a//b`, `a/./b`)
    SYMLINK = "symlink"  # a directory on the way is a symlink
    NOT_DIRECTORY = "not-directory"  # a component on the way is a file
    OUTSIDE = "outside"  # the opened directory is not below the root any more


_SENTENCES = {
    PathRefusal.EMPTY: "the path is empty",
    PathRefusal.ABSOLUTE: "the path is absolute, outside the repository",
    PathRefusal.PARENT: "the path climbs with `..`, outside the repository",
    PathRefusal.GIT: "the path is under .git/, which migrate-tui never writes",
    PathRefusal.CONTROL: "the path contains control characters (newline, escape...), which migrate-tui never writes",
    PathRefusal.SPECIAL: "the path contains characters a builder would reinterpret ($, \\, quotes or glob characters)",
    PathRefusal.NOT_NORMAL: "the path has empty or `.` components",
    PathRefusal.SYMLINK: "a directory on the way is a symlink; migrate-tui never writes through a link",
    PathRefusal.NOT_DIRECTORY: "a component on the way is not a directory",
    PathRefusal.OUTSIDE: "the directory is outside the repository root",
}


def describe(kind: PathRefusal) -> str:
    """The sentence for a refusal (messages quote it; code decides on the kind)."""
    return _SENTENCES[kind]


class UnsafePath(Exception):
    """A write refused while walking the file system; ``kind`` says why."""

    def __init__(self, kind: PathRefusal, path: str) -> None:
        super().__init__(f"{path}: {describe(kind)}")
        self.kind = kind
        self.path = path


# Unicode category Cc (C0, DEL, C1), the line and paragraph separators (Zl/Zp: U+2028/9),
# and the bidi controls that reorder what a reader sees (Trojan Source).
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def has_control_chars(text: str) -> bool:
    return CONTROL_CHARS.search(text) is not None


def write_path_problem(rel: str) -> PathRefusal | None:
    """Why the root-relative POSIX path ``rel`` must not be written, or None."""
    if not rel:
        return PathRefusal.EMPTY
    if has_control_chars(rel):
        return PathRefusal.CONTROL
    if rel.startswith("/") or re.match(r"[A-Za-z]:", rel):
        return PathRefusal.ABSOLUTE
    if "\\" in rel:
        return PathRefusal.SPECIAL  # a separator on Windows: `a\..\x` would climb there
    parts = rel.split("/")
    if ".." in parts:
        return PathRefusal.PARENT
    # `.git` in any case (case-insensitive file systems), and `.git.`/`.git ` that Windows folds
    if any(p.rstrip(". ").lower() == ".git" for p in parts):
        return PathRefusal.GIT
    if any(p in ("", ".") for p in parts):
        return PathRefusal.NOT_NORMAL
    return None


# --------------------------------------------------------------------------- Dockerfile words

_PLAIN_WORD = re.compile(r"/[A-Za-z0-9._/+@%=,:~-]*\Z")
# Reinterpreted by some builder after JSON decoding: variable expansion ($), escapes (\),
# quote removal (' "), wildcard matching (* ? [ ]).
_SPECIAL = frozenset("$\\'\"*?[]`")


def dockerfile_word(path: str) -> str | PathRefusal:
    """``path`` as one COPY/ADD argument: plain when it is unambiguous, else a JSON string
    (for the ``["src", "dest"]`` form), or the reason it can't be written at all."""
    if not path:
        return PathRefusal.EMPTY
    if has_control_chars(path):
        return PathRefusal.CONTROL
    if any(ch in _SPECIAL for ch in path):
        return PathRefusal.SPECIAL
    if _PLAIN_WORD.match(path):
        return path
    return json.dumps(path, ensure_ascii=False)


# --------------------------------------------------------------------------- directory descriptors

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def open_root(root: str | os.PathLike[str]) -> int:
    """An fd for the root itself (the root may be reached through links: the user named it)."""
    return os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))


def open_dir_beneath(
    root_fd: int,
    parts: list[str] | tuple[str, ...],
    *,
    create: bool = False,
    mode: int = 0o777,
    rel: str = "",
    created: list[tuple[str, ...]] | None = None,
) -> int:
    """An fd for ``root/parts...``, never following a symlink on the way.

    With ``create``, missing directories are made (``mode``, minus the umask) and, when
    ``created`` is given, appended to it (as component tuples, parents first). Raises
    :class:`UnsafePath` (symlink, not a directory, a `..`) or ``OSError``. The caller closes it.
    """
    fd = os.dup(root_fd)
    try:
        for i, name in enumerate(parts):
            if name in ("", ".", "..") or "/" in name:
                raise UnsafePath(PathRefusal.PARENT if name == ".." else PathRefusal.NOT_NORMAL, rel or "/".join(parts))
            try:
                nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, mode, dir_fd=fd)
                    if created is not None:
                        created.append(tuple(parts[: i + 1]))
                except FileExistsError:
                    pass  # made meanwhile: opened below with the same checks
                nxt = _open_existing(fd, name, rel or "/".join(parts))
            except OSError as exc:
                raise _classify(fd, name, exc, rel or "/".join(parts)) from None
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_existing(fd: int, name: str, rel: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        raise _classify(fd, name, exc, rel) from None


def _classify(fd: int, name: str, exc: OSError, rel: str) -> BaseException:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        try:
            st = os.lstat(name, dir_fd=fd)
        except OSError:
            return exc
        if stat.S_ISLNK(st.st_mode):
            return UnsafePath(PathRefusal.SYMLINK, rel)
        if not stat.S_ISDIR(st.st_mode):
            return UnsafePath(PathRefusal.NOT_DIRECTORY, rel)
    return exc


def remove_empty_dirs(root_fd: int, created: list[tuple[str, ...]]) -> None:
    """Undo :func:`open_dir_beneath`'s ``created`` (deepest first; only directories still empty)."""
    for parts in sorted(set(created), key=len, reverse=True):
        try:
            parent = open_dir_beneath(root_fd, parts[:-1])
        except (OSError, UnsafePath):
            continue
        try:
            os.rmdir(parts[-1], dir_fd=parent)
        except OSError:
            pass
        finally:
            os.close(parent)


def fd_inside(fd: int, real_root: str) -> bool:
    """Is the directory open as ``fd`` (still) at or below ``real_root``?

    Read from /proc/self/fd on Linux; elsewhere the component walk is the only guarantee.
    """
    try:
        where = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return True
    if where.endswith(" (deleted)"):
        return False
    return where == real_root or where.startswith(real_root.rstrip(os.sep) + os.sep)
