"""What a ``RUN`` instruction runs, as BuildKit and ``/bin/sh`` see it, with offsets for edits.

Rules that read or extend a ``RUN`` (DF004 today) ask three questions, answered here once:

- which simple commands run, in order, with their words unquoted (``echo "apt-get install"`` is
  one ``echo``), their ``NAME=value`` prefixes and the ``export``ed variables before them;
- which ``--mount`` flags the step has (every one of them, not only the last);
- where a command can be appended so that it runs after everything else, or why not (the form
  of the ``RUN``, an unfinished script, a trailing ``&``, an ``exit``): an :class:`EditBlocker`.

Shell form scripts are the instruction's logical line (continuations joined, comment lines
dropped, as the parser gives it); a ``RUN <<EOF`` heredoc is its body. Exec form (JSON) is read
(``["sh", "-c", SCRIPT]``) but never edited. The script is read by the shell model's
tree-sitter-bash parser (``parse.shell.tokens``: quotes and escapes removed,
``$(…)``/backticks/``${…}`` kept inside words, comments, operators, redirections, heredocs);
compound commands are flattened here to the simple commands they contain, each a
``parse.shell.Command`` behind the shell model's wrappers (``sudo``, ``env A=1``, ``timeout 5``…),
classified by the shell model's tool-family classifiers as a container's commands are (kind,
typed reason, the paths it reads and writes, its redirections included). Paths are resolved
against the directory the script ``cd``s to at its top level; before that (the ``WORKDIR``,
which this module doesn't see) a relative path stays relative to ``$PWD``, unresolved.
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from migrate_tui.parse.shell.command import Command, OpKind, Verdict, Why, Word
from migrate_tui.parse.shell.commands import classified, classify_words, with_redirects
from migrate_tui.parse.shell.commands.wrappers import SHELLS
from migrate_tui.parse.shell.paths import GLOB_CHARS, READ_REDIRECTS, WRITE_REDIRECTS, cd_target, dedupe, redirect_paths
from migrate_tui.parse.shell.tokens import Token, tokens
from migrate_tui.parse.dockerfile.parser import _HEREDOC_WORD, Instruction, _shell_words

__all__ = [
    "EditBlocker",
    "Mount",
    "RunForm",
    "RunScript",
    "mounts",
    "path_covered",
    "read_run",
    "split_script",
]

POSIX_SHELLS = SHELLS | {"busybox"}  # the shell model's shells, and busybox's sh applet
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_OPENERS = {"if": "fi", "case": "esac", "do": "done", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
_PREFIX_KEYWORDS = frozenset({"then", "else", "elif", "do", "!", "{", "if", "while", "until", "time"})
_HEADER_KEYWORDS = frozenset({"for", "case", "select", "function", "in"})
_UNKNOWN_CWD = "$PWD"  # the WORKDIR, or a directory a nested or computed ``cd`` went to


class RunForm(StrEnum):
    SHELL = "shell"  # RUN cmd …
    HEREDOC = "heredoc"  # RUN <<EOF … EOF (the body is the script)
    EXEC = "exec"  # RUN ["sh", "-c", "…"] or RUN ["cmd", …]


class EditBlocker(StrEnum):
    """Why a command cannot be appended to a RUN without changing what it does."""

    EXEC_FORM = "exec-form"
    HEREDOC_FORM = "heredoc-form"
    UNFINISHED = "unfinished"
    BACKGROUND = "background"
    EXITS = "exits"

    @property
    def sentence(self) -> str:
        return _BLOCKER_SENTENCES[self]


_BLOCKER_SENTENCES = {
    EditBlocker.EXEC_FORM: "the RUN is in exec (JSON) form; edit the command inside the JSON array by hand",
    EditBlocker.HEREDOC_FORM: "the RUN uses a heredoc that is not a plain shell script body; edit it by hand",
    EditBlocker.UNFINISHED: (
        "the RUN's script does not end in a complete command (a trailing operator, "
        "an unclosed quote, bracket or if/case/loop); appending to it would break it"
    ),
    EditBlocker.BACKGROUND: "the RUN's last command runs in the background (&); an appended command would race it",
    EditBlocker.EXITS: "the RUN's last command is exit/exec; an appended command would never run",
}


@dataclass(frozen=True)
class Mount:
    type: str
    target: str | None  # normalised absolute path, or None when missing/relative


@dataclass(frozen=True)
class RunScript:
    form: RunForm
    commands: tuple[Command, ...]
    # Where ``&& more`` can be inserted (a text offset), or why not.
    append_at: int | None
    blocker: EditBlocker | None
    to_offset: Callable[[int], int] | None  # script index -> text offset (None: exec form)

    def word_end(self, word: Word) -> int | None:
        """Text offset just after ``word`` (for an insertion after it)."""
        if self.to_offset is None:
            return None
        return self.to_offset(word.end - 1) + 1


# --------------------------------------------------------------------------- mounts


def mounts(instr: Instruction) -> list[Mount]:
    """Every ``--mount`` of a RUN, in order (BuildKit applies all of them)."""
    out = []
    for flag in instr.flags:
        if flag.name != "mount" or not flag.value:
            continue
        try:
            fields = next(csv.reader([flag.value]))
        except (csv.Error, StopIteration):
            continue
        values: dict[str, str] = {}
        for item in fields:
            key, eq, value = item.partition("=")
            values[key.strip().lower()] = value if eq else "true"
        target = values.get("target") or values.get("dst") or values.get("destination")
        norm = posixpath.normpath(target) if target and target.startswith("/") else None
        out.append(Mount(values.get("type", "bind").lower(), norm))
    return out


def path_covered(path: str, targets: list[str]) -> bool:
    """``path`` is at or below one of ``targets`` (absolute, normalised)."""
    return any(path == t or t == "/" or path.startswith(t + "/") for t in targets)


# --------------------------------------------------------------------------- the script of a RUN


def read_run(instr: Instruction) -> RunScript | None:
    """The script a RUN runs; None when it is not a POSIX shell script we can read
    (e.g. a ``#!/usr/bin/env python`` heredoc)."""
    if instr.json_args is not None:
        return _exec_form(instr.json_args)
    if instr.heredocs:
        return _heredoc_form(instr)
    return _script(instr.args, RunForm.SHELL, instr.offset_of)


def _exec_form(argv: tuple[str, ...]) -> RunScript:
    if len(argv) >= 3 and posixpath.basename(argv[0]) in POSIX_SHELLS and re.fullmatch(r"-[a-z]*c", argv[1]):
        commands, _, _ = split_script(argv[2])
    else:
        words = tuple(Word(a, 0, 0, True, False) for a in argv)
        commands = ()
        if words:  # ``RUN []`` runs nothing
            verdict = classify_words(argv, (False,) * len(argv), _UNKNOWN_CWD)
            commands = (classified(words, (), "", verdict, unwrap=False),)
    return RunScript(RunForm.EXEC, commands, None, EditBlocker.EXEC_FORM, None)


def _heredoc_form(instr: Instruction) -> RunScript | None:
    args = instr.args.strip()
    bare = len(instr.heredocs) == 1 and re.fullmatch(r"<<-?(['\"]?)[^'\"\s]+\1", args) is not None
    if not bare:
        words = args.split()
        if (
            len(instr.heredocs) == 1
            and len(words) >= 2
            and posixpath.basename(words[0]) in POSIX_SHELLS
            and all(w.startswith("-") and "c" not in w for w in words[1:-1])
            and words[-1].startswith("<<")
        ):
            # `bash -e <<EOF`: the body is the shell's script on stdin
            commands, _, _ = split_script(instr.heredocs[0].body)
        else:
            # `cat <<EOF > file && …`: the heredoc is data, the line is the script
            commands, _, _ = split_script(_without_heredoc_markers(instr.args), external_heredocs=True)
        return RunScript(RunForm.HEREDOC, commands, None, EditBlocker.HEREDOC_FORM, None)
    doc = instr.heredocs[0]
    first = doc.body.split("\n", 1)[0]
    if first.startswith("#!"):
        words = first[2:].split()
        interp = [posixpath.basename(w) for w in words[:2]]
        shell = interp[:1] == ["env"] and interp[1:] or interp[:1]
        if not shell or shell[0] not in POSIX_SHELLS:
            return None
    base = doc.start
    return _script(doc.body, RunForm.HEREDOC, lambda i: base + i)


def _without_heredoc_markers(args: str) -> str:
    """The line with each ``<<EOF`` BuildKit reads as a heredoc blanked out (offsets kept): the
    bodies are data outside the line, and tree-sitter-bash can't read a heredoc before the command
    name (``<<EOF cat``)."""
    chars = list(args)
    for word, start, end in _shell_words(args):
        if _HEREDOC_WORD.match(word):
            chars[start:end] = " " * (end - start)
    return "".join(chars)


def _script(text: str, form: RunForm, to_offset: Callable[[int], int]) -> RunScript:
    commands, end, blocker = split_script(text)
    if blocker is None and commands and (commands[-1].name in ("exit", "exec") or "exec" in commands[-1].wrappers):
        blocker = EditBlocker.EXITS
    append_at = to_offset(end - 1) + 1 if blocker is None and end > 0 else None
    if append_at is None and blocker is None:
        blocker = EditBlocker.UNFINISHED
    return RunScript(form, commands, append_at, blocker, to_offset)


# --------------------------------------------------------------------------- tokens


_Tok = Token  # a word, operator, redirection or newline of the script, read by tree-sitter-bash


def _tokens(s: str, external_heredocs: bool = False) -> tuple[list[_Tok], bool]:
    """The tokens of ``s`` and whether it ended early (unclosed quote, unterminated heredoc,
    trailing operator); ``external_heredocs``: heredoc bodies are not in ``s`` (a Dockerfile
    heredoc's first line)."""
    return tokens(s, external_heredocs)


# --------------------------------------------------------------------------- simple commands


def split_script(s: str, external_heredocs: bool = False) -> tuple[tuple[Command, ...], int, EditBlocker | None]:
    """The simple commands of a script, the script index just after its last command (where
    ``&& more`` may go) and, when appending there is wrong, why."""
    toks, unfinished = _tokens(s, external_heredocs)
    commands: list[Command] = []
    depth: list[str] = []
    current: list[_Tok] = []
    redirects: list[tuple[str, _Tok]] = []  # the current command's (operator, target)
    cwd = _UNKNOWN_CWD
    connector = ""
    last_end = 0
    trailing: str | None = None  # the operator after the last command, if any
    skip_next: str | None = None  # the redirection operator whose target is the next word

    def flush() -> None:
        nonlocal cwd
        made = _command(current, connector, redirects, cwd)
        for command in made:
            cwd = _cwd_after(command, cwd, bool(depth))
        commands.extend(made)
        current.clear()
        redirects.clear()

    for tok in toks:
        if tok.kind == "redir":
            skip_next = tok.text  # the next word is the redirection's target (or heredoc delimiter)
            last_end, trailing = tok.end, "redir"
            continue
        if tok.kind == "word":
            if skip_next is not None:
                redirects.append((skip_next, tok))
                skip_next = None
                last_end, trailing = tok.end, None
                continue
            at_head = all(not t.quoted and t.text in _PREFIX_KEYWORDS for t in current)
            if at_head and _keyword_balance(tok, depth) is False:
                return tuple(commands), 0, EditBlocker.UNFINISHED
            current.append(tok)
            last_end, trailing = tok.end, None
            continue
        # an operator or a newline ends the current command
        if current:
            flush()
        if tok.text == "(":
            depth.append(")")
        elif tok.text == ")":
            if not depth or depth[-1] != ")":
                return tuple(commands), 0, EditBlocker.UNFINISHED
            depth.pop()
            last_end, trailing = tok.end, None
            connector = ""
            continue
        connector = tok.text
        if tok.kind == "newline":
            if trailing in ("&&", "||", "|", "|&"):
                continue  # a line may end in && and go on
            trailing = trailing if trailing in (";", "&") else None
            continue
        trailing = tok.text
    if current:
        flush()
    if unfinished or depth or skip_next is not None or trailing in ("&&", "||", "|", "|&", "redir", ";;"):
        return tuple(commands), 0, EditBlocker.UNFINISHED
    if trailing == "&":
        return tuple(commands), 0, EditBlocker.BACKGROUND
    return tuple(commands), last_end, None


def _keyword_balance(tok: _Tok, depth: list[str]) -> bool | None:
    """Track if/fi, case/esac, do/done, {/} at a command's first word; False on a mismatch."""
    if tok.quoted:
        return None
    if tok.text in _OPENERS:
        depth.append(_OPENERS[tok.text])
    elif tok.text in _CLOSERS:
        if not depth or depth[-1] != tok.text:
            return False
        depth.pop()
    return None


def _command(toks: list[_Tok], connector: str, redirects: list[tuple[str, _Tok]], cwd: str) -> list[Command]:
    words = [Word(t.text, t.start, t.end, t.quoted, t.expands) for t in toks]
    while words and not words[0].quoted and words[0].text in _PREFIX_KEYWORDS:
        words = words[1:]
    if not words or (not words[0].quoted and (words[0].text in _CLOSERS or words[0].text in _HEADER_KEYWORDS)):
        return []
    assignments: list[tuple[str, str]] = []
    while words and _is_assignment(words[0]):
        name, _, value = words[0].text.partition("=")
        assignments.append((name, value))
        words = words[1:]
    # ``sudo -E env A=1 nice pip …`` is ``pip …`` with A=1 (the shell model's wrapper table),
    # classified once as the container walk classifies (``cp`` -> COPY with its copy…)
    argv = tuple(w.text for w in words)
    targets = [(op, token.text) for op, token in redirects]
    writes, reads = dedupe(redirect_paths(targets, WRITE_REDIRECTS, cwd)), dedupe(redirect_paths(targets, READ_REDIRECTS, cwd))
    if any(t.substitutes for t in toks) or any(target.substitutes for _, target in redirects):
        # as the container walk: a command substitution runs code this reader doesn't follow
        verdict = Verdict(OpKind.UNKNOWN, Why.COMMAND_SUBSTITUTION, "command substitution", writes, reads=reads)
    elif not argv:  # a bare NAME=value
        sets = Verdict(OpKind.HARMLESS, Why.ASSIGNS, f"sets {', '.join(name for name, _ in assignments)}")
        verdict = with_redirects(sets, "the assignment", writes, reads)
    else:
        globs = tuple(not w.quoted and not GLOB_CHARS.isdisjoint(w.text) for w in words)
        verdict = classify_words(argv, globs, cwd, writes, reads)
    return [classified(words, tuple(assignments), connector, verdict)]


def _cwd_after(command: Command, cwd: str, nested: bool) -> str:
    """Where the script is after ``command``: a top-level ``cd DIR`` goes there; one inside a
    subshell, a brace group, an ``if`` or a loop leaves the directory unknown."""
    if command.name not in ("cd", "pushd"):
        return cwd
    if nested or command.why is Why.COMMAND_SUBSTITUTION:
        return _UNKNOWN_CWD
    return cd_target(command.argv, cwd)


def _is_assignment(word: Word) -> bool:
    name, eq, _ = word.text.partition("=")
    return bool(eq) and _NAME.match(name) is not None
