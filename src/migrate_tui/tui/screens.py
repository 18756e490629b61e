"""Dialogs: each a ModalScreen returning a typed result (bool for confirms, None for summaries)."""

from __future__ import annotations

import io
from typing import Iterable

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from migrate_tui.model.findings import Finding
from migrate_tui.tui.safe import text as safe_text, visible


def plain_text(renderable: RenderableType, width: int = 100) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


class ConfirmDialog(ModalScreen[bool]):
    """A question with a yes and a no; `y` answers yes, `n`/`escape` answer no, `enter` the focused button.

    Where a yes loses work (quit), the no button has the focus, so a reflex `enter` is harmless.
    The dialog has its own footer: its keys, not the main screen's.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(
        self,
        title: str,
        body: RenderableType,
        *,
        yes: str = "Yes",
        no: str = "Cancel",
        variant: str = "primary",
        id: str | None = None,
        focus_no: bool = False,
    ) -> None:
        super().__init__(id=id)
        self._title = title
        self._body = body
        self._yes = yes
        self._no = no
        self._variant = variant
        self._focus_no = focus_no

    @property
    def text(self) -> str:
        """The question as plain text (for tests and logs)."""
        return plain_text(self._body)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self._title
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self._yes} (y)", variant=self._variant, id="yes")  # type: ignore[arg-type]
                yield Button(f"{self._no} (n)", id="no")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._body)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#no" if self._focus_no else "#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


def confirm_unsafe(findings: Finding | list[Finding]) -> ConfirmDialog:
    """Accepting unsafe change-sets: each one's assumption, in full, before the yes."""
    findings = [findings] if isinstance(findings, Finding) else findings
    parts: list[RenderableType] = []
    for finding in findings:
        assumption = finding.fix.assumption if finding.fix and finding.fix.assumption else "(the rule stated none)"
        parts += [
            safe_text(f"{finding.rule} {finding.location}", style="bold"),
            Text(visible(finding.fix.description if finding.fix else finding.message)),
            Text(""),
            Text("This change is only equivalent if the following holds:", style="bold"),
            safe_text(assumption, style="yellow"),
            Text(""),
        ]
    n = len(findings)
    parts.append(Text("Accept it anyway?" if n == 1 else f"Accept these {n} unsafe change-sets anyway?"))
    return ConfirmDialog(
        "Accept an unsafe change" if n == 1 else f"Accept {n} unsafe changes",
        Group(*parts),
        yes="Accept",
        variant="warning",
        id="confirm-unsafe",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def confirm_write(files: list[str], count: int) -> ConfirmDialog:
    """``count`` accepted change-sets touching the distinct ``files``."""
    lines = [Text(f"Write {_plural(count, 'accepted change-set')} to {_plural(len(files), 'file')}:", style="bold"), Text("")]
    lines += [safe_text(f"  {path}") for path in files]
    lines += [Text(""), Text("Files changed on disk since the scan are skipped, not overwritten.", style="dim")]
    return ConfirmDialog("Write changes", Group(*lines), yes="Write", id="confirm-write")


def confirm_quit(count: int) -> ConfirmDialog:
    body = Text(f"{_plural(count, 'accepted change-set')} {'are' if count != 1 else 'is'} not written yet. Quit and lose them?")
    return ConfirmDialog("Quit without writing?", body, yes="Quit", no="Stay", variant="error", id="confirm-quit", focus_no=True)


class WriteSummary(ModalScreen[None]):
    """What the write did: files written, change-sets skipped and why, failures."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="summary.close"),
        Binding("q", "close_and_quit", "Quit", id="summary.quit"),
    ]

    def __init__(
        self, written: list[str], applied: int, skipped: list[tuple[Finding, str]], failed: Iterable[str], *, waiting: int = 0
    ) -> None:
        super().__init__(id="write-summary")
        self.written = written
        self.applied = applied
        self.skipped = skipped
        self.failed = list(failed)
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Write summary"
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (enter)", variant="primary", id="close")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._body(), id="summary-body")
        yield Footer(compact=True)

    def _body(self) -> Group:
        parts: list[RenderableType] = [
            Text(
                f"{self.applied} change-set{'s' if self.applied != 1 else ''} applied, "
                f"{len(self.written)} file{'s' if len(self.written) != 1 else ''} written, "
                f"{len(self.skipped)} skipped, {len(self.failed)} failed",
                style="bold",
            ),
            Text(""),
        ]
        if self.waiting:
            parts += [
                Text(
                    f"{_plural(self.waiting, 'other accepted change-set')} overlapped one just written: "
                    f"{'they wait' if self.waiting != 1 else 'it waits'} for the re-scan, which plans "
                    f"{'them' if self.waiting != 1 else 'it'} again on the new text; review and write "
                    f"{'them' if self.waiting != 1 else 'it'} then (next round).",
                    style="yellow",
                ),
                Text(""),
            ]
        if self.written:
            parts.append(Text("Written", style="bold green"))
            parts += [safe_text(f"  ✓ {path}") for path in self.written]
            parts.append(Text(""))
        if self.skipped:
            parts.append(Text("Skipped", style="bold yellow"))
            table = Table.grid(padding=(0, 1))
            table.add_column(no_wrap=True)
            table.add_column()
            for finding, reason in self.skipped:
                table.add_row(safe_text(f"  ▲ {finding.location.path}:{finding.location.line}"), safe_text(reason))
            parts += [table, Text("")]
        if self.failed:
            parts.append(Text("Failed", style="bold red"))
            parts += [safe_text(f"  × {line}") for line in self.failed]
        return Group(*parts)

    @property
    def text(self) -> str:
        """The summary as plain text (for tests and the log)."""
        lines = [f"written: {p}" for p in self.written]
        lines += [f"skipped: {f.location.path}: {reason}" for f, reason in self.skipped]
        lines += [f"failed: {line}" for line in self.failed]
        return "\n".join(lines)

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_close_and_quit(self) -> None:
        """One `q` after the summary quits (the app still asks if decisions are unwritten)."""
        self.dismiss(None)
        self.app.call_later(self.app.run_action, "quit")


FILTER_HELP = [
    ("text", "words in the path, rule or message"),
    ("rule:IV001", "findings of a rule (prefix: rule:IV)"),
    ("is:safe", "safe | unsafe | manual | accepted | pending | blocked | fixable"),
    ("path:deploy/", "path contains"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__(id="help")
        self._rows = bindings

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        for key, description, tooltip in self._rows:
            keys.add_row(Text(key), Text(f"{description}" + (f" — {tooltip}" if tooltip else "")))
        filters = Table.grid(padding=(0, 2))
        filters.add_column(style="bold cyan", no_wrap=True)
        filters.add_column()
        for term, meaning in FILTER_HELP:
            filters.add_row(Text(term), Text(meaning))
        legend = Table.grid(padding=(0, 2))
        legend.add_column(no_wrap=True)
        legend.add_column()
        legend.add_row(Text("✓ safe", "bold green"), "provably the same result")
        legend.add_row(Text("▲ unsafe", "bold yellow"), "the same under a stated assumption (confirm to accept)")
        legend.add_row(Text("◆ manual", "bold magenta"), "no automatic rewrite: the explanation says what to do")
        body = Group(
            Text("Keys", style="bold underline"),
            keys,
            Text(""),
            Text("Filter (/): terms combine with AND", style="bold underline"),
            filters,
            Text(""),
            Text("Icons", style="bold underline"),
            legend,
            Text(""),
            Text("[x] accepted   [ ] not accepted   [-] can't be accepted", style="dim"),
            Text("ctrl+p opens the command palette with every action.", style="dim"),
        )
        with Vertical(classes="dialog help") as dialog:
            dialog.border_title = "migrate-tui help"
            with VerticalScroll(classes="dialog-body"):
                yield Static(body)
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)
