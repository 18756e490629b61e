"""The tree-sitter-bash shell model: cases where it differs from the hand-written parser it
replaced (each an old bug, or a tree-sitter-bash quirk the model corrects or refuses), and the
package's shape (one Parser per process, nothing downloaded)."""

from __future__ import annotations

import pytest

from migrate_tui.parse.shell import OpaqueKind, OpKind, ParsedCommand, parse_container_command
from migrate_tui.parse.shell import source

K = OpKind


def sh(script: str) -> ParsedCommand:
    return parse_container_command(["sh", "-c", script], None)


# --------------------------------------------------------------------------- old-parser bugs (goldens fixed)


def test_regex_test_with_parentheses_is_read() -> None:
    """The old lexer took `(` inside `[[ … =~ -([0-9]+)$ ]]` for a subshell; bash doesn't."""
    parsed = sh("[[ `hostname` =~ -([0-9]+)$ ]] || exit 1\ncp -r /a/. /d/")
    assert parsed.opaque is None
    assert [op.kind for op in parsed.ops] == [K.UNKNOWN, K.HARMLESS, K.COPY]
    assert parsed.ops[0].reason == "command substitution"
    assert parsed.ops[0].argv == ("[[", "`hostname`", "=~", "-([0-9]+)$", "]]")


def test_a_lone_separator_is_a_syntax_error() -> None:
    """`sh -c ';'` fails in every shell; the old parser read it as an empty script."""
    parsed = sh(";")
    assert parsed.opaque == "shell syntax not understood: unexpected ';'"
    assert parsed.opaque_kind is OpaqueKind.SYNTAX and parsed.ops == ()


# --------------------------------------------------------------------------- tree-sitter-bash quirks the model corrects


def test_words_after_a_redirection_are_arguments() -> None:
    """tree-sitter-bash hangs `/b` on the redirection; the shell passes it to cp."""
    op = sh("cp /a 2>/dev/null /b").ops[0]
    assert op.kind is K.COPY and op.argv == ("cp", "/a", "/b") and op.paths == ("/b",)


def test_a_redirection_after_an_and_list_belongs_to_its_last_command() -> None:
    """tree-sitter-bash hangs `> /d/x` on the whole `a && b`; the shell on b alone."""
    parsed = sh("cp -r /a/. /d/ && echo done > /d/x")
    assert [op.kind for op in parsed.ops] == [K.COPY, K.MODIFY]
    assert parsed.ops[1].text == "echo done > /d/x" and parsed.ops[1].paths == ("/d/x",)


def test_a_continuation_inside_a_word_joins_it() -> None:
    """tree-sitter-bash splits `/si\\<newline>te` in two words; the shell reads `/site`."""
    op = sh("cp -r /si\\\nte/. /d/").ops[0]
    assert op.kind is K.COPY and op.argv == ("cp", "-r", "/site/.", "/d/")


def test_here_document_body_and_the_redirection_after_its_delimiter() -> None:
    parsed = sh("cat <<'EOF' > /d/a.conf\nport=$PORT\nEOF\ncp -r /a/. /d/\n")
    assert [op.kind for op in parsed.ops] == [K.MODIFY, K.COPY]
    assert parsed.ops[0].text == "cat <<'EOF' > /d/a.conf" and parsed.ops[1].line == 4


def test_non_ascii_offsets_are_characters() -> None:
    parsed = sh("echo 'héllo wörld' && cp -r /ä/. /d/")
    assert parsed.ops[1].text == "cp -r /ä/. /d/" and parsed.ops[1].copy is not None
    assert parsed.ops[1].copy.sources == ("/ä",)


# --------------------------------------------------------------------------- where tree-sitter-bash refuses more than bash (opaque, never guessed)


@pytest.mark.parametrize(
    "script, opaque",
    [
        ("{}", "control flow: group { … }"),  # bash: a command named `{}`
        ("$", "shell syntax not understood: unexpected '$' (line 1)"),  # bash: a command named `$`
        ("a#b", "shell syntax not understood: unexpected 'a' (line 1)"),  # bash: a command named `a#b`
    ],
)
def test_what_tree_sitter_bash_cannot_read_is_opaque(script: str, opaque: str) -> None:
    parsed = sh(script)
    assert parsed.ops == () and parsed.opaque == opaque and parsed.opaque_kind is OpaqueKind.SYNTAX


# --------------------------------------------------------------------------- shape


def test_one_parser_per_process() -> None:
    assert sh("true").ops[0].kind is K.HARMLESS
    parser = source._PARSER
    sh("cp -r /a/. /d/")
    assert source._PARSER is parser


def test_the_grammar_ships_in_the_wheel() -> None:
    """tree-sitter-bash's compiled grammar comes with the package: nothing is built or fetched."""
    import tree_sitter_bash

    assert tree_sitter_bash.language() is not None


# --------------------------------------------------------------------------- RUN scripts read by the same parser


@pytest.mark.parametrize("script", [";", "; # c", " && rm -rf /x"])
def test_a_run_script_that_sh_rejects_is_unfinished(script: str) -> None:
    """`sh -n` rejects these; the old RUN tokenizer offered to append after them."""
    from migrate_tui.parse.dockerfile.run import EditBlocker, split_script

    assert split_script(script)[1:] == (0, EditBlocker.UNFINISHED)


def test_a_heredoc_before_the_command_name_is_read() -> None:
    """`RUN <<EOF cat > /out`: tree-sitter-bash can't read a heredoc before the command name;
    the markers BuildKit takes for heredocs are blanked first (their bodies are data)."""
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile
    from migrate_tui.parse.dockerfile.run import RunForm, read_run

    instr = parse_dockerfile("FROM busybox\nRUN <<ONE cat <<'TWO' > /out\na\nONE\nb\nTWO\n").stages[0].instructions[0]
    script = read_run(instr)
    assert script is not None and script.form is RunForm.HEREDOC
    assert [c.argv for c in script.commands] == [("cat",)]


def test_run_words_keep_substitutions_and_drop_quotes() -> None:
    from migrate_tui.parse.dockerfile.run import split_script

    commands, end, blocker = split_script("echo 'a $b' \"$(id -u)\"x \\$y 2>/dev/null && pip install ${PKG:-x}")
    assert [(w.text, w.quoted, w.expands) for w in commands[0].words] == [
        ("echo", False, False),
        ("a $b", True, False),
        ("$(id -u)x", True, True),
        ("$y", True, False),
    ]
    assert commands[1].argv == ("pip", "install", "${PKG:-x}") and commands[1].connector == "&&"
    assert blocker is None and end == len("echo 'a $b' \"$(id -u)\"x \\$y 2>/dev/null && pip install ${PKG:-x}")


# --------------------------------------------------------------------------- the admission policy's patterns


def test_the_policy_matches_every_copy_the_shell_model_finds() -> None:
    """The policy's CEL can only match words; over every command of the goldens, each one the
    shell model reads as a copy (by a tool of ``COPY_TOOLS``, with no download) is matched."""
    import json
    import re
    from pathlib import Path

    from migrate_tui.commands.policy import COPY_PATTERN, DOWNLOAD_PATTERN
    from migrate_tui.parse.shell.commands import COPY_TOOLS

    copy, download = (re.compile(p.replace("\\\\", "\\")) for p in (COPY_PATTERN, DOWNLOAD_PATTERN))
    missed, seen = [], 0
    for name in ("goldens.jsonl", "corpus.jsonl"):
        path = Path(__file__).parent / "shell_goldens" / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "parsed" not in record:
                continue
            argv = (record["input"]["command"] or []) + (record["input"]["args"] or [])
            ops = record["parsed"]["ops"]
            if any(o["kind"] == "download" for o in ops):
                continue
            if any(o["kind"] == "copy" and o["copy"]["tool"] in COPY_TOOLS for o in ops):
                seen += 1
                if not (any(copy.search(a) for a in argv) and not any(download.search(a) for a in argv)):
                    missed.append(argv)
    assert seen > 100 and missed == []


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("script", ["{\U0010bf48.\U00088c8f", "{\U000e0000", "{\U00100000 x", "echo {\U000f0000 > /d/x"])
def test_high_plane_characters_do_not_crash_the_parser(script: str) -> None:
    """Found by hypothesis (HYPOTHESIS_PROFILE=dev): tree-sitter-bash 0.25 segfaults on `{` and a
    code point of the higher planes; the parser reads them as U+20000, the words keep them."""
    for _ in range(20):
        parse_container_command(["sh", "-c", script], None)
    from migrate_tui.parse.dockerfile.run import split_script

    split_script(script)
    if script.startswith("echo"):
        op = sh(script).ops[0]
        assert op.argv == ("echo", "{\U000f0000") and op.paths == ("/d/x",)


def test_a_cut_character_in_an_unreadable_script_is_no_exception() -> None:
    """Found by fuzzing: tree-sitter's error recovery can end a node inside a character."""
    from migrate_tui.parse.dockerfile.run import EditBlocker, split_script

    assert split_script('\nu\t\t\t\n\u0c75\x00"\nబ\n')[2] is EditBlocker.UNFINISHED
