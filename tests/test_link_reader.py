"""The link index reads each file with one open, fstat and read (on a fresh tree it reads every
manifest); what it reads and stamps is what ``Path.read_text`` after ``is_symlink``/``is_file``/
size checks gave, for every kind of file a repository can hold."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from migrate_tui.analysis.links.index import _MAX_READ, _image_lines, _Reader


def _reference(root: Path, rel: str) -> tuple[str | None, list[int]]:
    """The reader as it was: stat (following links), then checks, then Path.read_text."""
    path = root / rel
    try:
        st = os.stat(path)
        stamp = [st.st_size, st.st_ctime_ns]
    except OSError:
        stamp = [-1, -1]
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_READ:
            return None, stamp
        return path.read_text(encoding="utf-8-sig").replace("\r\n", "\n"), stamp
    except (OSError, UnicodeDecodeError):
        return None, stamp


FILES: dict[str, bytes] = {
    "plain.yaml": b"image: a\n",
    "crlf.yaml": b"a: 1\r\nb: 2\r\n",
    "mixed.yaml": b"a: 1\r\nb: 2\nc: 3\rd: 4\r",
    "bom.yaml": b"\xef\xbb\xbfimage: b\n",
    "bom-crlf.yaml": b"\xef\xbb\xbfimage: b\r\n",
    "latin1.yaml": b"name: caf\xe9\n",
    "empty.yaml": b"",
    "nul.yaml": b"a\0b\n",
    "big.yaml": b"x" * (_MAX_READ + 1),
    "at-limit.yaml": b"y" * _MAX_READ,
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.yaml").symlink_to("plain.yaml")
    (tmp_path / "dangling.yaml").symlink_to("nowhere.yaml")
    (tmp_path / "dirlink").symlink_to("sub")
    os.mkfifo(tmp_path / "fifo.yaml")
    return tmp_path


def test_reads_and_stamps_what_the_old_reader_did(tree: Path) -> None:
    names = [*FILES, "link.yaml", "dangling.yaml", "sub", "dirlink", "fifo.yaml", "missing.yaml"]
    reader = _Reader(tree)
    for rel in names:
        assert (reader.text(rel), reader.stamps[rel]) == _reference(tree, rel), rel
    assert reader.text("mixed.yaml") == "a: 1\nb: 2\nc: 3\nd: 4\n"  # universal newlines, as read_text
    assert reader.text("bom.yaml") == "image: b\n"
    assert reader.text("link.yaml") is None  # a link is not followed (its target is read in place)
    assert reader.text("fifo.yaml") is None  # opened without blocking, not read


# the line pattern the index used before (the definition; the index finds "image:" first)
_IMAGE_LINE = re.compile(r"^[ \t]*(?:-[ \t]+)?image:[ \t]*[\"']?([^\s\"'#]+)", re.M)

LINES = [
    "image: a\n",
    "  - image: 'b:1'\n",
    '-\timage:\t"c@sha256:00"\n',
    "x: 1 image: not-at-line-start\n",
    "# image: commented\n",
    "  -  - image: two-dashes\n",
    "image:\n",
    "image: d # comment\n",
    "\rimage: after-cr\n",
    "image: e\r\nimage: f",
    "- -image: g\n",
    "   image:h",
]


@given(st.lists(st.sampled_from(LINES) | st.text(alphabet=" \t-:#'\"\n\rimage", max_size=30), max_size=8))
@example(["x\n   image:h"])
def test_image_lines_finds_what_the_line_pattern_finds(parts: list[str]) -> None:
    text = "".join(parts)
    assert _image_lines(text) == [m.group(1) for m in _IMAGE_LINE.finditer(text)]


def test_image_lines_on_every_yaml_file_here() -> None:
    repo = Path(__file__).resolve().parents[1]
    roots = [repo / "tests", repo / "examples", repo.parent / "shared" / "corpus"]
    texts = [p.read_text(errors="replace") for r in roots if r.is_dir() for p in r.rglob("*.y*ml")]
    assert len(texts) > 200
    for text in texts:
        assert _image_lines(text) == [m.group(1) for m in _IMAGE_LINE.finditer(text)]
