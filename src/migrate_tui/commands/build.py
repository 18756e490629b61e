"""``migrate-tui build``: build a FROM-scratch asset image without a daemon, optionally push it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from migrate_tui.render.formats.terminal import visible

if TYPE_CHECKING:
    from migrate_tui.commands import CommonOptions, Subparsers
    from migrate_tui.oci.stream import Limits
    from migrate_tui.oci.tree import Tree


class TreeSource(Protocol):
    """image reference[, paths whose file bodies are needed] -> its tree (``image_sources``)."""

    def __call__(self, ref: str, keep: tuple[str, ...] | None = None, /) -> Tree: ...


def add_parser(subparsers: Subparsers, common: CommonOptions) -> None:
    parser = subparsers.add_parser("build", help="build a FROM-scratch asset image without a Docker daemon")
    parser.add_argument("context", nargs="?", type=Path, default=Path("."), help="build context (default: .)")
    parser.add_argument("-f", "--file", type=Path, help="Dockerfile (default: CONTEXT/Dockerfile)")
    parser.add_argument("-t", "--tag", required=True, help="image reference, e.g. registry.example.com/web-site-assets:1.4.2")
    parser.add_argument("-o", "--output", type=Path, help="OCI layout directory to write (default: .migrate-tui-cache/oci)")
    parser.add_argument("--push", action="store_true", help="push to the registry named in --tag")
    parser.add_argument("--insecure-registry", action="append", default=[], metavar="HOST", help="plain HTTP for this registry")
    parser.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="REF=SOURCE",
        help="where a COPY --from image comes from: oci:DIR[:TAG] or docker-archive:FILE (default: its registry)",
    )
    parser.add_argument("--platform", default="linux/amd64")
    parser.add_argument("--docker", action="store_true", help="build with a Docker daemon through the docker SDK (any Dockerfile)")
    assets = parser.add_mutually_exclusive_group()  # DF002 compose mode's image volumes (commands/build_base.py)
    assets.add_argument(
        "--certs",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="build the CA-certificates image from DIR (default: /etc/ssl/certs), links resolved",
    )
    assets.add_argument(
        "--tzdata",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="build the time-zone image from DIR (default: /usr/share/zoneinfo), links resolved",
    )
    parser.add_argument(
        "--compression",
        choices=("gzip", "zstd"),
        default="gzip",
        help="layer compression (default: gzip; zstd needs the zstandard package and containerd >= 1.5 to pull)",
    )
    parser.add_argument(
        "--compression-level",
        type=int,
        metavar="N",
        help="gzip 1-9 (default 1, as gzip -1) or zstd 1-22 (default 3); the same level gives the same digest",
    )
    add_limit_options(parser, copy=True)


def add_limit_options(parser: argparse.ArgumentParser, *, copy: bool = False) -> None:
    """Bounds on what an image's layers may expand to (a decompression bomb stops here)."""
    from migrate_tui.oci.stream import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, human_size

    if copy:
        parser.add_argument(
            "--max-copy-size",
            default=human_size(DEFAULT_MAX_BYTES).replace(" ", ""),
            metavar="SIZE",
            help="refuse a COPY --from whose files pass SIZE (they are spooled to a temporary file "
            "beside the output, never held in memory; default: %(default)s)",
        )
    parser.add_argument(
        "--max-image-size",
        default=human_size(DEFAULT_MAX_BYTES).replace(" ", ""),
        metavar="SIZE",
        help="refuse an image whose layers expand past SIZE uncompressed (default: %(default)s)",
    )
    parser.add_argument(
        "--max-image-entries",
        type=int,
        default=DEFAULT_MAX_ENTRIES,
        metavar="N",
        help="refuse an image whose layers hold more than N tar entries (default: %(default)s)",
    )


def limits_of(args: argparse.Namespace) -> Limits:
    from migrate_tui.oci.stream import Limits, parse_size

    max_bytes = parse_size(str(getattr(args, "max_image_size", "20GiB")))
    max_entries = int(getattr(args, "max_image_entries", 1_000_000))
    max_kept = parse_size(str(getattr(args, "max_copy_size", "2GiB")))
    if min(max_bytes, max_entries, max_kept) <= 0:
        raise ValueError("--max-image-size, --max-image-entries and --max-copy-size must be positive")
    return Limits(max_bytes=max_bytes, max_entries=max_entries, max_kept_bytes=max_kept)


def image_sources(
    pairs: list[str],
    insecure: tuple[str, ...],
    platform: str,
    *,
    limits: Limits | None = None,
    keep_data: bool = True,
    spool_dir: Path | None = None,
) -> TreeSource:
    """A function (image reference[, paths whose file bodies are needed]) -> tree, honouring REF=SOURCE overrides.
    With ``spool_dir``, the bodies a tree keeps are spooled to an unlinked file there, not held in memory."""
    from migrate_tui.oci.source import open_tree
    from migrate_tui.oci.tree import Spool

    overrides: dict[str, str] = {}
    for pair in pairs:
        ref, sep, source = pair.partition("=")
        if not sep:
            raise ValueError(f"--image {pair}: use REF=oci:DIR or REF=docker-archive:FILE")
        overrides[ref] = source
    cache: dict[tuple[str, tuple[str, ...] | None], Tree] = {}

    def load(ref: str, keep: tuple[str, ...] | None = None, /) -> Tree:
        if (ref, keep) not in cache:
            wanted: bool | Callable[[str], bool] = (
                keep_data if keep is None else (lambda path: any(not p or path == p or path.startswith(p + "/") for p in keep))
            )
            spool = Spool(spool_dir) if spool_dir is not None else None
            cache[ref, keep] = open_tree(
                overrides.get(ref, ref), platform=platform, insecure=insecure, limits=limits, keep_data=wanted, spool=spool
            )
        return cache[ref, keep]

    return load


def run(args: argparse.Namespace) -> int:
    from migrate_tui.oci.build import BuildError, build
    from migrate_tui.oci.layout import LayoutError
    from migrate_tui.oci.registry import RegistryError, push_layout
    from migrate_tui.oci.source import SourceError

    if getattr(args, "certs", None) is not None or getattr(args, "tzdata", None) is not None:
        from migrate_tui.commands.build_base import run as run_asset

        return run_asset(args)
    dockerfile = args.file or args.context / "Dockerfile"
    if args.docker:
        return _docker_build(args, dockerfile)
    output = args.output or Path(".migrate-tui-cache/oci")
    build_args = dict(a.partition("=")[::2] for a in args.build_arg)
    insecure = tuple(args.insecure_registry)
    try:
        if args.compression == "zstd":
            _need_zstandard()
        # COPY --from bodies are spooled beside the output (the disk it goes to, not a tmpfs /tmp)
        spool_dir = next(p for p in (output.absolute(), *output.absolute().parents) if p.is_dir())
        loader = image_sources(args.image, insecure, args.platform, limits=limits_of(args), spool_dir=spool_dir)
        result = build(
            dockerfile,
            args.context,
            tag=args.tag,
            output=output,
            build_args=build_args,
            open_tree=loader,
            architecture=args.platform.partition("/")[2] or "amd64",
            compression=args.compression,
            level=args.compression_level,
        )
        print(
            visible(
                f"built {args.tag}: {result.descriptor.digest} ({result.layers} layers, {result.files} entries) in oci:{output}:{args.tag}"
            )
        )
        if args.push:
            digest = push_layout(result.layout, args.tag, args.tag, insecure=insecure)
            print(visible(f"pushed {args.tag}@{digest}"))
    except (BuildError, LayoutError, RegistryError, SourceError, ValueError, OSError) as exc:
        print(visible(f"migrate-tui build: error: {exc}"), file=sys.stderr)  # (names from the build context)
        return 2
    return 0


def _need_zstandard() -> None:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        raise ValueError("--compression zstd needs the zstandard package (pip install 'migrate-tui[zstd]')") from None


def _docker_build(args: argparse.Namespace, dockerfile: Path) -> int:
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        print("migrate-tui build: error: the docker package is not installed", file=sys.stderr)
        return 2
    try:
        client = docker.from_env()
        client.ping()
        relative = os.path.relpath(dockerfile.resolve(), args.context.resolve())  # the SDK wants it inside the context
        image, _ = client.images.build(path=str(args.context), dockerfile=relative, tag=args.tag, rm=True)
        print(visible(f"built {args.tag}: {image.id}"))
        if args.push:
            client.images.push(args.tag)
            print(visible(f"pushed {args.tag}"))
    except DockerException as exc:
        print(
            visible(f"migrate-tui build: error: no usable Docker daemon ({exc}); without --docker, FROM scratch images build without one"),
            file=sys.stderr,
        )
        return 2
    return 0
