"""Command palette entries (ctrl+p): one per app action, named like its key binding."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (palette name, help, action name on the app)
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Accept / reject the selected change-set", "space", "toggle_accept"),
    ("Accept all safe change-sets", "a", "accept_all_safe"),
    ("Write the accepted change-sets", "w", "write"),
    ("Filter findings", "/  e.g. rule:IV001 is:safe nginx", "filter"),
    ("Clear the filter", "escape in the filter", "clear_filter"),
    ("Toggle zero-rebuild / scratch mode and re-plan", "m", "toggle_mode"),
    ("Re-scan the repository", "r", "rescan"),
    ("Toggle unified / side-by-side diff", "u", "toggle_unified"),
    ("Toggle whole file / folded hunks", "z", "toggle_context"),
    ("Toggle the wide explanation panel", "e", "toggle_explanation"),
    ("Next file of the change-set", "]", "next_file"),
    ("Previous file of the change-set", "[", "previous_file"),
    ("Help: keys and filter syntax", "?", "help"),
    ("Quit", "q", "quit"),
)


class MigrateCommands(Provider):
    def _run(self, action: str) -> None:
        self.app.call_later(self.app.run_action, action)

    async def discover(self) -> Hits:
        for name, help_text, action in COMMANDS:
            yield DiscoveryHit(name, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._run, action), help=help_text)
