"""DF001 data-only-image-on-shell-base

## What it does
Finds a shipped stage that only puts files into the image (`COPY`, `ADD`, `LABEL`, `ENV`,
`WORKDIR`, `ARG`, `USER`; no `RUN`, `CMD` or `ENTRYPOINT`) on top of a base that brings a shell
and a package manager (`busybox`, `alpine`, `debian`, `ubuntu`…), and proposes `FROM scratch`;
also a stage whose `RUN`s only arrange the copied files (see Fix safety).
Every plausible target stage is judged (the last one, named stages nothing else uses, or the
`--target` a build definition names); the message says which stage.

## Why is this bad?
The base is shipped, pulled and scanned with every asset image and nothing in it is used once
the files are mounted as an image volume: it only exists so an init container can run `cp`.

## Example
```dockerfile
FROM busybox:1.36
COPY site/ /site/
```

## Use instead
```dockerfile
FROM scratch
COPY site/ /site/
```

## Fix safety
`FROM scratch` breaks anything that runs a command in the image, such as the init container
that copies from it. So:
- when a manifest in the repo copies from the image (IV001), the fix is the IV001 change-set:
  the manifest, this Dockerfile and the build definition change together, with IV001's
  applicability;
- when a container in the repo runs the image (a regular container runs its entrypoint; a
  `command`/`args`, an exec probe or lifecycle hook run programs in it) or an init container
  runs it in a way IV001 can't migrate, **manual**, naming the manifest and line and what runs
  (also when the image is linked to this Dockerfile only by its file or directory name: too weak
  to build a change-set on, enough to withhold the assumption below);
- when nothing in the repo uses the image, **unsafe**: it assumes nothing elsewhere runs a
  command in it;
- `--chown=user` with a name: **manual** (scratch has no `/etc/passwd`; use numeric ids).

A stage that copies files in and then only *arranges* them (`RUN chmod`, `cp`, `ln`, `mkdir`,
`mv`, `touch`; a `CMD`/`ENTRYPOINT` that only prints a message) is an asset image too: the fix
keeps the stage as a build stage (`FROM <same base> AS assets`) and ships `FROM scratch` with
`COPY --from=assets PATH PATH` for every path the stage wrote. **Unsafe** (nothing runs a
command in the image; the `CMD` is gone with the shell). **Manual**, with the reason, when the
stage also installs packages, sets owners (`chown`, `COPY --chown`, `USER` before a `RUN`),
writes a path that is not literal, creates a link outside the copied directories (COPY follows
a top-level link), writes into `/`, is named or not the last stage, or a manifest runs it.

A *copier image* (its `CMD`/`ENTRYPOINT` only copies its files out, `CMD cp -a /plugins/. $DEST/`,
with the files from `COPY` or a `RUN wget … && tar …` in the same stage) exists to be run as an
init container. When a manifest in the repository runs it as one without a command of its own,
IV001 reads the `CMD` as the copy and this finding rides in IV001's change-set (its
applicability, at best **unsafe**): the pod gets an image volume, the stage becomes build stage
`fetch` with its download and without its `CMD`, and a new last stage ships `FROM scratch` with
`COPY --from=fetch` of the copied paths. **Manual** otherwise: when a container in the repository
runs the image some other way (its own `command`, as a regular container or sidecar), naming it;
and when no manifest in the repository runs it, since `FROM scratch` removes the command the
image exists for.

Windows bases get no scratch advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from migrate_tui.analysis.context import RuleContext
from migrate_tui.analysis.workloads import containers, pod_specs, same_repository
from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.model.findings import Applicability, Diagnostic, Edit, Finding, Fix, Location, Severity
from migrate_tui.analysis.savings import base_swap
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage
from migrate_tui.rules import DockerfileRule
from migrate_tui.analysis import stages as dfx
from migrate_tui.fixes.assets_stage import (
    ArrangeBlocker,
    AssetsPlan,
    copier_command,
    plan_assets_stage,
    render_scratch_stage,
    unique_stage_name,
)

CODE = "DF001"


@dataclass(frozen=True)
class _About:
    """What every DF001 finding about one stage shares: where it is, its stable anchor, the
    message and the structured data."""

    location: Location
    anchor: str
    message: str
    data: dict[str, Any]

    def finding(
        self,
        explanation: str | list[str],
        *,
        fix: Fix | None = None,
        blocked: str | None = None,
        notes: Iterable[str] = (),
        related: tuple[Location, ...] = (),
        message: str | None = None,
    ) -> Finding:
        return Finding(
            rule=CODE,
            severity=Severity.WARNING,
            location=self.location,
            message=self.message if message is None else message,
            explanation=explanation if isinstance(explanation, str) else "\n".join(explanation),
            fix=fix,
            notes=tuple(notes),
            related=related,
            data=self.data,
            fix_blocked=blocked,
            anchor=self.anchor,
        )


def _about(
    source: SourceFile, target: dfx.Target, base: str, savings: dict[str, Any], message: str, *, anchor_suffix: str = "", **extra: Any
) -> _About:
    """The finding's place, anchor and data for the shipped stage of ``target`` (``extra`` data
    keys after the common ones)."""
    stage = target.stage
    data: dict[str, Any] = {
        "stage": stage.index,
        "stage_name": stage.name,
        "target_reason": target.reason,
        "base": base,
        "savings": savings,
        **extra,
    }
    return _About(Location(source.path, stage.from_instruction.line), f"{stage.index}:{stage.name}{anchor_suffix}", message, data)


def check(subject: tuple[SourceFile, Dockerfile], ctx: RuleContext) -> Iterator[Finding]:
    source, parsed = subject
    for target in dfx.targets_for(ctx, source.path, parsed):
        finding = _judge(source, parsed, target, ctx)
        if finding is not None:
            yield finding


def _judge(source: SourceFile, parsed: Dockerfile, target: dfx.Target, ctx: RuleContext) -> Finding | None:
    stage = target.stage
    base, chain = parsed.root_base(stage)
    if not dfx.is_shell_base(base) or dfx.is_windows(base, parsed):
        return None
    if len(chain) == 1:
        plan = plan_assets_stage(parsed, stage)
        if plan is not None:
            return _arranging_stage(source, parsed, target, base, plan, ctx)
        copier = copier_command(parsed, stage)
        if copier is not None:
            return _copier_image(source, parsed, target, base, copier, ctx)
    shape = dfx.shape(parsed, chain)
    if shape.runs or shape.commands or shape.other or shape.whole_fs or not shape.copies:
        return None
    savings = base_swap(base, "scratch")
    message = f"{dfx.label(stage)} only adds files on {dfx.short(base)}: use FROM scratch ({savings['text']})"
    about = _about(source, target, base, savings, message)
    data = about.data
    explanation = [f"{dfx.label(stage)} ({target.reason}) ships {dfx.short(base)} but runs nothing in it."]
    if shape.mode_runs or shape.named_chown:
        reasons = [
            f"line {i.line} `{i.args.strip()}`: move the mode into COPY --chmod/--chown (scratch has no shell)" for i in shape.mode_runs
        ]
        reasons += [
            f"line {i.line}: --chown with a user name needs /etc/passwd, which scratch lacks; use numeric ids" for i in shape.named_chown
        ]
        return about.finding(explanation + reasons, blocked="; ".join(reasons), notes=reasons)
    users = _users(source, stage, parsed, ctx)
    if users is not None:
        fix, blocked, related, notes = users
        explanation += notes
        if fix is not None:
            data["change_set"] = "IV001"
            return about.finding(explanation, fix=fix, notes=notes, related=related, message=message + "; rides in the IV001 change-set")
        data["fix_blocked_kind"] = "runs-in-repo"
        return about.finding(explanation, blocked=blocked, notes=notes, related=related)
    guessed = _guessed_runners(source, stage, parsed, ctx)
    if guessed:
        data["fix_blocked_kind"] = "runs-in-repo"
        return about.finding(explanation + guessed, blocked="; ".join(guessed), notes=guessed)
    if len(chain) > 1:
        return about.finding(explanation, blocked=f"the base comes through stage '{chain[-1].name}'; change that stage's FROM")
    start, end = chain[-1].base_span
    assumption = (
        "nothing runs a command in this image (an init container `cp`, `sh`, `kubectl exec`); "
        "its consumers mount it as an image volume or copy from it with COPY --from"
    )
    fix = Fix(
        applicability=Applicability.UNSAFE,
        description=f"Use FROM scratch instead of {dfx.short(base)} in {dfx.label(stage)}",
        edits=(Edit(source.path, start, end, "scratch"),),
        assumption=assumption,
        base_digests=((source.path, source.digest),),
        scopes=((source.path, stage.from_instruction.start, stage.from_instruction.end),),
    )
    explanation.append("No manifest in this repository runs the image, so nothing here breaks; " + assumption + ".")
    return about.finding(explanation, fix=fix)


def _copier_image(source: SourceFile, parsed: Dockerfile, target: dfx.Target, base: str, command: Instruction, ctx: RuleContext) -> Finding:
    """A stage whose default command copies its files out (``CMD cp -a /src/. /dest/``): an image
    made to be an init container. When a manifest in the repo runs it as one without a command
    of its own, the fix is IV001's change-set (the pod gets an image volume; this Dockerfile
    keeps the download in a build stage and ships FROM scratch, without the CMD); else manual."""
    stage = target.stage
    savings = base_swap(base, "scratch")
    message = (
        f"{dfx.label(stage)} is a copier image on {dfx.short(base)} (its {command.keyword} only copies files): "
        f"fetch the files in a build stage and ship FROM scratch as an image volume ({savings['text']})"
    )
    about = _about(source, target, base, savings, message, anchor_suffix=":copier", command_line=command.line)
    data = about.data
    explanation = (
        f"{dfx.label(stage)} ({target.reason}) exists to be run as an init container: line {command.line} "
        f"copies its files into a volume. Mounted as an image volume, the files need no shell and no copy."
    )
    users = _users(source, stage, parsed, ctx)
    if users is not None:
        fix, reason, related, notes = users
        text = "\n".join([explanation, *notes])
        if fix is not None:
            data["change_set"] = "IV001"
            return about.finding(text, fix=fix, notes=notes, related=related, message=message + "; rides in the IV001 change-set")
        data["fix_blocked_kind"] = "runs-in-repo"
        return about.finding(text, blocked=reason, notes=notes, related=related)
    data["fix_blocked_kind"] = "copier-image"
    blocked = (
        f"line {command.line}: the image's {command.keyword} copies its files for an init container; FROM scratch "
        "removes that command, so the manifests that run the image must change with it (IV001 on the manifest), "
        "and any download RUN must move into a build stage"
    )
    return about.finding(explanation, blocked=blocked)


def _arranging_stage(source: SourceFile, parsed: Dockerfile, target: dfx.Target, base: str, plan: AssetsPlan, ctx: RuleContext) -> Finding:
    """A stage that copies files in and only arranges them (chmod, cp, ln, mkdir, mv, touch; a CMD
    that only prints): keep it as a build stage and ship FROM scratch with its paths."""
    stage = target.stage
    savings = base_swap(base, "scratch")
    does = (
        "adds files, arranges them and installs packages"
        if plan.blocker is ArrangeBlocker.INSTALLS_PACKAGES
        else "only adds and arranges files"
    )
    message = f"{dfx.label(stage)} {does} on {dfx.short(base)}: arrange them in a build stage and ship FROM scratch ({savings['text']})"
    about = _about(source, target, base, savings, message, asset_paths=list(plan.paths))
    data = about.data
    lines = ", ".join(str(i.line) for i in plan.runs) or "none"
    explanation = [
        f"{dfx.label(stage)} ({target.reason}) ships {dfx.short(base)}, but its RUNs (lines {lines}) only "
        "arrange files" + (" and its CMD/ENTRYPOINT only prints a message" if plan.messages else "") + "."
    ]
    users = _users(source, stage, parsed, ctx)
    blocked = None
    if users is not None:
        _, reason, related, notes = users
        explanation += notes
        blocked = reason or "a manifest in the repository runs this image; move the RUNs into a build stage by hand"
        data["fix_blocked_kind"] = "runs-in-repo"
        return about.finding(explanation, blocked=blocked, notes=notes, related=related)
    guessed = _guessed_runners(source, stage, parsed, ctx)
    if guessed:
        data["fix_blocked_kind"] = "runs-in-repo"
        return about.finding(explanation + guessed, blocked="; ".join(guessed), notes=guessed)
    if plan.blocker is not None:
        data["fix_blocked_kind"] = plan.blocker.value
        return about.finding(explanation, blocked=plan.blocker.sentence)
    name = unique_stage_name(parsed)
    _, base_end = stage.base_span
    tail = "" if source.text.endswith("\n") or not source.text else "\n"
    edits = (
        Edit(source.path, base_end, base_end, f" AS {name}"),
        Edit(source.path, len(source.text), len(source.text), tail + "\n" + render_scratch_stage(parsed, plan, name)),
    )
    assumption = (
        "nothing runs a command in this image (an init container `cp` or `sh`, `kubectl exec`, "
        "`docker run`); its consumers mount it as an image volume or COPY --from it. The shipped files "
        "keep their contents and modes, and the stage sets no owners"
    )
    fix = Fix(
        applicability=Applicability.UNSAFE,
        description=f"Arrange the files in build stage '{name}' and ship FROM scratch in {dfx.label(stage)}",
        edits=edits,
        assumption=assumption,
        base_digests=((source.path, source.digest),),
        scopes=((source.path, stage.from_instruction.start, len(source.text)),),
    )
    explanation.append(
        f"The stage becomes build stage '{name}'; the shipped image is FROM scratch with "
        f"{', '.join(plan.paths)} copied from it. No manifest in this repository runs the image; " + assumption + "."
    )
    return about.finding(explanation, fix=fix)


def _users(
    source: SourceFile, stage: Stage, parsed: Dockerfile, ctx: RuleContext
) -> tuple[Fix | None, str | None, tuple[Location, ...], list[str]] | None:
    """(fix, blocked reason, related locations, notes) from the manifests that run the image this
    stage builds, or None when no manifest in the repo does."""
    index = ctx.project.links()
    finder = index.links_for_dockerfile
    last = parsed.stages[-1]
    images = [l.image for l in finder(source.path) if l.source != "directory" and (parsed.stage(l.target) if l.target else last) is stage]
    if not images:
        return None
    from migrate_tui.rules.init_copy_to_empty_dir import check as iv001_check

    fixes: list[tuple[Fix, Finding]] = []
    blocked: list[str] = []
    related: list[Location] = []
    notes: list[str] = []
    for image in images:
        wanted = parse_image_ref(image)
        runners = index.runners_of(image)
        for rel in dict.fromkeys([*index.users_of(image), *runners]):
            found = ctx.project.read(rel)
            if isinstance(found, Diagnostic):
                continue
            for subject in pod_specs(found):
                runs_it = [c for c in containers(subject.ref.spec) if same_repository(c.get("image"), wanted)]
                if not runs_it:
                    continue
                covered = set()
                for finding in iv001_check(subject, ctx):
                    if not any(same_repository(i, wanted) for i in finding.data.get("images", [])):
                        continue
                    covered.update(finding.data.get("images", []))
                    related.append(finding.location)
                    if finding.fix and any(e.path == source.path for e in finding.fix.edits):
                        fixes.append((finding.fix, finding))
                        notes.append(f"{finding.location}: {finding.message}")
                    else:
                        why = finding.fix_blocked or f"mode {ctx.mode}: the change-set keeps the image as it is"
                        blocked.append(
                            f"{finding.location}: the init container copies from this image and IV001 can't "
                            f"migrate it yet ({why}); FROM scratch alone would break it"
                        )
                for container in runs_it:
                    if container.get("image") not in covered:
                        related.append(subject.location(container))
                        blocked.append(
                            f"{subject.location(container)}: container '{container.get('name')}' runs "
                            f"{container.get('image')} ({_what_runs(container)}); FROM scratch would leave "
                            "it without a shell or any program"
                        )
    if not fixes and not blocked:
        return None
    if blocked:
        return None, "; ".join(dict.fromkeys(blocked)), tuple(related), notes + blocked
    return fixes[0][0], None, tuple(related), notes


def _guessed_runners(source: SourceFile, stage: Stage, parsed: Dockerfile, ctx: RuleContext) -> list[str]:
    """Containers that run an image linked to this Dockerfile only by its directory name: too weak
    a link to build a change-set on, strong enough to withhold "nothing runs a command in it"."""
    index = ctx.project.links()
    finder = index.links_for_dockerfile
    runners_of = index.runners_of_link
    if stage is not parsed.stages[-1]:
        return []
    out: list[str] = []
    for link in finder(source.path):
        if link.source != "directory":
            continue
        for rel in runners_of(link):
            found = ctx.project.read(rel)
            if isinstance(found, Diagnostic):
                continue
            for subject in pod_specs(found):
                for container in containers(subject.ref.spec):
                    ref = parse_image_ref(str(container.get("image") or ""))
                    if ref is not None and ref.repository.rsplit("/", 1)[-1] == link.image:
                        out.append(
                            f"{subject.location(container)}: container '{container.get('name')}' runs "
                            f"{container.get('image')} ({_what_runs(container)}), which {link.describe()} "
                            "may build (linked only by its file or directory name); FROM scratch would leave it without a shell"
                        )
    return list(dict.fromkeys(out))


def _what_runs(container: dict[str, Any]) -> str:
    """What a container runs in its image, for the message: its command, args, exec hooks and
    probes, else the image's own entrypoint."""
    parts = [key for key in ("command", "args") if container.get(key)]
    for hook in ("postStart", "preStop"):
        handler = (container.get("lifecycle") or {}).get(hook) if isinstance(container.get("lifecycle"), dict) else None
        if isinstance(handler, dict) and handler.get("exec"):
            parts.append(f"lifecycle {hook} exec")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        value = container.get(probe)
        if isinstance(value, dict) and value.get("exec"):
            parts.append(f"{probe} exec")
    return ", ".join(parts) if parts else "the image's entrypoint"


RULE = DockerfileRule(
    code=CODE,
    name="data-only-image-on-shell-base",
    summary="Data-only image on a shell base (busybox, alpine, debian…): use FROM scratch",
    check=check,
)
