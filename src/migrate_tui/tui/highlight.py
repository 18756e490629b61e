"""Line-at-a-time syntax colouring for YAML and Dockerfiles.

A diff shows fragments, so a highlighter that needs the whole file would be wrong at hunk
edges anyway; these regexes look at one line and are fast enough to run on the visible rows.
Each function returns ``(start, end, token)`` spans; the diff view maps tokens to colours.
"""

from __future__ import annotations

import re

Span = tuple[int, int, str]

_YAML_KEY = re.compile(r"^(\s*)(-\s+)?((?:\"[^\"]*\"|'[^']*'|[^\s#'\"][^:#]*?))(\s*:)(?=\s|$)")
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
    from ..dockerfile.names import is_dockerfile_name

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
    taken: list[tuple[int, int]] = []
    for match in _YAML_STRING.finditer(value):
        out.append((value_start + match.start(), value_start + match.end(), "string"))
        taken.append((match.start(), match.end()))
    for pattern, token in ((_YAML_SCALAR, "number"), (_YAML_ANCHOR, "tag")):
        for match in pattern.finditer(value):
            if not any(s <= match.start() < e for s, e in taken):
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
