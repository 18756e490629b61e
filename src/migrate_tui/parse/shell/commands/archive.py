"""tar (and the ``tar -cf - | tar -xf -`` copy), unzip, gzip and friends."""

from __future__ import annotations

import posixpath
from typing import NamedTuple

from migrate_tui.parse.shell.command import Cmd, CopyOp, OpKind, Verdict, Why
from migrate_tui.parse.shell.paths import GLOB_CHARS, dedupe, is_resolved, operand_paths, parse_options, resolve, source_form

DECOMPRESSORS = frozenset({"gunzip", "gzip", "bunzip2", "bzip2", "unxz", "xz", "zstd", "unzstd", "uncompress"})

_TAR_MODES = {"c": "c", "x": "x", "t": "t", "r": "r", "u": "u", "A": "A", "d": "d"}
_TAR_LONG_MODES = {
    "--create": "c",
    "--extract": "x",
    "--get": "x",
    "--list": "t",
    "--append": "r",
    "--update": "u",
    "--concatenate": "A",
    "--catenate": "A",
    "--diff": "d",
    "--compare": "d",
    "--delete": "D",
}
_TAR_SHORT_VALUED = "fCTXbHKNgLVIF"
_TAR_LONG_VALUED = frozenset(
    {
        "--file",
        "--directory",
        "--exclude",
        "--files-from",
        "--exclude-from",
        "--transform",
        "--xform",
        "--owner",
        "--group",
        "--mode",
        "--use-compress-program",
        "--strip-components",
        "--newer",
        "--after-date",
        "--format",
        "--blocking-factor",
        "--record-size",
        "--label",
        "--suffix",
        "--to-command",
        "--index-file",
        "--mtime",
        "--sort",
        "--warning",
    }
)


class _Tar(NamedTuple):
    modes: frozenset[str]
    archive: str | None
    directory: str | None  # the last -C
    members: tuple[tuple[str, str | None], ...]  # (member, -C in effect before it)
    flags: tuple[str, ...]


def _parse_tar(argv: tuple[str, ...]) -> _Tar:
    words = argv[1:]
    modes: set[str] = set()
    values: dict[str, str | None] = {"f": None, "C": None}
    members: list[tuple[str, str | None]] = []
    flags: list[str] = []
    i = 0
    if words and words[0] and not words[0].startswith("-"):  # old style: tar czf OUT -C DIR
        flags.append(words[0])
        i = 1
        for letter in words[0]:
            if letter in _TAR_MODES:
                modes.add(_TAR_MODES[letter])
            if letter in _TAR_SHORT_VALUED:
                values[letter] = words[i] if i < len(words) else None
                i += 1
    ended = False
    while i < len(words):
        word = words[i]
        if ended or word == "-" or not word.startswith("-"):
            members.append((word, values["C"]))
        elif word == "--":
            ended = True
            flags.append(word)
        elif word.startswith("--"):
            flags.append(word)
            name, eq, value = word.partition("=")
            if name in _TAR_LONG_MODES:
                modes.add(_TAR_LONG_MODES[name])
            if not eq and name in _TAR_LONG_VALUED and i + 1 < len(words):
                value, i = words[i + 1], i + 1
            if name in ("--file", "--directory"):
                values["f" if name == "--file" else "C"] = value
        else:
            flags.append(word)
            for j in range(1, len(word)):
                letter = word[j]
                if letter in _TAR_MODES:
                    modes.add(_TAR_MODES[letter])
                if letter in _TAR_SHORT_VALUED:
                    value = word[j + 1 :]
                    if not value and i + 1 < len(words):
                        value, i = words[i + 1], i + 1
                    values[letter] = value
                    break
        i += 1
    return _Tar(frozenset(modes), values["f"], values["C"], tuple(members), tuple(flags))


def tar_pipe_copy(first: tuple[str, ...], second: tuple[str, ...], cwd: str) -> CopyOp | None:
    """``tar -C SRC -cf - . | tar -C DEST -xf -`` as one copy, else None."""
    if not first or not second or posixpath.basename(first[0]) != "tar":
        return None
    if posixpath.basename(second[0]) != "tar":
        return None
    create, extract = _parse_tar(first), _parse_tar(second)
    if "c" not in create.modes or "x" not in extract.modes or extract.members:
        return None
    if create.archive not in (None, "-") or extract.archive not in (None, "-"):
        return None
    if not create.members:
        return None
    sources: list[str] = []
    forms: list[str] = []
    for member, directory in create.members:
        base = resolve(directory or ".", cwd)
        stripped = member.rstrip("/")
        source, form = source_form(member, not GLOB_CHARS.isdisjoint(member), base)
        if form == "entry" and "/" in stripped.strip("/"):
            form = "pattern"  # tar keeps the member's whole path under DEST, unlike cp
        sources.append(source)
        forms.append(form)
    dest = resolve(extract.directory or ".", cwd)
    if not all(is_resolved(p) for p in sources + [dest]):
        return None  # not a copy migrate-tui can place: the members are judged one by one
    follows = any(f in ("--dereference", "-h") or (f[:1] == "-" and f[1:2] != "-" and "h" in f[1:]) for f in create.flags)
    transforms = ("follows symbolic links (-h)",) if follows else ()
    return CopyOp("tar", tuple(sources), tuple(forms), dest, True, True, True, create.flags + extract.flags, transforms)


def classify_tar(cmd: Cmd) -> Verdict:
    tar = _parse_tar(cmd.argv)
    archive = () if tar.archive in (None, "-") else (resolve(tar.archive or "", cmd.cwd),)
    if "x" in tar.modes:
        where = resolve(tar.directory or ".", cmd.cwd)
        return Verdict(OpKind.MODIFY, Why.EXTRACTS, f"tar extracts {tar.archive or 'an archive'} into {where}", (where,), reads=archive)
    if tar.modes & {"c", "r", "u", "A", "D"}:
        members = dedupe(resolve(member, resolve(directory or ".", cmd.cwd)) for member, directory in tar.members if member != "-")
        if not archive:
            return Verdict(OpKind.HARMLESS, Why.PRINTS, "tar writes an archive to stdout", reads=members)
        return Verdict(OpKind.MODIFY, Why.WRITES_FILE, f"tar writes the archive {archive[0]}", archive, reads=members)
    if tar.modes:
        return Verdict(OpKind.HARMLESS, Why.CHANGES_NOTHING, "tar only lists or compares")
    return Verdict(OpKind.UNKNOWN, Why.INCOMPLETE, "tar without a mode")


def classify_unzip(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "dP")
    if opts.letters & {"l", "t", "p", "Z"}:
        return Verdict(OpKind.HARMLESS, Why.CHANGES_NOTHING, "unzip only lists or tests")
    where = resolve(opts.values.get("-d", "."), cmd.cwd)
    archive = operand_paths(cmd, opts)[:1]
    return Verdict(OpKind.MODIFY, Why.EXTRACTS, f"unzip extracts an archive into {where}", (where,), reads=archive)


def classify_decompressor(cmd: Cmd) -> Verdict:
    opts = parse_options(cmd.argv, "S", frozenset({"--suffix"}))
    if "c" in opts.letters or "--stdout" in opts.longs or "t" in opts.letters:
        return Verdict(OpKind.HARMLESS, Why.PRINTS, f"{cmd.name} writes to stdout")
    paths = operand_paths(cmd, opts)
    return Verdict(OpKind.MODIFY, Why.CHANGES_FILES, f"{cmd.name} changes files in place", paths, reads=paths)
