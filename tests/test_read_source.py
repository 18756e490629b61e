"""``read_source`` reads with plain ``os.read`` calls sized by the file's own size: the text it
returns, at and around the size limit, and when the file is longer than its stat said."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migrate_tui.model.findings import Diagnostic, DiagnosticKind
from migrate_tui.repo.sources import SourceFile, read_fd, read_source


def _write(root: Path, name: str, data: bytes) -> Path:
    path = root / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data, text, newline, bom",
    [
        (b"", "", "\n", False),
        (b"a: 1\n", "a: 1\n", "\n", False),
        (b"a: 1\r\nb: 2\r\n", "a: 1\nb: 2\n", "\r\n", False),
        (b"\xef\xbb\xbfa: 1\n", "a: 1\n", "\n", True),
    ],
)
def test_small_files_read_whole(tmp_path: Path, data: bytes, text: str, newline: str, bom: bool) -> None:
    path = _write(tmp_path, "f.yaml", data)
    source = read_source(tmp_path, str(path))
    assert isinstance(source, SourceFile)
    assert (source.path, source.text, source.newline, source.bom, source.size) == ("f.yaml", text, newline, bom, len(data))
    assert source.abspath == path and source.location == str(path)


def test_limit_is_exact(tmp_path: Path) -> None:
    at = _write(tmp_path, "at.yaml", b"x" * 99 + b"\n")
    over = _write(tmp_path, "over.yaml", b"x" * 100 + b"\n")
    source = read_source(tmp_path, at, max_bytes=100)
    assert isinstance(source, SourceFile) and source.text == "x" * 99 + "\n"
    assert read_source(tmp_path, over, max_bytes=100) == Diagnostic(
        "over.yaml", 1, DiagnosticKind.SIZE, "file is 101 bytes, over the 100-byte limit; skipped"
    )


def test_a_file_over_one_mebibyte_reads_whole(tmp_path: Path) -> None:
    data = b"".join(b"k%07d: v\n" % i for i in range(300_000))  # 3.3 MB, in several reads
    path = _write(tmp_path, "big.yaml", data)
    source = read_source(tmp_path, path, max_bytes=4 << 20)
    assert isinstance(source, SourceFile) and source.text.encode() == data


def test_reading_past_the_size_hint(tmp_path: Path) -> None:
    """A file longer than the size it had when stat'ed (it grew) is read on, up to the limit."""
    data = bytes(range(256)) * 5000
    path = _write(tmp_path, "grown", data)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert read_fd(fd, len(data) + 1, 10) == data
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_fd(fd, 1000, 10) == data[:1000]
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_fd(fd, len(data) + 1, len(data) + 1) == data
    finally:
        os.close(fd)
