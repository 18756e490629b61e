"""The fast Dockerfile parser against the version it replaced (tests/oracle/dockerfile_parser_v1.py).

The speed-up changed how offsets are kept (runs of consecutive characters instead of one offset
per character) and added fast paths (lines without continuations, instructions without flags,
values without ``$``). Every field must stay the same: keyword, offsets, lines, flags, args,
``offset_of`` at every index (negative ones and past the end included), heredocs, ONBUILD inner
instructions, stages, global ARGs, directives and errors, on every Dockerfile in tests/fixtures and
tests/bad_inputs, the shared corpus (when present) and generated texts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from migrate_tui.parse.dockerfile.names import is_dockerfile_name
from migrate_tui.parse.dockerfile.parser import parse_dockerfile
from oracle import dockerfile_parser_v1 as v1
from test_dockerfile_parser import LINES
from testlib import CORPUS, FIXTURES, REPO, budget


def _instruction_view(instr: object) -> tuple[object, ...]:
    if instr is None:
        return ()
    args: str = getattr(instr, "args")
    offsets: list[object] = []
    for i in range(-len(args) - 1, len(args) + 3):
        try:
            offsets.append(getattr(instr, "offset_of")(i))
        except IndexError:
            offsets.append("IndexError")
    return (
        getattr(instr, "keyword"),
        getattr(instr, "raw_keyword"),
        getattr(instr, "start"),
        getattr(instr, "end"),
        getattr(instr, "line"),
        getattr(instr, "end_line"),
        tuple((f.name, f.value, f.start, f.end) for f in getattr(instr, "flags")),
        args,
        getattr(instr, "args_start"),
        getattr(instr, "json_args"),
        tuple((h.name, h.body, h.start, h.end, h.chomp) for h in getattr(instr, "heredocs")),
        _instruction_view(getattr(instr, "inner")),
        tuple(offsets),
    )


def view(parsed: object) -> tuple[object, ...]:
    """Everything a parse holds, as plain values (the two parsers' classes differ)."""
    instructions = list(getattr(parsed, "instructions"))
    position = {id(i): n for n, i in enumerate(instructions)}
    stages = []
    for stage in getattr(parsed, "stages"):
        stages.append(
            (
                stage.index,
                stage.name,
                stage.base,
                stage.base_span,
                stage.base_resolved,
                stage.platform,
                position[id(stage.from_instruction)],
                tuple(position[id(i)] for i in stage.instructions),
                stage.parent.index if stage.parent is not None else None,
                stage.base_assumed,
            )
        )
    return (
        getattr(parsed, "text"),
        getattr(parsed, "directives"),
        getattr(parsed, "escape"),
        getattr(parsed, "global_args"),
        tuple(_instruction_view(i) for i in instructions),
        tuple(stages),
        getattr(parsed, "errors"),
    )


def assert_same(text: str, build_args: dict[str, str] | None = None) -> None:
    assert view(parse_dockerfile(text, build_args)) == view(v1.parse_dockerfile(text, build_args))


def _files() -> list[Path]:
    found = []
    for folder in (FIXTURES, REPO / "tests" / "bad_inputs", CORPUS / "dockerfiles", REPO / "examples"):
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.is_file() and (is_dockerfile_name(p.name) or p.suffix == ".Dockerfile")]
    return sorted(found)


FILES = _files()


def test_the_files_are_found() -> None:
    names = {p.name for p in FILES}
    assert {"Dockerfile", "continuations.Dockerfile", "heredocs.Dockerfile"} <= names, sorted(names)[:20]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(REPO.parent).as_posix())
def test_same_parse_as_before(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert_same(text)
    assert_same(text, {"TARGETARCH": "arm64", "VERSION": "9", "BASE": "${VERSION}"})


@settings(max_examples=budget(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=14), st.booleans())
@example(["RUN echo \\", "\\", "x"], False)
@example(["\\", "RUN x"], True)
@example(["\ufeffFROM x", "ONBUILD RUN <<EOF", "EOF"], True)
def test_line_soup_same_parse(lines: list[str], newline_at_end: bool) -> None:
    assert_same("\n".join(lines) + ("\n" if newline_at_end else ""))


# characters at every branch of the line logic: both escapes, Go spaces that Python's
# str.isspace disagrees with (\x1c, \x85, \xa0, \u3000), CR, quotes, heredoc and flag syntax
_ALPHABET = list("RUNFOMCPYDONBILaAsS x\t\v\f\n\r\\`#<-E\"'[]=$,{}:\x1c\x85\xa0\u3000\ufeff0")


@settings(max_examples=budget(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=120))
@example("RUN --mount=from=a,x=1 \\\n  --network=none \\\n echo hi")
@example("FROM a\nRUN \\\n\n# c\n  --x=1 y\\\n")
@example("# escape=`\nFROM a\nRUN x `\n  y\n")
@example("FROM ${A:-b} AS c\nARG A=1\nFROM ${A}\n")
@example("ONBUILD --x=1 COPY --from=a <<E /b\nE\n")
@example("COPY --from=a --chmod=7 /x /y\nRUN --mount=type=cache,target=/r --network=none make\nCOPY --link -x\n")
@example('COPY --a --b\nCOPY --a \\\n  --b c\nCOPY --a="x y" z\nCOPY --a -- b\n')
def test_any_text_same_parse(text: str) -> None:
    assert_same(text)
    assert_same(text, {"A": "x$"})


_WORDS = st.sampled_from(
    [
        "FROM",
        "RUN",
        "COPY",
        "ARG",
        "ONBUILD",
        "ENV",
        "CMD",
        "--from=a",
        "--chown=1:2",
        '--mount="type=cache,target=/x"',
        "--",
        "-",
        "--link",
        "---",
        "--=v",
        "--a=b=c",
        "--from=\\",
        "--x'y",
        "--network=none",
        "-x",
        "--chmod=755\xa0",
        "a",
        "AS",
        "b",
        "${A}",
        "$B",
        "A=1",
        'B="x y"',
        '["x", "y"]',
        "[1]",
        "<<EOF",
        "<<-'E'",
        "\\",
        "`",
        "\\\n",
        "`\n",
        "\n",
        "\n#c\n",
        "\n\n",
        " ",
        "\t",
        "\xa0",
        "\r",
    ]
)


@settings(max_examples=budget(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["", "# escape=`\n", "\ufeff", "# syntax=x\n# escape=\\\n"]), st.lists(_WORDS, max_size=30))
def test_word_soup_same_parse(head: str, words: list[str]) -> None:
    text = head + " ".join(words)
    assert_same(text)
    assert_same(text.replace(" \n", "\n"), {"B": "1", "A": "$B"})


def test_the_fast_constructor_builds_what_the_dataclass_builds() -> None:
    """parser._instruction fills ``__dict__`` by hand: same fields, equal and hashable alike."""
    import dataclasses

    from migrate_tui.parse.dockerfile import parser

    flag = parser.Flag("from", "a", 5, 13)
    values = ("COPY", "copy", 0, 20, 1, 2, (flag,), "a b", 14, None, (), None, ((0, 14),))
    fast = parser._instruction(*values)
    slow = parser.Instruction(*values)
    assert [f.name for f in dataclasses.fields(parser.Instruction)] == list(fast.__dict__)
    assert fast.__dict__ == slow.__dict__
    assert fast == slow and hash(fast) == hash(slow)
    assert dataclasses.replace(fast, args="c d") == dataclasses.replace(slow, args="c d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.args = "x"  # type: ignore[misc]


@settings(max_examples=budget(600), deadline=None)
@given(st.text(alphabet=st.sampled_from(list('[]", \t\n\r\\a\x00\x1f\u00e9\ud800/tu{}:0-')), max_size=30))
@example('["a", "b c"]')
@example('[ "a" ,"b" ]')
@example("[]")
@example('["a",]')
@example('["a" "b"]')
@example('["a\\"b", "\\u0041"]')
@example('["\t"]')
@example('["a"] ')
@example('[["a"]]')
def test_exec_form_arrays_read_as_json_loads_reads_them(body: str) -> None:
    """_json_args reads plain arrays without json.loads; the answer is json.loads's."""
    from migrate_tui.parse.dockerfile import parser

    text = "[" + body if not body.startswith("[") else body
    assert parser._json_args(text) == v1._json_args(text)
    assert parser._json_args(text + "]") == v1._json_args(text + "]")


@settings(max_examples=budget(400), deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab: \t\v\f\r\n\x1c\xa0\u3000\u00e9$")), max_size=20))
@example("golang:1.22 AS build")
@example("  a  b ")
def test_field_split_as_before(text: str) -> None:
    """FROM's words: str.split on printable ASCII, the BuildKit blank regex otherwise."""
    from migrate_tui.parse.dockerfile import parser

    assert parser._split_fields(text) == v1._split_fields(text)
