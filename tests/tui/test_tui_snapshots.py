"""Snapshots of the main screens at 160×45 and 80×24 (pytest-textual-snapshot; `--snapshot-update` to accept).

The repo lives in tmp_path under a fixed name ("repo"), the app shows no clock, no elapsed
times and no absolute paths, so the pictures depend on the code only.
"""

from __future__ import annotations

from pathlib import Path

from migrate_tui.tui.app import MigrateApp
from tuihelp import LARGE, SMALL, engines, scanned, select

SIZE = LARGE


def app_for(root: Path) -> MigrateApp:
    return MigrateApp(engines(root, mode="zero-rebuild"))


def test_main_screen_findings_and_side_by_side_diff(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await select(pilot, "deploy/site.yaml")

    assert snap_compare(app_for(small_repo), terminal_size=SIZE, run_before=run_before)


def test_main_screen_at_80x24(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await select(pilot, "deploy/site.yaml")

    assert snap_compare(app_for(small_repo), terminal_size=SMALL, run_before=run_before)


def test_write_dialog_at_80x24_shows_its_buttons_and_keys(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await pilot.press("a")
        pilot.app.clear_notifications()
        await pilot.press("w")

    assert snap_compare(app_for(small_repo), terminal_size=SMALL, run_before=run_before)


def test_unified_diff(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await select(pilot, "deploy/site.yaml")
        await pilot.press("u")

    assert snap_compare(app_for(small_repo), terminal_size=SIZE, run_before=run_before)


def test_wide_explanation_of_an_unsafe_finding(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await select(pilot, "deploy/checkout.yaml")
        await pilot.press("e")

    assert snap_compare(app_for(small_repo), terminal_size=SIZE, run_before=run_before)


def test_unsafe_confirm_dialog(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await select(pilot, "deploy/checkout.yaml")
        await pilot.press("space")

    assert snap_compare(app_for(small_repo), terminal_size=SIZE, run_before=run_before)


def test_write_confirm_dialog(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await pilot.press("a")
        pilot.app.clear_notifications()
        await pilot.press("w")

    assert snap_compare(app_for(small_repo), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await pilot.press("question_mark")

    assert snap_compare(app_for(small_repo), terminal_size=SIZE, run_before=run_before)


def test_filter_and_diagnostics(snap_compare, small_repo: Path) -> None:
    async def run_before(pilot) -> None:
        await scanned(pilot)
        await pilot.press("slash", *"deploy", "enter")
        pilot.app.query_one("#filter").cursor_blink = False
        tree = pilot.app.review_screen.findings_tree
        tree.select_item(tree.root.children[-1].children[0].data)
        await pilot.pause()

    assert snap_compare(app_for(small_repo), terminal_size=SIZE, run_before=run_before)
