"""IV003 image-volume-platform

## What it does
Checks every image volume (`volumes[].image`) that a manifest already uses against the target
platform (`--target`, config `target`, or `--cluster`) and against what image volumes can do:

- the platform can't serve image volumes at all: Kubernetes < 1.31, the `ImageVolume` gate
  off (the default on 1.31–1.34), cri-dockerd, containerd < 2.1, CRI-O < 1.31;
- a mount with `subPath`/`subPathExpr` where it is ignored or refused: Kubernetes < 1.33,
  containerd < 2.2, CRI-O < 1.33;
- a `subPath` that names a FILE on containerd, which mounts only directories. Heuristic: the
  last path component has an extension, i.e. a `.` after its first character followed by 1–8
  letters/digits starting with a letter (`nginx.conf`, `model.bin`, `app.tar.gz`); version-like
  names (`python3.11`, `v1.2`), dot-directories (`.config`) and the usual directory suffixes
  (`conf.d`, `repo.git`, `example.com`) don't count;
- a mount at `/`;
- a reference with `:latest` or no tag; a tag without a digest when it can be pinned (a digest
  source is configured, see Fix safety) or when the config sets `require-digests`;
- `pullPolicy: Never`;
- an image whose index doesn't cover every target architecture (`arch=amd64+arm64`), only
  when a digest source is configured (see Fix safety).

## Why is this bad?
A manifest that is correct YAML can still break the pod: with the gate off the API server
silently DROPS the volume and its mounts, and the pod starts without the files; containerd
< 2.2 silently ignores `subPath` and mounts the whole image; a file subPath or a mount at `/`
fails to start. A tag can move between two pod starts, so pods of one ReplicaSet may mount
different content; and image-policy webhooks (ImagePolicyWebhook, Kyverno verifyImages,
sigstore policy-controller) don't check image volumes yet, so a digest is the only pin.
`pullPolicy: Never` fails on every node that doesn't already hold the image.

## Example
```yaml
volumes:
- name: site
  image: {reference: registry.example.com/web-site:latest, pullPolicy: Never}
containers:
- name: nginx
  volumeMounts: [{name: site, mountPath: /usr/share/nginx/html/index.html, subPath: site/index.html}]
```

## Use instead
```yaml
volumes:
- name: site
  image: {reference: "registry.example.com/web-site:1.4.2@sha256:…", pullPolicy: IfNotPresent}
containers:
- name: nginx
  volumeMounts: [{name: site, mountPath: /usr/share/nginx/html, subPath: site, readOnly: true}]
```

## Fix safety
- **unsafe**: pinning a tag to its digest (`name:tag@sha256:…`), offered only when the digest
  can be resolved: from an OCI image layout directory (`--oci-layout DIR` or `IMAGE=DIR`, config
  `oci-layouts`) or, when you allow network access (`--resolve-digests`), from the registry via
  the OCI distribution API. It assumes the tag points today to the content you tested; later
  pushes to the tag are no longer picked up. Without a digest source the check stays offline
  and the finding says how to enable it.
- **manual** for everything else: the message names the version, gate or runtime needed.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Callable, Iterator

from migrate_tui.analysis.context import PodSpecSubject, RuleContext
from migrate_tui.platform.digest import DigestError, ImageInfo, OciLayoutResolver, RegistryResolver, Resolver, chain, pinned_reference
from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.fixes.yaml_edit import RewriteRefused, rewrite_chunk, shrink
from migrate_tui.rules import PodSpecRule
from migrate_tui.rules.init_copy_to_empty_dir import SUPPLY_CHAIN_NOTE

CODE = "IV003"
_CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")
_EXTENSION = re.compile(r"^[^.].*\.([A-Za-z][A-Za-z0-9]{0,7})$")
# Suffixes that usually name directories, not files.
_DIRECTORY_SUFFIXES = frozenset({"d", "git", "app", "com", "org", "net", "io", "dev", "local", "bundle", "framework"})
NO_RESOLVER = (
    "no digest source configured: pass --oci-layout DIR (an OCI image layout holding the image) "
    "or --resolve-digests (ask the registry) to get a digest-pinning fix"
)


def looks_like_file(sub_path: str) -> bool:
    """The documented heuristic: the last component carries a file extension."""
    last = posixpath.basename(posixpath.normpath(sub_path.strip()))
    match = _EXTENSION.match(last)
    return match is not None and match.group(1).lower() not in _DIRECTORY_SUFFIXES


def resolver_for(ctx: RuleContext) -> Resolver | None:
    """The digest resolver for this run, from the config.

    Config keys (when the config knows them): ``oci_layouts`` (dirs or ``IMAGE=DIR``, relative to
    the root) and ``resolve_digests`` (bool: network access to registries). Answers are memoised
    for one scan (one context), so a re-scan sees a layout that was rebuilt meanwhile.
    """
    if "iv003-resolver" not in ctx.memo:
        layouts = tuple(str(x) for x in ctx.config.oci_layouts)
        ctx.memo["iv003-resolver"] = _memoised(
            chain(
                OciLayoutResolver(layouts, root=ctx.root) if layouts else None, RegistryResolver() if ctx.config.resolve_digests else None
            )
        )
    resolver: Resolver | None = ctx.memo["iv003-resolver"]
    return resolver


def _memoised(resolver: Resolver | None) -> Resolver | None:
    if resolver is None:
        return None
    memo: dict[str, ImageInfo | DigestError | None] = {}

    def resolve(reference: str) -> ImageInfo | None:
        if reference not in memo:
            try:
                memo[reference] = resolver(reference)
            except DigestError as exc:
                memo[reference] = exc
        found = memo[reference]
        if isinstance(found, DigestError):
            raise found
        return found

    return resolve


def _mounts_of(spec: Any) -> dict[str, list[tuple[str, int, Any, int, Any]]]:
    """volume name → [(group, container index, container, mount index, mount)]."""
    out: dict[str, list[tuple[str, int, Any, int, Any]]] = {}
    for group in _CONTAINER_GROUPS:
        containers = spec.get(group)
        if not isinstance(containers, list):
            continue
        for ci, container in enumerate(containers):
            mounts = container.get("volumeMounts") if isinstance(container, dict) else None
            if not isinstance(mounts, list):
                continue
            for mi, mount in enumerate(mounts):
                if isinstance(mount, dict) and mount.get("name"):
                    out.setdefault(str(mount["name"]), []).append((group, ci, container, mi, mount))
    return out


def check(subject: PodSpecSubject, ctx: RuleContext) -> Iterator[Finding]:
    spec = subject.ref.spec
    volumes = spec.get("volumes")
    if not isinstance(volumes, list):
        return
    mounts = None
    for index, volume in enumerate(volumes):
        if not isinstance(volume, dict) or not isinstance(volume.get("image"), dict):
            continue
        if mounts is None:
            mounts = _mounts_of(spec)
        yield from _check_volume(subject, ctx, index, volume, mounts.get(str(volume.get("name")), []))


def _check_volume(
    subject: PodSpecSubject, ctx: RuleContext, index: int, volume: Any, mounts: list[tuple[str, int, Any, int, Any]]
) -> Iterator[Finding]:
    target = ctx.target
    name = str(volume.get("name"))
    source = volume["image"]
    volume_line = subject.location(subject.ref.spec["volumes"], index).line
    base = f"{subject.ref.owner}/{'/'.join(map(str, subject.ref.path))}/{name}"

    def finding(
        kind: str,
        severity: Severity,
        line: int,
        message: str,
        explanation: str = "",
        *,
        notes: tuple[str, ...] = (),
        fix: Fix | None = None,
        blocked: str | None = None,
        anchor: str = "",
    ) -> Finding:
        data = {"owner": subject.ref.owner, "volume": name, "kind": kind, "target": target.describe()}
        return Finding(
            rule=CODE,
            severity=severity,
            location=Location(subject.path, line),
            message=message,
            explanation=explanation,
            fix=fix,
            notes=notes,
            data=data,
            fix_blocked=blocked,
            anchor=f"{base}/{kind}{anchor}",
            doc_span=subject.doc_span,
        )

    platform = target.image_volume_blocker()
    if platform:
        yield finding(
            "platform",
            Severity.ERROR,
            volume_line,
            f"image volume '{name}' can't be served by the target ({target.describe()}): {platform}",
        )
    for group, ci, container, mi, mount in mounts:
        line = subject.location(container["volumeMounts"], mi).line
        who = f"{group[:-1] if group.endswith('s') else group} '{container.get('name', ci)}'"
        anchor = f"/{group}/{container.get('name', ci)}/{mi}"
        mount_path = str(mount.get("mountPath") or "")
        if mount_path and posixpath.normpath(mount_path) in ("/", "//"):
            yield finding(
                "root-mount",
                Severity.ERROR,
                line,
                f"{who} mounts image volume '{name}' at '/': mounting an image volume at the root fails; mount it at a directory",
                anchor=anchor,
            )
        sub_path = mount.get("subPath") or mount.get("subPathExpr")
        if not sub_path or platform:
            continue
        blocker = target.subpath_blocker()
        key = "subPath" if mount.get("subPath") else "subPathExpr"
        if blocker:
            yield finding(
                "subpath",
                Severity.ERROR,
                line,
                f"{who} mounts image volume '{name}' with {key} '{sub_path}': {blocker}",
                "Mount the image at the directory you need and drop the subPath, or build an asset image "
                "whose root is that directory (FROM scratch + COPY).",
                anchor=anchor,
            )
        elif key == "subPath" and looks_like_file(str(sub_path)):
            file_blocker = target.file_subpath_blocker()
            if file_blocker:
                yield finding(
                    "file-subpath",
                    Severity.ERROR,
                    line,
                    f"{who} mounts image volume '{name}' with subPath '{sub_path}', which looks like a file: {file_blocker}",
                    "Mount the parent directory (the sibling files become visible too), or build an asset "
                    "image holding only that file and mount its root. (A file is recognised by an extension "
                    "on the last path component; rename the finding away with "
                    "`# migrate-tui: ignore[IV003]` if it is a directory.)",
                    anchor=anchor,
                )
    yield from _check_reference(subject, ctx, index, name, source, finding)


def _check_reference(
    subject: PodSpecSubject, ctx: RuleContext, index: int, name: str, source: Any, finding: Callable[..., Finding]
) -> Iterator[Finding]:
    target = ctx.target
    reference = source.get("reference")
    ref_line = subject.location(source, "reference").line
    policy = source.get("pullPolicy")
    if policy == "Never":
        yield finding(
            "pull-never",
            Severity.WARNING,
            subject.location(source, "pullPolicy").line,
            f"image volume '{name}' has pullPolicy: Never: pods fail (ErrImageNeverPull) on every node that "
            "doesn't already hold the image; use IfNotPresent",
        )
    if not isinstance(reference, str) or not reference.strip():
        return
    parsed = parse_image_ref(reference)
    if parsed is None:
        return  # templated or invalid: nothing to judge
    resolver = resolver_for(ctx)
    info: ImageInfo | None = None
    problem: str | None = None
    if resolver is not None:
        try:
            info = resolver(reference)
        except DigestError as exc:
            problem = str(exc)
        if info is None and problem is None:
            problem = f"'{reference}' was not found in the configured digest sources"
    if info is not None and info.platforms:
        arch = target.arch_blocker(info.platforms)
        if arch:
            yield finding(
                "arch",
                Severity.ERROR,
                ref_line,
                f"image volume '{name}' references {reference}: {arch}",
                f"Platforms in the index ({info.source}): {', '.join(info.platforms)}. Build the asset image "
                "for every node architecture (data-only images are architecture-independent: "
                "`docker buildx build --platform linux/amd64,linux/arm64`).",
            )
    if parsed.digest:
        return
    latest = parsed.tag in (None, "latest")
    if not latest and resolver is None and not ctx.config.require_digests:
        # A fixed tag is reported when it can be pinned (a digest source is configured) or when
        # the config asks for digests: otherwise every IV001 fix would leave a finding behind
        # and `check` after `check --fix` could never come back clean. IV001 carries the note.
        return
    if latest:
        shown = f"'{reference}'" + ("" if parsed.tag else " (no tag means :latest)")
        message = (
            f"image volume '{name}' references {shown}: the tag moves, so pods of one ReplicaSet may mount different content; pin a digest"
        )
        severity = Severity.WARNING
    else:
        message = (
            f"image volume '{name}' references tag '{parsed.tag}' without a digest: a re-pushed tag changes "
            "what new pods mount, and image-policy webhooks don't check image volumes; pin a digest"
        )
        severity = Severity.INFO
    explanation = ""
    fix: Fix | None = None
    blocked: str | None = None
    if info is not None:
        pinned = pinned_reference(reference, info.digest)
        assumption = (
            f"the tag '{parsed.tag or 'latest'}' points today ({info.source}) to the content you tested; "
            "pods keep this digest until you change it"
        )
        try:
            fix = _pin_fix(subject, index, pinned, assumption)
        except RewriteRefused as exc:
            blocked = str(exc)
        explanation = f"Digest from {info.source}: {info.digest}"
    else:
        blocked = problem or NO_RESOLVER
    yield finding("digest", severity, ref_line, message, explanation, notes=(SUPPLY_CHAIN_NOTE,), fix=fix, blocked=blocked)


def _pin_fix(subject: PodSpecSubject, index: int, pinned: str, assumption: str) -> Fix:
    source = subject.source
    chunk = subject.chunk
    path = subject.ref.path

    def mutate(document: Any) -> None:
        spec = document
        for step in path:
            spec = spec[step]
        image = spec["volumes"][index]["image"]
        old = image["reference"]
        # keep the quoting style of the original scalar (ruamel string subclasses)
        image["reference"] = type(old)(pinned) if isinstance(old, str) and type(old) is not str else pinned

    new_chunk = rewrite_chunk(source.text, chunk, mutate)
    old_text = source.text[chunk.start : chunk.end]
    start, end, content = shrink(old_text, new_chunk)
    edit = Edit(source.path, chunk.start + start, chunk.start + end, content)
    return Fix(
        applicability=Applicability.UNSAFE,
        description=f"Pin the image volume reference to {pinned.rsplit('@', 1)[-1][:19]}…",
        edits=(edit,),
        assumption=assumption,
        base_digests=((source.path, source.digest),),
        scopes=((source.path, chunk.start, chunk.end),),
    )


RULE = PodSpecRule(
    code=CODE,
    name="image-volume-platform",
    summary="Image volume the target platform can't serve as written (gate, runtime, subPath, tag)",
    check=check,
    needles=("reference",),
)
