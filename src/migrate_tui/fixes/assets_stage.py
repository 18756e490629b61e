"""DF001's asset images that *arrange* their files in the shipped stage.

A final ``FROM busybox``/``alpine`` stage that copies files in and then only arranges them
(``RUN chmod -R go+r``, ``cp -r a/. b``, ``ln -s``, ``mkdir``, ``mv``, ``touch``), maybe with a
``CMD`` that only prints a message, needs the shell while it is built, not when it is used. The
rewrite keeps that stage as a build stage (``FROM <same base> AS assets``) and ships
``FROM scratch`` with ``COPY --from=assets`` of every path the stage wrote.

Pure functions over the parsed Dockerfile: :func:`plan_assets_stage` says whether a stage has
this shape and, when the rewrite is not provably right, why (an :class:`ArrangeBlocker`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterable

from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage
from migrate_tui.parse.dockerfile.run import EditBlocker, RunForm, read_run
from migrate_tui.parse.shell import Command

__all__ = ["ArrangeBlocker", "AssetsPlan", "copier_command", "plan_assets_stage", "render_scratch_stage"]

_ARRANGE = frozenset({"chmod", "cp", "ln", "mkdir", "mv", "touch"})
_OWNERSHIP = frozenset({"chown", "chgrp"})
_PACKAGES = frozenset({"apk", "apt-get", "apt", "aptitude", "dnf", "microdnf", "yum", "tdnf", "zypper", "pip", "pip3", "npm", "gem"})
_MESSAGE = frozenset({"echo", "printf", "true", ":"})
_CONFIG = frozenset({"LABEL", "EXPOSE", "STOPSIGNAL", "VOLUME", "ENV"})
_DATA = frozenset({"COPY", "ADD", "WORKDIR", "ARG", "MAINTAINER", "USER"}) | _CONFIG
# Paths written into the new stage as they are (no quoting needed in a Dockerfile).
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9._/@+=,:%-]*")
# Directories a shell base already has: a WORKDIR there did not create them.
_BASE_DIRS = frozenset(
    {
        "/",
        "/bin",
        "/sbin",
        "/etc",
        "/lib",
        "/lib64",
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/lib",
        "/usr/local/share",
        "/usr/share",
        "/var",
        "/var/lib",
        "/var/cache",
        "/var/log",
        "/var/tmp",
        "/tmp",
        "/root",
        "/home",
        "/opt",
        "/srv",
        "/mnt",
        "/media",
        "/run",
        "/dev",
        "/proc",
        "/sys",
    }
)
_VALUED = {"cp": "tS", "ln": "tS", "mkdir": "m", "mv": "tS", "touch": "dtr"}


class ArrangeBlocker(StrEnum):
    """Why the assets-stage rewrite is left to a person."""

    INSTALLS_PACKAGES = "installs-packages"
    OWNERSHIP = "ownership"
    UNKNOWN_PATH = "unknown-path"
    WHOLE_ROOT = "whole-root"
    BASE_DIRECTORY = "base-directory"
    TOP_LEVEL_LINK = "top-level-link"
    NAMED_STAGE = "named-stage"
    CONFIG_EXPANDS = "config-expands"

    @property
    def sentence(self) -> str:
        return _SENTENCES[self]


_SENTENCES = {
    ArrangeBlocker.INSTALLS_PACKAGES: (
        "the stage also installs packages, which a consumer may run; decide which "
        "files the asset image needs and copy only those into FROM scratch"
    ),
    ArrangeBlocker.OWNERSHIP: (
        "the stage sets file owners (chown/chgrp, COPY --chown, USER before a RUN); "
        "COPY --from into scratch must keep them: add --chown per path by hand, with numeric ids"
    ),
    ArrangeBlocker.UNKNOWN_PATH: (
        "a RUN writes a path that is not a literal absolute path (a variable, a glob, ~); list the paths to ship by hand"
    ),
    ArrangeBlocker.WHOLE_ROOT: "the stage writes into / itself; shipping / from the build stage would ship the shell base",
    ArrangeBlocker.BASE_DIRECTORY: (
        "the stage writes into a directory the base already has (such as /usr/local/bin/); "
        "shipping that directory would ship the base's files too: list the paths by hand"
    ),
    ArrangeBlocker.TOP_LEVEL_LINK: (
        "a RUN creates a symbolic link outside the copied directories; COPY --from follows "
        "a top-level link, so copy the directory that holds it by hand"
    ),
    ArrangeBlocker.NAMED_STAGE: (
        "the stage is named or is not the last one; a build that targets it by name would build the shell stage, so split it by hand"
    ),
    ArrangeBlocker.CONFIG_EXPANDS: "an ENV/LABEL/WORKDIR of the stage uses variables; carry it over by hand",
}


@dataclass
class AssetsPlan:
    runs: list[Instruction] = field(default_factory=list)  # RUNs that arrange files
    messages: list[Instruction] = field(default_factory=list)  # CMD/ENTRYPOINT that only print
    config: list[Instruction] = field(default_factory=list)  # carried into the scratch stage
    paths: list[str] = field(default_factory=list)  # what the stage wrote, outermost first
    workdir: str | None = None
    blocker: ArrangeBlocker | None = None


def plan_assets_stage(parsed: Dockerfile, stage: Stage) -> AssetsPlan | None:
    """The rewrite for a stage that copies files in and only arranges them; None when the stage
    has another shape (no RUN/CMD at all, or one that runs anything else)."""
    plan = AssetsPlan()
    workdir = "/"
    written: list[str] = []
    links: list[str] = []
    copies = 0
    for instr in stage.instructions:
        keyword = instr.keyword
        if keyword == "RUN":
            commands = _commands(instr)
            if commands is None:
                return None
            names = {c.name for c in commands}
            if names & _PACKAGES:
                plan.blocker = plan.blocker or ArrangeBlocker.INSTALLS_PACKAGES
            elif not names <= _ARRANGE | _OWNERSHIP:
                return None
            if names & _OWNERSHIP:
                plan.blocker = plan.blocker or ArrangeBlocker.OWNERSHIP
            for command in commands:
                made, removed, link = _writes(command, workdir)
                if made is None:
                    plan.blocker = plan.blocker or ArrangeBlocker.UNKNOWN_PATH
                    continue
                # a moved path no longer exists where it was written (order matters: a later
                # COPY may write there again)
                written = [p for p in written if not any(_under(p, m) for m in removed)]
                links = [p for p in links if not any(_under(p, m) for m in removed)]
                written += made
                links += link
            plan.runs.append(instr)
        elif keyword in ("CMD", "ENTRYPOINT"):
            commands = _commands(instr)
            if commands is None or not commands or not {c.name for c in commands} <= _MESSAGE:
                return None
            plan.messages.append(instr)
        elif keyword == "WORKDIR":
            value = instr.args.strip().strip("\"'")
            if "$" in value:
                plan.blocker = plan.blocker or ArrangeBlocker.CONFIG_EXPANDS
            workdir = posixpath.normpath(posixpath.join(workdir, value)) if value else workdir
            plan.workdir = workdir
            if workdir not in _BASE_DIRS:  # WORKDIR creates it: the stage wrote it
                written.append(workdir)
        elif keyword in ("COPY", "ADD"):
            copies += 1
            chown = instr.flag("chown")
            if chown is not None:
                plan.blocker = plan.blocker or ArrangeBlocker.OWNERSHIP
            words = list(instr.json_args) if instr.json_args is not None else instr.args.split()
            if len(words) >= 2:
                dest = words[-1]
                if "$" in dest:
                    plan.blocker = plan.blocker or ArrangeBlocker.UNKNOWN_PATH
                written.append(posixpath.normpath(posixpath.join(workdir, dest)))
        elif keyword == "USER":
            plan.blocker = plan.blocker or ArrangeBlocker.OWNERSHIP  # later RUNs write files as that user
            plan.config.append(instr)
        elif keyword in _CONFIG:
            if "$" in instr.args:
                plan.blocker = plan.blocker or ArrangeBlocker.CONFIG_EXPANDS
            plan.config.append(instr)
        elif keyword not in _DATA:
            return None
    if not copies or not (plan.runs or plan.messages):
        return None
    paths = _outermost(written)
    if "/" in paths:
        plan.blocker = plan.blocker or ArrangeBlocker.WHOLE_ROOT
    elif any(p in _BASE_DIRS for p in paths):
        plan.blocker = plan.blocker or ArrangeBlocker.BASE_DIRECTORY
    if any(not _PLAIN_PATH.fullmatch(p) for p in [*paths, *([plan.workdir] if plan.workdir else [])]):
        plan.blocker = plan.blocker or ArrangeBlocker.UNKNOWN_PATH
    if any(not any(_under(link, p) and link != p for p in paths) for link in links):
        plan.blocker = plan.blocker or ArrangeBlocker.TOP_LEVEL_LINK
    if stage.name is not None or stage is not parsed.stages[-1]:
        plan.blocker = plan.blocker or ArrangeBlocker.NAMED_STAGE
    plan.paths = paths
    return plan


def render_scratch_stage(parsed: Dockerfile, plan: AssetsPlan, name: str) -> str:
    """The ``FROM scratch`` stage that ships what the ``name`` stage wrote."""
    lines = ["FROM scratch"]
    lines += [parsed.text[i.start : i.end] for i in plan.config]
    if plan.workdir:
        lines.append(f"WORKDIR {plan.workdir}")
    lines += [f"COPY --from={name} {p} {p}" for p in plan.paths]
    return "\n".join(lines) + "\n"


def unique_stage_name(parsed: Dockerfile, wanted: str = "assets") -> str:
    taken = {s.name for s in parsed.stages if s.name}
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}-{n}"
    return name


_COPIER_CMD = frozenset({"cp", "mkdir", "chmod", "echo", "printf", "true", "ls", "set"})
_FETCH_RUN = frozenset(
    {
        "wget",
        "curl",
        "tar",
        "unzip",
        "gunzip",
        "gzip",
        "mkdir",
        "chmod",
        "rm",
        "mv",
        "cp",
        "ln",
        "echo",
        "test",
        "true",
        "set",
        "sha256sum",
        "sha512sum",
        "cd",
        "touch",
    }
)


def copier_command(parsed: Dockerfile, stage: Stage) -> Instruction | None:
    """The CMD/ENTRYPOINT of a *copier image*: a stage whose default command only copies its
    files somewhere (``CMD cp -a /plugins/. /target/``), with its assets from COPY or from a
    ``RUN wget … && tar …`` download in the same stage. Such an image exists to be run as an init
    container; None for any other shape (a package install, a real program, no cp)."""
    found = None
    copies = downloads = 0
    for instr in stage.instructions:
        if instr.keyword in ("CMD", "ENTRYPOINT"):
            commands = _commands(instr, allow_expansion=True)
            if commands is None:
                return None
            names = {c.name for c in commands}
            if "cp" not in names or not names <= _COPIER_CMD:
                return None
            found = instr
        elif instr.keyword == "RUN":
            commands = _commands(instr, allow_expansion=True)
            if commands is None or not {c.name for c in commands} <= _FETCH_RUN:
                return None
            downloads += any(c.name in ("wget", "curl") for c in commands)
        elif instr.keyword in ("COPY", "ADD"):
            copies += 1
        elif instr.keyword not in _DATA:
            return None
    return found if found is not None and (copies or downloads) else None


# --------------------------------------------------------------------------- helpers


def _commands(instr: Instruction, allow_expansion: bool = False) -> list[Command] | None:
    """The simple commands of a RUN/CMD/ENTRYPOINT (shell or exec form); None when it can't be
    read completely, or (unless ``allow_expansion``) when a word expands a variable."""
    script = read_run(instr)
    if script is None or script.form is RunForm.HEREDOC:
        return None
    if script.blocker is not None and script.blocker is not EditBlocker.EXEC_FORM:
        return None
    commands = list(script.commands)
    if not allow_expansion and any(c.assignments or any(w.expands for w in c.words) for c in commands):
        return None
    if any(w.text.startswith(("$(", "`")) or "$(" in w.text for c in commands for w in c.words):
        return None  # a command substitution runs something we don't see
    return commands


def _writes(command: Command, cwd: str) -> tuple[list[str] | None, list[str], list[str]]:
    """(paths the command creates, paths it moves away, links it creates); None: unknown."""
    name = command.name
    if name in ("chmod", "chown", "chgrp"):
        return [], [], []
    operands = _operands(command, _VALUED.get(name, ""))
    if operands is None:
        return None, [], []
    target_dir = operands.pop() if operands and operands[-1].startswith("\0") else None
    resolved = [_resolve(p, cwd) for p in operands]
    if target_dir is not None:
        directory = _resolve(target_dir[1:], cwd)
        resolved.append(directory)
    if any(p is None for p in resolved):
        return None, [], []
    paths = [p for p in resolved if p is not None]
    if name in ("mkdir", "touch"):
        return paths, [], []
    if len(paths) < (1 if target_dir else 2):
        if name == "ln" and len(paths) == 1:  # `ln -s TARGET`: the link is cwd/basename(TARGET)
            link = posixpath.join(cwd, posixpath.basename(paths[0]))
            return [link], [], [link]
        return None, [], []
    dest = paths[-1]
    if name == "ln":
        return [dest], [], [dest]
    if name == "mv":
        return [dest], paths[:-1], []
    return [dest], [], []


def _operands(command: Command, valued: str) -> list[str] | None:
    """Operands of cp/ln/mv/mkdir/touch; a ``-t DIR`` target comes last, marked with NUL."""
    out: list[str] = []
    target: str | None = None
    words = [w.text for w in command.words[1:]]
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            out += words[i + 1 :]
            break
        if word.startswith("--"):
            if word.startswith("--target-directory="):
                target = word.split("=", 1)[1]
            elif word in ("--target-directory", "--mode", "--suffix"):
                if i + 1 >= len(words):
                    return None
                if word == "--target-directory":
                    target = words[i + 1]
                i += 1
        elif word.startswith("-") and word != "-":
            letters = word[1:]
            for n, letter in enumerate(letters):
                if letter in valued:
                    value = letters[n + 1 :] or (words[i + 1] if i + 1 < len(words) else None)
                    if value is None:
                        return None
                    if not letters[n + 1 :]:
                        i += 1
                    if letter == "t":
                        target = value
                    break
        else:
            out.append(word)
        i += 1
    if target is not None:
        out.append("\0" + target)
    return out


def _resolve(path: str, cwd: str) -> str | None:
    if not path or any(ch in path for ch in "*?[$`~"):
        return None
    return posixpath.normpath(posixpath.join(cwd, path))


def _under(path: str, top: str) -> bool:
    return path == top or top == "/" or path.startswith(top + "/")


def _outermost(paths: Iterable[str]) -> list[str]:
    ordered = sorted(dict.fromkeys(paths), key=lambda p: (p.count("/"), p))
    out: list[str] = []
    for path in ordered:
        if not any(_under(path, kept) for kept in out):
            out.append(path)
    return sorted(out)
