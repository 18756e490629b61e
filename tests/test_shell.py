"""migrate_tui.parse.shell: command + args -> classified operations (rules IV001/IV002)."""

from __future__ import annotations


import pytest
import posixpath

from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrate_tui.parse.shell import PIPELINE_SEVERITY, CopyOp, Op, OpKind, ParsedCommand, parse_container_command

K = OpKind


def sh(script: str, **kwargs: object) -> ParsedCommand:
    return parse_container_command(["sh", "-c", script], None, **kwargs)  # type: ignore[arg-type]


def kinds(parsed: ParsedCommand) -> list[OpKind]:
    assert parsed.opaque is None, parsed.opaque
    return [op.kind for op in parsed.ops]


def only(parsed: ParsedCommand) -> Op:
    assert parsed.opaque is None, parsed.opaque
    assert len(parsed.ops) == 1, parsed.ops
    return parsed.ops[0]


def copy_of(parsed: ParsedCommand, index: int = 0) -> CopyOp:
    op = parsed.ops[index]
    assert op.kind is K.COPY and op.copy is not None, op
    return op.copy


# --------------------------------------------------------------------------- the brief's examples


def test_argocd_copy_then_link() -> None:
    parsed = parse_container_command(
        ["sh", "-c"],
        [
            "/bin/cp --update=none /usr/local/bin/argocd /var/run/argocd/argocd && "
            "/bin/ln -sf /var/run/argocd/argocd /var/run/argocd/argocd-cmp-server"
        ],
    )
    assert parsed.shell and kinds(parsed) == [K.COPY, K.MODIFY]
    copy = copy_of(parsed)
    assert copy.forms == ("entry",)
    assert copy.sources == ("/usr/local/bin/argocd",)
    assert copy.dest == "/var/run/argocd/argocd"
    assert copy.flags == ("--update=none",)
    assert not copy.recursive
    assert parsed.ops[1].paths == ("/var/run/argocd/argocd-cmp-server",)


def test_plain_cp_command_without_shell() -> None:
    parsed = parse_container_command(["cp", "-r", "/static", "/static-files"], None)
    assert not parsed.shell and parsed.script == "cp -r /static /static-files"
    copy = copy_of(parsed)
    assert (copy.sources, copy.forms, copy.dest, copy.recursive) == (("/static",), ("entry",), "/static-files", True)


def test_cp_in_command_with_operands_in_args() -> None:
    copy = copy_of(parse_container_command(["cp"], ["/bin/sleep", "/test/sleep"]))
    assert copy.forms == ("entry",) and copy.dest == "/test/sleep"


def test_bash_cp_directory_entry() -> None:
    parsed = parse_container_command(["bash", "-c", "cp -r /etc/datadog-agent /opt"], None)
    copy = copy_of(parsed)
    assert copy.sources == ("/etc/datadog-agent",) and copy.forms == ("entry",)
    assert copy.dest == "/opt"


def test_multiline_script_with_mkdir_copy_chmod() -> None:
    parsed = sh("set -e\nmkdir -p /work/html\ncp -a /site/. /work/html/\nchmod -R a+r /work/html\n")
    assert kinds(parsed) == [K.HARMLESS, K.MKDIR, K.COPY, K.MODIFY]
    assert [op.line for op in parsed.ops] == [1, 2, 3, 4]
    copy = copy_of(parsed, 2)
    assert (copy.sources, copy.forms, copy.dest) == (("/site",), ("contents",), "/work/html")
    assert copy.dest_trailing_slash and copy.recursive and copy.preserve
    assert parsed.ops[1].paths == ("/work/html",)
    assert parsed.ops[3].paths == ("/work/html",)
    assert "chmod" in parsed.ops[3].reason


def test_until_loop_is_one_wait() -> None:
    op = only(sh("until nc -z kafka 9092; do echo waiting; sleep 2; done;"))
    assert op.kind is K.WAIT
    assert op.text == "until nc -z kafka 9092; do echo waiting; sleep 2; done"


def test_wget_output_document_is_a_download_with_its_path() -> None:
    op = only(sh("wget -O /work-dir/index.html http://info.cern.ch"))
    assert op.kind is K.DOWNLOAD and op.paths == ("/work-dir/index.html",)
    assert "wget" in op.reason


def test_copy_then_cat() -> None:
    parsed = sh("cp /config-ro/demo.flagd.json /config-rw/demo.flagd.json && cat /config-rw/demo.flagd.json")
    assert kinds(parsed) == [K.COPY, K.HARMLESS]


def test_args_only_is_opaque() -> None:
    parsed = parse_container_command(None, ["gs://bucket/model", "/mnt/models"])
    assert parsed.ops == ()
    assert parsed.opaque is not None
    assert parsed.opaque.startswith("no command: the image's entrypoint runs with args")
    assert "gs://bucket/model" in parsed.opaque


@pytest.mark.parametrize("command, args", [(None, None), ([], []), ([], None), (None, [])])
def test_no_command_at_all_is_opaque(command: list[str] | None, args: list[str] | None) -> None:
    parsed = parse_container_command(command, args)
    assert parsed.opaque == "no command: the image's entrypoint does the work"


def test_glob_copy_into_trailing_slash_dest() -> None:
    copy = copy_of(sh("cp -r /plugins/* /var/lib/grafana/plugins/"))
    assert copy.forms == ("glob",) and copy.sources == ("/plugins",)
    assert copy.dest == "/var/lib/grafana/plugins" and copy.dest_trailing_slash


def test_tar_pipe_copy() -> None:
    op = only(sh("tar -C /bundle -cf - . | tar -C /policies -xf -"))
    assert op.copy is not None
    assert (op.copy.tool, op.copy.sources, op.copy.forms, op.copy.dest) == ("tar", ("/bundle",), ("contents",), "/policies")


def test_copy_then_sed_in_place() -> None:
    parsed = sh("cp -r /models/. /mnt/models/ && sed -i s/x/y/ /mnt/models/config.json")
    assert kinds(parsed) == [K.COPY, K.MODIFY]
    assert parsed.ops[1].paths == ("/mnt/models/config.json",)


def test_unterminated_quote_is_opaque_not_an_exception() -> None:
    parsed = sh("echo 'unterminated")
    assert parsed.opaque is not None
    assert parsed.opaque.startswith("shell syntax not understood: ")
    assert parsed.ops == ()


# --------------------------------------------------------------------------- finding the script


@pytest.mark.parametrize(
    "command, args",
    [
        (["sh", "-c", "cp -r /a/. /d"], None),
        (["sh", "-c"], ["cp -r /a/. /d"]),
        (["/bin/sh"], ["-c", "cp -r /a/. /d"]),
        (["bash", "-ec", "cp -r /a/. /d"], None),
        (["bash", "-xc", "cp -r /a/. /d"], None),
        (["bash", "-euc", "cp -r /a/. /d"], None),
        (["sh", "-e", "-c", "cp -r /a/. /d"], None),
        (["bash", "-o", "pipefail", "-c", "cp -r /a/. /d"], None),
        (["busybox", "sh", "-c", "cp -r /a/. /d"], None),
        (["/usr/bin/env", "bash", "-c", "cp -r /a/. /d"], None),
        (["/bin/ash", "-c", "cp -r /a/. /d", "arg0", "arg1"], None),
        (["dash", "-c"], ["cp -r /a/. /d", "ignored"]),
        (["zsh", "-c", "cp -r /a/. /d"], None),
    ],
)
def test_shell_invocations_find_the_script(command: list[str], args: list[str] | None) -> None:
    parsed = parse_container_command(command, args)
    assert parsed.shell and parsed.script == "cp -r /a/. /d"
    assert copy_of(parsed).forms == ("contents",)


def test_shell_operators_are_literal_words_without_a_shell() -> None:
    parsed = parse_container_command(["echo", "done", "&&", "rm", "-rf", "/x"], None)
    op = only(parsed)
    assert not parsed.shell and op.kind is K.HARMLESS
    assert op.argv == ("echo", "done", "&&", "rm", "-rf", "/x")


def test_shell_running_a_script_file_is_unknown() -> None:
    parsed = parse_container_command(["sh", "/docker-entrypoint.sh"], None)
    op = only(parsed)
    assert not parsed.shell and op.kind is K.UNKNOWN
    assert op.reason == "runs /docker-entrypoint.sh, which migrate-tui cannot see into"


def test_dash_c_without_script_is_opaque() -> None:
    parsed = parse_container_command(["sh", "-c"], None)
    assert parsed.opaque is not None and parsed.opaque.startswith("shell syntax not understood")


def test_kubelet_expands_dollar_paren_from_env() -> None:
    parsed = parse_container_command(["sh", "-c", "cp -r /site/. $(DEST) && echo $$HOME"], None, env={"DEST": "/shared"})
    assert copy_of(parsed).dest == "/shared"
    assert parsed.ops[1].argv == ("echo", "$HOME")


# --------------------------------------------------------------------------- script syntax


def test_sequences_and_conditionals() -> None:
    parsed = sh("cp /a /b; cp /c /d || true\ncp /e /f || exit 1 && echo ok")
    assert kinds(parsed) == [K.COPY, K.COPY, K.HARMLESS, K.COPY, K.HARMLESS, K.HARMLESS]
    assert [op.conditional for op in parsed.ops] == [False, False, True, False, True, False]


def test_background_is_unknown() -> None:
    parsed = sh("sleep 100 & cp /a /b")
    assert kinds(parsed) == [K.UNKNOWN, K.COPY]
    assert parsed.ops[0].reason == "runs in the background"


def test_comments_and_continuations() -> None:
    parsed = sh("# prepare\ncp -r \\\n  /site/. \\\n  /shared/  # the copy\necho a#b")
    assert kinds(parsed) == [K.COPY, K.HARMLESS]
    assert parsed.ops[0].line == 2
    assert parsed.ops[1].argv == ("echo", "a#b")


def test_quotes_and_escapes_are_removed() -> None:
    op = only(sh("""cp -r "/my site/." '/sha red/' """))
    assert op.copy is not None
    assert op.copy.sources == ("/my site",) and op.copy.dest == "/sha red"
    assert only(sh(r"echo a\ b 'c d' \"e")).argv == ("echo", "a b", "c d", '"e')


def test_quoted_glob_is_not_a_glob() -> None:
    copy = copy_of(sh("cp -r '/plugins/*' /d/"))
    assert copy.forms == ("entry",) and copy.sources == ("/plugins/*",)


@pytest.mark.parametrize(
    "script",
    [
        "cp -r /a/. /d 2>&1",
        "cp -r /a/. /d 2>/dev/null",
        "cp -r /a/. /d >/dev/null 2>&1",
        "cp -r /a/. /d &>/dev/null",
        "cp -r /a/. /d < /dev/null",
        "cp -r /a/. /d 1>&2",
    ],
)
def test_redirections_are_not_argv_words(script: str) -> None:
    op = only(sh(script))
    assert op.kind is K.COPY and op.argv == ("cp", "-r", "/a/.", "/d")


@pytest.mark.parametrize(
    "script, path",
    [
        ("echo hi > /d/x", "/d/x"),
        ("echo hi >> /d/x", "/d/x"),
        ("ls &> /d/log", "/d/log"),
        ("cat /a 1>/d/x", "/d/x"),
        ("cd /d && printf x >rel", "/d/rel"),
    ],
)
def test_output_redirect_to_a_file_modifies(script: str, path: str) -> None:
    op = sh(script).ops[-1]
    assert op.kind is K.MODIFY and op.paths == (path,)


def test_yaml_block_scalar_indentation_and_blank_lines() -> None:
    script = "\n    set -ex\n\n    mkdir -p /shared/html\n\n    cp -R /site/. /shared/html/\n  \n"
    parsed = sh(script)
    assert kinds(parsed) == [K.HARMLESS, K.MKDIR, K.COPY]
    assert [op.line for op in parsed.ops] == [2, 4, 6]
    assert parsed.ops[2].text == "cp -R /site/. /shared/html/"


@pytest.mark.parametrize(
    "script",
    [
        "set -e",
        "set -ex",
        "set -euo pipefail",
        "set -o pipefail",
        "set +x",
        "exit 0",
        ":",
        "true",
        "pwd",
        "id",
        "whoami",
        "date",
        "env",
        "printenv",
        "du -sh /d",
        "df -h",
        "sync",
        "find /d -type f",
        "test -f /d/x",
        "[ -d /d ]",
        "stat /d",
        "wc -l /d/x",
        "head /x",
        "tail -n 5 /x",
        "ls -la /d",
        "echo done",
        "printf '%s\\n' x",
        "cat /x",
        "cd /tmp",
    ],
)
def test_harmless(script: str) -> None:
    assert only(sh(script)).kind is K.HARMLESS


def test_exec_env_and_assignment_prefixes_classify_the_command() -> None:
    parsed = sh("exec cp -r /a/. /d\nenv LANG=C cp -r /a/. /d\nLANG=C FOO=1 cp -r /a/. /d")
    assert kinds(parsed) == [K.COPY, K.COPY, K.COPY]
    assert [op.copy.sources for op in parsed.ops if op.copy] == [("/a",)] * 3


def test_cd_changes_later_relative_paths() -> None:
    parsed = sh("cd /src && cp -r site/. ../shared/ && cd html\ncp index.html /out/")
    assert copy_of(parsed, 1).sources == ("/src/site",)
    assert copy_of(parsed, 1).dest == "/shared"
    assert copy_of(parsed, 3).sources == ("/src/html/index.html",)


def test_working_dir_resolves_relative_paths() -> None:
    parsed = sh("cp -r . /shared && mkdir -p cache", working_dir="/app")
    copy = copy_of(parsed)
    assert (copy.sources, copy.forms) == (("/app",), ("contents",))
    assert parsed.ops[1].paths == ("/app/cache",)
    parsed = parse_container_command(["cp", "-r", "assets", "/shared/"], None, "/srv")
    assert copy_of(parsed).sources == ("/srv/assets",)


def test_tilde_and_cd_home_stay_unresolved() -> None:
    """A copy whose path doesn't resolve to an absolute one is opaque, not a COPY."""
    parsed = sh("cp ~/x /d/ && cd && cp y /d/")
    assert kinds(parsed) == [K.UNKNOWN, K.HARMLESS, K.UNKNOWN]
    assert parsed.ops[0].reason == "cp source ~/x is not a path migrate-tui can resolve"
    assert parsed.ops[2].reason == "cp source $HOME/y is not a path migrate-tui can resolve"
    assert parsed.ops[0].copy is None and parsed.ops[0].paths == ("/d",)


def test_here_document() -> None:
    parsed = sh("cat <<EOF > /d/app.conf\nport=$PORT\nEOF\ncp -r /a/. /d/\n")
    assert kinds(parsed) == [K.MODIFY, K.COPY]
    assert parsed.ops[0].paths == ("/d/app.conf",)
    assert parsed.ops[1].line == 4


# --------------------------------------------------------------------------- loops and control flow


@pytest.mark.parametrize(
    "script",
    [
        "while ! nc -z db 5432; do sleep 1; done",
        "until pg_isready -h db; do echo waiting; sleep 2; done",
        "until wget --spider -q http://svc/health; do sleep 2; done",
        "until curl -fs http://svc/ready; do :; sleep 1; done",
        "until nslookup myservice.ns.svc.cluster.local; do echo waiting; sleep 2; done",
        "while true\ndo\n  sleep 3600\ndone",
        "sleep 5",
    ],
)
def test_waiting(script: str) -> None:
    assert only(sh(script)).kind is K.WAIT


def test_wait_loop_then_copy() -> None:
    parsed = sh("until nc -z db 5432; do sleep 1; done && cp -r /a/. /d/")
    assert kinds(parsed) == [K.WAIT, K.COPY]


@pytest.mark.parametrize(
    "script",
    [
        "while true; do cp -r /a/. /d; sleep 5; done",
        "until [ -f /d/x ]; do echo x >> /d/log; done",
        "while sleep 1; do :; done > /d/out",
        "until curl -o /d/x http://h; do sleep 1; done",
    ],
)
def test_loop_that_writes_is_opaque(script: str) -> None:
    assert sh(script).opaque == "control flow: loop writes files"


@pytest.mark.parametrize(
    "script, which",
    [
        ("if [ -d /a ]; then cp -r /a/. /d; fi", "if"),
        ("case $X in a) cp /a /d;; esac", "case"),
        ("for f in /a/*; do cp $f /d; done", "for"),
        ("setup() { cp /a /d; }\nsetup", "function"),
        ("function setup { cp /a /d; }", "function"),
        ("(cd /a && cp -r . /d)", "subshell"),
        ("{ cp /a /d; }", "group"),
        ("echo a && if true; then :; fi", "if"),
        ("while true; do if x; then y; fi; done", "if"),
    ],
)
def test_other_control_flow_is_opaque_and_named(script: str, which: str) -> None:
    parsed = sh(script)
    assert parsed.ops == ()
    assert parsed.opaque is not None and parsed.opaque.startswith("control flow: ")
    assert which in parsed.opaque


@pytest.mark.parametrize(
    "script",
    [
        'echo "open',
        "echo $(date",
        "echo `date",
        "while true; do sleep 1",
        "until true; sleep 1; done",
        "cp /a /b &&",
        "| cp /a /b",
        "echo ${X",
        "done",
        "cp /a >",
        "cat <<",
        "fi",
    ],
)
def test_syntax_errors_are_opaque(script: str) -> None:
    parsed = sh(script)
    assert parsed.opaque is not None
    assert parsed.opaque.startswith("shell syntax not understood: ")


# --------------------------------------------------------------------------- variables


def test_env_variables_are_substituted() -> None:
    parsed = sh("cp -r $SRC/. ${DEST}/", env={"SRC": "/site", "DEST": "/shared"})
    copy = copy_of(parsed)
    assert copy.sources == ("/site",) and copy.dest == "/shared"


def test_unknown_variables_stay_literal() -> None:
    op = sh("cp -r /site/. $HOME/x ${DEST}/").ops[0]
    assert op.kind is K.UNKNOWN and op.copy is None and op.paths == ()
    assert op.reason == "cp source $HOME/x is not a path migrate-tui can resolve"
    op = sh("cp -r /site/. ${DEST}/").ops[0]
    assert op.kind is K.UNKNOWN and op.reason == "cp destination ${DEST} is not a path migrate-tui can resolve"


def test_script_assignments_are_followed() -> None:
    parsed = sh('DEST=/shared\nexport SRC=/site\ncp -r $SRC/. "$DEST/"')
    assert kinds(parsed) == [K.HARMLESS, K.HARMLESS, K.COPY]
    assert copy_of(parsed, 2).dest == "/shared" and copy_of(parsed, 2).sources == ("/site",)


@pytest.mark.parametrize(
    "script", ["cp -r /a/. $(cat /dest)", "cp -r /a/. `cat /dest`", "V=$(cat /v)", 'echo "$(id -u)"', "cd $(dirname $0)"]
)
def test_command_substitution_is_unknown(script: str) -> None:
    op = sh(script).ops[0]
    assert op.kind is K.UNKNOWN and op.reason == "command substitution"


def test_variable_command_name_is_unknown() -> None:
    assert only(sh("$CMD /a /b")).kind is K.UNKNOWN


# --------------------------------------------------------------------------- cp


@pytest.mark.parametrize(
    "script, recursive, preserve",
    [
        ("cp -rf /a/. /d", True, False),
        ("cp -av /a/. /d", True, True),
        ("cp -rpv /a/. /d", True, True),
        ("cp -R /a/. /d", True, False),
        ("cp --recursive /a/. /d", True, False),
        ("cp --archive /a/. /d", True, True),
        ("cp -r --preserve=mode /a/. /d", True, True),
        ("cp -r --no-preserve=mode /a/. /d", True, False),
        ("cp -f /a/. /d", False, False),
        ("cp -rLn /a/. /d", True, False),
    ],
)
def test_cp_flags(script: str, recursive: bool, preserve: bool) -> None:
    copy = copy_of(sh(script))
    assert (copy.recursive, copy.preserve) == (recursive, preserve)
    assert copy.sources == ("/a",) and copy.dest == "/d"
    assert copy.flags == tuple(w for w in script.split()[1:] if w.startswith("-"))


@pytest.mark.parametrize(
    "script",
    ["cp -r -t /d /a/. /b", "cp -rt /d /a/. /b", "cp --target-directory=/d -r /a/. /b", "cp -r --target-directory /d /a/. /b"],
)
def test_cp_target_directory(script: str) -> None:
    copy = copy_of(sh(script))
    assert copy.sources == ("/a", "/b") and copy.forms == ("contents", "entry")
    assert copy.dest == "/d" and copy.dest_trailing_slash


def test_cp_double_dash_and_no_target_directory() -> None:
    copy = copy_of(sh("cp -rT -- /a /d"))
    assert copy.sources == ("/a",) and copy.dest == "/d" and not copy.dest_trailing_slash
    assert copy.flags == ("-rT", "--")


@pytest.mark.parametrize(
    "source, normalised, form",
    [
        ("/site/.", "/site", "contents"),
        ("/site/./", "/site", "contents"),
        ("/site/*", "/site", "glob"),
        ("/site/", "/site", "entry"),
        ("/site", "/site", "entry"),
        ("/a/*.jar", "/a/*.jar", "pattern"),
        ("/a/*/b", "/a/*/b", "pattern"),
        ("//site//x/../y", "/site/y", "entry"),
        ("/models/m.bin", "/models/m.bin", "entry"),
    ],
)
def test_cp_source_forms(source: str, normalised: str, form: str) -> None:
    copy = copy_of(sh(f"cp -r {source} /shared/"))
    assert copy.sources == (normalised,) and copy.forms == (form,)


def test_cp_several_sources() -> None:
    copy = copy_of(sh("cp -r /a/. /b /c/* /shared/"))
    assert copy.sources == ("/a", "/b", "/c") and copy.forms == ("contents", "entry", "glob")


def test_single_file_copy() -> None:
    copy = copy_of(sh("cp /models/m.bin /shared/"))
    assert copy.forms == ("entry",) and not copy.recursive and copy.dest_trailing_slash


def test_cp_without_destination_is_unknown() -> None:
    assert only(sh("cp /a")).kind is K.UNKNOWN


# --------------------------------------------------------------------------- rsync and tar


@pytest.mark.parametrize(
    "script, form",
    [
        ("rsync -a /site/ /shared/", "contents"),
        ("rsync -av /site /shared/", "entry"),
        ("rsync -r --delete /site/ /shared", "contents"),
        ("rsync -a --exclude .git /site/ /shared/", "contents"),
        ("rsync -a --exclude=.git --chmod=D755 /site/ /shared/", "contents"),
    ],
)
def test_rsync(script: str, form: str) -> None:
    copy = copy_of(sh(script))
    assert copy.tool == "rsync" and copy.sources == ("/site",) and copy.forms == (form,)
    assert copy.dest == "/shared" and copy.recursive


def test_rsync_option_values_are_not_operands() -> None:
    copy = copy_of(sh("rsync -a --exclude .git --chmod=Du+w /site/ /shared/"))
    assert copy.flags == ("-a", "--exclude", "--chmod=Du+w")
    assert only(sh("rsync -a host:/data/ /shared/")).kind is K.DOWNLOAD


@pytest.mark.parametrize(
    "script, sources, forms, dest",
    [
        ("tar cf - -C /src . | tar xf - -C /d", ("/src",), ("contents",), "/d"),
        ("tar -cf - -C /src . | tar -xf - -C /d", ("/src",), ("contents",), "/d"),
        ("tar -C /src -czvf - . | tar -C /d -xzvpf -", ("/src",), ("contents",), "/d"),
        ("tar -C / -cf - site | tar -C /d -xf -", ("/site",), ("entry",), "/d"),
        ("tar -C /src -cf - a b | tar -C /d -xf -", ("/src/a", "/src/b"), ("entry", "entry"), "/d"),
        ("cd /src && tar cf - . | (tar xf - )", None, None, None),
    ],
)
def test_tar_pipe_variants(script: str, sources: tuple[str, ...] | None, forms: tuple[str, ...] | None, dest: str | None) -> None:
    parsed = sh(script)
    if sources is None:
        assert parsed.opaque is not None
        return
    copy = copy_of(parsed)
    assert (copy.tool, copy.sources, copy.forms, copy.dest) == ("tar", sources, forms, dest)
    assert copy.recursive and copy.preserve


def test_tar_extract_of_an_archive_modifies_the_directory() -> None:
    op = only(sh("tar -xzf /assets.tgz -C /shared"))
    assert op.kind is K.MODIFY and op.paths == ("/shared",)
    assert only(sh("tar -tzf /assets.tgz")).kind is K.HARMLESS


@pytest.mark.parametrize(
    "script, kind",
    [
        ("wget -qO- http://x/a.tgz | tar xz -C /d", K.DOWNLOAD),
        ("curl -sL http://x/a.tgz | tar -xzf - -C /d", K.DOWNLOAD),
        ("cat /tpl | envsubst > /d/x", K.TEMPLATE),
        ("sed s/a/b/ /tpl | tee /d/x", K.TEMPLATE),
        ("find /a -name '*.jar' | xargs cp -t /d", K.UNKNOWN),
        ("ls /a | grep x | wc -l", K.HARMLESS),
        ("./gen.sh | tee /d/out", K.MODIFY),
        ("curl -s http://x | sh", K.DOWNLOAD),
    ],
)
def test_pipelines_take_the_most_severe_kind(script: str, kind: OpKind) -> None:
    op = only(sh(script))
    assert op.kind is kind
    assert "|" in op.argv


def test_severity_order_is_documented() -> None:
    assert PIPELINE_SEVERITY[:4] == (K.DOWNLOAD, K.TEMPLATE, K.MODIFY, K.UNKNOWN)
    assert set(PIPELINE_SEVERITY) == set(OpKind)


# --------------------------------------------------------------------------- sed, mkdir, the rest


def test_sed_three_ways() -> None:
    assert only(sh("sed -i 's/a/b/' /d/x")).kind is K.MODIFY
    assert only(sh("sed -i.bak -e s/a/b/ /d/x")).paths == ("/d/x",)
    op = only(sh("sed 's/a/b/' /tpl > /d/x"))
    assert op.kind is K.TEMPLATE and op.paths == ("/d/x",)
    assert only(sh("sed -n 1p /x")).kind is K.HARMLESS


def test_mkdir() -> None:
    op = only(sh("mkdir -p /a /b rel", working_dir="/w"))
    assert op.kind is K.MKDIR and op.paths == ("/a", "/b", "/w/rel")
    for script in ("mkdir -m 755 /x", "mkdir -pm755 /x", "mkdir --mode=700 /x"):
        op = only(sh(script))
        assert op.kind is K.MODIFY and op.paths == ("/x",)


@pytest.mark.parametrize(
    "script, paths",
    [
        ("chmod -R 755 /d /e", ("/d", "/e")),
        ("chown -R 1000:1000 /d", ("/d",)),
        ("chgrp -R 0 /d", ("/d",)),
        ("ln -s /a /d/b", ("/d/b",)),
        ("mv -n /d/a /d/b", ("/d/a", "/d/b")),
        ("mv -b /a /d/", ("/a", "/d")),
        ("mv /a/. /d/", ("/a", "/d")),
        ("rm -rf /d/x", ("/d/x",)),
        ("touch /d/ready", ("/d/ready",)),
        ("truncate -s 0 /d/x", ("/d/x",)),
        ("install -m 644 /a /d/a", ("/d/a",)),
        ("unzip -q /a.zip -d /d", ("/d",)),
        ("gunzip /d/x.gz", ("/d/x.gz",)),
        ("find /d -name '*.tmp' -delete", ("/d",)),
        ("find /d -exec chmod 644 {} ;", ("/d",)),
        ("tee /d/x", ("/d/x",)),
        ("umask 077", ()),
        ("chmod -R a+r /d", ("/d",)),
    ],
)
def test_modify(script: str, paths: tuple[str, ...]) -> None:
    op = only(sh(script))
    assert op.kind is K.MODIFY and op.paths == paths


@pytest.mark.parametrize(
    "script, paths",
    [
        ("curl -fsSL -o /d/app.jar https://x/app.jar", ("/d/app.jar",)),
        ("curl -fsSLo/d/app.jar https://x/app.jar", ("/d/app.jar",)),
        ("cd /d && curl -O https://x/app.jar", ("/d",)),
        ("wget -q https://x/a -P /d", ("/d",)),
        ("git clone https://github.com/o/repo.git /d/repo", ("/d/repo",)),
        ("cd /d && git clone --depth 1 https://github.com/o/repo.git", ("/d/repo",)),
        ("git -C /d/repo pull", ("/d/repo",)),
        ("gsutil -m cp -r gs://b/model /mnt/models", ("/mnt/models",)),
        ("aws s3 cp s3://b/model /mnt/models --recursive --output json", ("/mnt/models",)),
        ("hf download org/model --local-dir /mnt/models", ("/mnt/models",)),
        ("pip install --target /d requests", ("/d",)),
        ("apk add --no-cache curl", ()),
        ("apt-get install -y jq", ()),
        ("npm install", ()),
        ("kubectl get cm x -o yaml", ()),
        ("helm pull chart --untar --untardir /d", ("/d",)),
        ("oras pull ghcr.io/x:1 -o /d", ("/d",)),
        ("rclone copy remote:bucket /d", ("/d",)),
        ("skopeo copy docker://x dir:/d", ("/d",)),
        ("s3cmd get s3://b/x /d/x", ("/d/x",)),
        ("curl -s http://x", ()),
    ],
)
def test_download(script: str, paths: tuple[str, ...]) -> None:
    op = sh(script).ops[-1]
    assert op.kind is K.DOWNLOAD and op.paths == paths


@pytest.mark.parametrize(
    "script, paths",
    [
        ("envsubst < /tpl/app.conf > /d/app.conf", ("/d/app.conf",)),
        ("gomplate -f /tpl -o /d/out", ("/d/out",)),
        ("confd -onetime -backend env", ()),
        ("j2 /tpl.j2 -o /d/x", ("/d/x",)),
        ("consul-template -template '/in.tpl:/d/out' -once", ("/d/out",)),
        ("dockerize -template /in.tmpl:/d/out.conf", ("/d/out.conf",)),
        ("jq .a /x > /d/y", ("/d/y",)),
        ("yq '.a' /x >/d/y", ("/d/y",)),
        ("awk '{print}' /x > /d/y", ("/d/y",)),
    ],
)
def test_template(script: str, paths: tuple[str, ...]) -> None:
    op = only(sh(script))
    assert op.kind is K.TEMPLATE and op.paths == paths


@pytest.mark.parametrize(
    "script, reason",
    [
        ("/docker-entrypoint.sh", "runs /docker-entrypoint.sh, which migrate-tui cannot see into"),
        ("sh /scripts/init.sh", "runs /scripts/init.sh, which migrate-tui cannot see into"),
        ("./run.sh", "runs ./run.sh, which migrate-tui cannot see into"),
        ("python3 /app/setup.py", "runs python3, which migrate-tui does not know"),
        ("/usr/bin/foo --x", "runs /usr/bin/foo, which migrate-tui cannot see into"),
        (". /etc/profile", "runs /etc/profile, which migrate-tui cannot see into"),
        ('eval "$CMD"', "eval runs code built at run time"),
        ("sh -c 'cp /a /b'", "runs a nested shell script"),
    ],
)
def test_unknown(script: str, reason: str) -> None:
    op = only(sh(script))
    assert op.kind is K.UNKNOWN and op.reason == reason


def test_every_op_has_text_line_and_reason() -> None:
    parsed = sh("set -e\ncp -r /a/. /d\nchmod 644 /d/x\nwget -O /d/y http://h\n./x.sh")
    for op in parsed.ops:
        assert isinstance(op.kind, OpKind) and op.text and op.line >= 1 and op.reason


# --------------------------------------------------------------------------- robustness


_SCRIPT_PIECES = list("ab /.*$`'\"\\|&;<>(){}#\n\t-=0123456789cdeiwlfptx") + [
    "cp ",
    "tar ",
    "while ",
    "do ",
    "done",
    "until ",
    "if ",
    "$(",
    "${",
    "<<EOF\n",
    "EOF\n",
    "&&",
    "||",
    "sh -c ",
    "-C ",
    "cd ",
    "2>&1",
    "sleep 1;",
    "$a",
    "${b}",
    "|",
    "cp -r /a/. /d;",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SCRIPT_PIECES), max_size=40).map("".join))
def test_never_raises_on_shell_like_scripts(script: str) -> None:
    parsed = sh(script, env={"a": "x y", "b": ""})
    assert (parsed.opaque is None) or parsed.ops == ()
    assert all(isinstance(op.kind, OpKind) and op.line >= 1 for op in parsed.ops)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_on_any_text(script: str) -> None:
    parsed = sh(script)
    assert all(isinstance(op.kind, OpKind) for op in parsed.ops)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.none(), st.lists(st.text(max_size=20), max_size=6)),
    st.one_of(st.none(), st.lists(st.text(max_size=40), max_size=6)),
    st.one_of(st.none(), st.text(max_size=10)),
    st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3)),
)
def test_never_raises_on_any_argv(
    command: list[str] | None, args: list[str] | None, working_dir: str | None, env: dict[str, str] | None
) -> None:
    parsed = parse_container_command(command, args, working_dir, env)
    assert all(isinstance(op.kind, OpKind) for op in parsed.ops)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "sh",
                "-c",
                "-ec",
                "cp",
                "-r",
                "tar",
                "-C",
                "/a",
                "/a/.",
                "/d/",
                "|",
                "&&",
                "$(x)",
                "'",
                "rsync",
                "--exclude",
                "-t",
                "busybox",
                "env",
                "exec",
                "git",
                "clone",
                "wget",
                "-O",
            ]
        ),
        max_size=8,
    ),
    st.lists(st.text(max_size=30), max_size=3),
)
def test_never_raises_on_command_like_argv(command: list[str], args: list[str]) -> None:
    parsed = parse_container_command(command, args)
    assert all(isinstance(op.kind, OpKind) for op in parsed.ops)


def _assert_copies_resolve(parsed: ParsedCommand) -> None:
    """Every COPY carries its copy, whose source and destination are absolute, normalised paths
    with no variable left."""
    for op in parsed.ops:
        if op.kind is K.COPY:
            assert op.copy is not None, op
            for path in op.copy.sources + (op.copy.dest,):
                assert path.startswith("/") and not path.startswith("//"), (op.text, path)
                assert "$" not in path and "~" not in path[:1] and posixpath.normpath(path) == path, (op.text, path)


_COPY_WORDS = [
    "cp",
    "rsync",
    "tar",
    "-r",
    "-a",
    "-t",
    "-C",
    "-cf",
    "-xf",
    "-",
    "|",
    "&&",
    ";",
    "cd",
    "/a",
    "/a/.",
    "/d/",
    "$SRC",
    "${DEST}",
    "~",
    "~/x",
    "rel",
    "..",
    "./x",
    "//x",
    "/a//b/./c",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_COPY_WORDS), max_size=10), st.sampled_from([None, "/", "/w", "rel"]))
@example(["cp", "cp", "$SRC"], None)  # found by hypothesis in test_fuzz: a COPY to "$SRC"
@example(["cp", "-r", "/a/.", "~"], None)
@example(["cp", "-r", "$SRC/.", "/d/"], None)
@example(["cd", "$SRC", "&&", "cp", "-r", "x", "/d/"], None)
@example(["tar", "-C", "$SRC", "-cf", "-", ".", "|", "tar", "-C", "/d", "-xf", "-"], None)
@example(["rsync", "-a", "/a/", "${DEST}"], None)
@example(["cp", "cp", "cp", "|", "cp", "cp", "cp"], None)  # found here: a COPY pipeline without its copy
def test_copy_paths_always_resolve(words: list[str], working_dir: str | None) -> None:
    _assert_copies_resolve(parse_container_command(words, None, working_dir))
    _assert_copies_resolve(parse_container_command(["sh", "-c", " ".join(words)], None, working_dir))


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["cp", "cp", "$SRC"], "cp destination $SRC is not a path migrate-tui can resolve"),
        (["cp", "-r", "/a/.", "~"], "cp destination ~ is not a path migrate-tui can resolve"),
        (["rsync", "-a", "$SRC/", "/d/"], "rsync source $SRC is not a path migrate-tui can resolve"),
        (["cp", "-r", "/site/$X", "/d/"], "cp source /site/$X is not a path migrate-tui can resolve"),
    ],
)
def test_a_copy_with_an_unresolved_path_is_opaque(argv: list[str], reason: str) -> None:
    op = only(parse_container_command(argv, None))
    assert (op.kind, op.copy, op.reason) == (K.UNKNOWN, None, reason)


def test_a_tar_pipe_with_an_unresolved_directory_is_not_a_copy() -> None:
    parsed = sh("tar -C $SRC -cf - . | tar -C /d -xf -")
    assert only(parsed).kind is K.MODIFY and only(parsed).copy is None
    assert only(parsed).paths == ("/d",)


def test_opaque_kinds_are_typed() -> None:
    from migrate_tui.parse.shell import OpaqueKind

    assert parse_container_command(None, None).opaque_kind is OpaqueKind.NO_COMMAND
    assert parse_container_command(None, ["--serve"]).opaque_kind is OpaqueKind.NO_COMMAND
    assert sh("if true; then cp -r /a/. /d/; fi").opaque_kind is OpaqueKind.SYNTAX
    assert parse_container_command(["sh", "-c"], None).opaque_kind is OpaqueKind.SYNTAX
    assert sh("cp -r /a/. /d/").opaque_kind is None


@pytest.mark.parametrize(
    ("script", "sources", "forms", "dest", "trailing"),
    [
        ("mv /usr/local/app/static/* /static/", ("/usr/local/app/static",), ("glob",), "/static", True),
        ("mv -f /site /d", ("/site",), ("entry",), "/d", False),
        ("mv -t /d /a /b", ("/a", "/b"), ("entry", "entry"), "/d", True),
        ("mv /d/a /d/b", ("/d/a",), ("entry",), "/d/b", False),
    ],
)
def test_mv_is_a_copy_that_keeps_modes(script: str, sources: tuple[str, ...], forms: tuple[str, ...], dest: str, trailing: bool) -> None:
    copy = copy_of(sh(script))
    assert (copy.tool, copy.sources, copy.forms, copy.dest, copy.dest_trailing_slash) == ("mv", sources, forms, dest, trailing)
    assert copy.recursive and copy.preserve and copy.transforms == ()


@pytest.mark.parametrize(
    ("script", "transforms"),
    [
        ("cp -aL /a/. /d/", ("follows every symbolic link (-L)",)),
        ("cp -rH /a /d/", ("follows symbolic links named on the command line (-H)",)),
        ("cp -r --parents /a/b /d/", ("recreates each source's directory path under the destination (--parents)",)),
        ("rsync -aL /a/ /d/", ("copies the targets of symbolic links (-L)",)),
        ("rsync -aR /a/ /d/", ("recreates each source's path under the destination (-R)",)),
        ("tar -C /a -chf - . | tar -C /d -xf -", ("follows symbolic links (-h)",)),
        ("cp -a /a/. /d/", ()),
        ("rsync -a /a/ /d/", ()),
    ],
)
def test_copy_transforms_are_named(script: str, transforms: tuple[str, ...]) -> None:
    assert copy_of(sh(script)).transforms == transforms


def test_install_is_a_modify_that_carries_its_copy() -> None:
    op = only(sh("install -D -m 0644 /src/app.conf /d/conf/app.conf"))
    assert op.kind is K.MODIFY and op.paths == ("/d/conf/app.conf",)
    assert op.copy is not None and (op.copy.tool, op.copy.sources, op.copy.dest) == ("install", ("/src/app.conf",), "/d/conf/app.conf")
    assert op.copy.transforms == ("sets mode 0644, the owner and new times (install)",)
    assert only(sh("install -t /d /src/a")).copy.transforms == ("sets mode 0755, the owner and new times (install)",)
    assert only(sh("install -d /d/x")).copy is None


@pytest.mark.parametrize(
    ("command", "program"),
    [
        (["/usr/local/bin/get-resource.sh"], "/usr/local/bin/get-resource.sh"),
        (["sh", "-c", "exec /opt/prepare --out /d"], "/opt/prepare"),
        (["sh", "/scripts/init.sh"], "/scripts/init.sh"),  # no -c: sh runs a script file
        (["sh", "-c", "sh /scripts/init.sh"], "/scripts/init.sh"),
        (["sh", "-c", "cp -r /a/. /d/"], ""),
    ],
)
def test_an_unknown_program_is_named(command: list[str], program: str) -> None:
    op = parse_container_command(command, None).ops[-1]
    assert op.program == program


def test_yaml_scalars_that_are_not_strings_do_not_break_it() -> None:
    parsed = parse_container_command(["sleep"], [30])  # type: ignore[list-item]
    assert only(parsed).kind is K.WAIT and only(parsed).argv == ("sleep", "30")


def test_deep_nesting_is_opaque_not_a_recursion_error() -> None:
    parsed = sh("while true; do " * 500 + "sleep 1" + "; done" * 500)
    assert parsed.opaque is not None


def test_a_long_script_is_parsed_whole() -> None:
    # Speed is measured in benchmarks/, not asserted here (wall-clock bounds flake on loaded CI).
    script = "set -e\n" + "cp -r /site/. /shared/ && chmod -R a+r /shared || true\n" * 2000
    parsed = sh(script)
    assert len(parsed.ops) == 1 + 3 * 2000
