"""Property tests: the command parser never raises and classifies every command; a fix either
validates and is idempotent or leaves the file byte-for-byte alone. Plus a bounded atheris run
of the targets in tests/fuzz/ (skipped only when atheris can't be imported).

Hypothesis runs under the project profile (tests/testlib.py: derandomized, fixed budget). Every
failure it ever found stays here as an ``@example``, so it is re-run on every run whatever the
seed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from testlib import FIXTURES, budget, make_engine
from migrate_tui.parse.shell import OpKind, ParsedCommand, parse_container_command
from migrate_tui.platform.target import parse_target
from migrate_tui.write.writer import verify_text

HERE = Path(__file__).resolve().parent

# --- the command parser ----------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "cp",
        "-r",
        "-a",
        "-R",
        "-f",
        "-t",
        "rsync",
        "-av",
        "--delete",
        "tar",
        "-C",
        "-cf",
        "-xf",
        "-",
        "mkdir",
        "-p",
        "chmod",
        "755",
        "chown",
        "1000:1000",
        "echo",
        "set",
        "-e",
        "sh",
        "-c",
        "wget",
        "curl",
        "-o",
        "envsubst",
        "/site/.",
        "/site/*",
        "/site/",
        "/html",
        "/html/",
        "$SRC",
        "${DEST}",
        "$(ls)",
        "`pwd`",
        "*.js",
        "~",
        "&&",
        "||",
        ";",
        "|",
        ">",
        ">>",
        "2>&1",
        "<",
        "&",
        "(",
        ")",
        "{",
        "}",
        "if",
        "then",
        "fi",
        "for",
        "do",
        "done",
        "in",
        "while",
        "true",
        "exit",
        "0",
        "'",
        '"',
        "\\",
        "\n",
        "#",
        "=",
        "X=1",
        "--",
        "..",
        "../..",
    ]
)
_SCRIPTS = st.one_of(
    st.lists(_WORDS, max_size=14).map(" ".join),
    st.text(max_size=60),
)
_ENV = st.dictionaries(st.sampled_from(["SRC", "DEST", "X", "HOME"]), st.one_of(st.text(max_size=8), st.none()), max_size=3)


def _check_parsed(result: ParsedCommand) -> None:
    assert isinstance(result, ParsedCommand)
    assert result.opaque is None or (isinstance(result.opaque, str) and result.opaque)
    for op in result.ops:
        assert isinstance(op.kind, OpKind)
        if op.kind is OpKind.COPY:
            assert op.copy is not None and op.copy.dest.startswith("/")


@settings(max_examples=budget(400))
# Found by hypothesis: ``cp cp $SRC`` gave a COPY op whose destination is ``$SRC`` (not absolute);
# ``cp cp cp | ${DEST}`` with DEST empty gave a COPY op with no copy. Both ops are opaque now.
@example(script="cp cp $SRC", shell="sh", env={}, workdir=None)
@example(script="cp cp cp | ${DEST}", shell="sh", env={"DEST": ""}, workdir=None)
@given(
    script=_SCRIPTS,
    shell=st.sampled_from(["sh", "/bin/bash", "ash"]),
    env=_ENV,
    workdir=st.one_of(st.none(), st.sampled_from(["/", "/app", "rel", ""])),
)
def test_shell_scripts_never_raise(script: str, shell: str, env: dict, workdir: str | None) -> None:
    _check_parsed(parse_container_command([shell, "-c", script], None, workdir, env))
    _check_parsed(parse_container_command([shell], ["-ec", script], workdir, env))


_ARGV = dict(
    command=st.one_of(st.none(), st.lists(st.one_of(_WORDS, st.text(max_size=10)), max_size=8)),
    args=st.one_of(st.none(), st.lists(st.one_of(_WORDS, st.text(max_size=10), st.integers(), st.none()), max_size=6)),
)


@settings(max_examples=budget(300))
@example(command=["cp", "cp", "$SRC"], args=None)  # found on a fresh clone (issue 9)
@example(command=["cp", "cp", "~"], args=None)
@given(**_ARGV)
def test_argv_commands_never_raise(command, args) -> None:
    _check_parsed(parse_container_command(command, args))


# --- the rewrite ----------------------------------------------------------------------------

_COPIES = [
    "cp -r /site/. {dest}/",
    "cp -a /site/* {dest}",
    "cp -R /site {dest}/",
    "cp /site/index.html {dest}/",
    "rsync -a /site/ {dest}/",
    "tar -C /site -cf - . | tar -C {dest} -xf -",
    "cp -r /site/. {dest}/ && chmod -R 755 {dest}",
    "cp -r /a/. {dest}/; cp -r /b/. {dest}/",
    "wget -qO- http://x/a.tgz | tar xz -C {dest}",
]
_PRELUDES = ["", "set -e; ", "echo copying; ", "mkdir -p {dest}/sub && "]


@st.composite
def manifests(draw) -> str:
    indent = draw(st.sampled_from([2, 4]))
    dash = draw(st.sampled_from([0, 2]))
    quote = draw(st.sampled_from(["", "'", '"']))
    comment = draw(st.booleans())
    kind = draw(st.sampled_from(["Deployment", "Pod", "StatefulSet"]))
    dest = draw(st.sampled_from(["/html", "/usr/share/nginx/html", "/work/data"]))
    n_init = draw(st.sampled_from([1, 1, 1, 2]))  # weighted: two copies into one volume are mostly manual
    consumers = draw(st.sampled_from([1, 1, 1, 2, 0]))
    medium = draw(st.sampled_from(["{}", "{}", "{medium: Memory}", "configmap"]))

    def q(value: str) -> str:
        return f"{quote}{value}{quote}" if quote and "'" not in value and '"' not in value else value

    lines: list[str] = []

    def emit(depth: int, text: str) -> None:
        lines.append(
            " " * (indent * depth) + text + (f"  # note {len(lines)}" if comment and text.endswith(":") and len(lines) % 3 == 0 else "")
        )

    def item(depth: int, first: str, rest: list[str]) -> None:
        pad = " " * (indent * depth + dash)
        lines.append(pad + "- " + first)
        for r in rest:
            lines.append(pad + "  " + r)

    if comment:
        lines.append("# generated")
    lines.append("apiVersion: " + ("v1" if kind == "Pod" else "apps/v1"))
    lines.append(f"kind: {kind}")
    lines.append("metadata:")
    emit(1, "name: " + q("web"))
    if kind == "Pod":
        base = 0
        lines.append("spec:")
    else:
        lines.append("spec:")
        emit(1, "selector:")
        emit(2, "matchLabels: {app: web}")
        emit(1, "template:")
        emit(2, "metadata:")
        emit(3, "labels: {app: web}")
        emit(2, "spec:")
        base = 2
    emit(base + 1, "initContainers:")
    for i in range(n_init):
        script = draw(st.sampled_from(_PRELUDES)) + draw(st.sampled_from(_COPIES))
        script = script.format(dest=dest)
        if i:  # a second init container copies another tree (the same one twice is a manual merge)
            script = script.replace("/site", f"/site{i}").replace("/a/", f"/a{i}/").replace("/b/", f"/b{i}/")
        form = draw(st.sampled_from(["flow", "block", "args"]))
        rest = [f"image: {q(f'registry.example.com/site{i}:1.0')}"]
        if form == "flow":
            rest.append(f'command: ["sh", "-c", "{script}"]')
        elif form == "block":
            rest += ["command:", f"{' ' * dash}- sh", f"{' ' * dash}- -c", f"{' ' * dash}- |", f"{' ' * (dash + indent)}{script}"]
        else:
            rest += ['command: ["/bin/sh"]', f"args: [-c, {q(script) if quote else repr(script)}]"]
        rest += ["volumeMounts:", f"{' ' * dash}- name: data", f"{' ' * dash}  mountPath: {dest}"]
        item(base + 1, f"name: copy{i}", rest)
    emit(base + 1, "containers:")
    for c in range(max(1, consumers)):
        rest = [f"image: nginx:1.2{c}"]
        if c < consumers:
            read_only = draw(st.sampled_from(["", "readOnly: true", "readOnly: false"]))
            rest += ["volumeMounts:", f"{' ' * dash}- name: data", f"{' ' * dash}  mountPath: {q('/srv/www')}"]
            if read_only:
                rest.append(f"{' ' * dash}  {read_only}")
            if draw(st.sampled_from([False, False, False, True])):  # a consumer subPath: mostly manual
                rest.append(f"{' ' * dash}  subPath: sub")
        item(base + 1, f"name: app{c}", rest)
    emit(base + 1, "volumes:")
    if medium == "configmap":
        item(base + 1, "name: data", ["configMap: {name: site}"])
    else:
        item(base + 1, "name: data", [f"emptyDir: {medium}"])
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = "---\n" + text + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    return text


TARGET = "k8s=1.36,containerd=2.2"


# Under the ci profile the manifests are fixed: 36 of the 200 got a fix written when this was
# written (the rest have no finding, a manual one, or an unsafe one without --unsafe-fixes). A
# rule that stops fixing must fail this test, not pass it vacuously.
MIN_FIXED_SEEN = 24


def test_fix_validates_and_is_idempotent_or_leaves_the_file_alone() -> None:
    outcomes: dict[str, int] = {"fixed": 0, "untouched": 0}

    @settings(
        max_examples=int(os.environ.get("MIGRATE_TUI_FUZZ_EXAMPLES", budget(200))),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=manifests(), unsafe=st.booleans())
    def one_manifest(text: str, unsafe: bool) -> None:
        outcomes[_fix_or_leave_alone(text, unsafe)] += 1

    one_manifest()
    if "MIGRATE_TUI_FUZZ_EXAMPLES" not in os.environ:
        assert outcomes["fixed"] >= MIN_FIXED_SEEN, outcomes


def _fix_or_leave_alone(text: str, unsafe: bool) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "web.yaml"
        path.write_text(text)
        report, _ = make_engine(root, target=TARGET).fix(unsafe=unsafe)
        after = path.read_text()
        assert [p.name for p in root.iterdir()] in (["web.yaml"], ["web.yaml", ".migrate-tui-cache"], [".migrate-tui-cache", "web.yaml"])
        if report.written:
            assert after != text
            assert verify_text("web.yaml", after, text, parse_target(TARGET)) == []
            again, _ = make_engine(root, target=TARGET).fix(unsafe=unsafe)
            assert again.written == [], "a second fix changed the file again"
            assert path.read_text() == after
            return "fixed"
        assert path.read_bytes() == text.encode()
        return "untouched"


# --- atheris ---------------------------------------------------------------------------------

FUZZ_SECONDS = int(os.environ.get("MIGRATE_TUI_FUZZ_SECONDS", "12"))


@pytest.mark.parametrize("target", ["fuzz_dockerfile.py", "fuzz_yaml.py", "fuzz_shell.py"])
def test_atheris_target_survives_a_bounded_run(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = [HERE / "bad_inputs", FIXTURES / "IV001"]
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "fuzz" / target),
            f"-max_total_time={FUZZ_SECONDS}",
            "-rss_limit_mb=1536",
            "-timeout=10",
            "-max_len=8192",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
            *map(str, seeds),
        ],
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS + 120,
    )
    crashes = [p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-"))]
    tail = "\n".join(proc.stderr.splitlines()[-40:])
    assert proc.returncode == 0 and not crashes, tail
    shutil.rmtree(corpus, ignore_errors=True)
