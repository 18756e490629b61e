"""The review screen's commands, built from its key bindings: one source for the palette and `?`.

Each binding gives an action, its keys, a description and a tooltip. The palette (ctrl+p)
offers every action the review screen runs, once; the help screen lists those plus the keys
widgets handle themselves (tree navigation). Commands without a binding are declared once, in
``PALETTE_ONLY``; rows that document a key but are no action, in ``HELP_ONLY``. Textual's own
system commands are reduced to the theme switcher (its "Quit" would bypass the guard on
unwritten decisions, and "Keys" duplicates `?`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Iterable

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

from migrate_tui.tui.findings_tree import FindingsTree

SCREEN = "screen."  # a widget's binding that runs an action of the screen


@dataclass(frozen=True)
class Command:
    action: str  # as the screen runs it: "toggle_accept", "diff_page(1)"
    keys: tuple[str, ...]  # as shown: ("J", "pagedown"), ("?",)
    description: str
    tooltip: str = ""
    on_screen: bool = True  # the review screen runs it (the palette can); else a widget's own key

    @property
    def title(self) -> str:
        """The palette's entry: the description, then what it does."""
        return f"{self.description}: {self.tooltip}" if self.tooltip else self.description


# Commands the palette offers without a key of their own (none today; add them here, once).
PALETTE_ONLY: tuple[Command, ...] = ()
# Keys the help screen documents that are no action of ours.
HELP_ONLY: tuple[Command, ...] = (
    Command("focus_next", ("tab",), "move focus (tree → diff → explanation)", on_screen=False),
    Command("command_palette", ("ctrl+p",), "command palette", on_screen=False),
)


def commands(screen: Iterable[BindingType], widgets: Iterable[BindingType] = ()) -> list[Command]:
    """One command per distinct action, in binding order: the screen's bindings, then its
    widgets' (those prefixed ``screen.`` run on the screen; the others are the widget's own)."""
    out: dict[str, Command] = {}
    for binding, owned in [*((_binding(b), True) for b in screen), *((_binding(b), False) for b in widgets)]:
        on_screen = owned or binding.action.startswith(SCREEN)
        action = binding.action.removeprefix(SCREEN)
        if action in out or not binding.description:
            continue
        keys = (binding.key_display,) if binding.key_display else tuple(binding.key.split(","))
        out[action] = Command(action, keys, binding.description, binding.tooltip, on_screen)
    return list(out.values())


def _binding(binding: BindingType) -> Binding:
    return binding if isinstance(binding, Binding) else Binding(*binding)


def review_commands(screen_bindings: Iterable[BindingType]) -> list[Command]:
    """The review screen's commands: its bindings and its findings tree's."""
    return commands(screen_bindings, FindingsTree.BINDINGS)


def palette_entries(found: Iterable[Command]) -> list[Command]:
    """What ctrl+p offers: every command the screen runs, then the palette-only ones."""
    return [c for c in found if c.on_screen] + [c for c in PALETTE_ONLY]


def help_rows(found: Iterable[Command]) -> list[tuple[str, str, str]]:
    """(keys, description, tooltip) for `?`: every command, then keys that are no action."""
    return [(" ".join(c.keys), c.description, c.tooltip) for c in [*found, *PALETTE_ONLY, *HELP_ONLY]]


class MigrateCommands(Provider):
    def _entries(self) -> list[Command]:
        return palette_entries(review_commands(self.screen.BINDINGS))

    def _run(self, action: str) -> None:
        self.app.call_later(self.app.run_action, action, self.screen)

    async def discover(self) -> Hits:
        for command in self._entries():
            yield DiscoveryHit(command.title, partial(self._run, command.action), help=" / ".join(command.keys))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._entries():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), partial(self._run, command.action), help=" / ".join(command.keys))
