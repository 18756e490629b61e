"""``migrate-tui links [PATH]``: print which Dockerfile builds which image, and why.

The same index the rules use (``analysis.links.index``), so a wrong or missing link can be seen and fixed
(``[tool.migrate-tui.images]`` wins over everything else).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from migrate_tui.render.formats.terminal import visible

if TYPE_CHECKING:
    from migrate_tui.analysis.links.index import Link
    from migrate_tui.commands import CommonOptions, Subparsers
    from migrate_tui.pipeline.engine import Engine


def add_parser(subparsers: Subparsers, common: CommonOptions) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("links", help="show which Dockerfile builds which image (skaffold, compose, Makefiles, CI, kustomize…)")
    parser.add_argument("path", nargs="?", type=Path, default=Path("."))
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--image", help="resolve one image reference (as a manifest writes it)")
    parser.add_argument("--refresh", action="store_true", help="ignore the cache in .migrate-tui-cache/")
    common(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from migrate_tui.commands import ExitCode
    from migrate_tui.analysis.links.index import build_link_index

    engine: Engine = args.make_engine(args, [args.path])  # cli.make_engine
    index = build_link_index(engine.root, engine.config, use_cache=True) if not args.refresh else None
    if index is None:
        index = build_link_index(engine.root, engine.config, use_cache=False)
        # write the fresh result for the next run
        build_link_index(engine.root, engine.config, use_cache=True)
    if args.image:
        link = index.build_for(args.image)  # a Jib or ko build says so instead of "nothing builds it"
        if args.format == "json":
            print(json.dumps({"image": args.image, "link": _as_json(link) if link else None}, indent=2))
        elif link is None:
            print(visible(f"{args.image}: no Dockerfile in this repository builds it"), file=sys.stderr)
        else:
            print(visible(f"{args.image} -> {link.describe()}"))
        return ExitCode.CLEAN if link else ExitCode.FINDINGS
    if args.format == "json":
        payload = {
            "root": str(engine.root),
            "links": [_as_json(l) for l in index.links],
            "aliases": [{"name": n, "new": new, "origin": o} for n, new, o in index.aliases],
        }
        print(json.dumps(payload, indent=2))
        return ExitCode.CLEAN
    if not index.links:
        print("no image → Dockerfile links found (add [tool.migrate-tui.images] to declare them)")
        return ExitCode.CLEAN
    # image names and paths come from the scanned files: every line is escaped for the terminal
    width = max(len(visible(l.image)) for l in index.links)
    for link in index.links:
        print(f"{visible(link.image):<{width}}  {visible(link.describe())}")
    for name, new, origin in index.aliases:
        print(f"{visible(name):<{width}}  {visible(f'is deployed as {new} (kustomize, {origin})')}")
    return ExitCode.CLEAN


class _LinkJson(TypedDict):
    """One link in ``links --format json``."""

    image: str
    dockerfile: str
    context: str
    source: str
    origin: str
    target: str | None
    builder: str | None


def _as_json(link: Link) -> _LinkJson:
    return {
        "image": link.image,
        "dockerfile": link.dockerfile,
        "context": link.context,
        "source": link.source,
        "origin": link.origin,
        "target": link.target,
        "builder": link.builder or None,
    }
