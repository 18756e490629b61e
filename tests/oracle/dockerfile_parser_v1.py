"""The Dockerfile parser as it was before its speed-up (migrate_tui.parse.dockerfile.parser at
3b0fc8d): a character-by-character version, kept unchanged as the differential oracle of
tests/test_dockerfile_parser_differential.py. The fast parser must give the same instructions,
offsets (every ``offset_of``), flags, heredocs, stages and errors on every text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

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
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)\Z")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_JSON_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
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
    arg_offsets: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def offset_of(self, i: int) -> int:
        """Text offset of ``args[i]`` (continuations make args and text diverge);
        ``i == len(args)`` gives the offset just after the last argument character."""
        if i < len(self.arg_offsets):
            return self.arg_offsets[i]
        return self.arg_offsets[-1] + 1 if self.arg_offsets else self.args_start

    def flag(self, name: str) -> Flag | None:
        """The last flag called ``name`` (BuildKit keeps the last of repeated flags)."""
        found = [f for f in self.flags if f.name == name]
        return found[-1] if found else None


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


class _Line(NamedTuple):
    start: int  # offset of the first character
    end: int  # offset after the content (trailing \r and \n excluded)


def _split_lines(text: str) -> list[_Line]:
    """Lines as Go's scanner sees them: split on LF only; a last line without LF counts."""
    lines: list[_Line] = []
    start = 0
    while start < len(text):
        newline = text.find("\n", start)
        stop = len(text) if newline == -1 else newline
        end = stop
        while end > start and text[end - 1] == "\r":
            end -= 1
        lines.append(_Line(start, end))
        start = stop + 1
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
    for number, ln in enumerate(lines, 1):
        content = text[ln.start : ln.end].lstrip("\ufeff") if number == 1 else text[ln.start : ln.end]
        content = content[_lstrip_count(content) :]
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
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"[^\t\v\f\r ]+", s)]


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


@dataclass(frozen=True)
class _Logical:
    """A logical line: continuations joined, with each character's offset in the text."""

    line: str
    pos: tuple[int, ...]
    end: int  # offset after the last physical line's content

    def at(self, i: int) -> int:
        return self.pos[i] if i < len(self.pos) else self.end

    def span(self, i: int, j: int) -> tuple[int, int]:
        return self.at(i), (self.pos[j - 1] + 1 if j > i else self.at(i))


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
    i = begin + _lstrip_count(s[begin:])
    trimmed_end = len(s) - _rstrip_count(s)
    kw_match = _KEYWORD.match(s, i, max(i, trimmed_end))
    if kw_match is None:
        return None
    raw_keyword = kw_match.group()
    keyword = raw_keyword.upper()
    after_kw = _WORD_SEP.match(s, kw_match.end())
    rest = after_kw.end() if after_kw else kw_match.end()
    raw_flags, args_begin = _extract_flags(s, rest) if rest < len(s) else ([], len(s))
    flags = tuple(Flag(word.split("=", 1)[0], word.split("=", 1)[1] if "=" in word else None, *lg.span(a, b)) for word, a, b in raw_flags)
    args_begin += _lstrip_count(s[args_begin:])
    args = s[args_begin:]
    args = args[: len(args) - _rstrip_count(args)]
    args_start = lg.at(args_begin) if args else (lg.span(kw_match.start(), len(s))[1])
    inner = None
    if keyword == "ONBUILD" and args:
        inner = _build_instruction(lg, args_begin, line, end, end_line, heredocs)
    return Instruction(
        keyword=keyword,
        raw_keyword=raw_keyword,
        start=lg.at(i),
        end=end,
        line=line,
        end_line=end_line,
        flags=flags,
        args=args,
        args_start=args_start,
        json_args=_json_args(args) if keyword in _JSON_KEYWORDS else None,
        heredocs=heredocs,
        inner=inner,
        arg_offsets=lg.pos[args_begin : args_begin + len(args)],
    )


def _json_args(args: str) -> tuple[str, ...] | None:
    if not args.startswith("["):
        return None
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
        body_start = lines[index].start if index < len(lines) else len(text)
        while index < len(lines):
            ln = lines[index]
            index += 1
            candidate = text[ln.start : ln.end]
            if (candidate.lstrip("\t") if chomp else candidate) == name:
                docs.append(Heredoc(name, text[body_start : ln.start], body_start, ln.end, chomp))
                break
        else:
            errors.append((first_line, f"unterminated heredoc {name!r}"))
            end = lines[-1].end if lines else len(text)
            docs.append(Heredoc(name, text[body_start:], body_start, max(end, body_start), chomp))
            break
    return tuple(docs), index


def _parse_instructions(text: str, lines: list[_Line], escape: str, errors: list[tuple[int, str]]) -> list[Instruction]:
    cont = _continuation(escape)
    out: list[Instruction] = []
    index = 0
    while index < len(lines):
        ln = lines[index]
        first_line = index + 1
        index += 1
        start = ln.start + (1 if index == 1 and text.startswith("\ufeff") else 0)
        content = text[start : ln.end]
        skip = _lstrip_count(content)
        if content[skip:].startswith("#"):
            continue
        piece_start, piece = start + skip, content[skip:]
        match = cont.search(piece) if piece.rstrip(" \t").endswith(escape) else None  # (most lines: no regex)
        if match is None and not piece:
            continue
        chars: list[str] = []
        pos: list[int] = []
        last = ln
        while True:
            kept = piece if match is None else piece[: match.start()]
            chars.append(kept)
            pos.extend(range(piece_start, piece_start + len(kept)))
            if match is None or index >= len(lines):
                break
            while index < len(lines):
                last = lines[index]
                index += 1
                piece_start, piece = last.start, text[last.start : last.end]
                if _is_comment(piece) or _lstrip_count(piece) == len(piece):
                    continue
                break
            else:
                break
            match = cont.search(piece) if piece.rstrip(" \t").endswith(escape) else None
        logical = _Logical("".join(chars), tuple(pos), last.end)
        end_line = index
        instr = _build_instruction(logical, 0, first_line, last.end, end_line, ())
        if instr is None:
            continue
        if _wants_heredocs(instr):
            wanted = _heredoc_words(logical.line)
            if wanted:
                docs, index = _read_heredocs(text, lines, index, wanted, errors, first_line)
                end = max(last.end, docs[-1].end)
                instr = _build_instruction(logical, 0, first_line, end, index, docs)
        if instr is not None:
            out.append(instr)
    return out


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
    platform_flag = instr.flag("platform")
    parent = _find_parent(earlier, resolved)
    return Stage(
        index=index,
        name=name,
        base=base,
        base_span=base_span,
        base_resolved=resolved,
        platform=platform_flag.value if platform_flag else None,
        from_instruction=instr,
        instructions=[],
        parent=parent,
    )


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
