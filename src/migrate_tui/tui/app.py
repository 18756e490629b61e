"""The review app: scan in a worker, review change-sets, accept, write — all through the Engine.

No rule logic lives here: findings, fixes and diffs come from ``core``; this module only
decides what to show and records the reviewer's decisions (``review.Review``).
"""

from __future__ import annotations

import inspect
import sys
import time

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.markup import escape
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, ProgressBar, Static, Tree
from textual.worker import get_current_worker

from ..core.diff import FileDiff, file_diffs
from ..core.engine import Engine, FileScanned, ScanFinished, ScanResult, ScanStarted
from ..core.model import Applicability, Diagnostic, Finding
from .commands import MigrateCommands
from .diff_view import DiffView
from .explain import ExplanationPanel, diagnostic_explanation, finding_explanation
from .findings_tree import DIAGNOSTICS, FindingsTree, Item
from .messages import FindingsArrived, ScanBegan, ScanCompleted, ScanFailed, ScanProgress, WriteCompleted, WriteFailed
from .review import Review, parse_query, why_not_acceptable
from .screens import HelpScreen, WriteSummary, confirm_quit, confirm_unsafe, confirm_write

BATCH_SECONDS = 0.1  # the worker posts findings and progress at most this often
TREE_SECONDS = 0.5  # while scanning, new findings join the tree at most this often (a repaint each)


class FileTabs(Static):
    """One tab per file of the selected change-set; click one, or `[` / `]`."""

    def show(self, paths: list[str], active: int) -> None:
        tabs = []
        for index, path in enumerate(paths):
            style = "reverse bold" if index == active else "dim"
            tabs.append(f"[{style} @click=app.show_file({index})] {escape(path)} [/]")
        self.update(" ".join(tabs))


class MigrateApp(App[int]):
    TITLE = "migrate-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {MigrateCommands}
    BINDINGS = [
        Binding("space", "toggle_accept", "Accept", id="accept", tooltip="accept or reject the selected change-set"),
        Binding("a", "accept_all_safe", "Accept safe", id="accept-safe", tooltip="accept every safe change-set"),
        Binding("w", "write", "Write", id="write", tooltip="write the accepted change-sets (asks first)"),
        Binding("slash", "filter", "Filter", id="filter", key_display="/", tooltip="rule:IV001 is:safe path:deploy/ words"),
        Binding("m", "toggle_mode", "Mode", id="mode", tooltip="zero-rebuild ↔ scratch, then re-plan"),
        Binding("u", "toggle_unified", "Unified", id="unified", tooltip="side-by-side ↔ unified diff"),
        Binding("z", "toggle_context", "Whole file", id="context", show=False, tooltip="folded hunks ↔ whole file"),
        Binding("e", "toggle_explanation", "Explain", id="explain", tooltip="widen the explanation panel"),
        Binding("right_square_bracket", "next_file", "Next file", id="next-file", key_display="]", show=False),
        Binding("left_square_bracket", "previous_file", "Prev file", id="prev-file", key_display="[", show=False),
        Binding("r", "rescan", "Re-scan", id="rescan", show=False, tooltip="scan the repository again"),
        Binding("question_mark", "help", "Help", id="help", key_display="?", tooltip="keys and filter syntax"),
        Binding("q", "quit", "Quit", id="quit", tooltip="asks first when accepted changes are unwritten"),
    ]

    def __init__(self, engine: Engine, *, write_enabled: bool = True) -> None:
        _start_resource_tracker()
        super().__init__()
        self.engine = engine
        self.write_enabled = write_enabled
        self.review = Review()
        self.query_text = ""
        self.result: ScanResult | None = None
        self.scanning = False
        self.writing = False
        self.generation = 0
        self.scan_total = 0
        self.scan_done = 0
        self.current: Finding | None = None
        self.current_diagnostic: Diagnostic | None = None
        self.last_summary: WriteSummary | None = None
        self._diffs: dict[str, list[FileDiff]] = {}
        self._file_index = 0
        self.first_paint: float | None = None
        self._pending_findings: list[Finding] = []
        self._pending_diagnostics: list[Diagnostic] = []
        self._flush_timer = None
        self.scan_error: str | None = None

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal(id="scan-status"):
            yield Label("Starting…", id="scan-label")
            yield ProgressBar(id="scan-progress", show_eta=False)
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Input(placeholder="filter: rule:IV001 is:safe path:deploy/ words", id="filter")
                yield FindingsTree(id="tree")
            with Vertical(id="right"):
                with Vertical(id="diff-panel"):
                    yield FileTabs(id="file-tabs")
                    yield DiffView(id="diff")
                yield ExplanationPanel(id="explanation")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#tree", FindingsTree).focus()
        self.query_one("#diff", DiffView).show_diff(None, "Scanning… findings appear on the left as they are found.")
        self._update_topbar()
        self.call_after_refresh(self._painted)
        self.start_scan()

    def _painted(self) -> None:
        self.first_paint = time.perf_counter()

    # -- scanning ---------------------------------------------------------------------------
    def start_scan(self) -> None:
        self._cancel_flush()
        self.generation += 1
        self.scanning = True
        self.scan_error = None
        self.result = None
        self._diffs.clear()
        self.scan_done = self.scan_total = 0
        self.query_one("#scan-status").display = True
        self.query_one("#scan-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#scan-label", Label).update(f"Scanning {self.engine.root.name}…")
        self._scan(self.engine, self.generation)

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def _scan(self, engine: Engine, generation: int) -> None:
        worker = get_current_worker()
        findings: list[Finding] = []
        diagnostics: list[Diagnostic] = []
        last = 0.0
        try:
            for event in engine.iter_scan():
                if worker.is_cancelled:
                    return
                if isinstance(event, ScanStarted):
                    self.post_message(ScanBegan(generation, event.total))
                elif isinstance(event, FileScanned):
                    findings += event.findings
                    diagnostics += event.diagnostics
                    now = time.monotonic()
                    if now - last >= BATCH_SECONDS or event.index == event.total:
                        last = now
                        if findings or diagnostics:
                            self.post_message(FindingsArrived(generation, tuple(findings), tuple(diagnostics)))
                            findings, diagnostics = [], []
                        self.post_message(ScanProgress(generation, event.index, event.total, event.path))
                elif isinstance(event, ScanFinished):
                    self.post_message(ScanCompleted(generation, event.result))
        except Exception as exc:  # a bug in a rule must not take the UI down with it
            self.post_message(ScanFailed(generation, f"{type(exc).__name__}: {exc}"))

    def on_scan_began(self, message: ScanBegan) -> None:
        if message.generation == self.generation:
            self.scan_total = message.total
            self.query_one("#scan-progress", ProgressBar).update(total=max(message.total, 1), progress=0)

    def on_scan_progress(self, message: ScanProgress) -> None:
        if message.generation != self.generation:
            return
        self.scan_done = message.done
        self.query_one("#scan-progress", ProgressBar).update(total=max(message.total, 1), progress=message.done)
        # layout=False: a fixed-size label, so no re-layout (and no full repaint) per update.
        self.query_one("#scan-label", Label).update(f"Scanning {message.done}/{message.total}  {message.path}", layout=False)

    def on_findings_arrived(self, message: FindingsArrived) -> None:
        if message.generation != self.generation:
            return
        self.review.add(message.findings, message.diagnostics)
        self._pending_findings += message.findings
        self._pending_diagnostics += message.diagnostics
        if not self.tree.finding_keys and not self.tree.root.children:
            self._flush_pending()  # the first findings show at once
        elif self._flush_timer is None:
            # later ones are gathered: one tree repaint per TREE_SECONDS, not one per batch
            self._flush_timer = self.set_timer(TREE_SECONDS, self._flush_pending)

    def _flush_pending(self) -> None:
        self._flush_timer = None
        findings, diagnostics = self._pending_findings, self._pending_diagnostics
        self._pending_findings, self._pending_diagnostics = [], []
        if not self.scanning:
            return  # the finished scan rebuilt the tree already
        self.tree.add_items(findings, diagnostics, self.review, parse_query(self.query_text))
        if self.current is None and self.current_diagnostic is None:
            self._select_first()
        self._update_topbar()

    def _cancel_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._pending_findings, self._pending_diagnostics = [], []

    def on_scan_completed(self, message: ScanCompleted) -> None:
        if message.generation != self.generation:
            return
        result: ScanResult = message.result
        self.result = result
        self.scanning = False
        self._cancel_flush()
        self.scan_done = self.scan_total = result.files_scanned
        self.review.replace(result.findings, result.diagnostics)
        self.tree.rebuild(self.review, parse_query(self.query_text))
        current = self.review.by_key(self.current.key) if self.current else None
        if current is None or not self.tree.select_finding(current.key):
            if self.current_diagnostic is None:
                self._select_first()
        else:
            self._show_finding(current)
        self.query_one("#scan-status").display = False
        self._update_topbar()

    def on_scan_failed(self, message: ScanFailed) -> None:
        if message.generation != self.generation:
            return
        if self._flush_timer is not None:  # keep what was found before the failure
            self._flush_timer.stop()
            self._flush_pending()
        self.scanning = False
        self.scan_error = message.error
        self.query_one("#scan-label", Label).update(f"Scan failed: {message.error}")
        self.notify(message.error, title="Scan failed", severity="error", timeout=10)

    # -- selection --------------------------------------------------------------------------
    @property
    def tree(self) -> FindingsTree:
        return self.query_one("#tree", FindingsTree)

    def _select_first(self) -> None:
        keys = self.tree.finding_keys
        if keys:
            self.tree.select_finding(keys[0])
            finding = self.review.by_key(keys[0])
            if finding is not None:
                self._show_finding(finding)

    @on(Tree.NodeHighlighted, "#tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        item: Item | None = event.node.data
        if item is None:
            return
        if item.kind == "finding":
            finding = self.review.by_key(item.key)
        elif item.kind == "group" and event.node.children:
            child = event.node.children[0].data
            finding = self.review.by_key(child.key) if child else None
        elif item.kind == "diagnostic" and item.diagnostic is not None:
            self._show_diagnostic(item.diagnostic)
            return
        elif item.kind == DIAGNOSTICS and event.node.children:
            child = event.node.children[0].data
            if child and child.diagnostic:
                self._show_diagnostic(child.diagnostic)
            return
        else:
            finding = None
        if finding is not None:
            self._show_finding(finding)

    def _read(self, path: str) -> str | None:
        if self.result is not None and path in self.result.sources:
            return self.result.sources[path].text
        source = self.engine.project.read(path)
        return getattr(source, "text", None)

    def diffs_for(self, finding: Finding) -> list[FileDiff]:
        if finding.fix is None:
            return []
        if finding.key not in self._diffs:
            self._diffs[finding.key] = file_diffs(finding.fix, self._read)
        return self._diffs[finding.key]

    def _show_finding(self, finding: Finding) -> None:
        changed = self.current is None or self.current.key != finding.key
        self.current = finding
        self.current_diagnostic = None
        if changed:
            self._file_index = 0
        self._show_file(self._file_index)
        self.query_one("#explanation", ExplanationPanel).show(finding_explanation(finding, self.review.is_accepted(finding)))

    def _show_file(self, index: int) -> None:
        finding = self.current
        view = self.query_one("#diff", DiffView)
        tabs = self.query_one("#file-tabs", FileTabs)
        panel = self.query_one("#diff-panel")
        diffs = self.diffs_for(finding) if finding is not None else []
        if not diffs:
            tabs.show([], 0)
            tabs.display = False
            view.show_diff(None, f"No automatic change for {finding.rule if finding else 'this finding'}: "
                                 "the panel below says why and what to do by hand.")
            panel.border_title = "No diff"
            return
        self._file_index = index % len(diffs)
        diff = diffs[self._file_index]
        tabs.show([d.path + (" (new)" if d.created else "") for d in diffs], self._file_index)
        tabs.display = len(diffs) > 1
        view.show_diff(diff)
        mode = "unified" if view.unified else "before | after"
        panel.border_title = f"{diff.path} — {mode}"
        panel.border_subtitle = f"file {self._file_index + 1}/{len(diffs)}" if len(diffs) > 1 else ""

    def _show_diagnostic(self, diagnostic: Diagnostic) -> None:
        self.current = None
        self.current_diagnostic = diagnostic
        self.query_one("#file-tabs", FileTabs).display = False
        self.query_one("#diff", DiffView).show_diff(None, f"{diagnostic.path}: not checked ({diagnostic.kind})")
        self.query_one("#diff-panel").border_title = "No diff"
        self.query_one("#explanation", ExplanationPanel).show(diagnostic_explanation(diagnostic))

    def _update_topbar(self) -> None:
        counts = self.review.counts()
        text = Text.assemble(
            (" migrate-tui ", "bold reverse"), " ", (self.engine.root.name, "bold"), "   ",
            ("✓ ", "bold green"), f"{counts['safe']} safe  ",
            ("▲ ", "bold yellow"), f"{counts['unsafe']} unsafe  ",
            ("◆ ", "bold magenta"), f"{counts['manual']} manual  ",
            ("! ", "bold yellow"), f"{counts['diagnostics']} not checked   ",
            ("accepted ", "dim"), (str(counts["accepted"]), "bold green"), "   ",
            ("mode ", "dim"), (self.engine.mode, "bold cyan"),
            ("   read-only", "bold red") if not self.write_enabled else "",
        )
        self.query_one("#topbar", Static).update(text, layout=False)

    def _refresh_decisions(self) -> None:
        self.tree.refresh_all(self.review)
        if self.current is not None:
            self.query_one("#explanation", ExplanationPanel).show(
                finding_explanation(self.current, self.review.is_accepted(self.current)))
        self._update_topbar()

    # -- decisions --------------------------------------------------------------------------
    def action_toggle_accept(self) -> None:
        finding = self.current
        if finding is None:
            self.notify("Select a finding first.", severity="warning")
            return
        if self.review.is_accepted(finding):
            self.review.reject(finding)
            self._refresh_decisions()
            return
        reason = why_not_acceptable(finding)
        if reason is not None:
            self.notify(f"{finding.rule} {finding.location.path}: {reason}", title="Can't accept", severity="warning")
            return
        if finding.applicability is Applicability.UNSAFE:
            def answered(ok: bool | None) -> None:
                if ok:
                    self.review.accept(finding)
                    self._refresh_decisions()
            self.push_screen(confirm_unsafe(finding), answered)
            return
        self.review.accept(finding)
        self._refresh_decisions()

    def action_accept_all_safe(self) -> None:
        new = self.review.accept_all_safe()
        self._refresh_decisions()
        unsafe = sum(1 for f in self.review.findings if f.applicability is Applicability.UNSAFE and not self.review.is_accepted(f))
        note = f"; {unsafe} unsafe left for you to confirm one by one (space)" if unsafe else ""
        self.notify(f"Accepted {len(new)} safe change-set{'s' if len(new) != 1 else ''}{note}.")

    def action_write(self) -> None:
        if not self.write_enabled:
            self.notify("Writing is disabled in this session.", severity="warning")
            return
        if self.scanning or self.result is None:
            self.notify("Wait for the scan to finish before writing.", severity="warning")
            return
        if self.writing:
            return
        accepted = self.review.accepted_findings()
        if not accepted:
            self.notify("Nothing accepted yet: `space` accepts the selected change-set, `a` all safe ones.", severity="warning")
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self.writing = True
                self._write(accepted, self.result)
        self.push_screen(confirm_write(self.review.accepted_files(), len(accepted)), answered)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def _write(self, findings: list[Finding], result: ScanResult) -> None:
        try:
            report = self.engine.apply(findings, unsafe=True, sources=result.sources)
        except Exception as exc:
            self.post_message(WriteFailed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(WriteCompleted(report))

    def on_write_completed(self, message: WriteCompleted) -> None:
        self.writing = False
        report = message.report
        for finding in report.applied:
            self.review.reject(finding)
        failed = [str(d) for d in report.diagnostics]
        self.last_summary = WriteSummary(list(report.written), len(report.applied), list(report.skipped), failed)
        self.push_screen(self.last_summary)
        self._refresh_decisions()
        if report.written:
            self.engine = fresh_engine(self.engine)
            self.start_scan()  # the files changed: re-plan from what is on disk now

    def on_write_failed(self, message: WriteFailed) -> None:
        self.writing = False
        self.notify(message.error, title="Write failed", severity="error", timeout=10)

    # -- views and modes ----------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.tree.focus()

    def apply_filter(self, text: str) -> None:
        self.query_text = text
        query = parse_query(text)
        self.tree.rebuild(self.review, query)
        box = self.query_one("#filter", Input)
        shown = len(self.tree.finding_keys)
        box.border_title = f"{shown} of {len(self.review.findings)} shown" if text else ""
        box.border_subtitle = "; ".join(query.errors)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self.apply_filter("")
        box.display = False
        self.tree.focus()

    def on_key(self, event) -> None:
        if event.key == "escape" and self.focused is self.query_one("#filter", Input):
            event.stop()
            self.action_clear_filter()

    def action_toggle_mode(self) -> None:
        # auto already prefers scratch where the repo builds the image, so its other side is zero-rebuild.
        new_mode = "scratch" if self.engine.mode == "zero-rebuild" else "zero-rebuild"
        self.engine = fresh_engine(self.engine, mode=new_mode)
        if self.review.accepted:
            self.notify("Decisions cleared: the change-sets are re-planned for the new mode.")
        self.review = Review()
        self.current = None
        self.tree.clear_all()
        self._update_topbar()
        self.start_scan()

    def action_rescan(self) -> None:
        self.engine = fresh_engine(self.engine)
        self.start_scan()

    def action_toggle_unified(self) -> None:
        view = self.query_one("#diff", DiffView)
        view.unified = not view.unified
        self._show_file(self._file_index)

    def action_toggle_context(self) -> None:
        view = self.query_one("#diff", DiffView)
        view.full_context = not view.full_context

    def action_toggle_explanation(self) -> None:
        self.screen.toggle_class("explain-wide")

    def action_next_file(self) -> None:
        self._show_file(self._file_index + 1)

    def action_previous_file(self) -> None:
        self._show_file(self._file_index - 1)

    def action_show_file(self, index: int) -> None:
        self._show_file(index)

    def action_help(self) -> None:
        rows, seen = [], set()
        for binding in [*self.BINDINGS, *FindingsTree.BINDINGS]:
            if binding.key not in seen:
                seen.add(binding.key)
                rows.append((binding.key_display or binding.key, binding.description, binding.tooltip))
        rows.append(("tab", "move focus (tree → diff → explanation)", ""))
        rows.append(("ctrl+p", "command palette", ""))
        self.push_screen(HelpScreen(rows))

    async def action_quit(self) -> None:
        count = len(self.review.accepted)
        if not count:
            self.exit(0)
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self.exit(0)
        self.push_screen(confirm_quit(count), answered)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker while sys.stderr is still the real one.

    The engine scans big trees with a spawn-context process pool; the tracker it starts on
    first use passes ``sys.stderr.fileno()`` to the child, and inside a running Textual app
    stderr is captured (fileno() == -1): "bad value(s) in fds_to_keep". Started now, it is reused.
    """
    if sys.platform == "win32":
        return
    try:
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    except Exception:  # pragma: no cover - the scan then runs and reports its own error
        pass


def fresh_engine(engine: Engine, *, mode: str | None = None) -> Engine:
    """The same engine settings with a clean project cache (files changed), optionally a new mode."""
    if not isinstance(engine, Engine):  # a test double wrapping an engine: keep it
        if mode is not None:
            engine.mode = mode
        return engine
    params = inspect.signature(Engine.__init__).parameters
    kwargs = {name: getattr(engine, name) for name in params
              if name not in ("self", "root", "config", "mode") and hasattr(engine, name)}
    return Engine(engine.root, engine.config, mode=mode or engine.mode, **kwargs)


def run_app(engine: Engine, *, write_enabled: bool = True) -> int:
    app = MigrateApp(engine, write_enabled=write_enabled)
    code = app.run()
    return int(code or 0)

