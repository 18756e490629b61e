"""One classifier per tool family: argv -> :class:`Verdict` (what the command does to files).

``classify`` strips wrappers (``exec``, ``env A=1``, ``timeout 5``…), then asks the handler the
tool's name maps to in :data:`HANDLERS`, or the tables of harmless, waiting, fetching tools.
``with_redirects`` adds what the command's redirections read and write; ``classified`` makes the
one :class:`Command` both readers (the container walk, the ``RUN`` reader) give, classified once."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from migrate_tui.parse.shell.command import Cmd, Command, OpKind, Verdict, Why, Word
from migrate_tui.parse.shell.commands.archive import DECOMPRESSORS, classify_decompressor, classify_tar, classify_unzip
from migrate_tui.parse.shell.commands.copy import classify_cp, classify_install, classify_ln_mv, classify_rsync
from migrate_tui.parse.shell.commands.fetch import (
    FETCHERS,
    PACKAGE_MANAGERS,
    classify_curl,
    classify_fetcher,
    classify_git,
    classify_nc,
    classify_package_manager,
    classify_wget,
)
from migrate_tui.parse.shell.commands.files import (
    SIMPLE_MODIFIERS,
    classify_find,
    classify_mkdir,
    classify_mode_owner,
    classify_simple_modifier,
    classify_tee,
)
from migrate_tui.parse.shell.commands.shells import classify_shell, classify_source
from migrate_tui.parse.shell.commands.text import TEXT_FILTERS, classify_awk, classify_sed, classify_template_tool, classify_yq
from migrate_tui.parse.shell.commands.wrappers import SHELLS, unwrap_with_globs, wrapped
from migrate_tui.parse.shell.paths import dedupe

__all__ = ["COPY_TOOLS", "DOWNLOAD_TOOLS", "HANDLERS", "classified", "classify", "classify_words", "with_redirects"]

#: Commands that copy files whatever their arguments (``install`` copies too, but the word is
#: also an argument: ``apt-get install``). The admission policy (``commands/policy.py``), which
#: runs in the API server and can't parse shell, matches these names in command lines.
COPY_TOOLS = ("cp", "rsync", "tar", "mv")
#: Commands that fetch over the network by themselves (IV002, not a copy from the image).
DOWNLOAD_TOOLS = ("wget", "curl", "git")

HARMLESS = frozenset(
    """echo printf ls true false : pwd cat set exit return cd pushd popd id whoami date printenv
    du df test [ [[ stat sync wc head tail uname hostname basename dirname readlink realpath sort
    uniq grep egrep fgrep tr cut md5sum sha1sum sha256sum sha512sum cksum file which type command
    export unset readonly declare local typeset shift wait ulimit shopt getent nproc free ps tree
    jq hash diff cmp seq xxd od hexdump base64 env""".split()
)
WAITERS = frozenset({"sleep", "nslookup", "dig", "host", "pg_isready", "ping"})


def classify(argv: tuple[str, ...], globs: tuple[bool, ...], cwd: str) -> Verdict:
    inner, inner_globs = unwrap_with_globs(argv, globs)
    if not inner:
        return Verdict(OpKind.HARMLESS, Why.WRAPPER_ALONE, f"{argv[0]} alone changes nothing")
    head = inner[0]
    if "$" in head:
        return Verdict(OpKind.UNKNOWN, Why.VARIABLE_COMMAND, f"the command name {head} comes from a variable")
    name = posixpath.basename(head)
    cmd = Cmd(inner, inner_globs, cwd, name)
    handler = HANDLERS.get(name)
    if handler is not None:
        return handler(cmd)
    if name in HARMLESS:
        return Verdict(OpKind.HARMLESS, Why.CHANGES_NOTHING, f"{name} changes no files")
    if name in WAITERS:
        return Verdict(OpKind.WAIT, Why.WAITS, f"{name} waits or probes")
    if name in PACKAGE_MANAGERS:
        return classify_package_manager(cmd)
    if name in FETCHERS:
        return classify_fetcher(cmd)
    if name in DECOMPRESSORS:
        return classify_decompressor(cmd)
    return unknown(head)


def classify_words(
    argv: tuple[str, ...], globs: tuple[bool, ...], cwd: str, writes: tuple[str, ...] = (), reads: tuple[str, ...] = ()
) -> Verdict:
    """``classify``, then what the command's redirections write (``writes``) and read (``reads``)."""
    verdict = classify(argv, globs, cwd)
    if not writes and not reads:
        return verdict
    inner = unwrap_with_globs(argv, globs)[0]
    name = posixpath.basename(inner[0]) if inner else argv[0]
    return with_redirects(verdict, name, writes, reads)


def with_redirects(verdict: Verdict, name: str, writes: tuple[str, ...], reads: tuple[str, ...] = ()) -> Verdict:
    """A command whose output is redirected to a file writes it: a command that wrote nothing
    (or only made directories, or copied) becomes a MODIFY, a TEMPLATE for a text filter."""
    if reads:
        verdict = verdict._replace(reads=dedupe(verdict.reads + reads))
    if not writes:
        return verdict
    paths = dedupe(verdict.paths + writes)
    if verdict.kind in (OpKind.HARMLESS, OpKind.WAIT, OpKind.MKDIR, OpKind.COPY):
        kind = OpKind.TEMPLATE if name in TEXT_FILTERS else OpKind.MODIFY
        return Verdict(kind, Why.WRITES_FILE, f"{name} output is written to {writes[0]}", paths, reads=verdict.reads)
    return verdict._replace(paths=paths)


def classified(
    words: Sequence[Word], assignments: tuple[tuple[str, str], ...], connector: str, verdict: Verdict, unwrap: bool = True
) -> Command:
    """The one simple-command type, classified: the command behind its wrappers (``unwrap``:
    the wrapper table's words split off) with ``verdict`` as its kind, reason, reads and writes."""
    start, env_assignments, wrappers = wrapped([w.text for w in words]) if unwrap else (0, (), ())
    return Command(
        words=tuple(words[start:]),
        assignments=assignments + env_assignments,
        connector=connector,
        wrappers=wrappers,
        wrapper_words=tuple(words[:start]),
        kind=verdict.kind,
        why=verdict.why,
        reason=verdict.reason,
        reads=verdict.reads,
        writes=verdict.paths,
        copy=verdict.copy,
        program=verdict.program,
    )


def unknown(head: str) -> Verdict:
    if "/" in head:
        return Verdict(OpKind.UNKNOWN, Why.RUNS_PROGRAM, f"runs {head}, which migrate-tui cannot see into", program=head)
    return Verdict(OpKind.UNKNOWN, Why.UNKNOWN_TOOL, f"runs {head}, which migrate-tui does not know", program=head)


def fixed(kind: OpKind, why: Why, reason: str) -> Callable[[Cmd], Verdict]:
    return lambda cmd: Verdict(kind, why, reason)


HANDLERS: dict[str, Callable[[Cmd], Verdict]] = {
    "cp": classify_cp,
    "rsync": classify_rsync,
    "tar": classify_tar,
    "mkdir": classify_mkdir,
    "chmod": classify_mode_owner,
    "chown": classify_mode_owner,
    "chgrp": classify_mode_owner,
    "ln": classify_ln_mv,
    "mv": classify_ln_mv,
    "install": classify_install,
    "unzip": classify_unzip,
    "sed": classify_sed,
    "awk": classify_awk,
    "gawk": classify_awk,
    "yq": classify_yq,
    "tee": classify_tee,
    "find": classify_find,
    "wget": classify_wget,
    "curl": classify_curl,
    "git": classify_git,
    "nc": classify_nc,
    "ncat": classify_nc,
    "netcat": classify_nc,
    "envsubst": fixed(OpKind.TEMPLATE, Why.RENDERS_TEMPLATE, "envsubst fills a template from the environment"),
    "confd": fixed(OpKind.TEMPLATE, Why.RENDERS_TEMPLATE, "confd renders templates"),
    "gomplate": classify_template_tool,
    "j2": classify_template_tool,
    "jinja2": classify_template_tool,
    "consul-template": classify_template_tool,
    "dockerize": classify_template_tool,
    "umask": fixed(OpKind.MODIFY, Why.CHANGES_FILES, "umask changes the modes of files created after it"),
    "eval": fixed(OpKind.UNKNOWN, Why.RUNTIME_CODE, "eval runs code built at run time"),
    "source": classify_source,
    ".": classify_source,
    **{name: classify_simple_modifier for name in SIMPLE_MODIFIERS},
    **{name: classify_shell for name in SHELLS},
}
