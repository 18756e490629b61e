"""Cold ``check --format json`` of two versions of migrate-tui, side by side, runs interleaved.

    git archive OLD src | tar -x -C /tmp/old
    python benchmarks/compare.py --baseline-src /tmp/old/src [--sizes 10000,50000] [--repeat 5]

On a shared machine the load changes from minute to minute: two runs of scan.py a few minutes
apart compare the load as much as the code. Here each repetition runs grep, the baseline (its
``src`` first on PYTHONPATH, bytecode compiled like the current one's) and the current version
one after the other, and the medians of each are printed with the CPU seconds of the whole
process tree, the steadier figure. Not a test: it prints numbers, it asserts nothing.

"Cold" is an empty result cache with the repository's link cache kept, as in scan.py. The two
versions may keep different link caches (a format change rewrites it on every run of the other),
so each runs on its own copy of the tree (files, directories and their mtimes copied), and each
copy's link cache is built before the timed runs.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_repo import generated_tree  # noqa: E402
from scan import _compiled_env, _tool, run  # noqa: E402


def _median(runs: list[tuple[float, int, int, float]]) -> tuple[float, float]:
    walls = sorted(r[0] for r in runs)
    cpus = sorted(r[3] for r in runs)
    return walls[len(walls) // 2], cpus[len(cpus) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, required=True, help="the old version's src directory")
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "migrate-tui-bench")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    tool = _tool()
    env = _compiled_env()
    baseline_src = args.baseline_src.resolve()
    compileall.compile_dir(str(baseline_src / "migrate_tui"), quiet=1)
    old_env = dict(env, PYTHONPATH=str(baseline_src))
    check = [*tool, "check", "--format", "json"]
    print(f"cpus={os.cpu_count()} baseline={baseline_src} (medians of {args.repeat}, interleaved)")
    print(f"{'files':>7} {'grep s':>7} {'old s':>7} {'ratio':>6} {'old CPU':>8} {'new s':>7} {'ratio':>6} {'new CPU':>8} {'load':>5}")
    for size in (int(s) for s in args.sizes.split(",")):
        tree = generated_tree(args.workdir, size)
        old_tree = _copy_of(tree, tree.with_name(tree.name + "-baseline"))
        grep, old, new = [], [], []
        for _ in range(2):  # each version's link cache (the second run keeps the walk: see RACY_NS)
            for run_tree, run_env in ((old_tree, old_env), (tree, env)):
                run(check, run_tree, dict(run_env, MIGRATE_TUI_CACHE_DIR=tempfile.mkdtemp(prefix="mt-cache-")))
            time.sleep(2.1)
        for _ in range(args.repeat):
            grep.append(run(["grep", "-rlE", "initContainers|^FROM", "."], tree))
            for runs, run_env, run_tree in ((old, old_env, old_tree), (new, env, tree)):
                cache_dir = Path(tempfile.mkdtemp(prefix="mt-cache-"))  # cold: an empty result cache
                runs.append(run(check, run_tree, dict(run_env, MIGRATE_TUI_CACHE_DIR=str(cache_dir))))
                shutil.rmtree(cache_dir, ignore_errors=True)
                if runs[-1][2] not in (0, 1):
                    raise SystemExit(f"{' '.join(check)} exited with {runs[-1][2]} in {run_tree}")
        g, _ = _median(grep)
        (ow, oc), (nw, nc) = _median(old), _median(new)
        print(f"{size:>7} {g:>7.2f} {ow:>7.2f} {ow / g:>5.1f}x {oc:>8.2f} {nw:>7.2f} {nw / g:>5.1f}x {nc:>8.2f} {os.getloadavg()[0]:>5.1f}")
    return 0


def _copy_of(tree: Path, copy: Path) -> Path:
    """``tree`` copied once to ``copy`` (without its link cache), mtimes kept."""
    if not copy.exists():
        partial = copy.with_name(copy.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(tree, partial, symlinks=True, ignore=shutil.ignore_patterns(".migrate-tui-cache"))
        os.rename(partial, copy)  # (whole or not at all: an interrupted copy is made again)
    return copy


if __name__ == "__main__":
    raise SystemExit(main())
