"""Command line: ``migrate-tui [PATH]`` (TUI), ``check``, ``rule``, ``rules`` and friends.

Output formats and exit codes are an API: 0 clean, 1 findings or files changed, 2 usage or
internal error (also when a rule crashed on a file: that file was not really checked). Any
unexpected exception is one line on stderr and exit 2; ``MIGRATE_TUI_DEBUG=1`` adds the
traceback. Heavy modules (textual, kubernetes, docker) load only when a command needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Sequence

from migrate_tui import __version__
from migrate_tui.commands import ExitCode, UsageError

if TYPE_CHECKING:
    from types import ModuleType

    from migrate_tui.model.findings import Finding
    from migrate_tui.pipeline.baseline import Baseline
    from migrate_tui.pipeline.engine import Engine, FileScanned, ScanResult
    from migrate_tui.platform.target import Target

SUBCOMMANDS = ("check", "tui", "rule", "rules", "links", "policy", "build", "verify", "report")
# Command families that live in their own module: each has add_parser(subparsers) and run(args) -> int.
COMMAND_MODULES = {
    "links": "migrate_tui.commands.links",
    "policy": "migrate_tui.commands.policy",
    "build": "migrate_tui.commands.build",
    "verify": "migrate_tui.commands.verify",
    "report": "migrate_tui.commands.report",
}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="config file (default: .migrate-tui.toml or [tool.migrate-tui] in pyproject.toml)")
    parser.add_argument(
        "--target",
        help="platform to judge fixes against, e.g. k8s=1.36,containerd=2.2[,crio=1.33|runtime=cri-dockerd][,gate=on|off][,arch=amd64+arm64]",
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "zero-rebuild", "scratch"),
        help="zero-rebuild: reference the init image as is; scratch: build FROM-scratch asset images",
    )
    parser.add_argument(
        "--select", action="append", default=None, metavar="CODES", help="only these rules (comma-separated codes or prefixes)"
    )
    parser.add_argument("--ignore", action="append", default=None, metavar="CODES", help="skip these rules")
    parser.add_argument(
        "--exclude", action="append", default=None, metavar="GLOB", help="skip paths (gitignore syntax), on top of .gitignore"
    )
    parser.add_argument(
        "--cluster",
        nargs="?",
        const="",
        default=None,
        metavar="CONTEXT",
        help="read the target from a live cluster (current kubeconfig context, or CONTEXT)",
    )
    parser.add_argument("--namespace", default=None, help="with --cluster: namespace for the server-side dry-run probe")
    parser.add_argument(
        "--oci-layout",
        action="append",
        default=None,
        metavar="DIR|IMAGE=DIR",
        help="IV003: resolve digests and platforms of image volumes from an OCI image layout",
    )
    parser.add_argument(
        "--resolve-digests", action="store_true", default=None, help="IV003: ask the images' registries for digests (network)"
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only`` (a subcommand), the other command modules are not
    imported (``check`` in a pre-commit hook needs none of build/verify/report)."""
    parser = argparse.ArgumentParser(
        prog="migrate-tui",
        description="Move Kubernetes workloads off init-container copies and fat base images onto image volumes.",
    )
    parser.add_argument("--version", action="version", version=f"migrate-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="report findings; --diff shows fixes, --fix writes them")
    check.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    check.add_argument("--format", choices=("text", "json", "sarif", "github", "gitlab"), default="text")
    check.add_argument("--diff", action="store_true", help="print a unified diff of every fix; write nothing")
    check.add_argument("--fix", action="store_true", help="write the safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix/--diff: include fixes that rest on a stated assumption")
    check.add_argument(
        "--patch-dir",
        type=Path,
        metavar="DIR",
        help="write one git-apply-able patch and a Markdown summary per change-set into DIR; touch no other file",
    )
    check.add_argument(
        "--prove",
        action="store_true",
        help="run verify on each image-volume fix with the images given by --image / oci-layouts; a proof can only lower a fix's applicability",
    )
    check.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="REF=SOURCE",
        help="with --prove: where an image comes from (oci:DIR[:TAG], docker-archive:FILE, or REF for its registry)",
    )
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument("--baseline", type=Path, metavar="FILE", help="report only findings not recorded in FILE")
    check.add_argument("--write-baseline", action="store_true", help="with --baseline FILE: record today's findings there and exit 0")
    check.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="worker processes for the scan (default: one per CPU on big trees; 1: no pool)",
    )
    check.add_argument("--no-cache", action="store_true", help="don't reuse or store per-file results (~/.cache/migrate-tui)")
    _common(check)

    tui = sub.add_parser("tui", help="review and apply fixes interactively (default command)")
    tui.add_argument("path", nargs="?", type=Path, default=Path("."))
    # Re-scans after `r`, `m` and a write reuse per-file results of unchanged files.
    tui.add_argument("--no-cache", action="store_true", help="don't reuse or store per-file results (~/.cache/migrate-tui)")
    tui.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="REF=SOURCE",
        help="for `p` (prove): where an image comes from (oci:DIR[:TAG], docker-archive:FILE, or REF for its registry)",
    )
    _common(tui)

    rule = sub.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", nargs="?", help="e.g. IV001")
    rule.add_argument("--all", action="store_true", help="every rule")

    sub.add_parser("rules", help="list the rules")
    for name, module_name in COMMAND_MODULES.items():
        if only is None or only == name:
            _command_module(module_name).add_parser(sub, _common)
    return parser


def _command_module(module_name: str) -> ModuleType:
    import importlib

    return importlib.import_module(module_name)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in SUBCOMMANDS and args_list[0] not in ("-h", "--help", "--version")):
        args_list = ["tui", *args_list]
    parser = build_parser(args_list[0] if args_list[0] in SUBCOMMANDS else None)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0) and ExitCode.ERROR
    # The subcommands that scan (links, report) get the engine factory from here: commands/
    # sits below cli in the layers and never imports it.
    args.make_engine = make_engine
    try:
        handler = _HANDLERS.get(args.command)
        if handler is None:
            handler = _command_module(COMMAND_MODULES[args.command]).run
        return int(handler(args))
    except UsageError as exc:
        print(f"migrate-tui: error: {_visible(exc)}", file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        print("migrate-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return ExitCode.CLEAN
    except Exception as exc:  # noqa: BLE001 - a bug: one line, not a traceback
        return _internal_error(exc)


def _visible(text: object) -> str:
    from migrate_tui.render.formats.terminal import visible

    return visible(text)


def _internal_error(exc: BaseException) -> int:
    from migrate_tui.model.findings import exception_summary

    if os.environ.get("MIGRATE_TUI_DEBUG"):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    print(
        f"migrate-tui: internal error: {_visible(exception_summary(exc))} "
        "(a bug in migrate-tui; please report it; MIGRATE_TUI_DEBUG=1 prints the traceback)",
        file=sys.stderr,
    )
    return ExitCode.ERROR


def _split_codes(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(c.strip().upper() for v in values for c in v.split(",") if c.strip())


def make_engine(args: argparse.Namespace, paths: list[Path]) -> Engine:
    from migrate_tui.repo.config import ConfigError, load_config, with_overrides
    from migrate_tui.repo.discover import find_root
    from migrate_tui.pipeline.engine import Engine
    from migrate_tui.platform.target import TargetError, parse_target

    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{path}: no such file or directory")
    anchor = paths[0] if paths else Path(".")
    root = find_root(anchor)
    try:
        config = load_config(root, args.config)
        target = parse_target(args.target, base=config.target) if args.target else None
    except (ConfigError, TargetError) as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "cluster", None) is not None:
        target = _cluster_target(args, target or config.target)
        for note in target.notes:
            print(f"note: {_visible(note)}", file=sys.stderr)
    select = _split_codes(args.select)
    ignore = _split_codes(args.ignore)
    config = with_overrides(
        config,
        target=target,
        mode=args.mode,
        select=select,
        ignore=(config.ignore + ignore) if ignore else None,
        exclude=(config.exclude + tuple(args.exclude)) if args.exclude else None,
        oci_layouts=(config.oci_layouts + tuple(args.oci_layout)) if getattr(args, "oci_layout", None) else None,
        resolve_digests=getattr(args, "resolve_digests", None),
    )
    from migrate_tui.rules import rule_codes

    unknown = [c for c in (select or ()) + (ignore or ()) if c != "ALL" and not any(code.startswith(c) for code in rule_codes())]
    if unknown:
        raise UsageError(f"unknown rule code(s): {', '.join(unknown)} (see `migrate-tui rules`)")
    scan_paths = [p for p in paths] if paths and not (len(paths) == 1 and paths[0].resolve() == root) else None
    return Engine(
        root,
        config,
        paths=scan_paths,
        jobs=getattr(args, "jobs", 0) or None,
        cache=not getattr(args, "no_cache", True),
        on_progress=_progress_bar(args),
    )


def _progress_bar(args: argparse.Namespace) -> Callable[[FileScanned], None] | None:
    """A one-line bar on stderr for long batch runs: only on a terminal, only after 0.5 s."""
    import time

    stream = sys.stderr
    if args.command != "check" or getattr(args, "quiet", False) or not stream.isatty():
        return None
    started = time.monotonic()
    shown = [0.0]

    def hook(event: FileScanned) -> None:
        now = time.monotonic()
        if event.index == event.total:
            if shown[0]:
                stream.write("\r\033[K")
                stream.flush()
                shown[0] = 0.0
            return
        if now - started < 0.5 or now - shown[0] < 0.1:
            return
        shown[0] = now
        width = 30
        done = width * event.index // max(event.total, 1)
        stream.write(f"\r[{'#' * done}{'.' * (width - done)}] {event.index}/{event.total} files")
        stream.flush()

    return hook


def _cluster_target(args: argparse.Namespace, base: Target) -> Target:
    from migrate_tui.platform.cluster import ClusterError, target_from_cluster

    try:
        return target_from_cluster(args.cluster or None, namespace=args.namespace, base=base)
    except ClusterError as exc:
        raise UsageError(str(exc)) from None


def cmd_check(args: argparse.Namespace) -> int:
    from migrate_tui.render.diff import combined_diffs
    from migrate_tui.model.findings import Applicability
    from migrate_tui.render.formats import crashed, diagnostic_line, display_path, plural, render, render_diffs

    engine = make_engine(args, list(args.paths))
    noted = None
    if args.format == "json" and not (args.fix or args.diff or args.prove or args.patch_dir is not None):
        from migrate_tui.render.formats import DiffMemo

        noted = DiffMemo(engine.on_progress)  # the output's diffs, while the workers scan
        engine.on_progress = noted.note
    result = engine.scan()
    baseline = _apply_baseline(args, result)
    if baseline == "written":
        return ExitCode.ERROR if crashed(result) else ExitCode.CLEAN

    def read(path: str) -> str | None:
        source = engine.source_of(result, path)
        return source.text if source is not None else None

    if args.prove:
        _prove(args, engine, result, read)

    if args.patch_dir is not None:
        return _write_patch_dir(args, engine, result)

    if args.diff:
        from migrate_tui.write.writer import select_fixes

        allowed = {Applicability.SAFE} | ({Applicability.UNSAFE} if args.unsafe_fixes else set())
        fixes = [f for f in result.findings if f.fix and f.fix.applicability in allowed]
        chosen, _ = select_fixes(fixes, unsafe=args.unsafe_fixes)
        diffs = combined_diffs([f.fix for f in chosen], read)  # type: ignore[misc]
        sys.stdout.write(render_diffs(diffs))
        if args.format != "text":
            sys.stdout.write(render(result, args.format, read=read))
        else:
            for d in result.diagnostics:
                print(diagnostic_line(result.root, d), file=sys.stderr)
            print(f"Would fix {plural(len(fixes), 'finding')} in {plural(len(diffs), 'file')}; nothing written.", file=sys.stderr)
        if crashed(result):
            return ExitCode.ERROR
        return ExitCode.FINDINGS if (diffs and not args.exit_zero) else ExitCode.CLEAN

    if args.fix:
        keep = (lambda f: f.key not in baseline.entries) if baseline is not None else None
        if args.prove:
            keep = _keep_proven(result, keep, unsafe=args.unsafe_fixes)
        report, after = engine.fix(unsafe=args.unsafe_fixes, keep=keep)
        if args.prove:  # what is left keeps its proof (the re-scan planned it afresh)
            proofs = {f.key: f for f in result.findings if "proof" in (f.data or {})}
            after.findings = [proofs.get(f.key, f) for f in after.findings]
        if baseline is not None and keep is not None:  # (keep is set whenever there is a baseline)
            after.findings = [f for f in after.findings if keep(f)]
        from migrate_tui.write.writer import WriteRefusal

        waits = {id(f) for f, kind in report.refused if kind is WriteRefusal.OVERLAPS}  # applied in a later round
        for finding, reason in report.skipped:
            if id(finding) in waits:
                continue
            print(
                _visible(f"{display_path(result.root, finding.location.path)}:{finding.location.line}: {finding.rule} not fixed: {reason}"),
                file=sys.stderr,
            )
        for d in report.diagnostics:
            print(diagnostic_line(result.root, d), file=sys.stderr)
        out = render(after, args.format, fixed=report.applied, read=read, quiet=args.quiet)
        sys.stdout.write(out)
        changed = bool(report.written)
        if args.format == "text" and changed and not args.quiet:
            print(f"Wrote {plural(len(report.written), 'file')}: {_visible(', '.join(report.written))}", file=sys.stderr)
        if crashed(result) or crashed(after):
            return ExitCode.ERROR
        if args.exit_zero:
            return ExitCode.CLEAN
        return ExitCode.FINDINGS if (changed or after.findings) else ExitCode.CLEAN

    sys.stdout.write(render(result, args.format, read=read, quiet=args.quiet, diffs=noted))
    if crashed(result):
        return ExitCode.ERROR
    if args.exit_zero:
        return ExitCode.CLEAN
    return ExitCode.FINDINGS if result.findings else ExitCode.CLEAN


def _prove(args: argparse.Namespace, engine: Engine, result: ScanResult, read: Callable[[str], str | None]) -> None:
    """Replace each IV001 finding by the one its proof judges (see ``proof.prove``)."""
    from migrate_tui.proof.prove import offline_loader, prove, sharpen

    try:
        load = offline_loader(list(args.image), tuple(engine.config.oci_layouts), root=engine.root)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    for index, finding in enumerate(result.findings):
        if finding.rule == "IV001" and finding.fix is not None:
            result.findings[index] = sharpen(finding, prove(finding, read, load))


def _keep_proven(result: ScanResult, keep: Callable[[Finding], bool] | None, *, unsafe: bool) -> Callable[[Finding], bool]:
    """For --fix after --prove: a change-set whose proof lowered it stays out of this write
    (the re-scans of --fix plan afresh, so the proof's verdict is carried by key)."""
    from migrate_tui.model.findings import Applicability

    allowed = {Applicability.SAFE} | ({Applicability.UNSAFE} if unsafe else set())
    lowered = {f.key for f in result.findings if f.fix is not None and f.fix.applicability not in allowed}
    lowered_edits = [f.fix.edits for f in result.findings if f.key in lowered and f.fix is not None]

    def keep_it(finding: Finding) -> bool:
        if keep is not None and not keep(finding):
            return False
        if finding.key in lowered:
            return False
        return not (finding.fix is not None and finding.fix.edits in lowered_edits)  # its DF twin too

    return keep_it


def _write_patch_dir(args: argparse.Namespace, engine: Engine, result: ScanResult) -> int:
    """``check --patch-dir DIR``: the change-sets of the first ``--fix`` round as numbered patches."""
    from migrate_tui.commands.patchdir import write_patch_dir

    return write_patch_dir(args, engine, result)


def _apply_baseline(args: argparse.Namespace, result: ScanResult) -> Baseline | Literal["written"] | None:
    """Drop baselined findings from ``result`` (and say so), or write the baseline."""
    if args.baseline is None:
        if args.write_baseline:
            raise UsageError("--write-baseline needs --baseline FILE")
        return None
    from migrate_tui.pipeline.baseline import BaselineError, load_baseline, write_baseline

    if args.write_baseline:
        count = write_baseline(args.baseline, result.findings)
        print(f"Recorded {count} finding{'s' if count != 1 else ''} in {args.baseline}", file=sys.stderr)
        return "written"
    try:
        baseline = load_baseline(args.baseline)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None
    fresh, known, stale = baseline.split(result.findings)
    result.findings = fresh
    if not args.quiet and (known or stale):
        print(f"{len(known)} finding{'s' if len(known) != 1 else ''} in the baseline not shown", file=sys.stderr)
        if stale:
            print(
                f"{len(stale)} baseline entr{'ies' if len(stale) != 1 else 'y'} no longer match anything (fixed or moved); "
                f"run `migrate-tui check --baseline {args.baseline} --write-baseline` to prune",
                file=sys.stderr,
            )
    return baseline


def cmd_rule(args: argparse.Namespace) -> int:
    from migrate_tui.rules import all_rules, get_rule

    if args.all:
        for _code, each in sorted(all_rules().items()):
            print(each.doc + "\n")
        return ExitCode.CLEAN
    if not args.code:
        raise UsageError("name a rule code (e.g. `migrate-tui rule IV001`) or pass --all")
    rule = get_rule(args.code)
    if rule is None:
        raise UsageError(f"unknown rule '{args.code}' (see `migrate-tui rules`)")
    print(rule.doc)
    return ExitCode.CLEAN


def cmd_rules(args: argparse.Namespace) -> int:
    from migrate_tui.rules import all_rules

    for code, rule in sorted(all_rules().items()):
        print(f"{code}  {rule.name:<34} {rule.summary}")
    return ExitCode.CLEAN


def cmd_tui(args: argparse.Namespace) -> int:
    engine = make_engine(args, [args.path])
    try:
        from migrate_tui.tui.app import run_app
    except ImportError as exc:  # pragma: no cover - textual is a hard dependency
        raise UsageError(f"the TUI needs textual: {exc}") from None
    images = tuple(getattr(args, "image", ()) or ())
    bad = [pair for pair in images if not all(pair.partition("="))]
    if bad:
        raise UsageError(f"--image {bad[0]}: use REF=oci:DIR[:TAG], REF=docker-archive:FILE or REF=REF (its registry)")
    if not sys.stdout.isatty() and not os.environ.get("MIGRATE_TUI_FORCE_TUI"):
        raise UsageError("the TUI needs a terminal; use `migrate-tui check` in scripts and CI")
    return run_app(engine.renewed, images=images)  # the factory: a fresh Engine like this one, per re-scan or mode


_HANDLERS = {"check": cmd_check, "rule": cmd_rule, "rules": cmd_rules, "tui": cmd_tui}


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
