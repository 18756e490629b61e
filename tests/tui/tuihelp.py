"""Helpers for the TUI tests: wait on the app without fixed sleeps, pick findings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from migrate_tui.repo.config import Config
from migrate_tui.pipeline.engine import Engine
from migrate_tui.platform.target import parse_target
from migrate_tui.tui.review_screen import EngineFactory

SIZE = (140, 40)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# repo path -> fixture it is copied from (each has a .fixed.yaml golden file when fixable)
SMALL_REPO = {
    "deploy/agent.yaml": "IV001/cp_single_file.yaml",  # safe
    "deploy/site.yaml": "IV001/cp_r_dot_contents.yaml",  # safe
    "deploy/checkout.yaml": "IV001/unsafe_read_write_consumer.yaml",  # unsafe
    "deploy/tools.yaml": "IV001/manual_chmod_after_copy.yaml",  # manual
}
BROKEN_YAML = "apiVersion: v1\nkind: Pod\nspec:\n  initContainers: [\n  - name: x\n"
HELM_TEMPLATE = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
    "  template:\n    spec:\n      initContainers:\n      - name: copy\n        image: {{ .Values.image }}\n"
)


def fixed(fixture: str) -> str:
    return (FIXTURES / fixture.replace(".yaml", ".fixed.yaml")).read_text(encoding="utf-8")


def write_small_repo(root: Path) -> Path:
    for rel, fixture in SMALL_REPO.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, target)
    (root / "deploy" / "broken.yaml").write_text(BROKEN_YAML, encoding="utf-8")
    (root / "chart" / "templates").mkdir(parents=True)
    (root / "chart" / "templates" / "deployment.yaml").write_text(HELM_TEMPLATE, encoding="utf-8")
    return root


def make_engine(root: Path, mode: str | None = None) -> Engine:
    return Engine(root, Config(target=parse_target("k8s=1.36,containerd=2.2")), mode=mode)


def engines(root: Path, mode: str | None = None) -> EngineFactory:
    """The app's Engine factory for ``root``: a fresh engine per call, in ``mode`` unless the app asks for another."""
    initial = mode

    def new_engine(*, mode: str | None = None) -> Engine:
        return make_engine(root, mode or initial)

    return new_engine


async def wait_until(pilot, condition: Callable[[], bool], what: str = "condition", attempts: int = 1000) -> None:
    """Let the app run until ``condition()`` holds (each round processes pending messages)."""
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def scanned(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.review_screen.result is not None and not app.review_screen.scanning, "the scan")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def written(pilot) -> None:
    app = pilot.app
    await wait_until(
        pilot, lambda: app.review_screen.last_summary is not None and app.review_screen.last_summary.is_attached, "the write summary"
    )
    await app.workers.wait_for_complete()


def key_of(app, path: str) -> str:
    return next(f.key for f in app.review_screen.review.findings if f.location.path == path)


async def select(pilot, path: str) -> None:
    app = pilot.app
    assert app.review_screen.findings_tree.select_finding(key_of(app, path))
    await pilot.pause()
    assert app.review_screen.current is not None and app.review_screen.current.location.path == path


SMALL = (80, 24)
LARGE = (160, 45)


def screen_lines(app) -> list[str]:
    """The text on screen now (what the terminal shows), one string per row."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def screen_text(app) -> str:
    return "\n".join(screen_lines(app))


def click_actions(app) -> set[str]:
    """Every `@click` action a mouse click anywhere on screen would run."""
    width, height = app.size
    found = set()
    for y in range(height):
        for x in range(width):
            meta = app.screen.get_style_at(x, y).meta
            if "@click" in meta:
                found.add(str(meta["@click"]))
    return found


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def finding_of(app, rule: str, path: str):
    return next(f for f in app.review_screen.review.findings if f.rule == rule and f.location.path == path)


def label_of(app, finding) -> str:
    return str(app.review_screen.findings_tree._findings[finding.key].label)
