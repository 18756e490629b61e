"""The review app: a thin shell that pushes the ``ReviewScreen`` (its default screen) and owns what is app-wide.

App-wide means: the Engine factory (handed down to the screen, which asks it for a fresh
Engine on a re-scan or a mode change), where `p` finds images (only what the user named), the
theme, and the exit code. Everything about findings, decisions and writing lives in
``review_screen``; no rule logic lives in either.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen

from migrate_tui.pipeline.engine import Engine
from migrate_tui.tui.messages import QuitConfirmed
from migrate_tui.tui.review_screen import EngineFactory, ReviewScreen

if TYPE_CHECKING:
    from migrate_tui.proof.verify import TreeLoader

EXIT_CRASHED = 2  # the app's exit code when a scan or a file crashed (never 0 after a crash)


class MigrateApp(App[int]):
    TITLE = "migrate-tui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere

    def __init__(self, new_engine: EngineFactory, *, write_enabled: bool = True, images: tuple[str, ...] = ()) -> None:
        _start_resource_tracker()
        super().__init__()
        self.new_engine = new_engine
        self.images = tuple(images)  # `--image REF=SOURCE`: where `p` finds the images to prove with
        self.review_screen = ReviewScreen(new_engine, proof_loader=self.proof_loader, write_enabled=write_enabled)

    def get_default_screen(self) -> ReviewScreen:
        """The review screen is the bottom of the screen stack (Textual pushes it first);
        dialogs are pushed over it. ``app.query_one`` looks there."""
        return self.review_screen

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Only the theme switcher: the review screen's provider lists every action once
        (Textual's "Quit" would skip the guard on unwritten decisions)."""
        for command in super().get_system_commands(screen):
            if command.title == "Theme":
                yield command

    def proof_loader(self, engine: Engine) -> TreeLoader:
        """Images only from what the user named (``--image``, config ``oci-layouts``)."""
        from migrate_tui.proof.prove import offline_loader

        return offline_loader(list(self.images), tuple(engine.config.oci_layouts), root=engine.root)

    @property
    def crashed(self) -> bool:
        """A scan failed or a file crashed a rule: the exit code says so."""
        return self.review_screen.crashed

    async def action_quit(self) -> None:
        """ctrl+q, the palette, the write summary's `q`: through the review screen's guard."""
        if self.review_screen.is_attached:
            self.review_screen.action_quit()
        else:
            self.exit(EXIT_CRASHED if self.crashed else 0)

    def on_quit_confirmed(self, message: QuitConfirmed) -> None:
        self.exit(EXIT_CRASHED if self.crashed else 0)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker while sys.stderr is still the real one.

    The engine scans big trees with a process pool started by a fork server; the tracker it starts on
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


def exit_code(app: MigrateApp) -> int:
    """0 after a normal quit; never 0 after a crash (of the app, a scan, or a rule on one file)."""
    if app.return_code:  # Textual's own: 1 after an unhandled exception
        return EXIT_CRASHED
    if app.crashed:
        return EXIT_CRASHED
    return int(app.return_value or 0)


def run_app(new_engine: EngineFactory, *, write_enabled: bool = True, images: tuple[str, ...] = ()) -> int:
    app = MigrateApp(new_engine, write_enabled=write_enabled, images=images)
    app.run()
    return exit_code(app)
