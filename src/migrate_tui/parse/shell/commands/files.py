"""mkdir, chmod/chown/chgrp, rm/touch/truncate…, tee, find: commands that change files in place."""

from __future__ import annotations

from migrate_tui.parse.shell.command import Cmd, OpKind, Verdict, Why
from migrate_tui.parse.shell.paths import UNSEEN_PATHS, dedupe, operand_paths, parse_options, resolve


def classify_mkdir(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "mZ", frozenset({"--mode", "--context"}))
    paths = operand_paths(cmd, opts)
    if "-m" in opts.values or "--mode" in opts.values:
        return Verdict(OpKind.MODIFY, Why.CHANGES_FILES, "mkdir -m sets directory modes", paths)
    if not paths:
        return Verdict(OpKind.UNKNOWN, Why.INCOMPLETE, "mkdir without a directory")
    return Verdict(OpKind.MKDIR, Why.MAKES_DIRS, f"mkdir creates {', '.join(paths)}", paths)


MODE_OWNER_REASONS = {
    "chmod": "chmod changes file modes",
    "chown": "chown changes file owners",
    "chgrp": "chgrp changes file groups",
}


def classify_mode_owner(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "", frozenset({"--reference", "--from"}))
    skip = 0 if "--reference" in opts.values else 1
    return Verdict(OpKind.MODIFY, Why.CHANGES_FILES, MODE_OWNER_REASONS[cmd.name], operand_paths(cmd, opts, skip))


SIMPLE_MODIFIERS: dict[str, tuple[str, str, frozenset[str]]] = {
    "rm": ("rm deletes files", "", frozenset()),
    "rmdir": ("rmdir deletes directories", "", frozenset()),
    "unlink": ("unlink deletes a file", "", frozenset()),
    "shred": ("shred destroys files", "ns", frozenset({"--iterations", "--size"})),
    "touch": ("touch creates or updates files", "rdt", frozenset({"--reference", "--date"})),
    "truncate": ("truncate changes file sizes", "sr", frozenset({"--size", "--reference"})),
}


def classify_simple_modifier(cmd: Cmd) -> Verdict:
    reason, short_valued, long_valued = SIMPLE_MODIFIERS[cmd.name]
    opts = parse_options(cmd.argv, short_valued, long_valued)
    return Verdict(OpKind.MODIFY, Why.CHANGES_FILES, reason, operand_paths(cmd, opts))


def classify_tee(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv)
    paths = tuple(p for p in operand_paths(cmd, opts) if p not in UNSEEN_PATHS)
    if not paths:
        return Verdict(OpKind.HARMLESS, Why.PRINTS, "tee only prints")
    return Verdict(OpKind.MODIFY, Why.WRITES_FILE, f"tee writes {', '.join(paths)}", paths)


_FIND_WRITERS = frozenset({"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls"})


def classify_find(cmd: Cmd) -> Verdict:
    action = next((w for w in cmd.argv[1:] if w in _FIND_WRITERS), None)
    if action is None:
        return Verdict(OpKind.HARMLESS, Why.CHANGES_NOTHING, "find only lists")
    i = 1
    while i < len(cmd.argv) and cmd.argv[i] in ("-H", "-L", "-P"):
        i += 1
    roots: list[str] = []
    for word in cmd.argv[i:]:
        if word.startswith(("-", "(", "!", ",")):
            break
        roots.append(word)
    paths = dedupe(resolve(r, cmd.cwd) for r in roots or ["."])
    return Verdict(OpKind.MODIFY, Why.CHANGES_FILES, f"find {action} changes files", paths)
