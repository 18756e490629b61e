"""The process pool and the result cache together: a warm parallel scan reuses the entries and
leaves them as they were (an entry marked "still right" by a worker used to come back from the
pool as a new object, was stored as the file's entry, and the next scan crashed on every file).
The pool is fed while discovery walks: results still come back in discovery order."""

from __future__ import annotations

import pickle
from pathlib import Path

from testlib import FIXTURES, make_engine
from migrate_tui.pipeline.cache import FORMAT

SITE = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text()


def _tree(root: Path, count: int) -> list[str]:
    names = []
    for i in range(count):
        sub = root / f"team{i % 3}" / f"svc{i:03d}"
        sub.mkdir(parents=True)
        (sub / "deployment.yaml").write_text(SITE.replace("name: web\n", f"name: web{i}\n", 1))
        names.append(f"team{i % 3}/svc{i:03d}/deployment.yaml")
    return sorted(names)


def _entries(cache: Path) -> dict:
    (only,) = sorted(cache.iterdir())
    with open(only, "rb") as fh:
        (form, _), entries = pickle.load(fh)
    assert form == FORMAT
    return entries


def _scan(root: Path, cache: Path, jobs: int):
    engine = make_engine(root)
    engine.jobs = jobs
    engine.cache = cache
    events = list(engine.iter_scan())
    assert engine.workers_for(len(events) - 2) == jobs
    return events


def test_warm_parallel_scans_keep_the_cache_entries(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    names = _tree(root, 70)
    cache = tmp_path / "cache"
    cold = _scan(root, cache, 2)
    entries = _entries(cache)
    assert sorted(entries) == names
    assert all(isinstance(e, tuple) and len(e) == 4 for e in entries.values())
    for _ in range(2):
        warm = _scan(root, cache, 2)
        # (the stat key, entry[3], may be filled in once the files are older than cache.RACY_NS)
        assert {k: e[:3] for k, e in _entries(cache).items()} == {k: e[:3] for k, e in entries.items()}
        assert warm[-1].result.diagnostics == []
        assert warm[-1].result.findings == cold[-1].result.findings
    # in discovery order, one event per file, whatever the pool's timing
    assert [e.path for e in warm[1:-1]] == names
    assert [e.index for e in warm[1:-1]] == list(range(1, 71))
    assert warm[0].total == 70


def test_the_pool_and_one_process_give_the_same_result(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _tree(root, 70)
    one = _scan(root, tmp_path / "c1", 1)[-1].result
    two = _scan(root, tmp_path / "c2", 2)[-1].result
    assert len(one.findings) == 70
    assert (one.findings, one.diagnostics, one.files_scanned) == (two.findings, two.diagnostics, two.files_scanned)
    assert sorted(one.sources) == sorted(two.sources)


def test_a_scan_from_a_thread_forks_its_workers_from_a_fork_server(tmp_path: Path) -> None:
    """The TUI scans from a worker thread, where forking this process is unsafe: the workers
    come from a fork server that imported the engine once (spawned workers imported it each,
    on every scan: twice the time of a 10,000-file scan), with the same result."""
    import threading

    from migrate_tui.pipeline.engine import _mp_context

    root = tmp_path / "repo"
    _tree(root, 70)
    one = _scan(root, tmp_path / "c1", 1)[-1].result
    seen: dict[str, object] = {}

    def scan() -> None:
        seen["method"] = _mp_context().get_start_method()
        seen["result"] = _scan(root, tmp_path / "c2", 2)[-1].result

    thread = threading.Thread(target=scan)
    thread.start()
    thread.join()
    assert seen["method"] == "forkserver"
    two = seen["result"]
    assert (one.findings, one.diagnostics, one.files_scanned) == (two.findings, two.diagnostics, two.files_scanned)


def test_the_fork_server_preload_loads_the_rules_and_first_use_modules() -> None:
    """What the fork server imports before forking TUI scan workers: every rule module, and
    the modules a scan would otherwise import in every worker on first use."""
    import subprocess
    import sys

    from migrate_tui.rules import _MODULES

    probe = (
        "import sys, migrate_tui.pipeline.preload as p\n"
        "print(sorted(n for n in p._FIRST_USE + tuple('migrate_tui.rules.' + m for m in sys.argv[1:]) if n not in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe, *_MODULES.values()], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _square(x: int) -> int:
    return x * x


def test_the_pool_maintenance_thread_is_not_woken_by_results() -> None:
    """CPython's Pool wakes its maintenance thread whenever the result pipe is readable (it
    looped, checking every worker, until the result thread had read each result: ~50 ms of CPU
    and the GIL on a 10,000-file scan). The scan's pool waits only on its notifier (and, as
    every Pool, on the workers' own sentinels: a worker that dies still wakes it); the work
    still comes back whole and in order. (Killing a worker is not tried: one killed while it
    holds the task queue's lock hangs any Pool, CPython's own included.)"""
    import multiprocessing

    from migrate_tui.pipeline.engine import _pool_class

    pool = _pool_class()(2, context=multiprocessing.get_context("fork"))
    try:
        assert pool._outqueue._reader not in pool._get_sentinels()
        assert pool._change_notifier._reader in pool._get_sentinels()
        assert len(pool._get_worker_sentinels(pool._pool)) == 2
        assert list(pool.imap(_square, range(500), chunksize=3)) == [x * x for x in range(500)]
    finally:
        pool.close()
        pool.join()
