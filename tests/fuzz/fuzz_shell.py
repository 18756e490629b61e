"""atheris target: the shell model (tree-sitter-bash) never raises nor crashes, whatever the text.

python tests/fuzz/fuzz_shell.py -max_total_time=30 CORPUS_DIR tests/fixtures/IV001
"""

import sys

import atheris

with atheris.instrument_imports():
    from migrate_tui.parse.shell import OpKind, parse_container_command
    from migrate_tui.parse.dockerfile.run import split_script


def test_one_input(data: bytes) -> None:
    script = data.decode("utf-8", "surrogateescape")
    parsed = parse_container_command(["sh", "-c", script], None)
    assert (parsed.opaque is None) or parsed.ops == ()
    for op in parsed.ops:
        assert isinstance(op.kind, OpKind) and op.line >= 1
    commands, end, blocker = split_script(script)
    assert 0 <= end <= len(script)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
