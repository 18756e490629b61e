"""DF004 package-cache-left-in-layer

## What it does
Finds a `RUN` in a shipped stage that leaves a package manager's cache in its layer:
- `apt-get update` (also `apt update`, `aptitude update`) without removing `/var/lib/apt/lists/*`
  later in the same `RUN`;
- `apk add`/`upgrade` without `--no-cache` (or `apk update` without removing `/var/cache/apk/*`);
- `pip install` (`pip`, `pip2`, `pip3`, `pip3.12`, `python -m pip`, `python3 -m pip`) without
  `--no-cache-dir`, unless `PIP_NO_CACHE_DIR` is set for it (an `ENV`/`ARG` *before* the `RUN`,
  `PIP_NO_CACHE_DIR=1 pip …`, or `export PIP_NO_CACHE_DIR=1` earlier in the script);
- `dnf`/`yum`/`microdnf`/`tdnf` `install` (`dnf in`, `reinstall`, `upgrade`, …) without the same
  tool's `clean all` (or an `rm -rf` of its cache directory) after it.

The `RUN` is read as BuildKit and `/bin/sh` read it: words in quotes are arguments
(`echo "apt-get install"` installs nothing), a `#` starts a comment, and only a clean that
runs *after* the install counts (`rm -rf /var/lib/apt/lists/* && apt-get update` leaves the
lists). Every `--mount=type=cache` or `type=tmpfs` counts, but only for the directory it covers:
a cache mount on `/var/cache/apt` does not keep `/var/lib/apt/lists` out of the layer, a tmpfs
on `/root/.cache/pip` does keep pip's cache out.

Builder stages that ship nothing are not judged (their caches never reach the image), nor are
`ONBUILD` instructions (they run in downstream images).

## Why is this bad?
A file deleted in a later layer still ships in the earlier one: the package index (tens of MB
for apt) or the downloaded wheels stay in every pull of the image.

## Example
```dockerfile
RUN apt-get update && apt-get install -y ca-certificates
RUN pip install -r requirements.txt
```

## Use instead
```dockerfile
RUN apt-get update && apt-get install -y ca-certificates && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r requirements.txt
```
`apt-get install --no-install-recommends` also shrinks the layer, but it changes which
packages get installed, so it is suggested in the message, never applied.

## Fix safety
**Safe**: the edit only removes caches in the same `RUN`, after the install (`&& CLEAN`
appended after the script's last command, before a trailing comment), or adds the no-cache
option to the install command; the installed packages are the same. No fix (manual, with the
reason) when appending is not provably right: an exec-form (JSON) `RUN`, a heredoc that is not a
plain shell script body, a script that does not end in a complete command, ends in a background
`&`, or ends in `exit`/`exec`; and when a later `RUN` (in the stage or a stage built on it)
installs from the apt lists or apk index this `RUN` downloads without updating them itself:
removing them here would break that install (clean in the last installing `RUN` instead).

## Differences from hadolint
Modelled on hadolint DL3009, DL3019, DL3042, DL3032 and DL3040, on purpose different where:
- `ONBUILD` steps are not judged (their layers belong to downstream images);
- only stages that ship are judged (hadolint also skips unused stages for DL3009 only);
- `rm -r` of the directory or any parent of it, and `find DIR -delete`, count as cleans (hadolint
  wants the literal `rm -rf /var/lib/apt/lists/*`);
- a cache or tmpfs mount counts when its target *covers* the cache directory, not when the
  target merely contains the directory's name;
- `PIP_NO_CACHE_DIR` counts for any value pip accepts (pip disables its cache for `0`/`false`
  too, for backward compatibility), and only when pip inherits it: an `ENV`/`ARG` before the
  `RUN`, a `VAR=1 pip …` prefix or an `export` (a plain `PIP_NO_CACHE_DIR=1;` is a shell variable
  pip never sees; hadolint only looks for the text);
- `apk update`/`upgrade` are judged too, and `dnf`'s clean must come from the same tool
  (`microdnf clean all` does not clean `dnf`'s cache).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterator

from migrate_tui.analysis.context import RuleContext
from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.analysis.savings import unknown
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage, env_pairs
from migrate_tui.parse.dockerfile.run import POSIX_SHELLS, EditBlocker, RunScript, mounts, path_covered, read_run
from migrate_tui.parse.shell import Command, Word
from migrate_tui.rules import DockerfileRule
from migrate_tui.analysis import stages as dfx

CODE = "DF004"
_APT_LISTS = "/var/lib/apt/lists"
_APK_CACHE = "/var/cache/apk"
_APT_TOOLS = frozenset({"apt-get", "apt", "aptitude"})
_PIP = re.compile(r"pip\d*(?:\.\d+)?\Z")
_PYTHON = re.compile(r"python\d*(?:\.\d+)?\Z")
_DNF_INSTALLS = {
    "dnf": frozenset(
        {
            "install",
            "in",
            "reinstall",
            "rei",
            "upgrade",
            "up",
            "update",
            "upgrade-minimal",
            "up-min",
            "groupinstall",
            "localinstall",
            "distro-sync",
        }
    ),
    "yum": frozenset({"install", "reinstall", "upgrade", "update", "groupinstall", "localinstall"}),
    "microdnf": frozenset({"install", "reinstall", "upgrade", "update"}),
    "tdnf": frozenset({"install", "reinstall", "upgrade", "update"}),
}
_DNF_INSTALLS["dnf5"] = _DNF_INSTALLS["dnf"]
_DNF_CACHES = {
    "dnf": ("/var/cache/dnf", "/var/cache/libdnf5"),
    "dnf5": ("/var/cache/libdnf5",),
    "yum": ("/var/cache/yum", "/var/cache/dnf"),
    "microdnf": ("/var/cache/yum", "/var/cache/dnf"),
    "tdnf": ("/var/cache/tdnf",),
}
# Options that take the next word as their value (so it is not the subcommand).
_VALUED = {
    "apt": frozenset({"-o", "-c", "-t", "-a", "--option", "--config-file", "--target-release", "--default-release", "--host-architecture"}),
    "apk": frozenset(
        {
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "--cache-dir",
            "--keys-dir",
            "--repositories-file",
            "--cache-max-age",
            "--timeout",
            "--wait",
        }
    ),
    "pip": frozenset(
        {
            "--proxy",
            "--log",
            "--timeout",
            "--retries",
            "--cert",
            "--client-cert",
            "--cache-dir",
            "--exists-action",
            "--python",
            "--log-file",
            "--local-log",
        }
    ),
    "dnf": frozenset(
        {
            "-c",
            "--config",
            "-d",
            "--debuglevel",
            "-e",
            "--errorlevel",
            "-R",
            "--randomwait",
            "-x",
            "--exclude",
            "--releasever",
            "--installroot",
            "--setopt",
            "--repo",
            "--repoid",
            "--enablerepo",
            "--disablerepo",
            "--forcearch",
            "--destdir",
            "--downloaddir",
        }
    ),
}
# pip parses PIP_NO_CACHE_DIR with strtobool and disables the cache for true *and* false values.
_PIP_BOOL_VALUES = frozenset({"y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0"})


def check(subject: tuple[SourceFile, Dockerfile], ctx: RuleContext) -> Iterator[Finding]:
    source, parsed = subject
    _, shipped = dfx.shipped_for(ctx, source.path, parsed)
    for stage in parsed.stages:
        target = shipped.get(stage.index)
        if target is None or not any(i.keyword == "RUN" for i in stage.instructions):
            continue  # (only a RUN of the stage can leave a cache)
        resolved, chain = parsed.root_base(stage)
        if dfx.is_windows(resolved, parsed):
            continue
        before: list[Instruction] = [i for s in reversed(chain[1:]) for i in s.instructions]
        built_on = [i for s in parsed.stages if s is not stage and stage in parsed.root_base(s)[1] for i in s.instructions]
        for n, instr in enumerate(stage.instructions):
            if instr.keyword == "RUN" and _posix_shell(before):
                script = read_run(instr)
                if script is not None:
                    later = [i for i in [*stage.instructions[n + 1 :], *built_on] if i.keyword == "RUN"]
                    finding = _judge(source, parsed, stage, target, instr, script, before, later)
                    if finding is not None:
                        yield finding
            before.append(instr)


def _posix_shell(before: list[Instruction]) -> bool:
    """False when a SHELL instruction made RUN's shell something else (powershell, cmd)."""
    shells = [i for i in before if i.keyword == "SHELL" and i.json_args]
    return not shells or posixpath.basename(shells[-1].json_args[0]).lower() in POSIX_SHELLS  # type: ignore[index]


# --------------------------------------------------------------------------- what the RUN leaves


@dataclass
class _Plan:
    what: list[str]
    append: list[str]  # commands to run after the script's last command
    inserts: list[tuple[Word, str]]  # (word, text to insert after it)
    tips: list[str]


def _judge(
    source: SourceFile,
    parsed: Dockerfile,
    stage: Stage,
    target: dfx.Target,
    instr: Instruction,
    script: RunScript,
    before: list[Instruction],
    later: list[Instruction],
) -> Finding | None:
    covered = [m.target for m in mounts(instr) if m.type in ("cache", "tmpfs") and m.target]
    plan = _Plan([], [], [], [])
    commands = list(script.commands)
    _apt(commands, covered, plan)
    _apk(commands, covered, plan)
    _pip(commands, covered, plan, _env_before(before, parsed.escape), _home(before))
    _dnf(commands, covered, plan)
    if not plan.what:
        return None
    blocker: EditBlocker | IndexStillNeeded | None = _blocker(script, plan)
    if blocker is None:
        blocker = _index_still_needed(plan, later)
    fix = None
    if blocker is None:
        # one insertion per offset: an option after the last word comes before the appended clean
        texts: dict[int, str] = {}
        for word, text in plan.inserts:
            at = script.word_end(word)
            if at is not None:
                texts[at] = texts.get(at, "") + text
        if plan.append and script.append_at is not None:
            at = script.append_at
            texts[at] = texts.get(at, "") + "".join(f" && {a}" for a in plan.append)
        edits = [Edit(source.path, at, at, text) for at, text in sorted(texts.items())]
        fix = Fix(
            applicability=Applicability.SAFE,
            description="Remove the package cache in the same RUN",
            edits=tuple(edits),
            base_digests=((source.path, source.digest),),
            scopes=((source.path, instr.start, instr.end),),
        )
    savings = unknown("cache", "the cache's size depends on the packages; `docker history` on the built image shows the layer")
    message = f"{dfx.label(stage)}: RUN leaves {', '.join(plan.what)} in the layer: clean it in the same RUN"
    anchor = f"{stage.index}:{instr.args[:80]}"
    data = {
        "stage": stage.index,
        "stage_name": stage.name,
        "target_reason": target.reason,
        "savings": savings,
        "run_form": script.form.value,
    }
    why = blocker.sentence if blocker is not None else None
    if blocker is not None:
        data["fix_blocked_kind"] = blocker.value
    if isinstance(blocker, IndexStillNeeded):
        data["fix_blocked_line"] = _blocker_line(blocker, later)
        why = f"line {data['fix_blocked_line']}: {why}"
    explanation = f"{dfx.label(stage)} {dfx.ships(stage, target)}. Files deleted by a later RUN still ship in this layer."
    return Finding(
        rule=CODE,
        severity=Severity.WARNING,
        location=Location(source.path, instr.line),
        message=message,
        explanation=explanation,
        fix=fix,
        notes=tuple(plan.tips),
        data=data,
        fix_blocked=why,
        anchor=anchor,
    )


def _blocker(script: RunScript, plan: _Plan) -> EditBlocker | None:
    if script.to_offset is None:
        return script.blocker or EditBlocker.EXEC_FORM
    if plan.append and script.append_at is None:
        return script.blocker or EditBlocker.UNFINISHED
    return None


class IndexStillNeeded(StrEnum):
    """A later RUN installs from the index this RUN downloads: removing it here breaks the build."""

    APT_LISTS = "later-run-uses-apt-lists"
    APK_INDEX = "later-run-uses-apk-index"

    @property
    def sentence(self) -> str:
        what = "apt lists" if self is IndexStillNeeded.APT_LISTS else "apk index"
        return (
            f"a later RUN installs from the {what} this RUN downloads; removing them here would break it: "
            "clean them in the last RUN that installs (or merge the RUNs)"
        )


def _index_still_needed(plan: _Plan, later: list[Instruction]) -> IndexStillNeeded | None:
    if "rm -rf /var/lib/apt/lists/*" in plan.append and any(_uses_index(r, "apt") for r in later):
        return IndexStillNeeded.APT_LISTS
    if "rm -rf /var/cache/apk/*" in plan.append and any(_uses_index(r, "apk") for r in later):
        return IndexStillNeeded.APK_INDEX
    return None


def _blocker_line(blocker: IndexStillNeeded, later: list[Instruction]) -> int | None:
    family = "apt" if blocker is IndexStillNeeded.APT_LISTS else "apk"
    return next((r.line for r in later if _uses_index(r, family)), None)


_APT_USES = frozenset({"install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source", "download", "satisfy", "reinstall"})
_APK_USES = frozenset({"add", "upgrade", "fix", "fetch"})


def _uses_index(run: Instruction, family: str) -> bool:
    """``run`` installs from an index an earlier RUN left (no update of its own before, no
    ``apk --no-cache``/``--update``, no cache mount bringing its own)."""
    script = read_run(run)
    if script is None:
        return False
    covered = [m.target for m in mounts(run) if m.type in ("cache", "tmpfs", "bind") and m.target]
    if path_covered(_APT_LISTS if family == "apt" else _APK_CACHE, covered):
        return False
    tools = _APT_TOOLS if family == "apt" else frozenset({"apk"})
    uses = _APT_USES if family == "apt" else _APK_USES
    for c in script.commands:
        if c.name not in tools:
            continue
        verb = _subcommand(c, family)[0]
        if verb == "update":
            return False
        if verb in uses:
            if family == "apk" and {"--no-cache", "-U", "--update", "--update-cache"} & set(c.argv):
                continue
            return True
    return False


def _apt(commands: list[Command], covered: list[str], plan: _Plan) -> None:
    if path_covered(_APT_LISTS, covered):
        return
    updates = [n for n, c in enumerate(commands) if c.name in _APT_TOOLS and _subcommand(c, "apt")[0] == "update"]
    if not updates or _cleaned_after(commands, updates[-1], (_APT_LISTS,)):
        return
    plan.what.append("apt lists (/var/lib/apt/lists)")
    plan.append.append("rm -rf /var/lib/apt/lists/*")
    if any(c.name == "apt-get" and _subcommand(c, "apt")[0] == "install" and "--no-install-recommends" not in c.argv for c in commands):
        plan.tips.append("consider apt-get install --no-install-recommends (changes which packages are installed, so not applied)")


def _apk(commands: list[Command], covered: list[str], plan: _Plan) -> None:
    if path_covered(_APK_CACHE, covered):
        return
    needs = []
    for n, c in enumerate(commands):
        verb, word = _subcommand(c, "apk") if c.name == "apk" else (None, None)
        if (
            word is not None
            and verb in ("add", "update", "upgrade")
            and "--no-cache" not in c.argv
            and not _cleaned_after(commands, n, (_APK_CACHE,))
        ):
            needs.append((verb, word))
    if any(verb == "update" for verb, _ in needs):
        plan.what.append("the apk index (/var/cache/apk)")
        plan.append.append("rm -rf /var/cache/apk/*")
    elif needs:
        plan.inserts.extend((word, " --no-cache") for _, word in needs)
        plan.what.append("the apk cache (apk add without --no-cache)")


def _pip(commands: list[Command], covered: list[str], plan: _Plan, env: dict[str, str | None], home: str | None) -> None:
    env = dict(env)
    shell_vars: dict[str, str] = {}
    found = []
    for n, c in enumerate(commands):
        _track_exports(c, env, shell_vars)
        word = _pip_install(c)
        if word is None or "--no-cache-dir" in c.argv:
            continue
        local = {**env, **dict(c.assignments)}
        no_cache = local.get("PIP_NO_CACHE_DIR")
        if no_cache is not None and no_cache.lower() in _PIP_BOOL_VALUES:
            continue
        cache = local.get("PIP_CACHE_DIR") or (f"{home}/.cache/pip" if home else None)
        if cache is not None and (path_covered(cache, covered) or _cleaned_after(commands, n, (cache,), home)):
            continue
        if cache is None and any(t.endswith(("/.cache/pip", "/.cache")) and not t.startswith("/root/") for t in covered):
            continue
        found.append(word)
    if found:
        plan.inserts.extend((word, " --no-cache-dir") for word in found)
        plan.what.append("pip's download cache (~/.cache/pip)")


def _track_exports(c: Command, env: dict[str, str | None], shell_vars: dict[str, str]) -> None:
    """``export A=1``, ``A=1; export A`` and ``unset A`` change what later commands inherit."""
    if not c.words:
        shell_vars.update(dict(c.assignments))
        return
    if c.name in ("export", "declare", "typeset") and not c.assignments:
        for word in c.words[1:]:
            name, eq, value = word.text.partition("=")
            if eq:
                env[name] = value
            elif name in shell_vars:
                env[name] = shell_vars[name]
    elif c.name == "unset":
        for word in c.words[1:]:
            env.pop(word.text, None)


def _pip_install(c: Command) -> Word | None:
    """The ``install`` word of a pip install command, else None."""
    words = list(c.words)
    if _PYTHON.match(c.name):
        rest = words[1:]
        while rest and rest[0].text.startswith("-") and rest[0].text != "-m":
            rest = rest[1:]
        if len(rest) < 2 or rest[0].text != "-m" or rest[1].text != "pip":
            return None
        words = rest[1:]
    elif not _PIP.match(c.name):
        return None
    verb, word = _subcommand(Command(tuple(words), (), ""), "pip")
    return word if verb == "install" else None


def _dnf(commands: list[Command], covered: list[str], plan: _Plan) -> None:
    for tool, installs in _DNF_INSTALLS.items():
        caches = _DNF_CACHES[tool]
        if any(path_covered(p, covered) for p in caches):
            continue
        hits = [n for n, c in enumerate(commands) if c.name == tool and _subcommand(c, "dnf")[0] in installs]
        if not hits:
            continue
        last = hits[-1]
        cleaned = any(
            c.name == tool and c.argv[1:] and _subcommand(c, "dnf")[0] == "clean" and "all" in c.argv for c in commands[last + 1 :]
        )
        if cleaned or _cleaned_after(commands, last, caches):
            continue
        plan.what.append(f"the {tool} cache")
        plan.append.append(f"{tool} clean all")


# --------------------------------------------------------------------------- shell helpers


def _subcommand(c: Command, family: str) -> tuple[str | None, Word | None]:
    """The first operand after the tool's options (``apt-get -y -o X=1 install`` → install)."""
    valued = _VALUED.get(family, frozenset())
    words = c.words[1:]
    i = 0
    while i < len(words):
        word = words[i]
        if word.expands:
            return None, None
        if word.text.startswith("-"):
            i += 2 if word.text in valued else 1
            continue
        return word.text, word
    return None, None


def _cleaned_after(commands: list[Command], index: int, paths: tuple[str, ...], home: str | None = None) -> bool:
    """A command after ``commands[index]`` removes ``paths`` (or one of them): ``rm -r`` of
    the directory, its contents (``DIR/*``) or a parent, or ``find DIR … -delete``."""
    for c in commands[index + 1 :]:
        if c.name == "rm" and _recursive_rm(c.argv):
            targets = [_norm(a, home) for a in c.argv[1:] if not a.startswith("-")]
        elif c.name == "find" and ("-delete" in c.argv or any(a in ("rm", "/bin/rm") for a in c.argv)):
            targets = [_norm(a, home) for a in c.argv[1:2]]
        else:
            continue
        if any(path_covered(p, [t for t in targets if t]) for p in paths):
            return True
    return False


def _recursive_rm(argv: tuple[str, ...]) -> bool:
    return any(a in ("--recursive", "-R") or (a.startswith("-") and not a.startswith("--") and "r" in a) for a in argv[1:])


def _norm(arg: str, home: str | None) -> str | None:
    """An rm/find operand as the directory it empties or removes (``/x/*`` → ``/x``)."""
    if home is not None:
        arg = re.sub(r"\A(?:~|\$HOME|\$\{HOME\})(?=/|\Z)", home, arg)
    if arg.endswith("/*"):
        arg = arg[:-2]
    if not arg.startswith("/") or any(ch in arg for ch in "*?[$`"):
        return None
    return posixpath.normpath(arg)


def _env_before(before: list[Instruction], escape: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    for instr in before:
        for name, value in env_pairs(instr, escape):
            if instr.keyword == "ENV" or value is not None or name not in env:
                env[name] = value
    return env


def _home(before: list[Instruction]) -> str | None:
    """``/root`` unless a USER before the RUN switched to another user (home unknown: None)."""
    users = [i.args.strip() for i in before if i.keyword == "USER"]
    if not users:
        return "/root"
    return "/root" if users[-1].split(":", 1)[0] in ("root", "0") else None


RULE = DockerfileRule(
    code=CODE,
    name="package-cache-left-in-layer",
    summary="Package manager cache left in an image layer: clean it in the same RUN",
    check=check,
)
