"""Estimated savings for Dockerfile findings, from a table of published base-image sizes
(``data/base_images.json``: compressed size, source and date of every figure).

A base that is not in the table is "unknown": the estimate never guesses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, TypedDict

from migrate_tui.parse.imageref import parse_image_ref


@dataclass(frozen=True)
class BaseSize:
    image: str
    compressed_mb: float
    source: str
    as_of: str


class _TableEntry(TypedDict):
    """One entry of ``images`` in data/base_images.json."""

    repository: str
    tags: str | list[str]  # "*": every recent tag
    compressed_mb: float
    source: str
    as_of: str


@lru_cache(maxsize=1)
def _table() -> list[_TableEntry]:
    raw = resources.files("migrate_tui.data").joinpath("base_images.json").read_text(encoding="utf-8")
    images: list[_TableEntry] = json.loads(raw)["images"]
    return images


def base_size(image: str) -> BaseSize | None:
    """The published compressed size of ``image``, or None when the table doesn't know it."""
    text = image.strip()
    if text.lower() == "scratch":
        entry = _table()[0]
        return BaseSize("scratch", 0, entry["source"], entry["as_of"])
    ref = parse_image_ref(text)
    if ref is None:
        return None
    tag = ref.tag if ref.tag is not None else ("latest" if ref.digest is None else None)
    for entry in _table():
        wanted = parse_image_ref(entry["repository"]) if entry["repository"] != "scratch" else None
        if wanted is None or not wanted.same_repository(ref):
            continue
        tags = entry["tags"]
        if tags == "*" or (tag is not None and tag in tags):
            return BaseSize(ref.familiar, float(entry["compressed_mb"]), entry["source"], entry["as_of"])
    return None


def _short(image: str) -> str:
    name, at, digest = image.partition("@")
    return f"{name}@{digest[:19]}…" if at and len(digest) > 19 else image


def _mb(value: float) -> str:
    if value == 0:
        return "0 MB"
    return f"{value:.1f} MB" if value < 10 else f"{value:.0f} MB"


def _two_figures(value: float) -> float:
    """The table's figures have two significant figures; so does a difference of them."""
    if value == 0:
        return 0.0
    from math import floor, log10

    return round(value, 1 - int(floor(log10(abs(value)))))


def base_swap(old: str, new: str) -> dict[str, Any]:
    """What replacing base ``old`` by ``new`` saves per image pull (``finding.data['savings']``)."""
    before, after = base_size(old), base_size(new)
    data: dict[str, Any] = {"kind": "base", "from": old, "to": new, "saved_mb": None, "sources": []}
    for size in (before, after):
        if size is not None and size.image != "scratch":
            data["sources"].append(f"{size.image}: {_mb(size.compressed_mb)} compressed, {size.source}, {size.as_of}")
    if before is None:
        data["text"] = f"savings unknown: {_short(old)} is not in the size table"
        return data
    if after is None:
        data["text"] = f"up to {_mb(before.compressed_mb)} compressed ({_short(old)}); {new} size unknown"
        return data
    saved = _two_figures(max(before.compressed_mb - after.compressed_mb, 0))
    data["saved_mb"] = saved
    data["text"] = (
        f"saves ~{_mb(saved)} compressed per pull: {_short(before.image)} {_mb(before.compressed_mb)} → {new} {_mb(after.compressed_mb)}"
    )
    return data


def measured(kind: str, size_bytes: int | None, text: str) -> dict[str, Any]:
    """Savings from something migrate-tui measured itself (bytes in the build context)."""
    return {
        "kind": kind,
        "bytes": size_bytes,
        "saved_mb": round(size_bytes / 1e6, 1) if size_bytes else None,
        "text": text,
        "sources": ["measured in the build context by migrate-tui"],
    }


def unknown(kind: str, what: str) -> dict[str, Any]:
    return {"kind": kind, "saved_mb": None, "text": f"savings unknown: {what}", "sources": []}


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"
