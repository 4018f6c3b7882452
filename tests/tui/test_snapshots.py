"""Snapshot tests (pytest-textual-snapshot): the main screen, the approval
modal with a diff preview, and the thread list. Regenerate after an intended
change with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look
at the SVGs before committing them."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from .scenes import make_app


def _steady(pilot: Pilot[None]) -> None:
    """No blinking cursor: a snapshot must not depend on when it is taken."""
    pilot.app.query_one("#prompt", Input).cursor_blink = False


async def _converse(pilot: Pilot[None]) -> None:
    _steady(pilot)
    await pilot.pause()
    await pilot.click("#prompt")
    await pilot.press(*"write release notes", "enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _finish(pilot: Pilot[None]) -> None:
    await _converse(pilot)
    await pilot.press("y")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    pilot.app.status.set(tokens_per_s=48.7, context_used=1234)  # timing varies by machine
    await _settle(pilot)


async def _settle(pilot: Pilot[None]) -> None:
    """Let layout, scrolling and animations finish (a loaded machine otherwise
    snapshots a frame where a scrollbar has not appeared yet)."""
    for _ in range(3):
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.05)


def test_main_screen_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_finish)


def test_main_screen_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_finish)


def test_approval_modal_with_diff(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[None]) -> None:
        await _converse(pilot)
        pilot.app.status.set(tokens_per_s=48.7)
        await _settle(pilot)

    app, _ = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


def test_thread_list(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[None]) -> None:
        _steady(pilot)
        await pilot.pause()
        await pilot.press("ctrl+t", "down")
        await pilot.pause()

    app, _ = make_app([])
    assert snap_compare(app, terminal_size=(120, 40), run_before=before)
