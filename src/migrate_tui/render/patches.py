"""One reviewable unit per change-set: a ``git apply``-able patch and a Markdown summary.

``plan_patches`` takes the fixes ``check --fix`` would write in its first round and turns each
change-set into a patch made against the tree as the earlier patches leave it, so applying the
numbered patches in order gives the bytes ``check --fix`` writes (BOM and CRLF included: the
patch carries the file's real bytes). A change-set that overlaps another waits for the next
round, as with ``--fix``; it is listed, never guessed at. Pure: no file is read or written here.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from migrate_tui.model.findings import Applicability, Edit, Finding, Fix
from migrate_tui.repo.sources import SourceFile, encode
from migrate_tui.platform.target import Target
from migrate_tui.write.writer import apply_edits, select_fixes, twins, verify_text


class HeldBack(str, Enum):
    """Why a change-set got no patch in this run."""

    NEXT_ROUND = "next-round"  # overlaps an earlier change-set: run again after applying
    INVALID = "invalid"  # the result would not parse or validate
    UNSAFE = "unsafe"  # needs --unsafe-fixes
    PATH = "path"  # a path git can't carry safely in a patch header


@dataclass(frozen=True)
class Patch:
    name: str  # file stem: "01-deployment-web"
    data: bytes  # the patch, git's format
    summary: str  # Markdown: what, why, caveats, platform needs, savings, build/verify commands
    findings: tuple[Finding, ...]
    paths: tuple[str, ...]
    after: tuple[str, ...] = ()  # earlier patches touching the same files (apply those first)


@dataclass
class PatchPlan:
    patches: list[Patch] = field(default_factory=list)
    held: list[tuple[Finding, HeldBack, str]] = field(default_factory=list)


Reader = Callable[[str], SourceFile | None]

_NAME_CLEAN = re.compile(r"[^a-z0-9]+")


def patch_stem(finding: Finding) -> str:
    """``deployment-web`` for the owner ``Deployment/web``; a Dockerfile's path otherwise."""
    owner = str((finding.data or {}).get("owner") or "")
    if owner:
        base = owner.lower()
    else:
        base = "dockerfile-" + (posixpath.dirname(finding.location.path) or finding.location.path)
    stem = _NAME_CLEAN.sub("-", base.lower()).strip("-")[:80]
    return stem or "change"


def plan_patches(
    findings: list[Finding], read: Reader, target: Target, *, unsafe: bool = False, command_prefix: str = "migrate-tui"
) -> PatchPlan:
    plan = PatchPlan()
    if not unsafe:
        for f in findings:
            if f.fix is not None and f.fix.applicability is Applicability.UNSAFE:
                plan.held.append((f, HeldBack.UNSAFE, "rests on an assumption: add --unsafe-fixes to include it"))
    chosen, waiting = select_fixes(findings, unsafe=unsafe)
    plan.held += [(f, HeldBack.NEXT_ROUND, reason) for f, reason in waiting]
    texts: dict[str, str | None] = {}  # each file as the earlier patches leave it
    sources: dict[str, SourceFile | None] = {}
    applied: dict[str, list[Edit]] = {}  # path -> edits applied so far (offsets of the original text)
    touched_by: dict[str, list[str]] = {}
    used: set[str] = set()
    for finding in chosen:
        fix: Fix = finding.fix  # type: ignore[assignment]
        bad_path = next((p for p in fix.paths if not _carriable(p)), None)
        if bad_path is not None:
            plan.held.append((finding, HeldBack.PATH, f"{bad_path!r} can't be named safely in a patch"))
            continue
        for path in fix.paths:
            if path not in sources:
                sources[path] = read(path)
                texts[path] = sources[path].text if sources[path] is not None else None  # type: ignore[union-attr]
        news: dict[str, str] = {}
        problem = None
        for path in fix.paths:
            original = sources[path].text if sources[path] is not None else ""  # type: ignore[union-attr]
            edits = applied.get(path, []) + [e for e in fix.edits if e.path == path]
            news[path] = apply_edits(original, edits)
            problems = verify_text(path, news[path], texts[path], target)
            if problems:
                problem = f"{path}: the rewrite would not validate: {problems[0]}"
                break
        if problem:
            plan.held.append((finding, HeldBack.INVALID, problem))
            continue
        chunks = []
        for path in fix.paths:
            chunks.append(_git_diff(path, texts[path], news[path], sources[path]))
        stem = patch_stem(finding)
        name = f"{len(plan.patches) + 1:02d}-{stem}"
        while name in used:
            name += "-2"
        used.add(name)
        after = tuple(dict.fromkeys(p for path in fix.paths for p in touched_by.get(path, [])))
        group = (finding, *twins(findings, [finding]))
        created = {path for path in fix.paths if sources[path] is None}
        summary = render_summary(name, group, fix, target, after, created, command_prefix)
        plan.patches.append(Patch(name, "".join(chunks).encode("utf-8", "surrogatepass"), summary, group, fix.paths, after))
        for path in fix.paths:
            applied.setdefault(path, []).extend(e for e in fix.edits if e.path == path)
            texts[path] = news[path]
            touched_by.setdefault(path, []).append(name)
    return plan


# --- git's patch format ------------------------------------------------------------------------

_NEEDS_QUOTING = re.compile(r'[\x00-\x1f\x7f"\\]|[^\x00-\x7f]')


def _carriable(path: str) -> bool:
    """A path we put in a patch header: relative, no '..', no control characters, not in .git."""
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and ".." not in parts and ".git" not in parts and not re.search(r"[\x00-\x1f\x7f]", path)


def _quote(prefix: str, path: str) -> str:
    """git's C-style quoting for names with quotes, backslashes or non-ASCII bytes."""
    name = prefix + path
    if not _NEEDS_QUOTING.search(name) and not name.endswith(" "):
        return name
    out = []
    for byte in name.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _on_disk(text: str, source: SourceFile | None) -> str:
    return encode(source, text).decode("utf-8") if source is not None else text


def _git_diff(path: str, before: str | None, after: str, source: SourceFile | None) -> str:
    old = _on_disk(before, source) if before is not None else ""
    new = _on_disk(after, source) if before is not None else after
    a, b = _quote("a/", path), _quote("b/", path)
    head = [f"diff --git {a} {b}\n"]
    if before is None:
        head += ["new file mode 100644\n", "--- /dev/null\n", f"+++ {b}\n"]
    else:
        head += [f"--- {a}\n", f"+++ {b}\n"]
    body = []
    for line in list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), n=3))[2:]:
        body.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(head + body)


# --- the Markdown beside each patch --------------------------------------------------------------


def _uses_subpath(findings: tuple[Finding, ...]) -> bool:
    for f in findings:
        for mount in (f.data or {}).get("mounts") or ():
            if isinstance(mount, dict) and mount.get("subPath"):
                return True
    return False


def platform_needs(findings: tuple[Finding, ...], target: Target) -> list[str]:
    if not any(f.rule.startswith("IV") for f in findings):
        return ["none: a Dockerfile change; the image builds and runs as before"]
    needs = [
        "Kubernetes 1.35+ (image volumes on by default; 1.33–1.34 only with the ImageVolume feature gate on)",
        "a runtime that mounts image volumes: containerd 2.1+ or CRI-O 1.31+ (cri-dockerd: none)",
    ]
    if _uses_subpath(findings):
        needs.append("subPath on an image volume: containerd 2.2+ or CRI-O 1.33+ (older containerd silently mounts the whole image)")
    needs.append(f"judged against: {target.describe()}")
    return needs


def _md(text: str) -> str:
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def render_summary(
    name: str, group: tuple[Finding, ...], fix: Fix, target: Target, after: tuple[str, ...], created: set[str], command_prefix: str
) -> str:
    lead = group[0]
    lines = [f"# {name}: {_md(fix.description)}", ""]
    lines += [f"Applicability: **{fix.applicability.value}**", ""]
    if after:
        lines += ["Apply after: " + ", ".join(f"`{a}.patch`" for a in after) + " (same files).", ""]
    lines += ["## What changes", ""]
    lines += [f"- `{_md(path)}`" + (" (new file)" if path in created else "") for path in fix.paths]
    lines += ["", "## Why", ""]
    for f in group:
        lines.append(f"- {f.rule} at `{_md(f.location.path)}:{f.location.line}`: {_md(f.message)}")
    noted = {f"- {n}" for f in group for n in f.notes}
    explained = [line for line in lead.explanation.splitlines() if line.strip() and line not in noted]
    if explained:
        lines += ["", *(_md(line) for line in explained)]
    caveats = [n for f in group for n in f.notes]
    if fix.assumption:
        caveats.insert(0, f"assumption: {fix.assumption}")
    lines += ["", "## Caveats", ""]
    lines += [f"- {_md(c)}" for c in dict.fromkeys(caveats)] or ["- none"]
    proofs: list[dict[str, Any]] = [p for f in group if isinstance(p := (f.data or {}).get("proof"), dict)]
    lines += ["", "## Proof", ""]
    lines += [f"- {_md(str(p.get('summary', '')))}" for p in proofs] or [
        "- not proven: run `check --prove --image REF=oci:DIR` with the images, or `migrate-tui verify` below"
    ]
    lines += ["", "## Platform needs", ""]
    lines += [f"- {_md(n)}" for n in platform_needs(group, target)]
    savings = [f.data.get("savings", {}).get("text") for f in group if isinstance((f.data or {}).get("savings"), dict)]
    lines += ["", "## Estimated savings", ""]
    lines += [f"- {_md(s)}" for s in savings if s] or ["- not estimated for this change-set (see `migrate-tui report`)"]
    lines += ["", "## Build and prove", "", "```sh"]
    commands = _commands(group, command_prefix)
    lines += commands or ["# nothing to build: the change-set references existing images"]
    lines += ["```", ""]
    return "\n".join(lines)


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _commands(group: tuple[Finding, ...], prefix: str) -> list[str]:
    out: list[str] = []
    for f in group:
        data = f.data or {}
        for asset in data.get("assets") or ():
            if not isinstance(asset, dict) or not asset.get("dockerfile") or not asset.get("reference"):
                continue
            context = posixpath.dirname(str(asset["dockerfile"])) or "."
            line = f"{prefix} build {_shell_quote(context)} -t {_shell_quote(str(asset['reference']))} --push"
            if line not in out:
                out.append(line)
    manifests = [f.location.path for f in group if f.rule == "IV001"]
    for path in dict.fromkeys(manifests):
        q = _shell_quote(path)
        out += [
            f"git show HEAD:{q} > /tmp/before.yaml   # the manifest before this patch",
            f"{prefix} verify /tmp/before.yaml {q}   # each reader must see the same files",
        ]
    return out
