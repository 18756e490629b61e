"""Command palette entries (ctrl+p): built from the app's key bindings, one entry per action.

The palette and the keys can't disagree: each binding's tooltip (or description) is the entry,
its keys are the help text. Textual's own system commands are reduced to the theme switcher
(its "Quit" would bypass the guard on unwritten decisions, and "Keys" duplicates `?`).
"""

from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

# Actions without a key of their own on the main screen.
EXTRA: tuple[tuple[str, str, str], ...] = (
    ("Clear the filter", "escape", "clear_filter"),
)


def palette_entries(bindings: Iterable[Binding]) -> list[tuple[str, str, str]]:
    """(name, keys, action) per distinct action, in binding order."""
    out: dict[str, tuple[str, str, str]] = {}
    for binding in bindings:
        action = binding.action.removeprefix("app.")
        if action in out or not binding.description:
            continue
        name = binding.description
        if binding.tooltip:
            name = f"{binding.description}: {binding.tooltip}"
        keys = binding.key_display or binding.key.replace(",", " / ")
        out[action] = (name, keys, action)
    for name, keys, action in EXTRA:
        out.setdefault(action, (name, keys, action))
    return list(out.values())


class MigrateCommands(Provider):
    def _entries(self) -> list[tuple[str, str, str]]:
        return palette_entries(self.app.BINDINGS)

    def _run(self, action: str) -> None:
        self.app.call_later(self.app.run_action, action)

    async def discover(self) -> Hits:
        for name, help_text, action in self._entries():
            yield DiscoveryHit(name, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._run, action), help=help_text)
