"""Help screen, command palette, panels at 80x24 and the light theme."""

from __future__ import annotations

import html
import re

from textual.pilot import Pilot
from textual.widgets import Input

from agentkit.tui.screens.help import HelpScreen

from .scenes import make_app


async def test_help_lists_the_keys_of_every_screen() -> None:
    app, _ = make_app([])
    async with app.run_test(size=(100, 70)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        svg = app.export_screenshot()
        text = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
        for label in ("New thread", "Approve", "Reject", "Respond", "Always", "Fork", "Save"):
            assert label in text, label
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_exposes_the_main_actions() -> None:
    app, _ = make_app([])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "New thread",
            "Rename thread",
            "Delete thread",
            "Fork thread from a checkpoint",
            "Decide pending approvals",
            "Cancel generation",
            "Resume interrupted run",
            "Revoke an always-allow rule",
            "Open thread: Fix flaky CI test",
        ):
            assert title in titles, title


async def test_side_panels_toggle_in_a_small_terminal() -> None:
    app, _ = make_app([])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        threads, side = app.query_one("#threads"), app.query_one("#side")
        assert not threads.display and not side.display, "80 columns: conversation only"
        await pilot.press("ctrl+b", "ctrl+g")
        await pilot.pause()
        assert threads.display and side.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not threads.display
    app, _ = make_app([])
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert app.query_one("#threads").display and app.query_one("#side").display


def test_light_theme(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[None]) -> None:
        pilot.app.theme = "textual-light"
        pilot.app.query_one("#prompt", Input).cursor_blink = False
        await pilot.pause()

    app, _ = make_app([])
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


def test_chat_command_is_registered() -> None:
    from typer.testing import CliRunner

    from agentkit.cli import app as cli

    result = CliRunner().invoke(cli, ["chat", "--help"])
    assert result.exit_code == 0
    for option in ("--thread", "--model", "--workspace", "--policy", "--tools", "--no-plan"):
        assert option in result.output, option
