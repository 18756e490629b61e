"""DF004 package-cache-left-in-layer

## What it does
Finds a `RUN` in a shipped stage that leaves a package manager's cache in its layer:
- `apt-get update`/`install` without removing `/var/lib/apt/lists/*` in the same `RUN`;
- `apk add`/`upgrade` without `--no-cache` (or `apk update` without removing `/var/cache/apk/*`);
- `pip install` without `--no-cache-dir` (and no `PIP_NO_CACHE_DIR` in the stage);
- `dnf`/`yum`/`microdnf install` without `… clean all`.

Builder stages that ship nothing are not judged (their caches never reach the image), nor are
`RUN --mount=type=cache` steps.

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
**Safe**: the edit only removes caches in the same `RUN`, after the install; the installed
packages are the same.
"""

from __future__ import annotations

import re
from typing import Iterator

from ..core.context import RuleContext
from ..core.model import Applicability, Edit, Finding, Fix, Location, Severity
from ..core.savings import unknown
from ..core.sources import SourceFile
from ..dockerfile.parser import Dockerfile, Instruction
from . import Rule
from . import _dockerfile as dfx

CODE = "DF004"
_APT = re.compile(r"\bapt(?:-get)?\s+(?:[-\w=]+\s+)*?(update|install|dist-upgrade|upgrade)\b")
_APT_CLEAN = re.compile(r"/var/lib/apt/lists")
_APK = re.compile(r"\bapk\s+(?:--?[\w-]+(?:[= ][^\s-][^\s]*)?\s+)*?(add|update|upgrade)\b[^&;|]*")
_APK_CLEAN = re.compile(r"/var/cache/apk")
_PIP = re.compile(r"\b(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?\s+-m\s+pip)\s+install\b")
_DNF = re.compile(r"\b(dnf|yum|microdnf|tdnf)\s+(?:-\S+\s+)*install\b")
_DNF_CLEAN = re.compile(r"\b(dnf|yum|microdnf|tdnf)\s+(?:-\S+\s+)*clean\s+all\b|/var/cache/(dnf|yum)")


def check(subject: tuple[SourceFile, Dockerfile], ctx: RuleContext) -> Iterator[Finding]:
    source, parsed = subject
    chosen = dfx.targets(parsed, dfx.link_targets_for(ctx, source.path))
    shipped = dfx.shipped_stages(parsed, chosen)
    for stage in parsed.stages:
        target = shipped.get(stage.index)
        if target is None:
            continue
        _, chain = parsed.root_base(stage)
        pip_env = any(i.keyword == "ENV" and "PIP_NO_CACHE_DIR" in i.args for s in chain for i in s.instructions)
        for instr in stage.instructions:
            if instr.keyword != "RUN" or instr.json_args is not None or instr.heredocs:
                continue
            mount = instr.flag("mount")
            if mount is not None and mount.value and "type=cache" in mount.value:
                continue
            finding = _judge(source, stage, target, instr, pip_env)
            if finding is not None:
                yield finding


def _judge(source: SourceFile, stage, target: dfx.Target, instr: Instruction, pip_env: bool) -> Finding | None:
    args = instr.args
    edits: list[Edit] = []
    what: list[str] = []
    tips: list[str] = []
    append: list[str] = []
    apt = _APT.search(args)
    if apt and not _APT_CLEAN.search(args):
        what.append("apt lists (/var/lib/apt/lists)")
        append.append("rm -rf /var/lib/apt/lists/*")
        if "install" in args and "--no-install-recommends" not in args and "apt-get install" in args:
            tips.append("consider apt-get install --no-install-recommends (changes which packages are installed, so not applied)")
    apk_commands = list(_APK.finditer(args))
    if apk_commands and not _APK_CLEAN.search(args):
        needs = [m for m in apk_commands if "--no-cache" not in m.group(0)]
        if any(m.group(1) == "update" for m in needs):
            what.append("the apk index (/var/cache/apk)")
            append.append("rm -rf /var/cache/apk/*")
        else:
            for m in needs:
                at = instr.offset_of(m.end(1))
                edits.append(Edit(source.path, at, at, " --no-cache"))
            if needs:
                what.append("the apk cache (apk add without --no-cache)")
    if not pip_env:
        pips = [m for m in _PIP.finditer(args) if "--no-cache-dir" not in _segment(args, m.end())]
        for m in pips:
            at = instr.offset_of(m.end())
            edits.append(Edit(source.path, at, at, " --no-cache-dir"))
        if pips:
            what.append("pip's download cache (~/.cache/pip)")
    dnf = _DNF.search(args)
    if dnf and not _DNF_CLEAN.search(args):
        what.append(f"the {dnf.group(1)} cache")
        append.append(f"{dnf.group(1)} clean all")
    if not what:
        return None
    if append:
        at = instr.offset_of(len(args))
        edits.append(Edit(source.path, at, at, "".join(f" && {a}" for a in append)))
    savings = unknown("cache", "the cache's size depends on the packages; `docker history` on the built image shows the layer")
    message = f"{dfx.label(stage)}: RUN leaves {', '.join(what)} in the layer: clean it in the same RUN"
    data = {"anchor": f"{stage.index}:{instr.args[:80]}", "stage": stage.index, "stage_name": stage.name,
            "target_reason": target.reason, "savings": savings}
    fix = Fix(Applicability.SAFE, "Remove the package cache in the same RUN", tuple(sorted(edits)), None,
              ((source.path, source.digest),), ((source.path, instr.start, instr.end),))
    explanation = (f"{dfx.label(stage)} ships in {dfx.label(target.stage)} ({target.reason}). "
                   "Files deleted by a later RUN still ship in this layer.")
    return Finding(CODE, Severity.WARNING, Location(source.path, instr.line), message, explanation, fix,
                   tuple(tips), (), data)


def _segment(args: str, start: int) -> str:
    """The rest of one command (up to &&, ;, | or the end)."""
    stop = re.search(r"&&|;|\|", args[start:])
    return args[start: start + stop.start()] if stop else args[start:]


RULE = Rule(
    code=CODE,
    name="package-cache-left-in-layer",
    summary="Package manager cache left in an image layer: clean it in the same RUN",
    scope="dockerfile",
    check=check,
)
