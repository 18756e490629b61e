"""``check --patch-dir DIR``: one ``git apply``-able patch and one Markdown page per change-set.

Nothing in the scanned tree is touched. ``DIR`` must be new or empty (old patches are never
mixed with new ones). Patches are numbered in the order ``check --fix`` applies them; one made
after another on the same file says so, and applied in order they give exactly what
``check --fix`` writes in its first round.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from migrate_tui.commands import write_atomically

if TYPE_CHECKING:
    from migrate_tui.pipeline.engine import Engine, ScanResult


def write_patch_dir(args: argparse.Namespace, engine: Engine, result: ScanResult) -> int:
    from migrate_tui.commands import ExitCode, UsageError
    from migrate_tui.render.patches import HeldBack, plan_patches
    from migrate_tui.render.formats import display_path
    from migrate_tui.render.formats.terminal import visible

    directory: Path = args.patch_dir
    if directory.is_symlink():
        raise UsageError(f"{directory}: is a symbolic link; give a real directory")
    if directory.exists():
        if not directory.is_dir():
            raise UsageError(f"{directory}: not a directory")
        if any(directory.iterdir()):
            raise UsageError(f"{directory}: not empty (patches are never mixed with an earlier run's)")
    else:
        directory.mkdir(parents=True)

    plan = plan_patches(result.findings, lambda path: engine.source_of(result, path), engine.config.target, unsafe=args.unsafe_fixes)
    index = ["# Patches", "", "Apply in order from the repository root: `git apply DIR/NN-name.patch`.", ""]
    for patch in plan.patches:
        write_atomically(directory / f"{patch.name}.patch", patch.data, 0o644)
        write_atomically(directory / f"{patch.name}.md", patch.summary.encode("utf-8"), 0o644)
        first = patch.findings[0]
        index.append(
            f"- `{patch.name}.patch`: {first.rule} {first.fix.applicability.value if first.fix else ''} — "
            f"{', '.join(patch.paths)}" + (f" (after {', '.join(patch.after)})" if patch.after else "")
        )
    held = [(f, kind, reason) for f, kind, reason in plan.held if kind is not HeldBack.UNSAFE or args.unsafe_fixes]
    if held:
        index += ["", "## Not in this set", ""]
        for finding, kind, reason in held:
            index.append(visible(f"- {finding.rule} at {finding.location.path}:{finding.location.line}: {reason} ({kind.value})"))
    write_atomically(directory / "README.md", ("\n".join(index) + "\n").encode("utf-8"), 0o644)
    for finding, kind, reason in held:
        print(
            visible(f"{display_path(result.root, finding.location.path)}:{finding.location.line}: {finding.rule} no patch: {reason}"),
            file=sys.stderr,
        )
    n = len(plan.patches)
    print(f"Wrote {n} patch{'es' if n != 1 else ''} to {directory}; no other file was touched.", file=sys.stderr)
    if args.exit_zero:
        return ExitCode.CLEAN
    return ExitCode.FINDINGS if (plan.patches or result.findings) else ExitCode.CLEAN
