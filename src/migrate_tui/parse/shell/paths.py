"""Paths and options as the commands read them: GNU option bundles, copy-source forms,
absolute normalised paths (``~`` and ``$VAR`` left unresolved)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import NamedTuple

from migrate_tui.parse.shell.command import Cmd

UNSEEN_PATHS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"})

GLOB_CHARS = frozenset("*?[")

WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
READ_REDIRECTS = frozenset({"<", "<>"})


class Opts(NamedTuple):
    flags: tuple[str, ...]
    values: dict[str, str]
    letters: frozenset[str]
    longs: frozenset[str]
    operands: tuple[int, ...]  # indices into argv


def resolve(path: str, cwd: str) -> str:
    """Absolute normalised path; ``~`` and leading ``$VAR`` stay as written (unresolved)."""
    if path.startswith(("~", "$")):
        return posixpath.normpath(path)
    joined = posixpath.normpath(posixpath.join(cwd, path) if path else cwd)
    return "/" + joined.lstrip("/") if joined.startswith("//") else joined


def redirect_paths(redirects: Iterable[tuple[str, str]], ops: frozenset[str], cwd: str) -> tuple[str, ...]:
    """The files that redirections (operator, target as the shell sees it) with an operator in
    ``ops`` name: :data:`WRITE_REDIRECTS` for the files written, :data:`READ_REDIRECTS` for those
    read. fd duplications (``>&2``) and /dev/null are not files."""
    out: list[str] = []
    for op, target in redirects:
        if op not in ops or (op == ">&" and (target.isdigit() or target == "-")):
            continue
        path = resolve(target, cwd)
        if path not in UNSEEN_PATHS and not path.startswith(("/dev/fd/", "/proc/self/fd/")):
            out.append(path)
    return tuple(out)


def cd_target(argv: tuple[str, ...], cwd: str) -> str:
    """Where ``cd``/``pushd`` with ``argv`` goes from ``cwd`` (``cd`` alone: ``$HOME``, ``cd -``:
    ``$OLDPWD``, both unresolved)."""
    operands = [w for w in argv[1:] if not (w.startswith("-") and len(w) > 1)]
    target = operands[0] if operands else "$HOME"
    return resolve("$OLDPWD" if target == "-" else target, cwd)


def dedupe(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(paths))


def parse_options(
    argv: tuple[str, ...],
    short_valued: str = "",
    long_valued: frozenset[str] = frozenset(),
    first: int = 1,
) -> Opts:
    """GNU-style options: bundles (``-rf``), attached or separate values, ``--x=y``, ``--``."""
    flags: list[str] = []
    values: dict[str, str] = {}
    letters: set[str] = set()
    longs: set[str] = set()
    operands: list[int] = []
    i, n, ended = first, len(argv), False
    while i < n:
        word = argv[i]
        if ended or word == "-" or not word.startswith("-"):
            operands.append(i)
        elif word == "--":
            ended = True
            flags.append(word)
        elif word.startswith("--"):
            flags.append(word)
            name, eq, value = word.partition("=")
            longs.add(name)
            if eq:
                values[name] = value
            elif name in long_valued and i + 1 < n:
                values[name] = argv[i + 1]
                i += 1
        else:
            flags.append(word)
            for j in range(1, len(word)):
                letters.add(word[j])
                if word[j] in short_valued:
                    if word[j + 1 :]:
                        values["-" + word[j]] = word[j + 1 :]
                    elif i + 1 < n:
                        values["-" + word[j]] = argv[i + 1]
                        i += 1
                    break
        i += 1
    return Opts(tuple(flags), values, frozenset(letters), frozenset(longs), tuple(operands))


def source_form(raw: str, glob: bool, cwd: str) -> tuple[str, str]:
    """(normalised source, form) of one copy source as written."""
    stripped = raw.rstrip("/")
    if glob:
        if stripped == "*":
            return resolve(".", cwd), "glob"
        if stripped.endswith("/*") and GLOB_CHARS.isdisjoint(stripped[:-2]):
            return resolve(stripped[:-2] or "/", cwd), "glob"
        return resolve(raw, cwd), "pattern"
    if stripped == "." or stripped.endswith("/."):
        return resolve(stripped, cwd), "contents"
    return resolve(raw, cwd), "entry"


def names_directory(raw: str) -> bool:
    return raw.endswith("/") or raw.endswith("/.") or raw == "."


def transforms(opts: Opts, table: dict[str, str]) -> tuple[str, ...]:
    found = [what for key, what in table.items() if (key in opts.letters if len(key) == 1 else key in opts.longs)]
    return tuple(dict.fromkeys(found))


def is_resolved(path: str) -> bool:
    """An absolute path with no variable left in it (``$SRC``, ``~``, ``$PWD/x`` are not)."""
    return path.startswith("/") and "$" not in path and "`" not in path


def is_remote(raw: str) -> bool:
    if "://" in raw or "::" in raw:
        return True
    host, colon, _ = raw.partition(":")
    return bool(colon) and bool(host) and "/" not in host


def operand_paths(cmd: Cmd, opts: Opts, skip: int = 0) -> tuple[str, ...]:
    return dedupe(resolve(cmd.argv[i], cmd.cwd) for i in opts.operands[skip:])


def output_path(raw: str | None, cwd: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    path = resolve(raw, cwd)
    return () if raw in UNSEEN_PATHS or path in UNSEEN_PATHS else (path,)
