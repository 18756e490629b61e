"""A crash is contained (like ruff's "panicked while linting FILE"): an exception in one file's
detection is an INTERNAL diagnostic for that file, in-process and in the process pool, the scan
goes on, and ``check`` exits 2; an exception while planning a fix leaves the finding, unfixed,
with the reason; any other exception in ``main`` is one line and exit 2.

The crashing rule is a real rule registered in the real registry for the test's duration (no
mock of a shipped component); it crashes on files that contain ``CRASH-ME``.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine
from migrate_tui import rules as registry
from migrate_tui.cli import main
from migrate_tui.model.findings import Applicability, DiagnosticKind, Finding, Fix, Edit, Location, Severity
from migrate_tui.parse.yamldoc import Chunk, load_documents
from migrate_tui.fixes.yaml_edit import RewriteRefused, rewrite_chunk

SITE = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text()
CRASH_SUMMARY = "IndexError: list index out of range"
INTERNAL_MESSAGE = (
    f"rule ZZ901 crashed: {CRASH_SUMMARY}; this is a bug in migrate-tui, please report it (MIGRATE_TUI_DEBUG=1 prints the traceback)"
)


def crash_on_marker(subject, ctx):
    """ZZ901: raises on a file holding CRASH-ME (as IV001 did on a duplicate volumeMount)."""
    if "CRASH-ME" in subject.source.text:
        [][0]
    return iter(())


def blocked_when_planning_crashes(subject, ctx):
    """ZZ902: one finding per pod spec whose fix planning crashes inside the real YAML rewriter."""

    def mutate(document):
        raise KeyError("volumes")

    finding = Finding(rule="ZZ902", severity=Severity.WARNING, location=Location(subject.path, subject.chunk.line), message="probe finding")
    try:
        new = rewrite_chunk(subject.source.text, subject.chunk, mutate)
    except RewriteRefused as exc:
        assert exc.kind == RewriteRefused.INTERNAL
        yield Finding(
            rule=finding.rule, severity=finding.severity, location=finding.location, message=finding.message, fix_blocked=str(exc)
        )
        return
    edit = Edit(subject.path, subject.chunk.start, subject.chunk.end, new)
    yield Finding(
        rule=finding.rule,
        severity=finding.severity,
        location=finding.location,
        message=finding.message,
        fix=Fix(applicability=Applicability.SAFE, description="probe", edits=(edit,)),
    )


def _module(name: str, code: str, check) -> types.ModuleType:
    module = types.ModuleType(f"migrate_tui.rules.{name}")
    module.__doc__ = f"{code}: a test-only rule."
    module.RULE = registry.PodSpecRule(
        code=code, name=name.strip("_").replace("_", "-"), summary="test-only rule", check=check, needles=("initContainers",)
    )
    return module


@pytest.fixture
def probe_rules():
    added = {"ZZ901": ("_crash_probe", crash_on_marker), "ZZ902": ("_plan_crash_probe", blocked_when_planning_crashes)}
    for code, (name, check) in added.items():
        sys.modules[f"migrate_tui.rules.{name}"] = _module(name, code, check)
        registry.register(code, name)
    yield
    for code, (name, _) in added.items():
        registry._MODULES.pop(code, None)
        sys.modules.pop(f"migrate_tui.rules.{name}", None)
    registry.all_rules()  # reload without the probes


def _tree(root: Path, good: int, crash: tuple[str, ...]) -> None:
    for i in range(good):
        (root / f"web{i:03d}.yaml").write_text(SITE.replace("name: web\n", f"name: web{i}\n", 1))
    for name in crash:
        (root / name).write_text("# CRASH-ME\n" + SITE)


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-process", "process-pool"])
def test_a_crashing_rule_becomes_an_internal_diagnostic_and_the_scan_goes_on(jobs: int, tmp_path: Path, probe_rules) -> None:
    _tree(tmp_path, 40, ("crash-a.yaml", "crash-b.yaml"))
    engine = make_engine(tmp_path, select=("IV001", "ZZ901"))
    engine.jobs = jobs
    assert engine.workers_for(42) == jobs
    events = list(engine.iter_scan())
    result = events[-1].result
    assert result.files_scanned == 42
    assert result.diagnostics == sorted(result.diagnostics)
    assert [(d.path, d.line, d.kind, d.message) for d in result.diagnostics] == [
        ("crash-a.yaml", 20, DiagnosticKind.INTERNAL, INTERNAL_MESSAGE),
        ("crash-b.yaml", 20, DiagnosticKind.INTERNAL, INTERNAL_MESSAGE),
    ]
    # the other rule still reports on every file, the crashed ones included
    assert sorted(f.location.path for f in result.findings) == sorted(
        [f"web{i:03d}.yaml" for i in range(40)] + ["crash-a.yaml", "crash-b.yaml"]
    )
    # the streaming API delivers the crash with its file, as an ordinary diagnostic
    streamed = {e.path: e.diagnostics for e in events if type(e).__name__ == "FileScanned"}
    assert [d.kind for d in streamed["crash-a.yaml"]] == [DiagnosticKind.INTERNAL]
    assert streamed["web000.yaml"] == ()


def test_check_exits_two_on_a_crash_and_says_so(tmp_path: Path, probe_rules, capsys, monkeypatch) -> None:
    _tree(tmp_path, 1, ("crash.yaml",))
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--select", "ZZ901", "--no-cache", "."])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == (
        f"crash.yaml:20:1: error[internal] {INTERNAL_MESSAGE}\n"
        "\n"
        "No findings (2 files scanned).\n"
        "1 file crashed migrate-tui (error[internal] above): a bug in migrate-tui, please report it.\n"
    )
    assert "Traceback" not in err
    # --exit-zero is about findings: a crash still exits 2, in every mode
    assert main(["check", "--select", "ZZ901", "--no-cache", "--exit-zero", "."]) == 2
    assert main(["check", "--select", "ZZ901", "--no-cache", "--diff", "."]) == 2
    assert main(["check", "--select", "ZZ901", "--no-cache", "--format", "json", "."]) == 2
    capsys.readouterr()


def test_debug_env_prints_the_traceback(tmp_path: Path, probe_rules, capsys, monkeypatch) -> None:
    _tree(tmp_path, 0, ("crash.yaml",))
    monkeypatch.setenv("MIGRATE_TUI_DEBUG", "1")
    assert main(["check", "--select", "ZZ901", "--no-cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "in crash_on_marker" in err


def test_a_crash_while_planning_a_fix_blocks_that_fix_with_the_reason(tmp_path: Path, probe_rules, capsys) -> None:
    _tree(tmp_path, 1, ())
    before = (tmp_path / "web000.yaml").read_bytes()
    result = make_engine(tmp_path, select=("ZZ902",)).scan()
    assert result.diagnostics == []
    [finding] = result.findings
    assert finding.fix is None
    assert finding.fix_blocked == (
        "planning the rewrite crashed (KeyError: 'volumes'); not rewritten, this is a bug in migrate-tui, please report it"
    )
    assert main(["check", "--fix", "--select", "ZZ902", "--no-cache", str(tmp_path)]) == 1
    assert (tmp_path / "web000.yaml").read_bytes() == before
    capsys.readouterr()


def test_rewrite_refusals_are_typed() -> None:
    [doc] = list(load_documents("a: 1\n"))
    with pytest.raises(RewriteRefused) as crash:
        rewrite_chunk("a: 1\n", doc.chunk, lambda d: d["missing"])
    assert crash.value.kind == RewriteRefused.INTERNAL
    assert str(crash.value).startswith("planning the rewrite crashed (KeyError: 'missing')")
    with pytest.raises(RewriteRefused) as refused:
        rewrite_chunk("--- !x\na: 1\n", Chunk(0, 0, 11, 1, True), lambda d: None)
    assert refused.value.kind == RewriteRefused.FORMAT


def test_any_other_exception_in_main_is_one_line_and_exit_two(tmp_path: Path, capsys, monkeypatch) -> None:
    from migrate_tui import cli

    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setitem(cli._HANDLERS, "rules", broken)
    assert main(["rules"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "migrate-tui: internal error: RuntimeError: boom second line (a bug in migrate-tui; please report it; "
        "MIGRATE_TUI_DEBUG=1 prints the traceback)\n"
    )
    monkeypatch.setenv("MIGRATE_TUI_DEBUG", "1")
    assert main(["rules"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_pool_worker_that_cannot_start_reports_each_file_instead_of_hanging(tmp_path: Path, monkeypatch) -> None:
    """multiprocessing restarts a worker whose start-up fails forever; ours starts, keeps the reason,
    and answers every file with an INTERNAL diagnostic (run here in-process, on the real functions)."""
    import signal

    from migrate_tui.pipeline import engine as engine_module

    monkeypatch.setattr(engine_module, "_WORKER", None)
    monkeypatch.setattr(engine_module, "_WORKER_FAILED", None)
    handler = signal.getsignal(signal.SIGINT)
    try:
        engine_module._worker_init(tmp_path, make_engine(tmp_path).config, "auto", b"not a pickle")
    finally:
        signal.signal(signal.SIGINT, handler)
    [(findings, [diagnostic], source, entry)] = engine_module._worker_batch([(str(tmp_path / "a.yaml"), "yaml", None)])
    assert (findings, source, entry) == ([], None, None)
    assert (diagnostic.path, diagnostic.line, diagnostic.kind) == ("a.yaml", 1, DiagnosticKind.INTERNAL)
    assert diagnostic.message.startswith("starting the scan worker crashed: UnpicklingError: ")
