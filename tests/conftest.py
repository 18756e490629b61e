"""Shared pytest fixtures; the helpers (paths, make_engine, hypothesis profiles) are in testlib."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testlib import CORPUS, DEMO, FIXTURES, REPO, budget, make_engine  # noqa: F401 - re-exported for plugins and old imports


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
