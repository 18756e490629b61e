"""Tests for migrate_tui.parse.dockerfile.parser: exact spans, BuildKit line rules, stages.

The PyPI ``dockerfile`` package (BuildKit's Go parser) serves as a differential oracle when it
is installed: same instruction count, keywords, start/end lines, flags and heredoc bodies.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, is_dockerfile_name, parse_dockerfile

FIXTURES = Path(__file__).parent / "fixtures" / "dockerfile_parser"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def fixture(name: str) -> tuple[str, Dockerfile]:
    text = (FIXTURES / f"{name}.Dockerfile").read_text()
    return text, parse_dockerfile(text)


def corpus_files() -> list[Path]:
    folder = CORPUS / "dockerfiles"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def span(text: str, instr: Instruction) -> str:
    return text[instr.start : instr.end]


# --------------------------------------------------------------------------- continuations


def test_continuations_join_like_buildkit() -> None:
    text, df = fixture("continuations")
    run = df.instructions[1]
    assert run.args == "apk add     curl     git     jq"  # comment and empty lines dropped
    assert (run.line, run.end_line) == (2, 7)
    assert span(text, run).startswith("RUN apk add \\  \n") and span(text, run).endswith("jq")
    assert text[run.args_start :].startswith("apk add")
    # "\\\\" at the end is an escaped escape, not a continuation
    assert df.instructions[2].args == "echo one \\\\"
    assert df.instructions[3].args == "echo two"


def test_offset_of_maps_args_back_through_continuations() -> None:
    text, df = fixture("continuations")
    run = df.instructions[1]
    i = run.args.index("jq")
    assert text[run.offset_of(i) : run.offset_of(i) + 2] == "jq"
    assert run.offset_of(len(run.args)) == run.end


def test_text_without_trailing_newline() -> None:
    text, df = fixture("no_trailing_newline")
    label = df.instructions[-1]
    assert span(text, label) == "LABEL x=1" and label.end == len(text)


def test_continuation_at_end_of_text() -> None:
    df = parse_dockerfile("FROM a\nRUN echo \\")
    assert df.instructions[-1].args == "echo" and df.instructions[-1].end == len(df.text)


# --------------------------------------------------------------------------- directives


def test_backtick_escape_keeps_windows_paths() -> None:
    text, df = fixture("escape_backtick")
    assert df.directives == {"syntax": "docker/dockerfile:1.7", "escape": "`"}
    assert df.escape == "`"
    workdir, run, copy = df.instructions[1:]
    assert workdir.args == "C:\\app\\" and workdir.line == workdir.end_line == 5
    assert (run.line, run.end_line) == (6, 8)
    assert copy.args == "C:\\src\\ C:\\dst\\"


def test_directives_only_at_the_top() -> None:
    df = parse_dockerfile("FROM a\n# escape=`\nRUN x \\\n y\n")
    assert df.directives == {} and df.escape == "\\"
    assert df.instructions[1].args == "x  y"
    late = parse_dockerfile("# hello\n# escape=`\nFROM a\n")
    assert late.directives == {}


def test_bad_escape_and_duplicate_directive_are_errors() -> None:
    df = parse_dockerfile("# escape=x\n# escape=`\nFROM a\n")
    assert df.escape == "\\"
    assert len(df.errors) == 2


# --------------------------------------------------------------------------- heredocs


def test_heredocs() -> None:
    text, df = fixture("heredocs")
    simple, chomped, double, copy, copy_flagged = df.instructions[1:6]
    assert simple.heredocs[0].name == "EOF" and simple.heredocs[0].body == "apt-get update\n"
    assert span(text, simple) == "RUN <<EOF\napt-get update\nEOF"
    assert chomped.heredocs[0].chomp and chomped.heredocs[0].name == "INDENT"
    assert text[chomped.heredocs[0].start : chomped.heredocs[0].end].endswith("\tINDENT")
    assert [h.name for h in double.heredocs] == ["ONE", "TWO"]
    assert [h.body for h in double.heredocs] == ["first\n", "second\n"]
    assert double.end == double.heredocs[-1].end and double.end_line == 12
    assert copy.keyword == "COPY" and copy.heredocs[0].body == "key=value\n"
    assert copy_flagged.flags[0].name == "chmod" and copy_flagged.flags[0].value == "0755"
    assert df.instructions[6].json_args == ("/usr/local/bin/hello",)


def test_heredoc_not_read_for_exec_form_or_other_keywords() -> None:
    df = parse_dockerfile('FROM a\nRUN ["cat", "<<EOF"]\nLABEL a=<<EOF\nEOF\n')
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "LABEL", "EOF"]


def test_unterminated_heredoc_is_an_error_not_an_exception() -> None:
    df = parse_dockerfile("FROM a\nRUN <<EOF\necho\n")
    assert df.errors and "unterminated heredoc" in df.errors[0][1]
    assert df.instructions[-1].end == len(df.text) - 1


# --------------------------------------------------------------------------- ONBUILD, flags, JSON


def test_onbuild_wraps_an_instruction() -> None:
    text, df = fixture("onbuild")
    plain, lower_json, add, heredoc = df.instructions[1:]
    assert plain.inner is not None and plain.inner.keyword == "RUN"
    assert plain.inner.args == "echo test"
    assert lower_json.raw_keyword == "onbuild" and lower_json.inner is not None
    assert lower_json.inner.raw_keyword == "run"
    assert lower_json.inner.json_args == ("echo", "json")
    assert add.inner is not None and add.inner.flags[0].name == "chown"
    flag = add.inner.flags[0]
    assert text[flag.start : flag.end] == "--chown=1:1"
    assert heredoc.inner is not None and heredoc.heredocs[0].body == "echo heredoc under onbuild\n"


def test_flags_end_at_double_dash_and_keep_offsets() -> None:
    text = "FROM a\nRUN --mount=type=cache,target=/root/.cache --network=none -- --not-a-flag\n"
    run = parse_dockerfile(text).instructions[1]
    assert [(f.name, f.value) for f in run.flags] == [("mount", "type=cache,target=/root/.cache"), ("network", "none")]
    assert [text[f.start : f.end] for f in run.flags] == ["--mount=type=cache,target=/root/.cache", "--network=none"]
    assert run.args == "--not-a-flag"
    boolean = parse_dockerfile("FROM a\nCOPY --link src dst\n").instructions[1]
    assert boolean.flags[0].value is None and boolean.args == "src dst"


def test_json_args_only_for_valid_string_arrays() -> None:
    df = parse_dockerfile('FROM a\nCMD ["a", 1]\nCMD [\'a\']\nENTRYPOINT ["x", "y"]\n')
    assert [i.json_args for i in df.instructions[1:]] == [None, None, ("x", "y")]


def test_unknown_keywords_are_kept_upper_cased() -> None:
    df = parse_dockerfile("FROM a\nfrobnicate  now\n")
    assert df.instructions[1].keyword == "FROBNICATE"
    assert df.instructions[1].raw_keyword == "frobnicate"


# --------------------------------------------------------------------------- stages


def test_stages_args_and_aliases() -> None:
    text, df = fixture("stages")
    assert df.global_args == [("BASE", "golang:1.22"), ("RUNTIME", None), ("TAG", "${BASE}-alpine")]
    builder, test, release, final = df.stages
    assert builder.name == "builder" and builder.platform == "$BUILDPLATFORM"
    assert builder.base == "${BASE}" and text[slice(*builder.base_span)] == "${BASE}"
    assert builder.base_resolved == "golang:1.22"
    assert test.from_instruction.raw_keyword == "from" and test.parent is builder
    assert release.base_resolved == "gcr.io/distroless/static"
    assert final.parent is release
    assert df.root_base(final) == ("gcr.io/distroless/static", [final, release])
    assert df.root_base(test)[0] == "golang:1.22"
    assert [i.keyword for i in release.instructions] == ["COPY", "COPY", "COPY", "ONBUILD"]


def test_build_args_override_global_defaults() -> None:
    _, df = fixture("stages")
    text = df.text
    overridden = parse_dockerfile(text, {"BASE": "golang:1.23", "NONROOT": "1", "RUNTIME": "cgr.dev/chainguard/static"})
    assert overridden.stages[0].base_resolved == "golang:1.23"
    # NONROOT is not declared with ARG: like BuildKit, build args only fill declared ARGs
    assert overridden.stages[2].base_resolved == "cgr.dev/chainguard/static"


def test_stage_lookup_and_copy_from() -> None:
    _, df = fixture("stages")
    assert df.stage("BUILDER") is df.stages[0] and df.stage("2") is df.stages[2]
    assert df.stage("9") is None and df.stage("nope") is None
    by_name, by_index, image, _onbuild = df.stages[2].instructions
    assert df.copy_sources_from(by_name) is df.stages[0]
    assert df.copy_sources_from(by_index) is df.stages[0]
    assert df.copy_sources_from(image) == "nginx:1.25"
    assert df.copy_sources_from(df.stages[0].instructions[0]) is None


def test_stage_name_defined_later_does_not_capture_an_image() -> None:
    df = parse_dockerfile("FROM golang AS reporter\nFROM ubuntu AS golang\nFROM golang\n")
    assert df.stages[0].parent is None
    assert df.stages[2].parent is df.stages[1]


def test_from_with_wrong_word_count_is_an_error() -> None:
    df = parse_dockerfile("FROM a b\n")
    assert df.errors == [(1, "FROM requires either one or three arguments")]


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "name",
    [
        "Dockerfile",
        "Containerfile",
        "Dockerfile.dev",
        "api.Dockerfile",
        "x.dockerfile",
        "Containerfile.prod",
        "web.containerfile",
        "a/b/Dockerfile.tilt",
        "dockerfile",
        "DOCKERFILE",
        "Dockerfile.alpine.arm64",
        "base.Containerfile",
        "a\\b\\Dockerfile.ci",
    ],
)
def test_dockerfile_names(name: str) -> None:
    assert is_dockerfile_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "Dockerfile.md",
        "Dockerfile.txt",
        "Dockerfile.rst",
        "Dockerfile.orig",
        "Dockerfile.bak",
        "Dockerfile.swp",
        "Dockerfile.dockerignore",
        "README.md",
        "Dockerfiles",
        "docker-compose.yml",
        "Dockerfile.",
        "api.Dockerfile.dockerignore",
        "Containerfile.containerignore",
        ".dockerignore",
        "Dockerfile.j2",
        "Dockerfile.template",
        "x.Dockerfile.md",
        ".dockerfile",
        "Dockerfile~",
        "mydockerfile",
        "Dockerfile-dev",
        "docs/Dockerfile.html",
    ],
)
def test_not_dockerfile_names(name: str) -> None:
    assert not is_dockerfile_name(name)


def test_discovery_uses_the_same_name_test(tmp_path) -> None:
    """One definition: discovery classifies exactly the names the parser module accepts."""
    from migrate_tui.repo import discover
    from migrate_tui.parse.dockerfile import names

    assert discover.is_dockerfile_name is names.is_dockerfile_name is is_dockerfile_name
    for name in ("Dockerfile", "Dockerfile.dockerignore", "app.Dockerfile", "Dockerfile.md"):
        (tmp_path / name).write_text("FROM scratch\nCOPY a /a\n" if "ignore" not in name else "*\n!src\n")
    found = sorted(c.path.name for c in discover.discover(tmp_path) if isinstance(c, discover.Candidate) and c.kind == "dockerfile")
    assert found == ["Dockerfile", "app.Dockerfile"]


# --------------------------------------------------------------------------- properties


def _joined(s: str, escape: str) -> str:
    """Span text with continuations removed, for keywords split across lines."""
    return re.sub(re.escape(escape) + r"[ \t]*\r*\n(?:[ \t]*(?:#[^\n]*)?\r*\n)*", "", s)


def check_invariants(text: str, df: Dockerfile) -> None:
    previous_end = 0
    for instr in df.instructions:
        assert 0 <= previous_end <= instr.start <= instr.end <= len(text)
        previous_end = instr.end
        assert 1 <= instr.line <= instr.end_line
        body = span(text, instr).lstrip()
        assert body.startswith(instr.raw_keyword) or _joined(body, df.escape).startswith(instr.raw_keyword)
        assert instr.keyword == instr.raw_keyword.upper()
        for flag in instr.flags:
            assert instr.start <= flag.start < flag.end <= instr.end
        for doc in instr.heredocs:
            assert instr.start <= doc.start <= doc.end <= instr.end
        assert instr.start <= instr.args_start <= instr.end


LINES = st.sampled_from(
    [
        "FROM alpine AS a",
        "from  --platform=$X b as B",
        "RUN echo \\",
        "RUN <<EOF",
        "RUN <<-E x <<F",
        "EOF",
        "\tE",
        "F",
        "# comment",
        "# escape=`",
        "# syntax=x",
        "",
        "   ",
        "\\",
        "`",
        "COPY --from=a / /",
        "ONBUILD RUN <<EOF",
        "ARG X=${Y:-z}",
        "FROM ${X}",
        'CMD ["a"]',
        "  RU\\",
        "N x",
        "\\\\",
        "LABEL a=b \\  ",
        "\ufeffFROM x",
        "WORKDIR C:\\",
        "x\ry",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=14), st.booleans())
def test_property_line_soup(lines: list[str], newline_at_end: bool) -> None:
    text = "\n".join(lines) + ("\n" if newline_at_end else "")
    check_invariants(text, parse_dockerfile(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("RUNFOM \t\n\\`#<-E\"'[]=$x\r")), max_size=80))
def test_property_any_text(text: str) -> None:
    check_invariants(text, parse_dockerfile(text))


# --------------------------------------------------------------------------- corpus


def _sources_notes() -> dict[str, str]:
    path = CORPUS / "SOURCES.tsv"
    with path.open(newline="") as handle:
        return {row["local_name"]: row["note"] for row in csv.DictReader(handle, delimiter="\t")}


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_invariants(path: Path) -> None:
    text = path.read_text()
    df = parse_dockerfile(text)
    check_invariants(text, df)
    assert df.stages, path.name
    assert not [e for e in df.errors if "unterminated" in e[1]]


def test_corpus_expectations() -> None:
    if not (CORPUS / "dockerfiles").is_dir():
        pytest.skip("shared corpus not present")
    notes = _sources_notes()

    def load(prefix: str) -> Dockerfile:
        (path,) = [p for p in corpus_files() if p.name.startswith(prefix)]
        assert f"dockerfiles/{path.name}" in notes
        return parse_dockerfile(path.read_text())

    authors = load("32_")
    assert authors.directives["syntax"] == "docker/dockerfile-upstream:master"
    assert [s.name for s in authors.stages] == ["gen", "update", "validate"]
    last = authors.stages[-1]
    assert last.base == "gen" and last.parent is authors.stages[0]
    assert authors.root_base(last)[0] == "alpine:3.23"
    assert authors.stages[1].base_resolved == "scratch"
    assert len(authors.stages[0].instructions[-1].heredocs) == 1

    updatecli = load("44_")
    assert [s.base_resolved for s in updatecli.stages] == ["node:18.0.0", "node:20-alpine", "node:20"]
    assert [line for line, _ in updatecli.errors] == [8, 13]  # ARGs after the first FROM

    flannel = load("26_")
    assert flannel.stages[-1].base == "${RUN_IMAGE}"
    assert flannel.stages[-1].base_resolved.startswith("alpine:3.24@sha256:")
    assert flannel.stages[0].name == "xx" and flannel.stages[0].platform == "$BUILDPLATFORM"

    guestbook = load("16_")
    copy = next(i for i in guestbook.stages[-1].instructions if i.flag("from"))
    assert guestbook.copy_sources_from(copy) is guestbook.stages[0]

    caddy = load("34_")
    assert caddy.escape == "`" and caddy.stages[-1].base_resolved.startswith("mcr.microsoft.com/windows/servercore:")

    windows = load("20_")
    assert windows.stages[-1].base_resolved == "mcr.microsoft.com/windows/servercore:"

    lowercase = load("40_")
    golang_stage = lowercase.stage("golang")
    assert golang_stage is not None and golang_stage.base == "ubuntu"
    assert lowercase.stages[-1].base_resolved == "ubuntu:20.04"

    scratch = load("42_")
    assert scratch.stages[-1].base_resolved == "scratch"
    assert all(isinstance(scratch.copy_sources_from(i), type(scratch.stages[0])) for i in scratch.stages[-1].instructions)


# --------------------------------------------------------------------------- differential oracle

try:
    import dockerfile as oracle
except ImportError:  # pragma: no cover - the oracle is optional
    oracle = None
needs_oracle = pytest.mark.skipif(oracle is None, reason="needs the BuildKit-backed 'dockerfile'")


def oracle_view(text: str) -> list[tuple[object, ...]]:
    rows = []
    for cmd in oracle.parse_string(text):
        rows.append(
            (
                cmd.cmd.upper(),
                cmd.start_line,
                cmd.end_line,
                tuple(cmd.flags) if not cmd.sub_cmd else (),
                tuple(h.content for h in cmd.heredocs),
            )
        )
    return rows


def my_view(df: Dockerfile) -> list[tuple[object, ...]]:
    rows = []
    for instr in df.instructions:
        flags = tuple(f"--{f.name}" + (f"={f.value}" if f.value is not None else "") for f in instr.flags)
        # the oracle does not expose heredocs of ONBUILD instructions
        docs = () if instr.keyword == "ONBUILD" else tuple(h.body for h in instr.heredocs)
        rows.append((instr.keyword, instr.line, instr.end_line, flags, docs))
    return rows


DIFFERENTIAL = corpus_files() + sorted(FIXTURES.glob("*.Dockerfile"))


@needs_oracle
@pytest.mark.parametrize("path", DIFFERENTIAL, ids=lambda p: p.name)
def test_matches_buildkit(path: Path) -> None:
    text = path.read_text()
    df = parse_dockerfile(text)
    assert my_view(df) == oracle_view(text)
    for instr, cmd in zip(df.instructions, oracle.parse_string(text)):
        if instr.keyword in {"RUN", "CMD", "ENTRYPOINT", "SHELL"} and not cmd.sub_cmd:
            expected = cmd.value if cmd.json else (cmd.value[0] if cmd.value else "",)
            assert (instr.json_args or (instr.args,)) == tuple(expected), instr


@needs_oracle
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, min_size=1, max_size=10))
def test_line_soup_matches_buildkit(lines: list[str]) -> None:
    text = "FROM base\n" + "\n".join(lines) + "\n"
    try:
        expected = oracle_view(text)
    except Exception:  # BuildKit rejects it; we only promise not to raise
        parse_dockerfile(text)
        return
    assert my_view(parse_dockerfile(text)) == expected
