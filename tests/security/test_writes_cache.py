"""Issue 11, item 4: the repository-local cache directory is never followed out of the
repository and a committed cache is never trusted; a read-only `check` creates or replaces no
file outside `.migrate-tui-cache/`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from migrate_tui.cli import main
from migrate_tui.repo.config import Config
from migrate_tui.analysis.links.index import CACHE_DIR, CACHE_FILE, _CACHE_VERSION, _config_key, build_link_index

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SITE = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"
IMAGE = "registry.example.com/web-site:1.4.2"


def _tree(top: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for directory, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(directory, name)
            rel = path.relative_to(top).as_posix()
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                out[rel] = path.read_bytes()
    return out


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    shutil.copyfile(SITE, root / "web.yaml")
    return root


def test_a_committed_cache_symlink_is_not_followed_by_a_read_only_check(tmp_path: Path, capsys) -> None:
    root = _repo(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "links.json").write_text("precious\n")
    (root / CACHE_DIR).symlink_to(elsewhere)
    before = _tree(tmp_path)
    assert main(["check", str(root)]) == 1
    capsys.readouterr()
    assert _tree(tmp_path) == before


def test_a_dangling_gitignore_link_in_the_cache_creates_nothing(tmp_path: Path, capsys) -> None:
    root = _repo(tmp_path)
    (root / CACHE_DIR).mkdir()
    target = tmp_path / "created-by-check"
    (root / CACHE_DIR / ".gitignore").symlink_to(target)
    before = _tree(tmp_path)
    assert main(["check", str(root)]) == 1
    capsys.readouterr()
    assert not os.path.lexists(target)
    after = _tree(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith(f"repo/{CACHE_DIR}/")} == {
        k: v for k, v in before.items() if not k.startswith(f"repo/{CACHE_DIR}/")
    }


def test_a_committed_links_json_with_empty_stamps_is_not_trusted(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "evil").mkdir()
    (root / "evil" / "Dockerfile").write_text("FROM busybox\nRUN echo pwned\n")
    link = {
        "image": "registry.example.com/web-site",
        "dockerfile": "evil/Dockerfile",
        "context": "evil",
        "source": "config",
        "origin": "x",
        "target": None,
        "name_span": None,
    }
    payload = {
        "version": _CACHE_VERSION,
        "config": _config_key(Config()),
        "stamps": {},
        "index": {"links": [link], "aliases": [], "users": {}},
        "fingerprint": "f",
    }
    (root / CACHE_DIR).mkdir()
    (root / CACHE_DIR / CACHE_FILE).write_text(json.dumps(payload))
    index = build_link_index(root, Config())
    assert index.from_cache is False
    assert index.dockerfile_for(IMAGE) is None


def test_a_links_json_symlink_is_not_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = _repo(tmp_path)
    build_link_index(root, Config())  # a genuine cache, then moved out and linked back
    real = root / CACHE_DIR / CACHE_FILE
    assert build_link_index(root, Config()).from_cache
    moved = tmp_path / "links.json"
    os.rename(real, moved)
    real.symlink_to(moved)
    kept = moved.read_bytes()
    index = build_link_index(root, Config())
    assert index.from_cache is False
    assert moved.read_bytes() == kept


def test_a_genuine_cache_is_still_reused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = _repo(tmp_path)
    assert build_link_index(root, Config()).from_cache is False
    assert (root / CACHE_DIR / ".gitignore").read_text() == "*\n"
    assert build_link_index(root, Config()).from_cache is True


def test_the_user_scan_cache_never_follows_a_link(tmp_path: Path) -> None:
    from migrate_tui.pipeline.cache import ScanCache

    tree = tmp_path / "tree"
    tree.mkdir()
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    store = ScanCache(tree, "fp", cache)
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    store.path.symlink_to(victim)  # the cache file is a link: replaced, never written through
    store.put("a", ("d", b""))
    store.save()
    assert victim.read_text() == "keep me\n"
    assert not store.path.is_symlink() and ScanCache(tree, "fp", cache).entries == {"a": ("d", b"")}
    linked = tmp_path / "linked-cache"
    linked.symlink_to(cache, target_is_directory=True)  # a linked directory is not used at all
    other = ScanCache(tree, "fp", linked)
    assert other.entries == {}
    other.put("b", ("d", b""))
    other.save()
    assert sorted(p.name for p in cache.iterdir()) == [store.path.name]


def test_a_cache_that_git_tracks_is_not_trusted(tmp_path: Path, monkeypatch) -> None:
    import subprocess

    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copyfile(SITE, root / "web.yaml")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    build_link_index(root, Config())
    assert build_link_index(root, Config()).from_cache is True
    subprocess.run(["git", "-C", str(root), "add", "-f", f"{CACHE_DIR}/{CACHE_FILE}"], check=True)
    assert build_link_index(root, Config()).from_cache is False
