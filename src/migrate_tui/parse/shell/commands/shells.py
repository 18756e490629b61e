"""A nested shell (``sh -c``, ``bash script.sh``) or ``source``: a script the model can't see into."""

from __future__ import annotations

from migrate_tui.parse.shell.command import Cmd, OpKind, Verdict, Why
from migrate_tui.parse.shell.paths import parse_options


def classify_shell(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "oO")
    if "c" in opts.letters:
        return Verdict(OpKind.UNKNOWN, Why.NESTED_SHELL, "runs a nested shell script")
    if opts.operands:
        script = cmd.argv[opts.operands[0]]
        return Verdict(OpKind.UNKNOWN, Why.RUNS_PROGRAM, f"runs {script}, which migrate-tui cannot see into", program=script)
    return Verdict(OpKind.UNKNOWN, Why.NESTED_SHELL, f"{cmd.name} runs a script read from stdin")


def classify_source(cmd: Cmd) -> Verdict:
    if len(cmd.argv) < 2:
        return Verdict(OpKind.UNKNOWN, Why.INCOMPLETE, f"{cmd.name} without a file")
    return Verdict(OpKind.UNKNOWN, Why.RUNS_PROGRAM, f"runs {cmd.argv[1]}, which migrate-tui cannot see into", program=cmd.argv[1])
