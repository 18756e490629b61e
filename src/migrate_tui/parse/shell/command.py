"""The shell model's results: one simple command as written and what it does (:class:`Command`,
its words :class:`Word`), what a pipeline does (:class:`Op`), a copy it makes (:class:`CopyOp`),
and what a container's whole command does (:class:`ParsedCommand`).

:class:`Command` is the one simple-command type of the shell model, classified once by
``parse.shell.commands.classified`` (kind, typed reason, reads, writes, copy): ``parse.dockerfile.run``
gives a ``RUN``'s commands as it (DF rules), a container command's :class:`Op` is derived from
the commands it is made of (:func:`op_of_command`; IV rules).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import NamedTuple


class OpKind(StrEnum):
    """What one command does to the file system, as far as IV001/IV002 care."""

    COPY = "copy"
    MKDIR = "mkdir"
    HARMLESS = "harmless"
    MODIFY = "modify"
    DOWNLOAD = "download"
    TEMPLATE = "template"
    WAIT = "wait"
    UNKNOWN = "unknown"


class Why(StrEnum):
    """Why a command has its :class:`OpKind`: the typed half of an op's reason (the ``reason``
    text says the same for people, with the paths and names filled in). Code decides on this,
    never on the text."""

    CHANGES_NOTHING = "changes-nothing"  # a tool that only reads, lists or compares
    WRAPPER_ALONE = "wrapper-alone"  # ``env``, ``nohup``… with no command after it
    PRINTS = "prints"  # writes to stdout only
    ASSIGNS = "assigns"  # a bare NAME=value
    WAITS = "waits"  # sleeps, probes, polls (a waiting loop too)
    COPIES = "copies"
    MAKES_DIRS = "makes-dirs"
    EXTRACTS = "extracts"  # unpacks an archive into a directory
    WRITES_FILE = "writes-file"  # writes a named file (``tee``, ``>``, ``tar -cf FILE``)
    CHANGES_FILES = "changes-files"  # changes files in place (modes, owners, links, moves, removal)
    COPIES_CHANGED = "copies-changed"  # copies with new modes or owners (``install``)
    EDITS_IN_PLACE = "edits-in-place"  # ``sed -i``, ``awk -i inplace``, ``yq -i``
    RENDERS_TEMPLATE = "renders-template"
    DOWNLOADS = "downloads"
    INSTALLS_PACKAGES = "installs-packages"
    NETWORK_IO = "network-io"  # ``nc``: data to or from the network
    RUNS_PROGRAM = "runs-program"  # an executable or script by path (``Op.program``)
    UNKNOWN_TOOL = "unknown-tool"  # a command name no classifier knows (``Op.program``)
    VARIABLE_COMMAND = "variable-command"  # the command name comes from a variable
    COMMAND_SUBSTITUTION = "command-substitution"
    BACKGROUND = "background"  # runs with ``&``
    UNRESOLVED_PATH = "unresolved-path"  # a copy's path is not one this model can resolve
    INCOMPLETE = "incomplete"  # a required operand or mode is missing
    COPY_IN_PIPELINE = "copy-in-pipeline"
    BUSY_LOOP = "busy-loop"  # a while/until loop that does more than wait
    NESTED_SHELL = "nested-shell"  # a shell reading a script from stdin or another string
    RUNTIME_CODE = "runtime-code"  # ``eval``, ``dockerize CMD``: code chosen at run time


#: Most severe first. A pipeline (``wget -qO- URL | tar xz -C /d``) takes the kind of its most
#: severe member; a command that writes a known path outranks one we cannot see into.
PIPELINE_SEVERITY: tuple[OpKind, ...] = (
    OpKind.DOWNLOAD,
    OpKind.TEMPLATE,
    OpKind.MODIFY,
    OpKind.UNKNOWN,
    OpKind.COPY,
    OpKind.MKDIR,
    OpKind.WAIT,
    OpKind.HARMLESS,
)
RANK = {kind: len(PIPELINE_SEVERITY) - rank for rank, kind in enumerate(PIPELINE_SEVERITY)}


@dataclass(frozen=True)
class Word:
    """One word of a command: quotes and escapes removed, substitutions kept as written."""

    text: str
    start: int  # index into the script
    end: int
    quoted: bool
    expands: bool  # contains $… or `…`


@dataclass(frozen=True)
class Command:
    """One simple command: ``assignments`` (``NAME=value`` prefixes, and those of an ``env``
    wrapper) then ``words``, the command behind its wrappers (``sudo -E env A=1 nice pip …`` is
    ``pip …``; the one wrapper table is ``parse.shell.commands.wrappers.WRAPPERS``), and what the
    tool-family classifiers make of it, once (``parse.shell.commands.classified``): its
    ``kind``, typed reason ``why``, the paths it ``reads`` and ``writes``, its ``copy``.

    Both readers give commands classified: a container's ``command``/``args`` (the walk, IV
    rules; an :class:`Op` is derived from its commands) and a ``RUN`` (``parse.dockerfile.run``,
    DF rules). Behind ``xargs`` the tool is named (``name``) but not classified: its operands come
    from stdin, so what it writes is unknown and the kind is that of ``xargs`` (UNKNOWN)."""

    words: tuple[Word, ...]
    assignments: tuple[tuple[str, str], ...]
    connector: str  # the operator before it: "", "&&", "||", ";", "|", "&", "\n", "(" …
    wrappers: tuple[str, ...] = ()  # the wrappers it runs behind, outermost first ("sudo", "exec")
    wrapper_words: tuple[Word, ...] = ()  # the wrappers' own words, as written before ``words``
    # What it does (None only on a command built by hand, never on one the shell model gives):
    kind: OpKind | None = None
    why: Why | None = None
    reason: str = ""  # for people; ``why`` is what code decides on
    reads: tuple[str, ...] = ()  # paths it reads or copies from (copy sources, archives, ``<`` files)
    writes: tuple[str, ...] = ()  # paths it writes or changes (redirections included)
    copy: CopyOp | None = None  # a COPY's copy (and ``install``'s copy with changes)
    program: str = ""  # an executable or script it runs by path or an unknown tool: as written

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.text for w in self.words)

    @property
    def written_argv(self) -> tuple[str, ...]:
        """The words as written, wrappers included (``sudo sed -i …``)."""
        return tuple(w.text for w in self.wrapper_words + self.words)

    @property
    def name(self) -> str:
        return posixpath.basename(self.words[0].text) if self.words else ""

    @property
    def flags(self) -> tuple[str, ...]:
        """The options as written (``-rf``, ``--no-cache``), up to ``--``; what each means is
        the business of the tool family's classifier."""
        out: list[str] = []
        for word in self.argv[1:]:
            if word == "--":
                break
            if word.startswith("-") and len(word) > 1:
                out.append(word)
        return tuple(out)

    @property
    def end(self) -> int:
        return self.words[-1].end if self.words else 0


@dataclass(frozen=True)
class CopyOp:
    tool: str  # "cp" | "rsync" | "tar"
    sources: tuple[str, ...]  # absolute, normalised ("/site/." and "/site/*" -> "/site")
    forms: tuple[str, ...]  # per source: "contents" | "glob" | "entry" | "pattern"
    dest: str  # absolute, normalised
    dest_trailing_slash: bool  # "d/" or -t DIR: dest must be a directory
    recursive: bool
    preserve: bool
    flags: tuple[str, ...]  # every option as written
    # What the tool does besides copying the tree as it is (follows links, recreates parent
    # paths, sets modes...), for people; a copy with any is not what a mount shows.
    transforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Op:
    """What one pipeline (or ``while``/``until`` loop) of a container's script does, derived from
    the :class:`Command` s it is made of (:func:`op_of_command`; a pipeline takes its most severe
    member's kind and the union of their writes, ``parse.shell.walk``)."""

    kind: OpKind
    argv: tuple[str, ...]  # words after quote removal; a pipeline's members joined by "|"
    text: str  # the command as written, stripped
    line: int  # 1-based line within the script
    copy: CopyOp | None = None  # a COPY's copy; a MODIFY that copies with changes (install) has one too
    paths: tuple[str, ...] = ()  # absolute normalised paths written or changed, when known
    reason: str = ""  # for people; ``why`` is what code decides on
    conditional: bool = False  # runs only after a failure (right of ||)
    program: str = ""  # an UNKNOWN op that runs an executable or script: its path as written
    # The simple commands it is made of (a pipeline's members), as the RUN reader gives them:
    # words after expansion with their offsets in the script, behind their wrappers.
    commands: tuple[Command, ...] = ()
    why: Why | None = None  # set on every op the shell model makes


def op_of_command(command: Command, text: str, line: int) -> Op:
    """The op of one classified simple command: its kind, reason, copy and program, its
    ``writes`` as the op's paths, its words as written (wrappers included) as the op's argv."""
    kind = OpKind.UNKNOWN if command.kind is None else command.kind
    return Op(
        kind=kind,
        argv=command.written_argv,
        text=text,
        line=line,
        copy=command.copy,
        paths=command.writes,
        reason=command.reason,
        program=command.program,
        commands=(command,),
        why=command.why,
    )


class OpaqueKind(str, Enum):
    """Why a whole command can't be analysed."""

    NO_COMMAND = "no-command"  # no ``command``: the image's entrypoint does the work
    SYNTAX = "syntax"  # shell syntax outside the subset this module reads


@dataclass(frozen=True)
class ParsedCommand:
    ops: tuple[Op, ...]  # empty when opaque
    shell: bool  # the work runs through sh/bash/ash/dash/zsh -c
    opaque: str | None  # why the command can't be analysed at all, else None
    script: str  # the -c script, or shlex.join(argv) without a shell
    opaque_kind: OpaqueKind | None = None  # set exactly when ``opaque`` is


class Verdict(NamedTuple):
    kind: OpKind
    why: Why
    reason: str
    paths: tuple[str, ...] = ()  # written or changed: a command's ``writes``
    copy: CopyOp | None = None
    program: str = ""
    reads: tuple[str, ...] = ()  # read or copied from: a command's ``reads``


class Cmd(NamedTuple):
    """One simple command after expansion and unwrapping, ready to classify."""

    argv: tuple[str, ...]
    globs: tuple[bool, ...]  # per word: contains an unquoted glob character
    cwd: str
    name: str  # basename of argv[0]
