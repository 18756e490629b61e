"""Big-tree paths: the process pool gives the serial results in the same order, findings pickle,
the result cache is right and stays out of the repository, ``check FILE`` reads one file, an
interrupted ``--fix`` leaves every file old or new (deterministically: the ^C lands at a chosen
point), and ``check`` opens no socket and runs no program."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from testlib import DEMO, make_engine

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


def _listing(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def _cache_file(cache: Path) -> tuple[Path, dict]:
    """The one file the scan wrote into the cache directory, and its entries (read as the code reads it)."""
    from migrate_tui.pipeline.cache import FORMAT

    files = sorted(cache.iterdir())
    assert len(files) == 1 and files[0].name.startswith("scan-") and files[0].suffix == ".pickle", files
    with open(files[0], "rb") as fh:
        (form, _fingerprint), entries = pickle.load(fh)
    assert form == FORMAT
    return files[0], entries


def test_cache_gives_the_same_result_and_notices_changes(tree: Path, tmp_path: Path, monkeypatch) -> None:
    from migrate_tui.model.findings import text_digest

    # every stat key trusted from the first scan on (the tree was written a moment ago: by
    # default its entries get their keys on a later scan, which rewrites the cache once)
    monkeypatch.setattr("migrate_tui.pipeline.cache.RACY_NS", -(10**18))

    cache = tmp_path / "cache"
    repository = _listing(tree)
    first = make_engine(tree)
    first.cache = cache
    cold = first.scan()
    # the file the code really writes: one entry per scanned YAML/Dockerfile, keyed by the text's digest
    path, entries = _cache_file(cache)
    candidates, _ = first.discover()
    assert sorted(entries) == sorted(c.path.relative_to(tree).as_posix() for c in candidates if c.kind in ("yaml", "dockerfile"))
    for rel, entry in entries.items():
        assert entry[0] == text_digest((tree / rel).read_text()), rel
    with_findings = {f.location.path for f in cold.findings}
    assert {rel for rel, entry in entries.items() if pickle.loads(entry[1])[0]} == with_findings
    # a warm scan reuses every entry: same result, and the cache file is not even rewritten
    stamp = (path.stat().st_mtime_ns, path.read_bytes())
    warm_engine = make_engine(tree)
    warm_engine.cache = cache
    _same(cold, warm_engine.scan())
    assert (path.stat().st_mtime_ns, path.read_bytes()) == stamp
    # nothing in the repository changed; the only files added are the link index's own cache
    # (core/links.py: JSON, never a pickle), not the scan results
    now = _listing(tree)
    assert {k: v for k, v in now.items() if k in repository} == repository
    assert set(now) - set(repository) <= {".migrate-tui-cache", ".migrate-tui-cache/.gitignore", ".migrate-tui-cache/links.json"}
    victim = tree / cold.findings[0].location.path
    original = victim.read_bytes()
    try:
        victim.write_bytes(original.replace(b"readOnly: true", b"readOnly: false"))
        changed = make_engine(tree)
        changed.cache = cache
        after = [f for f in changed.scan().findings if f.location.path == cold.findings[0].location.path]
        assert after and after[0].applicability.value == "unsafe"
        _, entries = _cache_file(cache)
        assert entries[cold.findings[0].location.path][0] == text_digest(victim.read_text())
    finally:
        victim.write_bytes(original)


def test_untrusted_cache_directory_is_ignored(tree: Path, tmp_path: Path) -> None:
    from migrate_tui.pipeline.cache import ScanCache

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
#
# The writer stages every file of a round (temp file + fsync) and only then swaps them in, with
# SIGINT held back during the swap. So ^C while staging writes nothing, and ^C during the swap
# is delivered once every file is swapped: each file is old or new, never half-written, and no
# temp file is left. The ^C is sent by the process to itself at an exact point (an audit hook on
# the N-th temp file or rename of a staged file), so each test reaches its state every time.

N_FIX = int(os.environ.get("MIGRATE_TUI_SIGINT_FILES", "60"))

_SIGINT_AT = textwrap.dedent(
    """
    import os, signal, sys
    EVENT, NTH = sys.argv[1], int(sys.argv[2])
    seen = []
    def hook(event, args):
        # only the writer's staged files (suffix .migrate-tui), not caches
        if event == EVENT and str(args[0]).endswith(".migrate-tui"):
            seen.append(args[0])
            if len(seen) == NTH:
                os.write(2, f"SIGINT at {event} #{NTH}\\n".encode())
                os.kill(os.getpid(), signal.SIGINT)
    sys.addaudithook(hook)
    from migrate_tui.cli import main
    sys.exit(main(sys.argv[3:]))
    """
)


def _fixed_template(tmp_path: Path) -> tuple[str, str]:
    probe = tmp_path / "probe"
    (probe / ".git").mkdir(parents=True)
    original = INIT_COPY.format(name="web00000", team="web", replicas=1)
    (probe / "web.yaml").write_text(original)
    make_engine(probe, select=("IV001",)).fix()
    return original, (probe / "web.yaml").read_text()


def _interrupted_fix(tmp_path: Path, event: str, nth: int) -> tuple[dict[str, int], str]:
    original, fixed = _fixed_template(tmp_path)
    assert fixed != original
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    files = []
    for i in range(N_FIX):
        path = root / f"d{i // 20:02d}" / f"web{i:05d}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(original.replace("web00000", f"web{i:05d}"))
        files.append(path)
    proc = subprocess.run(
        [sys.executable, "-c", _SIGINT_AT, event, str(nth), "check", "--fix", "-q", "--no-cache", "--select", "IV001", "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert f"SIGINT at {event} #{nth}" in proc.stderr, proc.stderr
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert proc.stderr.endswith("migrate-tui: interrupted\n"), proc.stderr
    leftovers = [p.name for d in sorted({p.parent for p in files}) for p in d.iterdir() if not p.name.endswith(".yaml")]
    assert leftovers == [], "temporary files left behind"
    states = {"old": 0, "new": 0}
    for i, path in enumerate(files):
        data = path.read_text()
        name = f"web{i:05d}"
        if data == original.replace("web00000", name):
            states["old"] += 1
        else:
            assert data == fixed.replace("web00000", name), f"{path} is neither the original nor the fix"
            states["new"] += 1
    return states, proc.stderr


def test_sigint_while_staging_writes_nothing(tmp_path: Path) -> None:
    states, _ = _interrupted_fix(tmp_path, "open", N_FIX // 2)
    assert states == {"old": N_FIX, "new": 0}


def test_sigint_during_the_swap_waits_until_every_file_is_new(tmp_path: Path) -> None:
    states, _ = _interrupted_fix(tmp_path, "os.rename", N_FIX // 2)
    assert states == {"old": 0, "new": N_FIX}


_TWO_VOLUMES = """\
apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  initContainers:
  - name: copy-a
    image: registry.example.com/a:1
    command: ["sh", "-c", "cp -r /a/. /va/"]
    volumeMounts:
    - name: va
      mountPath: /va
  - name: copy-b
    image: registry.example.com/b:1
    command: ["sh", "-c", "cp -r /b/. /vb/"]
    volumeMounts:
    - name: vb
      mountPath: /vb
  containers:
  - name: app
    image: nginx:1.27
    volumeMounts:
    - name: va
      mountPath: /srv/a
      readOnly: true
    - name: vb
      mountPath: /srv/b
      readOnly: true
  volumes:
  - name: va
    emptyDir: {}
  - name: vb
    emptyDir: {}
"""


def test_sigint_in_a_later_round_leaves_earlier_rounds_written(tmp_path: Path) -> None:
    """The mixed state: two fixes in one document are applied in two rounds (each was planned
    without the other). ^C while round 2 stages leaves round 1's files new and the two-fix file
    in its round-1 state (valid, one fix applied); a second --fix finishes the job."""
    single, single_fixed = _fixed_template(tmp_path)
    probe = tmp_path / "rounds"
    (probe / ".git").mkdir(parents=True)
    (probe / "two.yaml").write_text(_TWO_VOLUMES)
    engine = make_engine(probe, select=("IV001",))
    scan = engine.scan()
    first = engine.apply(scan.findings, sources=scan.sources)
    assert first.written == ["two.yaml"] and len(first.applied) == 1
    after_round_one = (probe / "two.yaml").read_text()
    make_engine(probe, select=("IV001",)).fix()
    final = (probe / "two.yaml").read_text()
    assert len({_TWO_VOLUMES, after_round_one, final}) == 3

    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "single.yaml").write_text(single)
    (root / "two.yaml").write_text(_TWO_VOLUMES)
    cmd = [sys.executable, "-c", _SIGINT_AT, "open", "3", "check", "--fix", "-q", "--no-cache", "--select", "IV001", "."]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 130 and "SIGINT at open #3" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert sorted(p.name for p in root.iterdir()) == [".git", "single.yaml", "two.yaml"]
    assert (root / "single.yaml").read_text() == single_fixed  # round 1: written
    assert (root / "two.yaml").read_text() == after_round_one  # round 2: interrupted while staging
    rerun = subprocess.run([sys.executable, "-m", "migrate_tui", *cmd[5:]], cwd=root, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr
    assert (root / "two.yaml").read_text() == final


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
        proc = subprocess.run([sys.executable, "-c", _AUDIT, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert "AUDIT" not in proc.stderr, proc.stderr
        assert proc.returncode in (0, 1), proc.stderr


def test_a_warm_check_imports_no_rule_module(tree: Path, tmp_path: Path) -> None:
    """A scan answered from the result cache needs no rule: the JSON output names each rule
    without importing its module (the imports were a fifth of a warm 10,000-file check)."""
    probe = textwrap.dedent(
        """
        import contextlib, io, sys
        from migrate_tui.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = main(["check", "--format", "json", sys.argv[1]])
        assert '"name": "init-copy-to-empty-dir"' in out.getvalue(), out.getvalue()[:500]
        print(code, sorted(m for m in sys.modules if m.startswith("migrate_tui.rules.")))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    run = [sys.executable, "-c", probe, str(tree)]
    cold = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout.split(" ", 1)
    warm = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout.split(" ", 1)
    assert cold[1].strip() != "[]"  # (the probe sees the rules when they do run)
    assert warm == ["1", "[]\n"]
