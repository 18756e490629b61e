"""Pilot tests: each review flow, asserting on app state and on the bytes on disk."""

from __future__ import annotations

import threading
from pathlib import Path

from migrate_tui.pipeline.engine import ScanFinished
from migrate_tui.model.findings import Applicability
from migrate_tui.tui.app import MigrateApp
from migrate_tui.tui.screens import ConfirmDialog, HelpScreen, WriteSummary
from tuihelp import SIZE, SMALL_REPO, fixed, engines, make_engine, scanned, select, wait_until, written


def snapshot_bytes(root: Path) -> dict[str, bytes]:
    """Every file's bytes, except the core's own cache directory (it has a .gitignore)."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file())
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in files
        if not p.relative_to(root).as_posix().startswith(".migrate-tui-cache/")
    }


async def test_scan_streams_findings_and_diagnostics_into_the_tree(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        counts = app.review_screen.review.counts()
        assert (counts["safe"], counts["unsafe"], counts["manual"]) == (2, 1, 1)
        assert sorted({f.location.path for f in app.review_screen.review.findings}) == sorted(SMALL_REPO)
        # Diagnostics are their own section of the tree, not lost.
        kinds = {d.path: d.kind for d in app.review_screen.review.diagnostics}
        assert kinds == {"deploy/broken.yaml": "parse", "chart/templates/deployment.yaml": "template"}
        labels = [str(node.label) for node in app.review_screen.findings_tree.root.children]
        assert labels[-1].startswith("Diagnostics") and "(2)" in labels[-1]
        assert len(app.review_screen.findings_tree.root.children[-1].children) == 2
        # A finding is selected and its diff is on screen; the progress row is gone.
        assert app.review_screen.current is not None
        assert app.query_one("#diff").line_count > 0
        assert not app.query_one("#scan-status").display
        assert app.review_screen.first_paint is not None


async def test_accept_one_and_write(small_repo: Path) -> None:
    before = snapshot_bytes(small_repo)
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/agent.yaml")
        await pilot.press("space")
        assert app.review_screen.review.accepted == {app.review_screen.review.set_of(app.review_screen.current)}
        await pilot.press("w")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.id == "confirm-write"
        await pilot.press("y")
        await written(pilot)
        summary = app.screen
        assert isinstance(summary, WriteSummary)
        assert summary.written == ["deploy/agent.yaml"] and summary.skipped == [] and summary.failed == []
        assert not app.review_screen.review.accepted
        await pilot.press("enter")
        await scanned(pilot)  # the app re-plans from disk after a write
        assert "deploy/agent.yaml" not in {f.location.path for f in app.review_screen.review.findings}
    after = snapshot_bytes(small_repo)
    assert after["deploy/agent.yaml"].decode() == fixed(SMALL_REPO["deploy/agent.yaml"])
    assert {k: v for k, v in after.items() if k != "deploy/agent.yaml"} == {k: v for k, v in before.items() if k != "deploy/agent.yaml"}


async def test_accept_all_safe_leaves_unsafe_and_manual(small_repo: Path) -> None:
    before = snapshot_bytes(small_repo)
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await pilot.press("a")
        accepted = {f.location.path for f in app.review_screen.review.accepted_findings()}
        assert accepted == {"deploy/agent.yaml", "deploy/site.yaml"}
        assert all(f.applicability is Applicability.SAFE for f in app.review_screen.review.accepted_findings())
        await pilot.press("w", "y")
        await written(pilot)
        assert sorted(app.screen.written) == ["deploy/agent.yaml", "deploy/site.yaml"]
    after = snapshot_bytes(small_repo)
    for path in ("deploy/agent.yaml", "deploy/site.yaml"):
        assert after[path].decode() == fixed(SMALL_REPO[path])
    for path in ("deploy/checkout.yaml", "deploy/tools.yaml", "deploy/broken.yaml"):
        assert after[path] == before[path]


async def test_unsafe_needs_an_explicit_confirm_naming_the_assumption(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/checkout.yaml")
        finding = app.review_screen.current
        assert finding.applicability is Applicability.UNSAFE and finding.fix.assumption
        await pilot.press("space")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.id == "confirm-unsafe"
        assert " ".join(finding.fix.assumption.split()) in " ".join(dialog.text.split())
        await pilot.press("n")
        assert not app.review_screen.review.is_accepted(finding)
        await pilot.press("space")
        await pilot.press("y")
        assert app.review_screen.review.is_accepted(finding)
        # `a` never accepts unsafe ones; space again rejects without a dialog.
        await pilot.press("space")
        assert not app.review_screen.review.is_accepted(finding) and app.screen is app.screen_stack[0]
        await pilot.press("a")
        assert not app.review_screen.review.is_accepted(finding)


async def test_manual_findings_cannot_be_accepted(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/tools.yaml")
        await pilot.press("space")
        assert not app.review_screen.review.accepted
        messages = [n.message for n in app._notifications]
        assert any("deploy/tools.yaml: no automatic rewrite:" in m for m in messages), messages
        # A manual finding never had a rewrite to refuse: the panel says there is none, and why.
        from migrate_tui.tui.explain import finding_explanation
        from migrate_tui.tui.screens import plain_text

        panel = plain_text(finding_explanation(app.review_screen.current, False), width=200)
        assert f"No automatic rewrite\n{app.review_screen.current.fix_blocked}" in panel and "refused" not in panel.lower()


async def test_quit_guard_on_accepted_but_unwritten_changes(small_repo: Path) -> None:
    before = snapshot_bytes(small_repo)
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await pilot.press("a", "q")
        assert isinstance(app.screen, ConfirmDialog) and app.screen.id == "confirm-quit"
        await pilot.press("n")
        assert app.is_running and not isinstance(app.screen, ConfirmDialog)
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: not app.is_running, "exit")
    assert app.return_value == 0
    assert snapshot_bytes(small_repo) == before


async def test_quit_without_decisions_exits_at_once(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, "exit")


async def test_file_changed_on_disk_before_write_is_skipped(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    target = small_repo / "deploy" / "agent.yaml"
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/agent.yaml")
        await pilot.press("space")
        edited = target.read_bytes() + b"# edited by someone else while reviewing\n"
        target.write_bytes(edited)
        await pilot.press("w", "y")
        await written(pilot)
        summary = app.screen
        assert summary.written == []
        assert [(f.location.path, "changed on disk" in reason) for f, reason in summary.skipped] == [("deploy/agent.yaml", True)]
        assert "skipped: deploy/agent.yaml" in summary.text
        # Still accepted: the user can re-scan and write again.
        assert app.review_screen.review.is_accepted(app.review_screen.review.by_key(summary.skipped[0][0].key))
    assert target.read_bytes() == edited


async def test_filter_by_applicability_rule_and_text(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        everything = set(app.review_screen.findings_tree.finding_keys)
        await pilot.press("slash")
        assert app.focused.id == "filter"
        await pilot.press(*"is:unsafe")
        unsafe = {f.key for f in app.review_screen.review.findings if f.applicability is Applicability.UNSAFE}
        assert set(app.review_screen.findings_tree.finding_keys) == unsafe
        app.query_one("#filter").value = "rule:IV001 site"
        await pilot.pause()
        assert [app.review_screen.review.by_key(k).location.path for k in app.review_screen.findings_tree.finding_keys] == [
            "deploy/site.yaml"
        ]
        app.query_one("#filter").value = "is:nonsense"
        await pilot.pause()
        assert "use one of" in app.query_one("#filter").border_subtitle
        await pilot.press("escape")
        assert set(app.review_screen.findings_tree.finding_keys) == everything and app.focused is app.review_screen.findings_tree
        # j/k move through the tree
        line = app.review_screen.findings_tree.cursor_line
        await pilot.press("j")
        assert app.review_screen.findings_tree.cursor_line == line + 1
        await pilot.press("k")
        assert app.review_screen.findings_tree.cursor_line == line


async def test_mode_toggle_cycles_and_keeps_decisions_that_survive(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo, mode="zero-rebuild"))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await pilot.press("a")
        accepted = set(app.review_screen.review.accepted)
        assert len(accepted) == 2
        first = app.review_screen.engine
        await pilot.press("m")
        await scanned(pilot)
        assert app.review_screen.engine is not first and app.review_screen.engine.mode == "scratch"
        # Decisions are kept for change-sets the re-plan left unchanged; the others are pending
        # again and say why (never silently accepted with a different fix).
        for path in ("deploy/agent.yaml", "deploy/site.yaml"):
            finding = next(f for f in app.review_screen.review.findings if f.location.path == path)
            cid = app.review_screen.review.set_of(finding)
            if cid in accepted:
                assert app.review_screen.review.is_accepted(finding)
            else:
                assert not app.review_screen.review.is_accepted(finding)
                assert app.review_screen.review.reset_reason(finding).startswith(
                    "You had accepted this change-set, but the re-plan changed it"
                )
        await pilot.press("m")
        await scanned(pilot)
        assert app.review_screen.engine.mode == "auto"
        await pilot.press("m")
        await scanned(pilot)
        assert app.review_screen.engine.mode == "zero-rebuild"


async def test_views_help_and_palette(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/site.yaml")
        view = app.query_one("#diff")
        view.choose_unified(False)
        split_rows = view.line_count
        await pilot.press("u")
        assert view.unified and view.line_count >= split_rows
        await pilot.press("u", "z")
        assert view.full_context
        await pilot.press("e")
        assert app.screen.has_class("explain-wide")
        await pilot.press("e", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.press(*"accept all safe")
        await wait_until(
            pilot, lambda: "accept all safe" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt), "palette hit"
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.review_screen.review.accepted) == 2, "palette action")


async def test_demo_repo_accept_all_safe_and_write(demo_repo: Path) -> None:
    app = MigrateApp(engines(demo_repo))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        safe = [f for f in app.review_screen.review.findings if f.applicability is Applicability.SAFE and f.fixable]
        assert safe
        await pilot.press("a", "w", "y")
        await written(pilot)
        assert sorted(app.screen.written) == sorted({p for f in safe for p in f.fix.paths})
        await pilot.press("enter")
        await scanned(pilot)
        assert not [f for f in app.review_screen.review.findings if f.applicability is Applicability.SAFE]


class HeldEngine:
    """Wraps a real engine and holds the end of the scan until the test releases it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.release = threading.Event()

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def __call__(self, *, mode=None):  # the app's Engine factory: a fresh real engine, same wrapper
        self._engine = make_engine(self.root, mode)
        return self

    def iter_scan(self):
        for event in self._engine.iter_scan():
            if isinstance(event, ScanFinished):
                assert self.release.wait(30), "the test never released the scan"
            yield event


async def test_findings_stream_in_before_the_scan_finishes(small_repo: Path) -> None:
    engine = HeldEngine(small_repo)
    app = MigrateApp(engine)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.review_screen.findings_tree.finding_keys) == 4, "streamed findings")
        assert app.review_screen.scanning and app.review_screen.result is None
        assert app.review_screen.current is not None  # the first finding is selected while the scan runs
        assert app.query_one("#scan-status").display
        assert str(app.query_one("#scan-label").render()).startswith("Scanning")
        engine.release.set()
        await scanned(pilot)
        assert len(app.review_screen.findings_tree.finding_keys) == 4 and not app.query_one("#scan-status").display
