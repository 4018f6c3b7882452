"""The chat app and thread workspaces (issue 19), with Pilot against the real
Agent (scripted model, SQLite threads in a shared data dir, real file tools):
a thread started in project A and reopened from project B writes into A, the
approval prompt names A's path, the sidebar lists B's threads until toggled,
and a moved workspace asks where to continue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from agentkit.agent import Agent
from agentkit.config import Settings
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools
from agentkit.tui.app import AgentkitApp
from agentkit.tui.screens.approval import ApprovalScreen, render_header
from agentkit.tui.screens.dialogs import TextPromptScreen
from agentkit.tui.widgets.conversation import ErrorMessage, NoticeMessage
from agentkit.tui.widgets.threads import ThreadItem

from .real_agent import ids
from .test_flows import SIZE, settle

WRITE = [call("write_file", {"path": "out.txt", "content": "from A"}, "w1"), final("Wrote it.")]


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    found = {name: (tmp_path / name) for name in ("A", "B", "data")}
    for path in found.values():
        path.mkdir()
    monkeypatch.chdir(found["B"])  # the app runs from project B
    return {name: path.resolve() for name, path in found.items()}


def agent_in(workspace: Path, data: Path, script: list[Any]) -> Agent:
    settings = Settings(data_dir=data, workspace=workspace, model="bundled:gemma3-270m")
    return Agent(
        model=ScriptedChatModel(script=script),
        tools=builtin_tools(settings),
        settings=settings,
        planning=False,
    )


def started_in_a(dirs: dict[str, Path]) -> None:
    """A thread started in A that waits for approval of a write."""
    result = agent_in(dirs["A"], dirs["data"], WRITE).run("write out.txt", thread_id="t-a")
    assert result.status == "needs_approval"


def app_in_b(dirs: dict[str, Path], script: list[Any], thread_id: str | None = None) -> AgentkitApp:
    agent = agent_in(dirs["B"], dirs["data"], script)
    return AgentkitApp(agent, settings=agent.settings, id_factory=ids("t-new"), thread_id=thread_id)


def notices(app: AgentkitApp) -> list[str]:
    return [n.message for n in app.conversation.query(NoticeMessage)]


async def test_reopened_from_b_the_write_lands_in_a(dirs: dict[str, Path]) -> None:
    started_in_a(dirs)
    app = app_in_b(dirs, WRITE[1:], thread_id="t-a")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert f"this thread works in {dirs['A']}" in notices(app)
        assert isinstance(app.screen, ApprovalScreen)
        request = app.screen.current
        assert request.workspace == str(dirs["A"])
        assert f"in {dirs['A'] / 'out.txt'}" in render_header(request).plain, "names A's path"
        await pilot.press("y")
        await settle(pilot)
    assert (dirs["A"] / "out.txt").read_text() == "from A"
    assert list(dirs["B"].iterdir()) == [], "B is untouched"


async def test_the_sidebar_lists_this_workspace_until_toggled(dirs: dict[str, Path]) -> None:
    started_in_a(dirs)
    agent_in(dirs["B"], dirs["data"], [final("hi")]).run("hello from B", thread_id="t-b")
    app = app_in_b(dirs, [])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sidebar = app.thread_list
        assert [r.thread_id for r in sidebar.rows] == ["t-new", "t-b"]
        assert sidebar.border_subtitle == "1 elsewhere · a"
        await pilot.press("ctrl+t", "a")
        await settle(pilot)
        assert {r.thread_id for r in sidebar.rows} == {"t-new", "t-a", "t-b"}
        assert sidebar.border_title == "Threads · all workspaces"
        item = next(i for i in sidebar.query(ThreadItem) if i.row.thread_id == "t-a")
        assert item.row.workspace == str(dirs["A"])
        label = str(item.query_one("Label").render())
        assert "· A" in label, "each row names its workspace"
        await pilot.press("a")
        await settle(pilot)
        assert [r.thread_id for r in sidebar.rows] == ["t-new", "t-b"]


async def test_a_moved_workspace_asks_where_to_continue(dirs: dict[str, Path]) -> None:
    started_in_a(dirs)
    moved = dirs["A"].with_name("A-moved")
    dirs["A"].rename(moved)
    app = app_in_b(dirs, WRITE[1:], thread_id="t-a")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        errors = [e.message for e in app.conversation.query(ErrorMessage)]
        assert any(f"works in {dirs['A']}, which no longer exists" in e for e in errors)
        assert isinstance(app.screen, ApprovalScreen), "the pending call is still there"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, TextPromptScreen), "asks where to continue"
        assert not moved.joinpath("out.txt").exists() and list(dirs["B"].iterdir()) == []
        app.screen.query_one("#prompt-input", Input).value = str(moved)
        await pilot.press("enter")
        await settle(pilot)
        assert f"this thread now works in {moved}" in notices(app)
        assert isinstance(app.screen, ApprovalScreen), "decide again, now in the new place"
        assert app.screen.current.target == str(moved / "out.txt")
        await pilot.press("y")
        await settle(pilot)
    assert (moved / "out.txt").read_text() == "from A" and list(dirs["B"].iterdir()) == []
    origin = app.agent.threads.origin("t-a") if app.agent else None
    assert origin is not None and origin.moves[-1].to_workspace == str(moved)
