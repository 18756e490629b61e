"""Copier images: what an init container that sets no command runs, when the repository builds
its image from a Dockerfile whose stage only exists to copy files out (``CMD cp -a /srv/docs/.
$DEST/`` on busybox/alpine, the files from ``COPY`` or a ``RUN wget … && tar …``).

:func:`image_defaults` gives IV001's analysis that default command (Docker's rules for
ENTRYPOINT/CMD/ENV/WORKDIR, read from the linked Dockerfile), or a typed reason why it can't
stand in for the container's command. The asset side (the Dockerfile rewritten into a build
stage + ``FROM scratch``) is ``_assetimage._rewrite_copier``.

Pure planning over the project's files; never writes.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.model.reasons import Blocker, BlockerKind
from migrate_tui.parse.shell import OpKind
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Stage, env_pairs, parse_dockerfile
from migrate_tui.analysis import stages as dfx
from migrate_tui.analysis.workloads import grouped_containers, pod_specs, same_repository
from migrate_tui.fixes.asset_image import _link_for, _read, _shown
from migrate_tui.fixes.assets_stage import copier_command
from migrate_tui.analysis.imagecommand import ImageDefault, ImageDefaults, image_run, parse_image_run

if TYPE_CHECKING:
    from migrate_tui.analysis.context import RuleContext

# Official images whose config sets no ENTRYPOINT: a Dockerfile CMD on them is the whole command.
_NO_ENTRYPOINT_BASES = frozenset({"busybox", "alpine"})
# What a copier image's default command may do and still be read as the copy it is.
_PLAIN_COPY = frozenset({OpKind.COPY, OpKind.MKDIR, OpKind.HARMLESS})


def image_defaults(ctx: RuleContext) -> ImageDefaults:
    """``init container -> ImageDefault | Blocker | None``: for an init container that sets no
    ``command``/``args`` and runs a *copier image* the repository builds (its Dockerfile's
    ``CMD``/``ENTRYPOINT`` only copies files, on a base without an entrypoint), the image's
    default command, so IV001 sees the copy. A typed Blocker when the image is such a copier but
    its command can't stand in here (another workload runs the image; the copy reads variables
    from a Secret/ConfigMap/downward API; it does more than copy); None for anything else
    (the container stays opaque: IV002)."""
    cache: dict[str, ImageDefault | Blocker | None] = {}

    def resolve(container: dict[str, Any]) -> ImageDefault | Blocker | None:
        if container.get("command") is not None or container.get("args") is not None or not container.get("image"):
            return None
        image = str(container.get("image"))
        if image not in cache:
            cache[image] = _copier_default(ctx, image)
        default = cache[image]
        if not isinstance(default, ImageDefault):
            return default
        return _judge_default(container, default)

    return resolve


def _judge_default(container: dict[str, Any], default: ImageDefault) -> ImageDefault | Blocker:
    """The default when, with this container's environment, it reads as a plain copy between
    literal paths; else why not (typed)."""
    parsed = parse_image_run(container, default)
    run = image_run(container, default)
    copies = [op.copy for op in parsed.ops if op.copy is not None]
    literal = all("$" not in path for c in copies for path in (*c.sources, c.dest))
    plain = not parsed.opaque and copies and literal and all(op.kind in _PLAIN_COPY and not op.conditional for op in parsed.ops)
    if plain:
        return default
    name = container.get("name")
    used = [u for u in run.unknown if any(("$" in w) if u == "*" else (f"${u}" in w or f"${{{u}}}" in w) for w in run.argv)]
    if used:
        declared = container.get("env")
        in_pod = {i.get("name") for i in declared if isinstance(i, dict)} if isinstance(declared, list) else set()
        from_build = {n for n, value in default.env if value is None} - in_pod
        said = [
            f"{u} is set from a build argument"
            if u in from_build
            else "envFrom may set any variable"
            if u == "*"
            else f"{u} comes from a Secret, a ConfigMap or the downward API"
            for u in used
        ]
        return Blocker(
            BlockerKind.IMAGE_ENV_UNKNOWN,
            f"'{name}' runs the default command of {default.origin}, but {'; '.join(said)}, so where it copies is not known here",
        )
    return Blocker(
        BlockerKind.IMAGE_COMMAND_NOT_A_COPY,
        f"'{name}' runs the default command of {default.origin}, which does more than copy files with this container's environment",
    )


def _copier_default(ctx: RuleContext, image: str) -> ImageDefault | Blocker | None:
    link = _link_for(ctx, image, allow_heuristic=False)
    source = _read(ctx, link.dockerfile) if link is not None else None
    if link is None or source is None:
        return None
    parsed = parse_dockerfile(source.text)
    if parsed.errors:
        return None
    stage = parsed.stage(link.target) if link.target else (parsed.stages[-1] if parsed.stages else None)
    if stage is None:
        return None
    base, chain = parsed.root_base(stage)
    if len(chain) != 1 or dfx.base_family(base) not in _NO_ENTRYPOINT_BASES:
        return None
    command = copier_command(parsed, stage)
    if command is None:
        return None
    default = _dockerfile_default(parsed, stage, f"{link.dockerfile} line {command.line}")
    if default is None:
        return None
    elsewhere = _regular_runners(ctx, image)
    if elsewhere:
        return Blocker(
            BlockerKind.IMAGE_RUN_ELSEWHERE,
            f"{elsewhere[0]} runs {_shown(image)} as a regular container, so its default command ({default.origin}) "
            "is not only an init container's copy: migrate the image by hand",
        )
    return default


def _dockerfile_default(parsed: Dockerfile, stage: Stage, origin: str) -> ImageDefault | None:
    """Entrypoint/Cmd/Env/WorkingDir the stage gives its image (Docker's rules: ENTRYPOINT resets
    an earlier CMD; shell form runs ``/bin/sh -c``); None when any of it is not literal."""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str | None] = {}
    workdir = "/"
    for instr in stage.instructions:
        keyword = instr.keyword
        if keyword == "SHELL":
            return None
        if keyword in ("CMD", "ENTRYPOINT"):
            argv = tuple(instr.json_args) if instr.json_args is not None else ("/bin/sh", "-c", instr.args.strip())
            if keyword == "CMD":
                cmd = argv
            else:
                entrypoint, cmd = argv, ()
        elif keyword == "ENV":
            for name, value in env_pairs(instr, parsed.escape):
                env[name] = None if value is None or "$" in value else value  # a build argument: unknown here
        elif keyword == "WORKDIR":
            value = instr.args.strip().strip("\"'")
            if "$" in value:
                return None
            workdir = posixpath.normpath(posixpath.join(workdir, value)) if value else workdir
    return ImageDefault(entrypoint, cmd, tuple(env.items()), workdir if workdir != "/" else None, origin, assumed=True)


def _regular_runners(ctx: RuleContext, image: str) -> list[str]:
    """Containers in the repository that run ``image``'s repository as a regular container, a
    native sidecar or an ephemeral container, as ``"file: container 'x'"``."""
    wanted = parse_image_ref(image)
    if wanted is None:
        return []
    found: list[str] = []
    for rel in ctx.project.links().runners_of(image):
        text = ctx.project.read(rel)
        if not isinstance(text, SourceFile):
            continue
        for subject in pod_specs(text):
            for group, container in grouped_containers(subject.ref.spec):
                if group == "initContainers" and container.get("restartPolicy") != "Always":
                    continue
                if same_repository(container.get("image"), wanted):
                    found.append(f"{rel}: container '{container.get('name')}'")
    return found
