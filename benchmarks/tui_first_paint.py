"""Time to first paint and to a full scan of a 10,000-file repo, under App.run_test.

    python benchmarks/tui_first_paint.py [--files 10000]

Generates the same realistic tree as benchmarks/scan.py (benchmarks/gen_repo.py: mixed kinds,
Helm templates, Dockerfiles, ~2 % with the init-copy pattern) in a temp dir, opens the app on it, and prints: first paint (goal < 1 s), full scan, and the worst
event-loop stall while the scan runs (the UI must not freeze).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_repo import generate  # noqa: E402  (the same realistic tree as benchmarks/scan.py)


async def measure(root: Path) -> dict[str, float]:
    from migrate_tui.core.engine import Engine
    from migrate_tui.tui.app import MigrateApp

    started = time.perf_counter()
    app = MigrateApp(Engine(root))
    worst_lag = 0.0
    async with app.run_test(size=(140, 40)) as pilot:
        while app.first_paint is None:
            await pilot.pause(0.001)
        first_paint = app.first_paint - started
        # The UI is frozen when the event loop can't wake up on time: measure how late it wakes.
        while app.scanning:
            asked = time.perf_counter()
            await asyncio.sleep(0.02)
            worst_lag = max(worst_lag, time.perf_counter() - asked - 0.02)
        scan = time.perf_counter() - started
        findings = len(app.review.findings)
        if app.scan_error:
            raise SystemExit(f"the scan failed: {app.scan_error}")
    return {"first_paint": first_paint, "full_scan": scan, "worst_lag": worst_lag, "findings": findings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="migrate-tui-bench-") as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        counts = generate(args.files, root)
        print(f"repo: {args.files} files ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}; written in {time.perf_counter() - t0:.1f} s)")
        result = asyncio.run(measure(root))
    goal = "ok" if result["first_paint"] < 1.0 else "SLOW (goal < 1 s)"
    print(f"first paint:        {result['first_paint']:.3f} s  {goal}")
    print(f"full scan:          {result['full_scan']:.3f} s  ({result['findings']:.0f} findings)")
    print(f"worst UI stall:     {result['worst_lag'] * 1000:.0f} ms while scanning (event-loop lag)")
    return 0 if result["first_paint"] < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
