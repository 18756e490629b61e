"""sed, awk, yq and template renderers (gomplate, j2, consul-template, dockerize)."""

from __future__ import annotations

from migrate_tui.parse.shell.command import Cmd, OpKind, Verdict, Why
from migrate_tui.parse.shell.paths import dedupe, operand_paths, output_path, parse_options

TEXT_FILTERS = frozenset({"sed", "awk", "gawk", "mawk", "nawk", "jq", "yq", "envsubst", "gomplate", "j2", "jinja2"})


def classify_sed(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "efl", frozenset({"--expression", "--file", "--line-length"}))
    if "i" in opts.letters or "--in-place" in opts.longs:
        has_script = bool({"-e", "-f", "--expression", "--file"} & opts.values.keys())
        paths = operand_paths(cmd, opts, 0 if has_script else 1)
        return Verdict(OpKind.MODIFY, Why.EDITS_IN_PLACE, "sed -i edits files in place", paths, reads=paths)
    return Verdict(OpKind.HARMLESS, Why.PRINTS, "sed prints to stdout")


def classify_awk(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "fviF")
    if opts.values.get("-i") == "inplace":
        skip = 0 if "-f" in opts.values else 1
        paths = operand_paths(cmd, opts, skip)
        return Verdict(OpKind.MODIFY, Why.EDITS_IN_PLACE, "awk -i inplace edits files", paths, reads=paths)
    return Verdict(OpKind.HARMLESS, Why.PRINTS, f"{cmd.name} prints to stdout")


_YQ_SUBCOMMANDS = frozenset({"e", "eval", "ea", "eval-all"})


def classify_yq(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "", frozenset({"--output-format", "--input-format"}))
    if "i" in opts.letters or "--inplace" in opts.longs:
        subcommand = int(bool(opts.operands) and cmd.argv[opts.operands[0]] in _YQ_SUBCOMMANDS)
        paths = operand_paths(cmd, opts, 1 + subcommand)
        return Verdict(OpKind.MODIFY, Why.EDITS_IN_PLACE, "yq -i edits files in place", paths, reads=paths)
    return Verdict(OpKind.HARMLESS, Why.PRINTS, "yq prints to stdout")


def classify_template_tool(cmd: Cmd) -> Verdict:
    argv, outputs = cmd.argv, []
    for i, word in enumerate(argv[1:], start=1):
        name, eq, value = word.partition("=")
        if not eq and i + 1 < len(argv):
            value = argv[i + 1]
        if name in ("-o", "--out", "--outfile", "--output", "--output-dir"):
            outputs.append(value)
        elif name in ("-template", "--template"):
            pieces = value.split(":")
            if len(pieces) >= 2:
                outputs.append(pieces[1])
    if cmd.name == "dockerize" and not any(w.lstrip("-").startswith("template") for w in argv):
        if any(w.lstrip("-").startswith("wait") for w in argv):
            return Verdict(OpKind.WAIT, Why.WAITS, "dockerize -wait waits for a service")
        return Verdict(OpKind.UNKNOWN, Why.RUNTIME_CODE, "dockerize runs a command migrate-tui cannot see into")
    paths = dedupe(p for raw in outputs if raw for p in output_path(raw, cmd.cwd))
    return Verdict(OpKind.TEMPLATE, Why.RENDERS_TEMPLATE, f"{cmd.name} renders templates", paths)
