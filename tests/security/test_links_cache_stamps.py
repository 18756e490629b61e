"""Issue 14, item 3: the link cache's compact stamps (one string of paths, the integers packed as
base64 of little-endian int64s) vouch for a cache only when they are well formed; a forged or damaged form is rebuilt,
never trusted, and never a traceback."""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
from pathlib import Path

import pytest

from migrate_tui.repo.config import Config
from migrate_tui.analysis.links.index import CACHE_DIR, CACHE_FILE, _decode_stamps, _encode_stamps, _stamps_hold, build_link_index

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SITE = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"


def _packed(values) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}q", *values)).decode("ascii")


def _cached_repo(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = tmp_path / "repo"
    (root / "site").mkdir(parents=True)
    shutil.copyfile(SITE, root / "web.yaml")
    (root / "site" / "Dockerfile").write_text("FROM busybox\nCOPY . /site\n")
    assert build_link_index(root, Config()).from_cache is False
    assert build_link_index(root, Config()).from_cache is True
    return root


def _count_forks(monkeypatch) -> list[int]:
    """The pids of the children forked from now on."""
    forks: list[int] = []
    real_fork = os.fork

    def counted_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted_fork)
    return forks


def _rewrite_stamps(root: Path, stamps) -> None:
    path = root / CACHE_DIR / CACHE_FILE
    data = json.loads(path.read_text())
    data["stamps"] = stamps
    path.write_text(json.dumps(data))


def test_the_stamps_round_trip_and_name_every_path_read(tmp_path: Path, monkeypatch) -> None:
    root = _cached_repo(tmp_path, monkeypatch)
    stamps = json.loads((root / CACHE_DIR / CACHE_FILE).read_text())["stamps"]
    rels, values = _decode_stamps(stamps)
    assert sorted(rels) == [".", ".gitignore", ".migrate-tui.toml", "site", "web.yaml"]
    assert list(values[2 * rels.index(".gitignore") : 2 * rels.index(".gitignore") + 2]) == [-1, -1]  # absent, stamped so
    assert _stamps_hold(root, rels, values)


@pytest.mark.parametrize(
    "stamps",
    [
        {},
        {"paths": ".", "values": _packed([1])},
        {"paths": ".", "values": [1, 2]},  # the older form: a JSON list
        {"paths": ".", "values": "not base64!"},
        {"paths": ".\nweb.yaml", "values": base64.b64encode(b"\1" * 12).decode()},  # not whole int64s
        {"paths": ".\n../outside", "values": _packed([1, 2, 3, 4])},
        {"paths": ".\nsite/../../outside", "values": _packed([1, 2, 3, 4])},
        {"paths": ".\n/etc/passwd", "values": _packed([1, 2, 3, 4])},
        {"paths": "web.yaml", "values": _packed([1, 2])},
        {"paths": ".\nweb\0.yaml", "values": _packed([1, 2, 3, 4])},
        {"paths": ".", "values": _packed([-1, -1])},
        {"paths": [".", "web.yaml"], "values": _packed([1, 2, 3, 4])},
    ],
)
def test_malformed_stamps_are_not_trusted(tmp_path: Path, monkeypatch, stamps) -> None:
    root = _cached_repo(tmp_path, monkeypatch)
    _rewrite_stamps(root, stamps)
    assert _decode_stamps(stamps) is None
    assert build_link_index(root, Config()).from_cache is False


def test_a_path_with_dots_in_a_name_is_not_mistaken_for_a_parent(tmp_path: Path) -> None:
    rels, values = _decode_stamps({"paths": ".\na..b/c..yaml\n..d", "values": _packed([1, 2, 3, 4, 5, 6])})
    assert (rels, list(values)) == ([".", "a..b/c..yaml", "..d"], [1, 2, 3, 4, 5, 6])


def test_a_name_with_a_newline_leaves_the_index_uncached(tmp_path: Path, monkeypatch) -> None:
    assert _encode_stamps({".": [1, 2], "a\nb.yaml": [3, 4]}) is None
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copyfile(SITE, root / "web.yaml")
    shutil.copyfile(SITE, root / "odd\nname.yaml")
    index = build_link_index(root, Config())
    assert sorted(index.users_of("registry.example.com/web-site")) == ["odd\nname.yaml", "web.yaml"]
    assert not (root / CACHE_DIR / CACHE_FILE).exists()
    assert build_link_index(root, Config()).from_cache is False


def test_an_edit_in_place_a_new_file_and_a_removed_file_each_invalidate(tmp_path: Path, monkeypatch) -> None:
    root = _cached_repo(tmp_path, monkeypatch)
    web = root / "web.yaml"
    st = web.stat()
    web.write_text(web.read_text() + "# edited\n")
    os.utime(root, ns=(root.stat().st_atime_ns, root.stat().st_mtime_ns))  # only the file changed
    assert build_link_index(root, Config()).from_cache is False
    assert build_link_index(root, Config()).from_cache is True
    (root / "site" / "new.yaml").write_text("kind: ConfigMap\n")
    assert build_link_index(root, Config()).from_cache is False
    assert build_link_index(root, Config()).from_cache is True
    (root / "site" / "new.yaml").unlink()
    assert build_link_index(root, Config()).from_cache is False
    assert st.st_size < web.stat().st_size


@pytest.mark.parametrize("changed", ["web.yaml", "site"])
def test_a_forked_half_of_the_check_sees_its_changes_too(tmp_path: Path, monkeypatch, changed: str) -> None:
    """Above PARALLEL_STAMPS a child process checks the second half of the stamps: a change in
    either half invalidates (which path lands in which half depends on the order stamped)."""
    root = _cached_repo(tmp_path, monkeypatch)
    monkeypatch.setattr("migrate_tui.analysis.links.index.PARALLEL_STAMPS", 2)
    forks = _count_forks(monkeypatch)
    rels, values = _decode_stamps(json.loads((root / CACHE_DIR / CACHE_FILE).read_text())["stamps"])
    assert _stamps_hold(root, rels, values)
    assert len(forks) == 1  # the child really checked the second half (this process has one thread)
    assert build_link_index(root, Config()).from_cache is True
    target = root / changed
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert not _stamps_hold(root, rels, values)
    assert build_link_index(root, Config()).from_cache is False


def _many_stamps(tmp_path: Path, count: int) -> tuple[Path, list[str], list[int]]:
    """A root with ``count`` files, and their stamps as the cache records them."""
    root = tmp_path / "many"
    root.mkdir()
    rels, values = [], []
    for i in range(count):
        path = root / f"f{i:03d}.yaml"
        path.write_text(f"i: {i}\n")
        st = path.stat()
        rels.append(path.name)
        values += [st.st_size, st.st_ctime_ns]
    return root, rels, values


@pytest.mark.parametrize("position", [0, 1, 37, 50, 98, 99])
@pytest.mark.parametrize("slow_meanwhile", [False, True])
def test_the_shared_check_sees_a_change_wherever_the_two_processes_meet(
    tmp_path: Path, monkeypatch, position: int, slow_meanwhile: bool
) -> None:
    """The parent checks from the start, a forked child from the end, in chunks, until they
    meet (where depends on how long ``meanwhile`` keeps the parent): a changed stamp at any
    position makes the answer no, and an unchanged list yes."""
    import time

    monkeypatch.setattr("migrate_tui.analysis.links.index.PARALLEL_STAMPS", 2)
    monkeypatch.setattr("migrate_tui.analysis.links.index._CHUNK", 3)
    root, rels, values = _many_stamps(tmp_path, 100)
    calls: list[int] = []

    def meanwhile() -> None:
        calls.append(os.getpid())
        if slow_meanwhile:
            time.sleep(0.3)  # the child has time to check every stamp on its own

    assert _stamps_hold(root, rels, values, meanwhile=meanwhile)
    assert calls == [os.getpid()]  # once, in this process
    changed = list(values)
    changed[2 * position + 1] += 1
    assert not _stamps_hold(root, rels, changed, meanwhile=meanwhile)
    gone = list(values)
    (root / rels[position]).unlink()
    assert not _stamps_hold(root, rels, gone)


def test_a_failing_meanwhile_is_raised_and_the_checker_reaped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.analysis.links.index.PARALLEL_STAMPS", 2)
    root, rels, values = _many_stamps(tmp_path, 10)
    forks = _count_forks(monkeypatch)

    def meanwhile() -> None:
        raise ValueError("a rule module failed to import")

    with pytest.raises(ValueError, match="failed to import"):
        _stamps_hold(root, rels, values, meanwhile=meanwhile)
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # already reaped: no zombie left behind
