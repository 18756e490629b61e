"""DF003 full-base-with-slim-variant

## What it does
Finds a shipped stage whose base is the full variant of an image that has a slim one:
`python:3.12` → `python:3.12-slim`, `node:20` → `node:20-slim`, `ruby:3.3` → `ruby:3.3-slim`,
`debian:bookworm` → `debian:bookworm-slim`, `openjdk:17` → `eclipse-temurin:17-jre` (the
`openjdk` images are deprecated), `eclipse-temurin:21-jdk` → `eclipse-temurin:21-jre`. The base
is judged after resolving `ARG`s and stage aliases; builder stages that ship nothing are not.

## Why is this bad?
The full variants carry compilers, headers and hundreds of packages that a running app does
not use: hundreds of MB per pull and many more CVEs to triage.

## Example
```dockerfile
FROM python:3.12
```

## Use instead
```dockerfile
FROM python:3.12-slim
```

## Fix safety
**Unsafe**: the slim variant lacks compilers and build headers (a `pip install` or `npm ci`
that builds a native extension fails), and the JRE lacks `javac`/`jcmd`. A base pinned by digest
gets no automatic fix (the slim digest can't be known offline).
"""

from __future__ import annotations

import re
from typing import Iterator

from migrate_tui.analysis.context import RuleContext
from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.analysis.savings import base_swap
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Stage
from migrate_tui.rules import DockerfileRule
from migrate_tui.analysis import stages as dfx

CODE = "DF003"
_SLIM_FAMILIES = {
    "python": "no requirement builds from source (the slim image has no compiler or headers)",
    "node": "no dependency builds a native addon (node-gyp needs python, make and g++)",
    "ruby": "no gem builds a native extension (the slim image has no compiler)",
    "debian": "the app needs none of the packages only the full image has",
}
_LEAN_MARKERS = ("slim", "alpine", "distroless", "minimal", "jre", "busybox", "windowsservercore", "nanoserver")
_CODENAMES = ("bookworm", "bullseye", "buster", "trixie", "jammy", "noble", "focal")


def check(subject: tuple[SourceFile, Dockerfile], ctx: RuleContext) -> Iterator[Finding]:
    source, parsed = subject
    seen: set[int] = set()
    for target in dfx.targets_for(ctx, source.path, parsed):
        base, chain = parsed.root_base(target.stage)
        root = chain[-1]
        if root.index in seen:
            continue
        proposal = slim_variant(base)
        if proposal is None:
            continue
        seen.add(root.index)
        new_base, assumption = proposal
        yield _finding(source, target, root, base, new_base, assumption)


@dfx.kept_per_base
def slim_variant(base: str) -> tuple[str, str] | None:
    ref = dfx.base_ref(base)
    if ref is None:
        return None
    family = ref.familiar_name
    tag = ref.tag or ("latest" if ref.digest is None else "")
    if any(m in tag for m in _LEAN_MARKERS):
        return None
    if family == "openjdk":
        major = re.match(r"(\d+)", tag)
        if not major:
            return None
        return f"eclipse-temurin:{major.group(1)}-jre", "the app needs only a Java runtime (no javac, jlink or jcmd)"
    if family == "eclipse-temurin":
        if "jdk" not in tag:
            return None
        return f"eclipse-temurin:{tag.replace('jdk', 'jre')}", "the app needs only a Java runtime (no javac, jlink or jcmd)"
    if family not in _SLIM_FAMILIES:
        return None
    if family == "debian":
        if tag not in _CODENAMES and not re.fullmatch(r"\d+", tag):
            return None
        return f"debian:{tag}-slim", _SLIM_FAMILIES[family]
    if tag == "latest":
        return f"{family}:slim", _SLIM_FAMILIES[family]
    for codename in _CODENAMES:
        if tag.endswith("-" + codename):
            return f"{family}:{tag[: -len(codename) - 1]}-slim-{codename}", _SLIM_FAMILIES[family]
    return f"{family}:{tag}-slim", _SLIM_FAMILIES[family]


def _finding(source: SourceFile, target: dfx.Target, root: Stage, base: str, new_base: str, assumption: str) -> Finding:
    stage = target.stage
    savings = base_swap(base, new_base)
    via = f" (through {dfx.label(root)})" if root is not stage else ""
    message = f"{dfx.label(stage)} is based on {dfx.short(base)}{via}: use {new_base} ({savings['text']})"
    location = Location(source.path, root.from_instruction.line)
    anchor = f"{root.index}:{base}"
    data = {
        "stage": stage.index,
        "stage_name": stage.name,
        "target_reason": target.reason,
        "base": base,
        "proposed_base": new_base,
        "savings": savings,
    }
    explanation = f"{dfx.label(stage)} is {target.reason}. Assumes {assumption}."
    edit = _edit(source, root, base, new_base)
    fix = None
    if not isinstance(edit, str):  # (a string says why the base can't be edited here)
        fix = Fix(
            applicability=Applicability.UNSAFE,
            description=f"Use {new_base}",
            edits=(edit,),
            assumption=assumption,
            base_digests=((source.path, source.digest),),
            scopes=((source.path, root.from_instruction.start, root.from_instruction.end),),
        )
    return Finding(
        rule=CODE,
        severity=Severity.WARNING,
        location=location,
        message=message,
        explanation=explanation,
        fix=fix,
        data=data,
        fix_blocked=edit if isinstance(edit, str) else None,
        anchor=anchor,
    )


def _edit(source: SourceFile, root: Stage, base: str, new_base: str) -> Edit | str:
    if root.base_assumed:  # the base is what the ARG defaults say; BuildKit builds from an empty value
        names = ", ".join(root.base_assumed)
        return (
            f"the FROM uses ARG {names}, declared after the first FROM, which BuildKit leaves empty here; "
            f"declare it before the first FROM, then use {new_base}"
        )
    start, end = root.base_span
    raw = source.text[start:end]
    if "@" in raw:
        return f"{raw} is pinned by digest; pin the digest of {new_base} by hand"
    if raw == base:
        return Edit(source.path, start, end, new_base)
    # The base uses ARGs: keep them when the change is a suffix of the tag.
    if new_base.startswith(base) and not raw.startswith("$"):
        return Edit(source.path, end, end, new_base[len(base) :])
    if base.endswith(":latest") is False and ":" not in base and new_base.startswith(base + ":"):
        return Edit(source.path, end, end, new_base[len(base) :])
    return f"the base comes from an ARG ({raw}); set its value to {new_base}"


RULE = DockerfileRule(
    code=CODE,
    name="full-base-with-slim-variant",
    summary="Full base image where a slim variant exists: use the slim variant",
    check=check,
)
