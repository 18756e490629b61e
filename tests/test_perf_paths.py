"""Big-tree paths: the process pool gives the serial results in the same order, findings pickle,
the result cache is right and stays out of the repository, ``check FILE`` reads one file, an
interrupted ``--fix`` leaves every file old or new, and ``check`` opens no socket and runs no
program."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import DEMO, make_engine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from gen_repo import INIT_COPY, generate  # noqa: E402


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    generate(400, root)
    return root


def _same(a, b) -> None:
    assert [(f.rule, f.location, f.message, f.fix) for f in a.findings] == [(f.rule, f.location, f.message, f.fix) for f in b.findings]
    assert a.diagnostics == b.diagnostics
    assert a.files_scanned == b.files_scanned


def test_process_pool_matches_the_serial_scan(tree: Path) -> None:
    serial = make_engine(tree)
    serial.jobs = 1
    parallel = make_engine(tree)
    parallel.jobs = 2
    events = []
    parallel.on_progress = events.append
    one, two = serial.scan(), parallel.scan()
    assert one.findings, "the generated tree has the init-copy pattern"
    _same(one, two)
    assert [e.index for e in events] == list(range(1, one.files_scanned + 1))
    assert set(two.sources) == {f.location.path for f in two.findings}


def test_findings_and_diagnostics_pickle(tree: Path) -> None:
    result = make_engine(tree).scan()
    again = pickle.loads(pickle.dumps((result.findings, result.diagnostics)))
    assert again == (result.findings, result.diagnostics)


def test_cache_gives_the_same_result_and_notices_changes(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = make_engine(tree)
    first.cache = cache
    cold = first.scan()
    assert list(cache.iterdir()) and not (tree / ".migrate-tui-cache" / "scan.pickle").exists()
    warm_engine = make_engine(tree)
    warm_engine.cache = cache
    _same(cold, warm_engine.scan())
    victim = tree / cold.findings[0].location.path
    original = victim.read_bytes()
    try:
        victim.write_bytes(original.replace(b"readOnly: true", b"readOnly: false"))
        changed = make_engine(tree)
        changed.cache = cache
        after = [f for f in changed.scan().findings if f.location.path == cold.findings[0].location.path]
        assert after and after[0].applicability.value == "unsafe"
    finally:
        victim.write_bytes(original)


def test_untrusted_cache_directory_is_ignored(tree: Path, tmp_path: Path) -> None:
    from migrate_tui.core.cache import ScanCache

    cache = tmp_path / "shared"
    cache.mkdir()
    ScanCache(tree, "x", cache).entries["a"] = ("d", b"")
    store = ScanCache(tree, "x", cache)
    store.put("a.yaml", ("digest", pickle.dumps(([], []))))
    store.save()
    assert ScanCache(tree, "x", cache).entries
    os.chmod(cache, 0o777)
    assert ScanCache(tree, "x", cache).entries == {}
    assert ScanCache(tree, "other fingerprint", cache.parent / "none").entries == {}


def test_check_one_file_reads_only_that_file(tree: Path) -> None:
    target = next(tree.rglob("deployment.yaml"))
    engine = make_engine(tree)
    engine.paths = [target]
    candidates, _ = engine.discover()
    assert [c.path for c in candidates] == [target]
    assert engine.scan().files_scanned == 1


# --- ^C in the middle of --fix --------------------------------------------------------------

N_FIX = int(os.environ.get("MIGRATE_TUI_SIGINT_FILES", "400"))


def _fixed_template(tmp_path: Path) -> tuple[str, str]:
    probe = tmp_path / "probe"
    (probe / ".git").mkdir(parents=True)
    original = INIT_COPY.format(name="web00000", team="web", replicas=1)
    (probe / "web.yaml").write_text(original)
    make_engine(probe, select=("IV001",)).fix()
    return original, (probe / "web.yaml").read_text()


def test_sigint_during_fix_leaves_every_file_old_or_new(tmp_path: Path) -> None:
    original, fixed = _fixed_template(tmp_path)
    assert fixed != original
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    files = []
    for i in range(N_FIX):
        path = root / f"d{i // 100:02d}" / f"web{i:05d}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(original.replace("web00000", f"web{i:05d}"))
        files.append(path)
    dirs = sorted({p.parent for p in files})
    env = dict(os.environ, MIGRATE_TUI_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, "-m", "migrate_tui", "check", "--fix", "-q", "--select", "IV001"],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    interrupted = False
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if any(name.endswith(".migrate-tui") for d in dirs for name in os.listdir(d)):
            proc.send_signal(signal.SIGINT)
            interrupted = True
            break
        time.sleep(0.005)
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr, stderr
    if interrupted:
        assert proc.returncode in (1, 130), (proc.returncode, stderr)
    leftovers = [name for d in dirs for name in os.listdir(d) if not name.endswith(".yaml")]
    assert leftovers == []
    states = {"old": 0, "new": 0}
    for i, path in enumerate(files):
        data = path.read_text()
        name = f"web{i:05d}"
        if data == original.replace("web00000", name):
            states["old"] += 1
        else:
            assert data == fixed.replace("web00000", name), f"{path} is neither the original nor the fix"
            states["new"] += 1
    assert interrupted or states["new"] == N_FIX, states


# --- no network, no programs run -----------------------------------------------------------

_AUDIT = textwrap.dedent(
    """
    import os, sys
    WATCH = ("socket.", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn")
    def hook(event, args):
        if event.startswith(WATCH):
            os.write(2, f"AUDIT {event} {args!r:.200}\\n".encode())
            if event.startswith("socket."):
                raise PermissionError("network access during check")
    sys.addaudithook(hook)
    from migrate_tui.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.parametrize("where", ["demo", "generated"])
def test_check_opens_no_socket_and_runs_nothing(where: str, tree: Path, tmp_path: Path) -> None:
    root = DEMO if where == "demo" else tree
    if not root.is_dir():
        pytest.skip("examples/demo missing")
    env = dict(os.environ, MIGRATE_TUI_CACHE_DIR=str(tmp_path / "cache"))
    for args in (["check", "--format", "json", "."], ["check", "--diff", "."]):
        proc = subprocess.run([sys.executable, "-c", _AUDIT, *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)
        assert "AUDIT" not in proc.stderr, proc.stderr
        assert proc.returncode in (0, 1), proc.stderr
