"""The scan's cheap pre-filters can't skip work that would have found something: each one is
checked against the full analysis on every fixture (with and without the filter, same findings),
and on hand-written lines that reach a fetch command without naming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testlib import CORPUS, DEMO, FIXTURES, make_engine
from migrate_tui.analysis.fetch_stage import stage_fetches
from migrate_tui.parse.dockerfile.parser import Stage, parse_dockerfile
from migrate_tui.rules import large_data_in_app_image as df005

TREES = [FIXTURES, DEMO]


def _dockerfiles(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "Dockerfile" in p.name and "fixed" not in p.name)


def _chain_fetches(text: str) -> list[tuple[bool, list]]:
    """For every ``COPY --from`` of a stage: (may_fetch, the fetches the full model finds)."""
    parsed = parse_dockerfile(text)
    out = []
    for stage in parsed.stages:
        for instr in stage.instructions:
            if instr.keyword in ("COPY", "ADD") and instr.flag("from") is not None:
                source = parsed.copy_sources_from(instr)
                fetches = []
                if isinstance(source, Stage):
                    _, chain = parsed.root_base(source)
                    fetches = [f for s in chain for f in stage_fetches(parsed, s)]
                out.append((df005.may_fetch(parsed, instr), fetches))
    return out


def test_the_fetch_prefilter_never_says_no_where_the_model_finds_a_fetch() -> None:
    seen = 0
    for path in [p for root in TREES for p in _dockerfiles(root)]:
        for may, fetches in _chain_fetches(path.read_text(encoding="utf-8", errors="replace")):
            seen += 1
            assert may or not fetches, path
    assert seen >= 10  # the fixtures have fetch stages and plain builder stages


FETCH_BY_OTHER_SPELLINGS = [
    "RUN g\\it lfs install && g\\it clone https://huggingface.co/org/m /model",
    'RUN "git" clone https://huggingface.co/org/m /model',
    "RUN 'wg'et -O /model/m.onnx https://example.com/m.onnx",
    "RUN $FETCH -O /model/m.onnx https://example.com/m.onnx",
    "RUN ${FETCH} -O /model/m.onnx https://example.com/m.onnx",
    'RUN ["wget", "-O", "/model/m.onnx", "https://example.com/m.onnx"]',
    "RUN <<EOF\nwget -O /model/m.onnx https://example.com/m.onnx\nEOF",
    "RUN CURL=1 curl -o /model/m.onnx https://example.com/m.onnx",
    "RUN pip install huggingface_hub && hf download org/m --local-dir /model",
    "ADD https://example.com/m.onnx /model/m.onnx",
]


@pytest.mark.parametrize("line", FETCH_BY_OTHER_SPELLINGS)
def test_a_fetch_spelled_without_its_plain_name_passes_the_prefilter(line: str) -> None:
    text = f'ARG FETCH=wget\nFROM alpine:3.20 AS model\nARG FETCH\n{line}\nFROM python:3.12-slim\nCOPY --from=model /model /app/model\nCMD ["python"]\n'
    [(may, fetches)] = _chain_fetches(text)
    assert fetches, "the case must be a fetch the model finds, or it proves nothing"
    assert may


@pytest.mark.parametrize("line", ["RUN go mod download", "RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app && strip /out/app"])
def test_a_builder_stage_without_fetch_words_is_skipped(line: str) -> None:
    text = f'FROM golang:1.22 AS build\n{line}\nFROM scratch\nCOPY --from=build /out/app /app\nENTRYPOINT ["/app"]\n'
    assert _chain_fetches(text) == [(False, [])]


def _findings(root: Path) -> list[tuple]:
    engine = make_engine(root, select=("DF005",))
    engine.jobs = 1
    result = engine.scan()
    return [(f.rule, f.location, f.message, f.explanation, f.fix) for f in result.findings] + [tuple(result.diagnostics)]


@pytest.mark.parametrize("root", [FIXTURES / "DF005", DEMO], ids=["DF005-fixtures", "demo"])
def test_df005_findings_are_the_same_without_the_prefilter(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(root, tree, symlinks=True)
    with_filter = _findings(tree)
    monkeypatch.setattr(df005, "may_fetch", lambda parsed, instr: True)
    without = _findings(tree)
    assert with_filter == without
    if root == FIXTURES / "DF005":
        assert len(with_filter) > 3  # the fixtures do fire


def test_the_fetch_prefilter_on_the_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present (a user's clone has none)")
    for path in _dockerfiles(CORPUS):
        for may, fetches in _chain_fetches(path.read_text(encoding="utf-8", errors="replace")):
            assert may or not fetches, path
