"""What the Dockerfile rules (DF001–DF005) share: which stages ship, what their base really is,
what kind of base it is, and what a stage does. Pure functions over the parsed Dockerfile.

Traps handled here once: the shipped stage is not always the last one; a base may be
reached through a stage alias or an ``ARG``; a stage name may shadow an image name (the parser
only links a ``FROM`` to *earlier* stages); ``FROM scratch`` + ``COPY --from=x / /`` ships all of
``x``; builder stages that are only copied from ship nothing but the copied paths; numeric
``COPY --from=0``; Windows bases get no scratch advice.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import TYPE_CHECKING, Callable, TypeVar

from migrate_tui.parse.imageref import ImageRef, parse_image_ref
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage
from migrate_tui.parse.dockerfile.run import EditBlocker, read_run

if TYPE_CHECKING:
    from migrate_tui.analysis.context import RuleContext

# Bases that bring a shell and a package manager (a data-only image needs none of it).
SHELL_BASES = frozenset(
    {
        "busybox",
        "alpine",
        "debian",
        "ubuntu",
        "centos",
        "fedora",
        "rockylinux",
        "almalinux",
        "amazonlinux",
        "oraclelinux",
        "opensuse/leap",
        "opensuse/tumbleweed",
        "archlinux",
        "redhat/ubi8",
        "redhat/ubi9",
        "registry.access.redhat.com/ubi8/ubi",
        "registry.access.redhat.com/ubi9/ubi",
        "registry.access.redhat.com/ubi8/ubi-minimal",
        "registry.access.redhat.com/ubi9/ubi-minimal",
        "photon",
        "clearlinux",
        "bash",
    }
)
# Bases that are already minimal: no shell, no package manager.
_MINIMAL_PREFIXES = (
    "gcr.io/distroless/",
    "cgr.dev/chainguard/static",
    "registry.k8s.io/build-image/distroless",
)
_WINDOWS_MARKERS = ("mcr.microsoft.com/windows", "servercore", "nanoserver", "windows/", "mcr.microsoft.com/powershell")
_DATA_KEYWORDS = frozenset({"COPY", "ADD", "LABEL", "ENV", "WORKDIR", "ARG", "USER", "EXPOSE", "VOLUME", "MAINTAINER", "STOPSIGNAL"})
_MODE_COMMANDS = frozenset({"chmod", "chown", "chgrp"})
_COMMAND_KEYWORDS = frozenset({"CMD", "ENTRYPOINT", "HEALTHCHECK", "SHELL", "ONBUILD"})


_T = TypeVar("_T")


def kept_per_base(fn: Callable[[str], _T]) -> Callable[[str], _T]:
    """Keep the answers of ``fn`` (a pure function of a base image string, with an immutable
    answer) per string: a repository's Dockerfiles share a few bases and several DF rules ask.
    A string over 512 characters (no image reference is that long) is answered afresh, so the
    cache stays small whatever a hostile file holds."""
    cached = lru_cache(maxsize=4096)(fn)

    @wraps(fn)
    def answer(resolved: str) -> _T:
        return cached(resolved) if len(resolved) <= 512 else fn(resolved)

    return answer


def label(stage: Stage) -> str:
    return f"stage {stage.index}" + (f" '{stage.name}'" if stage.name else "")


def ships(stage: Stage, target: Target) -> str:
    """How ``stage`` reaches the image people run, for explanations: "is the shipped stage (why)"
    when it is the target stage itself, else "ships in stage N (why)"."""
    if stage is target.stage:
        return f"is the shipped stage ({target.reason})"
    return f"ships in {label(target.stage)} ({target.reason})"


def short(image: str) -> str:
    """``busybox@sha256:dc2d74b28e4c…`` for messages (data keeps the full reference)."""
    name, at, digest = image.partition("@")
    return f"{name}@{digest[:19]}…" if at and len(digest) > 19 else image


@kept_per_base
def base_ref(resolved: str) -> ImageRef | None:
    """The parsed base reference (None for scratch or an unresolved ``$``). Kept per string: a
    repository's Dockerfiles share a few bases, and DF001, DF002 and DF003 all ask (an ImageRef
    is frozen, so the answers can be shared)."""
    if resolved.lower() == "scratch" or "$" in resolved:
        return None
    return parse_image_ref(resolved)


def base_family(resolved: str) -> str | None:
    """``busybox``, ``library/python`` → ``python``, ``ghcr.io/x/y``: the familiar repository name."""
    ref = base_ref(resolved)
    return ref.familiar_name if ref else None


def is_scratch(resolved: str) -> bool:
    return resolved.strip().lower() == "scratch"


def is_windows(resolved: str, parsed: Dockerfile) -> bool:
    return _windows_base(resolved) or (
        parsed.escape == "`" and any("powershell" in i.args.lower() for i in parsed.instructions if i.keyword in ("RUN", "SHELL"))
    )


@kept_per_base
def _windows_base(resolved: str) -> bool:
    lower = resolved.lower()
    return any(m in lower for m in _WINDOWS_MARKERS)


@kept_per_base
def is_minimal(resolved: str) -> bool:
    lower = resolved.lower()
    return is_scratch(lower) or any(lower.startswith(p) for p in _MINIMAL_PREFIXES)


@kept_per_base
def is_shell_base(resolved: str) -> bool:
    family = base_family(resolved)
    return family is not None and family in SHELL_BASES


# --------------------------------------------------------------------------- which stages ship


@dataclass(frozen=True)
class Target:
    """A stage that a build plausibly ships, and why we think so."""

    stage: Stage
    reason: str


def used_stages(parsed: Dockerfile) -> set[int]:
    """Stages another stage builds on or copies from (FROM alias, COPY --from, RUN --mount from=)."""
    found = parsed.memo.get("used_stages")
    if not isinstance(found, frozenset):  # (every DF rule asks: computed once per parse)
        found = parsed.memo["used_stages"] = frozenset(_used_stages(parsed))
    return set(found)


def _used_stages(parsed: Dockerfile) -> set[int]:
    used: set[int] = set()
    for stage in parsed.stages:
        if stage.parent is not None:
            used.add(stage.parent.index)
        for instr in stage.instructions:
            if not instr.flags and (instr.inner is None or not instr.inner.flags):
                continue  # (most instructions: no --from, no --mount)
            source = copy_source(parsed, instr)
            if isinstance(source, Stage):
                used.add(source.index)
            for flag in instr.flags:
                if flag.name == "mount" and flag.value:
                    found = re.search(r"(?:^|,)from=([^,]+)", flag.value)
                    if found:
                        ref = parsed.stage(found.group(1))
                        if ref is not None and ref.index < stage.index:
                            used.add(ref.index)
    return used


def copy_source(parsed: Dockerfile, instr: Instruction) -> Stage | str | None:
    target = instr.inner if instr.keyword == "ONBUILD" and instr.inner else instr
    if not target.flags or target.keyword not in ("COPY", "ADD"):
        return None  # (no --from: most COPYs)
    return parsed.copy_sources_from(target)


def targets(parsed: Dockerfile, link_targets: list[str | None] | None = None) -> list[Target]:
    """The stages a build plausibly ships.

    When build definitions in the repo name the Dockerfile (``link_targets``), those decide: a
    named ``--target``, or the last stage when they name none. Otherwise the last stage, plus
    every *named* stage that no other stage uses (a leaf someone can ``--target``).
    """
    if not parsed.stages:
        return []
    last = parsed.stages[-1]
    if link_targets:
        out: dict[int, Target] = {}
        for name in link_targets:
            stage = parsed.stage(name) if name else last
            if stage is not None:
                out.setdefault(
                    stage.index,
                    Target(
                        stage, f"--target {name} of the build definition" if name else "the default (last) stage, which the repo builds"
                    ),
                )
        return list(out.values())
    used = used_stages(parsed)
    found = [
        Target(stage, "a named stage no other stage uses (a plausible --target)")
        for stage in parsed.stages[:-1]
        if stage.name and stage.index not in used
    ]
    found.append(Target(last, "the last stage (the default target)"))
    return found  # (in stage order)


def targets_for(ctx: RuleContext, path: str, parsed: Dockerfile) -> list[Target]:
    """``targets(parsed, link_targets_for(ctx, path, parsed))``: every DF rule asks, so the answer
    is kept in the parse's memo (per project and path, as the link targets are)."""
    return list(_shipped_for(ctx, path, parsed)[0])


def shipped_for(ctx: RuleContext, path: str, parsed: Dockerfile) -> tuple[list[Target], dict[int, Target]]:
    """``targets_for`` and the ``shipped_stages`` of those targets (DF004 and DF005 both ask), kept
    in the parse's memo; the list and the dict are the caller's own."""
    chosen, shipped = _shipped_for(ctx, path, parsed)
    if shipped is None:
        shipped = shipped_stages(parsed, list(chosen))
        parsed.memo["shipped_for"] = (ctx.project, path, chosen, shipped)
    return list(chosen), dict(shipped)


def _shipped_for(ctx: RuleContext, path: str, parsed: Dockerfile) -> tuple[tuple[Target, ...], dict[int, Target] | None]:
    kept = parsed.memo.get("shipped_for")
    if isinstance(kept, tuple) and kept[0] is ctx.project and kept[1] == path:
        return kept[2], kept[3]
    chosen = tuple(targets(parsed, link_targets_for(ctx, path, parsed)))
    parsed.memo["shipped_for"] = (ctx.project, path, chosen, None)
    return chosen, None


def shipped_stages(parsed: Dockerfile, chosen: list[Target]) -> dict[int, Target]:
    """Every stage whose instructions end up in a shipped image: the targets, their FROM-alias
    chains, and stages copied whole (``COPY --from=x / /``). Mapped to the target they ship in."""
    out: dict[int, Target] = {}
    for target in chosen:
        todo = [target.stage]
        while todo:
            stage = todo.pop()
            if stage.index in out:
                continue
            out[stage.index] = target
            if stage.parent is not None:
                todo.append(stage.parent)
            for instr in stage.instructions:
                source = copy_source(parsed, instr)
                if isinstance(source, Stage) and copies_whole_fs(instr):
                    todo.append(source)
    return out


def copies_whole_fs(instr: Instruction) -> bool:
    words = instr.json_args or tuple(instr.args.split())
    return len(words) >= 2 and any(w.rstrip("/.") == "" for w in words[:-1])


def root_base(parsed: Dockerfile, stage: Stage) -> tuple[str, list[Stage]]:
    return parsed.root_base(stage)


# --------------------------------------------------------------------------- what a stage does


@dataclass
class StageShape:
    """What the instructions of a stage (and of the stages it builds on) do."""

    runs: list[Instruction] = field(default_factory=list)  # RUN that is not only chmod/chown
    mode_runs: list[Instruction] = field(default_factory=list)  # RUN chmod/chown only
    commands: list[Instruction] = field(default_factory=list)  # CMD/ENTRYPOINT/HEALTHCHECK/SHELL/ONBUILD
    copies: list[Instruction] = field(default_factory=list)
    whole_fs: list[Instruction] = field(default_factory=list)
    named_chown: list[Instruction] = field(default_factory=list)  # --chown=user (needs /etc/passwd)
    other: list[Instruction] = field(default_factory=list)

    @property
    def data_only(self) -> bool:
        return not (self.runs or self.mode_runs or self.commands or self.whole_fs or self.other)


def shape(parsed: Dockerfile, chain: list[Stage]) -> StageShape:
    out = StageShape()
    for stage in chain:
        for instr in stage.instructions:
            keyword = instr.keyword
            if keyword == "RUN":
                (out.mode_runs if only_mode_changes(instr) else out.runs).append(instr)
            elif keyword in _COMMAND_KEYWORDS:
                out.commands.append(instr)
            elif keyword in ("COPY", "ADD"):
                out.copies.append(instr)
                if copy_source(parsed, instr) is not None and copies_whole_fs(instr):
                    out.whole_fs.append(instr)
                chown = instr.flag("chown")
                if chown and chown.value and not re.fullmatch(r"\d+(:\d+)?", chown.value):
                    out.named_chown.append(instr)
            elif keyword not in _DATA_KEYWORDS:
                out.other.append(instr)
    return out


def runs_something(chain: list[Stage]) -> bool:
    """``shape(parsed, chain).runs or shape(parsed, chain).commands``: a RUN that is not only
    chmod/chown, or a CMD/ENTRYPOINT/HEALTHCHECK/SHELL/ONBUILD; stops at the first (no COPY is
    classified, no RUN after it is read)."""
    for stage in chain:
        for instr in stage.instructions:
            keyword = instr.keyword
            if keyword in _COMMAND_KEYWORDS or (keyword == "RUN" and not only_mode_changes(instr)):
                return True
    return False


def only_mode_changes(instr: Instruction) -> bool:
    """A RUN whose every command is chmod/chown/chgrp (as the shell reads it: ``&&``, ``;``,
    newlines; no substitutions, which could run anything)."""
    if instr.heredocs:
        return False
    script = read_run(instr)
    if script is None or not script.commands or (script.blocker is not None and script.blocker is not EditBlocker.EXEC_FORM):
        return False
    return all(c.name in _MODE_COMMANDS and not c.assignments and not any(w.expands for w in c.words) for c in script.commands)


def command_text(instr: Instruction) -> str:
    """What a RUN runs, one simple command per line, quotes removed and comments dropped
    (``NAME=value`` prefixes kept), without ``echo``/``printf`` (they only print): text for
    pattern checks that must not match a comment or a message. A script that isn't a POSIX shell
    (a python heredoc) gives ""."""
    script = read_run(instr)
    if script is None:
        return ""
    return "\n".join(
        " ".join([*(f"{k}={v}" for k, v in c.assignments), *c.argv]) for c in script.commands if c.name not in ("echo", "printf")
    )


def shell_text(instr: Instruction) -> str:
    """The command of a RUN as one string (exec form joined with spaces)."""
    if instr.json_args is not None:
        return " ".join(instr.json_args)
    text = instr.args
    for doc in instr.heredocs:
        text += "\n" + doc.body
    return text


def copy_destinations(parsed: Dockerfile, stage: Stage) -> list[tuple[Instruction, str]]:
    """Absolute destination of every COPY/ADD of ``stage`` (WORKDIR applied)."""
    workdir = "/"
    out = []
    for instr in stage.instructions:
        if instr.keyword == "WORKDIR":
            value = instr.args.strip().strip("\"'")
            workdir = posixpath.normpath(posixpath.join(workdir, value)) if value else workdir
        elif instr.keyword in ("COPY", "ADD"):
            words = list(instr.json_args) if instr.json_args is not None else instr.args.split()
            if len(words) < 2:
                continue
            dest = words[-1]
            absolute = posixpath.normpath(posixpath.join(workdir, dest))
            out.append((instr, absolute + ("/" if dest.endswith("/") and absolute != "/" else "")))
    return out


def link_targets_for(ctx: RuleContext, path: str, parsed: Dockerfile | None = None) -> list[str | None] | None:
    """The ``--target``s that the repo's build definitions use for the Dockerfile at ``path``.

    With ``parsed`` (the Dockerfile at ``path``), the answer is kept in its memo for the other
    rules that scan it with the same project."""
    if parsed is None:
        return _link_targets(ctx, path)
    key = ("link_targets", path)
    kept = parsed.memo.get(key)
    if isinstance(kept, tuple) and kept[0] is ctx.project:
        return list(kept[1]) if kept[1] is not None else None
    found = _link_targets(ctx, path)
    parsed.memo[key] = (ctx.project, tuple(found) if found is not None else None)
    return found


def _link_targets(ctx: RuleContext, path: str) -> list[str | None] | None:
    try:
        index = ctx.project.links()
    except Exception:  # noqa: BLE001 - a broken build file must not hide Dockerfile findings
        return None
    finder = index.links_for_dockerfile
    links = [l for l in finder(path) if l.source != "directory"]
    return [l.target for l in links] or None


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """Extend [start, end) to whole lines, including the trailing newline."""
    a = line_start(text, start)
    b = text.find("\n", end)
    return a, (len(text) if b == -1 else b + 1)
