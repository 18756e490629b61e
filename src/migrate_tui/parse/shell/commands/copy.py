"""cp, rsync, mv, ln, install: copies (a :class:`CopyOp` when every path resolves)."""

from __future__ import annotations

import posixpath

from migrate_tui.parse.shell.command import Cmd, CopyOp, OpKind, Verdict, Why
from migrate_tui.parse.shell.paths import (
    dedupe,
    is_remote,
    is_resolved,
    names_directory,
    operand_paths,
    parse_options,
    resolve,
    source_form,
    transforms,
)

_RSYNC_SHORT_VALUED = "efTBM@"
_RSYNC_LONG_VALUED = frozenset(
    {
        "--exclude",
        "--include",
        "--exclude-from",
        "--include-from",
        "--filter",
        "--rsh",
        "--chmod",
        "--chown",
        "--files-from",
        "--log-file",
        "--temp-dir",
        "--partial-dir",
        "--backup-dir",
        "--suffix",
        "--compare-dest",
        "--copy-dest",
        "--link-dest",
        "--timeout",
        "--bwlimit",
        "--max-size",
        "--min-size",
        "--port",
        "--password-file",
        "--usermap",
        "--groupmap",
        "--out-format",
        "--info",
        "--debug",
        "--block-size",
        "--max-delete",
        "--iconv",
        "--rsync-path",
        "--address",
        "--contimeout",
        "--skip-compress",
        "--compress-level",
        "--modify-window",
        "--remote-option",
    }
)


def classify_cp(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "tS", frozenset({"--target-directory", "--suffix"}))
    recursive = bool(opts.letters & {"r", "R", "a"} or opts.longs & {"--recursive", "--archive"})
    preserve = bool(opts.letters & {"a", "p"} or opts.longs & {"--archive", "--preserve"})
    target = opts.values.get("-t", opts.values.get("--target-directory"))
    if target is not None:
        source_indices, dest_raw, trailing = opts.operands, target, True
    elif len(opts.operands) >= 2:
        source_indices, dest_raw = opts.operands[:-1], cmd.argv[opts.operands[-1]]
        trailing = names_directory(dest_raw)
    else:
        return Verdict(OpKind.UNKNOWN, Why.INCOMPLETE, "cp without a source and a destination")
    if not source_indices:
        return Verdict(OpKind.UNKNOWN, Why.INCOMPLETE, "cp without a source")
    pairs = [source_form(cmd.argv[i], cmd.globs[i], cmd.cwd) for i in source_indices]
    dest = resolve(dest_raw, cmd.cwd)
    copy = CopyOp(
        "cp",
        tuple(s for s, _ in pairs),
        tuple(f for _, f in pairs),
        dest,
        trailing,
        recursive,
        preserve,
        opts.flags,
        transforms(opts, CP_TRANSFORMS),
    )
    return copy_verdict(copy)


# option (a letter of a bundle, or a long option) -> what it does besides a plain copy
CP_TRANSFORMS = {
    "L": "follows every symbolic link (-L)",
    "--dereference": "follows every symbolic link (--dereference)",
    "H": "follows symbolic links named on the command line (-H)",
    "l": "makes hard links instead of copies (-l)",
    "--link": "makes hard links instead of copies (--link)",
    "s": "makes symbolic links instead of copies (-s)",
    "--symbolic-link": "makes symbolic links instead of copies (--symbolic-link)",
    "--parents": "recreates each source's directory path under the destination (--parents)",
    "--attributes-only": "copies attributes only (--attributes-only)",
    "--copy-contents": "reads special files as data (--copy-contents)",
}
RSYNC_TRANSFORMS = {
    "L": "copies the targets of symbolic links (-L)",
    "--copy-links": "copies the targets of symbolic links (--copy-links)",
    "k": "copies the directories that symbolic links point to (-k)",
    "--copy-dirlinks": "copies the directories that symbolic links point to (--copy-dirlinks)",
    "--copy-unsafe-links": "copies the targets of links that leave the tree (--copy-unsafe-links)",
    "--safe-links": "skips links that leave the tree (--safe-links)",
    "R": "recreates each source's path under the destination (-R)",
    "--relative": "recreates each source's path under the destination (--relative)",
    "C": "skips files CVS would ignore (-C)",
    "--cvs-exclude": "skips files CVS would ignore (--cvs-exclude)",
    "--files-from": "copies only the files a list names (--files-from)",
}
_MV_PLAIN_OPTIONS = frozenset({"-f", "-v", "-fv", "-vf", "--force", "--verbose", "-t", "--target-directory", "--"})


def copy_verdict(copy: CopyOp) -> Verdict:
    """A COPY whose every path resolved to an absolute one, else an opaque (UNKNOWN) op."""
    unresolved = [p for p in copy.sources + (copy.dest,) if not is_resolved(p)]
    if unresolved:
        role = "destination" if unresolved[0] == copy.dest and copy.dest not in copy.sources else "source"
        reason = f"{copy.tool} {role} {unresolved[0]} is not a path migrate-tui can resolve"
        paths = (copy.dest,) if is_resolved(copy.dest) else ()
        reads = tuple(p for p in copy.sources if is_resolved(p))
        return Verdict(OpKind.UNKNOWN, Why.UNRESOLVED_PATH, reason, paths, reads=reads)
    reason = f"{copy.tool} copies {', '.join(copy.sources)} to {copy.dest}"
    return Verdict(OpKind.COPY, Why.COPIES, reason, (copy.dest,), copy, reads=copy.sources)


def classify_rsync(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, _RSYNC_SHORT_VALUED, _RSYNC_LONG_VALUED)
    if len(opts.operands) < 2:
        return Verdict(OpKind.UNKNOWN, Why.INCOMPLETE, "rsync without a source and a destination")
    raws = [cmd.argv[i] for i in opts.operands]
    dest_raw = raws[-1]
    if any(is_remote(raw) for raw in raws):
        paths = () if is_remote(dest_raw) else (resolve(dest_raw, cmd.cwd),)
        return Verdict(OpKind.DOWNLOAD, Why.DOWNLOADS, "rsync copies over the network", paths)
    pairs = []
    for i in opts.operands[:-1]:
        raw = cmd.argv[i]
        if not cmd.globs[i] and raw.endswith("/") and raw.rstrip("/"):
            pairs.append((resolve(raw, cmd.cwd), "contents"))
        else:
            pairs.append(source_form(raw, cmd.globs[i], cmd.cwd))
    recursive = bool(opts.letters & {"a", "r"} or opts.longs & {"--archive", "--recursive"})
    preserve = bool(opts.letters & {"a", "p"} or opts.longs & {"--archive", "--perms"})
    dest = resolve(dest_raw, cmd.cwd)
    copy = CopyOp(
        "rsync",
        tuple(s for s, _ in pairs),
        tuple(f for _, f in pairs),
        dest,
        dest_raw.endswith("/"),
        recursive,
        preserve,
        opts.flags,
        transforms(opts, RSYNC_TRANSFORMS),
    )
    return copy_verdict(copy)


def classify_ln_mv(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "tS", frozenset({"--target-directory", "--suffix"}))
    target = opts.values.get("-t", opts.values.get("--target-directory"))
    operands = [cmd.argv[i] for i in opts.operands]
    if cmd.name == "ln":
        if target is not None:
            written = [target]
        elif len(operands) >= 2:
            written = operands[-1:]
        else:
            written = [posixpath.basename(w.rstrip("/")) for w in operands]
        paths = dedupe(resolve(w, cmd.cwd) for w in written)
        return Verdict(OpKind.MODIFY, Why.CHANGES_FILES, "ln creates links", paths)
    moved = operands + ([target] if target is not None else [])
    sources = opts.operands if target is not None else opts.operands[:-1]
    reads = dedupe(resolve(cmd.argv[i], cmd.cwd) for i in sources)
    verdict = Verdict(OpKind.MODIFY, Why.CHANGES_FILES, "mv moves files", dedupe(resolve(w, cmd.cwd) for w in moved), reads=reads)
    plain = all(flag in _MV_PLAIN_OPTIONS for flag in opts.flags)
    if not plain or not sources or (target is None and len(opts.operands) < 2):
        return verdict
    # Out of the init container's own filesystem into a volume, mv copies with modes, owners
    # and times kept (as cp -a) and deletes the source: a COPY, whose sources IV001 checks.
    dest_raw = target if target is not None else cmd.argv[opts.operands[-1]]
    pairs = [source_form(cmd.argv[i], cmd.globs[i], cmd.cwd) for i in sources]
    if any(form == "contents" for _, form in pairs):
        return verdict  # `mv SRC/. D` fails: mv can't move a directory's "."
    copy = CopyOp(
        "mv",
        tuple(s for s, _ in pairs),
        tuple(f for _, f in pairs),
        resolve(dest_raw, cmd.cwd),
        target is not None or names_directory(dest_raw),
        True,
        True,
        opts.flags,
    )
    return copy_verdict(copy)


def classify_install(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "mogtS", frozenset({"--mode", "--owner", "--group", "--target-directory", "--suffix"}))
    target = opts.values.get("-t", opts.values.get("--target-directory"))
    if "d" in opts.letters or "--directory" in opts.longs:
        paths = operand_paths(cmd, opts)
        return Verdict(OpKind.MODIFY, Why.COPIES_CHANGED, "install copies files with new modes and owners", paths)
    if target is not None:
        paths = (resolve(target, cmd.cwd),)
        sources = opts.operands
    else:
        paths = operand_paths(cmd, opts)[-1:]
        sources = opts.operands[:-1]
    copy = None
    resolved = tuple(resolve(cmd.argv[i], cmd.cwd) for i in sources)
    if sources and paths and all(is_resolved(p) for p in paths):
        if all(is_resolved(p) for p in resolved):
            mode = opts.values.get("-m", opts.values.get("--mode", "0755"))
            # A copy with changes: install sets the mode (0755 unless -m), the owner, and new times.
            copy = CopyOp(
                "install",
                resolved,
                ("entry",) * len(resolved),
                paths[0],
                target is not None,
                False,
                False,
                opts.flags,
                (f"sets mode {mode}, the owner and new times (install)",),
            )
    return Verdict(OpKind.MODIFY, Why.COPIES_CHANGED, "install copies files with new modes and owners", paths, copy, reads=dedupe(resolved))
