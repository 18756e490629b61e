"""The findings tree: one branch per file (or per multi-file change-set), diagnostics apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from migrate_tui.model.findings import Applicability, Diagnostic, Finding
from migrate_tui.tui.review import ICONS, Query, Review, group_key, is_internal
from migrate_tui.tui.safe import visible

APPLICABILITY_STYLE = {
    Applicability.SAFE: "bold green",
    Applicability.UNSAFE: "bold yellow",
    Applicability.MANUAL: "bold magenta",
}
DIAGNOSTICS = "diagnostics"


@dataclass(frozen=True)
class Item:
    """What a tree node stands for."""

    kind: str  # group | finding | diagnostics | diagnostic
    key: str  # group key, finding key, or the diagnostic's text
    diagnostic: Diagnostic | None = None


def finding_label(finding: Finding, accepted: bool) -> Text:
    if not finding.fixable:
        mark = ("[-] ", "dim")
    else:
        mark = ("[x] ", "bold green") if accepted else ("[ ] ", "")
    return Text.assemble(
        mark,
        (ICONS[finding.applicability] + " ", APPLICABILITY_STYLE[finding.applicability]),
        (f"{finding.rule} ", "bold"),
        (f"L{finding.location.line} ", "dim"),
        visible(_short(finding)),
    )


def _short(finding: Finding) -> str:
    """The message up to its first ':' (the detail lives in the explanation panel)."""
    head, _, _ = finding.message.partition(": ")
    return head


def group_label(key: str, count: int) -> Text:
    if " + " in key:
        return Text.assemble(("◉ ", "bold cyan"), (visible(key), "bold"), (f"  ({count})", "dim"))
    return Text.assemble((visible(key), "bold"), (f"  ({count})", "dim"))


def diagnostic_label(diagnostic: Diagnostic) -> Text:
    if is_internal(diagnostic):
        return Text.assemble(("✗ ", "bold red"), (f"{visible(diagnostic.path)}:{diagnostic.line} ", ""), ("internal error", "bold red"))
    kind = str(getattr(diagnostic.kind, "value", diagnostic.kind))
    return Text.assemble(("! ", "bold yellow"), (f"{visible(diagnostic.path)}:{diagnostic.line} ", ""), (visible(kind), "dim"))


class FindingsTree(Tree[Item]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g,home", "scroll_home", "Top", show=False),
        Binding("G,end", "scroll_end", "Bottom", show=False),
        Binding("h,left", "fold", "Fold", show=False),
        Binding("l,right", "unfold", "Unfold", show=False),
        Binding("escape", "screen.clear_filter", "Clear filter", show=False),
        # Tree binds space to expand/collapse; here it decides on the selected change-set.
        Binding("space", "screen.toggle_accept", "Accept", id="tree.accept", tooltip="accept or reject the selected change-set"),
    ]

    def action_scroll_home(self) -> None:
        self.move_cursor_to_line(0)

    def action_scroll_end(self) -> None:
        self.move_cursor_to_line(self.last_line)

    def action_fold(self) -> None:
        """On a group: collapse it; on a finding: go to its group (lazygit/tig style)."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_unfold(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand and not node.is_expanded:
            node.expand()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("findings", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._groups: dict[str, TreeNode[Item]] = {}
        self._findings: dict[str, TreeNode[Item]] = {}
        self._diagnostics: TreeNode[Item] | None = None

    def clear_all(self) -> None:
        self.clear()
        self._groups.clear()
        self._findings.clear()
        self._diagnostics = None

    def add_items(self, findings: Iterable[Finding], diagnostics: Iterable[Diagnostic], review: Review, query: Query) -> None:
        """Append findings and diagnostics (streaming: groups keep their arrival order)."""
        for finding in findings:
            if not query.matches(finding, review) or finding.key in self._findings:
                continue
            key = group_key(finding)
            group = self._groups.get(key)
            if group is None:
                before = self._diagnostics
                group = (
                    self.root.add(group_label(key, 0), Item("group", key), expand=True, before=before)
                    if before is not None
                    else self.root.add(group_label(key, 0), Item("group", key), expand=True)
                )
                self._groups[key] = group
            node = group.add_leaf(finding_label(finding, review.is_accepted(finding)), Item("finding", finding.key))
            self._findings[finding.key] = node
            group.set_label(group_label(key, len(group.children)))
        diagnostics = [d for d in diagnostics if query.matches_diagnostic(d)]
        if diagnostics:
            if self._diagnostics is None:
                self._diagnostics = self.root.add("", Item(DIAGNOSTICS, DIAGNOSTICS), expand=True)
            for diagnostic in diagnostics:
                self._diagnostics.add_leaf(diagnostic_label(diagnostic), Item("diagnostic", str(diagnostic), diagnostic))
            count = len(self._diagnostics.children)
            crashed = sum(1 for n in self._diagnostics.children if n.data and n.data.diagnostic and is_internal(n.data.diagnostic))
            self._diagnostics.set_label(
                Text.assemble(
                    ("Diagnostics", "bold yellow"),
                    (f"  ({count}) not checked", "dim"),
                    (f", {crashed} crashed" if crashed else "", "bold red"),
                )
            )

    def rebuild(self, review: Review, query: Query) -> None:
        """Redraw from the review (after a filter change or a finished scan), keeping the cursor."""
        current = self.cursor_node.data if self.cursor_node is not None else None
        self.clear_all()
        self.add_items(review.findings, review.diagnostics, review, query)
        if current is not None:
            self.select_item(current)

    def select_item(self, item: Item) -> bool:
        node = None
        if item.kind == "finding":
            node = self._findings.get(item.key)
        elif item.kind == "group":
            node = self._groups.get(item.key)
        elif self._diagnostics is not None:
            if item.kind == DIAGNOSTICS:
                node = self._diagnostics
            else:
                node = next((n for n in self._diagnostics.children if n.data == item), None)
        if node is None:
            return False
        self._tree_lines  # noqa: B018 - builds the line index so node._line is current
        self.move_cursor(node)
        return True

    def select_finding(self, key: str) -> bool:
        return self.select_item(Item("finding", key))

    def refresh_finding(self, finding: Finding, review: Review) -> None:
        node = self._findings.get(finding.key)
        if node is not None:
            node.set_label(finding_label(finding, review.is_accepted(finding)))

    def refresh_all(self, review: Review) -> None:
        for finding in review.findings:
            self.refresh_finding(finding, review)

    @property
    def finding_keys(self) -> list[str]:
        return list(self._findings)
