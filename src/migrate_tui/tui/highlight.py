"""Line-at-a-time syntax colouring for YAML and Dockerfiles.

Each function returns ``(start, end, token)`` spans over one displayed line; the diff view
styles a plain ``Text`` with them (file text is never parsed as markup) and only for the rows
on screen. Why regexes and not Pygments (measured; docs/architecture.md, "The TUI"): for a
2,000-line side the regexes take 3-11 ms for every line (the view asks for ~45 at a time),
Pygments 35 ms (YAML) and 53 ms (Dockerfile) to lex the side once, in the UI thread for each
diff shown; Pygments' Docker lexer colours no flags (``--from=``) and no heredocs, shows a
stage name as a string, and its YAML lexer gives numbers and booleans no colour of their own.
Pygments is right where a line needs context: inside a YAML block scalar ``key: value`` and
``#`` are content, which these regexes colour as a key and a comment. Every pattern runs in
linear time on any line (tests/tui/test_tui_highlight.py holds it).
"""

from __future__ import annotations

import re
from bisect import bisect_right

Span = tuple[int, int, str]

# The key ends at its last non-blank before the colon; atomic, so a long line without one is
# rejected in linear time (a lazy ``[^:#]*?`` before ``\s*:`` took 18 s on "- " + 100k blanks).
_YAML_KEY = re.compile(r"^(\s*)(-\s+)?((?:\"[^\"]*\"|'[^']*'|(?>[^\s#'\"](?:\s*[^\s:#])*)))(\s*:)(?=\s|$)")
_YAML_DASH = re.compile(r"^(\s*)(-)(?=\s|$)")
_YAML_COMMENT = re.compile(r"(?:^|\s)(#.*)$")
_YAML_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")
_YAML_SCALAR = re.compile(r"(?<![\w.-])(?:true|false|null|yes|no|~|-?\d+(?:\.\d+)?)(?![\w.-])", re.IGNORECASE)
_YAML_DOC = re.compile(r"^(---|\.\.\.)\s*$")
_YAML_ANCHOR = re.compile(r"[&*][\w-]+|![\w!/-]+|[|>][-+]?\d*(?=\s*$)")

_DOCKER_INSTRUCTION = re.compile(
    r"^(\s*)(FROM|RUN|CMD|LABEL|MAINTAINER|EXPOSE|ENV|ADD|COPY|ENTRYPOINT|VOLUME|USER|WORKDIR|ARG|ONBUILD|"
    r"STOPSIGNAL|HEALTHCHECK|SHELL)\b",
    re.IGNORECASE,
)
_DOCKER_FLAG = re.compile(r"(?<=\s)--[\w-]+(?:=\S*)?")
_DOCKER_AS = re.compile(r"(?<=\s)(AS)(?=\s)", re.IGNORECASE)
_DOCKER_VAR = re.compile(r"\$\{?\w+\}?")
_DOCKER_COMMENT = re.compile(r"^\s*#.*$")


def language_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    from migrate_tui.parse.dockerfile.names import is_dockerfile_name

    if is_dockerfile_name(path.rsplit("/", 1)[-1]):
        return "dockerfile"
    return "text"


def spans(line: str, language: str) -> list[Span]:
    if language == "yaml":
        return yaml_spans(line)
    if language == "dockerfile":
        return dockerfile_spans(line)
    return []


def yaml_spans(line: str) -> list[Span]:
    if _YAML_DOC.match(line):
        return [(0, len(line), "doc")]
    out: list[Span] = []
    body_end = len(line)
    comment = _find_comment(line)
    if comment is not None:
        out.append((comment, len(line), "comment"))
        body_end = comment
    body = line[:body_end]
    value_start = 0
    key = _YAML_KEY.match(body)
    if key:
        if key.group(2):
            out.append((key.start(2), key.start(2) + 1, "punct"))
        out.append((key.start(3), key.end(3), "key"))
        out.append((key.start(4), key.end(4), "punct"))
        value_start = key.end()
    else:
        dash = _YAML_DASH.match(body)
        if dash:
            out.append((dash.start(2), dash.end(2), "punct"))
            value_start = dash.end()
    value = body[value_start:]
    starts: list[int] = []  # the strings found, in order and apart: a bisect tells if a match starts in one
    ends: list[int] = []
    for match in _YAML_STRING.finditer(value):
        out.append((value_start + match.start(), value_start + match.end(), "string"))
        starts.append(match.start())
        ends.append(match.end())
    for pattern, token in ((_YAML_SCALAR, "number"), (_YAML_ANCHOR, "tag")):
        for match in pattern.finditer(value):
            inside = bisect_right(starts, match.start()) - 1
            if inside < 0 or match.start() >= ends[inside]:
                out.append((value_start + match.start(), value_start + match.end(), token))
    return out


def _find_comment(line: str) -> int | None:
    """Where a ``#`` comment starts, ignoring ``#`` inside quotes."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'" and (index == 0 or line[index - 1] in " :-[{,"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return index
    return None


def dockerfile_spans(line: str) -> list[Span]:
    if _DOCKER_COMMENT.match(line):
        return [(0, len(line), "comment")]
    out: list[Span] = []
    instruction = _DOCKER_INSTRUCTION.match(line)
    if instruction:
        out.append((instruction.start(2), instruction.end(2), "keyword"))
    for match in _DOCKER_FLAG.finditer(line):
        out.append((match.start(), match.end(), "tag"))
    for match in _DOCKER_AS.finditer(line):
        out.append((match.start(1), match.end(1), "keyword"))
    for match in _DOCKER_VAR.finditer(line):
        out.append((match.start(), match.end(), "number"))
    for match in _YAML_STRING.finditer(line):
        out.append((match.start(), match.end(), "string"))
    return out
