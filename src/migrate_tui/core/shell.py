"""Parse a Kubernetes container's ``command`` + ``args`` into classified operations.

Rules IV001/IV002 ask one question of an init container: does it only copy files out of its
own image, or does it download, template or change them? This module answers without running
anything. It expands ``$(VAR)`` the way the kubelet does, finds the ``sh -c`` script, tokenises
it (quotes, escapes, comments, continuations, redirections, here-documents), parses the small
shell subset init containers use (``;``, newlines, ``&&``, ``||``, ``|``, ``&``, ``while``/``until``
polling loops), expands ``$VAR`` only from the container's literal ``env`` and the script's own
assignments, and classifies every command as an :class:`OpKind`. Anything else (``if``,
``case``, ``for``, functions, subshells) makes the whole command opaque rather than half-read.

A pipeline gets the kind of its most severe member, in :data:`PIPELINE_SEVERITY` order; the
tar-pipe copy (``tar -C SRC -cf - . | tar -C DEST -xf -``) is recognised as one COPY.

The module is longer than most because tokenizer, parser and classifiers share private types
and are only useful together. It never raises: a script it cannot read is a ``ParsedCommand``
whose ``opaque`` says why.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import NamedTuple

__all__ = [
    "PIPELINE_SEVERITY",
    "CopyOp",
    "Op",
    "OpKind",
    "OpaqueKind",
    "ParsedCommand",
    "parse_container_command",
]


class OpKind(str, Enum):
    """What one command does to the file system, as far as IV001/IV002 care."""

    COPY = "copy"
    MKDIR = "mkdir"
    HARMLESS = "harmless"
    MODIFY = "modify"
    DOWNLOAD = "download"
    TEMPLATE = "template"
    WAIT = "wait"
    UNKNOWN = "unknown"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


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
_RANK = {kind: len(PIPELINE_SEVERITY) - rank for rank, kind in enumerate(PIPELINE_SEVERITY)}


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
    kind: OpKind
    argv: tuple[str, ...]  # words after quote removal; a pipeline's members joined by "|"
    text: str  # the command as written, stripped
    line: int  # 1-based line within the script
    copy: CopyOp | None = None  # a COPY's copy; a MODIFY that copies with changes (install) has one too
    paths: tuple[str, ...] = ()  # absolute normalised paths written or changed, when known
    reason: str = ""
    conditional: bool = False  # runs only after a failure (right of ||)
    program: str = ""  # an UNKNOWN op that runs an executable or script: its path as written


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


# --------------------------------------------------------------------------- tables

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
_LAUNCHERS = frozenset({"env", "busybox", "tini", "dumb-init"})
# wrapper -> (options taking a value, positional words to skip before the real command)
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
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
_HARMLESS = frozenset(
    """echo printf ls true false : pwd cat set exit return cd pushd popd id whoami date printenv
    du df test [ [[ stat sync wc head tail uname hostname basename dirname readlink realpath sort
    uniq grep egrep fgrep tr cut md5sum sha1sum sha256sum sha512sum cksum file which type command
    export unset readonly declare local typeset shift wait ulimit shopt getent nproc free ps tree
    jq hash diff cmp seq xxd od hexdump base64 env""".split()
)
_WAITERS = frozenset({"sleep", "nslookup", "dig", "host", "pg_isready", "ping"})
_TEXT_FILTERS = frozenset(
    {"sed", "awk", "gawk", "mawk", "nawk", "jq", "yq", "envsubst", "gomplate", "j2", "jinja2"}
)
_PACKAGE_MANAGERS = frozenset(
    {"pip", "pip3", "uv", "npm", "yarn", "pnpm", "apk", "apt-get", "apt", "yum", "dnf",
     "microdnf", "gem"}
)
_FETCHERS = frozenset(
    {"gsutil", "aws", "az", "azcopy", "gcloud", "hf", "huggingface-cli", "kubectl", "helm",
     "oras", "crane", "skopeo", "rclone", "mc", "scp", "sftp", "ftp", "ncftp", "ncftpget",
     "s3cmd", "lftp", "aria2c"}
)
_FETCH_VERBS = frozenset({"cp", "copy", "sync", "rsync", "mirror", "get", "download", "pull",
                          "export"})
_TOOL_FETCH_VERBS = {"kubectl": frozenset({"cp"}), "helm": frozenset({"pull", "fetch"})}
_FETCH_OUTPUT_OPTIONS = frozenset(
    {"--local-dir", "--destination", "-d", "--untardir", "--output", "-o", "--output-dir",
     "--file", "--target"}
)
_FORMAT_OUTPUT_TOOLS = frozenset({"kubectl", "gcloud", "az", "aws"})  # -o/--output is a format
_GIT_READ_ONLY = frozenset(
    {"", "status", "log", "show", "diff", "rev-parse", "describe", "version", "help",
     "--version", "ls-files", "ls-remote", "config"}
)
_DECOMPRESSORS = frozenset(
    {"gunzip", "gzip", "bunzip2", "bzip2", "unxz", "xz", "zstd", "unzstd", "uncompress"}
)
_UNSEEN_PATHS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"})
_WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_OPERATORS = ("&&", "||", ";;", "|&", ";", "&", "|", "(", ")")
_REDIRECTS = ("&>>", "&>", "<<<", "<<-", "<<", ">>", ">|", ">&", "<&", "<>", ">", "<")
_GLOB_CHARS = frozenset("*?[")
_OPAQUE_KEYWORDS = {
    "if": "if",
    "case": "case",
    "for": "for",
    "select": "select",
    "function": "function",
    "{": "group { … }",
}
_MISPLACED_KEYWORDS = frozenset({"then", "elif", "else", "fi", "esac", "do", "done", "}", "in"})

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED_VAR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::?[-=].*)?\Z", re.S)
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=")
_TAR_MODES = {"c": "c", "x": "x", "t": "t", "r": "r", "u": "u", "A": "A", "d": "d"}
_TAR_LONG_MODES = {"--create": "c", "--extract": "x", "--get": "x", "--list": "t",
                   "--append": "r", "--update": "u", "--concatenate": "A", "--catenate": "A",
                   "--diff": "d", "--compare": "d", "--delete": "D"}
_TAR_SHORT_VALUED = "fCTXbHKNgLVIF"
_TAR_LONG_VALUED = frozenset(
    {"--file", "--directory", "--exclude", "--files-from", "--exclude-from", "--transform",
     "--xform", "--owner", "--group", "--mode", "--use-compress-program", "--strip-components",
     "--newer", "--after-date", "--format", "--blocking-factor", "--record-size", "--label",
     "--suffix", "--to-command", "--index-file", "--mtime", "--sort", "--warning"}
)
_RSYNC_SHORT_VALUED = "efTBM@"
_RSYNC_LONG_VALUED = frozenset(
    {"--exclude", "--include", "--exclude-from", "--include-from", "--filter", "--rsh",
     "--chmod", "--chown", "--files-from", "--log-file", "--temp-dir", "--partial-dir",
     "--backup-dir", "--suffix", "--compare-dest", "--copy-dest", "--link-dest", "--timeout",
     "--bwlimit", "--max-size", "--min-size", "--port", "--password-file", "--usermap",
     "--groupmap", "--out-format", "--info", "--debug", "--block-size", "--max-delete",
     "--iconv", "--rsync-path", "--address", "--contimeout", "--skip-compress",
     "--compress-level", "--modify-window", "--remote-option"}
)


# --------------------------------------------------------------------------- private types


class _ShellError(Exception):
    """The script can't be analysed; the message becomes ``ParsedCommand.opaque``."""


def _syntax(detail: str) -> _ShellError:
    return _ShellError(f"shell syntax not understood: {detail}")


def _control(which: str) -> _ShellError:
    return _ShellError(f"control flow: {which}")


class _Part(NamedTuple):
    kind: str  # "lit" | "var" | "sub"
    text: str  # literal text, or the reference as written ("$X", "${X}", "$(cmd)")
    quoted: bool
    name: str = ""  # for "var": the name to look up ("" when it can't be substituted)


class _Token(NamedTuple):
    kind: str  # "word" | "op" | "redir" | "newline"
    text: str  # raw text as written
    start: int
    end: int
    parts: tuple[_Part, ...] = ()
    fd: str = ""


class _Simple(NamedTuple):
    words: tuple[_Token, ...]
    redirects: tuple[tuple[_Token, _Token], ...]  # (operator, target word)
    start: int
    end: int


class _Loop(NamedTuple):
    keyword: str  # "while" | "until"
    condition: tuple[_AndOr, ...]
    body: tuple[_AndOr, ...]
    redirects: tuple[tuple[_Token, _Token], ...]
    start: int
    end: int


class _Pipeline(NamedTuple):
    commands: tuple[_Simple | _Loop, ...]
    connector: str  # the operator before it: "", "&&" or "||"
    start: int
    end: int


class _AndOr(NamedTuple):
    pipelines: tuple[_Pipeline, ...]
    background: bool


class _Verdict(NamedTuple):
    kind: OpKind
    reason: str
    paths: tuple[str, ...] = ()
    copy: CopyOp | None = None
    program: str = ""


class _Cmd(NamedTuple):
    """One simple command after expansion and unwrapping, ready to classify."""

    argv: tuple[str, ...]
    globs: tuple[bool, ...]  # per word: contains an unquoted glob character
    cwd: str
    name: str  # basename of argv[0]


class _Opts(NamedTuple):
    flags: tuple[str, ...]
    values: dict[str, str]
    letters: frozenset[str]
    longs: frozenset[str]
    operands: tuple[int, ...]  # indices into argv


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
    command_words = _as_words(command, variables)
    args_words = _as_words(args, variables)
    if not command_words:
        if not args_words:
            return ParsedCommand((), False, "no command: the image's entrypoint does the work", "",
                                 OpaqueKind.NO_COMMAND)
        joined = shlex.join(args_words)
        shown = joined if len(joined) <= 80 else joined[:79] + "…"
        return ParsedCommand(
            (), False, f"no command: the image's entrypoint runs with args {shown}", joined,
            OpaqueKind.NO_COMMAND,
        )
    argv = command_words + args_words
    cwd = _resolve(working_dir or "/", "/")
    is_shell, script = _shell_script(argv)
    if not is_shell:
        return ParsedCommand((_single_op(tuple(argv), cwd),), False, None, shlex.join(argv))
    if script is None:
        return ParsedCommand((), True, "shell syntax not understood: -c without a script", "",
                             OpaqueKind.SYNTAX)
    try:
        items = _Parser(_Lexer(script).run()).parse_script()
        source = _Source(script, tuple(i for i, c in enumerate(script) if c == "\n"))
        ops = _ops_of_list(items, _State(cwd, dict(variables)), source)
    except _ShellError as error:
        return ParsedCommand((), True, str(error), script, OpaqueKind.SYNTAX)
    return ParsedCommand(tuple(ops), True, None, script)


def _as_words(words: object, variables: dict[str, str]) -> list[str]:
    """Coerce YAML values to strings and apply the kubelet's ``$(VAR)`` expansion."""
    if words is None:
        return []
    if isinstance(words, (str, bytes, int, float)) or not isinstance(words, Iterable):
        words = [words]
    return [_expand_kubernetes("" if w is None else str(w), variables) for w in words]


def _expand_kubernetes(word: str, env: dict[str, str]) -> str:
    """``$(NAME)`` -> env value when defined, ``$$`` -> ``$``; anything else is kept."""
    if "$" not in word:
        return word
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        if word[i] == "$" and i + 1 < n:
            if word[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            close = word.find(")", i + 2) if word[i + 1] == "(" else -1
            if close > 0:
                name = word[i + 2 : close]
                out.append(env[name] if name in env else word[i : close + 1])
                i = close + 1
                continue
        out.append(word[i])
        i += 1
    return "".join(out)


def _shell_script(argv: list[str]) -> tuple[bool, str | None]:
    """(True, script) for ``sh -c SCRIPT`` and friends, (True, None) for ``sh -c`` alone."""
    words = _strip_launchers(argv)
    if not words or posixpath.basename(words[0]) not in _SHELLS:
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


def _strip_launchers(argv: list[str]) -> list[str]:
    words = list(argv)
    for _ in range(8):
        if not words or posixpath.basename(words[0]) not in _LAUNCHERS:
            return words
        words = list(_unwrap_once(tuple(words), (False,) * len(words))[0])
    return words


def _single_op(argv: tuple[str, ...], cwd: str) -> Op:
    verdict = _classify(argv, (False,) * len(argv), cwd)
    return Op(verdict.kind, argv, shlex.join(argv), 1, verdict.copy, verdict.paths, verdict.reason,
              program=verdict.program)


# --------------------------------------------------------------------------- tokenizer


class _Lexer:
    """Turn a script into word / operator / redirection / newline tokens."""

    def __init__(self, script: str) -> None:
        self.s = script
        self.i = 0
        self.tokens: list[_Token] = []
        self.parts: list[_Part] = []
        self.buf: list[str] = []
        self.buf_quoted = False
        self.word_start = -1
        self.heredocs: list[tuple[str, bool]] = []
        self.want_delimiter: bool | None = None  # after << / <<-: strip leading tabs?

    def run(self) -> list[_Token]:
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c == "\\" and s.startswith("\n", self.i + 1):
                self.i += 2
            elif c in " \t\r":
                self._end_word()
                self.i += 1
            elif c == "\n":
                self._end_word()
                self.tokens.append(_Token("newline", "\n", self.i, self.i + 1))
                self.i += 1
                self._skip_heredocs()
            elif c == "#" and self.word_start < 0:
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end
            elif c in "<>" or s.startswith("&>", self.i):
                self._redirect()
            elif c in ";&|()":
                self._end_word()
                op = next(o for o in _OPERATORS if s.startswith(o, self.i))
                self.tokens.append(_Token("op", op, self.i, self.i + len(op)))
                self.i += len(op)
            elif c == "'":
                self._single_quoted()
            elif c == '"':
                self._double_quoted()
            elif c == "\\":
                self._begin()
                self._add(s[self.i + 1 : self.i + 2], True)
                self.i += 2
            elif c == "$":
                self._dollar(quoted=False)
            elif c == "`":
                self._backtick(quoted=False)
            else:
                self._begin()
                self._add(c, False)
                self.i += 1
        self._end_word()
        if self.want_delimiter is not None:
            raise _syntax("here-document without a delimiter")
        return self.tokens

    def _line(self) -> int:
        return self.s.count("\n", 0, self.i) + 1

    def _begin(self) -> None:
        if self.word_start < 0:
            self.word_start = self.i

    def _add(self, text: str, quoted: bool) -> None:
        if self.buf and self.buf_quoted != quoted:
            self._flush()
        self.buf_quoted = quoted
        self.buf.append(text)

    def _flush(self) -> None:
        if self.buf:
            self.parts.append(_Part("lit", "".join(self.buf), self.buf_quoted))
            self.buf = []

    def _part(self, kind: str, text: str, quoted: bool, name: str = "") -> None:
        self._flush()
        self.parts.append(_Part(kind, text, quoted, name))

    def _end_word(self) -> None:
        if self.word_start < 0:
            return
        self._flush()
        parts = tuple(self.parts)
        self.tokens.append(_Token("word", self.s[self.word_start : self.i], self.word_start,
                                  self.i, parts))
        if self.want_delimiter is not None:
            self.heredocs.append(("".join(p.text for p in parts), self.want_delimiter))
            self.want_delimiter = None
        self.parts, self.word_start = [], -1

    def _redirect(self) -> None:
        s, i = self.s, self.i
        fd = ""
        if self.word_start >= 0 and s[self.word_start : i].isdigit() and s[i] in "<>":
            fd = s[self.word_start : i]
            self.parts, self.buf, self.word_start = [], [], -1
        else:
            self._end_word()
        op = next(r for r in _REDIRECTS if s.startswith(r, i))
        if self.want_delimiter is not None:
            raise _syntax(f"here-document without a delimiter (line {self._line()})")
        self.tokens.append(_Token("redir", op, i - len(fd), i + len(op), (), fd))
        self.i = i + len(op)
        if op in ("<<", "<<-"):
            self.want_delimiter = op == "<<-"

    def _skip_heredocs(self) -> None:
        s, n = self.s, len(self.s)
        for delimiter, strip_tabs in self.heredocs:
            while self.i < n:
                end = s.find("\n", self.i)
                end = n if end < 0 else end
                line = s[self.i : end]
                self.i = min(end + 1, n)
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        self.heredocs = []

    def _single_quoted(self) -> None:
        self._begin()
        end = self.s.find("'", self.i + 1)
        if end < 0:
            raise _syntax(f"unterminated single quote (line {self._line()})")
        self._add(self.s[self.i + 1 : end], True)
        self.i = end + 1

    def _double_quoted(self) -> None:
        self._begin()
        line = self._line()
        self._add("", True)
        s, n = self.s, len(self.s)
        self.i += 1
        while True:
            if self.i >= n:
                raise _syntax(f"unterminated double quote (line {line})")
            c = s[self.i]
            if c == '"':
                self.i += 1
                return
            if c == "\\" and self.i + 1 < n and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    self._add(s[self.i + 1], True)
                self.i += 2
            elif c == "$":
                self._dollar(quoted=True)
            elif c == "`":
                self._backtick(quoted=True)
            else:
                self._add(c, True)
                self.i += 1

    def _dollar(self, quoted: bool) -> None:
        s, i = self.s, self.i
        self._begin()
        nxt = s[i + 1 : i + 2]
        if nxt == "(":
            end = _matching_paren(s, i + 1)
            if end < 0:
                raise _syntax(f"unterminated $( (line {self._line()})")
            self._part("sub", s[i : end + 1], quoted)
            self.i = end + 1
        elif nxt == "{":
            end = s.find("}", i + 2)
            if end < 0:
                raise _syntax(f"unterminated ${{ (line {self._line()})")
            match = _BRACED_VAR.match(s, i + 2, end)
            self._part("var", s[i : end + 1], quoted, match.group(1) if match else "")
            self.i = end + 1
        elif nxt == "'" and not quoted:
            end = i + 2
            while end < len(s) and s[end] != "'":
                end += 2 if s[end] == "\\" else 1
            if end >= len(s):
                raise _syntax(f"unterminated $' quote (line {self._line()})")
            self._add(s[i + 2 : end], True)
            self.i = end + 1
        else:
            match = _NAME.match(s, i + 1)
            if match:
                self._part("var", "$" + match.group(), quoted, match.group())
                self.i = match.end()
            else:
                self._add("$", quoted)
                self.i += 1

    def _backtick(self, quoted: bool) -> None:
        s, i = self.s, self.i
        self._begin()
        end = i + 1
        while end < len(s) and s[end] != "`":
            end += 2 if s[end] == "\\" else 1
        if end >= len(s):
            raise _syntax(f"unterminated backtick (line {self._line()})")
        self._part("sub", s[i : end + 1], quoted)
        self.i = end + 1


def _matching_paren(s: str, i: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``i``, skipping quotes; -1 when unclosed."""
    depth, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c in "'\"":
            j = i + 1
            while j < n and s[j] != c:
                j += 2 if (s[j] == "\\" and c == '"') else 1
            if j >= n:
                return -1
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


# --------------------------------------------------------------------------- parser

_MAX_LOOP_DEPTH = 16


def _keyword(token: _Token | None) -> str:
    """The reserved word a token spells when unquoted, else ""."""
    if token is None or token.kind != "word":
        return ""
    text = token.text
    if text in ("while", "until", "!") or text in _OPAQUE_KEYWORDS:
        return text
    return text if text in _MISPLACED_KEYWORDS else ""


class _Parser:
    """Recursive descent over tokens: lists of and-or lists of pipelines of commands."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.k = 0
        self.depth = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.k] if self.k < len(self.tokens) else None

    def _is_op(self, *texts: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "op" and token.text in texts

    def _skip_newlines(self) -> None:
        while (token := self._peek()) is not None and token.kind == "newline":
            self.k += 1

    def parse_script(self) -> tuple[_AndOr, ...]:
        items = self._list(frozenset())
        token = self._peek()
        if token is not None:
            raise _syntax(f"unexpected '{token.text}'")
        return items

    def _list(self, terminators: frozenset[str]) -> tuple[_AndOr, ...]:
        items: list[_AndOr] = []
        while True:
            while (token := self._peek()) is not None and (
                token.kind == "newline" or (token.kind == "op" and token.text == ";")
            ):
                self.k += 1
            if token is None or _keyword(token) in terminators:
                return tuple(items)
            item = self._and_or()
            if self._is_op("&"):
                self.k += 1
                items.append(item._replace(background=True))
                continue
            items.append(item)
            token = self._peek()
            if token is not None and token.kind != "newline" and not self._is_op(";"):
                raise _syntax(f"unexpected '{token.text}'")

    def _and_or(self) -> _AndOr:
        pipelines = [self._pipeline("")]
        while self._is_op("&&", "||"):
            connector = self.tokens[self.k].text
            self.k += 1
            self._skip_newlines()
            pipelines.append(self._pipeline(connector))
        return _AndOr(tuple(pipelines), False)

    def _pipeline(self, connector: str) -> _Pipeline:
        if _keyword(self._peek()) == "!":
            self.k += 1
        commands = [self._command()]
        while self._is_op("|", "|&"):
            self.k += 1
            self._skip_newlines()
            commands.append(self._command())
        return _Pipeline(tuple(commands), connector, commands[0].start, commands[-1].end)

    def _command(self) -> _Simple | _Loop:
        token = self._peek()
        if token is None or token.kind == "newline":
            raise _syntax("a command is missing after an operator")
        if token.kind == "op":
            if token.text == "(":
                nxt = self.tokens[self.k + 1] if self.k + 1 < len(self.tokens) else None
                if nxt is not None and nxt.kind == "op" and nxt.text == "(":
                    raise _control("arithmetic (( … ))")
                raise _control("subshell ( … )")
            raise _syntax(f"unexpected '{token.text}'")
        keyword = _keyword(token)
        if keyword in ("while", "until"):
            return self._loop(keyword)
        if keyword in _OPAQUE_KEYWORDS:
            raise _control(_OPAQUE_KEYWORDS[keyword])
        if keyword in _MISPLACED_KEYWORDS:
            raise _syntax(f"unexpected '{keyword}'")
        return self._simple()

    def _redirect(self) -> tuple[_Token, _Token]:
        operator = self.tokens[self.k]
        self.k += 1
        target = self._peek()
        if target is None or target.kind != "word":
            raise _syntax(f"{operator.text} without a target")
        self.k += 1
        return operator, target

    def _simple(self) -> _Simple:
        words: list[_Token] = []
        redirects: list[tuple[_Token, _Token]] = []
        start = end = self.tokens[self.k].start
        while (token := self._peek()) is not None:
            if token.kind == "word":
                words.append(token)
                self.k += 1
                end = token.end
            elif token.kind == "redir":
                redirects.append(self._redirect())
                end = redirects[-1][1].end
            elif token.kind == "op" and token.text == "(":
                if len(words) == 1 and not redirects:
                    raise _control("function")
                raise _syntax("unexpected '('")
            else:
                break
        return _Simple(tuple(words), tuple(redirects), start, end)

    def _loop(self, keyword: str) -> _Loop:
        self.depth += 1
        if self.depth > _MAX_LOOP_DEPTH:
            raise _syntax("loops nested too deeply")
        start = self.tokens[self.k].start
        self.k += 1
        condition = self._list(frozenset({"do"}))
        if not condition or _keyword(self._peek()) != "do":
            raise _syntax(f"{keyword} loop without do")
        self.k += 1
        body = self._list(frozenset({"done"}))
        done = self._peek()
        if done is None or _keyword(done) != "done":
            raise _syntax(f"unclosed {keyword} loop")
        self.k += 1
        end = done.end
        redirects: list[tuple[_Token, _Token]] = []
        while (token := self._peek()) is not None and token.kind == "redir":
            redirects.append(self._redirect())
            end = redirects[-1][1].end
        self.depth -= 1
        return _Loop(keyword, condition, body, tuple(redirects), start, end)


# --------------------------------------------------------------------------- walking


def _ops_of_list(items: Iterable[_AndOr], state: _State, source: _Source) -> list[Op]:
    ops: list[Op] = []
    for item in items:
        for pipeline in item.pipelines:
            op = _op_of_pipeline(pipeline, state, source)
            if pipeline.connector == "||":
                op = replace(op, conditional=True)
            if item.background:
                op = replace(op, kind=OpKind.UNKNOWN, copy=None, reason="runs in the background")
            ops.append(op)
    return ops


def _op_of_pipeline(pipeline: _Pipeline, state: _State, source: _Source) -> Op:
    members = [_op_of_command(command, state, source) for command in pipeline.commands]
    if len(members) == 1:
        return members[0]
    text, line = source.text(pipeline.start, pipeline.end), source.line(pipeline.start)
    argv = tuple(word for i, m in enumerate(members) for word in (("|",) if i else ()) + m.argv)
    if len(members) == 2 and not members[0].paths:
        copy = _tar_pipe_copy(_unwrap(members[0].argv), _unwrap(members[1].argv), state.cwd)
        if copy is not None:
            reason = f"tar copies {', '.join(copy.sources)} to {copy.dest}"
            return Op(OpKind.COPY, argv, text, line, copy, (copy.dest,), reason)
    worst = max(members, key=lambda m: _RANK[m.kind])
    paths = _dedupe(path for m in members for path in m.paths)
    kind, reason = worst.kind, worst.reason
    if kind is OpKind.COPY:  # a COPY op always carries its copy; several in a pipe are not one
        kind, reason = OpKind.UNKNOWN, f"a copy inside a pipeline ({worst.reason})"
    filters = [m for m in members if _tool(m.argv) in _TEXT_FILTERS]
    if kind in (OpKind.MODIFY, OpKind.TEMPLATE) and filters and paths:
        kind = OpKind.TEMPLATE
        reason = f"{_tool(filters[0].argv)} output is written to {paths[0]}"
    return Op(kind, argv, text, line, None, paths, reason)


def _op_of_command(command: _Simple | _Loop, state: _State, source: _Source) -> Op:
    if isinstance(command, _Loop):
        return _op_of_loop(command, state, source)
    text, line = source.text(command.start, command.end), source.line(command.start)
    words = command.words
    n_assign = 0
    while n_assign < len(words) and _ASSIGNMENT.match(words[n_assign].text):
        n_assign += 1
    fields = [field for word in words[n_assign:] for field in _expand(word, state.variables)]
    argv = tuple(text_ for text_, _ in fields)
    globs = tuple(glob for _, glob in fields)
    writes = _redirect_targets(command.redirects, state)
    has_sub = any(p.kind == "sub" for w in words for p in w.parts) or any(
        p.kind == "sub" for _, target in command.redirects for p in target.parts
    )
    assigned = [w.text.partition("=")[0].rstrip("+") for w in words[:n_assign]]
    if has_sub:
        for name in assigned + _declared_names(argv):
            state.variables.pop(name, None)
        if argv and posixpath.basename(argv[0]) in ("cd", "pushd"):
            state.cwd = "$PWD"  # somewhere we cannot know
        verdict = _Verdict(OpKind.UNKNOWN, "command substitution", writes)
        return Op(verdict.kind, argv, text, line, None, verdict.paths, verdict.reason)
    if not argv:
        for word in words[:n_assign]:
            name, _, value = _expand_joined(word, state.variables).partition("=")
            state.variables[name.rstrip("+")] = value
        name, verdict = "the assignment", _Verdict(OpKind.HARMLESS, f"sets {', '.join(assigned)}")
    else:
        verdict = _classify(argv, globs, state.cwd)
        inner = _unwrap(argv)
        name = posixpath.basename(inner[0]) if inner else argv[0]
        _track_state(inner, state)
    verdict = _with_redirects(verdict, name, writes)
    return Op(verdict.kind, argv, text, line, verdict.copy, verdict.paths, verdict.reason,
              program=verdict.program)


def _op_of_loop(loop: _Loop, state: _State, source: _Source) -> Op:
    inner = _State(state.cwd, dict(state.variables))
    condition = _ops_of_list(loop.condition, inner, source)
    body = _ops_of_list(loop.body, inner, source)
    if _redirect_targets(loop.redirects, state) or any(_writes(op) for op in condition + body):
        raise _control("loop writes files")
    text, line = source.text(loop.start, loop.end), source.line(loop.start)
    argv = (loop.keyword,) + (condition[0].argv if condition else ())
    busy = next((op for op in body if op.kind not in (OpKind.HARMLESS, OpKind.WAIT)), None)
    if busy is not None:
        reason = f"the {loop.keyword} loop does more than wait: {busy.reason}"
        return Op(OpKind.UNKNOWN, argv, text, line, reason=reason)
    first, last = loop.condition[0].pipelines[0], loop.condition[-1].pipelines[-1]
    verb = "until" if loop.keyword == "until" else "while"
    reason = f"waits {verb} {source.text(first.start, last.end)}"
    return Op(OpKind.WAIT, argv, text, line, reason=reason)


def _writes(op: Op) -> bool:
    """Does this op change files? curl/wget probes without an output file don't."""
    if op.kind in (OpKind.COPY, OpKind.MKDIR, OpKind.MODIFY, OpKind.TEMPLATE):
        return True
    if op.kind == OpKind.DOWNLOAD:
        return bool(op.paths) or _tool(op.argv) not in ("curl", "wget")
    return bool(op.paths)


def _tool(argv: tuple[str, ...]) -> str:
    inner = _unwrap(argv)
    return posixpath.basename(inner[0]) if inner else ""


def _track_state(argv: tuple[str, ...], state: _State) -> None:
    """Follow ``cd`` and ``export NAME=value`` so later words expand as the shell would."""
    if not argv:
        return
    name = posixpath.basename(argv[0])
    if name in ("cd", "pushd"):
        operands = [w for w in argv[1:] if not (w.startswith("-") and len(w) > 1)]
        target = operands[0] if operands else "$HOME"
        state.cwd = _resolve("$OLDPWD" if target == "-" else target, state.cwd)
    elif name in ("export", "readonly", "declare", "local", "typeset"):
        for word in argv[1:]:
            if _ASSIGNMENT.match(word):
                key, _, value = word.partition("=")
                state.variables[key.rstrip("+")] = value


def _declared_names(argv: tuple[str, ...]) -> list[str]:
    if not argv or argv[0] not in ("export", "readonly", "declare", "local", "typeset"):
        return []
    return [m.group(1) for w in argv[1:] if (m := _ASSIGNMENT.match(w))]


def _redirect_targets(
    redirects: tuple[tuple[_Token, _Token], ...], state: _State
) -> tuple[str, ...]:
    """Files written by output redirections (fd duplications and /dev/null are not files)."""
    targets: list[str] = []
    for operator, word in redirects:
        if operator.text not in _WRITE_REDIRECTS:
            continue
        target = _expand_joined(word, state.variables)
        if operator.text == ">&" and (target.isdigit() or target == "-"):
            continue
        path = _resolve(target, state.cwd)
        if path not in _UNSEEN_PATHS and not path.startswith(("/dev/fd/", "/proc/self/fd/")):
            targets.append(path)
    return tuple(targets)


def _with_redirects(verdict: _Verdict, name: str, writes: tuple[str, ...]) -> _Verdict:
    if not writes:
        return verdict
    paths = _dedupe(verdict.paths + writes)
    if verdict.kind in (OpKind.HARMLESS, OpKind.WAIT, OpKind.MKDIR, OpKind.COPY):
        kind = OpKind.TEMPLATE if name in _TEXT_FILTERS else OpKind.MODIFY
        return _Verdict(kind, f"{name} output is written to {writes[0]}", paths)
    return verdict._replace(paths=paths)


# --------------------------------------------------------------------------- expansion


def _expand(word: _Token, variables: dict[str, str]) -> list[tuple[str, bool]]:
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
                glob = glob or not _GLOB_CHARS.isdisjoint(piece)
            if pieces and value[-1:].isspace():
                close()
        else:
            buf.append(part.text)
            if part.kind == "lit" and not part.quoted and not _GLOB_CHARS.isdisjoint(part.text):
                glob = True
    close()
    return fields


def _expand_joined(word: _Token, variables: dict[str, str]) -> str:
    """A word expanded without field splitting (assignments, redirect targets)."""
    return "".join(
        variables[p.name] if p.kind == "var" and p.name in variables else p.text
        for p in word.parts
    )


def _resolve(path: str, cwd: str) -> str:
    """Absolute normalised path; ``~`` and leading ``$VAR`` stay as written (unresolved)."""
    if path.startswith(("~", "$")):
        return posixpath.normpath(path)
    joined = posixpath.normpath(posixpath.join(cwd, path) if path else cwd)
    return "/" + joined.lstrip("/") if joined.startswith("//") else joined


def _dedupe(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(paths))


# --------------------------------------------------------------------------- classification


_Words = tuple[tuple[str, ...], tuple[bool, ...]]  # argv and its per-word glob flags


def _unwrap_once(argv: tuple[str, ...], globs: tuple[bool, ...]) -> _Words:
    name = posixpath.basename(argv[0])
    valued, positional = _WRAPPERS.get(name, (frozenset(), 0))
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if name == "env" and _ASSIGNMENT.match(word):
            i += 1
        elif word.startswith("-") and len(word) > 1:
            i += 2 if word in valued else 1
        else:
            break
    i += positional
    return argv[i:], globs[i:]


def _unwrap_with_globs(argv: tuple[str, ...], globs: tuple[bool, ...]) -> _Words:
    """Strip ``exec``, ``env VAR=x``, ``nohup``, ``timeout 5``, ``busybox``… to the command."""
    for _ in range(16):
        if not argv:
            break
        name = posixpath.basename(argv[0])
        if name not in _WRAPPERS or (name == "command" and argv[1:2] in (("-v",), ("-V",))):
            break
        if name == "busybox" and len(argv) == 1:
            break
        argv, globs = _unwrap_once(argv, globs)
    return argv, globs


def _unwrap(argv: tuple[str, ...]) -> tuple[str, ...]:
    return _unwrap_with_globs(argv, (False,) * len(argv))[0]


def _classify(argv: tuple[str, ...], globs: tuple[bool, ...], cwd: str) -> _Verdict:
    inner, inner_globs = _unwrap_with_globs(argv, globs)
    if not inner:
        return _Verdict(OpKind.HARMLESS, f"{argv[0]} alone changes nothing")
    head = inner[0]
    if "$" in head:
        return _Verdict(OpKind.UNKNOWN, f"the command name {head} comes from a variable")
    name = posixpath.basename(head)
    cmd = _Cmd(inner, inner_globs, cwd, name)
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(cmd)
    if name in _HARMLESS:
        return _Verdict(OpKind.HARMLESS, f"{name} changes no files")
    if name in _WAITERS:
        return _Verdict(OpKind.WAIT, f"{name} waits or probes")
    if name in _PACKAGE_MANAGERS:
        return _classify_package_manager(cmd)
    if name in _FETCHERS:
        return _classify_fetcher(cmd)
    if name in _DECOMPRESSORS:
        return _classify_decompressor(cmd)
    return _unknown(head)


def _unknown(head: str) -> _Verdict:
    if "/" in head:
        return _Verdict(OpKind.UNKNOWN, f"runs {head}, which migrate-tui cannot see into", program=head)
    return _Verdict(OpKind.UNKNOWN, f"runs {head}, which migrate-tui does not know", program=head)


def _parse_options(
    argv: tuple[str, ...],
    short_valued: str = "",
    long_valued: frozenset[str] = frozenset(),
    first: int = 1,
) -> _Opts:
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
    return _Opts(tuple(flags), values, frozenset(letters), frozenset(longs), tuple(operands))


def _source_form(raw: str, glob: bool, cwd: str) -> tuple[str, str]:
    """(normalised source, form) of one copy source as written."""
    stripped = raw.rstrip("/")
    if glob:
        if stripped == "*":
            return _resolve(".", cwd), "glob"
        if stripped.endswith("/*") and _GLOB_CHARS.isdisjoint(stripped[:-2]):
            return _resolve(stripped[:-2] or "/", cwd), "glob"
        return _resolve(raw, cwd), "pattern"
    if stripped == "." or stripped.endswith("/."):
        return _resolve(stripped, cwd), "contents"
    return _resolve(raw, cwd), "entry"


def _names_directory(raw: str) -> bool:
    return raw.endswith("/") or raw.endswith("/.") or raw == "."


def _classify_cp(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "tS", frozenset({"--target-directory", "--suffix"}))
    recursive = bool(opts.letters & {"r", "R", "a"} or opts.longs & {"--recursive", "--archive"})
    preserve = bool(opts.letters & {"a", "p"} or opts.longs & {"--archive", "--preserve"})
    target = opts.values.get("-t", opts.values.get("--target-directory"))
    if target is not None:
        source_indices, dest_raw, trailing = opts.operands, target, True
    elif len(opts.operands) >= 2:
        source_indices, dest_raw = opts.operands[:-1], cmd.argv[opts.operands[-1]]
        trailing = _names_directory(dest_raw)
    else:
        return _Verdict(OpKind.UNKNOWN, "cp without a source and a destination")
    if not source_indices:
        return _Verdict(OpKind.UNKNOWN, "cp without a source")
    pairs = [_source_form(cmd.argv[i], cmd.globs[i], cmd.cwd) for i in source_indices]
    dest = _resolve(dest_raw, cmd.cwd)
    copy = CopyOp("cp", tuple(s for s, _ in pairs), tuple(f for _, f in pairs), dest, trailing,
                  recursive, preserve, opts.flags, _transforms(opts, _CP_TRANSFORMS))
    return _copy_verdict(copy)


# option (a letter of a bundle, or a long option) -> what it does besides a plain copy
_CP_TRANSFORMS = {
    "L": "follows every symbolic link (-L)",
    "--dereference": "follows every symbolic link (--dereference)",
    "H": "follows symbolic links named on the command line (-H)",
    "l": "makes hard links instead of copies (-l)",
    "--link": "makes hard links instead of copies (--link)",
    "s": "makes symbolic links instead of copies (-s)",
    "--symbolic-link": "makes symbolic links instead of copies (--symbolic-link)",
    "--parents": "recreates each source's directory path under the destination (--parents)",
    "--attributes-only": "copies attributes only (--attributes-only)",
    "--copy-contents": "reads special files as data (--copy-contents)",
}
_RSYNC_TRANSFORMS = {
    "L": "copies the targets of symbolic links (-L)",
    "--copy-links": "copies the targets of symbolic links (--copy-links)",
    "k": "copies the directories that symbolic links point to (-k)",
    "--copy-dirlinks": "copies the directories that symbolic links point to (--copy-dirlinks)",
    "--copy-unsafe-links": "copies the targets of links that leave the tree (--copy-unsafe-links)",
    "--safe-links": "skips links that leave the tree (--safe-links)",
    "R": "recreates each source's path under the destination (-R)",
    "--relative": "recreates each source's path under the destination (--relative)",
    "C": "skips files CVS would ignore (-C)",
    "--cvs-exclude": "skips files CVS would ignore (--cvs-exclude)",
    "--files-from": "copies only the files a list names (--files-from)",
}
_MV_PLAIN_OPTIONS = frozenset({"-f", "-v", "-fv", "-vf", "--force", "--verbose", "-t", "--target-directory", "--"})


def _transforms(opts: _Opts, table: dict[str, str]) -> tuple[str, ...]:
    found = [what for key, what in table.items()
             if (key in opts.letters if len(key) == 1 else key in opts.longs)]
    return tuple(dict.fromkeys(found))


def _is_resolved(path: str) -> bool:
    """An absolute path with no variable left in it (``$SRC``, ``~``, ``$PWD/x`` are not)."""
    return path.startswith("/") and "$" not in path and "`" not in path


def _copy_verdict(copy: CopyOp) -> _Verdict:
    """A COPY whose every path resolved to an absolute one, else an opaque (UNKNOWN) op."""
    unresolved = [p for p in copy.sources + (copy.dest,) if not _is_resolved(p)]
    if unresolved:
        role = "destination" if unresolved[0] == copy.dest and copy.dest not in copy.sources else "source"
        reason = f"{copy.tool} {role} {unresolved[0]} is not a path migrate-tui can resolve"
        paths = (copy.dest,) if _is_resolved(copy.dest) else ()
        return _Verdict(OpKind.UNKNOWN, reason, paths)
    return _Verdict(OpKind.COPY, f"{copy.tool} copies {', '.join(copy.sources)} to {copy.dest}", (copy.dest,), copy)


def _is_remote(raw: str) -> bool:
    if "://" in raw or "::" in raw:
        return True
    host, colon, _ = raw.partition(":")
    return bool(colon) and bool(host) and "/" not in host


def _classify_rsync(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, _RSYNC_SHORT_VALUED, _RSYNC_LONG_VALUED)
    if len(opts.operands) < 2:
        return _Verdict(OpKind.UNKNOWN, "rsync without a source and a destination")
    raws = [cmd.argv[i] for i in opts.operands]
    dest_raw = raws[-1]
    if any(_is_remote(raw) for raw in raws):
        paths = () if _is_remote(dest_raw) else (_resolve(dest_raw, cmd.cwd),)
        return _Verdict(OpKind.DOWNLOAD, "rsync copies over the network", paths)
    pairs = []
    for i in opts.operands[:-1]:
        raw = cmd.argv[i]
        if not cmd.globs[i] and raw.endswith("/") and raw.rstrip("/"):
            pairs.append((_resolve(raw, cmd.cwd), "contents"))
        else:
            pairs.append(_source_form(raw, cmd.globs[i], cmd.cwd))
    recursive = bool(opts.letters & {"a", "r"} or opts.longs & {"--archive", "--recursive"})
    preserve = bool(opts.letters & {"a", "p"} or opts.longs & {"--archive", "--perms"})
    dest = _resolve(dest_raw, cmd.cwd)
    copy = CopyOp("rsync", tuple(s for s, _ in pairs), tuple(f for _, f in pairs), dest,
                  dest_raw.endswith("/"), recursive, preserve, opts.flags,
                  _transforms(opts, _RSYNC_TRANSFORMS))
    return _copy_verdict(copy)


class _Tar(NamedTuple):
    modes: frozenset[str]
    archive: str | None
    directory: str | None  # the last -C
    members: tuple[tuple[str, str | None], ...]  # (member, -C in effect before it)
    flags: tuple[str, ...]


def _parse_tar(argv: tuple[str, ...]) -> _Tar:
    words = argv[1:]
    modes: set[str] = set()
    values: dict[str, str | None] = {"f": None, "C": None}
    members: list[tuple[str, str | None]] = []
    flags: list[str] = []
    i = 0
    if words and words[0] and not words[0].startswith("-"):  # old style: tar czf OUT -C DIR
        flags.append(words[0])
        i = 1
        for letter in words[0]:
            if letter in _TAR_MODES:
                modes.add(_TAR_MODES[letter])
            if letter in _TAR_SHORT_VALUED:
                values[letter] = words[i] if i < len(words) else None
                i += 1
    ended = False
    while i < len(words):
        word = words[i]
        if ended or word == "-" or not word.startswith("-"):
            members.append((word, values["C"]))
        elif word == "--":
            ended = True
            flags.append(word)
        elif word.startswith("--"):
            flags.append(word)
            name, eq, value = word.partition("=")
            if name in _TAR_LONG_MODES:
                modes.add(_TAR_LONG_MODES[name])
            if not eq and name in _TAR_LONG_VALUED and i + 1 < len(words):
                value, i = words[i + 1], i + 1
            if name in ("--file", "--directory"):
                values["f" if name == "--file" else "C"] = value
        else:
            flags.append(word)
            for j in range(1, len(word)):
                letter = word[j]
                if letter in _TAR_MODES:
                    modes.add(_TAR_MODES[letter])
                if letter in _TAR_SHORT_VALUED:
                    value = word[j + 1 :]
                    if not value and i + 1 < len(words):
                        value, i = words[i + 1], i + 1
                    values[letter] = value
                    break
        i += 1
    return _Tar(frozenset(modes), values["f"], values["C"], tuple(members), tuple(flags))


def _tar_pipe_copy(first: tuple[str, ...], second: tuple[str, ...], cwd: str) -> CopyOp | None:
    """``tar -C SRC -cf - . | tar -C DEST -xf -`` as one copy, else None."""
    if not first or not second or posixpath.basename(first[0]) != "tar":
        return None
    if posixpath.basename(second[0]) != "tar":
        return None
    create, extract = _parse_tar(first), _parse_tar(second)
    if "c" not in create.modes or "x" not in extract.modes or extract.members:
        return None
    if create.archive not in (None, "-") or extract.archive not in (None, "-"):
        return None
    if not create.members:
        return None
    sources: list[str] = []
    forms: list[str] = []
    for member, directory in create.members:
        base = _resolve(directory or ".", cwd)
        stripped = member.rstrip("/")
        source, form = _source_form(member, not _GLOB_CHARS.isdisjoint(member), base)
        if form == "entry" and "/" in stripped.strip("/"):
            form = "pattern"  # tar keeps the member's whole path under DEST, unlike cp
        sources.append(source)
        forms.append(form)
    dest = _resolve(extract.directory or ".", cwd)
    if not all(_is_resolved(p) for p in sources + [dest]):
        return None  # not a copy migrate-tui can place: the members are judged one by one
    follows = any(f in ("--dereference", "-h") or (f[:1] == "-" and f[1:2] != "-" and "h" in f[1:])
                  for f in create.flags)
    transforms = ("follows symbolic links (-h)",) if follows else ()
    return CopyOp("tar", tuple(sources), tuple(forms), dest, True, True, True,
                  create.flags + extract.flags, transforms)


def _classify_tar(cmd: _Cmd) -> _Verdict:
    tar = _parse_tar(cmd.argv)
    if "x" in tar.modes:
        where = _resolve(tar.directory or ".", cmd.cwd)
        return _Verdict(OpKind.MODIFY, f"tar extracts {tar.archive or 'an archive'} into {where}",
                        (where,))
    if tar.modes & {"c", "r", "u", "A", "D"}:
        if tar.archive in (None, "-"):
            return _Verdict(OpKind.HARMLESS, "tar writes an archive to stdout")
        path = _resolve(tar.archive, cmd.cwd)
        return _Verdict(OpKind.MODIFY, f"tar writes the archive {path}", (path,))
    if tar.modes:
        return _Verdict(OpKind.HARMLESS, "tar only lists or compares")
    return _Verdict(OpKind.UNKNOWN, "tar without a mode")


def _operand_paths(cmd: _Cmd, opts: _Opts, skip: int = 0) -> tuple[str, ...]:
    return _dedupe(_resolve(cmd.argv[i], cmd.cwd) for i in opts.operands[skip:])


def _classify_mkdir(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "mZ", frozenset({"--mode", "--context"}))
    paths = _operand_paths(cmd, opts)
    if "-m" in opts.values or "--mode" in opts.values:
        return _Verdict(OpKind.MODIFY, "mkdir -m sets directory modes", paths)
    if not paths:
        return _Verdict(OpKind.UNKNOWN, "mkdir without a directory")
    return _Verdict(OpKind.MKDIR, f"mkdir creates {', '.join(paths)}", paths)


_MODE_OWNER_REASONS = {
    "chmod": "chmod changes file modes",
    "chown": "chown changes file owners",
    "chgrp": "chgrp changes file groups",
}


def _classify_mode_owner(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "", frozenset({"--reference", "--from"}))
    skip = 0 if "--reference" in opts.values else 1
    return _Verdict(OpKind.MODIFY, _MODE_OWNER_REASONS[cmd.name], _operand_paths(cmd, opts, skip))


def _classify_ln_mv(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "tS", frozenset({"--target-directory", "--suffix"}))
    target = opts.values.get("-t", opts.values.get("--target-directory"))
    operands = [cmd.argv[i] for i in opts.operands]
    if cmd.name == "ln":
        if target is not None:
            written = [target]
        elif len(operands) >= 2:
            written = operands[-1:]
        else:
            written = [posixpath.basename(w.rstrip("/")) for w in operands]
        paths = _dedupe(_resolve(w, cmd.cwd) for w in written)
        return _Verdict(OpKind.MODIFY, "ln creates links", paths)
    moved = operands + ([target] if target is not None else [])
    verdict = _Verdict(OpKind.MODIFY, "mv moves files", _dedupe(_resolve(w, cmd.cwd) for w in moved))
    plain = all(flag in _MV_PLAIN_OPTIONS for flag in opts.flags)
    sources = opts.operands if target is not None else opts.operands[:-1]
    if not plain or not sources or (target is None and len(opts.operands) < 2):
        return verdict
    # Out of the init container's own filesystem into a volume, mv copies with modes, owners
    # and times kept (as cp -a) and deletes the source: a COPY, whose sources IV001 checks.
    dest_raw = target if target is not None else cmd.argv[opts.operands[-1]]
    pairs = [_source_form(cmd.argv[i], cmd.globs[i], cmd.cwd) for i in sources]
    if any(form == "contents" for _, form in pairs):
        return verdict  # `mv SRC/. D` fails: mv can't move a directory's "."
    copy = CopyOp("mv", tuple(s for s, _ in pairs), tuple(f for _, f in pairs), _resolve(dest_raw, cmd.cwd),
                  target is not None or _names_directory(dest_raw), True, True, opts.flags)
    return _copy_verdict(copy)


_SIMPLE_MODIFIERS: dict[str, tuple[str, str, frozenset[str]]] = {
    "rm": ("rm deletes files", "", frozenset()),
    "rmdir": ("rmdir deletes directories", "", frozenset()),
    "unlink": ("unlink deletes a file", "", frozenset()),
    "shred": ("shred destroys files", "ns", frozenset({"--iterations", "--size"})),
    "touch": ("touch creates or updates files", "rdt", frozenset({"--reference", "--date"})),
    "truncate": ("truncate changes file sizes", "sr", frozenset({"--size", "--reference"})),
}


def _classify_simple_modifier(cmd: _Cmd) -> _Verdict:
    reason, short_valued, long_valued = _SIMPLE_MODIFIERS[cmd.name]
    opts = _parse_options(cmd.argv, short_valued, long_valued)
    return _Verdict(OpKind.MODIFY, reason, _operand_paths(cmd, opts))


def _classify_install(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "mogtS", frozenset(
        {"--mode", "--owner", "--group", "--target-directory", "--suffix"}))
    target = opts.values.get("-t", opts.values.get("--target-directory"))
    if "d" in opts.letters or "--directory" in opts.longs:
        paths = _operand_paths(cmd, opts)
        return _Verdict(OpKind.MODIFY, "install copies files with new modes and owners", paths)
    if target is not None:
        paths = (_resolve(target, cmd.cwd),)
        sources = opts.operands
    else:
        paths = _operand_paths(cmd, opts)[-1:]
        sources = opts.operands[:-1]
    copy = None
    if sources and paths and all(_is_resolved(p) for p in paths):
        resolved = tuple(_resolve(cmd.argv[i], cmd.cwd) for i in sources)
        if all(_is_resolved(p) for p in resolved):
            mode = opts.values.get("-m", opts.values.get("--mode", "0755"))
            # A copy with changes: install sets the mode (0755 unless -m), the owner, and new times.
            copy = CopyOp("install", resolved, ("entry",) * len(resolved), paths[0], target is not None,
                          False, False, opts.flags, (f"sets mode {mode}, the owner and new times (install)",))
    return _Verdict(OpKind.MODIFY, "install copies files with new modes and owners", paths, copy)


def _classify_unzip(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "dP")
    if opts.letters & {"l", "t", "p", "Z"}:
        return _Verdict(OpKind.HARMLESS, "unzip only lists or tests")
    where = _resolve(opts.values.get("-d", "."), cmd.cwd)
    return _Verdict(OpKind.MODIFY, f"unzip extracts an archive into {where}", (where,))


def _classify_decompressor(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "S", frozenset({"--suffix"}))
    if "c" in opts.letters or "--stdout" in opts.longs or "t" in opts.letters:
        return _Verdict(OpKind.HARMLESS, f"{cmd.name} writes to stdout")
    return _Verdict(OpKind.MODIFY, f"{cmd.name} changes files in place", _operand_paths(cmd, opts))


def _classify_sed(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "efl", frozenset({"--expression", "--file", "--line-length"}))
    if "i" in opts.letters or "--in-place" in opts.longs:
        has_script = bool({"-e", "-f", "--expression", "--file"} & opts.values.keys())
        paths = _operand_paths(cmd, opts, 0 if has_script else 1)
        return _Verdict(OpKind.MODIFY, "sed -i edits files in place", paths)
    return _Verdict(OpKind.HARMLESS, "sed prints to stdout")


def _classify_awk(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "fviF")
    if opts.values.get("-i") == "inplace":
        skip = 0 if "-f" in opts.values else 1
        paths = _operand_paths(cmd, opts, skip)
        return _Verdict(OpKind.MODIFY, "awk -i inplace edits files", paths)
    return _Verdict(OpKind.HARMLESS, f"{cmd.name} prints to stdout")


_YQ_SUBCOMMANDS = frozenset({"e", "eval", "ea", "eval-all"})


def _classify_yq(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "", frozenset({"--output-format", "--input-format"}))
    if "i" in opts.letters or "--inplace" in opts.longs:
        subcommand = int(bool(opts.operands) and cmd.argv[opts.operands[0]] in _YQ_SUBCOMMANDS)
        paths = _operand_paths(cmd, opts, 1 + subcommand)
        return _Verdict(OpKind.MODIFY, "yq -i edits files in place", paths)
    return _Verdict(OpKind.HARMLESS, "yq prints to stdout")


def _classify_tee(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv)
    paths = tuple(p for p in _operand_paths(cmd, opts) if p not in _UNSEEN_PATHS)
    if not paths:
        return _Verdict(OpKind.HARMLESS, "tee only prints")
    return _Verdict(OpKind.MODIFY, f"tee writes {', '.join(paths)}", paths)


_FIND_WRITERS = frozenset(
    {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls"}
)


def _classify_find(cmd: _Cmd) -> _Verdict:
    action = next((w for w in cmd.argv[1:] if w in _FIND_WRITERS), None)
    if action is None:
        return _Verdict(OpKind.HARMLESS, "find only lists")
    i = 1
    while i < len(cmd.argv) and cmd.argv[i] in ("-H", "-L", "-P"):
        i += 1
    roots: list[str] = []
    for word in cmd.argv[i:]:
        if word.startswith(("-", "(", "!", ",")):
            break
        roots.append(word)
    paths = _dedupe(_resolve(r, cmd.cwd) for r in roots or ["."])
    return _Verdict(OpKind.MODIFY, f"find {action} changes files", paths)


def _output_path(raw: str | None, cwd: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    path = _resolve(raw, cwd)
    return () if raw in _UNSEEN_PATHS or path in _UNSEEN_PATHS else (path,)


def _classify_wget(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "OoaPeUTtwQlARDIXiB", frozenset(
        {"--output-document", "--directory-prefix", "--output-file", "--header", "--user-agent",
         "--tries", "--timeout", "--wait", "--input-file", "--user", "--password"}))
    output = opts.values.get("-O", opts.values.get("--output-document"))
    prefix = opts.values.get("-P", opts.values.get("--directory-prefix"))
    if "--spider" in opts.longs:
        paths: tuple[str, ...] = ()
    elif output is not None:
        paths = _output_path(output, cmd.cwd)
    else:
        paths = (_resolve(prefix or ".", cmd.cwd),)
    return _Verdict(OpKind.DOWNLOAD, "wget downloads over the network", paths)


def _classify_curl(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "oAbcCdDeEFHKmPQrtTuUwxXyYz", frozenset(
        {"--output", "--output-dir", "--header", "--data", "--user", "--request", "--user-agent",
         "--cookie", "--cookie-jar", "--max-time", "--retry", "--connect-timeout", "--cacert",
         "--cert", "--key", "--proxy", "--write-out", "--form", "--url"}))
    output = opts.values.get("-o", opts.values.get("--output"))
    paths = _output_path(output, cmd.cwd)
    if "O" in opts.letters or opts.longs & {"--remote-name", "--remote-name-all"}:
        paths += (_resolve(opts.values.get("--output-dir", "."), cmd.cwd),)
    return _Verdict(OpKind.DOWNLOAD, "curl downloads over the network", paths)


def _repo_directory(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return (name[:-4] if name.endswith(".git") else name) or "."


def _classify_git(cmd: _Cmd) -> _Verdict:
    argv, base, i = cmd.argv, cmd.cwd, 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--version":
        if argv[i] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") and i + 1 < len(argv):
            if argv[i] == "-C":
                base = _resolve(argv[i + 1], base)
            i += 1
        i += 1
    sub = argv[i] if i < len(argv) else ""
    if sub in _GIT_READ_ONLY:
        return _Verdict(OpKind.HARMLESS, f"git {sub} only reads" if sub else "git only reads")
    if sub == "clone":
        opts = _parse_options(argv, "bcojul", frozenset(
            {"--branch", "--depth", "--origin", "--config", "--reference", "--jobs",
             "--separate-git-dir", "--template", "--filter", "--upload-pack"}), first=i + 1)
        operands = [argv[k] for k in opts.operands]
        dest = (operands[1] if len(operands) > 1
                else _repo_directory(operands[0] if operands else ""))
        return _Verdict(OpKind.DOWNLOAD, "git clone downloads over the network",
                        (_resolve(dest, base),))
    if sub in ("pull", "fetch", "submodule", "lfs"):
        reason = f"git {sub} downloads over the network"
    else:
        reason = f"git {sub} fetches or changes a repository"
    return _Verdict(OpKind.DOWNLOAD, reason, (base,))


def _strip_transport(raw: str) -> str:
    """skopeo's ``dir:/d`` or ``oci:/d`` name a local path."""
    prefix, colon, rest = raw.partition(":")
    return rest if colon and prefix in ("dir", "oci", "oci-archive", "docker-archive") else raw


def _classify_fetcher(cmd: _Cmd) -> _Verdict:
    argv = cmd.argv
    paths: list[str] = []
    operands: list[str] = []
    i = 1
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name in _FETCH_OUTPUT_OPTIONS:
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            is_format = name in ("-o", "--output") and cmd.name in _FORMAT_OUTPUT_TOOLS
            if value and not is_format:
                paths.extend(_output_path(value, cmd.cwd))
        elif not argv[i].startswith("-"):
            operands.append(argv[i])
        i += 1
    verbs = _TOOL_FETCH_VERBS.get(cmd.name, _FETCH_VERBS)
    if not paths and len(operands) >= 2 and not verbs.isdisjoint(operands):
        last = _strip_transport(operands[-1])
        if last not in _FETCH_VERBS and not _is_remote(last):
            paths.extend(_output_path(last, cmd.cwd))
    return _Verdict(OpKind.DOWNLOAD, f"{cmd.name} downloads over the network", _dedupe(paths))


def _classify_package_manager(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "t", frozenset({"--target", "--prefix", "--root"}))
    target = opts.values.get("-t") if cmd.name in ("pip", "pip3", "uv") else None
    target = opts.values.get("--target", opts.values.get("--prefix", target))
    return _Verdict(OpKind.DOWNLOAD, f"{cmd.name} installs packages over the network",
                    _output_path(target, cmd.cwd))


def _classify_template_tool(cmd: _Cmd) -> _Verdict:
    argv, outputs = cmd.argv, []
    for i, word in enumerate(argv[1:], start=1):
        name, eq, value = word.partition("=")
        if not eq and i + 1 < len(argv):
            value = argv[i + 1]
        if name in ("-o", "--out", "--outfile", "--output", "--output-dir"):
            outputs.append(value)
        elif name in ("-template", "--template"):
            pieces = value.split(":")
            if len(pieces) >= 2:
                outputs.append(pieces[1])
    if cmd.name == "dockerize" and not any(w.lstrip("-").startswith("template") for w in argv):
        if any(w.lstrip("-").startswith("wait") for w in argv):
            return _Verdict(OpKind.WAIT, "dockerize -wait waits for a service")
        return _Verdict(OpKind.UNKNOWN, "dockerize runs a command migrate-tui cannot see into")
    paths = _dedupe(p for raw in outputs if raw for p in _output_path(raw, cmd.cwd))
    return _Verdict(OpKind.TEMPLATE, f"{cmd.name} renders templates", paths)


def _classify_nc(cmd: _Cmd) -> _Verdict:
    if "z" in _parse_options(cmd.argv, "wpsiq").letters:
        return _Verdict(OpKind.WAIT, f"{cmd.name} -z probes a port")
    return _Verdict(OpKind.UNKNOWN, f"{cmd.name} exchanges data with the network")


def _classify_shell(cmd: _Cmd) -> _Verdict:
    opts = _parse_options(cmd.argv, "oO")
    if "c" in opts.letters:
        return _Verdict(OpKind.UNKNOWN, "runs a nested shell script")
    if opts.operands:
        script = cmd.argv[opts.operands[0]]
        return _Verdict(OpKind.UNKNOWN, f"runs {script}, which migrate-tui cannot see into", program=script)
    return _Verdict(OpKind.UNKNOWN, f"{cmd.name} runs a script read from stdin")


def _classify_source(cmd: _Cmd) -> _Verdict:
    if len(cmd.argv) < 2:
        return _Verdict(OpKind.UNKNOWN, f"{cmd.name} without a file")
    return _Verdict(OpKind.UNKNOWN, f"runs {cmd.argv[1]}, which migrate-tui cannot see into", program=cmd.argv[1])


def _fixed(kind: OpKind, reason: str) -> Callable[[_Cmd], _Verdict]:
    return lambda cmd: _Verdict(kind, reason)


_HANDLERS: dict[str, Callable[[_Cmd], _Verdict]] = {
    "cp": _classify_cp,
    "rsync": _classify_rsync,
    "tar": _classify_tar,
    "mkdir": _classify_mkdir,
    "chmod": _classify_mode_owner,
    "chown": _classify_mode_owner,
    "chgrp": _classify_mode_owner,
    "ln": _classify_ln_mv,
    "mv": _classify_ln_mv,
    "install": _classify_install,
    "unzip": _classify_unzip,
    "sed": _classify_sed,
    "awk": _classify_awk,
    "gawk": _classify_awk,
    "yq": _classify_yq,
    "tee": _classify_tee,
    "find": _classify_find,
    "wget": _classify_wget,
    "curl": _classify_curl,
    "git": _classify_git,
    "nc": _classify_nc,
    "ncat": _classify_nc,
    "netcat": _classify_nc,
    "envsubst": _fixed(OpKind.TEMPLATE, "envsubst fills a template from the environment"),
    "confd": _fixed(OpKind.TEMPLATE, "confd renders templates"),
    "gomplate": _classify_template_tool,
    "j2": _classify_template_tool,
    "jinja2": _classify_template_tool,
    "consul-template": _classify_template_tool,
    "dockerize": _classify_template_tool,
    "umask": _fixed(OpKind.MODIFY, "umask changes the modes of files created after it"),
    "eval": _fixed(OpKind.UNKNOWN, "eval runs code built at run time"),
    "source": _classify_source,
    ".": _classify_source,
    **{name: _classify_simple_modifier for name in _SIMPLE_MODIFIERS},
    **{name: _classify_shell for name in _SHELLS},
}
