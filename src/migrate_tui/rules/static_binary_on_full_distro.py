"""DF002 static-binary-on-full-distro

## What it does
Finds a shipped stage that runs one statically linked binary, built in an earlier stage
(Go with `CGO_ENABLED=0`, `-ldflags … -static`, Rust `*-musl` targets), on a full
distribution base (`ubuntu`, `debian`, `alpine`, a language image…). The stage may only copy
files in and set `CMD`/`ENTRYPOINT` (exec form), `USER`, `EXPOSE`, `ENV`, `LABEL`, `WORKDIR`;
a `RUN` that only installs `ca-certificates`/`tzdata` is allowed and handled.

## Why is this bad?
A static binary needs no libc, shell or package manager. The distribution adds tens of MB to
every pull, and a shell and packages that scanners report and attackers can use.

## Example
```dockerfile
FROM golang:1.22 AS build
RUN CGO_ENABLED=0 go build -o /out/api .
FROM ubuntu:22.04
RUN apt-get update && apt-get install -y ca-certificates
COPY --from=build /out/api /usr/local/bin/api
ENTRYPOINT ["/usr/local/bin/api"]
```

## Use instead
```dockerfile
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/api /usr/local/bin/api
ENTRYPOINT ["/usr/local/bin/api"]
```
`gcr.io/distroless/static-debian12` ships CA certificates (`/etc/ssl/certs`), time zones
(`/usr/share/zoneinfo`), `/etc/passwd` with `nonroot` (65532) and `/tmp`. When the stage
installs nothing, `FROM scratch` is proposed instead.

**Compose mode** (`certs-tzdata = "volumes"` in the config): the image becomes `FROM scratch`
(the binary, plus an `/etc/passwd` line for the `USER`, written by a `RUN echo` in a build stage
on the old base), and every workload in the repository that runs the image (found through the
build definitions: skaffold, compose, Makefiles, CI…) mounts two image volumes read-only,
`certs-image` at `/etc/ssl/certs` and `tzdata-image` at `/usr/share/zoneinfo`:
```dockerfile
FROM ubuntu:22.04 AS passwd
RUN echo 'app:x:65532:65532:app:/:/sbin/nologin' > /passwd

FROM scratch
COPY --from=passwd /passwd /etc/passwd
COPY --from=build /out/api /usr/local/bin/api
USER 65532:65532
```
```yaml
      containers:
        - name: api
          volumeMounts:
            - {name: ca-certificates, mountPath: /etc/ssl/certs, readOnly: true}
            - {name: tzdata, mountPath: /usr/share/zoneinfo, readOnly: true}
      volumes:
        - {name: ca-certificates, image: {reference: <certs-image>}}
        - {name: tzdata, image: {reference: <tzdata-image>}}
```
Only what the stage installed is mounted (`ca-certificates`, `tzdata`); a stage that installs
neither gets both (whether the binary reads them can't be told). The environment the runtime
needs is added: none for Go (`crypto/x509` reads `/etc/ssl/certs/ca-certificates.crt` and
`/etc/ssl/certs`, `time` reads `$ZONEINFO` then `/usr/share/zoneinfo`); `SSL_CERT_FILE` and
`SSL_CERT_DIR` for Rust on musl (`rustls-native-certs`/`openssl-probe`, a vendored OpenSSL's
own `OPENSSLDIR`); those and `TZDIR` for C/C++ linked `-static` (OpenSSL's compiled-in
`OPENSSLDIR`, glibc's `TZDIR`). A variable the container already sets is kept. Build the two
images with `migrate-tui build --certs` / `--tzdata` and prove them with
`migrate-tui verify --mounted`.

## Fix safety
Always **unsafe**: it assumes the binary reads nothing else from the old base (a shell for
`kubectl exec`, other files, a named user). Windows bases are not judged.

Compose mode is **unsafe** too (same assumption, and the mounted images hold what the binary
reads there; HOME comes from the generated passwd line, or is `/`), and **manual** when
`certs-image`/`tzdata-image` are not set (no default: the message names the keys), when no
manifest in the repository runs an image built from the Dockerfile (a scratch image whose
certificates nobody mounts would lose them), when the `USER` is a name whose uid is unknown,
when a workload already mounts something at one of the two paths or has a volume of that name,
when something else may run the image where no volume can be added (a Docker Compose service, a
YAML file that can't be parsed, a file naming the repository more often than the containers the
fix edits there: Helm values, templated or flow-style manifests), or when the target platform
has no image volumes. Manifests are found through the link index (kustomize `images:` aliases
included); the directory-name guess is not trusted for this.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from migrate_tui.analysis.context import RuleContext
from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.analysis.savings import base_swap
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage
from migrate_tui.parse.dockerfile.run import RunForm, read_run
from migrate_tui.rules import DockerfileRule
from migrate_tui.fixes import compose as _compose_plan
from migrate_tui.analysis import stages as dfx

CODE = "DF002"
DISTROLESS = "gcr.io/distroless/static-debian12"
_GO_STATIC = re.compile(r"CGO_ENABLED=0")
_GO_BUILD = re.compile(r"\bgo\s+(build|install)\b")
_LD_STATIC = re.compile(r"-ldflags[= ]\S*.*?-static|-extldflags[= ]['\"]?-static|\s-static(\s|$)")
_RUST_MUSL = re.compile(r"cargo\s+(build|install)\b[^\n]*(--target[= ]\S*musl|-musl\b)|CARGO_BUILD_TARGET=\S*musl")
_CERT_PACKAGES = frozenset({"ca-certificates", "tzdata", "ca-certificates-bundle"})
_INSTALL = re.compile(r"^(apt-get|apt|apk|yum|dnf|microdnf)\b")
_OK_KEYWORDS = frozenset({"COPY", "ADD", "CMD", "ENTRYPOINT", "USER", "EXPOSE", "ENV", "LABEL", "WORKDIR", "ARG", "STOPSIGNAL", "VOLUME"})


def check(subject: tuple[SourceFile, Dockerfile], ctx: RuleContext) -> Iterator[Finding]:
    source, parsed = subject
    for target in dfx.targets_for(ctx, source.path, parsed):
        finding = _judge(source, parsed, target, ctx)
        if finding is not None:
            yield finding


def _judge(source: SourceFile, parsed: Dockerfile, target: dfx.Target, ctx: RuleContext) -> Finding | None:
    stage = target.stage
    base, chain = parsed.root_base(stage)
    if len(chain) > 1 or dfx.is_minimal(base) or dfx.base_ref(base) is None or dfx.is_windows(base, parsed):
        return None
    cert_runs: list[Instruction] = []
    installs: set[str] = set()
    binaries: list[tuple[str, Stage]] = []
    entry = None
    user = None
    for instr in stage.instructions:
        if instr.keyword == "RUN":
            packages = _cert_only_install(instr)
            if packages is None:
                return None
            cert_runs.append(instr)
            installs |= packages
        elif instr.keyword not in _OK_KEYWORDS:
            return None
        elif instr.keyword in ("CMD", "ENTRYPOINT"):
            if instr.json_args is None:
                return None  # shell form needs /bin/sh
            entry = entry if instr.keyword == "CMD" and entry else instr
        elif instr.keyword == "USER":
            user = instr.args.strip()
        elif instr.keyword in ("COPY", "ADD"):
            origin = dfx.copy_source(parsed, instr)
            if isinstance(origin, Stage) and _builds_static(parsed, origin):
                words = list(instr.json_args) if instr.json_args else instr.args.split()
                if words:
                    binaries.append((words[-1], origin))
    if entry is None or not binaries or not entry.json_args:
        return None
    program = entry.json_args[0]
    shipped = [(dest, origin) for dest, origin in binaries if program == dest or program.startswith(dest.rstrip("/") + "/")]
    if not shipped:
        return None
    origin = shipped[0][1]
    if ctx.config.certs_tzdata == "volumes":
        return _compose(ctx, source, parsed, target, base, program, origin, installs, cert_runs, user)
    named_user = user and not re.fullmatch(r"\d+(:\d+)?|root|nonroot|nobody", user.split(":")[0])
    use_distroless = bool(installs) or bool(user and not re.fullmatch(r"\d+(:\d+)?", user))
    new_base = DISTROLESS if use_distroless else "scratch"
    savings = base_swap(base, new_base)
    why = (
        f"it installs {', '.join(sorted(installs))}, which {DISTROLESS} already ships "
        f"(/etc/ssl/certs, /usr/share/zoneinfo); alternatively FROM scratch with those two directories as image volumes"
        if installs
        else (
            f"USER {user} needs /etc/passwd, which {DISTROLESS} has"
            if use_distroless
            else "it installs nothing; CA certificates or time zones, if the binary needs them, can come as image volumes "
            "at /etc/ssl/certs and /usr/share/zoneinfo"
        )
    )
    message = (
        f"{dfx.label(stage)} ships {program}, a static binary built in {dfx.label(origin)}, on {dfx.short(base)}: "
        f"use {new_base} ({savings['text']})"
    )
    location = Location(source.path, stage.from_instruction.line)
    anchor = f"{stage.index}:{stage.name}"
    data: dict[str, Any] = {
        "stage": stage.index,
        "stage_name": stage.name,
        "target_reason": target.reason,
        "base": base,
        "proposed_base": new_base,
        "savings": savings,
    }
    explanation = [
        f"{dfx.label(stage)} ({target.reason}): {program} comes from {dfx.label(origin)}, which builds it statically.",
        f"Proposed base: {new_base}, because {why}.",
    ]
    if named_user:
        return Finding(
            rule=CODE,
            severity=Severity.WARNING,
            location=location,
            message=message,
            explanation="\n".join(explanation),
            data=data,
            fix_blocked=f"USER {user}: {new_base} has no such user; use a numeric id or nonroot (65532)",
            anchor=anchor,
        )
    start, end = stage.base_span
    edits = [Edit(source.path, start, end, new_base)]
    for run in cert_runs:
        a, b = dfx.whole_lines(source.text, run.start, run.end)
        edits.append(Edit(source.path, a, b, ""))
    assumption = f"{program} is static and needs nothing else from {base} (no shell for `kubectl exec`, no other files)"
    fix = Fix(
        applicability=Applicability.UNSAFE,
        description=f"Use {new_base} for {dfx.label(stage)}" + (" and drop the package install" if cert_runs else ""),
        edits=tuple(edits),
        assumption=assumption,
        base_digests=((source.path, source.digest),),
        scopes=((source.path, stage.from_instruction.start, max(i.end for i in [stage.from_instruction, *stage.instructions])),),
    )
    return Finding(
        rule=CODE,
        severity=Severity.WARNING,
        location=location,
        message=message,
        explanation="\n".join(explanation),
        fix=fix,
        notes=(why,),
        data=data,
        anchor=anchor,
    )


def _compose(
    ctx: RuleContext,
    source: SourceFile,
    parsed: Dockerfile,
    target: dfx.Target,
    base: str,
    program: str,
    origin: Stage,
    installs: set[str],
    cert_runs: list[Instruction],
    user: str | None,
) -> Finding:
    """Compose mode: FROM scratch, certs and time zones as image volumes in every linked workload."""
    stage = target.stage
    runtime = _runtime(parsed, origin)
    planned = _compose_plan.plan(ctx, source, parsed, stage, runtime, installs, cert_runs, user)
    needs = _compose_plan.needs_from(installs)
    mounted = " and ".join(f"{_compose_plan._VOLUMES[n][1]}" for n in needs)
    savings = base_swap(base, "scratch")
    message = (
        f"{dfx.label(stage)} ships {program}, a static binary built in {dfx.label(origin)}, on {dfx.short(base)}: "
        f"use scratch with {mounted} as image volumes ({savings['text']})"
    )
    location = Location(source.path, stage.from_instruction.line)
    anchor = f"{stage.index}:{stage.name}"
    data: dict[str, Any] = {
        "stage": stage.index,
        "stage_name": stage.name,
        "target_reason": target.reason,
        "base": base,
        "proposed_base": "scratch",
        "savings": savings,
        "compose": {"runtime": runtime.value, "needs": [n.value for n in needs]},
    }
    why = (
        f"it installs {', '.join(sorted(installs))}"
        if installs
        else "it installs neither ca-certificates nor tzdata, so whether the binary reads them can't be told: both are mounted"
    )
    explanation = [
        f"{dfx.label(stage)} ({target.reason}): {program} comes from {dfx.label(origin)}, which builds it statically ({runtime.value}).",
        f'Compose mode (certs-tzdata = "volumes"): FROM scratch, and {mounted} come from image volumes, because {why}.',
    ]
    if isinstance(planned, _compose_plan.Refused):
        data["compose"]["refused"] = planned.kind.value
        return Finding(
            rule=CODE,
            severity=Severity.WARNING,
            location=location,
            message=message,
            explanation="\n".join(explanation),
            data=data,
            fix_blocked=planned.sentence(),
            anchor=anchor,
        )
    env = sorted({k for n in needs for k, _ in _compose_plan.RUNTIME_ENV[runtime][n]})
    explanation.append(
        "Workloads: " + "; ".join(planned.workloads) + "." + (f" Environment added for {runtime.value}: {', '.join(env)}." if env else "")
    )
    data["compose"]["workloads"] = planned.workloads
    assumption = (
        f"{program} is static and needs nothing else from {base} (no shell for `kubectl exec`, no other files; "
        + (f"/etc/passwd holds only `{planned.passwd_line}`" if planned.passwd_line else "no /etc/passwd, so HOME is /")
        + f"), and the images mounted at {mounted} hold what it reads there"
    )
    fix = Fix(
        applicability=Applicability.UNSAFE,
        description=f"FROM scratch for {dfx.label(stage)}; mount {mounted} as image volumes in " + ", ".join(planned.workloads),
        edits=tuple(planned.edits),
        assumption=assumption,
        base_digests=tuple(planned.digests),
        scopes=tuple(planned.scopes),
    )
    return Finding(
        rule=CODE,
        severity=Severity.WARNING,
        location=location,
        message=message,
        explanation="\n".join(explanation),
        fix=fix,
        notes=(why,),
        related=tuple(planned.related),
        data=data,
        anchor=anchor,
    )


def _runtime(parsed: Dockerfile, stage: Stage) -> "_compose_plan.Runtime":
    _, chain = parsed.root_base(stage)
    text = "\n".join(
        dfx.command_text(i) if i.keyword == "RUN" else i.args for s in chain for i in s.instructions if i.keyword in ("RUN", "ENV", "ARG")
    )
    if _GO_BUILD.search(text) and (_GO_STATIC.search(text) or _LD_STATIC.search(text)):
        return _compose_plan.Runtime.GO
    if _RUST_MUSL.search(text):
        return _compose_plan.Runtime.RUST_MUSL
    return _compose_plan.Runtime.C_STATIC


def _cert_only_install(instr: Instruction) -> set[str] | None:
    """The packages a RUN installs when it only updates indexes and installs certs/tzdata
    (read as the shell reads it: quotes removed, comments dropped; any other command: None)."""
    script = read_run(instr)
    if script is None or script.form is not RunForm.SHELL or script.blocker is not None:
        return None
    packages: set[str] = set()
    for command in script.commands:
        words = list(command.argv)
        if not words or any(w.expands for w in command.words):
            return None
        if words[0] in ("rm", "update-ca-certificates", "true") or (words[0] == "find" and "/var/lib/apt/lists" in words):
            continue
        if not _INSTALL.match(words[0]):
            return None
        verbs = [w for w in words[1:] if not w.startswith("-")]
        if not verbs:
            return None
        if verbs[0] in ("update", "clean", "upgrade") and len(verbs) == 1:
            continue
        if verbs[0] not in ("install", "add"):
            return None
        names = {re.split(r"[=<>]", v)[0] for v in verbs[1:]}
        if not names or not names <= _CERT_PACKAGES:
            return None
        packages |= names
    return packages


def _builds_static(parsed: Dockerfile, stage: Stage) -> bool:
    _, chain = parsed.root_base(stage)
    text = "\n".join(
        dfx.command_text(i) if i.keyword == "RUN" else i.args for s in chain for i in s.instructions if i.keyword in ("RUN", "ENV", "ARG")
    )
    go = bool(_GO_BUILD.search(text)) and bool(_GO_STATIC.search(text) or _LD_STATIC.search(text))
    return go or bool(_RUST_MUSL.search(text)) or bool(_LD_STATIC.search(text) and re.search(r"\b(gcc|cc|clang|zig)\b", text))


RULE = DockerfileRule(
    code=CODE,
    name="static-binary-on-full-distro",
    summary="Static binary shipped on a full distribution: use FROM scratch or a distroless static base",
    check=check,
)
