"""The approval modal on its own: every decision it can return, typed."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, Static, TextArea

from agentkit.events import ApprovalRequest, Approve, Decision, Edit, Reject, Respond
from agentkit.tui.screens.approval import ApprovalScreen
from agentkit.tui.screens.dialogs import EditArgsScreen, validate_args

from .conftest import WRITE_SCHEMA, shell_request, write_request


class ModalHost(App[None]):
    """Pushes one ApprovalScreen and records what it returns."""

    def __init__(self, requests: list[ApprovalRequest]) -> None:
        super().__init__()
        self.requests = requests
        self.results: list[list[Decision] | None] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(ApprovalScreen(self.requests), self.results.append)


async def test_approve_returns_typed_decision() -> None:
    app = ModalHost([write_request()])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("y")
        await pilot.pause()
    assert app.results == [[Approve(call_id="call_w1")]]


async def test_edit_rejects_invalid_arguments_then_accepts_valid_ones() -> None:
    app = ModalHost([write_request()])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EditArgsScreen)
        editor = app.screen.query_one("#args-editor", TextArea)
        # Wrong type for content and an unknown key: the schema says no.
        editor.text = '{"path": "notes.md", "content": 3, "mode": "x"}'
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EditArgsScreen), "invalid arguments must not close the editor"
        errors = str(app.screen.query_one("#args-errors", Static).render())
        assert "content" in errors and "3 is not of type 'string'" in errors
        # Not JSON at all.
        editor.text = '{"path": '
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "invalid JSON" in str(app.screen.query_one("#args-errors", Static).render())
        editor.text = '{"path": "other.md", "content": "bye\\n"}'
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [[Edit(call_id="call_w1", args={"path": "other.md", "content": "bye\n"})]]


async def test_reject_with_feedback() -> None:
    app = ModalHost([write_request()])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"use todo.md", "enter")
        await pilot.pause()
    assert app.results == [[Reject(call_id="call_w1", feedback="use todo.md")]]


async def test_respond_in_place_of_the_tool() -> None:
    app = ModalHost([write_request()])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen.focused, Input)
        await pilot.press(*"saved elsewhere", "enter")
        await pilot.pause()
    assert app.results == [[Respond(call_id="call_w1", result="saved elsewhere")]]


async def test_always_allow_asks_for_a_scope() -> None:
    app = ModalHost([write_request()])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("down", "enter")  # second option: project
        await pilot.pause()
    assert app.results == [[Approve(call_id="call_w1", always="project")]]


async def test_several_calls_decided_one_by_one() -> None:
    app = ModalHost([write_request("c1"), shell_request("c2")])
    async with app.run_test(size=(80, 24)) as pilot:
        assert "1/2" in str(app.screen.query_one("#approval-title").render())
        await pilot.press("y")
        await pilot.pause()
        assert "2/2" in str(app.screen.query_one("#approval-title").render())
        assert app.screen.query_one("#approval").has_class("-dangerous")
        await pilot.press("r", *"no", "enter")
        await pilot.pause()
    assert app.results == [[Approve(call_id="c1"), Reject(call_id="c2", feedback="no")]]


async def test_several_calls_decided_all_at_once() -> None:
    app = ModalHost([write_request("c1"), shell_request("c2"), write_request("c3", "b.md")])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "r", "enter")  # reject c2 without feedback
        await pilot.pause()
        await pilot.press("Y")  # approve every call still undecided
        await pilot.pause()
    assert app.results == [
        [Approve(call_id="c1"), Reject(call_id="c2", feedback=""), Approve(call_id="c3")]
    ]


async def test_escape_means_decide_later() -> None:
    app = ModalHost([write_request()])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


def test_validate_args_reports_every_problem() -> None:
    args, problems = validate_args('{"content": 1}', WRITE_SCHEMA)
    assert args is None
    assert any("'path' is a required property" in p for p in problems)
    assert any(p.startswith("content:") for p in problems)
    ok: tuple[dict[str, Any] | None, list[str]] = validate_args(
        '{"path": "a", "content": "b"}', WRITE_SCHEMA
    )
    assert ok == ({"path": "a", "content": "b"}, [])
    assert validate_args("[1]", {})[1] == ["arguments must be a JSON object"]
