"""Screens around the review: clean repos, crashes, small terminals, long lines, keys (issue 12
items 4, 5, 6, 8, 11; issue 9 item 2 for the TUI)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from textual.widgets import Button

from migrate_tui.cli import build_parser, make_engine as cli_make_engine
from migrate_tui.pipeline.engine import FileScanned, ScanFinished
from migrate_tui.model.findings import Diagnostic
from migrate_tui.tui.app import EXIT_CRASHED, MigrateApp, exit_code
from migrate_tui.tui.diff_view import DiffView
from migrate_tui.tui.review_screen import ReviewScreen
from tuihelp import (
    BROKEN_YAML,
    FIXTURES,
    LARGE,
    SMALL,
    engines,
    make_engine,
    notifications,
    scanned,
    screen_lines,
    screen_text,
    select,
    wait_until,
    write_small_repo,
)

RULES_LINE = "migrate-tui looks for: DF001  Data-only image on a shell base"


async def test_an_empty_repository_says_it_is_clean_and_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    app = MigrateApp(engines(tmp_path / "empty"))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        view = app.query_one(DiffView)
        assert view._message.startswith("No findings in 0 files (0 not checked). " + RULES_LINE)
        assert "Scanning" not in screen_text(app)
        assert "No findings in 0 files (0 not checked)." in screen_text(app)


async def test_a_clean_repository_counts_files_and_those_not_checked(tmp_path: Path) -> None:
    root = tmp_path / "clean"
    (root / "deploy").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "IV001/clean_already_image_volume.yaml", root / "deploy/app.yaml")
    (root / "deploy/broken.yaml").write_text(BROKEN_YAML)
    app = MigrateApp(engines(root))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        assert not app.review_screen.review.findings and [d.path for d in app.review_screen.review.diagnostics] == ["deploy/broken.yaml"]
        assert app.review_screen.result.files_scanned == 2
        assert app.query_one(DiffView)._message.startswith("No findings in 2 files (1 not checked). " + RULES_LINE)
        assert "No findings in 2 files (1 not checked)." in screen_text(app)


class CrashingEngine:
    """The real engine, plus one file whose check crashed (an internal diagnostic, as the core
    reports a rule's exception) — or a scan that fails as a whole."""

    def __init__(self, root: Path, *, fail: bool = False) -> None:
        self.root = root
        self.fail = fail

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def __call__(self, *, mode=None):  # the app's Engine factory: a fresh real engine, same wrapper
        self._engine = make_engine(self.root, mode)
        return self

    def iter_scan(self):
        crash = Diagnostic("deploy/agent.yaml", 1, "internal", "IndexError: list index out of range (in IV001)")
        for event in self._engine.iter_scan():
            if self.fail and isinstance(event, FileScanned):
                raise RuntimeError("the worker pool died")
            if isinstance(event, FileScanned) and event.path == "deploy/agent.yaml":
                event = dataclasses.replace(event, findings=(), diagnostics=(crash,))
            elif isinstance(event, ScanFinished):
                event.result.findings = [f for f in event.result.findings if f.location.path != "deploy/agent.yaml"]
                event.result.diagnostics = sorted([*event.result.diagnostics, crash])
            yield event


async def test_an_internal_error_is_shown_per_file_and_the_exit_code_says_so(small_repo: Path) -> None:
    app = MigrateApp(CrashingEngine(small_repo))  # type: ignore[arg-type]
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        diagnostics = app.review_screen.findings_tree.root.children[-1]
        assert str(diagnostics.label) == "Diagnostics  (3) not checked, 1 crashed"
        labels = [str(node.label) for node in diagnostics.children]
        assert "✗ deploy/agent.yaml:1 internal error" in labels
        node = next(n for n in diagnostics.children if "internal error" in str(n.label))
        app.review_screen.findings_tree.select_item(node.data)
        await pilot.pause()
        text = screen_text(app)
        assert "deploy/agent.yaml: migrate-tui crashed on this file" in text
        assert "IndexError: list index out of range (in IV001)" in text
        assert "1 crashed" in str(app.query_one("#topbar").render())
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, "exit")
    assert exit_code(app) == EXIT_CRASHED


async def test_a_failed_scan_never_exits_0(small_repo: Path) -> None:
    app = MigrateApp(CrashingEngine(small_repo, fail=True))  # type: ignore[arg-type]
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: app.review_screen.scan_error is not None, "the failure")
        assert app.review_screen.scan_error == "RuntimeError: the worker pool died"
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, "exit")
    assert exit_code(app) == EXIT_CRASHED


def explode(self) -> None:
    raise ValueError("a bug in a widget")


async def test_an_app_crash_never_exits_0(small_repo: Path, monkeypatch) -> None:
    monkeypatch.setattr(ReviewScreen, "action_help", explode)
    app = MigrateApp(engines(small_repo))
    try:
        async with app.run_test(size=SMALL) as pilot:
            await scanned(pilot)
            await pilot.press("question_mark")
            await pilot.pause()
    except ValueError:
        pass
    assert app.return_code == 1 and exit_code(app) == EXIT_CRASHED


async def test_80x24_keeps_counts_mode_help_and_quit_and_dialog_buttons(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo, mode="zero-rebuild"))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        lines = screen_lines(app)
        assert lines[0].rstrip() == " migrate-tui  ✓ 2  ▲ 1  ◆ 1  ! 2  accepted 0  mode zero-rebuild"
        assert "? Help" in lines[-1] and "q Quit" in lines[-1]
        # The filter box has focus: its keys lead the footer.
        await pilot.press("slash")
        assert screen_lines(app)[-1].lstrip().startswith("⏎ Apply esc Clear")
        await pilot.press("escape", "a", "w")
        # The write dialog shows both buttons and its own keys, not the main screen's.
        for button in app.screen.query(Button):
            region = button.region
            assert region.height and region.bottom <= 23, (button.id, region)
        assert screen_lines(app)[-1].strip() == "y Yes n No"
        await pilot.press("n", "question_mark")
        assert "esc Close" in screen_lines(app)[-1]


async def test_a_long_changed_line_is_readable_side_by_side(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    packages = " ".join(f"package-number-{i}" for i in range(12))
    (root / "Dockerfile").write_text(f"FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y {packages}\n")
    app = MigrateApp(engines(root))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, "Dockerfile")
        view = app.query_one(DiffView)
        assert not view.unified and view.wrap
        assert view.screen_lines > view.line_count  # the long rows wrap
        # The added cleanup is on screen, however long the line (pieces of a row, joined).
        half = (view.size.width - 1) // 2
        right = "".join(
            line[half + 1 :][view._number_width + 3 :].rstrip()
            for line in (str("".join(s.text for s in view.render_line(y))) for y in range(view.size.height))
        )
        assert "&& rm -rf /var/lib/apt/lists/*" in right
        # Without wrapping, a new diff starts scrolled to the first changed column.
        await pilot.press("s")
        assert not view.wrap
        view.show_diff(view._diff)
        await pilot.pause()
        assert view.scroll_x > 0


async def test_the_diff_is_unified_when_the_halves_would_be_too_narrow(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        view = app.query_one(DiffView)
        assert view.unified
        assert app.query_one("#diff-panel").border_title.endswith("— unified")
        await pilot.press("u")
        assert not view.unified
        await pilot.press("u")
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        assert not app.query_one(DiffView).unified


async def test_keys_people_already_know(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        tree = app.review_screen.findings_tree
        await pilot.press("G")
        assert tree.cursor_line == tree.last_line
        await pilot.press("g")
        assert tree.cursor_line == 0
        await pilot.press("j")
        finding = app.review_screen.current
        assert tree.cursor_node.data.kind == "finding"
        await pilot.press("h")  # to the group
        assert tree.cursor_node.data.kind == "group"
        await pilot.press("h")  # fold it
        assert not tree.cursor_node.is_expanded
        await pilot.press("l")
        assert tree.cursor_node.is_expanded

        # n / N: next / previous pending change-set (the manual one and accepted ones are skipped)
        def at() -> str:
            return app.review_screen.current.location.path

        await pilot.press("g", "n")
        assert at() == "deploy/checkout.yaml"
        await pilot.press("n")
        assert at() == "deploy/site.yaml"
        await pilot.press("n")
        assert at() == "deploy/agent.yaml"
        await pilot.press("space", "n")
        assert at() == "deploy/checkout.yaml"
        await pilot.press("N")
        assert at() == "deploy/site.yaml"
        # J / K page the diff from the tree; H / L scroll it sideways when not wrapping.
        await select(pilot, "deploy/site.yaml")
        view = app.query_one(DiffView)
        view.full_context = True
        await pilot.pause()
        await pilot.press("J")
        assert view.scroll_y > 0 and app.focused is tree
        await pilot.press("K")
        assert view.scroll_y == 0
        assert finding is not None


async def test_o_opens_the_editor_at_the_finding_line(small_repo: Path, tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "editor.log"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$@" > {log}\n')
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/site.yaml")
        await pilot.press("o")
        await pilot.pause()
        # Headless, the app can't hand the terminal over: it says so instead of crashing.
        if log.exists():
            assert log.read_text().split() == ["+20", str(small_repo / "deploy/site.yaml")]
        else:
            assert notifications(app)[-1].startswith(f"could not open {editor}")


def test_the_tui_uses_the_result_cache(tmp_path: Path) -> None:
    root = write_small_repo(tmp_path / "repo")
    args = build_parser().parse_args(["tui", str(root)])
    engine = cli_make_engine(args, [args.path])
    assert engine.cache is True
    assert engine.renewed().cache is True and engine.renewed(mode="scratch").mode == "scratch"  # the factory cli.py passes
    args = build_parser().parse_args(["tui", "--no-cache", str(root)])
    assert cli_make_engine(args, [args.path]).cache is False


async def test_the_file_count_shows_while_the_pool_starts(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        from migrate_tui.tui.messages import ScanBegan

        app.review_screen.post_message(ScanBegan(app.review_screen.generation, 5000))
        await pilot.pause()
        assert str(app.query_one("#scan-label").render()).strip() == "Scanning 5000 files in repo…"


async def test_a_big_tree_is_filtered_once_typing_pauses(small_repo: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.tui.review_screen.FILTER_AT_ONCE", 0)  # treat the small repo as a big one
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        await pilot.press("slash", *"path:agent")
        await wait_until(pilot, lambda: len(app.review_screen.findings_tree.finding_keys) == 1, "the filter after the pause")
        assert app.review_screen.current.location.path == "deploy/agent.yaml"
        await pilot.press(*" nothing", "enter")  # enter applies at once
        assert app.review_screen.findings_tree.finding_keys == [] and app.focused is app.review_screen.findings_tree
