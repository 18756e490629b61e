"""Issue 14 item 1: a warm scan trusts a file's stat key (size, mtime, ctime, inode) instead of
reading it, and only a key recorded well after the file's last change. The warm result is the
cold one; a change that keeps size and mtime (restored with utime) still shows through ctime."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from testlib import FIXTURES, make_engine
from migrate_tui.pipeline import engine as engine_module

SITE = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text()
PLAIN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: b}\n"
DOCKERFILE = "FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n"


def _tree(root: Path) -> Path:
    files = {
        "web/deployment.yaml": SITE,
        "web/plain.yaml": PLAIN,
        "svc/Dockerfile": DOCKERFILE,
        "other/config.yaml": PLAIN.replace("plain", "other"),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _scan(root: Path, cache: Path, monkeypatch) -> tuple:
    """(result, root-relative paths the scan read with read_source)."""
    read: list[str] = []
    real = engine_module.read_source

    def counting(root_, path, **kw):
        read.append(Path(path).relative_to(root).as_posix())
        return real(root_, path, **kw)

    monkeypatch.setattr(engine_module, "read_source", counting)
    engine = make_engine(root)
    engine.cache = cache
    engine.jobs = 1
    result = engine.scan()
    monkeypatch.setattr(engine_module, "read_source", real)
    return result, sorted(read)


def _entries(cache: Path) -> dict:
    (only,) = sorted(cache.iterdir())
    with open(only, "rb") as fh:
        _, entries = pickle.load(fh)
    return entries


def _same(a, b) -> None:
    assert [(f.rule, f.location, f.message, f.fix) for f in a.findings] == [(f.rule, f.location, f.message, f.fix) for f in b.findings]
    assert a.diagnostics == b.diagnostics and a.files_scanned == b.files_scanned
    assert {k: v.text for k, v in a.sources.items()} == {k: v.text for k, v in b.sources.items()}


def test_a_warm_scan_reads_only_the_files_with_findings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.pipeline.cache.RACY_NS", -(10**18))  # trust every key: no waiting
    root, cache = _tree(tmp_path / "repo"), tmp_path / "cache"
    cold, read = _scan(root, cache, monkeypatch)
    assert read == ["other/config.yaml", "svc/Dockerfile", "web/deployment.yaml", "web/plain.yaml"]
    assert {f.location.path for f in cold.findings} == {"web/deployment.yaml"}
    assert all(entry[3] is not None for entry in _entries(cache).values())
    warm, read = _scan(root, cache, monkeypatch)
    _same(cold, warm)
    assert read == ["web/deployment.yaml"]  # its text: the fix's edits are planned on it


def test_a_change_that_keeps_size_and_mtime_is_seen_through_ctime(tmp_path: Path, monkeypatch) -> None:
    """The Dockerfile has no finding, so a warm scan would not read it: only its ctime tells."""
    monkeypatch.setattr("migrate_tui.pipeline.cache.RACY_NS", -(10**18))
    root, cache = _tree(tmp_path / "repo"), tmp_path / "cache"
    cold, _ = _scan(root, cache, monkeypatch)
    assert [f.rule for f in cold.findings] == ["IV001"]
    victim = root / "svc" / "Dockerfile"
    st = victim.stat()
    edited = DOCKERFILE.replace("nginx:1.27", "python:3.1")  # same length
    assert len(edited) == len(DOCKERFILE)
    victim.write_text(edited)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back, as tar -x or touch -r do
    after = victim.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    warm, read = _scan(root, cache, monkeypatch)
    assert read == ["svc/Dockerfile", "web/deployment.yaml"]
    _same(make_engine(root).scan(), warm)
    assert [(f.rule, f.location.path) for f in warm.findings] == [("DF003", "svc/Dockerfile"), ("IV001", "web/deployment.yaml")]


def test_a_file_changed_just_before_it_was_read_gets_no_key(tmp_path: Path, monkeypatch) -> None:
    """Within RACY_NS of its last change a file could change again in the same clock tick
    without its key changing: its entry keeps no key and the next scan reads it again."""
    root, cache = _tree(tmp_path / "repo"), tmp_path / "cache"
    cold, _ = _scan(root, cache, monkeypatch)
    assert [entry[3] for entry in _entries(cache).values()] == [None] * 4
    warm, read = _scan(root, cache, monkeypatch)
    _same(cold, warm)
    assert read == ["other/config.yaml", "svc/Dockerfile", "web/deployment.yaml", "web/plain.yaml"]


def test_a_file_replaced_by_a_symlink_is_read_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.pipeline.cache.RACY_NS", -(10**18))
    root, cache = _tree(tmp_path / "repo"), tmp_path / "cache"
    _scan(root, cache, monkeypatch)
    plain = root / "web" / "plain.yaml"
    plain.unlink()
    (root / "web" / "elsewhere.txt").write_text(SITE)
    plain.symlink_to("elsewhere.txt")
    warm, _ = _scan(root, cache, monkeypatch)
    _same(make_engine(root).scan(), warm)
