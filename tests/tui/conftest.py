"""TUI fixtures: small repos written into tmp_path (and a copy of examples/demo)."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

from tuihelp import write_small_repo


@pytest.fixture
def small_repo(tmp_path: Path) -> Path:
    # A fixed directory name: the app shows the root's name, and snapshots must not vary.
    return write_small_repo(tmp_path / "repo")


@pytest.fixture
def demo_repo(demo_copy: Path) -> Path:
    """The TUI tests' name for tests/conftest.py's copy of examples/demo."""
    return demo_copy


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests on a fresh event loop (no pytest-asyncio needed for Pilot)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
