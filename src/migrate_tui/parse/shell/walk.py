"""Walk a parsed script the way the shell runs it: follow ``cd`` and assignments, expand
``$VAR`` from the container's literal env, classify each command, fold pipelines and loops."""

from __future__ import annotations

import posixpath
import shlex
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from migrate_tui.parse.shell.command import RANK, Op, OpaqueKind, OpKind, ParsedCommand, Verdict, Why, op_of_command
from migrate_tui.parse.shell.command import Word as ArgWord
from migrate_tui.parse.shell.commands import classified, classify_words, with_redirects
from migrate_tui.parse.shell.commands.archive import tar_pipe_copy
from migrate_tui.parse.shell.commands.text import TEXT_FILTERS
from migrate_tui.parse.shell.commands.wrappers import ASSIGNMENT, shell_script, unwrap
from migrate_tui.parse.shell.kubelet import as_words
from migrate_tui.parse.shell.paths import GLOB_CHARS, READ_REDIRECTS, WRITE_REDIRECTS, cd_target, dedupe, redirect_paths, resolve
from migrate_tui.parse.shell.syntax import AndOr, Loop, Pipeline, Redirect, ShellError, Simple, Word, parse_script

__all__ = ["parse_container_command"]


@dataclass
class _State:
    cwd: str
    variables: dict[str, str]


class _Source(NamedTuple):
    script: str
    newlines: tuple[int, ...]

    def text(self, start: int, end: int) -> str:
        return self.script[start:end].strip()

    def line(self, offset: int) -> int:
        return bisect_left(self.newlines, offset) + 1


# --------------------------------------------------------------------------- public entry


def parse_container_command(
    command: list[str] | None,
    args: list[str] | None,
    working_dir: str | None = None,
    env: dict[str, str] | None = None,
) -> ParsedCommand:
    """Classify what a container's ``command`` + ``args`` do; never raises."""
    variables = {str(k): "" if v is None else str(v) for k, v in (env or {}).items()}
    command_words = as_words(command, variables)
    args_words = as_words(args, variables)
    if not command_words:
        if not args_words:
            return ParsedCommand((), False, "no command: the image's entrypoint does the work", "", OpaqueKind.NO_COMMAND)
        joined = shlex.join(args_words)
        shown = joined if len(joined) <= 80 else joined[:79] + "…"
        return ParsedCommand(
            (),
            False,
            f"no command: the image's entrypoint runs with args {shown}",
            joined,
            OpaqueKind.NO_COMMAND,
        )
    argv = command_words + args_words
    cwd = resolve(working_dir or "/", "/")
    is_shell, script = shell_script(argv)
    if not is_shell:
        return ParsedCommand((_single_op(tuple(argv), cwd),), False, None, shlex.join(argv))
    if script is None:
        return ParsedCommand((), True, "shell syntax not understood: -c without a script", "", OpaqueKind.SYNTAX)
    try:
        items = parse_script(script)
        source = _Source(script, tuple(i for i, c in enumerate(script) if c == "\n"))
        ops = _ops_of_list(items, _State(cwd, dict(variables)), source)
    except ShellError as error:
        return ParsedCommand((), True, str(error), script, OpaqueKind.SYNTAX)
    return ParsedCommand(tuple(ops), True, None, script)


def _single_op(argv: tuple[str, ...], cwd: str) -> Op:
    verdict = classify_words(argv, (False,) * len(argv), cwd)
    words, at = [], 0
    for arg in argv:  # offsets into shlex.join(argv), the op's text
        quoted = shlex.quote(arg)
        words.append(ArgWord(arg, at, at + len(quoted), quoted != arg, False))
        at += len(quoted) + 1
    return op_of_command(classified(words, (), "", verdict), shlex.join(argv), 1)


# --------------------------------------------------------------------------- walking


def _ops_of_list(items: Iterable[AndOr], state: _State, source: _Source) -> list[Op]:
    ops: list[Op] = []
    for item in items:
        for pipeline in item.pipelines:
            op = _op_of_pipeline(pipeline, state, source)
            if pipeline.connector == "||":
                op = replace(op, conditional=True)
            if item.background:
                op = replace(op, kind=OpKind.UNKNOWN, copy=None, reason="runs in the background", why=Why.BACKGROUND)
            ops.append(op)
    return ops


def _op_of_pipeline(pipeline: Pipeline, state: _State, source: _Source) -> Op:
    members = [_op_of_command(command, state, source, "|" if i else pipeline.connector) for i, command in enumerate(pipeline.commands)]
    if len(members) == 1:
        return members[0]
    commands = tuple(c for m in members for c in m.commands)
    text, line = source.text(pipeline.start, pipeline.end), source.line(pipeline.start)
    argv = tuple(word for i, m in enumerate(members) for word in (("|",) if i else ()) + m.argv)
    if len(members) == 2 and not members[0].paths:
        copy = tar_pipe_copy(unwrap(members[0].argv), unwrap(members[1].argv), state.cwd)
        if copy is not None:
            reason = f"tar copies {', '.join(copy.sources)} to {copy.dest}"
            return Op(OpKind.COPY, argv, text, line, copy, (copy.dest,), reason, commands=commands, why=Why.COPIES)
    # Derived from the members: the most severe one's kind (a loop member has no commands, but
    # a kind), the union of what their commands write (a loop that writes is opaque, above).
    worst = max(members, key=lambda m: RANK[m.kind])
    paths = dedupe(path for c in commands for path in c.writes)
    kind, why, reason = worst.kind, worst.why, worst.reason
    if kind is OpKind.COPY:  # a COPY op always carries its copy; several in a pipe are not one
        kind, why, reason = OpKind.UNKNOWN, Why.COPY_IN_PIPELINE, f"a copy inside a pipeline ({worst.reason})"
    filters = [m for m in members if _tool(m.argv) in TEXT_FILTERS]
    if kind in (OpKind.MODIFY, OpKind.TEMPLATE) and filters and paths:
        kind, why = OpKind.TEMPLATE, Why.WRITES_FILE
        reason = f"{_tool(filters[0].argv)} output is written to {paths[0]}"
    return Op(kind, argv, text, line, None, paths, reason, commands=commands, why=why)


def _op_of_command(command: Simple | Loop, state: _State, source: _Source, connector: str) -> Op:
    if isinstance(command, Loop):
        return _op_of_loop(command, state, source)
    text, line = source.text(command.start, command.end), source.line(command.start)
    words = command.words
    n_assign = 0
    while n_assign < len(words) and ASSIGNMENT.match(words[n_assign].text):
        n_assign += 1
    fields = [(field, word) for word in words[n_assign:] for field in _expand(word, state.variables)]
    argv = tuple(text_ for (text_, _), _ in fields)
    globs = tuple(glob for (_, glob), _ in fields)
    arg_words = [ArgWord(text_, word.start, word.end, _quoted(word), _expands(word, state.variables)) for (text_, _), word in fields]
    assignments = tuple(
        (key.rstrip("+"), value) for w in words[:n_assign] for key, _, value in [_expand_joined(w, state.variables).partition("=")]
    )
    writes = _redirect_targets(command.redirects, state)
    reads = _redirect_targets(command.redirects, state, READ_REDIRECTS)
    has_sub = any(p.kind == "sub" for w in words for p in w.parts) or any(
        p.kind == "sub" for redirect in command.redirects for p in redirect.target.parts
    )
    assigned = [w.text.partition("=")[0].rstrip("+") for w in words[:n_assign]]
    if has_sub:
        for name in assigned + _declared_names(argv):
            state.variables.pop(name, None)
        if argv and posixpath.basename(argv[0]) in ("cd", "pushd"):
            state.cwd = "$PWD"  # somewhere we cannot know
        verdict = Verdict(OpKind.UNKNOWN, Why.COMMAND_SUBSTITUTION, "command substitution", writes, reads=reads)
        return op_of_command(classified(arg_words, assignments, connector, verdict), text, line)
    if not argv:
        for word in words[:n_assign]:
            name, _, value = _expand_joined(word, state.variables).partition("=")
            state.variables[name.rstrip("+")] = value
        verdict = with_redirects(Verdict(OpKind.HARMLESS, Why.ASSIGNS, f"sets {', '.join(assigned)}"), "the assignment", writes, reads)
    else:
        verdict = classify_words(argv, globs, state.cwd, writes, reads)
        _track_state(unwrap(argv), state)
    return op_of_command(classified(arg_words, assignments, connector, verdict), text, line)


def _op_of_loop(loop: Loop, state: _State, source: _Source) -> Op:
    inner = _State(state.cwd, dict(state.variables))
    condition = _ops_of_list(loop.condition, inner, source)
    body = _ops_of_list(loop.body, inner, source)
    if _redirect_targets(loop.redirects, state) or any(_writes(op) for op in condition + body):
        raise ShellError("control flow: loop writes files")
    text, line = source.text(loop.start, loop.end), source.line(loop.start)
    argv = (loop.keyword,) + (condition[0].argv if condition else ())
    busy = next((op for op in body if op.kind not in (OpKind.HARMLESS, OpKind.WAIT)), None)
    if busy is not None:
        reason = f"the {loop.keyword} loop does more than wait: {busy.reason}"
        return Op(OpKind.UNKNOWN, argv, text, line, reason=reason, why=Why.BUSY_LOOP)
    first, last = loop.condition[0].pipelines[0], loop.condition[-1].pipelines[-1]
    verb = "until" if loop.keyword == "until" else "while"
    reason = f"waits {verb} {source.text(first.start, last.end)}"
    return Op(OpKind.WAIT, argv, text, line, reason=reason, why=Why.WAITS)


def _writes(op: Op) -> bool:
    """Does this op change files? curl/wget probes without an output file don't."""
    if op.kind in (OpKind.COPY, OpKind.MKDIR, OpKind.MODIFY, OpKind.TEMPLATE):
        return True
    if op.kind == OpKind.DOWNLOAD:
        return bool(op.paths) or _tool(op.argv) not in ("curl", "wget")
    return bool(op.paths)


def _tool(argv: tuple[str, ...]) -> str:
    inner = unwrap(argv)
    return posixpath.basename(inner[0]) if inner else ""


def _track_state(argv: tuple[str, ...], state: _State) -> None:
    """Follow ``cd`` and ``export NAME=value`` so later words expand as the shell would."""
    if not argv:
        return
    name = posixpath.basename(argv[0])
    if name in ("cd", "pushd"):
        state.cwd = cd_target(argv, state.cwd)
    elif name in ("export", "readonly", "declare", "local", "typeset"):
        for word in argv[1:]:
            if ASSIGNMENT.match(word):
                key, _, value = word.partition("=")
                state.variables[key.rstrip("+")] = value


def _declared_names(argv: tuple[str, ...]) -> list[str]:
    if not argv or argv[0] not in ("export", "readonly", "declare", "local", "typeset"):
        return []
    return [m.group(1) for w in argv[1:] if (m := ASSIGNMENT.match(w))]


def _redirect_targets(redirects: tuple[Redirect, ...], state: _State, ops: frozenset[str] = WRITE_REDIRECTS) -> tuple[str, ...]:
    """Files written by output redirections (``ops``: read by input redirections)."""
    return redirect_paths(((r.op, _expand_joined(r.target, state.variables)) for r in redirects), ops, state.cwd)


# --------------------------------------------------------------------------- expansion


def _expand(word: Word, variables: dict[str, str]) -> list[tuple[str, bool]]:
    """Fields of a word after ``$VAR`` substitution, field splitting and quote removal.

    Each field carries whether it holds an unquoted glob character. Unknown variables and
    command substitutions keep their text as written.
    """
    fields: list[tuple[str, bool]] = []
    buf: list[str] = []
    glob = keep = False

    def close() -> None:
        nonlocal glob, keep
        if buf or keep:
            fields.append(("".join(buf), glob))
        buf.clear()
        glob = keep = False

    for part in word.parts:
        keep = keep or part.quoted
        if part.kind == "var" and part.name in variables:
            value = variables[part.name]
            if part.quoted:
                buf.append(value)
                continue
            pieces = value.split()
            if value[:1].isspace():
                close()
            for index, piece in enumerate(pieces):
                if index:
                    close()
                buf.append(piece)
                glob = glob or not GLOB_CHARS.isdisjoint(piece)
            if pieces and value[-1:].isspace():
                close()
        else:
            buf.append(part.text)
            if part.kind == "lit" and not part.quoted and not GLOB_CHARS.isdisjoint(part.text):
                glob = True
    close()
    return fields


def _expand_joined(word: Word, variables: dict[str, str]) -> str:
    """A word expanded without field splitting (assignments, redirect targets)."""
    return "".join(variables[p.name] if p.kind == "var" and p.name in variables else p.text for p in word.parts)


def _quoted(word: Word) -> bool:
    return any(part.quoted for part in word.parts)


def _expands(word: Word, variables: dict[str, str]) -> bool:
    """The word still holds a substitution after expansion (an unknown ``$VAR``, a ``$(…)``)."""
    return any(p.kind == "sub" or (p.kind == "var" and p.name not in variables) for p in word.parts)
