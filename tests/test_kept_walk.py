"""The walk the link cache keeps: a scan of the whole root whose link cache holds takes the list of
files from it instead of listing every directory again. Each test proves that a change which a
walk would see is seen (the kept list is then not used), or that an unchanged tree is not walked.

The kept walk is judged by directory ctimes, so the tests let time pass (``_settle``): a
directory changed within ``RACY_NS`` of a walk is never vouched for, which is what keeps a change
made in the same clock tick from hiding."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from migrate_tui.analysis.links import index as link_index
from migrate_tui.pipeline import engine as engine_mod
from migrate_tui.repo import discover as discovery
from testlib import make_engine

LOW_CACHE = 5  # cache the link index from this many stamps on (the default is 200)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


#: RACY_NS in these tests (the default is 2 s): a change this long before a walk no longer makes
#: it racy, and ``_settle`` waits that long (a ctime can't be set back: time has to pass)
TEST_RACY_NS = 20_000_000


def _settle() -> None:
    """Wait until every change made so far is older than ``TEST_RACY_NS``."""
    time.sleep(TEST_RACY_NS / 1e9 + 0.01)


def _fresh_candidates(root: Path) -> list[tuple[str, str]]:
    """What a real walk finds now, as (rel, kind)."""
    out = []
    for item in discovery.discover(root.resolve()):
        if isinstance(item, discovery.Candidate):
            out.append((item.rel or "", str(item.kind)))
    return out


class _Walks:
    """Counts the engine's walks and records the candidates each scan took."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, racy_ns: int = TEST_RACY_NS) -> None:
        self.walks = 0
        monkeypatch.setattr(link_index, "RACY_NS", racy_ns)
        real = engine_mod.discover

        def counting(*args, **kwargs):
            self.walks += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(engine_mod, "discover", counting)
        monkeypatch.setattr(link_index, "CACHE_MIN_ENTRIES", LOW_CACHE)

    def scan(self, root: Path) -> tuple[list[tuple[str, str]], bool]:
        """(the files the scan went through, whether it walked)."""
        before = self.walks
        engine = make_engine(root)
        engine.jobs = 1
        seen: list[str] = []
        engine.on_progress = lambda event: seen.append(event.path)
        engine.scan()
        kinds = {rel: kind for rel, kind in _fresh_candidates(root)}
        return [(rel, kinds.get(rel, "?")) for rel in seen], self.walks > before


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    files = {f"svc{i}/deploy/app.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(6)}
    files |= {f"svc{i}/Dockerfile": "FROM busybox:1.36\nCOPY site /srv\n" for i in range(3)}
    files["README.md"] = "not scanned\n"
    _write(root, files)
    _settle()
    return root


def test_an_unchanged_tree_is_not_walked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    walks = _Walks(monkeypatch)
    first, walked = walks.scan(root)
    assert walked
    kept = json.loads((root / link_index.CACHE_DIR / link_index.CACHE_FILE).read_text())["walk"]
    assert kept["files"].split("\n") == [rel for rel, _ in _fresh_candidates(root)]
    second, walked = walks.scan(root)
    assert not walked
    assert second == first == _fresh_candidates(root)
    assert {kind for _, kind in second} == {"yaml", "dockerfile"}


@pytest.mark.parametrize(
    "change",
    [
        "a file added to a listed directory",
        "a file removed",
        "a file renamed",
        "a directory added deep in the tree",
        "a directory removed",
        "a .gitignore added",
        "a .gitignore edited",
        "a Makefile (a build file) added",
    ],
)
def test_a_change_a_walk_would_see_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    root = _tree(tmp_path)
    _write(root, {"svc5/.gitignore": "nothing-here/\n"})
    _settle()
    walks = _Walks(monkeypatch)
    walks.scan(root)
    _settle()  # (creating the cache directory changed the root)
    walks.scan(root)
    assert walks.scan(root)[1] is False  # the walk is kept from here on
    if change == "a file added to a listed directory":
        _write(root, {"svc1/deploy/new.yaml": "kind: ConfigMap\n"})
    elif change == "a file removed":
        (root / "svc2/deploy/app.yaml").unlink()
    elif change == "a file renamed":
        (root / "svc2/deploy/app.yaml").rename(root / "svc2/deploy/zz.yml")
    elif change == "a directory added deep in the tree":
        _write(root, {"svc3/deploy/overlays/prod/patch.yaml": "kind: ConfigMap\n"})
    elif change == "a directory removed":
        (root / "svc4/deploy/app.yaml").unlink()
        (root / "svc4/deploy").rmdir()
    elif change == "a .gitignore added":
        _write(root, {"svc0/.gitignore": "deploy/\n"})
    elif change == "a .gitignore edited":
        (root / "svc5/.gitignore").write_text("deploy/\n")
    else:
        _write(root, {"svc2/Makefile": "build:\n\tdocker build -t x .\n"})
    after, walked = walks.scan(root)
    assert walked
    assert after == _fresh_candidates(root)


def test_a_directory_whose_mtime_was_set_back_is_still_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tar, rsync -a and touch -d restore a directory's mtime after changing its entries; its
    ctime, which the stamps hold, can't be set back."""
    root = _tree(tmp_path)
    walks = _Walks(monkeypatch)
    walks.scan(root)
    _settle()
    walks.scan(root)
    assert walks.scan(root)[1] is False
    directory = root / "svc1" / "deploy"
    before = directory.stat()
    _write(root, {"svc1/deploy/extracted.yaml": "kind: ConfigMap\n"})
    os.utime(directory, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert directory.stat().st_mtime_ns == before.st_mtime_ns
    after, walked = walks.scan(root)
    assert walked and ("svc1/deploy/extracted.yaml", "yaml") in after
    assert after == _fresh_candidates(root)


def test_a_directory_changed_just_before_the_walk_is_not_vouched_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    walks = _Walks(monkeypatch, racy_ns=2_000_000_000)
    _write(root, {"svc1/deploy/late.yaml": "kind: ConfigMap\n"})  # svc1/deploy's mtime: now
    walks.scan(root)
    cache = root / link_index.CACHE_DIR / link_index.CACHE_FILE
    kept = json.loads(cache.read_text())["walk"]
    assert "files" not in kept
    assert kept["retry_after_ns"] >= time.time_ns() - 10**9  # (racy until RACY_NS after the change)
    # the index is kept, the walk is not: the next scans walk, and don't try to keep their walk
    # before the retry time (it would be racy too)
    builds = _count_builds(monkeypatch)
    before = cache.read_bytes()
    assert walks.scan(root)[1]
    assert cache.read_bytes() == before
    # after it, a scan's walk is kept, with the index as it was: its stamps still hold
    data = json.loads(before)
    data["walk"]["retry_after_ns"] = 0
    cache.write_text(json.dumps(data))
    monkeypatch.setattr(link_index, "RACY_NS", -(10**18))  # (the stamps are a moment old here)
    assert walks.scan(root)[1]
    assert json.loads(cache.read_text())["walk"]["files"].split("\n") == [rel for rel, _ in _fresh_candidates(root)]
    assert walks.scan(root)[1] is False
    assert builds == []


def test_a_walk_is_not_added_to_a_cache_whose_stamps_are_too_recent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a walk to a cache built earlier needs the stamps checked before the walk to be old
    enough: a stamp taken in the clock tick of a change could match a later change too."""
    root = _tree(tmp_path)
    walks = _Walks(monkeypatch, racy_ns=2_000_000_000)
    _write(root, {"svc1/deploy/late.yaml": "kind: ConfigMap\n"})
    walks.scan(root)
    cache = root / link_index.CACHE_DIR / link_index.CACHE_FILE
    data = json.loads(cache.read_text())
    data["walk"]["retry_after_ns"] = 0  # (a retry time that was wrong: the stamps are what count)
    cache.write_text(json.dumps(data))
    before = cache.read_bytes()
    assert walks.scan(root)[1]
    assert cache.read_bytes() == before
    assert walks.scan(root)[1]


def test_a_walk_that_met_a_symlink_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: ConfigMap\n")
    os.symlink(outside, root / "svc0/deploy/linked.yaml")
    _settle()
    walks = _Walks(monkeypatch)
    first, _ = walks.scan(root)
    kept = json.loads((root / link_index.CACHE_DIR / link_index.CACHE_FILE).read_text())["walk"]
    assert "files" not in kept and kept["retry_after_ns"] is None
    # the link's verdict depends on its target, which no stamp covers: every scan walks
    outside.unlink()
    second, walked = walks.scan(root)
    assert walked and second == first


@pytest.mark.parametrize(
    "files",
    [
        "../escape.yaml",
        "/etc/passwd.yaml",
        "a//b.yaml",
        "svc0/",
        ".",
        "a\u0000b.yaml",
        "svc0/x.txt",
        "svc9/app.yaml",
        "svc0/deploy/../../x.yaml",
    ],
)
def test_a_kept_walk_naming_paths_outside_the_root_or_odd_names_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: str
) -> None:
    root = _tree(tmp_path)
    walks = _Walks(monkeypatch)
    walks.scan(root)
    cache = root / link_index.CACHE_DIR / link_index.CACHE_FILE
    data = json.loads(cache.read_text())
    data["walk"]["files"] = files
    cache.write_text(json.dumps(data))
    after, walked = walks.scan(root)
    assert walked
    assert after == _fresh_candidates(root)


def test_a_walk_kept_by_other_discovery_code_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    walks = _Walks(monkeypatch)
    walks.scan(root)
    _settle()  # (creating the cache directory changed the root a moment ago)
    walks.scan(root)
    cache = root / link_index.CACHE_DIR / link_index.CACHE_FILE
    data = json.loads(cache.read_text())
    data["walk"]["code"] = "9:1:1"
    data["walk"]["files"] = "svc0/deploy/app.yaml"  # (what an older discovery found)
    cache.write_text(json.dumps(data))
    builds = _count_builds(monkeypatch)
    after, walked = walks.scan(root)
    assert walked and after == _fresh_candidates(root)
    # this code's walk is kept, with the index as it was (its stamps still hold)
    assert json.loads(cache.read_text())["walk"] == {"code": link_index._walk_code(), "files": "\n".join(r for r, _ in after)}
    assert walks.scan(root)[1] is False
    assert builds == []


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The roots whose link index is built (not loaded from the cache) from now on."""
    builds: list[Path] = []
    real = link_index._build

    def counting(root, *args, **kwargs):
        builds.append(root)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(link_index, "_build", counting)
    return builds


_NAMES = st.sampled_from(["a.yaml", "b.yml", "Dockerfile", "Makefile", "c.md", "d.yaml"])
_DIRS = st.sampled_from(["", "svc0", "svc1/deploy", "svc2/deploy/x", "new", "new/deeper"])
_OPS = st.one_of(
    st.tuples(st.just("add"), _DIRS, _NAMES),
    st.tuples(st.just("remove"), _DIRS, _NAMES),
    st.tuples(st.just("rename"), _DIRS, _NAMES),
    st.tuples(st.just("rmdir"), _DIRS, _NAMES),
    st.tuples(st.just("ignore"), _DIRS, _NAMES),
    st.tuples(st.just("touch"), _DIRS, _NAMES),
)


def _apply(root: Path, op: tuple[str, str, str]) -> None:
    kind, directory, name = op
    base = root / directory if directory else root
    target = base / name
    if kind == "add":
        base.mkdir(parents=True, exist_ok=True)
        target.write_text("kind: ConfigMap\n")
    elif kind == "remove" and target.is_file():
        target.unlink()
    elif kind == "rename" and target.is_file():
        target.rename(base / ("r-" + name))
    elif kind == "rmdir" and directory and base.is_dir():
        for inner, dirs, files in os.walk(base, topdown=False):
            for f in files:
                os.unlink(os.path.join(inner, f))
            for d in dirs:
                os.rmdir(os.path.join(inner, d))
        base.rmdir()
    elif kind == "ignore":
        base.mkdir(parents=True, exist_ok=True)
        (base / ".gitignore").write_text(name + "\n")
    elif kind == "touch" and target.is_file():
        target.write_text(target.read_text() + "# more\n")  # content only: no listing changes


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_OPS, min_size=1, max_size=6))
@example(ops=[("ignore", "svc1/deploy", "a.yaml"), ("add", "svc1/deploy", "a.yaml")])
@example(ops=[("rmdir", "svc2/deploy/x", "a.yaml"), ("add", "svc2/deploy/x", "a.yaml")])
def test_after_any_changes_a_scan_goes_through_what_a_walk_finds(tmp_path_factory, monkeypatch: pytest.MonkeyPatch, ops) -> None:
    root = _tree(tmp_path_factory.mktemp("kept"))
    _write(root, {"svc2/deploy/x/a.yaml": "kind: ConfigMap\n"})
    _settle()
    walks = _Walks(monkeypatch)
    walks.scan(root)
    _settle()
    walks.scan(root)
    assert walks.scan(root)[1] is False
    for step, op in enumerate(ops, start=1):
        _apply(root, op)
        after, _ = walks.scan(root)
        assert after == _fresh_candidates(root), (step, op)
        _settle()  # time passes: this state's changes are no longer racy
        walks.scan(root)  # (a scan that keeps this state's walk)
        again, walked = walks.scan(root)
        assert not walked and again == _fresh_candidates(root), (step, op)


def test_a_kept_walk_announces_the_count_before_the_pool_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the file list from the link cache, ScanStarted (the TUI's count) comes first, before
    any worker is started; the count is the number of files the scan then goes through."""
    root = _tree(tmp_path)
    _write(root, {f"bulk/app{i}.yaml": "kind: ConfigMap\n" for i in range(80)})  # (two batches: a pool)
    _settle()
    walks = _Walks(monkeypatch)
    walks.scan(root)
    _settle()
    walks.scan(root)
    started: list[str] = []
    real_feeder = engine_mod._Feeder

    def feeder(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.append("pool")
        return real_feeder(*args, **kwargs)

    monkeypatch.setattr(engine_mod, "_Feeder", feeder)
    engine = make_engine(root)
    engine.jobs = 2
    events = engine.iter_scan()
    first = next(events)
    assert isinstance(first, engine_mod.ScanStarted) and started == []
    rest = list(events)
    assert started == ["pool"]
    assert not any(isinstance(e, engine_mod.ScanStarted) for e in rest)
    scanned = [e.path for e in rest if isinstance(e, engine_mod.FileScanned)]
    assert first.total == len(scanned) == len(_fresh_candidates(root))


def test_a_walk_is_not_kept_when_a_directory_it_listed_is_gone_by_its_stamp(tmp_path: Path) -> None:
    """A directory removed between its listing and its stamp is stamped (-1, -1): the walk still
    names its files, so it is not kept (a later walk may be, at once), whatever the other stamps."""
    root = tmp_path.resolve()
    reader = link_index._Reader(root)
    listed = [(str(root), False), (str(root / "kept"), False), (str(root / "gone"), False)]
    reader.walk = link_index.WalkRecord(["kept/a.yaml", "gone/b.yaml"], listed, True, started_ns=_OLD_STAMP + 10 * 10**9)
    reader.walk_stamped = link_index._vouching(root, listed)
    assert reader.walk_stamped == [".", "gone", "kept"]
    reader.stamps = {".": [4096, _OLD_STAMP], "kept": [4096, _OLD_STAMP], "gone": [4096, _OLD_STAMP]}
    assert link_index._storable_walk(reader) == ["kept/a.yaml", "gone/b.yaml"]
    reader.stamps["gone"] = [-1, -1]
    assert link_index._storable_walk(reader) == reader.walk.started_ns


_OLD_STAMP = 1_600_000_000 * 10**9
