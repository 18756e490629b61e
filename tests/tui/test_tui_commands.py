"""The palette and `?` are built from the review screen's bindings: one source, no drift (issue 10 item 5)."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList

from migrate_tui.tui.app import MigrateApp
from migrate_tui.tui.commands import HELP_ONLY, PALETTE_ONLY, Command, commands, help_rows, palette_entries, review_commands
from migrate_tui.tui.findings_tree import FindingsTree
from migrate_tui.tui.review_screen import ReviewScreen
from migrate_tui.tui.screens import HelpScreen
from tuihelp import engines, scanned, wait_until


def screen_actions() -> list[str]:
    """Every action a key runs on the review screen: its bindings, and its widgets' `screen.` ones."""
    own = [b.action for b in ReviewScreen.BINDINGS]
    delegated = [b.action.removeprefix("screen.") for b in FindingsTree.BINDINGS if b.action.startswith("screen.")]
    return list(dict.fromkeys(own + delegated))


def test_every_binding_of_the_screen_is_in_the_palette_with_its_keys_and_words() -> None:
    palette = {c.action: c for c in palette_entries(review_commands(ReviewScreen.BINDINGS))}
    for binding in ReviewScreen.BINDINGS:
        keys = (binding.key_display,) if binding.key_display else tuple(binding.key.split(","))
        assert palette[binding.action] == Command(binding.action, keys, binding.description, binding.tooltip), binding


def test_the_palette_holds_nothing_but_the_screen_actions_and_the_declared_extras() -> None:
    entries = palette_entries(review_commands(ReviewScreen.BINDINGS))
    actions = [c.action for c in entries]
    assert len(actions) == len(set(actions))  # each action once, even when two keys run it (space)
    assert actions == screen_actions() + [c.action for c in PALETTE_ONLY]
    # Every entry runs: the screen has the action (a renamed method would leave a dead entry).
    for action in actions:
        assert callable(getattr(ReviewScreen, f"action_{action.split('(')[0]}", None)), action
    # The tree's own navigation (j/k/g/G/h/l) is not a palette command: it moves a cursor.
    assert not {"cursor_down", "cursor_up", "fold", "unfold"} & set(actions)
    # What the palette shows for the clear-filter key is the tree's binding, not a second wording.
    clear = next(c for c in entries if c.action == "clear_filter")
    assert (clear.keys, clear.title) == (("escape",), "Clear filter")


def test_help_lists_every_command_in_binding_order_then_the_keys_that_are_no_action() -> None:
    found = review_commands(ReviewScreen.BINDINGS)
    rows = help_rows(found)
    assert rows[-len(HELP_ONLY) :] == [("tab", "move focus (tree → diff → explanation)", ""), ("ctrl+p", "command palette", "")]
    assert rows[: -len(HELP_ONLY)] == [(" ".join(c.keys), c.description, c.tooltip) for c in found]
    # Every palette entry is in the help, with the same keys and words.
    for command in palette_entries(found):
        assert (" ".join(command.keys), command.description, command.tooltip) in rows
    # Besides the palette, the help shows only the tree's own navigation keys.
    palette = {(" ".join(c.keys), c.description, c.tooltip) for c in palette_entries(found)}
    assert [r for r in rows[: -len(HELP_ONLY)] if r not in palette] == [
        ("j", "Down", ""),
        ("k", "Up", ""),
        ("g home", "Top", ""),
        ("G end", "Bottom", ""),
        ("h left", "Fold", ""),
        ("l right", "Unfold", ""),
    ]


def test_commands_keep_the_first_binding_of_an_action_and_skip_undescribed_ones() -> None:
    from textual.binding import Binding

    found = commands(
        [Binding("x", "go", "Go", tooltip="first"), Binding("y", "go", "Go again"), Binding("z", "hidden", "")],
        [Binding("a", "screen.stop", "Stop"), Binding("b", "cursor_down", "Down"), Binding("c", "screen.go", "Go")],
    )
    assert found == [
        Command("go", ("x",), "Go", "first"),
        Command("stop", ("a",), "Stop"),
        Command("cursor_down", ("b",), "Down", on_screen=False),
    ]


async def test_the_running_palette_shows_exactly_these_entries_and_runs_them_on_the_screen(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=(160, 60)) as pilot:
        await scanned(pilot)
        await pilot.press("ctrl+p")
        await wait_until(
            pilot, lambda: app.screen.query(CommandList) and app.screen.query_one(CommandList).option_count > 1, "the palette's entries"
        )
        await pilot.pause(0.3)  # discovery hits arrive in a batch; let them all land
        options = app.screen.query_one(CommandList)
        shown = sorted(str(options.get_option_at_index(i).prompt).split("\n")[0] for i in range(options.option_count))
        expected = sorted([c.title for c in palette_entries(review_commands(ReviewScreen.BINDINGS))] + ["Theme"])
        assert shown == expected
        await pilot.press("escape")
        # `?` shows the same rows the help builder makes.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen._rows == help_rows(review_commands(ReviewScreen.BINDINGS))
        await pilot.press("escape")
        # A palette entry runs on the review screen (not the app): the filter opens and clears.
        await pilot.press("slash", *"rule:DF")
        await wait_until(pilot, lambda: app.review_screen.query_text == "rule:DF", "the filter")
        app.review_screen.findings_tree.focus()
        await pilot.press("ctrl+p", *"clear filter")
        await wait_until(
            pilot, lambda: "Clear filter" in str(app.screen.query_one(CommandList).get_option_at_index(0).prompt), "the palette hit"
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.review_screen.query_text == "", "the cleared filter")
        assert app.screen is app.review_screen


async def test_ctrl_q_and_the_palette_quit_through_the_screen_guard(small_repo: Path) -> None:
    """The app's own quit (ctrl+q) asks first when accepted change-sets are unwritten, as `q` does."""
    from migrate_tui.tui.screens import ConfirmDialog

    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=(140, 40)) as pilot:
        await scanned(pilot)
        await pilot.press("a", "ctrl+q")
        assert isinstance(app.screen, ConfirmDialog) and app.is_running
        assert app.screen.text.strip() == "2 accepted change-sets are not written yet. Quit and lose them?"
        await pilot.press("n")
        assert app.screen is app.review_screen and app.is_running
        await pilot.press("ctrl+q", "y")
        await wait_until(pilot, lambda: not app.is_running, "exit")
    assert app.return_value == 0
