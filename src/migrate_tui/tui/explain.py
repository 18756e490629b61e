"""The explanation panel: why a finding matters, what the change-set does, what to watch for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from migrate_tui.model.findings import Applicability, Diagnostic, Finding
from migrate_tui.tui.review import ICONS, is_internal, why_not_acceptable
from migrate_tui.tui.safe import visible, visible_block

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from migrate_tui.proof.prove import Proof

_APPLICABILITY_WORDS = {
    Applicability.SAFE: "safe — provably the same result; `space` or `a` accepts it",
    Applicability.UNSAFE: "unsafe — the same result under one assumption; accepting asks you to confirm it",
    Applicability.MANUAL: "manual — no automatic rewrite; the steps below say what to do",
}


def _human_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)  # pragma: no cover


def savings_lines(data: dict[str, Any]) -> list[str]:
    """Estimated savings a rule put in ``finding.data`` (any key mentioning 'saving')."""
    out = []
    for key, value in data.items():
        if "saving" not in key.lower():
            continue
        label = key.replace("_", " ").replace("-", " ")
        if isinstance(value, dict):
            out += [f"{label} — {k}: {_format(k, v)}" for k, v in value.items()]
        else:
            out.append(f"{label}: {_format(key, value)}")
    return out


def _format(key: str, value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "byte" in key.lower():
        return _human_bytes(float(value))
    return str(value)


def finding_explanation(
    finding: Finding, accepted: bool, reset: str | None = None, shared: int = 1, proof: Proof | None = None, proving: bool = False
) -> Group:
    """The panel for a finding. ``reset``: why an earlier accept was withdrawn; ``shared``: how
    many findings carry the same change-set (deciding on one decides on all of them); ``proof``:
    the outcome of `p` on this change-set (an ``proof.prove.Proof``), ``proving``: `p` is running."""
    parts: list[Text] = []

    def section(title: str, body: str | list[str], style: str = "") -> None:
        parts.append(Text(title, style="bold underline"))
        lines = body if isinstance(body, list) else [body]
        for line in lines:
            parts.append(Text(visible_block(line), style=style))
        parts.append(Text(""))

    icon = ICONS[finding.applicability]
    headline = Text.assemble(
        (f"{icon} {finding.rule} ", "bold"),
        (visible(finding.location), "dim"),
        ("  accepted" if accepted else "", "bold green"),
    )
    parts += [headline, Text(visible_block(finding.message)), Text("")]
    if reset:
        section("Decision withdrawn", reset, "bold yellow")
    if proving:
        section("Proof", "proving… (verify runs on the images you named; the app stays usable)", "dim")
    elif proof is not None:
        from migrate_tui.tui.proving import proof_section

        lines, style = proof_section(proof)
        section("Proof", lines, style)
    if shared > 1:
        parts += [
            Text(
                f"This change-set also settles {shared - 1} other finding{'s' if shared > 2 else ''}: accepting one accepts all of them.",
                style="dim",
            ),
            Text(""),
        ]
    section("Applicability", _APPLICABILITY_WORDS[finding.applicability])
    explanation = finding.explanation.strip()
    manual = finding.applicability is Applicability.MANUAL
    if explanation:
        section("What to do by hand" if manual else "Why", explanation)
    if finding.fix is not None and not manual:
        files = ", ".join(finding.fix.paths)
        section("What changes", [finding.fix.description, f"files: {files}"])
    if finding.fix is not None and finding.fix.assumption:
        section("Assumption (confirm before accepting)", finding.fix.assumption, "yellow")
    if finding.notes:
        section("Caveats", [f"• {note}" for note in finding.notes])
    if finding.fix_blocked:
        section("No automatic rewrite", finding.fix_blocked, "red")
    savings = savings_lines(finding.data)
    if savings:
        section("Estimated savings", savings, "green")
    if finding.related:
        section("Related", [visible(location) for location in finding.related])
    reason = why_not_acceptable(finding)
    if reason and not finding.fix_blocked and not explanation:
        section("Why it can't be accepted", reason)
    return Group(*parts)


def diagnostic_explanation(diagnostic: Diagnostic) -> Group:
    hints = {
        "template": "Render the chart first (`helm template . > rendered.yaml`) and check the output.",
        "parse": "Fix the syntax error, or exclude the file in [tool.migrate-tui] exclude.",
        "size": "Raise max-file-size, or exclude the file.",
        "binary": "Binary files are skipped.",
    }
    kind = str(getattr(diagnostic.kind, "value", diagnostic.kind))
    if is_internal(diagnostic):
        return Group(
            Text.assemble(("✗ ", "bold red"), ("internal error ", "bold red"), (visible(diagnostic.path), "dim")),
            Text(visible_block(f"line {diagnostic.line}: {diagnostic.message}")),
            Text(""),
            Text(
                "migrate-tui crashed while checking this file (a bug in migrate-tui, not in the file). "
                "The rest of the repository was checked; this file was not. Please report it with the "
                "message above (MIGRATE_TUI_DEBUG=1 migrate-tui check FILE prints the traceback). "
                "The app exits with status 2 when it closes."
            ),
        )
    return Group(
        Text.assemble(("! ", "bold yellow"), (f"{visible(kind)} ", "bold"), (visible(diagnostic.path), "dim")),
        Text(visible_block(f"line {diagnostic.line}: {diagnostic.message}")),
        Text(""),
        Text("Not checked: migrate-tui could not read this file as plain YAML or a Dockerfile."),
        Text(hints.get(kind, "")),
    )


class ExplanationPanel(VerticalScroll):
    """Scrollable text about the selected finding or diagnostic."""

    def compose(self) -> ComposeResult:
        yield Static("Select a finding to see why it matters and what the fix changes.", id="explanation-body")

    def show(self, renderable: RenderableType) -> None:
        self.query_one("#explanation-body", Static).update(renderable)
        self.scroll_home(animate=False)
