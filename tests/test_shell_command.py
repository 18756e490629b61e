"""One simple-command type and one wrapper table for container commands (IV) and ``RUN``s (DF).

The ``RUN`` reader used to have its own wrapper list (exact names, no ``timeout``/``exec``/
``gosu``, ``command -v`` unwrapped); it now reads through ``parse.shell``'s table. The tests
named ``test_run_*_changed`` pin the ``RUN`` outputs that changed with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from testlib import budget, make_engine
from migrate_tui.parse.dockerfile.run import split_script
from migrate_tui.parse.shell import Command, Op, OpKind, Why, Word, parse_container_command
from migrate_tui.parse.shell.commands.wrappers import WRAPPERS, wrapped


def _names(script: str) -> list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]]:
    commands, _, _ = split_script(script)
    return [(c.name, c.argv, c.assignments) for c in commands]


def test_run_wrapper_table_is_the_shell_models() -> None:
    assert _names("sudo -E env A=1 nice -n 5 pip install x") == [("pip", ("pip", "install", "x"), (("A", "1"),))]
    assert {"sudo", "env", "nice", "timeout", "exec", "xargs", "ionice", "gosu"} <= WRAPPERS.keys()


def test_run_timeout_and_gosu_unwrapped_changed() -> None:
    # before: one command named "timeout" with argv ("timeout", "60", "gosu", "app", "pip", ...)
    assert _names("timeout 60 gosu app pip install x") == [("pip", ("pip", "install", "x"), ())]


def test_run_wrapper_by_path_changed() -> None:
    # before: "/usr/bin/sudo" was not in the RUN list (exact names only), so the name was "sudo"
    assert _names("/usr/bin/sudo apt-get update") == [("apt-get", ("apt-get", "update"), ())]


def test_run_command_v_is_a_probe_changed() -> None:
    # before: ``command -v curl`` was read as a command named "curl"
    assert _names("command -v curl || apt-get install -y curl") == [
        ("command", ("command", "-v", "curl"), ()),
        ("apt-get", ("apt-get", "install", "-y", "curl"), ()),
    ]


def test_run_exec_unwrapped_changed() -> None:
    # before: one command named "exec"; the append blocker still sees the exec (a wrapper now)
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile
    from migrate_tui.parse.dockerfile.run import EditBlocker, read_run

    commands, _, _ = split_script("exec pip install x")
    assert [(c.argv, c.wrappers) for c in commands] == [(("pip", "install", "x"), ("exec",))]
    instr = parse_dockerfile("FROM x\nRUN exec pip install x\n").stages[0].instructions[0]
    script = read_run(instr)
    assert script is not None and script.blocker is EditBlocker.EXITS


def test_df004_sees_apt_behind_timeout_changed(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM debian:12\nRUN timeout 600 apt-get update\nCMD ["true"]\n')
    findings = make_engine(tmp_path, select=("DF004",)).scan().findings
    assert [(f.rule, f.location.line) for f in findings] == [("DF004", 2)]


def test_xargs_keeps_iv_commands_unknown() -> None:
    # The container-command classifier needs every operand to know what is written: xargs adds
    # them from stdin, so the command behind it is not classified (unchanged).
    op = parse_container_command(["sh", "-c", "find /a -name '*.jar' | xargs cp -t /d"], None).ops[0]
    assert (op.kind.value, op.reason) == ("unknown", "runs xargs, which migrate-tui does not know")
    assert wrapped(["xargs", "-n", "1", "rm"]) == (3, (), ("xargs",))
    assert wrapped(["xargs", "-n", "1", "rm"], partial_argv=False) == (0, (), ())


def test_command_flags_stop_at_double_dash() -> None:
    command = Command(tuple(Word(t, 0, 0, False, False) for t in ("rm", "-rf", "--", "-x")), (), "")
    assert (command.name, command.flags) == ("rm", ("-rf",))


def test_container_ops_carry_the_shared_commands() -> None:
    script = 'A=1 sudo -E env B=2 cp -r "$SRC"/. $DEST | tee /d/log'
    parsed = parse_container_command(["sh", "-c", script], None, env={"SRC": "/src"})
    (op,) = parsed.ops
    cp, tee = op.commands
    assert (cp.name, cp.argv, cp.assignments, cp.wrappers, cp.connector) == (
        "cp",
        ("cp", "-r", "/src/.", "$DEST"),
        (("A", "1"), ("B", "2")),
        ("sudo", "env"),
        "",
    )
    assert cp.flags == ("-r",)
    assert [(w.text, script[w.start : w.end], w.quoted, w.expands) for w in cp.words[2:]] == [
        ("/src/.", '"$SRC"/.', True, False),
        ("$DEST", "$DEST", False, True),
    ]
    assert (tee.name, tee.argv, tee.connector) == ("tee", ("tee", "/d/log"), "|")


def test_an_argv_without_shell_is_one_command() -> None:
    (op,) = parse_container_command(["/bin/cp", "-r", "/a b", "/d"], None).ops
    (command,) = op.commands
    assert (command.name, [op.text[w.start : w.end] for w in command.words]) == ("cp", ["/bin/cp", "-r", "'/a b'", "/d"])


def _golden_ops() -> Iterator[Op]:
    path = Path(__file__).resolve().parent / "shell_goldens" / "goldens.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        spec = json.loads(line).get("input")
        if spec is not None:
            parsed = parse_container_command(spec["command"], spec["args"], spec["working_dir"], spec["env"])
            yield from parsed.ops


def test_every_op_has_a_typed_reason_that_fits_its_kind() -> None:
    from migrate_tui.parse.shell import OpKind as K
    from migrate_tui.parse.shell import Why as W

    seen: set[tuple[K, W]] = set()
    for op in _golden_ops():
        assert op.why is not None, op.text
        seen.add((op.kind, op.why))
        # the program an UNKNOWN op runs is set only for the two "runs a program" reasons (an
        # UNKNOWN_TOOL named "" has none), and always for a single command run by path (a
        # pipeline keeps its worst member's reason but not its program, as before)
        if op.program:
            assert op.why in (W.RUNS_PROGRAM, W.UNKNOWN_TOOL), (op.text, op.why)
        if op.why is W.RUNS_PROGRAM and len(op.commands) == 1:
            assert op.program, op.text
    assert {(K.COPY, W.COPIES), (K.DOWNLOAD, W.DOWNLOADS), (K.UNKNOWN, W.RUNS_PROGRAM), (K.UNKNOWN, W.BACKGROUND)} <= seen
    assert {why for kind, why in seen if kind is K.HARMLESS} <= {W.CHANGES_NOTHING, W.WRAPPER_ALONE, W.PRINTS, W.ASSIGNS}


def test_typed_reasons_of_known_commands() -> None:
    from migrate_tui.parse.shell import Why as W

    cases = {
        "cp -r /a/. /d": W.COPIES,
        "sleep 5": W.WAITS,
        "A=1": W.ASSIGNS,
        "cp $(cat f) /d": W.COMMAND_SUBSTITUTION,
        "cp -r /a/. /d &": W.BACKGROUND,
        "sed -i s/a/b/ /d/f": W.EDITS_IN_PLACE,
        "echo hi > /d/f": W.WRITES_FILE,
        "cat /a | cp -r /b /d": W.COPY_IN_PIPELINE,
        "cp ~/x /d": W.UNRESOLVED_PATH,
        "/docker-entrypoint.sh": W.RUNS_PROGRAM,
        "frobnicate": W.UNKNOWN_TOOL,
        "$CMD": W.VARIABLE_COMMAND,
        "envsubst < /t > /d/f": W.RENDERS_TEMPLATE,
        "apk add curl": W.INSTALLS_PACKAGES,
        "until nc -z db 5432; do sleep 1; done": W.WAITS,
        "while true; do cp -r /a /d; done": None,  # a loop that writes is opaque (no op)
        "cat x | /bin/foo": W.RUNS_PROGRAM,  # the pipeline's worst member (Op.program stays "")
    }
    got = {}
    for script in cases:
        parsed = parse_container_command(["sh", "-c", script], None)
        got[script] = parsed.ops[0].why if parsed.ops else None
    assert got == cases


# --------------------------------------------------------------------------- one classification


def _run_effects(script: str) -> list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]]:
    commands, _, _ = split_script(script)
    return [(c.name, str(c.kind), str(c.why), c.reads, c.writes) for c in commands]


def _container_effects(script: str) -> list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]]:
    parsed = parse_container_command(["sh", "-c", script], None)
    return [(c.name, str(c.kind), str(c.why), c.reads, c.writes) for op in parsed.ops for c in op.commands]


CLASSIFIED = [
    ("cp -r /src/. /dst/", [("cp", "copy", "copies", ("/src",), ("/dst",))]),
    ("sudo sed -i s/a/b/ /etc/x.conf", [("sed", "modify", "edits-in-place", ("/etc/x.conf",), ("/etc/x.conf",))]),
    ("tar -xzf /tmp/a.tgz -C /opt", [("tar", "modify", "extracts", ("/tmp/a.tgz",), ("/opt",))]),
    ("unzip -q /tmp/a.zip -d /opt", [("unzip", "modify", "extracts", ("/tmp/a.zip",), ("/opt",))]),
    ("curl -fsSL -o /tmp/x https://e/x", [("curl", "download", "downloads", (), ("/tmp/x",))]),
    ("echo hi > /etc/motd", [("echo", "modify", "writes-file", (), ("/etc/motd",))]),
    ("sort < /etc/in > /out 2>&1", [("sort", "modify", "writes-file", ("/etc/in",), ("/out",))]),
    ("mv /a /b /c/", [("mv", "copy", "copies", ("/a", "/b"), ("/c",))]),
    ("install -m 0644 /a /b", [("install", "modify", "copies-changed", ("/a",), ("/b",))]),
    ("X=1", [("", "harmless", "assigns", (), ())]),
    ("cp $(ls /x) /y", [("cp", "unknown", "command-substitution", (), ())]),
    ("X=$(id -u) touch /a", [("touch", "unknown", "command-substitution", (), ())]),
    ("echo $((1+2)) > /n", [("echo", "unknown", "command-substitution", (), ("/n",))]),
    ("echo '$(x)' > /q", [("echo", "modify", "writes-file", (), ("/q",))]),
    (
        "curl -sL https://e/x.tgz | tar -xz -C /opt",
        [("curl", "download", "downloads", (), ()), ("tar", "modify", "extracts", (), ("/opt",))],
    ),
]


def test_run_and_container_commands_are_classified_alike() -> None:
    # One classification per simple command, from a RUN or from a container's sh -c script.
    for script, expected in CLASSIFIED:
        assert _run_effects(script) == expected, script
        assert _container_effects(script) == expected, script


def test_op_is_derived_from_its_commands() -> None:
    # kind = the most severe member's, paths = the union of the members' writes
    op = parse_container_command(["sh", "-c", "curl -sL https://e/x.tgz | tar -xz -C /opt"], None).ops[0]
    assert (op.kind.value, op.why, op.paths) == ("download", Why.DOWNLOADS, ("/opt",))
    assert [c.kind for c in op.commands] == [OpKind.DOWNLOAD, OpKind.MODIFY]
    # one command: the op is the command's, its argv the words as written (wrappers included)
    op = parse_container_command(["sh", "-c", "exec cp -a /src/. /dst/"], None).ops[0]
    (command,) = op.commands
    assert (op.kind, op.why, op.paths, op.copy, op.argv) == (command.kind, command.why, command.writes, command.copy, command.written_argv)
    assert (command.argv, command.wrappers, op.argv) == (
        ("cp", "-a", "/src/.", "/dst/"),
        ("exec",),
        ("exec", "cp", "-a", "/src/.", "/dst/"),
    )
    # the tar pipe is one COPY made of two commands
    op = parse_container_command(["sh", "-c", "tar -C /src -cf - . | tar -C /dst -xf -"], None).ops[0]
    assert (op.kind, op.paths, [(c.reads, c.writes) for c in op.commands]) == (OpKind.COPY, ("/dst",), [(("/src",), ()), ((), ("/dst",))])


def test_run_paths_follow_a_top_level_cd_only() -> None:
    # A RUN starts in its WORKDIR, which the reader doesn't see: relative paths stay under $PWD
    # until a top-level cd; a cd inside a subshell or compound command leaves it unknown.
    assert [c[4] for c in _run_effects("touch a && cd /app && cp a b && cd - && touch c")] == [
        ("$PWD/a",),
        (),
        ("/app/b",),
        (),
        ("$OLDPWD/c",),
    ]
    assert [c[4] for c in _run_effects("cd /x && (cd /y && touch y) && touch z")] == [(), (), ("$PWD/y",), ("$PWD/z",)]


def test_run_exec_form_is_classified_without_unwrapping_its_words() -> None:
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile
    from migrate_tui.parse.dockerfile.run import read_run

    instr = parse_dockerfile('FROM x\nRUN ["sudo", "rm", "-rf", "/var/lib/apt/lists"]\n').stages[0].instructions[0]
    script = read_run(instr)
    assert script is not None
    (command,) = script.commands
    assert (command.name, command.kind, command.why, command.writes) == ("sudo", OpKind.MODIFY, Why.CHANGES_FILES, ("/var/lib/apt/lists",))


def test_wrapped_editor_keeps_the_old_iv_verdict(tmp_path: Path) -> None:
    # `sudo sed -i` into the copied tree: the IV analysis reads the op's first command through
    # Command.name/wrappers now, and keeps judging a wrapped editor as it did before the shared
    # Command (a change of the copy, IV001 manual), not as templating (IV002) like a bare `sed -i`.
    fixture = Path(__file__).parent / "fixtures" / "IV002" / "sed_after_copy.yaml"
    text = fixture.read_text(encoding="utf-8").replace("    sed -i", "    sudo sed -i")
    (tmp_path / "job.yaml").write_text(text, encoding="utf-8")
    (finding,) = make_engine(tmp_path, select=("IV001", "IV002")).scan().findings
    assert (finding.rule, finding.fix_blocked) == (
        "IV001",
        '`sudo sed -i "s/__ENV__/$ENVIRONMENT/" /work/config.yaml`: sed -i edits files in place',
    )


def test_consumer_that_execs_a_copied_binary_is_manual_fixed(tmp_path: Path) -> None:
    # Deliberate output change (a bug fix): a reader whose shell script runs a binary from the
    # volume behind a wrapper (`exec /test/sleep 5`) was missed, because the check looked at the
    # op's first word ("exec"), and IV001 offered a SAFE fix although image volumes may be
    # mounted noexec. The check now reads each Command's own name behind its wrappers.
    fixture = Path(__file__).parent / "fixtures" / "IV001" / "manual_executes_copied_binary.yaml"
    hook = '        lifecycle:\n          preStop:\n            exec:\n              command: [/test/sleep, "5"]\n'
    text = fixture.read_text(encoding="utf-8")
    assert hook in text
    for script in ("exec /test/sleep 5", "timeout 5 /test/sleep 5", "echo go | /test/sleep 5"):
        (tmp_path / "ds.yaml").write_text(text.replace(hook, f'        command: [sh, -c, "{script}"]\n'), encoding="utf-8")
        (finding,) = make_engine(tmp_path, select=("IV001",)).scan().findings
        assert (finding.rule, finding.fix, finding.fix_blocked) == (
            "IV001",
            None,
            "'collector' executes /test/sleep from the volume; some runtimes mount image volumes noexec, "
            "and a renamed binary can't be expressed as a mount",
        ), script


_RUN_WORDS = st.sampled_from(
    "cp -r /a b tar -xf -C cd .. > < >& 2 $(x) `y` $X && | ; ( ) { } if then fi sudo xargs env A=1 ' \" \\ \n <<EOF EOF".split(" ")
)


@settings(max_examples=budget(300))
@given(script=st.one_of(st.lists(_RUN_WORDS, max_size=14).map(" ".join), st.text(max_size=60)))
def test_run_scripts_are_classified_and_never_raise(script: str) -> None:
    # Every simple command of a RUN is classified by the shell model's classifiers, as a
    # container's are: never an exception, never a command without a kind.
    commands, end, _ = split_script(script)
    assert 0 <= end <= len(script)
    for command in commands:
        assert isinstance(command.kind, OpKind) and isinstance(command.why, Why), command
        assert all(isinstance(p, str) for p in command.reads + command.writes)
        if command.kind is OpKind.COPY:
            assert command.copy is not None and command.copy.dest.startswith("/")


@settings(max_examples=budget(200))
@example(argv=[])  # RUN [] crashed the exec-form classification (IndexError) before it shipped
@given(argv=st.lists(st.one_of(_RUN_WORDS, st.text(max_size=8)), max_size=6))
def test_exec_form_runs_are_classified_and_never_raise(argv: list[str]) -> None:
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile
    from migrate_tui.parse.dockerfile.run import read_run

    parsed = parse_dockerfile(f"FROM x\nRUN {json.dumps(argv)}\n")
    (instr,) = parsed.stages[0].instructions
    script = read_run(instr)
    assert script is not None
    if instr.json_args == ():
        assert script.commands == ()
    for command in script.commands:
        assert isinstance(command.kind, OpKind) and isinstance(command.why, Why), command
