"""Launchers and wrappers (``env``, ``exec``, ``timeout 5``, ``busybox``…) around the real
command, and the ``sh -c SCRIPT`` of a container's argv."""

from __future__ import annotations

import posixpath
import re

__all__ = [
    "ASSIGNMENT",
    "LAUNCHERS",
    "SHELLS",
    "WRAPPERS",
    "Words",
    "shell_script",
    "strip_launchers",
    "unwrap",
    "unwrap_once",
    "unwrap_with_globs",
]

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
LAUNCHERS = frozenset({"env", "busybox", "tini", "dumb-init"})
# wrapper -> (options taking a value, positional words to skip before the real command)
WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "exec": (frozenset({"-a"}), 0),
    "env": (frozenset({"-u", "-C", "-S", "--unset", "--chdir"}), 0),
    "nohup": (frozenset(), 0),
    "time": (frozenset({"-f", "-o"}), 0),
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "busybox": (frozenset(), 0),
    "nice": (frozenset({"-n"}), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "timeout": (frozenset({"-s", "-k", "--signal", "--kill-after"}), 1),
    "gosu": (frozenset(), 1),
    "su-exec": (frozenset(), 1),
    "sudo": (frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"}), 0),
    "tini": (frozenset({"-e", "-p"}), 0),
    "dumb-init": (frozenset({"-r"}), 0),
}

ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=")

Words = tuple[tuple[str, ...], tuple[bool, ...]]  # argv and its per-word glob flags


def unwrap_once(argv: tuple[str, ...], globs: tuple[bool, ...]) -> Words:
    name = posixpath.basename(argv[0])
    valued, positional = WRAPPERS.get(name, (frozenset(), 0))
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if name == "env" and ASSIGNMENT.match(word):
            i += 1
        elif word.startswith("-") and len(word) > 1:
            i += 2 if word in valued else 1
        else:
            break
    i += positional
    return argv[i:], globs[i:]


def unwrap_with_globs(argv: tuple[str, ...], globs: tuple[bool, ...]) -> Words:
    """Strip ``exec``, ``env VAR=x``, ``nohup``, ``timeout 5``, ``busybox``… to the command."""
    for _ in range(16):
        if not argv:
            break
        name = posixpath.basename(argv[0])
        if name not in WRAPPERS or (name == "command" and argv[1:2] in (("-v",), ("-V",))):
            break
        if name == "busybox" and len(argv) == 1:
            break
        argv, globs = unwrap_once(argv, globs)
    return argv, globs


def unwrap(argv: tuple[str, ...]) -> tuple[str, ...]:
    return unwrap_with_globs(argv, (False,) * len(argv))[0]


def shell_script(argv: list[str]) -> tuple[bool, str | None]:
    """(True, script) for ``sh -c SCRIPT`` and friends, (True, None) for ``sh -c`` alone."""
    words = strip_launchers(argv)
    if not words or posixpath.basename(words[0]) not in SHELLS:
        return False, None
    i, has_c = 1, False
    while i < len(words) and words[i][:1] in ("-", "+") and len(words[i]) > 1:
        word = words[i]
        if word == "--":
            i += 1
            break
        if word in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if not word.startswith("--") and "c" in word[1:]:
            has_c = True
        i += 1
    if not has_c:
        return False, None
    return True, words[i] if i < len(words) else None


def strip_launchers(argv: list[str]) -> list[str]:
    words = list(argv)
    for _ in range(8):
        if not words or posixpath.basename(words[0]) not in LAUNCHERS:
            return words
        words = list(unwrap_once(tuple(words), (False,) * len(words))[0])
    return words
