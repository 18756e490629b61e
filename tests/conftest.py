"""Shared test helpers: fixture discovery, a default engine, the path to ../shared (optional)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate_tui.core.config import Config
from migrate_tui.core.engine import Engine
from migrate_tui.core.target import parse_target

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
DEMO = REPO / "examples" / "demo"


def make_engine(root: Path, *, select: tuple[str, ...] = (), target: str = "k8s=1.36,containerd=2.2", mode: str | None = None) -> Engine:
    config = Config(select=select, target=parse_target(target))
    return Engine(root, config, mode=mode)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present (a user's clone has none)")
    return CORPUS


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    if not DEMO.is_dir():
        pytest.skip("examples/demo missing")
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target)
    return target
