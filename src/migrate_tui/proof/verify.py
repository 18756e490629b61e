"""Prove a migration: the files a container saw through the emptyDir before are the files it
sees through the image volume after (docs/architecture.md, "How a fix is proven").

BEFORE is a manifest with the init-container copy; AFTER is the rewritten manifest (written by
migrate-tui or by hand). For every reader of every copied volume: the tree the copy leaves in
the emptyDir, from the old image's layers (whiteouts applied), against the tree the image
volume(s) show at the same mount path (+subPath). Paths, types, sizes, content digests and
symlink targets must match; mode/owner differences are reported (``cp`` without ``-a`` never
kept them).

What an init container runs is read the Kubernetes way from its image config too
(rules/_imagecommand.py): no ``command`` runs the image's ``Entrypoint`` + ``Cmd`` (or
``Entrypoint`` + ``args``), and the shell sees the image's ``Env`` and ``WorkingDir`` under the
pod's ``env``/``workingDir``. So a *copier image* (``CMD cp -a /srv/docs/. $DEST/``) run by an
init container without a command is verified like a copy written in the manifest. The config
comes from the same source as the layers (an :class:`ImageLoader`); a container that sets its
own ``command`` only needs it for Env/WorkingDir, and goes without when the image can't be read
(or, for ``verify``, when the user gave no ``--image`` source for it: no registry round trip
for an optional config).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any, Callable

from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.analysis.imagecommand import ImageDefault, ImageDefaults, from_image_config
from migrate_tui.analysis.initcopy import VolumeFlow, analyse_pod_spec
from migrate_tui.oci.tree import Comparison, Node, Tree, compare, graft, resolve, resolve_hardlinks, subtree

TreeLoader = Callable[[str], Tree]  # image reference -> its filesystem tree
ConfigOpener = Callable[[str], dict[str, Any]]  # image reference -> its OCI image config (the JSON object)


class ImageLoader:
    """A :data:`TreeLoader` that also reads each image's config (Entrypoint/Cmd/Env/WorkingDir),
    each once. ``unreachable``: the errors that mean "this image can't be read" (raised for what
    verify needs; swallowed where the config is optional). ``local``: the references whose
    config may be read when it is only optional (``None``: all); verify passes the ones the user
    gave a source for, so an optional config never costs a registry round trip."""

    def __init__(
        self,
        open_tree: Callable[[str], Tree],
        open_config: ConfigOpener | None = None,
        unreachable: tuple[type[BaseException], ...] = (),
        local: Callable[[str], bool] | None = None,
    ) -> None:
        self._open_tree, self._open_config, self.unreachable = open_tree, open_config, unreachable
        self._local = local
        self._trees: dict[str, Tree] = {}
        self._configs: dict[str, dict[str, Any] | BaseException] = {}

    def __call__(self, reference: str) -> Tree:
        if reference not in self._trees:
            self._trees[reference] = self._open_tree(reference)
        return self._trees[reference]

    def config(self, reference: str, *, required: bool) -> dict[str, Any] | None:
        """The image config; None when there is no way to read configs, or (unless ``required``)
        when the image can't be read."""
        if self._open_config is None:
            return None
        if not required and reference not in self._configs and self._local is not None and not self._local(reference):
            return None
        if reference not in self._configs:
            try:
                self._configs[reference] = self._open_config(reference)
            except self.unreachable as exc:
                self._configs[reference] = exc
        found = self._configs[reference]
        if isinstance(found, BaseException):
            if required:
                raise found
            return None
        return found


def config_defaults(load: TreeLoader) -> ImageDefaults | None:
    """``container -> ImageDefault`` from the image config, when ``load`` can read configs. The
    config is required for a container without ``command`` (the image's entrypoint is what runs)."""
    if not isinstance(load, ImageLoader):
        return None

    def resolve(container: dict[str, Any]) -> ImageDefault | None:
        image = container.get("image")
        if not image:
            return None
        config = load.config(str(image), required=container.get("command") is None)
        return None if config is None else from_image_config(config, f"the image config of {image}")

    return resolve


@dataclass
class ReaderResult:
    owner: str
    container: str
    mount_path: str
    comparison: Comparison | None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None and self.comparison is not None and self.comparison.equal


def _mounted_in_copy(flow: VolumeFlow) -> str | None:
    """A volume the init container mounts at, above or inside a copy source: those files never
    came from the image, so no image tree can say what the copy left."""
    for mount in flow.init.get("volumeMounts") or []:
        if not isinstance(mount, dict) or mount.get("name") == flow.name:
            continue
        at = posixpath.normpath(str(mount.get("mountPath", "/")))
        for p in flow.placements:
            source = posixpath.normpath(p.source)
            if at == source or source.startswith(at.rstrip("/") + "/") or at.startswith(source.rstrip("/") + "/"):
                return (
                    f"init container '{flow.init.get('name')}' mounts volume '{mount.get('name')}' at {at}, in what "
                    f"`{p.text}` copies: those files come from the volume, not from {flow.image}"
                )
    return None


def volume_tree(flows: list[VolumeFlow], load: TreeLoader) -> Tree:
    """What the init containers' copies leave in the emptyDir."""
    volume: Tree = {"": _dir()}
    for flow in flows:
        if problem := _mounted_in_copy(flow):
            raise ValueError(problem)
        image = load(flow.image or "")
        for p in flow.placements:
            if p.kind == "file":
                parent, name = posixpath.split(p.source)
                node = image.get(posixpath.join(resolve(image, parent), name))
                if node is None:
                    raise ValueError(f"{flow.image} has no {p.source}")
                graft(volume, p.vol_dir, {"": node})
                continue
            # `cp -r S/. D`, `S/*`, `tar -C S`, `rsync S/` go through a symlink S; `cp -r S D` copies the link
            if p.kind == "entry":
                parent, name = posixpath.split(p.image_dir)
                image_dir = posixpath.join(resolve(image, parent), name)
                if image.get(image_dir) is not None and image[image_dir].kind == "symlink":
                    graft(volume, p.vol_dir, {"": image[image_dir]})
                    continue
            else:
                image_dir = resolve(image, p.image_dir)
            branch = subtree(image, image_dir, skip_dotfiles=p.kind == "glob")
            if not branch:
                raise ValueError(f"{flow.image} has no directory {p.image_dir}")
            if p.vol_dir in volume and p.kind in ("contents", "glob"):
                for rel, node in branch.items():
                    if rel:
                        volume[posixpath.join(p.vol_dir, rel) if p.vol_dir else rel] = node
            else:
                graft(volume, p.vol_dir, branch)
    return volume


def _dir() -> Node:
    return Node("dir", 0o755, 0, 0)


def unverifiable(before: dict[str, Any], defaults: ImageDefaults | None = None) -> list[str]:
    """Why the copies in ``before`` can't be modelled from an image (a volume in the copy source,
    a command the shell model can't read...): ``owner: init container 'x': reason``."""
    out: list[str] = []
    for ref in find_pod_specs(before):
        for flow in analyse_pod_spec(ref.spec, image_defaults=defaults):
            for blocker in flow.manual:
                out.append(f"{ref.owner}: init container '{flow.init.get('name')}': {blocker.text}")
    return list(dict.fromkeys(out))


def verify_documents(before: dict[str, Any], after: dict[str, Any], load: TreeLoader) -> list[ReaderResult]:
    results: list[ReaderResult] = []
    after_specs = {ref.path: ref for ref in find_pod_specs(after)}
    defaults = config_defaults(load)
    for ref in find_pod_specs(before):
        flows = [f for f in analyse_pod_spec(ref.spec, image_defaults=defaults) if f.placements and not f.fills]
        if not flows:
            continue
        new = after_specs.get(ref.path)
        by_volume: dict[str, list[VolumeFlow]] = {}
        for flow in flows:
            by_volume.setdefault(flow.name, []).append(flow)
        for name, group in by_volume.items():
            readers = {
                (c.group, c.name, c.mount_path, c.sub_path)
                for f in group
                for c in f.consumers
                if not (c.group == "initContainers" and c.index in {g.init_index for g in group})
            }
            try:
                volume = volume_tree(group, load)
            except (ValueError, KeyError) as exc:
                results += [ReaderResult(ref.owner, r[1], r[2], None, f"before: {exc}") for r in readers]
                continue
            for group_name, container, mount_path, sub_path in sorted(readers):
                seen_before = subtree(volume, sub_path) if sub_path else volume
                if sub_path and sub_path.strip("/") not in volume:
                    seen_before = {"": _dir()}  # the kubelet creates a missing subPath: an empty directory
                if new is None:
                    results.append(ReaderResult(ref.owner, container, mount_path, None, "no matching pod spec in AFTER"))
                    continue
                try:
                    seen_after, notes = _view_after(new.spec, group_name, container, mount_path, load)
                except (ValueError, KeyError) as exc:
                    results.append(ReaderResult(ref.owner, container, mount_path, None, f"after: {exc}"))
                    continue
                results.append(
                    ReaderResult(
                        ref.owner,
                        container,
                        mount_path,
                        compare(resolve_hardlinks(seen_before), resolve_hardlinks(seen_after)),
                        None,
                        notes,
                    )
                )
    return results


def _view_after(spec: dict[str, Any], group: str, container_name: str, mount_path: str, load: TreeLoader) -> tuple[Tree, list[str]]:
    containers = spec.get(group) or []
    container = next((c for c in containers if isinstance(c, dict) and c.get("name") == container_name), None)
    if container is None:
        raise ValueError(f"container '{container_name}' is gone")
    volumes = {v.get("name"): v for v in spec.get("volumes") or [] if isinstance(v, dict)}
    view: Tree = {"": _dir()}
    notes: list[str] = []
    mounts = sorted((m for m in container.get("volumeMounts") or [] if isinstance(m, dict)), key=lambda m: str(m.get("mountPath", "")))
    found = False
    root = posixpath.normpath(mount_path)
    for mount in mounts:
        path = posixpath.normpath(str(mount.get("mountPath", "")))
        if not (path == root or path.startswith(root.rstrip("/") + "/")):
            continue
        volume = volumes.get(mount.get("name"))
        if not volume or "image" not in volume:
            notes.append(f"{path} is not an image volume; not compared")
            continue
        image = load(str(volume["image"].get("reference", "")))
        sub = str(mount.get("subPath") or "")
        branch = subtree(image, resolve(image, sub, kubelet=True)) if sub else image
        if not branch:
            raise ValueError(f"{volume['image'].get('reference')} has no directory {sub or '/'}")
        graft(view, path[len(root) :].lstrip("/"), branch)
        found = True
    if not found:
        raise ValueError(f"'{container_name}' mounts no image volume at or under {mount_path}")
    return view, notes


def image_loader(
    open_tree: Callable[[str], Tree],
    open_config: ConfigOpener | None = None,
    unreachable: tuple[type[BaseException], ...] = (),
    local: Callable[[str], bool] | None = None,
) -> ImageLoader:
    return ImageLoader(open_tree, open_config, unreachable, local)
