"""IV001 init-copy-to-empty-dir

## What it does
Finds an init container that copies files from its own image into an `emptyDir` that other
containers of the pod mount (`cp -r /site/. /html/`, `cp -a`, `rsync -a`, a `tar | tar` pipe,
a single `cp file`, `mv /site/* /html/`: out of the image's own filesystem `mv` leaves what
`cp -a` would), and rewrites the pod to mount that image as an **image volume** instead
(Kubernetes `volumes[].image`, KEP-4639).

## Why is this bad?
Every pod start copies the whole tree again: the node stores it twice (image layer and
emptyDir), start-up waits for the copy, and the asset image must carry a shell (`FROM busybox`)
only to run `cp`. An image volume mounts the image's files read-only, with no copy.

## Example
```yaml
initContainers:
- name: copy-site
  image: registry.example.com/web-site:1.4.2
  command: ["sh", "-c", "cp -r /site/. /usr/share/nginx/html/"]
  volumeMounts: [{name: html, mountPath: /usr/share/nginx/html}]
containers:
- name: nginx
  volumeMounts: [{name: html, mountPath: /usr/share/nginx/html, readOnly: true}]
volumes:
- name: html
  emptyDir: {}
```

## Use instead
```yaml
containers:
- name: nginx
  volumeMounts: [{name: html, mountPath: /usr/share/nginx/html, subPath: site, readOnly: true}]
volumes:
- name: html
  image: {reference: registry.example.com/web-site:1.4.2, pullPolicy: IfNotPresent}
```

## Fix safety
- **safe** when the init container only copies (plus `echo`, `ls`, `set -e`, `mkdir -p` of the
  directories the copies land in), every
  consumer mounts the volume `readOnly: true`, and the target platform serves image volumes
  (and `subPath` on them, when the mount needs one: Kubernetes ≥ 1.33, containerd ≥ 2.2,
  CRI-O ≥ 1.33).
- **unsafe** when a consumer mounts the volume read-write: image volumes are always read-only,
  so the fix assumes it never writes there; likewise when `mkdir -p` makes a directory in the
  volume that no copy fills (the fix assumes no reader needs that empty directory), or when a
  reader mounts a `subPath` inside a copied tree (the kubelet creates a missing subPath
  directory in an emptyDir; an image volume's subPath must exist in the image).
- **manual** (no automatic fix) when the init container does more than copy (`chmod`, `chown`,
  `ln`, `sed`, scripts), a later container changes the copied tree, a consumer executes a file
  from the volume (some runtimes mount image volumes `noexec`; renamed binaries can't be
  mounted), copies merge two trees into one directory, a single file is renamed, or the target
  platform can't serve the mount. The message says which.
- **manual** too when the copy reads files that don't come from the image. The init container
  sees its image overlaid by every one of its volume mounts: a volume (configMap, secret,
  projected, downwardAPI, PVC, hostPath, another emptyDir…) mounted *at* the copy source,
  *above* it (`cp /mnt/config-map/x.cnf /conf/`), or *inside* it (a configMap file mounted
  with `subPath` under the source directory, a secret at `SRC/certs`) puts that volume's files
  into the emptyDir, and no image volume can carry them; the message names the volume and
  where it is mounted. A volume mounted beside the source (`/etc/cfg` next to `/site`) is
  fine. Likewise when an earlier command changes the source in the init container's own
  filesystem (`rm /site/x && cp -r /site/. /d/`; a `sed -i` there is templating: IV002), when
  the copy also writes into another volume mounted inside the destination, when a reader mounts
  another volume inside the copied tree (the runtime can't create a mount point in a read-only
  image volume), when a copy path comes from a variable, or when the pod is invalid (two
  volumes or containers with one name).
- **manual** when the copy changes what it copies: `cp -L`/`-H` and `rsync -L`/`-k` follow
  symbolic links, `cp --parents` and `rsync -R` recreate the source path, `cp -l`/`-s` link
  instead of copying, `install` sets a mode (0755 unless `-m`), the owner and new times,
  `rsync --exclude`/`--chmod` filter or change files. A mount shows the image's files as they
  are. An `mv` with options other than `-f`/`-v`/`-t` is judged as a change, not a copy.

- **manual** when a reader mounts a `subPath` below where only single files land (no copy
  makes that directory: it was empty in the emptyDir, and a mount can't show an empty
  directory), and when a value the fix would write holds control characters (a path, a subPath,
  a volume name) or the image reference is not a valid OCI reference as written.
- A copy source that is a **symbolic link** in the image: `cp -r /src/. D/` follows it, but the
  kubelet resolves an image volume's `subPath` on the node (an absolute link points outside the
  volume and the container does not start), and `cp -r /src D/` copies the link itself while a
  mount shows the directory it points to. Zero-rebuild mode reads nothing from the image, so
  the fix stays safe and says so in a note ("assumes /src is a directory in IMAGE, not a
  symbolic link"); `check --prove` runs `verify` on the real image and makes such a fix
  manual. Making every zero-rebuild fix unsafe for this would make nearly all of them unsafe
  and hide the assumptions that really need a person.

**Operator CRDs whose pod template is split** are analysed as far as the manifest shows them,
and never rewritten (**manual**, "operator-merged"): an operator builds the real pod from the
CRD's part and containers of its own that the manifest does not show (and a CRD schema older
than image volumes would drop the `image` source). Known: Prometheus Operator (`Prometheus`,
`Alertmanager`, … `spec.initContainers` + `spec.volumes`, with `spec.volumeMounts` showing the
operator's `prometheus`/`alertmanager` container), ECK (`nodeSets[].podTemplate.spec`), Strimzi,
Flink (`spec.podTemplate` and `jobManager`/`taskManager.podTemplate`), KServe
(`spec.predictor`), Argo Workflows (a template's `initContainers`, `container`/`script`,
`sidecars` and `volumes` plus the workflow's `spec.volumes`; `mirrorVolumeMounts: true` gives
the init container the main container's mounts) and Tekton. When no visible container mounts
the volume, the finding says the operator's own containers may (never "read by no container");
a volume that the template doesn't declare (the operator declares it, or merges it from another
template) is reported with what can't be seen. Tekton steps are not init containers and are
not analysed.

**Copier images.** An init container that sets no `command`/`args` runs its image's default
command. When the repository builds that image (a link from skaffold, compose, bake, CI, a
Makefile…; not the directory-name guess) from a Dockerfile whose stage is a *copier image* (on
`busybox`/`alpine`, whose config has no entrypoint: its `CMD`/`ENTRYPOINT` only copies, e.g.
`CMD cp -a /srv/docs/. $DEST/`, the files from `COPY` or a `RUN wget … && tar …` in the same
stage), IV001 reads that command the way Kubernetes runs it (`command` replaces the image's
`ENTRYPOINT` and drops its `CMD`; `args` replaces the `CMD`; the pod's `env` overrides the
image's `ENV`; `workingDir` its `WORKDIR`) and judges the copy like one written in the manifest.
The change-set is one across files: the pod gets the image volume, the copier Dockerfile keeps
its stage (download included) as build stage `fetch`, loses its `CMD`, and ships
`FROM scratch` + `COPY --from=fetch SRC/ SRC/` for every path the init container copied; the
build definition is renamed to the asset name when it can be edited. At best **unsafe**: it
assumes the image was built from the Dockerfile as it is now and that nothing outside the
repository runs its command. When another init container in the repository runs the image with a
command of its own, the Dockerfile stays as it is and a new asset Dockerfile `FROM R AS source`
is added. Left to IV002 (no command: opaque), with the typed reason: the image is also run as a
regular container or sidecar (`image-run-elsewhere`), a variable in the copy comes from a
Secret, a ConfigMap, the downward API or a build argument (`image-env-unknown`), or the command
does more than copy (`image-command-not-a-copy`). An image no build in the repository makes
stays opaque (IV002), and a pod that gives its own `command` runs that, not the `CMD`.
`verify` and `check --prove` read the same from the old image's config (`Entrypoint`, `Cmd`,
`Env`, `WorkingDir`).

Only `emptyDir` destinations are candidates: a copy into a `hostPath` or a PersistentVolumeClaim
seeds durable or node storage, which an image volume does not replace.

Notes carried in the message: dot-files that now appear (a `*` glob skipped them), sibling
files that now appear (containerd mounts only directories), `medium: Memory` reads now coming
from disk, and that image-policy webhooks don't see image volumes (pin a digest).
"""

from __future__ import annotations

from typing import Any, Iterator

from migrate_tui.analysis.context import PodSpecSubject, RuleContext
from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.model.reasons import MOUNT_SHAPE_BLOCKERS, Blocker, BlockerKind, Note, NoteKind, texts
from migrate_tui.fixes.yaml_edit import RewriteRefused, rewrite_and_check, shrink
from migrate_tui.rules import PodSpecRule
from migrate_tui.fixes.asset_image import ScratchPlan, plan_scratch, wants_scratch
from migrate_tui.fixes.copier_image import image_defaults
from migrate_tui.analysis.initcopy import Consumer, MountSpec, VolumeFlow, analyse_pod_spec, plan_mounts, volume_names

#: each reading container and the mounts its image volume(s) get
MountPlans = list[tuple[Consumer, list[MountSpec]]]

CODE = "IV001"
SUPPLY_CHAIN_NOTE = (
    "the image moves from a container into a volume: ImagePolicyWebhook never sees image volumes and "
    "Kyverno verifyImages / sigstore policy-controller don't check them yet; pin a digest if you rely on them"
)


def flows_of(subject: PodSpecSubject, ctx: RuleContext | None = None) -> list[VolumeFlow]:
    """The init-copy analysis of the pod spec; with ``ctx``, an init container that sets no
    command runs the default command of a copier image the repository builds (rules/_assetimage.py)."""
    if "flows" not in subject.cache:
        ref = subject.ref
        defaults = image_defaults(ctx) if ctx is not None else None
        subject.cache["flows"] = analyse_pod_spec(ref.spec, ref.merged_by, ref.assembled, ref.shared_volumes, defaults)
    flows: list[VolumeFlow] = subject.cache["flows"]
    return flows


def groups_of(subject: PodSpecSubject, ctx: RuleContext | None = None) -> list[list[VolumeFlow]]:
    """IV001 candidates grouped by volume (several init containers may fill one emptyDir)."""
    groups: dict[str, list[VolumeFlow]] = {}
    for flow in flows_of(subject, ctx):
        if flow.copies_into and not flow.fills:
            groups.setdefault(flow.name, []).append(flow)
    # A volume that one init container fills by download is IV002's, whatever else copies into it.
    tainted = {f.name for f in flows_of(subject, ctx) if f.fills}
    return [g for name, g in groups.items() if name not in tainted]


def check(subject: PodSpecSubject, ctx: RuleContext) -> Iterator[Finding]:
    for group in groups_of(subject, ctx):
        yield _finding(subject, ctx, group)


def _finding(subject: PodSpecSubject, ctx: RuleContext, group: list[VolumeFlow]) -> Finding:
    first = group[0]
    spec = subject.ref.spec
    inits = spec["initContainers"]
    init_node = inits[first.init_index]
    location = Location(subject.path, getattr(init_node, "line", 0) or subject.location(inits).line)
    manual: list[Blocker] = [r for f in group for r in f.manual]
    unsafe = [r for f in group for r in f.unsafe]
    notes: list[Note] = [n for f in group for n in f.notes]
    names = volume_names(group)
    consumers = _consumers(group)
    plans: MountPlans = []
    # Nothing placed (every copy reads another volume or a changed source): no mount to plan.
    placed = any(f.placements for f in group)
    for consumer in consumers if placed else []:
        specs, blockers, mount_notes = plan_mounts(group, consumer, names, unsafe)
        manual += blockers
        notes += mount_notes
        plans.append((consumer, specs))
    scratch = _scratch_plan(ctx, group, names) if not manual or _only_modes(group, manual) else None
    if scratch is None and _mounts_cannot_express(manual) and wants_scratch(ctx, list(names)):
        union = _volume_image_plan(subject, ctx, group, consumers)
        if union is not None:
            scratch, names, plans = union
            manual = [m for f in group for m in f.manual]
            notes = [n for n in notes if n.kind not in _MOUNT_NOTES]
    if scratch is not None:
        manual = [m for m in manual if not (m.kind is BlockerKind.MODE_CHANGE and m.command in scratch.folded)]
        manual += [Blocker(BlockerKind.ASSET_IMAGE, b) for b in scratch.blockers]
        notes = _scratch_notes(notes, scratch)
    manual += _unwritable(plans, names, scratch)
    needs_sub_path = any(s.sub_path for _, specs in plans for s in specs)
    for blocker in (ctx.target.image_volume_blocker(), ctx.target.subpath_blocker() if needs_sub_path else None):
        if blocker:
            manual.append(Blocker(BlockerKind.PLATFORM, f"target {ctx.target.describe()}: {blocker}"))
    if not manual:
        notes += _source_shape_notes(group, plans, zero_rebuild=scratch is None)
    message = _message(group, [str(f.init.get("name")) for f in group], [c.name for c in consumers], subject.ref.merged_by)
    notes.append(Note(NoteKind.SUPPLY_CHAIN, SUPPLY_CHAIN_NOTE))
    related = tuple(Location(subject.path, getattr(c.mount, "line", location.line)) for c in consumers)
    data: dict[str, Any] = {
        "owner": subject.ref.owner,
        "volume": first.name,
        "images": sorted(names),
        "mounts": [
            {"container": c.name, "mountPath": s.mount_path, "subPath": s.sub_path, "volume": s.volume} for c, specs in plans for s in specs
        ],
        "mode": "scratch" if scratch is not None else "zero-rebuild",
    }
    if scratch is not None:
        data["assets"] = [
            {"image": a.image, "reference": a.new_ref, "dockerfile": a.dockerfile, "change": a.how} for a in scratch.assets.values()
        ]
    explanation = _explain(group, texts(manual), unsafe)
    finding = Finding(
        rule=CODE,
        severity=Severity.WARNING,
        location=location,
        message=message,
        explanation=explanation,
        notes=tuple(texts(notes)),
        related=related,
        data=data,
        anchor=f"{subject.ref.owner}/{subject.ref.path}/{first.name}",
        doc_span=subject.doc_span,
    )
    if manual:
        return _replace(finding, fix_blocked="; ".join(texts(manual)))
    applicability = Applicability.UNSAFE if unsafe else Applicability.SAFE
    try:
        fix = _build_fix(subject, ctx, group, plans, names, applicability, "; ".join(dict.fromkeys(unsafe)) or None, scratch)
    except RewriteRefused as exc:
        return _replace(finding, fix_blocked=str(exc))
    if isinstance(fix, str):
        return _replace(finding, fix_blocked=fix)
    return _replace(finding, fix=fix)


def _unwritable(plans: MountPlans, names: dict[str, str], scratch: ScratchPlan | None) -> list[Blocker]:
    """Values the fix would write that must never be written: a path or name with control
    characters (a terminal escape, a newline, a bidi override), an image reference that is not
    a valid OCI reference exactly as written (templated, upper case, stray spaces). Refused here,
    with the value quoted, rather than planned and left to the writer to refuse."""
    import json

    from migrate_tui.parse.imageref import parse_image_ref
    from migrate_tui.repo.safepath import has_control_chars

    blockers: list[Blocker] = []
    values = [("volume name", v) for v in names.values()]
    values += [
        (key, value)
        for _, specs in plans
        for s in specs
        for key, value in (("mountPath", s.mount_path), ("subPath", s.sub_path), ("volume name", s.volume))
    ]
    for key, value in dict.fromkeys(values):
        if has_control_chars(value):
            blockers.append(
                Blocker(
                    BlockerKind.CONTROL_CHARACTERS,
                    f"the fix would write the {key} {json.dumps(value)}, which holds control characters; migrate-tui never writes them",
                )
            )
    references = [scratch.assets[image].new_ref if scratch and image in scratch.assets else image for image in names]
    for reference in dict.fromkeys(references):
        if has_control_chars(reference) or reference != reference.strip() or parse_image_ref(reference) is None:
            blockers.append(
                Blocker(
                    BlockerKind.INVALID_REFERENCE,
                    f"the image volume would reference {json.dumps(reference)}, which is not a valid image reference as written "
                    "(templated, upper case or stray characters); nothing to mount",
                )
            )
    return blockers


def _names(names: list[str]) -> str:
    """'a'; 'a' and 'b'; 'a', 'b' and 'c' (each once, in order)."""
    quoted = [f"'{n}'" for n in dict.fromkeys(names)]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _listed(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _message(group: list[VolumeFlow], inits: list[str], readers: list[str], operator: str = "") -> str:
    first = group[0]
    several = len(dict.fromkeys(inits)) > 1
    who = f"init container{'s' if several else ''} {_names(inits)} cop{'y' if several else 'ies'}"
    images = "their images" if len({f.image for f in group}) > 1 else "its image"
    read = f"read by {_names(readers)}" if readers else "that no other container in this object mounts"
    if operator:
        # The operator's own containers are not in the manifest: never claim nobody reads it.
        seen = f"read by {_names(readers)} here" if readers else "that no container in this manifest mounts"
        read = f"{seen} ({operator} adds containers of its own, which may mount it too)"
        readers = []  # no "mount the image as an image volume instead": not from what is visible
    copied = [p.source for f in group for p in f.placements] + [s for f in group for s in f.refused_sources]
    from_volumes = [v for f in group for v in f.volume_sources]
    if not first.declared:  # only in a pod template an operator merges with this one
        return f"{who} {_listed(copied)} from {images} into volume '{first.name}', which this pod template doesn't declare ({operator} declares it or merges it from another template)"
    if not from_volumes:
        advice = ": mount the image as an image volume instead" if readers else ""
        return f"{who} {_listed(copied)} from {images} into emptyDir '{first.name}' {read}{advice}"
    # Files that come from another volume: no image volume can carry them; say which and where.
    sources = _listed(copied + [v.source for v in from_volumes])
    why = "; ".join(dict.fromkeys(v.describe() for v in from_volumes))
    return (
        f"{who} {sources} into emptyDir '{first.name}' {read}, "
        f"but {why}; an image volume can't carry {'it' if len(from_volumes) == 1 else 'them'}"
    )


def _source_shape_notes(group: list[VolumeFlow], plans: MountPlans, *, zero_rebuild: bool) -> list[Note]:
    """What a fix assumes about a part of the image the rule can't read: a copy source that is
    a symbolic link. ``cp -r SRC/. D/`` follows it in the init container's root, but the kubelet
    resolves an image volume's subPath on the node (an absolute link points outside the volume:
    the container doesn't start); ``cp -r SRC D/`` copies the link itself, while a mount shows
    the directory it points to. Kept as notes, not as unsafe assumptions: nearly every
    zero-rebuild fix has a subPath, and ``check --prove`` settles it on the real image (a
    failed proof makes the fix manual)."""
    notes: list[Note] = []
    images = {volume: image for image, volume in volume_names(group).items()}
    by_image: dict[str, set[str]] = {}
    for _, specs in plans if zero_rebuild else []:
        for spec in specs:
            if spec.sub_path and spec.volume in images:
                by_image.setdefault(images[spec.volume], set()).add(spec.sub_path)
    for image, subs in sorted(by_image.items()):
        ordered = sorted("/" + sub for sub in subs)
        which = f"{ordered[0]} is a directory" if len(ordered) == 1 else f"{', '.join(ordered[:-1])} and {ordered[-1]} are directories"
        notes.append(
            Note(
                NoteKind.SOURCE_SHAPE,
                f"assumes {which} in {image}, not {'a symbolic link' if len(ordered) == 1 else 'symbolic links'} "
                "(a subPath link resolves on the node and the container would not start); `check --prove` checks it",
            )
        )
    for flow in group:
        for p in flow.placements:
            if p.kind == "entry":
                notes.append(
                    Note(
                        NoteKind.SOURCE_SHAPE,
                        f"`{p.text}` copies {p.source} itself: a symbolic link there would be copied as a link, "
                        "while the mount shows its target; `check --prove` checks it",
                    )
                )
    return notes


def _replace(finding: Finding, **changes: Any) -> Finding:
    from dataclasses import replace

    return replace(finding, **changes)


def _consumers(group: list[VolumeFlow]) -> list[Consumer]:
    """Consumers of the volume, minus the init containers of the group (they go away)."""
    removed = {f.init_index for f in group}
    seen: dict[tuple[str, int, int], Consumer] = {}
    for flow in group:
        for c in flow.consumers:
            if c.group == "initContainers" and c.index in removed:
                continue
            seen.setdefault((c.group, c.index, c.mount_index), c)
    return list(seen.values())


def _explain(group: list[VolumeFlow], manual: list[str], unsafe: list[str]) -> str:
    """What each copy puts where, what blocks a rewrite and what it assumes. The notes are the
    finding's own field (``Finding.notes``), shown by each output in its place, not repeated here."""
    lines = []
    for flow in group:
        for p in flow.placements:
            target = f"/{p.vol_dir}" if p.vol_dir else "the volume root"
            lines.append(f"- `{p.text}` puts {p.source} ({p.kind}) at {target} of '{flow.name}'")
    if manual:
        lines.append("Not rewritten automatically:")
        lines += [f"- {m}" for m in dict.fromkeys(manual)]
    if unsafe:
        lines.append("Assumes:")
        lines += [f"- {u}" for u in dict.fromkeys(unsafe)]
    return "\n".join(lines)


def _scratch_plan(ctx: RuleContext, group: list[VolumeFlow], names: dict[str, str]) -> ScratchPlan | None:
    """The asset side of the change-set (scratch mode), or None for zero-rebuild."""
    if not wants_scratch(ctx, list(names)):
        return None
    plan = plan_scratch(ctx, group, names)
    if plan.blockers and ctx.mode == "auto" and not plan.folded:
        ctx.notes.append("; ".join(plan.blockers))
        return None  # auto falls back to zero-rebuild when the asset side can't be planned
    return plan


#: Notes about how the mounts show the tree; a volume image (one asset image whose root is the
#: volume) makes them moot.
_MOUNT_NOTES = frozenset({NoteKind.SIBLING_FILES, NoteKind.DOT_FILES, NoteKind.PARTIAL_VIEW})


def _mounts_cannot_express(manual: list[Blocker]) -> bool:
    """Every blocker is one that a purpose-built asset image solves (and there is at least one)."""
    return bool(manual) and all(m.kind in MOUNT_SHAPE_BLOCKERS for m in manual)


def _volume_image_plan(
    subject: PodSpecSubject, ctx: RuleContext, group: list[VolumeFlow], consumers: list[Consumer]
) -> tuple[ScratchPlan, dict[str, str], MountPlans] | None:
    """(plan, names, mount plans) for one asset image that mirrors the volume, or None."""
    from migrate_tui.fixes.asset_image import ScratchPlan, plan_volume_image

    asset = plan_volume_image(ctx, group, group[0].name, subject.ref.owner)
    if isinstance(asset, str):
        ctx.notes.append(asset)
        return None
    plan = ScratchPlan(assets={asset.image: asset})
    names = {asset.image: group[0].name}
    plans = [(c, [MountSpec(group[0].name, c.mount_path, c.sub_path)]) for c in consumers]
    if any(c.mount_path == "/" for c in consumers):
        return None
    return plan, names, plans


def _only_modes(group: list[VolumeFlow], manual: list[Blocker]) -> bool:
    """Every manual reason is a chmod/chown after the copy (scratch mode may carry it)."""
    return any(f.post_copy_modes for f in group) and all(m.kind is BlockerKind.MODE_CHANGE for m in manual)


def _scratch_notes(notes: list[Note], plan: ScratchPlan) -> list[Note]:
    out = [n for n in notes if n.kind is not NoteKind.SIBLING_FILES]
    for asset in plan.assets.values():
        out += [Note(NoteKind.ASSET, n) for n in asset.notes]
        if asset.new_ref != asset.image:
            out.append(Note(NoteKind.ASSET, f"the image volume references {asset.new_ref} (image-name template), built FROM scratch"))
    if plan.folded:
        out.append(
            Note(
                NoteKind.ASSET,
                "`" + "`, `".join(sorted(plan.folded)) + "` now run at build time as COPY --chmod/--chown (needs BuildKit or buildah)",
            )
        )
    return out


def _build_fix(
    subject: PodSpecSubject,
    ctx: RuleContext,
    group: list[VolumeFlow],
    plans: MountPlans,
    names: dict[str, str],
    applicability: Applicability,
    assumption: str | None,
    scratch: ScratchPlan | None = None,
) -> Fix | str:
    source = subject.source
    chunk = subject.chunk
    path = subject.ref.path
    references = {image: scratch.assets[image].new_ref for image in names if scratch and image in scratch.assets}

    def mutate(document: Any) -> None:
        spec = document
        for step in path:
            spec = spec[step]
        _rewrite_pod_spec(spec, group, plans, names, references)

    new_chunk, problems = rewrite_and_check(source.text, chunk, mutate, ctx.target.schema_version)
    if problems:
        return f"the rewrite would not validate for Kubernetes {ctx.target.schema_version[0]}.{ctx.target.schema_version[1]}: {problems[0]}"
    old = source.text[chunk.start : chunk.end]
    start, end, content = shrink(old, new_chunk)
    edit = Edit(source.path, chunk.start + start, chunk.start + end, content)
    volume = group[0].name
    description = f"Mount the image as image volume '{volume}'; drop init container(s) " + ", ".join(
        dict.fromkeys(f"'{f.init.get('name')}'" for f in group)
    )
    edits = [edit]
    digests: list[tuple[str, str | None]] = [(source.path, source.digest)]
    scopes = [(source.path, chunk.start, chunk.end)]
    if scratch is not None:
        for asset in scratch.assets.values():
            edits += asset.edits
            digests += [d for d in asset.digests if d not in digests]
            scopes += asset.scopes
            verb = _ASSET_VERBS.get(asset.how)
            if verb is not None:
                description += f"; {verb} {asset.dockerfile} FROM scratch"
    return Fix(
        applicability=applicability,
        description=description,
        edits=tuple(edits),
        assumption=assumption,
        base_digests=tuple(digests),
        scopes=tuple(scopes),
    )


#: AssetImage.how -> the verb in a fix title ("unchanged" adds nothing).
_ASSET_VERBS = {"rewritten": "rewrite", "created": "add"}


def _rewrite_pod_spec(
    spec: Any, group: list[VolumeFlow], plans: MountPlans, names: dict[str, str], references: dict[str, str] | None = None
) -> None:
    from ruamel.yaml.comments import CommentedMap

    volumes = spec["volumes"]
    first = group[0]
    index = next(i for i, v in enumerate(volumes) if v.get("name") == first.name and "emptyDir" in v)
    volume = volumes[index]
    images = list(names.items())
    for position, (image, name) in enumerate(images):
        flow = next(f for f in group if f.image == image)
        source = CommentedMap()
        source["reference"] = (references or {}).get(image, image)
        policy = flow.init.get("imagePullPolicy")
        if policy:
            source["pullPolicy"] = policy
        if position == 0:
            keys = list(volume.keys())
            at = keys.index("emptyDir")
            volume.insert(at, "image", source)
            del volume["emptyDir"]
        else:
            extra = CommentedMap()
            extra["name"] = name
            extra["image"] = source
            volumes.insert(index + position, extra)
    # consumers: later mounts first so indices stay valid
    for consumer, specs in sorted(plans, key=lambda p: (p[0].group, p[0].index, p[0].mount_index), reverse=True):
        mounts = spec[consumer.group][consumer.index]["volumeMounts"]
        mount = mounts[consumer.mount_index]
        # the existing mount entry keeps the volume it already names
        specs = sorted(specs, key=lambda s: s.volume != mount.get("name"))
        for offset, mount_spec in enumerate(specs):
            target = mount if offset == 0 else CommentedMap()
            if offset:
                target["name"] = mount_spec.volume
                mounts.insert(consumer.mount_index + offset, target)
            elif mount_spec.volume != mount.get("name"):
                mount["name"] = mount_spec.volume
            _set_after(target, "mountPath", mount_spec.mount_path, after="name")
            if mount_spec.sub_path:
                _set_after(target, "subPath", mount_spec.sub_path, after="mountPath")
            elif "subPath" in target:
                del target["subPath"]
            if target.get("readOnly") is not True:
                _set_after(target, "readOnly", True, after="subPath" if "subPath" in target else "mountPath")
    inits = spec["initContainers"]
    # Each init container once, last first: one container may fill the volume through two mounts.
    for init_index in sorted({f.init_index for f in group}, reverse=True):
        del inits[init_index]
    if len(inits) == 0:
        del spec["initContainers"]


def _set_after(mapping: Any, key: str, value: Any, after: str) -> None:
    if key in mapping:
        if mapping[key] != value:
            mapping[key] = value
        return
    keys = list(mapping.keys())
    position = keys.index(after) + 1 if after in keys else len(keys)
    mapping.insert(position, key, value)


RULE = PodSpecRule(
    code=CODE,
    name="init-copy-to-empty-dir",
    summary="Init container copies files from its image into an emptyDir: use an image volume",
    check=check,
    needles=("initContainers",),
)
