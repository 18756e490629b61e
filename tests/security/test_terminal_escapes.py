"""Issue 11 item 11: strings from a scanned repository never reach the terminal raw.

A file name and YAML/Dockerfile values carry ESC[2J (clear screen), OSC 0 (window title), OSC 8
(hyperlink), a C1 CSI, a newline and CR (forged lines), and a bidi override. ``check`` in text,
github and ``--diff`` output shows each as a visible escape (``formats.terminal.visible``); json and
sarif escape them by syntax and round-trip the exact strings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from testlib import FIXTURES
from migrate_tui.cli import main
from migrate_tui.render.formats.terminal import visible, visible_lines

# Anything a terminal would act on: C0 (except TAB and the line feeds we print ourselves), DEL,
# C1, bidi controls, line/paragraph separators, lone surrogates.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil.invalid/\x1b\\click\x1b]8;;\x1b\\\x9b31m\u202egnp.exe\rAll checks passed\n"
SHOWN = r"\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil.invalid/\x1b\click\x1b]8;;\x1b\\x9b31m\u202egnp.exe\rAll checks passed\n"
FILE_NAME = "evil\x1b[2J\x1b]0;title\x07\u202e.yaml"
FILE_SHOWN = r"evil\x1b[2J\x1b]0;title\x07\u202e.yaml"
SITE = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text()


def test_visible_shows_every_control_and_keeps_plain_text() -> None:
    assert visible(HOSTILE) == SHOWN
    assert visible("plain ASCII, tabs\tand ünïcödé → stay") == "plain ASCII, tabs\tand ünïcödé → stay"
    assert visible("a\x00b\x7fc\x85d\u2028e\u2066f\udcff") == r"a\x00b\x7fc\x85d\u2028e\u2066f\udcff"
    assert visible_lines("-a\x1b[31m\n+b\r\n") == "-a\\x1b[31m\n+b\\r\n"


def _yaml_quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    # the init container's name is hostile (it appears in the finding's message) ...
    (root / FILE_NAME).write_text(SITE.replace("name: copy-site", f"name: {_yaml_quoted('copy' + HOSTILE)}"))
    # ... and a Dockerfile's context lines, shown by --diff, hold raw escapes
    (root / "Dockerfile").write_bytes(
        b'FROM debian:12\nLABEL note="' + HOSTILE.replace("\n", "").replace("\r", "").encode() + b'"\n'
        b"RUN apt-get update && apt-get install -y curl\n"
    )
    # a file that can't be read gets a diagnostic line with its hostile name
    (root / ("bin\x1b[2J\n.yaml")).write_bytes(b"initContainers:\x00")
    return root


def _run(capsys, monkeypatch, root: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.chdir(root)
    code = main(["check", "--no-cache", *argv, "."])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_shows_escapes(repo: Path, capsys, monkeypatch) -> None:
    code, out, err = _run(capsys, monkeypatch, repo)
    assert code == 1
    assert not RAW.search(out.replace("\n", "")) and not RAW.search(err.replace("\n", ""))
    assert f"{FILE_SHOWN}:" in out
    assert "copy" + SHOWN in out
    assert r"bin\x1b[2J\n.yaml:1:1: error[binary] binary file (NUL byte); skipped" in out
    assert out.count("All checks passed") == 1  # only inside the shown (escaped) container name
    assert r"\rAll checks passed\n" in out


def test_github_annotations_show_escapes(repo: Path, capsys, monkeypatch) -> None:
    _, out, _ = _run(capsys, monkeypatch, repo, "--format", "github")
    assert not RAW.search(out.replace("\n", ""))
    lines = out.splitlines()
    assert all(line.startswith("::") for line in lines), lines
    assert any(FILE_SHOWN.replace("%", "%25") in line for line in lines)


def test_diff_output_shows_escapes(repo: Path, capsys, monkeypatch) -> None:
    code, out, err = _run(capsys, monkeypatch, repo, "--diff", "--unsafe-fixes")
    assert code == 1
    assert not RAW.search(out.replace("\n", "")) and not RAW.search(err.replace("\n", ""))
    shown = SHOWN.replace(r"\n", "").replace(r"\r", "")
    assert f' LABEL note="{shown}"\n' in out


def test_fix_messages_show_escapes(repo: Path, capsys, monkeypatch) -> None:
    _, out, err = _run(capsys, monkeypatch, repo, "--fix", "--select", "DF004,IV001")
    assert not RAW.search(out.replace("\n", "")) and not RAW.search(err.replace("\n", ""))
    # the writer never writes a path with control characters (docs/security.md): the refusal is
    # shown, escaped, and only the Dockerfile is written
    assert f"{FILE_SHOWN}:20: IV001 not fixed: {FILE_SHOWN}: the path " in err
    assert "contains control characters" in err
    assert err.endswith("Wrote 1 file: Dockerfile\n")
    assert r"bin\x1b[2J\n.yaml:1:1: error[binary]" in out


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_escape_by_syntax_and_keep_the_exact_strings(fmt: str, repo: Path, capsys, monkeypatch) -> None:
    _, out, _ = _run(capsys, monkeypatch, repo, "--format", fmt)
    assert not RAW.search(out.replace("\n", ""))
    doc = json.loads(out)
    if fmt == "json":
        paths = {f["path"] for f in doc["findings"]} | {d["path"] for d in doc["diagnostics"]}
        messages = [f["message"] for f in doc["findings"]]
    else:
        run = doc["runs"][0]
        paths = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
        messages = [r["message"]["text"] for r in run["results"]]
    assert FILE_NAME in paths
    assert any("copy" + HOSTILE in m for m in messages)


def test_patch_dir_messages_and_index_show_escapes(repo: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    patches = tmp_path / "patches"
    _, out, err = _run(capsys, monkeypatch, repo, "--patch-dir", str(patches), "--unsafe-fixes")
    assert not RAW.search(out.replace("\n", "")) and not RAW.search(err.replace("\n", ""))
    assert f"{FILE_SHOWN}:20: IV001 no patch: " in err  # the path the writer would refuse, shown escaped
    # the .patch files carry the files' exact bytes (git apply needs them); the pages people read don't
    for page in patches.glob("*.md"):
        assert not RAW.search(page.read_text(encoding="utf-8").replace("\n", "")), page.name


def test_build_errors_show_escapes(tmp_path: Path, capsys) -> None:
    # a COPY source named in the Dockerfile (a scanned, hostile file) came back raw in the error
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM scratch\nCOPY {json.dumps([HOSTILE, '/x'])}\n")
    assert main(["build", str(context), "-t", "t:1", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("migrate-tui build: error: ") and err.count("\n") == 1
    assert not RAW.search(err[:-1]), err
    assert SHOWN.rstrip(r"\n") in err


def test_links_output_shows_escapes(tmp_path: Path, capsys) -> None:
    # image names from compose/skaffold files were printed raw by `links`
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "web").mkdir()
    (root / "web" / "Dockerfile").write_text("FROM scratch\nCOPY x /x\n")
    image = "reg.example/web" + "\x1b]0;pwned\x07\x1b[2J" + ":1"
    (root / "docker-compose.yaml").write_text(f"services:\n  web:\n    build: web\n    image: {json.dumps(image)}\n")
    assert main(["links", str(root)]) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out.replace("\n", "")), out
    assert out == "reg.example/web\\x1b]0;pwned\\x07\\x1b[2J:1  web/Dockerfile (context web; compose, docker-compose.yaml:4)\n"
    assert main(["links", str(root), "--image", image]) == 1  # (not a reference: nothing builds it)
    shown = capsys.readouterr().err
    assert shown == "reg.example/web\\x1b]0;pwned\\x07\\x1b[2J:1: no Dockerfile in this repository builds it\n"
