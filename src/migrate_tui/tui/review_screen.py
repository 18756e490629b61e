"""The review screen: scan in a worker, review change-sets, accept, write — all through the Engine.

The app (``app.MigrateApp``) shows this screen and owns what is app-wide (the Engine factory,
where proofs find images, the theme, the exit code); it hands the factory down, and this screen
asks it for a fresh Engine on a re-scan, a mode change or the re-plan after a write.

No rule logic lives here: findings, fixes and diffs come from ``core``; this module only
decides what to show and records the reviewer's decisions (``review.Review``: one decision per
change-set, tied to the digest of its fix).

Every string that comes from a scanned file reaches the screen through ``safe`` (no markup, no
terminal control characters).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from typing import TYPE_CHECKING, Callable, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.style import Style as VisualStyle
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, ProgressBar, Static, Tree
from textual.worker import get_current_worker

from migrate_tui.render.diff import FileDiff, file_diffs
from migrate_tui.pipeline.engine import Engine, FileScanned, ScanFinished, ScanResult, ScanStarted
from migrate_tui.model.findings import Applicability, Diagnostic, Finding
from migrate_tui.tui.commands import MigrateCommands, help_rows, review_commands
from migrate_tui.tui.diff_view import DiffView
from migrate_tui.tui.explain import ExplanationPanel, diagnostic_explanation, finding_explanation
from migrate_tui.tui.findings_tree import DIAGNOSTICS, FindingsTree, Item
from migrate_tui.tui.messages import (
    FindingsArrived,
    ProofFinished,
    QuitConfirmed,
    ScanBegan,
    ScanCompleted,
    ScanFailed,
    ScanProgress,
    WriteCompleted,
    WriteFailed,
)
from migrate_tui.tui.proofbook import ProofBook
from migrate_tui.tui.review import Query, Review, fix_digest, is_internal, parse_query, why_not_acceptable
from migrate_tui.tui.safe import content, visible
from migrate_tui.tui.screens import HelpScreen, WriteSummary, confirm_quit, confirm_unsafe, confirm_write

if TYPE_CHECKING:
    from migrate_tui.proof.verify import TreeLoader


class EngineFactory(Protocol):
    """A fresh Engine for the same root, config and options (a clean project cache), in
    ``mode`` (None: the configured mode). cli.py passes ``Engine.renewed`` of the engine it built."""

    def __call__(self, *, mode: str | None = None) -> Engine: ...


BATCH_SECONDS = 0.1  # the worker posts findings and progress at most this often
TREE_SECONDS = 0.5  # while scanning, new findings join the tree at most this often (a repaint each)
MODES = ("auto", "zero-rebuild", "scratch")  # `m` cycles through them
FILTER_AT_ONCE = 300  # up to this many findings, the tree follows each key typed in the filter
FILTER_SECONDS = 0.2  # beyond, it is rebuilt once typing pauses this long


class FileTabs(Static):
    """One tab per file of the selected change-set; click one, or `[` / `]`.

    Built from styled spans (the click action is span metadata), never from markup: a path
    is text, whatever brackets or backslashes it holds.
    """

    def show(self, paths: list[str], active: int) -> None:
        pieces: list[Content] = []
        for index, path in enumerate(paths):
            look = VisualStyle(reverse=True, bold=True) if index == active else VisualStyle(dim=True)
            style = look + VisualStyle.from_meta({"@click": f"screen.show_file({index})"})
            pieces.append(Content.styled(f" {visible(path)} ", style))
        self.update(Content(" ").join(pieces))


class FilterInput(Input):
    """The filter box: its keys show in the footer while it has focus."""

    BINDINGS = [
        Binding("enter", "submit", "Apply", id="filter.apply"),
        Binding("escape", "screen.clear_filter", "Clear", id="filter.clear"),
    ]


class ReviewScreen(Screen[None]):
    """The main screen: findings tree, diff, explanation; the scan, the decisions and the write."""

    COMMANDS = {MigrateCommands}
    # show=True: the footer (80 columns hold these); the rest are in `?` and the palette.
    BINDINGS = [
        Binding(
            "space", "toggle_accept", "Accept", id="accept", tooltip="accept or reject the selected change-set (a group row: all of it)"
        ),
        Binding("a", "accept_all_safe", "All safe", id="accept-safe", tooltip="accept all safe change-sets shown"),
        Binding("w", "write", "Write", id="write", tooltip="write the accepted change-sets (asks first)"),
        Binding("slash", "filter", "Filter", id="filter", key_display="/", tooltip="rule:IV001 is:safe path:deploy/ words"),
        Binding(
            "m",
            "toggle_mode",
            "Mode",
            id="mode",
            tooltip="cycle auto → zero-rebuild → scratch and re-plan (decisions on unchanged change-sets are kept)",
        ),
        Binding("question_mark", "help", "Help", id="help", key_display="?", tooltip="keys and filter syntax"),
        Binding("q", "quit", "Quit", id="quit", tooltip="asks first when accepted changes are unwritten"),
        Binding("u", "toggle_unified", "Unified", id="unified", show=False, tooltip="side-by-side ↔ unified diff"),
        Binding("s", "toggle_wrap", "Wrap", id="wrap", show=False, tooltip="soft-wrap long lines ↔ scroll sideways (H/L)"),
        Binding("z", "toggle_context", "Whole file", id="context", show=False, tooltip="folded hunks ↔ whole file"),
        Binding("e", "toggle_explanation", "Explain", id="explain", show=False, tooltip="widen the explanation panel"),
        Binding("n", "next_pending", "Next pending", id="next-pending", show=False, tooltip="next change-set not accepted yet"),
        Binding("N", "previous_pending", "Prev pending", id="prev-pending", show=False, tooltip="previous change-set not accepted yet"),
        Binding("J,pagedown", "diff_page(1)", "Diff down", id="diff-down", show=False, tooltip="scroll the diff down a page"),
        Binding("K,pageup", "diff_page(-1)", "Diff up", id="diff-up", show=False, tooltip="scroll the diff up a page"),
        Binding("L", "diff_sideways(1)", "Diff right", id="diff-right", show=False, tooltip="scroll the diff right (when not wrapping)"),
        Binding("H", "diff_sideways(-1)", "Diff left", id="diff-left", show=False, tooltip="scroll the diff left"),
        Binding("o", "open_editor", "Edit", id="edit", show=False, tooltip="open $EDITOR at the finding's line"),
        Binding("ctrl+z,U", "undo", "Undo", id="undo", show=False, tooltip="undo the last decision"),
        Binding(
            "right_square_bracket",
            "next_file",
            "Next file",
            id="next-file",
            key_display="]",
            show=False,
            tooltip="next file of the change-set",
        ),
        Binding(
            "left_square_bracket",
            "previous_file",
            "Prev file",
            id="prev-file",
            key_display="[",
            show=False,
            tooltip="previous file of the change-set",
        ),
        Binding("r", "rescan", "Re-scan", id="rescan", show=False, tooltip="scan the repository again"),
        Binding(
            "p",
            "prove",
            "Prove",
            id="prove",
            show=False,
            tooltip="run verify on the selected image-volume change-set with the images you named (--image, oci-layouts); a proof can only lower a fix",
        ),
    ]

    def __init__(self, new_engine: EngineFactory, *, proof_loader: Callable[[Engine], TreeLoader], write_enabled: bool = True) -> None:
        super().__init__(id="review")
        self.new_engine = new_engine  # a fresh Engine (clean project cache) for a re-scan or another mode
        self.engine = new_engine()
        self._proof_loader = proof_loader
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
        self._flush_timer: Timer | None = None
        self.scan_error: str | None = None
        self.crashed = False  # a scan failed or a file crashed a rule: the exit code says so
        # `a` during a scan: the filter whose safe change-sets keep being accepted as they arrive
        self._follow_safe: Query | None = None
        self._filter_timer: Timer | None = None
        self._replan_note = ""  # what a re-plan (mode, re-scan, write) should report when done
        # finding key -> (digest of the fix proven, digests the proof is shown for, the proof)
        self.proofs = ProofBook()
        self._proving: set[str] = set()  # keys of findings a `p` worker is proving

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal(id="scan-status"):
            yield Label("Starting…", id="scan-label")
            yield ProgressBar(id="scan-progress", show_eta=False)
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield FilterInput(placeholder="filter: rule:IV001 is:safe path:deploy/ words", id="filter")
                yield FindingsTree(id="tree")
            with Vertical(id="right"):
                with Vertical(id="diff-panel"):
                    yield FileTabs(id="file-tabs")
                    yield DiffView(id="diff")
                yield ExplanationPanel(id="explanation")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#tree", FindingsTree).focus()
        self.query_one("#diff", DiffView).show_diff(None, "Scanning… findings appear on the left as they are found.")
        self._update_topbar()
        self.call_after_refresh(self._painted)
        # The scan thread (discovery, rule imports, the pool) competes with the first paint for
        # the interpreter: start it once the screen is drawn.
        self.start_scan(after_paint=True)

    def on_resize(self) -> None:
        self._update_topbar()

    def _painted(self) -> None:
        self.first_paint = time.perf_counter()

    # -- scanning ---------------------------------------------------------------------------
    def start_scan(self, *, after_paint: bool = False) -> None:
        self._cancel_flush()
        self.generation += 1
        self.scanning = True
        self.scan_error = None
        self.result = None
        self._diffs.clear()
        self.scan_done = self.scan_total = 0
        self.query_one("#scan-status").display = True
        self.query_one("#scan-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#scan-label", Label).update(content(f"Finding files in {self.engine.root.name}…"))
        if after_paint:
            self.call_after_refresh(self._scan_if_current, self.engine, self.generation)
        else:
            self._scan(self.engine, self.generation)

    def _scan_if_current(self, engine: Engine, generation: int) -> None:
        if generation == self.generation:  # not overtaken by a re-scan asked before the first paint
            self._scan(engine, generation)

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
            # The worker pool of a big tree takes seconds to start: say how much there is meanwhile.
            files = f"{message.total} file{'s' if message.total != 1 else ''}"
            self.query_one("#scan-label", Label).update(content(f"Scanning {files} in {self.engine.root.name}…"))

    def on_scan_progress(self, message: ScanProgress) -> None:
        if message.generation != self.generation:
            return
        self.scan_done = message.done
        self.query_one("#scan-progress", ProgressBar).update(total=max(message.total, 1), progress=message.done)
        # layout=False: a fixed-size label, so no re-layout (and no full repaint) per update.
        label = content(f"Scanning {message.done}/{message.total}  {message.path}")
        self.query_one("#scan-label", Label).update(label, layout=False)

    def on_findings_arrived(self, message: FindingsArrived) -> None:
        if message.generation != self.generation:
            return
        self.review.add(message.findings, message.diagnostics)
        if self._follow_safe is not None:
            query = self._follow_safe
            shown = [f for f in message.findings if query.matches(f, self.review)]
            self.review.decide(
                [c for c in self.review.change_sets(shown) if self.review.fix_of(c).applicability is Applicability.SAFE],
                True,
                undoable=False,
            )
        if any(is_internal(d) for d in message.diagnostics):
            self.crashed = True
        self._pending_findings += message.findings
        self._pending_diagnostics += message.diagnostics
        if not self.findings_tree.finding_keys and not self.findings_tree.root.children:
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
        self.findings_tree.add_items(findings, diagnostics, self.review, parse_query(self.query_text))
        if self.review.decisions:  # a finding that joined an accepted change-set shows it
            self.findings_tree.refresh_all(self.review)
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
        self._follow_safe = None
        self._cancel_flush()
        self.scan_done = self.scan_total = result.files_scanned
        kept_before = set(self.review.decisions)
        withdrawn = self.review.replace(self.proofs.reapplied(result.findings), result.diagnostics)
        if any(is_internal(d) for d in result.diagnostics):
            self.crashed = True
        self.findings_tree.rebuild(self.review, parse_query(self.query_text))
        if result.findings:
            self._follow_selection()
        else:  # nothing to review: say so (a diagnostic shows when the user selects it)
            self.current = self.current_diagnostic = None
            self._show_clean(result)
        self.query_one("#scan-status").display = False
        self._update_topbar()
        self._report_replan(len(kept_before & self.review.accepted), withdrawn)

    def _report_replan(self, kept: int, withdrawn: list[str]) -> None:
        note, self._replan_note = self._replan_note, ""
        parts = [note] if note else []
        if withdrawn:
            n = len(withdrawn)
            parts.append(
                f"{n} accepted change-set{'s' if n != 1 else ''} changed in the re-plan and "
                f"{'are' if n != 1 else 'is'} pending again (review {'them' if n != 1 else 'it'}: `n` goes to the next pending)"
            )
        if note and kept:
            parts.append(f"{kept} decision{'s' if kept != 1 else ''} kept (unchanged change-set{'s' if kept != 1 else ''})")
        if parts:
            self.notify(
                "; ".join(parts) + ".", title="Re-planned", severity="warning" if withdrawn else "information", timeout=10, markup=False
            )

    def _show_clean(self, result: ScanResult) -> None:
        """A clean (or empty) repository: say so, and what was looked for."""
        files = result.files_scanned
        not_checked = len({d.path for d in result.diagnostics})
        rules = [f"{r.code}  {r.summary}" for r in self.engine.rules()]
        message = (
            f"No findings in {files} file{'s' if files != 1 else ''} ({not_checked} not checked). "
            "migrate-tui looks for: " + "; ".join(rules) + "."
        )
        self.query_one("#diff", DiffView).show_diff(None, message)
        self.query_one("#diff-panel").border_title = content("Nothing to migrate")
        self.query_one("#explanation", ExplanationPanel).show(
            Text(
                f"No findings in {files} file{'s' if files != 1 else ''} ({not_checked} not checked).\n\n"
                "migrate-tui looks for init containers that copy or download files into an emptyDir "
                "(an image volume does the same without a shell), and Dockerfiles that ship data on a "
                "shell base or leave package caches in a layer. `r` scans again; `q` quits."
            )
        )

    def on_scan_failed(self, message: ScanFailed) -> None:
        if message.generation != self.generation:
            return
        if self._flush_timer is not None:  # keep what was found before the failure
            self._flush_timer.stop()
            self._flush_pending()
        self.scanning = False
        self.crashed = True
        self.scan_error = message.error
        self.query_one("#scan-label", Label).update(content(f"Scan failed: {message.error}"))
        self.notify(visible(message.error), title="Scan failed", severity="error", timeout=10, markup=False)

    # -- selection --------------------------------------------------------------------------
    @property
    def findings_tree(self) -> FindingsTree:
        return self.query_one("#tree", FindingsTree)

    def _cursor_item(self) -> Item | None:
        node = self.findings_tree.cursor_node
        return node.data if node is not None else None

    def visible_findings(self) -> list[Finding]:
        return [f for f in (self.review.by_key(k) for k in self.findings_tree.finding_keys) if f is not None]

    def _select_first(self, diagnostics_too: bool = False) -> None:
        """Select the first finding shown (or, when asked and there is none, the first diagnostic)."""
        keys = self.findings_tree.finding_keys
        if keys:
            self.findings_tree.select_finding(keys[0])
            finding = self.review.by_key(keys[0])
            if finding is not None:
                self._show_finding(finding)
        elif diagnostics_too and self.findings_tree.root.children:
            node = self.findings_tree.root.children[0]
            if node.data is not None:
                self.findings_tree.select_item(node.data)
            if node.children and node.children[0].data and node.children[0].data.diagnostic:
                self._show_diagnostic(node.children[0].data.diagnostic)

    def _follow_selection(self) -> None:
        """After the tree changed (filter, scan): keep the selection if it is shown, else move it."""
        if self.current is not None:
            current = self.review.by_key(self.current.key)
            if current is not None and self.findings_tree.select_finding(current.key):
                self._show_finding(current)
                return
        elif self.current_diagnostic is not None and not self.findings_tree.finding_keys:
            item = Item("diagnostic", str(self.current_diagnostic), self.current_diagnostic)
            if self.findings_tree.select_item(item):
                return
        self.current = None
        self.current_diagnostic = None
        if self.findings_tree.finding_keys or self.findings_tree.root.children:
            self._select_first(diagnostics_too=True)
        else:
            self._show_nothing()

    def _show_nothing(self) -> None:
        self.query_one("#file-tabs", FileTabs).display = False
        shown = "No finding matches the filter (Esc clears it)." if self.query_text else "Nothing to show."
        self.query_one("#diff", DiffView).show_diff(None, shown)
        self.query_one("#diff-panel").border_title = content("No diff")
        self.query_one("#explanation", ExplanationPanel).show(Text(shown))

    @on(Tree.NodeHighlighted, "#tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted[Item]) -> None:
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
        key = fix_digest(finding.fix)  # a re-planned fix has another digest: never a stale diff
        if key not in self._diffs:
            self._diffs[key] = file_diffs(finding.fix, self._read)
        return self._diffs[key]

    def _show_finding(self, finding: Finding) -> None:
        changed = self.current is None or self.current.key != finding.key
        self.current = finding
        self.current_diagnostic = None
        if changed:
            self._file_index = 0
        self._show_file(self._file_index)
        self._show_explanation()

    def _show_explanation(self) -> None:
        if self.current is not None:
            self.query_one("#explanation", ExplanationPanel).show(
                finding_explanation(
                    self.current,
                    self.review.is_accepted(self.current),
                    self.review.reset_reason(self.current),
                    len(self.review.members(self.review.set_of(self.current) or "")),
                    proof=self.proofs.shown_for(self.current, self.review.members(self.review.set_of(self.current) or "")),
                    proving=self.current.key in self._proving,
                )
            )

    def _show_file(self, index: int) -> None:
        finding = self.current
        view = self.query_one("#diff", DiffView)
        tabs = self.query_one("#file-tabs", FileTabs)
        panel = self.query_one("#diff-panel")
        diffs = self.diffs_for(finding) if finding is not None else []
        if not diffs:
            tabs.show([], 0)
            tabs.display = False
            view.show_diff(
                None,
                f"No automatic change for {finding.rule if finding else 'this finding'}: the panel below says why and what to do by hand.",
            )
            panel.border_title = content("No diff")
            panel.border_subtitle = ""
            return
        self._file_index = index % len(diffs)
        diff = diffs[self._file_index]
        tabs.show([d.path + (" (new)" if d.created else "") for d in diffs], self._file_index)
        tabs.display = len(diffs) > 1
        view.show_diff(diff)
        mode = "unified" if view.unified else "before | after"
        panel.border_title = content(f"{diff.path} — {mode}")
        panel.border_subtitle = f"file {self._file_index + 1}/{len(diffs)}" if len(diffs) > 1 else ""

    def on_diff_view_layout_changed(self) -> None:
        if self.current is not None:
            self._show_file(self._file_index)

    def _show_diagnostic(self, diagnostic: Diagnostic) -> None:
        self.current = None
        self.current_diagnostic = diagnostic
        self.query_one("#file-tabs", FileTabs).display = False
        what = "migrate-tui crashed on this file" if is_internal(diagnostic) else f"not checked ({diagnostic.kind})"
        self.query_one("#diff", DiffView).show_diff(None, f"{visible(diagnostic.path)}: {what}")
        self.query_one("#diff-panel").border_title = content("No diff")
        self.query_one("#explanation", ExplanationPanel).show(diagnostic_explanation(diagnostic))

    def _update_topbar(self) -> None:
        counts = self.review.counts()
        narrow = self.size.width and self.size.width < 110
        accepted = f"{counts['accepted']}" + (
            "" if narrow else f" ({counts['accepted_files']} file{'s' if counts['accepted_files'] != 1 else ''})"
        )
        parts: list[str | tuple[str, str]] = [(" migrate-tui ", "bold reverse"), " "]
        if not narrow:
            parts += [(visible(self.engine.root.name), "bold"), "   "]
        parts += [
            ("✓ ", "bold green"),
            f"{counts['safe']}{'' if narrow else ' safe'}  ",
            ("▲ ", "bold yellow"),
            f"{counts['unsafe']}{'' if narrow else ' unsafe'}  ",
            ("◆ ", "bold magenta"),
            f"{counts['manual']}{'' if narrow else ' manual'}  ",
            ("! ", "bold yellow"),
            f"{counts['diagnostics']}{'' if narrow else ' not checked'}  ",
        ]
        if counts["internal"]:
            parts += [("✗ ", "bold red"), (f"{counts['internal']} crashed  ", "bold red")]
        parts += [
            ("accepted ", "dim"),
            (accepted, "bold green"),
            "  ",
            ("mode ", "dim"),
            (self.engine.mode, "bold cyan"),
            ("  read-only", "bold red") if not self.write_enabled else "",
        ]
        self.query_one("#topbar", Static).update(Text.assemble(*parts, no_wrap=True, overflow="ellipsis"), layout=False)

    def _refresh_decisions(self) -> None:
        self.findings_tree.refresh_all(self.review)
        self._show_explanation()
        self._update_topbar()

    # -- decisions --------------------------------------------------------------------------
    def _user_decided(self) -> None:
        self._follow_safe = None  # `a` stops following the scan once the user decides by hand

    def action_toggle_accept(self) -> None:
        node = self.findings_tree.cursor_node
        item = node.data if node is not None else None
        if node is not None and item is not None and item.kind == "group":
            findings = [self.review.by_key(child.data.key) for child in node.children if child.data]
            self._toggle_many([f for f in findings if f is not None], f"{item.key}")
            return
        # The tree's cursor is the selection (``self.current`` follows it one message later, so
        # a fast `j j space` would otherwise decide on the finding the cursor just left).
        finding = self.review.by_key(item.key) if item is not None and item.kind == "finding" else None
        if finding is None or finding.key not in self.findings_tree.finding_keys:
            self.notify("Select a finding first.", severity="warning", markup=False)
            return
        if self.review.is_accepted(finding):
            self._user_decided()
            self.review.reject(finding)
            self._refresh_decisions()
            return
        reason = why_not_acceptable(finding)
        if reason is not None:
            self.notify(
                visible(f"{finding.rule} {finding.location.path}: {reason}"), title="Can't accept", severity="warning", markup=False
            )
            return
        self._accept([self.review.set_of(finding)])  # type: ignore[list-item]

    def _toggle_many(self, findings: list[Finding], what: str) -> None:
        cids = self.review.change_sets(findings)
        if not cids:
            self.notify(visible(f"{what}: nothing here can be accepted (no automatic rewrite)."), severity="warning", markup=False)
            return
        if all(c in self.review.accepted for c in cids):
            self._user_decided()
            self.review.decide(cids, False)
            self._refresh_decisions()
            return
        self._accept([c for c in cids if c not in self.review.accepted])

    def _accept(self, cids: list[str]) -> None:
        """Accept change-sets; unsafe ones only after the user confirmed their assumptions."""
        self._user_decided()
        unsafe = [c for c in cids if self.review.fix_of(c).applicability is Applicability.UNSAFE]
        if not unsafe:
            self.review.decide(cids, True)
            self._refresh_decisions()
            return

        def answered(ok: bool | None) -> None:
            chosen = cids if ok else [c for c in cids if c not in unsafe]
            if chosen:
                self.review.decide(chosen, True)
                self._refresh_decisions()

        self.app.push_screen(confirm_unsafe([self.review.members(c)[0] for c in unsafe]), answered)

    def action_accept_all_safe(self) -> None:
        if self._flush_timer is not None:  # findings found but not in the tree yet: show them first
            self._flush_timer.stop()
            self._flush_pending()
        shown = self.visible_findings()
        new = self.review.accept_all_safe(shown)
        self._refresh_decisions()
        pending_unsafe = [
            c
            for c in self.review.change_sets(shown)
            if self.review.fix_of(c).applicability is Applicability.UNSAFE and c not in self.review.accepted
        ]
        n = len(new)
        text = f"Accepted {n} safe change-set{'s' if n != 1 else ''}"
        if self.query_text:
            text += " shown by the filter"
        if self.scanning:
            self._follow_safe = parse_query(self.query_text)
            text += (
                " found so far; the scan is still running, and safe change-sets it finds next are "
                "accepted too (until you change a decision)"
            )
        if pending_unsafe:
            u = len(pending_unsafe)
            text += f"; {u} unsafe left for you to confirm one by one (space)"
        self.notify(text + ".", markup=False)

    def action_undo(self) -> None:
        if self.review.undo():
            self._user_decided()
            self._refresh_decisions()
            self.notify("Undid the last decision.", markup=False)
        else:
            self.notify("Nothing to undo.", severity="warning", markup=False)

    def action_write(self) -> None:
        if not self.write_enabled:
            self.notify("Writing is disabled in this session.", severity="warning", markup=False)
            return
        if self.scanning or self.result is None:
            self.notify("Wait for the scan to finish before writing.", severity="warning", markup=False)
            return
        if self.writing:
            return
        accepted = self.review.accepted_findings()
        if not accepted:
            self.notify(
                "Nothing accepted yet: `space` accepts the selected change-set, `a` all safe ones.", severity="warning", markup=False
            )
            return
        result = self.result

        def answered(ok: bool | None) -> None:
            if ok:
                self.writing = True
                self._write(accepted, result)

        self.app.push_screen(confirm_write(self.review.accepted_files(), len(accepted)), answered)

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
        self.review.forget(report.applied)
        failed = [str(d) for d in report.diagnostics]
        applied = len(self.review.change_sets(report.applied)) or len({f.fix.edits for f in report.applied if f.fix})
        # Change-sets that overlapped one just written wait for the re-plan (the next round).
        waiting = [
            f
            for f, _ in report.skipped
            if f.fix is not None and any(a.fix is not None and f.fix.conflicts_with(a.fix) for a in report.applied)
        ]
        self.last_summary = WriteSummary(list(report.written), applied, list(report.skipped), failed, waiting=len(waiting))
        self.app.push_screen(self.last_summary)
        self._refresh_decisions()
        # Re-plan from what is on disk now, even when nothing was written (the skips say the
        # files changed, so the plan is stale).
        self.engine = self.new_engine(mode=self.engine.mode)
        self.start_scan()

    def on_write_failed(self, message: WriteFailed) -> None:
        self.writing = False
        self.notify(visible(message.error), title="Write failed", severity="error", timeout=10, markup=False)

    # -- proof --------------------------------------------------------------------------------
    def proof_loader(self) -> TreeLoader:
        """Where `p` finds images: the app's loader (only what the user named) for this engine's config."""
        return self._proof_loader(self.engine)

    def action_prove(self) -> None:
        from migrate_tui.tui.proving import provable

        item = self._cursor_item()
        if (
            item is not None
            and item.kind == "group"
            and self.findings_tree.cursor_node is not None
            and self.findings_tree.cursor_node.children
        ):
            child = self.findings_tree.cursor_node.children[0].data
            item = child if child is not None else item
        finding = self.review.by_key(item.key) if item is not None and item.kind == "finding" else None
        if finding is None:
            self.notify("Select a finding first.", severity="warning", markup=False)
            return
        target = provable(self.review.members(self.review.set_of(finding) or ""), finding)
        if target is None or target.fix is None:
            self.notify("Only an image-volume change-set (IV001) can be proven.", severity="warning", markup=False)
            return
        if self.scanning or self.result is None:
            self.notify("Wait for the scan to finish before proving.", severity="warning", markup=False)
            return
        if target.key in self._proving:
            self.notify("Already proving this change-set.", markup=False)
            return
        self._proving.add(target.key)
        self._show_explanation()
        self._prove(target, self.generation, fix_digest(target.fix))

    @work(thread=True, group="prove", exit_on_error=False)
    def _prove(self, finding: Finding, generation: int, digest: str) -> None:
        from migrate_tui.proof.prove import Proof, ProofKind, prove

        try:
            proof = prove(finding, self._read, self.proof_loader())
        except Exception as exc:  # a bad image source or a bug: never "proven", never a crash
            proof = Proof(ProofKind.UNREACHABLE, detail=" ".join(f"the proof failed: {type(exc).__name__}: {exc}".split())[:300])
        self.post_message(ProofFinished(generation, finding.key, digest, proof))

    def on_proof_finished(self, message: ProofFinished) -> None:
        from migrate_tui.tui.proving import lowered

        self._proving.discard(message.key)
        finding = self.review.by_key(message.key)
        if message.generation != self.generation or finding is None or finding.fix is None or fix_digest(finding.fix) != message.digest:
            self.notify(
                "The change-set changed while it was being proven (a re-plan): `p` proves it again.", severity="warning", markup=False
            )
            self._show_explanation()
            return
        proof = message.proof
        was_accepted = self.review.is_accepted(finding)
        changed = lowered(self.review.members(self.review.set_of(finding) or ""), finding, proof)
        shown = fix_digest(changed[0].fix) if changed and changed[0].fix is not None else message.digest
        self.proofs.record(message.key, message.digest, shown, proof)
        withdrawn = self.review.revise(changed, cause="the proof") if changed else []
        if self.current is not None:
            self.current = self.review.by_key(self.current.key) or self.current
        self._refresh_decisions()
        text = f"{finding.location.path}: {proof.summary()}"
        now = self.review.by_key(finding.key)
        if withdrawn:
            text += " — your accept was withdrawn: review it again"
        elif was_accepted and not (now is not None and self.review.is_accepted(now)):
            text += " — your accept was withdrawn: nothing is written for it"  # now manual: nothing to accept
        self.notify(visible(text), title="Proof", severity="information" if not changed else "warning", timeout=10, markup=False)

    # -- navigation ---------------------------------------------------------------------------
    def _pending_keys(self) -> list[str]:
        out = []
        for key in self.findings_tree.finding_keys:
            finding = self.review.by_key(key)
            if finding is not None and finding.fixable and not self.review.is_accepted(finding):
                out.append(key)
        return out

    def _jump_pending(self, step: int) -> None:
        keys = self.findings_tree.finding_keys
        pending = set(self._pending_keys())
        if not pending:
            self.notify("No pending change-set is shown.", markup=False)
            return
        item = self._cursor_item()  # the cursor, not self.current (which follows it a message later)
        here = item.key if item is not None and item.kind == "finding" else self.current.key if self.current else None
        start = keys.index(here) if here in keys else -step
        for offset in range(1, len(keys) + 1):
            key = keys[(start + step * offset) % len(keys)]
            if key in pending:
                self.findings_tree.select_finding(key)
                finding = self.review.by_key(key)
                if finding is not None:
                    self._show_finding(finding)
                return

    def action_next_pending(self) -> None:
        self._jump_pending(1)

    def action_previous_pending(self) -> None:
        self._jump_pending(-1)

    def action_diff_page(self, direction: int) -> None:
        view = self.query_one("#diff", DiffView)
        if direction > 0:
            view.scroll_page_down(animate=False)
        else:
            view.scroll_page_up(animate=False)

    def action_diff_sideways(self, direction: int) -> None:
        view = self.query_one("#diff", DiffView)
        view.scroll_to(x=max(0, view.scroll_x + direction * 20), animate=False)

    def action_open_editor(self) -> None:
        item = self._cursor_item()
        finding = self.review.by_key(item.key) if item is not None and item.kind == "finding" else self.current
        diagnostic = item.diagnostic if item is not None and item.kind == "diagnostic" else self.current_diagnostic
        path, line = (
            (finding.location.path, finding.location.line)
            if finding is not None
            else (diagnostic.path, diagnostic.line)
            if diagnostic is not None
            else (None, 0)
        )
        if path is None:
            self.notify("Select a finding first.", severity="warning", markup=False)
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        target = self.engine.root / path
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), f"+{line}", str(target)], check=False)
        except Exception as exc:  # no terminal to hand over (headless), editor missing...
            self.notify(visible(f"could not open {editor}: {exc}"), severity="error", markup=False)
            return
        self.notify("Back from the editor: `r` re-scans to see your changes.", markup=False)

    # -- views and modes ----------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if len(self.review.findings) <= FILTER_AT_ONCE:
            self.apply_filter(event.value)
        else:  # a big tree is rebuilt once typing pauses, not once per key
            self._filter_timer = self.set_timer(FILTER_SECONDS, lambda: self._apply_typed_filter(event.value))

    def _apply_typed_filter(self, text: str) -> None:
        self._filter_timer = None
        self.apply_filter(text)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
            self.apply_filter(event.value)
        self.findings_tree.focus()

    def apply_filter(self, text: str) -> None:
        self.query_text = text
        query = parse_query(text)
        self.findings_tree.rebuild(self.review, query)
        self._follow_selection()
        box = self.query_one("#filter", Input)
        shown = len(self.findings_tree.finding_keys)
        box.border_title = f"{shown} of {len(self.review.findings)} shown" if text else ""
        box.border_subtitle = content("; ".join(query.errors))

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.display and not self.query_text:
            return
        box.value = ""
        self.apply_filter("")
        box.display = False
        self.findings_tree.focus()

    def action_toggle_mode(self) -> None:
        current = self.engine.mode if self.engine.mode in MODES else "auto"
        new_mode = MODES[(MODES.index(current) + 1) % len(MODES)]
        self.engine = self.new_engine(mode=new_mode)
        self._replan_note = f"Mode {new_mode}"
        self._update_topbar()
        self.start_scan()

    def action_rescan(self) -> None:
        self.engine = self.new_engine(mode=self.engine.mode)
        self.start_scan()

    def action_toggle_unified(self) -> None:
        view = self.query_one("#diff", DiffView)
        view.choose_unified(not view.unified)
        self._show_file(self._file_index)

    def action_toggle_wrap(self) -> None:
        view = self.query_one("#diff", DiffView)
        view.wrap = not view.wrap

    def action_toggle_context(self) -> None:
        view = self.query_one("#diff", DiffView)
        view.full_context = not view.full_context

    def action_toggle_explanation(self) -> None:
        self.toggle_class("explain-wide")

    def action_next_file(self) -> None:
        self._show_file(self._file_index + 1)

    def action_previous_file(self) -> None:
        self._show_file(self._file_index - 1)

    def action_show_file(self, index: int) -> None:
        self._show_file(index)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(help_rows(review_commands(self.BINDINGS))))

    def action_quit(self) -> None:
        """Quit, asking first when accepted change-sets are unwritten (the app picks the exit code)."""
        count = len(self.review.accepted)
        if not count:
            self.post_message(QuitConfirmed())
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self.post_message(QuitConfirmed())

        self.app.push_screen(confirm_quit(count), answered)
