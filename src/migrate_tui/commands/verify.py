"""``migrate-tui verify BEFORE AFTER``: prove each reader sees the same files after the migration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from migrate_tui.commands import CommonOptions, Subparsers

from migrate_tui.render.formats.terminal import visible


def add_parser(subparsers: Subparsers, common: CommonOptions) -> None:
    from migrate_tui.commands.build import add_limit_options

    parser = subparsers.add_parser("verify", help="prove readers see the same bytes through the image volume as through the emptyDir")
    parser.add_argument("before", type=Path, help="manifest with the init-container copy")
    parser.add_argument("after", type=Path, help="the migrated manifest")
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="REF=SOURCE",
        help="where an image comes from: oci:DIR[:TAG] or docker-archive:FILE (default: its registry)",
    )
    parser.add_argument("--insecure-registry", action="append", default=[], metavar="HOST")
    parser.add_argument("--platform", default="linux/amd64")
    add_limit_options(parser)
    parser.add_argument("--allow-extra", action="store_true", help="files that appear only after (dot-files, siblings) are not a failure")
    parser.add_argument(
        "--mounted",
        action="append",
        default=[],
        metavar="DIR=IMAGE",
        help="DF002 compose mode: BEFORE and AFTER are the old and the new app image; prove DIR of BEFORE "
        "shows the same files as IMAGE mounted at DIR over AFTER (commands/verify_mounted.py)",
    )


def _documents(path: Path) -> list[dict[str, Any]]:
    from migrate_tui.parse.yamldoc import YamlDocument, load_documents

    text = path.read_text(encoding="utf-8")
    return [d.data for d in load_documents(text) if isinstance(d, YamlDocument) and isinstance(d.data, dict)]


def _config_opener(pairs: list[str], insecure: tuple[str, ...], platform: str) -> Callable[[str], dict[str, Any]]:
    """image reference -> its OCI config, from the same sources as its layers (``--image REF=SOURCE``,
    else its registry): what an init container without a command runs (Entrypoint/Cmd/Env/WorkingDir)."""
    from migrate_tui.oci.source import open_image

    overrides = dict(pair.partition("=")[::2] for pair in pairs)

    def open_config(reference: str) -> dict[str, Any]:
        return open_image(overrides.get(reference, reference), platform=platform, insecure=insecure).config

    return open_config


def run(args: argparse.Namespace) -> int:
    if getattr(args, "mounted", None):
        from migrate_tui.commands.verify_mounted import run as run_mounted

        return run_mounted(args)
    from migrate_tui.oci.source import SourceError
    from migrate_tui.proof.verify import image_loader, verify_documents
    from migrate_tui.commands.build import image_sources, limits_of

    try:
        before_docs = _documents(args.before)
        after_docs = _documents(args.after)
    except (OSError, UnicodeDecodeError) as exc:
        print(visible(f"migrate-tui verify: error: {exc}"), file=sys.stderr)
        return 2
    try:
        # verify compares content digests: file bodies are hashed while streamed, never kept
        trees = image_sources(args.image, tuple(args.insecure_registry), args.platform, limits=limits_of(args), keep_data=False)
        local = {pair.partition("=")[0] for pair in args.image}
        loader = image_loader(
            trees, _config_opener(args.image, tuple(args.insecure_registry), args.platform), (SourceError,), local.__contains__
        )
    except ValueError as exc:
        print(visible(f"migrate-tui verify: error: {exc}"), file=sys.stderr)
        return 2
    failures = 0
    checked = 0
    for index, before in enumerate(before_docs):
        after = after_docs[index] if index < len(after_docs) else {}
        try:
            results = verify_documents(before, after, loader)
        except SourceError as exc:
            print(visible(f"migrate-tui verify: error: {exc}"), file=sys.stderr)
            return 2
        for r in results:
            checked += 1
            where = f"{r.owner} container '{r.container}' at {r.mount_path}"
            c = r.comparison
            if r.problem or c is None:  # verify_documents gives a problem whenever it has no comparison
                failures += 1
                print(visible(f"FAIL {where}: {r.problem}"))
                continue
            bad = c.missing or c.different or (c.extra and not args.allow_extra)
            print(
                visible(
                    f"{'FAIL' if bad else 'OK  '} {where}: {len(c.missing)} missing, {len(c.different)} different, "
                    f"{len(c.extra)} extra, {len(c.mode_only)} with other mode/owner"
                )
            )
            for label, paths in (("missing", c.missing), ("different", c.different), ("extra", c.extra), ("mode/owner", c.mode_only)):
                for p in paths[:20]:
                    print(visible(f"    {label}: /{p}"))
            failures += bool(bad)
    if not checked:
        if before_docs != after_docs:  # e.g. a copy that reads a mounted volume: no image proves that
            print("cannot verify: BEFORE has no init-container copy from an image that verify can model, but AFTER differs")
            from migrate_tui.proof.verify import config_defaults, unverifiable

            for doc in before_docs:
                try:
                    reasons = unverifiable(doc, config_defaults(loader))
                except SourceError as exc:
                    reasons = [str(exc)]
                for reason in reasons:
                    print(f"    {visible(reason)}")
            return 1
        print("nothing to verify: no init-container copy in BEFORE")
        return 0
    return 1 if failures else 0
