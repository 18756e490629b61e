"""``migrate-tui report [PATH] --format md|html|json``: what migrating this repository saves.

Workloads migratable now / under an assumption / manual (with the reasons), disk and start-up
copy time saved, images that can become ``FROM scratch``. Figures are labelled: measured, from
the published base-image table (estimates with source and date), or unknown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrate_tui.commands import CommonOptions, Subparsers
    from migrate_tui.pipeline.engine import Engine


def add_parser(subparsers: Subparsers, common: CommonOptions) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("report", help="savings report: workloads migratable now, disk and start-up time saved (md, html, json)")
    parser.add_argument("path", nargs="?", type=Path, default=Path("."))
    parser.add_argument("--format", choices=("md", "html", "json"), default="md")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report to FILE (default: standard output)")
    parser.add_argument(
        "--copy-mbps",
        type=float,
        default=None,
        metavar="MB/S",
        help="assumed init-container copy throughput for 'start-up time avoided' (default: 200)",
    )
    parser.add_argument("--no-cache", action="store_true", help="don't reuse per-file results")
    common(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from migrate_tui.commands import ExitCode, UsageError
    from migrate_tui.render.report import build_report, render_html, render_json, render_markdown
    from migrate_tui.render.report.model import DEFAULT_COPY_MBPS

    mbps = DEFAULT_COPY_MBPS if args.copy_mbps is None else args.copy_mbps
    if not mbps > 0:
        raise UsageError("--copy-mbps must be a positive number")
    engine: Engine = args.make_engine(args, [args.path])  # cli.make_engine
    result = engine.scan()
    report = build_report(
        result.findings,
        engine.root,
        files_scanned=result.files_scanned,
        diagnostics=len({d.path for d in result.diagnostics}),
        sources=result.sources,
        copy_mbps=mbps,
    )
    text = {"md": render_markdown, "html": render_html, "json": render_json}[args.format](report)
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.CLEAN
    _write_report(args.output, text)
    print(f"wrote {args.output}", file=sys.stderr)
    return ExitCode.CLEAN


def _write_report(path: Path, text: str) -> None:
    from migrate_tui.commands import UsageError
    from migrate_tui.commands import umask, write_atomically

    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"{path}: the directory does not exist")
    write_atomically(path, text.encode("utf-8"), 0o666 & ~umask())
