"""Time ``migrate-tui check ONE_FILE`` in a big tree: what a pre-commit hook pays per commit.

    python benchmarks/precommit.py [--files 50000] [--workdir /tmp/migrate-tui-bench] [--runs 5]

Generates (once, reused like benchmarks/scan.py) a gen_repo.py tree, fills the repository's link
cache (``.migrate-tui-cache/links.json``) and the result cache with one run, then times
``check FILE`` on a manifest with the init-copy pattern (the link index is consulted) and on a
plain one, in auto and zero-rebuild modes: median and min of ``--runs`` whole-process runs, with
the load average before and after (the machine may be shared) and how many paths the link
cache's validation stats. Not a test: it prints numbers, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_repo import generated_tree  # noqa: E402
from scan import _compiled_env, _tool  # noqa: E402


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):  # 2: usage or internal error; a crash must not look fast
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode} in {cwd}")
    return seconds


def _stamped(tree: Path) -> str:
    try:
        data = json.loads((tree / ".migrate-tui-cache" / "links.json").read_text())
        stamps = data["stamps"]
        count = len(stamps["paths"].split("\n")) if "paths" in stamps else len(stamps)  # older caches: a dict
        return f"{count} paths stamped"
    except (OSError, ValueError, KeyError, TypeError):
        return "no link cache"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "migrate-tui-bench")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    tree = generated_tree(args.workdir, args.files)
    # plain manifests (not Helm templates): their init images are looked up in the link index
    manifests = sorted(p for p in tree.rglob("deployment.yaml") if p.parent.name == "deploy")
    init_copy = next(p for p in manifests if "initContainers" in p.read_text())
    plain = next(p for p in manifests if "initContainers" not in p.read_text())
    cache_dir = Path(tempfile.mkdtemp(prefix="mt-cache-"))
    env = dict(_compiled_env(), MIGRATE_TUI_CACHE_DIR=str(cache_dir))
    tool = _tool()
    print(f"cpus={os.cpu_count()} tool={' '.join(tool)} tree={tree} ({args.files} files)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        for path in (init_copy, plain):
            rel = str(path.relative_to(tree))
            for mode in ("auto", "zero-rebuild"):
                cmd = [*tool, "check", "--mode", mode, rel]
                _timed(cmd, tree, env)  # fills the link cache and the result cache
                runs = [_timed(cmd, tree, env) for _ in range(args.runs)]
                print(f"check {rel} --mode {mode}: median {statistics.median(runs):.3f} s, min {min(runs):.3f} s ({args.runs} runs)")
        print(f"link cache: {_stamped(tree)}")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
