"""``migrate-tui build --certs [DIR]`` / ``--tzdata [DIR]``: the asset images DF002's compose mode
mounts, built reproducibly from local files (the build machine's ``/etc/ssl/certs`` or
``/usr/share/zoneinfo`` by default) with the daemon-free builder.

The directory's *contents* become the image root (the volume is mounted at the directory's
path). A symlink whose target stays inside the tree is kept, as a relative link; one that
leaves it (Debian's ``/etc/ssl/certs/*.pem`` → ``/usr/share/ca-certificates/…``) is replaced by
the file it names, so the mounted directory works without the host. Modes are normalised
(0644 files, 0755 directories) and the builder writes mtime 0 and uid/gid 0: the same files give
the same digest on any machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migrate_tui.render.formats.terminal import visible

if TYPE_CHECKING:
    import argparse

    from migrate_tui.oci.build import BuildResult

DEFAULT_DIRS = {"certs": Path("/etc/ssl/certs"), "tzdata": Path("/usr/share/zoneinfo")}
LABELS = {"certs": "ca-certificates", "tzdata": "tzdata"}
MAX_FILES = 100_000


class AssetTreeError(ValueError):
    """The source directory can't become a self-contained asset image: one line."""


@dataclass(frozen=True)
class TreeCopy:
    files: int
    links_kept: int
    links_resolved: int


def copy_tree(source: Path, dest: Path) -> TreeCopy:
    """Copy ``source`` into ``dest`` (an empty directory): links that stay inside kept (relative),
    links out of the tree replaced by the file they end at, modes normalised."""
    if not source.is_dir():
        raise AssetTreeError(f"{source}: not a directory")
    real_root = Path(os.path.realpath(source))
    files = kept = resolved = 0
    for current, dirs, names in os.walk(source, followlinks=False):
        here = Path(current)
        rel_dir = here.relative_to(source)
        dirs.sort()
        for name in sorted(dirs + names):
            path = here / name
            target = dest / rel_dir / name
            files += 1
            if files > MAX_FILES:
                raise AssetTreeError(f"{source}: more than {MAX_FILES} entries; is it the right directory?")
            if path.is_symlink():
                link = os.readlink(path)
                hop = Path(os.path.normpath(os.path.join(real_root / rel_dir, link)))  # one hop, as written
                real = Path(os.path.realpath(path))
                if (hop == real_root or real_root in hop.parents) and os.path.lexists(hop):
                    # the link stays in the tree (the entry it names is copied too): keep it, relative
                    os.symlink(os.path.relpath(hop.relative_to(real_root).as_posix(), rel_dir.as_posix()), target)
                    kept += 1
                elif real.is_file():
                    target.write_bytes(real.read_bytes())
                    os.chmod(target, 0o644)
                    resolved += 1
                elif not real.exists():
                    raise AssetTreeError(f"{path} -> {os.readlink(path)}: a broken link; the image would carry it broken")
                else:
                    raise AssetTreeError(f"{path} -> {os.readlink(path)}: a directory outside {source}; copy it in first")
            elif path.is_dir():
                target.mkdir()
                os.chmod(target, 0o755)
            elif path.is_file():
                target.write_bytes(path.read_bytes())
                os.chmod(target, 0o644)
            else:
                raise AssetTreeError(f"{path}: a device, FIFO or socket can't go into an asset image")
    return TreeCopy(files, kept, resolved)


def build_asset(kind: str, source: Path | None, *, tag: str, output: Path, architecture: str = "amd64") -> tuple[BuildResult, TreeCopy]:
    """Build the certs or tzdata image from ``source`` (default: this machine's directory)."""
    from migrate_tui.oci.build import build

    source = source or DEFAULT_DIRS[kind]
    with tempfile.TemporaryDirectory(prefix="migrate-tui-asset-") as tmp:
        context = Path(tmp)
        tree = context / "tree"
        tree.mkdir()
        os.chmod(tree, 0o755)
        copied = copy_tree(source, tree)
        if copied.files == 0:
            raise AssetTreeError(f"{source}: empty")
        dockerfile = context / "Dockerfile"
        dockerfile.write_text(f'FROM scratch\nCOPY tree/ /\nLABEL io.migrate-tui.asset="{LABELS[kind]}"\n', encoding="utf-8")
        result = build(dockerfile, context, tag=tag, output=output, architecture=architecture)
    return result, copied


def run(args: argparse.Namespace) -> int:
    from migrate_tui.oci.build import BuildError
    from migrate_tui.oci.registry import RegistryError, push_layout

    kind = "certs" if args.certs is not None else "tzdata"
    given = args.certs if kind == "certs" else args.tzdata
    source = None if given == "" else Path(given)
    if args.file is not None or args.context != Path(".") or args.image or args.build_arg or args.docker:
        print(
            f"migrate-tui build: error: --{kind} builds from a directory only (no context, -f, --image, --build-arg "
            f"or --docker); give the directory as --{kind}=DIR",
            file=sys.stderr,
        )
        return 2
    output = args.output or Path(".migrate-tui-cache/oci")
    insecure = tuple(args.insecure_registry)
    try:
        result, copied = build_asset(kind, source, tag=args.tag, output=output, architecture=args.platform.partition("/")[2] or "amd64")
        print(
            visible(
                f"built {args.tag} from {source or DEFAULT_DIRS[kind]}: {result.descriptor.digest} "
                f"({result.files} entries; {copied.links_kept} links kept, {copied.links_resolved} resolved into files) "
                f"in oci:{output}:{args.tag}"
            )
        )
        if kind == "certs" and not (Path(source or DEFAULT_DIRS[kind]) / "ca-certificates.crt").exists():
            print("migrate-tui build: warning: no ca-certificates.crt in the tree; Go and SSL_CERT_FILE look for it", file=sys.stderr)
        if args.push:
            digest = push_layout(result.layout, args.tag, args.tag, insecure=insecure)
            print(visible(f"pushed {args.tag}@{digest}"))
    except (AssetTreeError, BuildError, RegistryError, OSError) as exc:
        print(visible(f"migrate-tui build: error: {exc}"), file=sys.stderr)  # (names from the build context)
        return 2
    return 0
