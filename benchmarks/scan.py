"""Time ``migrate-tui check --format json`` against ``grep -rlE 'initContainers|^FROM' .``.

    python benchmarks/scan.py [--sizes 1000,10000,50000] [--workdir /tmp/migrate-tui-bench] [--jobs N]

grep over the same tree is the I/O floor; the ratio is what to watch (goal: <= 3x at 10k files
on 2 cores, linear in the number of files, peak RSS flat). Each size is measured fresh (no cache at
all, as a CI job's clone), cold (empty result cache; the repository's link cache kept, with the
list of files its walk found) and warm (second run). Trees are generated once by gen_repo.py and reused.
Not a test: it prints numbers, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_repo import generated_tree  # noqa: E402


def _tool() -> list[str]:
    exe = Path(sys.executable).with_name("migrate-tui")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "migrate_tui"]


def _compiled_env() -> dict[str, str]:
    """The environment for the tool's runs, with its bytecode compiled as an installed package
    has it: under PYTHONDONTWRITEBYTECODE (set on the project's machines) a development checkout
    compiled every module on every run, ~0.3 s that no user pays."""
    import compileall

    import migrate_tui

    compileall.compile_dir(str(Path(migrate_tui.__file__).parent), quiet=1)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS in MB of the process tree's largest process, exit code, CPU seconds
    (user + system, the pool's workers included): on a shared machine the steadier figure)."""
    timer = shutil.which("time") or "/usr/bin/time"
    started = time.perf_counter()
    if os.path.exists(timer):
        with tempfile.NamedTemporaryFile("r") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.run([timer, "-f", "%M %U %S", "-o", out.name, *cmd], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
            if proc.returncode not in (0, 1):
                err.seek(0)
                print(err.read()[-2000:], file=sys.stderr)
            seconds = time.perf_counter() - started
            text = out.read().strip().splitlines()
            fields = text[-1].split() if text else []
            rss = int(fields[0]) // 1024 if len(fields) == 3 and fields[0].isdigit() else -1
            cpu = float(fields[1]) + float(fields[2]) if len(fields) == 3 else -1.0
    else:  # pragma: no cover - no GNU time
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        rss, cpu = -1, -1.0
    return seconds, rss, proc.returncode, cpu


def median_of(n: int, cmd: list[str], cwd: Path, env=None, before=None) -> tuple[float, int, int, float]:
    runs = []
    for _ in range(n):
        if before:
            before()
        runs.append(run(cmd, cwd, env))
        if runs[-1][2] not in (0, 1):  # 2: usage or internal error; a crash must not look fast
            raise SystemExit(f"{' '.join(cmd)} exited with {runs[-1][2]} in {cwd}")
    runs.sort(key=lambda r: r[0])
    return runs[len(runs) // 2]  # the median: the machine may be shared, best-of flatters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "migrate-tui-bench")
    parser.add_argument("--jobs", type=int, default=None, help="pass --jobs N to check (when the CLI has it)")
    parser.add_argument("--repeat", type=int, default=3, help="median of N for each timing")
    parser.add_argument("--single", action="store_true", help="also time `check ONE_FILE` (pre-commit) and --version")
    parser.add_argument("--markdown", action="store_true", help="also print the README's performance table")
    args = parser.parse_args(argv)
    rows: list[str] = []

    tool = _tool()
    base_env = _compiled_env()
    extra = ["--jobs", str(args.jobs)] if args.jobs else []
    print(f"cpus={os.cpu_count()} tool={' '.join(tool)} {' '.join(extra)}")
    print(
        f"{'files':>7} {'grep s':>7} {'fresh s':>7} {'ratio':>6} {'cold s':>7} {'ratio':>6} {'warm s':>7} {'ratio':>6}"
        f" {'RSS MB':>7} {'s/1k files':>10} {'cold CPU s':>10} {'load':>5}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        tree = generated_tree(args.workdir, size)
        grep = median_of(args.repeat, ["grep", "-rlE", "initContainers|^FROM", "."], tree)
        cache_dir = Path(tempfile.mkdtemp(prefix="mt-cache-"))
        env = dict(base_env, MIGRATE_TUI_CACHE_DIR=str(cache_dir))

        def wipe() -> None:
            shutil.rmtree(cache_dir, ignore_errors=True)

        def wipe_all() -> None:  # a fresh clone: no result cache and no link cache in the tree
            wipe()
            shutil.rmtree(tree / ".migrate-tui-cache", ignore_errors=True)

        check = [*tool, "check", "--format", "json", *extra]
        fresh = median_of(args.repeat, check, tree, env, before=wipe_all)
        # the link cache a working copy has: made by an earlier run, its walk kept once the
        # directories it stamps are RACY_NS old (removing the cache directory changed the root's)
        time.sleep(2.1)
        run(check, tree, env)
        cold = median_of(args.repeat, check, tree, env, before=wipe)
        run(check, tree, env)  # fill the cache
        warm = median_of(args.repeat, check, tree, env)
        shutil.rmtree(cache_dir, ignore_errors=True)
        print(
            f"{size:>7} {grep[0]:>7.2f} {fresh[0]:>7.2f} {fresh[0] / grep[0]:>5.1f}x {cold[0]:>7.2f} {cold[0] / grep[0]:>5.1f}x {warm[0]:>7.2f} "
            f"{warm[0] / grep[0]:>5.1f}x {max(cold[1], warm[1]):>7} {1000 * cold[0] / size:>10.3f}"
            f" {cold[3]:>10.2f} {os.getloadavg()[0]:>5.1f}"
        )
        rows.append(  # fresh: no cache at all; cold: the link cache kept, no result cache; warm: both
            f"| {size:,} | {grep[0]:.2f} s | {fresh[0]:.2f} s | {fresh[0] / grep[0]:.1f}× | {cold[0]:.2f} s | {cold[0] / grep[0]:.1f}×"
            f" | {cold[3]:.2f} s | {warm[0]:.2f} s"
            f" | {warm[0] / grep[0]:.1f}× | {max(cold[1], warm[1])} MB | {os.getloadavg()[0]:.1f} |"
        )
        if args.single:
            one = next(tree.rglob("deployment.yaml"))
            single = median_of(3, [*tool, "check", str(one.relative_to(tree))], tree, env)
            print(f"{'':>7} check ONE_FILE: {single[0]:.3f} s")
    version = median_of(5, [*tool, "--version"], Path.cwd(), base_env)
    print(f"migrate-tui --version: {version[0] * 1000:.0f} ms")
    if args.markdown:
        print("\n| files | grep | fresh clone | ratio | cold | ratio | cold CPU | warm (result cache) | ratio | peak RSS | load |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
