"""Init images for the oracle: real OCI layouts whose files sit where a manifest's copies read.

Every copied directory gets the shapes a copy can get wrong: dot-files (top level and nested),
nested and empty directories, relative and absolute symlinks, files with odd modes, a file a
later layer deletes (whiteout), plus a file beside the directory and a directory whose name
starts with the same characters (prefix matching). A copied single file gets siblings, one a
dot-file. Layouts are written by ``oci.layout`` (the code ``migrate-tui build`` uses), so their
bytes are the ones ``verify`` reads back through ``oci.source``.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.oci.layout import FileEntry, Layout, make_layer, write_image
from migrate_tui.analysis.initcopy import Placement, analyse_pod_spec

BASE = [  # what any shell image has; never copied by the fixtures
    FileEntry("bin/sh", "file", b"#!busybox\n", 0o755),
    FileEntry("etc/passwd", "file", b"root:x:0:0:root:/root:/bin/sh\n"),
]
DELETED = "deleted-by-upper-layer.txt"  # in the lower layer, whited out by the upper one
SIBLING = "sibling.txt"  # beside a single copied file
DOT_SIBLING = ".sibling-dot"


def _file(path: str, mode: int = 0o644, label: str = "") -> FileEntry:
    """A file whose bytes name its path and image: two images never agree by accident."""
    return FileEntry(path, "file", f"/{path} in {label or 'an image'}\n".encode(), mode)


def directory_entries(image_dir: str, label: str = "") -> list[FileEntry]:
    """The tree placed at (and around) a copied directory."""
    d = image_dir.strip("/")
    j = lambda rel: f"{d}/{rel}" if d else rel
    parent = posixpath.dirname(d)
    out = [
        FileEntry(d, "dir", mode=0o755) if d else None,
        _file(j("index.html"), label=label),
        _file(j(".hidden"), label=label),
        _file(j(".dotdir/inner.txt"), label=label),
        _file(j("nested/deep/file.txt"), label=label),
        _file(j("nested/.nested-dot"), label=label),
        FileEntry(j("empty"), "dir", mode=0o755),
        FileEntry(j("rel-link"), "symlink", mode=0o777, linkname="nested/deep/file.txt"),
        FileEntry(j("abs-link"), "symlink", mode=0o777, linkname="/etc/passwd"),
        FileEntry(j("dangling-link"), "symlink", mode=0o777, linkname="../nowhere"),
        _file(j("tool.sh"), 0o4750, label=label),
        _file(j("secret.key"), 0o600, label=label),
        FileEntry(j("group-dir"), "dir", mode=0o2775),
        _file(j("group-dir/shared.txt"), 0o664, label=label),
        _file(j(DELETED), label=label),
        _file(j(f"only-in-{slug(label.rsplit('/', 1)[-1]) or 'image'}.txt"), label=label),  # one per image (merges)
    ]
    if d:
        out.append(_file(posixpath.join(parent, "outside.txt"), label=label))  # beside the copied dir
        out.append(_file(d + "-sibling/not-copied.txt", label=label))  # same prefix, another dir
    return [e for e in out if e is not None]


def file_entries(source: str, label: str = "") -> list[FileEntry]:
    """A copied single file and its siblings."""
    s = source.strip("/")
    parent = posixpath.dirname(s)
    return [
        _file(s, 0o640, label=label),
        _file(posixpath.join(parent, SIBLING), label=label),
        _file(posixpath.join(parent, DOT_SIBLING), label=label),
    ]


def placements_by_image(documents: list[dict]) -> dict[str, list[Placement]]:
    """image reference -> the placements its init containers copy (every pod spec of every document)."""
    out: dict[str, list[Placement]] = {}
    for doc in documents:
        for ref in find_pod_specs(doc):
            for flow in analyse_pod_spec(ref.spec):
                if flow.image and flow.placements:
                    out.setdefault(flow.image, []).extend(flow.placements)
    return out


def image_layers(placements: list[Placement], label: str = "", extra: list[FileEntry] = ()) -> list[tuple[bytes, bytes]]:
    """Two layers: the files, then an upper layer whiting out one file per copied directory."""
    entries: dict[str, FileEntry] = {e.path: e for e in BASE}
    whiteouts: list[FileEntry] = []
    for p in placements:
        if p.kind == "file":
            new = file_entries(p.source, label)
        else:
            new = directory_entries(p.image_dir, label)
            d = p.image_dir.strip("/")
            whiteouts.append(FileEntry(posixpath.join(d, ".wh." + DELETED), "file", b""))
        for e in new:
            # a path that is a directory for one copy stays a directory (a file placement inside a copied dir)
            if e.path in entries and entries[e.path].kind == "dir":
                continue
            entries[e.path] = e
    for e in extra:
        entries[e.path] = e
    # drop entries under a path that another entry made a file (keeps the tree well formed)
    files = {p for p, e in entries.items() if e.kind != "dir"}
    clean = [e for p, e in sorted(entries.items()) if not any(p.startswith(f + "/") for f in files)]
    layers = [make_layer(clean)]
    if whiteouts:
        layers.append(make_layer(whiteouts))
    return layers


def slug(reference: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", reference)


def write_layout(directory: Path, reference: str, layers: list[tuple[bytes, bytes]]) -> str:
    """Write ``layers`` tagged ``reference`` into a fresh layout; return its ``oci:DIR`` source."""
    write_image(Layout(directory), layers, tag=reference)
    return f"oci:{directory}"


def build_init_images(documents: list[dict], out: Path, assumed: list[str] = ()) -> dict[str, str]:
    """reference -> oci: source for every init image the documents copy from; ``assumed``
    directories (what an unsafe fix assumes the image has) are added to each, with one file."""
    sources = {}
    extra = [
        e
        for d in assumed
        for e in (FileEntry(d.strip("/"), "dir", mode=0o755), _file(d.strip("/") + "/assumed.txt", label="the assumption"))
    ]
    for reference, placements in sorted(placements_by_image(documents).items()):
        sources[reference] = write_layout(out / slug(reference), reference, image_layers(placements, reference, extra))
    return sources
