"""A Dockerfile parser that keeps exact character offsets.

Rules and change-sets edit Dockerfiles by replacing exact ranges of the text, so every
instruction, flag, argument and heredoc carries its ``start``/``end`` offsets into the text it
was parsed from. The line logic follows BuildKit's parser (``frontend/dockerfile/parser``):

- parser directives (``# syntax=``, ``# escape=``, ``# check=``) only in the leading comment
  block; ``# escape=``` `` makes the backtick the continuation character (``C:\\foo`` then is
  plain text);
- a line ending in the escape character (trailing spaces/tabs allowed, not an escaped escape)
  continues; comment lines and empty lines inside a continuation are dropped;
- ``RUN``/``COPY``/``ADD`` (also under ``ONBUILD``) in shell form read heredocs
  (``<<EOF``, ``<<-EOF``, ``<<"EOF"``, several per instruction) from the following lines.

Bad input never raises: problems are collected in ``Dockerfile.errors`` as ``(line, message)``.

A scan parses every Dockerfile of the repository, so the common case is kept cheap: a line that is
a whole instruction without flags, continuation, heredoc or ``ONBUILD`` is read by one regex
(``_simple_line``); offsets are kept as runs of consecutive characters (``Instruction.arg_runs``),
not one per character; values without ``$`` skip ARG expansion; plain exec-form arrays skip
``json.loads``. Every other line takes the general steps. tests/test_dockerfile_parser_differential.py
compares the result, field by field and offset by offset, with the parser before these shortcuts
(tests/oracle/dockerfile_parser_v1.py).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from migrate_tui.parse.dockerfile.names import is_dockerfile_name

__all__ = [
    "Dockerfile",
    "Flag",
    "Heredoc",
    "Instruction",
    "Stage",
    "env_pairs",
    "expand_args",
    "is_dockerfile_name",
    "parse_dockerfile",
]

# Go's unicode.IsSpace (BuildKit trims with it); Python's str.isspace differs (\x1c-\x1f).
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_CHARS = "".join(sorted(_GO_SPACE))  # for str.lstrip / str.rstrip
_WORD_SEP = re.compile(r"[\t\v\f\r ]+")  # BuildKit's reWhitespace
_KEYWORD = re.compile(r"[^\t\v\f\r ]+")
_HEAD = re.compile(r"([^\t\v\f\r ]+)[\t\v\f\r ]*")  # _KEYWORD, then _WORD_SEP
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)\Z")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_JSON_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
# the instruction keywords as written most often -> upper case (one shared string, not a new one each)
_UPPER = {
    spelling: keyword
    for keyword in (
        "FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL"
    ).split()
    for spelling in (keyword, keyword.lower())
}
_PLATFORM_ARGS = frozenset(
    {"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT", "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT"}
)


@dataclass(frozen=True)
class Flag:
    """A builder flag such as ``--from=builder``; offsets cover the whole token."""

    name: str
    value: str | None
    start: int
    end: int


@dataclass(frozen=True)
class Heredoc:
    """A heredoc body. ``body`` is the raw text (newlines kept, tabs not chomped);
    ``start``/``end`` span the body lines *and* the terminator line (without its newline)."""

    name: str
    body: str
    start: int
    end: int
    chomp: bool


@dataclass(frozen=True)
class Instruction:
    """One instruction; ``text[start:end]`` is all of it (continuations, heredocs)."""

    keyword: str
    raw_keyword: str
    start: int
    end: int
    line: int
    end_line: int
    flags: tuple[Flag, ...]
    args: str
    args_start: int
    json_args: tuple[str, ...] | None
    heredocs: tuple[Heredoc, ...]
    inner: Instruction | None = None
    # where ``args`` lies in the text: ``(index in args, text offset)`` at the start of each run of
    # characters that are consecutive in the text (one run unless continuations split the args)
    arg_runs: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)

    def offset_of(self, i: int) -> int:
        """Text offset of ``args[i]`` (continuations make args and text diverge; a negative ``i``
        counts from the end); ``i >= len(args)`` gives the offset just after the last argument
        character."""
        n = len(self.args)
        if i >= n:
            return self._mapped(n - 1) + 1 if n else self.args_start
        if i < 0:
            i += n
            if i < 0:
                raise IndexError(f"argument index {i - n} out of range")
        return self._mapped(i)

    def _mapped(self, i: int) -> int:
        runs = self.arg_runs
        if len(runs) == 1:
            return runs[0][1] + i
        for begin, offset in reversed(runs):
            if begin <= i:
                return offset + i - begin
        raise IndexError(f"argument index {i} has no offset")  # (runs start at 0: unreachable)

    def flag(self, name: str) -> Flag | None:
        """The last flag called ``name`` (BuildKit keeps the last of repeated flags)."""
        for found in reversed(self.flags):
            if found.name == name:
                return found
        return None


@dataclass
class Stage:
    """A build stage: its FROM and the instructions up to the next FROM."""

    index: int
    name: str | None
    base: str
    base_span: tuple[int, int]
    base_resolved: str
    platform: str | None
    from_instruction: Instruction
    instructions: list[Instruction] = field(default_factory=list)
    parent: Stage | None = None
    # ARGs the FROM uses that are declared after the first FROM: BuildKit gives them no value, so
    # ``base_resolved`` (which takes their defaults) is an assumption, reported in ``errors``
    base_assumed: tuple[str, ...] = ()


@dataclass
class Dockerfile:
    """A parsed Dockerfile. ``instructions`` holds every instruction, global ARGs included."""

    text: str
    directives: dict[str, str]
    escape: str
    global_args: list[tuple[str, str | None]]
    stages: list[Stage]
    instructions: list[Instruction]
    errors: list[tuple[int, str]]
    # what analyses derive from this parse once per scan of the file (analysis/stages.py)
    memo: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive) or by numeric index (``"0"``)."""
        if ref.isdigit():
            index = int(ref)
            return self.stages[index] if index < len(self.stages) else None
        wanted = ref.lower()
        return next((s for s in self.stages if s.name == wanted), None)

    def root_base(self, stage: Stage) -> tuple[str, list[Stage]]:
        """Follow stage aliases (``FROM builder``) to the real base image.

        Returns the resolved base of the last stage in the chain (``"scratch"`` or an image
        reference) and the chain itself, starting with ``stage``.
        """
        chain = [stage]
        while chain[-1].parent is not None:
            chain.append(chain[-1].parent)
        return chain[-1].base_resolved, chain

    def stage_of(self, instr: Instruction) -> Stage | None:
        """The stage an instruction belongs to (None for global ARGs)."""
        for stage in reversed(self.stages):
            if stage.from_instruction.start <= instr.start:
                return stage
        return None

    def copy_sources_from(self, instr: Instruction) -> Stage | str | None:
        """What ``COPY --from=`` names: an earlier stage (name or index) or an image string."""
        flag = instr.flag("from")
        if flag is None or flag.value is None:
            return None
        current = self.stage_of(instr)
        limit = current.index if current is not None else len(self.stages)
        value = flag.value
        if value.isdigit():
            index = int(value)
            return self.stages[index] if index < limit else value
        wanted = value.lower()
        for stage in self.stages[:limit]:
            if stage.name == wanted:
                return stage
        return value


# --------------------------------------------------------------------------- lines


# A physical line: (offset of its first character, offset after its content without the trailing
# \r and \n). Plain tuples: a file has many lines, and they are only unpacked.
_Line = tuple[int, int]


def _split_lines(text: str) -> list[_Line]:
    """Lines as Go's scanner sees them: split on LF only; a last line without LF counts."""
    lines: list[_Line] = []
    start = 0
    if "\r" in text:
        for raw in text.split("\n"):
            stop = start + len(raw)
            lines.append((start, stop - (len(raw) - len(raw.rstrip("\r"))) if raw.endswith("\r") else stop))
            start = stop + 1
    else:
        for raw in text.split("\n"):
            stop = start + len(raw)
            lines.append((start, stop))
            start = stop + 1
    if lines[-1][0] == len(text):  # the text ends with LF (or is empty): no line after it
        lines.pop()
    return lines


def _lstrip_count(s: str) -> int:
    return len(s) - len(s.lstrip(_GO_SPACE_CHARS))


def _rstrip_count(s: str) -> int:
    return len(s) - len(s.rstrip(_GO_SPACE_CHARS))


def _is_comment(s: str) -> bool:
    return s[_lstrip_count(s) :].startswith("#")


@lru_cache(maxsize=None)
def _continuation(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(rf"(?:(?<=[^{e}])|\A){e}[ \t]*\Z")


def _parse_directives(text: str, lines: list[_Line]) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """The ``# key=value`` block at the very top; stops at the first other line."""
    found: dict[str, str] = {}
    errors: list[tuple[int, str]] = []
    for number, (start, end) in enumerate(lines, 1):
        content = text[start:end].lstrip("\ufeff") if number == 1 else text[start:end]
        content = content.lstrip(_GO_SPACE_CHARS)
        if not content.startswith("#"):
            break
        body = content[1:]
        match = _DIRECTIVE.match(body[_lstrip_count(body) :])
        if match is None or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            break
        key = match.group(1).lower()
        if key in found:
            errors.append((number, f"only one {key} parser directive can be used"))
            continue
        found[key] = match.group(2)
    return found, errors


# --------------------------------------------------------------------------- words


def _shell_words(s: str, escape: str = "\\", raw: bool = True) -> list[tuple[str, int, int]]:
    """Split ``s`` into shell words: ``(word, start, end)`` with indices into ``s``.

    Quotes group words; ``raw`` keeps quotes and escapes in the word, otherwise they are
    removed (enough of BuildKit's lexer for heredoc names and ARG values).
    """
    words: list[tuple[str, int, int]] = []
    i, n = 0, len(s)
    while i < n:
        if s[i] in " \t\n":
            i += 1
            continue
        start, out = i, []
        while i < n and s[i] not in " \t\n":
            ch = s[i]
            if ch == escape and i + 1 < n:
                out.append(s[i : i + 2] if raw else s[i + 1])
                i += 2
            elif ch in "'\"":
                close = i + 1
                while close < n and s[close] != ch:
                    close += 2 if ch == '"' and s[close] == escape else 1
                inner = s[i + 1 : min(close, n)]
                if raw:
                    out.append(s[i : close + 1])
                elif ch == '"':
                    out.append(re.sub(re.escape(escape) + r"([\"$`\\" + re.escape(escape) + "])", r"\1", inner))
                else:
                    out.append(inner)
                i = close + 1
            else:
                out.append(ch)
                i += 1
        i = min(i, n)
        words.append(("".join(out), start, i))
    return words


def _split_fields(s: str) -> list[tuple[str, int, int]]:
    """BuildKit's whitespace split (no quoting), with indices."""
    if s.isascii() and s.isprintable():  # (most FROM lines: only spaces separate the words)
        fields = []
        at = 0
        for word in s.split(" "):
            if word:
                fields.append((word, at, at + len(word)))
            at += len(word) + 1
        return fields
    return [(m.group(), m.start(), m.end()) for m in _KEYWORD.finditer(s)]


def _extract_flags(line: str, base: int) -> tuple[list[tuple[str, int, int]], int]:
    """Leading ``--flag[=value]`` words of ``line[base:]`` (BuildKit's extractBuilderFlags).

    Returns ``(unquoted word without --, start, end)`` triples and the index where the
    remaining arguments begin.
    """
    flags: list[tuple[str, int, int]] = []
    i, n = base, len(line)
    while True:
        while i < n and line[i] in _GO_SPACE:
            i += 1
        if i >= n or not line.startswith("--", i):
            return flags, i
        start, out, blank_ok = i, [], False
        while i < n and line[i] not in _GO_SPACE:
            ch = line[i]
            if ch in "'\"":
                blank_ok = True
                close = i + 1
                while close < n and line[close] != ch:
                    if line[close] == "\\" and close + 1 < n:
                        close += 1
                    out.append(line[close])
                    close += 1
                i = close + 1
                continue
            if ch == "\\":
                if i + 1 < n:
                    out.append(line[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        i = min(i, n)
        word = "".join(out)
        if word == "--":
            return flags, i
        if blank_ok or word:
            flags.append((word[2:] if word.startswith("--") else word, start, i))


# --------------------------------------------------------------------------- instructions


class _Logical:
    """A logical line: continuations joined, mapped back to the text by runs of characters that
    are consecutive in it: ``line[starts[k]:starts[k + 1]]`` begins at text offset ``offsets[k]``."""

    __slots__ = ("line", "starts", "offsets", "end")

    def __init__(self, line: str, starts: list[int], offsets: list[int], end: int) -> None:
        self.line = line
        self.starts = starts
        self.offsets = offsets
        self.end = end  # offset after the last physical line's content

    def at(self, i: int) -> int:
        """The text offset of ``line[i]`` (``end`` past the last character); ``i >= 0``."""
        if i >= len(self.line):
            return self.end
        if len(self.starts) == 1:
            return self.offsets[0] + i
        k = bisect_right(self.starts, i) - 1
        return self.offsets[k] + i - self.starts[k]

    def span(self, i: int, j: int) -> tuple[int, int]:
        return self.at(i), (self.at(j - 1) + 1 if j > i else self.at(i))

    def runs(self, i: int, n: int) -> tuple[tuple[int, int], ...]:
        """``Instruction.arg_runs`` of ``line[i:i + n]``."""
        if n == 0:
            return ()
        starts, offsets = self.starts, self.offsets
        if len(starts) == 1:
            return ((0, offsets[0] + i),)
        k = bisect_right(starts, i) - 1
        out = [(0, offsets[k] + i - starts[k])]
        for k in range(k + 1, len(starts)):
            if starts[k] >= i + n:
                break
            out.append((starts[k] - i, offsets[k]))
        return tuple(out)


def _build_instruction(
    lg: _Logical,
    begin: int,
    line: int,
    end: int,
    end_line: int,
    heredocs: tuple[Heredoc, ...],
) -> Instruction | None:
    """The instruction starting at ``lg.line[begin:]``; None when it has no keyword."""
    s = lg.line
    n = len(s)
    i = n - len(s[begin:].lstrip(_GO_SPACE_CHARS) if begin else s.lstrip(_GO_SPACE_CHARS))
    trimmed_end = len(s.rstrip(_GO_SPACE_CHARS))
    if trimmed_end == n:  # (most lines: no trailing space, so the keyword needs no end bound)
        head = _HEAD.match(s, i)
        if head is None:
            return None
        raw_keyword, rest = head.group(1), head.end()
    else:
        kw_match = _KEYWORD.match(s, i, max(i, trimmed_end))
        if kw_match is None:
            return None
        raw_keyword = kw_match.group()
        after_kw = _WORD_SEP.match(s, kw_match.end())
        rest = after_kw.end() if after_kw else kw_match.end()
    keyword = _UPPER.get(raw_keyword) or raw_keyword.upper()
    flags: tuple[Flag, ...] = ()
    if rest >= n:
        args_begin = n
    elif s.startswith("--", rest) or s[rest] in _GO_SPACE:
        raw_flags, args_begin = _extract_flags(s, rest)
        flags = tuple(Flag(*_flag_parts(word), *lg.span(a, b)) for word, a, b in raw_flags)
    else:
        args_begin = rest  # (most instructions: no flag, no space _WORD_SEP leaves)
    tail = s[args_begin:]
    args = tail.lstrip(_GO_SPACE_CHARS)
    args_begin += len(tail) - len(args)
    args = args.rstrip(_GO_SPACE_CHARS)
    inner = None
    if keyword == "ONBUILD" and args:
        inner = _build_instruction(lg, args_begin, line, end, end_line, heredocs)
    json_args = _json_args(args) if keyword in _JSON_KEYWORDS and args.startswith("[") else None
    if len(lg.starts) == 1:  # (most instructions: one physical line, offsets are consecutive)
        offset = lg.offsets[0]
        return _instruction(
            keyword,
            raw_keyword,
            offset + i,
            end,
            line,
            end_line,
            flags,
            args,
            offset + args_begin if args else offset + n,
            json_args,
            heredocs,
            inner,
            ((0, offset + args_begin),) if args else (),
        )
    return _instruction(
        keyword,
        raw_keyword,
        lg.at(i),
        end,
        line,
        end_line,
        flags,
        args,
        lg.at(args_begin) if args else lg.at(n - 1) + 1,
        json_args,
        heredocs,
        inner,
        lg.runs(args_begin, len(args)),
    )


def _instruction(
    keyword: str,
    raw_keyword: str,
    start: int,
    end: int,
    line: int,
    end_line: int,
    flags: tuple[Flag, ...],
    args: str,
    args_start: int,
    json_args: tuple[str, ...] | None,
    heredocs: tuple[Heredoc, ...],
    inner: Instruction | None,
    arg_runs: tuple[tuple[int, int], ...],
) -> Instruction:
    """``Instruction(...)`` without the frozen dataclass's ``__init__``, which sets each field
    through ``object.__setattr__`` (about 1 us an instruction, as much as reading a plain line):
    the same fields go straight into the instance's ``__dict__`` (tests check that both build
    equal, hashable, frozen objects)."""
    instr = object.__new__(Instruction)
    fields = instr.__dict__
    fields["keyword"] = keyword
    fields["raw_keyword"] = raw_keyword
    fields["start"] = start
    fields["end"] = end
    fields["line"] = line
    fields["end_line"] = end_line
    fields["flags"] = flags
    fields["args"] = args
    fields["args_start"] = args_start
    fields["json_args"] = json_args
    fields["heredocs"] = heredocs
    fields["inner"] = inner
    fields["arg_runs"] = arg_runs
    return instr


def _flag_parts(word: str) -> tuple[str, str | None]:
    name, eq, value = word.partition("=")
    return name, value if eq else None


# an exec-form array of strings without escapes or control characters (most CMD/ENTRYPOINT/RUN
# arrays): its strings are the text between its quotes, no json.loads needed
_JSON_WS = r"[ \t\n\r]*"
_JSON_STRING = r'"([^"\\\x00-\x1f]*)"'
_JSON_PLAIN = re.compile(rf"\[{_JSON_WS}(?:{_JSON_STRING}{_JSON_WS}(?:,{_JSON_WS}{_JSON_STRING}{_JSON_WS})*)?\]\Z")
_JSON_PLAIN_STRING = re.compile(_JSON_STRING)


def _json_args(args: str) -> tuple[str, ...] | None:
    if not args.startswith("["):
        return None
    if _JSON_PLAIN.match(args):
        return tuple(_JSON_PLAIN_STRING.findall(args))
    try:
        value = json.loads(args)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _heredoc_words(line: str) -> list[tuple[str, bool]]:
    """``(name, chomp)`` for each heredoc word in a logical line, in order."""
    found = []
    for word, _, _ in _shell_words(line, "\\", raw=True):
        match = _HEREDOC_WORD.match(word)
        if match is None or not match.group(3):
            continue
        names = _shell_words(match.group(3), "\\", raw=False)
        if len(names) == 1 and names[0][0]:
            found.append((names[0][0], match.group(2) == "-"))
    return found


def _wants_heredocs(instr: Instruction) -> bool:
    target = instr.inner if instr.keyword == "ONBUILD" and instr.inner else instr
    return target.keyword in _HEREDOC_KEYWORDS and target.json_args is None and "<<" in target.args


def _read_heredocs(
    text: str,
    lines: list[_Line],
    index: int,
    wanted: list[tuple[str, bool]],
    errors: list[tuple[int, str]],
    first_line: int,
) -> tuple[tuple[Heredoc, ...], int]:
    """Consume heredoc bodies from ``lines[index:]``; returns them and the next line index."""
    docs = []
    for name, chomp in wanted:
        body_start = lines[index][0] if index < len(lines) else len(text)
        while index < len(lines):
            start, end = lines[index]
            index += 1
            candidate = text[start:end]
            if (candidate.lstrip("\t") if chomp else candidate) == name:
                docs.append(Heredoc(name, text[body_start:start], body_start, end, chomp))
                break
        else:
            errors.append((first_line, f"unterminated heredoc {name!r}"))
            end = lines[-1][1] if lines else len(text)
            docs.append(Heredoc(name, text[body_start:], body_start, max(end, body_start), chomp))
            break
    return tuple(docs), index


def _parse_instructions(text: str, lines: list[_Line], escape: str, errors: list[tuple[int, str]]) -> list[Instruction]:
    cont = _continuation(escape)
    simple = _simple_line(escape)
    out: list[Instruction] = []
    index = 0
    count = len(lines)
    bom = 1 if text.startswith("\ufeff") else 0
    while index < count:
        start, last_end = lines[index]
        if index == 0:
            start += bom
        index += 1
        first_line = index
        plain = simple.match(text, start, last_end)
        if plain is not None:
            raw_keyword, flag_words, args = plain.group(1, 2, 3)
            keyword = _UPPER.get(raw_keyword) or raw_keyword.upper()
            if args is None:
                out.append(
                    _instruction(keyword, raw_keyword, plain.start(1), last_end, index, index, (), "", plain.end(1), None, (), None, ())
                )
                continue
            if keyword != "ONBUILD" and "<<" not in args:
                # what _build_instruction gives for the line, without its general steps
                flags = () if not flag_words else _plain_flags(text, plain.start(2), plain.end(2))
                args_start = plain.start(3)
                json_args = _json_args(args) if keyword in _JSON_KEYWORDS and args.startswith("[") else None
                out.append(
                    _instruction(
                        keyword,
                        raw_keyword,
                        plain.start(1),
                        last_end,
                        index,
                        index,
                        flags,
                        args,
                        args_start,
                        json_args,
                        (),
                        None,
                        ((0, args_start),),
                    )
                )
                continue
        content = text[start:last_end]
        piece = content.lstrip(_GO_SPACE_CHARS)
        if not piece or piece[0] == "#":
            continue  # (an empty line can't continue: the escape would be on it)
        piece_start = start + len(content) - len(piece)
        match = cont.search(piece) if piece.rstrip(" \t").endswith(escape) else None  # (most lines: no regex)
        if match is None:
            logical = _Logical(piece, [0], [piece_start], last_end)
        else:
            logical, index, last_end = _join_continued(text, lines, index, cont, escape, piece, piece_start, match)
        instr = _build_instruction(logical, 0, first_line, last_end, index, ())
        if instr is None:
            continue
        if "<<" in logical.line and _wants_heredocs(instr):
            wanted = _heredoc_words(logical.line)
            if wanted:
                docs, index = _read_heredocs(text, lines, index, wanted, errors, first_line)
                end = max(last_end, docs[-1].end)
                instr = _build_instruction(logical, 0, first_line, end, index, docs)
        if instr is not None:
            out.append(instr)
    return out


@lru_cache(maxsize=None)
def _simple_line(escape: str) -> re.Pattern[str]:
    """A line that is one whole instruction with nothing for the general path to do: after Go
    spaces, a keyword of letters, then (after _WORD_SEP's blanks) flags without quotes or
    backslashes, then arguments that start with neither a blank nor ``-`` and end in a printable
    ASCII character other than ``escape`` (no continuation, no trailing blank). Groups: keyword,
    flags (maybe ""), arguments (None for a keyword alone). Most lines of most Dockerfiles."""
    last = "".join(c for c in map(chr, range(0x21, 0x7F)) if c != escape)
    blanks = r"[\t\v\f\r ]+"  # (_WORD_SEP; \s below holds every Go space and more)
    return re.compile(
        "["
        + re.escape(_GO_SPACE_CHARS)
        + rf"]*([A-Za-z]+)(?:{blanks}((?:{_PLAIN_FLAG.pattern}{blanks})*)((?=[!-,.-~]).*["
        + re.escape(last)
        + r"]))?\Z"
    )


_PLAIN_FLAG = re.compile(r"--[^\s\"'\\]+")  # a flag word _extract_flags would take as it is


def _plain_flags(text: str, start: int, end: int) -> tuple[Flag, ...]:
    """The flags of a line _simple_line matched (its flags group is ``text[start:end]``)."""
    return tuple(Flag(*_flag_parts(m.group()[2:]), m.start(), m.end()) for m in _PLAIN_FLAG.finditer(text, start, end))


def _join_continued(
    text: str,
    lines: list[_Line],
    index: int,
    cont: re.Pattern[str],
    escape: str,
    piece: str,
    piece_start: int,
    match: re.Match[str] | None,
) -> tuple[_Logical, int, int]:
    """The logical line of a physical line ending in the escape character (``piece``, from
    ``piece_start``; ``match`` finds its escape): the next non-empty, non-comment lines joined
    while they continue. Returns it, the next line index and the offset after its last line."""
    chars: list[str] = []
    starts: list[int] = []
    offsets: list[int] = []
    length = 0
    last_end = lines[index - 1][1]
    while True:
        kept = piece if match is None else piece[: match.start()]
        if kept:
            chars.append(kept)
            starts.append(length)
            offsets.append(piece_start)
            length += len(kept)
        if match is None or index >= len(lines):
            break
        while index < len(lines):
            piece_start, last_end = lines[index]
            index += 1
            piece = text[piece_start:last_end]
            stripped = piece.lstrip(_GO_SPACE_CHARS)
            if not stripped or stripped[0] == "#":
                continue
            break
        else:
            break
        match = cont.search(piece) if piece.rstrip(" \t").endswith(escape) else None
    return _Logical("".join(chars), starts, offsets, last_end), index, last_end


# --------------------------------------------------------------------------- stages and ARGs


def _arg_pairs(args: str, escape: str) -> list[tuple[str, str | None]]:
    """``ARG a=1 b`` → ``[("a", "1"), ("b", None)]`` with quotes removed from values."""
    pairs: list[tuple[str, str | None]] = []
    for word, _, _ in _shell_words(args, escape, raw=True):
        name, eq, value = word.partition("=")
        if not name:
            continue
        unquoted = "".join(w for w, _, _ in _shell_words(value, escape, raw=False))
        pairs.append((name, unquoted if eq else None))
    return pairs


def env_pairs(instr: Instruction, escape: str = "\\") -> list[tuple[str, str | None]]:
    """The variables an ``ENV`` or ``ARG`` sets for the ``RUN``s after it, quotes removed:
    ``ENV A=1 B="x y"``, legacy ``ENV NAME some value``, ``ARG NAME[=default]`` (None: no default)."""
    if instr.keyword == "ARG":
        return _arg_pairs(instr.args, escape)
    if instr.keyword != "ENV":
        return []
    words = _shell_words(instr.args, escape, raw=True)
    if words and "=" not in words[0][0]:
        rest = instr.args[words[0][2] :].strip()
        return [(words[0][0], "".join(w for w, _, _ in _shell_words(rest, escape, raw=False)) if rest else "")]
    return _arg_pairs(instr.args, escape)


@lru_cache(maxsize=None)
def _var_pattern(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    word = r"(?:[^{}$]|\$\{[^}]*\}|\$(?!\{))*"
    return re.compile(
        rf"(?P<esc>{e}\$)"
        rf"|\$\{{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+?])(?P<word>{word}))?\}}"
        r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    )


def expand_args(value: str, env: dict[str, str | None], escape: str = "\\") -> str:
    """Substitute ``$VAR``/``${VAR}``/``${VAR:-x}``/``${VAR:+x}`` (and ``-``/``+`` without colon).

    Variables that are unset (undeclared, or declared without a value) stay literal in the plain
    forms, so an unresolved reference remains visible (BuildKit would substitute ""); the
    ``-``/``+`` forms follow shell semantics.
    """
    if "$" not in value:
        return value  # (every substitution, the escaped ``$`` too, holds a ``$``)
    pattern = _var_pattern(escape)

    def replace(m: re.Match[str]) -> str:
        if m.group("esc"):
            return "$"
        name = m.group("name") or m.group("bare")
        current = env.get(name)
        op = m.group("op")
        if not op:
            return current if current is not None else m.group()
        word = expand_args(m.group("word") or "", env, escape)
        is_set = current is not None and (current != "" or not op.startswith(":"))
        if op.endswith("-"):
            return current if is_set and current is not None else word
        if op.endswith("+"):
            return word if is_set else ""
        return current if is_set and current is not None else m.group()

    return pattern.sub(replace, value)


def _meta_env(global_args: list[tuple[str, str | None]], build_args: dict[str, str], escape: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: v for k, v in build_args.items() if k in _PLATFORM_ARGS}
    for name, default in global_args:
        if name in build_args:
            env[name] = build_args[name]
        elif default is not None:
            env[name] = expand_args(default, env, escape)
        else:
            env.setdefault(name, None)
    return env


def _make_stage(
    instr: Instruction,
    index: int,
    env: dict[str, str | None],
    escape: str,
    earlier: list[Stage],
    errors: list[tuple[int, str]],
) -> Stage:
    words = _split_fields(instr.args)
    name = None
    if len(words) == 3 and words[1][0].lower() == "as":
        name = words[2][0].lower()
    elif len(words) != 1:
        errors.append((instr.line, "FROM requires either one or three arguments"))
    if words:
        base, a, b = words[0]
        base_span = (instr.offset_of(a), instr.offset_of(b - 1) + 1)
    else:
        base, base_span = "", (instr.args_start, instr.args_start)
    resolved = expand_args(base, env, escape)
    platform_flag = instr.flag("platform") if instr.flags else None
    parent = _find_parent(earlier, resolved) if earlier else None
    return Stage(index, name, base, base_span, resolved, platform_flag.value if platform_flag else None, instr, [], parent)


def _resolve_base(
    base: str,
    env: dict[str, str | None],
    late: dict[str, str],
    escape: str,
) -> tuple[str, list[str]]:
    """Expand ``base`` with the meta ARGs; fall back to ARGs declared inside earlier stages.

    BuildKit only uses ARGs declared before the first FROM (others expand to ""), but a FROM
    that names a later ARG shows what the author meant. Returns the value and the names that
    needed the fallback, so the caller can report them.
    """
    if "$" not in base:
        return base, []  # (nothing to expand, nothing borrowed)
    strict = expand_args(base, env, escape)
    names = {m.group("name") or m.group("bare") for m in _var_pattern(escape).finditer(base)}
    borrowed = sorted(n for n in names if n and env.get(n) is None and n in late)
    if not borrowed:
        return strict, []
    merged = {**env, **{n: late[n] for n in borrowed}}
    return expand_args(base, merged, escape), borrowed


def _build_stages(
    instructions: list[Instruction],
    env: dict[str, str | None],
    build_args: dict[str, str],
    escape: str,
    errors: list[tuple[int, str]],
) -> list[Stage]:
    stages: list[Stage] = []
    late: dict[str, str] = {}
    for instr in instructions:
        if instr.keyword == "FROM":
            stage = _make_stage(instr, len(stages), env, escape, stages, errors)
            resolved, borrowed = _resolve_base(stage.base, env, late, escape)
            if borrowed:
                stage.base_resolved = resolved
                stage.base_assumed = tuple(borrowed)
                stage.parent = _find_parent(stages, resolved)
                errors.append(
                    (
                        instr.line,
                        (
                            f"FROM uses ARG {', '.join(borrowed)} declared after the first FROM; "
                            "BuildKit only substitutes ARGs declared before it (the value is empty), "
                            f"assumed {resolved!r}"
                        ),
                    )
                )
            stages.append(stage)
        elif stages:
            stages[-1].instructions.append(instr)
            if instr.keyword == "ARG":
                for name, default in _arg_pairs(instr.args, escape):
                    value = build_args.get(name, default)
                    if value is not None:
                        late[name] = expand_args(value, env, escape)
        elif instr.keyword != "ARG":
            errors.append((instr.line, f"{instr.keyword} before the first FROM"))
    return stages


def _find_parent(earlier: list[Stage], resolved: str) -> Stage | None:
    wanted = resolved.lower()
    return next((s for s in earlier if s.name is not None and s.name == wanted), None)


# --------------------------------------------------------------------------- entry points


def parse_dockerfile(text: str, build_args: dict[str, str] | None = None) -> Dockerfile:
    """Parse ``text`` (LF line endings); never raises on bad input."""
    lines = _split_lines(text)
    directives, errors = _parse_directives(text, lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        errors.append((1, f"invalid escape token {escape!r} does not match ` or \\"))
        escape = "\\"
    instructions = _parse_instructions(text, lines, escape, errors)
    global_args: list[tuple[str, str | None]] = []
    for instr in instructions:
        if instr.keyword == "FROM":
            break
        if instr.keyword == "ARG":
            global_args.extend(_arg_pairs(instr.args, escape))
    env = _meta_env(global_args, build_args or {}, escape)
    stages = _build_stages(instructions, env, build_args or {}, escape, errors)
    return Dockerfile(
        text=text,
        directives=directives,
        escape=escape,
        global_args=global_args,
        stages=stages,
        instructions=instructions,
        errors=sorted(errors),
    )
