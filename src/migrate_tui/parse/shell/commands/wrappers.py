"""Launchers and wrappers (``env``, ``exec``, ``timeout 5``, ``busybox``…) around the real
command, and the ``sh -c SCRIPT`` of a container's argv."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "ASSIGNMENT",
    "LAUNCHERS",
    "SHELLS",
    "WRAPPERS",
    "Unwrapped",
    "Words",
    "Wrapper",
    "shell_script",
    "strip_launchers",
    "unwrap",
    "unwrap_once",
    "unwrap_with_globs",
    "wrapped",
]

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
LAUNCHERS = frozenset({"env", "busybox", "tini", "dumb-init"})


class Wrapper(NamedTuple):
    """A command that runs the command after its own options (``sudo -u app pip …``)."""

    valued: frozenset[str]  # options that take the next word as their value
    positional: int = 0  # words to skip after the options (``timeout 5``, ``gosu user``)
    # The wrapped command gets more operands than it is written with (``xargs`` reads them from
    # stdin): which tool runs is known, what it writes is not.
    adds_operands: bool = False


#: The one wrapper table: the container-command classifiers (IV001/IV002) and the ``RUN`` reader
#: (``parse.dockerfile.run``, DF rules) both see the command behind these.
WRAPPERS: dict[str, Wrapper] = {
    "exec": Wrapper(frozenset({"-a"})),
    "env": Wrapper(frozenset({"-u", "-C", "-S", "--unset", "--chdir"})),
    "nohup": Wrapper(frozenset()),
    "time": Wrapper(frozenset({"-f", "-o"})),
    "command": Wrapper(frozenset()),
    "builtin": Wrapper(frozenset()),
    "busybox": Wrapper(frozenset()),
    "nice": Wrapper(frozenset({"-n"})),
    "ionice": Wrapper(frozenset({"-c", "-n", "-p"})),
    "stdbuf": Wrapper(frozenset({"-i", "-o", "-e"})),
    "xargs": Wrapper(frozenset({"-I", "-n", "-P", "-L", "-s", "-d", "-E", "-a"}), adds_operands=True),
    "timeout": Wrapper(frozenset({"-s", "-k", "--signal", "--kill-after"}), 1),
    "gosu": Wrapper(frozenset(), 1),
    "su-exec": Wrapper(frozenset(), 1),
    "sudo": Wrapper(frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"})),
    "tini": Wrapper(frozenset({"-e", "-p"})),
    "dumb-init": Wrapper(frozenset({"-r"})),
}

ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=")

Words = tuple[tuple[str, ...], tuple[bool, ...]]  # argv and its per-word glob flags


def _wrapper_end(argv: Sequence[str], assignments: list[tuple[str, str]] | None = None) -> int:
    """The index of the word after one wrapper's options and positional words; ``env``'s
    ``NAME=value`` words are skipped (and collected into ``assignments`` when given)."""
    name = posixpath.basename(argv[0])
    valued, positional, _ = WRAPPERS.get(name, Wrapper(frozenset()))
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if name == "env" and ASSIGNMENT.match(word):
            if assignments is not None:
                key, _, value = word.partition("=")
                assignments.append((key, value))
            i += 1
        elif word.startswith("-") and len(word) > 1:
            i += 2 if word in valued else 1
        else:
            break
    return i + positional


class Unwrapped(NamedTuple):
    start: int  # the index of the wrapped command's name
    assignments: tuple[tuple[str, str], ...]  # the NAME=value pairs ``env`` sets
    wrappers: tuple[str, ...]  # the wrappers' names, outermost first


def wrapped(argv: Sequence[str], partial_argv: bool = True) -> Unwrapped:
    """Where the command behind the leading wrappers of ``argv`` (``exec``, ``env VAR=x``,
    ``nohup``, ``timeout 5``, ``busybox``…) starts, with what the wrappers set.

    ``partial_argv=False`` stops at a wrapper that adds operands (``xargs``): a caller that
    reads what the command writes from its words needs all of them."""
    start = 0
    assignments: list[tuple[str, str]] = []
    names: list[str] = []
    for _ in range(16):
        rest = argv[start:]
        if not rest:
            break
        name = posixpath.basename(rest[0])
        if name not in WRAPPERS or (name == "command" and tuple(rest[1:2]) in (("-v",), ("-V",))):
            break
        if name == "busybox" and len(rest) == 1:
            break
        if WRAPPERS[name].adds_operands and not partial_argv:
            break
        names.append(name)
        start += _wrapper_end(rest, assignments)
    return Unwrapped(min(start, len(argv)), tuple(assignments), tuple(names))


def unwrap_once(argv: tuple[str, ...], globs: tuple[bool, ...]) -> Words:
    i = _wrapper_end(argv)
    return argv[i:], globs[i:]


def unwrap_with_globs(argv: tuple[str, ...], globs: tuple[bool, ...]) -> Words:
    """Strip ``exec``, ``env VAR=x``, ``nohup``, ``timeout 5``, ``busybox``… to the command."""
    i = wrapped(argv, partial_argv=False).start
    return argv[i:], globs[i:]


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
