"""Hostile file names in the TUI (issue 11 item 12, item 11 for the TUI): no markup, no escapes.

A name such as ``x[a=b:c].yaml`` used to crash the app (MarkupError) and then exit 0; a name
``[@click=app.screenshot()]CLICK[b].yaml`` ran an action on click; ``ESC[2J`` in a name reached
the terminal raw. The repo is built by the test in tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from migrate_tui.tui.app import MigrateApp, exit_code
from migrate_tui.tui.screens import ConfirmDialog
from tuihelp import BROKEN_YAML, FIXTURES, LARGE, SMALL, click_actions, engines, notifications, scanned, screen_lines, wait_until

MARKUP = "deploy/x[a=b:c].yaml"
CLICK = "deploy/[@click=app.screenshot()]CLICK[b].yaml"
ESCAPES = "deploy/esc\x1b[2J\x1b]0;pwned\x07.yaml"
BROKEN = "deploy/[bold]broken[b].yaml"
SHOWN_ESCAPES = "deploy/esc\\x1b[2J\\x1b]0;pwned\\x07.yaml"


def hostile_repo(root: Path) -> Path:
    (root / "deploy").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "IV001/cp_single_file.yaml", root / MARKUP)
    shutil.copyfile(FIXTURES / "IV001/cp_r_dot_contents.yaml", root / CLICK)
    shutil.copyfile(FIXTURES / "IV001/unsafe_read_write_consumer.yaml", root / ESCAPES)
    shutil.copyfile(FIXTURES / "IV001/manual_chmod_after_copy.yaml", root / "deploy/[red]manual.yaml")
    (root / BROKEN).write_text(BROKEN_YAML, encoding="utf-8")
    return root


class Recorder(MigrateApp):
    """The real app; only records whether the screenshot action ever ran."""

    screenshots = 0

    def action_screenshot(self, *args, **kwargs) -> None:
        type(self).screenshots += 1


def assert_clean_screen(app) -> None:
    for line in screen_lines(app):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
    actions = click_actions(app)
    assert all(action.startswith("screen.show_file(") for action in actions), actions


async def test_hostile_file_names_are_shown_literally_and_never_run_anything(tmp_path: Path) -> None:
    root = hostile_repo(tmp_path / "repo")
    app = Recorder(engines(root))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        assert app._exception is None
        paths = {f.location.path for f in app.review_screen.review.findings}
        assert {MARKUP, CLICK, ESCAPES, "deploy/[red]manual.yaml"} <= paths
        assert [d.path for d in app.review_screen.review.diagnostics] == [BROKEN]
        for key in app.review_screen.findings_tree.finding_keys:  # every finding on screen: tree, tabs, title, panel
            app.review_screen.findings_tree.select_finding(key)
            await pilot.pause()
            assert_clean_screen(app)
            finding = app.review_screen.review.by_key(key)
            title = app.query_one("#diff-panel").border_title
            if finding.fix is not None:
                shown = SHOWN_ESCAPES if finding.location.path == ESCAPES else finding.location.path
                assert title == f"{shown} — before | after".replace("[", "\\[") or title.startswith(shown[:8])
        text = "\n".join(screen_lines(app))
        assert "x[a=b:c].yaml" in text and "[@click=app.screenshot()]CLICK[b].yaml" in text
        assert SHOWN_ESCAPES in text and "[bold]broken[b].yaml" in text
        # Clicking every cell of the screen runs no action smuggled in by a name.
        width, height = app.size
        for y in range(1, height - 1):
            await pilot.click(offset=(width * 2 // 3, y))
        assert Recorder.screenshots == 0
        # Notifications and dialogs carry the names as text too.
        app.review_screen.findings_tree.select_finding(
            next(f.key for f in app.review_screen.review.findings if f.location.path == "deploy/[red]manual.yaml")
        )
        app.review_screen.findings_tree.focus()
        await pilot.pause()
        await pilot.press("space")
        assert notifications(app)[-1].startswith("IV001 deploy/[red]manual.yaml: no automatic rewrite")
        await pilot.press("a", "w")
        assert isinstance(app.screen, ConfirmDialog)
        assert [line.strip() for line in app.screen.text.splitlines()[2:4]] == sorted([CLICK, MARKUP])
        assert_clean_screen(app)
        await pilot.press("n", "q", "y")
        await wait_until(pilot, lambda: not app.is_running, "exit")
    assert app._exception is None and exit_code(app) == 0


async def test_the_scan_label_shows_a_hostile_path_as_text(tmp_path: Path) -> None:
    root = hostile_repo(tmp_path / "repo")
    app = MigrateApp(engines(root))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        from migrate_tui.tui.messages import ScanProgress

        app.review_screen.scanning = True
        app.query_one("#scan-status").display = True
        app.review_screen.post_message(ScanProgress(app.review_screen.generation, 1, 5, ESCAPES))
        await pilot.pause()
        assert str(app.query_one("#scan-label").render()).strip() == f"Scanning 1/5  {SHOWN_ESCAPES}"
        app.review_screen.post_message(ScanProgress(app.review_screen.generation, 2, 5, MARKUP))
        await pilot.pause()
        assert str(app.query_one("#scan-label").render()).strip() == f"Scanning 2/5  {MARKUP}"
        assert app._exception is None


async def test_file_tabs_show_hostile_paths_as_text_and_click_only_to_switch(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    app = MigrateApp(engines(tmp_path / "empty"))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        tabs = app.query_one("#file-tabs")
        tabs.display = True
        names = ["esc\x1b[2J.yaml", "a\\[b]", "[@click=app.quit()]x[/]", "z\\"]
        tabs.show(names, 1)
        await pilot.pause()
        shown = " esc\\x1b[2J.yaml   a\\[b]   [@click=app.quit()]x[/]   z\\ "
        assert str(tabs.render()).rstrip() == shown.rstrip()
        assert click_actions(app) >= {"screen.show_file(0)", "screen.show_file(3)"}
        assert all(a.startswith("screen.show_file(") for a in click_actions(app))
