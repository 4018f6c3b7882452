"""``agentkit acp`` end to end: the ACP SDK's own client side drives a real
``agentkit acp`` subprocess over stdio (JSON-RPC), with scripted models
(``--model-factory acp_models:NAME``), real file tools and SQLite threads.

Sessions: read a file, ask permission for a write, allowed, written,
finished; a rejected write; a generation cancelled midway; a session whose
agent process was killed while asking permission, loaded by a new process
and finished there."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from acp import PROTOCOL_VERSION, RequestError, spawn_agent_process, text_block
from acp.schema import (
    AgentMessageChunk,
    AllowedOutcome,
    DeniedOutcome,
    PermissionOption,
    RequestPermissionResponse,
    ToolCallProgress,
    ToolCallStart,
    ToolCallUpdate,
    UserMessageChunk,
)
from acp_models import NOTES

TESTS = Path(__file__).parent
AGENTKIT = str(Path(sys.executable).parent / "agentkit")
Decide = Callable[[list[PermissionOption], ToolCallUpdate], Awaitable[RequestPermissionResponse]]


def choose(option_id: str) -> Decide:
    async def decide(
        options: list[PermissionOption], call: ToolCallUpdate
    ) -> RequestPermissionResponse:
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=option_id)
        )

    return decide


class Recorder:
    """The client: records every update and permission request, answers with ``decide``."""

    def __init__(self, decide: Decide) -> None:
        self.decide = decide
        self.updates: list[Any] = []
        self.permissions: list[tuple[list[PermissionOption], ToolCallUpdate]] = []
        self.asked = asyncio.Event()
        self.on_update: Callable[[Any], None] | None = None

    async def request_permission(
        self,
        options: list[PermissionOption],
        session_id: str,
        tool_call: ToolCallUpdate,
        **kwargs: Any,
    ) -> RequestPermissionResponse:
        self.permissions.append((options, tool_call))
        self.asked.set()
        return await self.decide(options, tool_call)

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update(update)

    def text(self) -> str:
        return "".join(u.content.text for u in self.updates if isinstance(u, AgentMessageChunk))

    def calls(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for u in self.updates:
            if isinstance(u, ToolCallStart | ToolCallProgress):
                out.setdefault(u.tool_call_id, []).append(u)
        return out


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "project"
    ws.mkdir()
    (ws / "notes.txt").write_text(NOTES + "\n")
    return ws


@asynccontextmanager
async def agentkit_acp(
    client: Recorder, workspace: Path, factory: str
) -> AsyncIterator[tuple[Any, Any]]:
    data = workspace.parent / "data"
    stderr = (workspace.parent / "agent-stderr.log").open("a")
    env = {"PYTHONPATH": str(TESTS), "OMP_WAIT_POLICY": "passive"}
    args = ["acp", "--model-factory", f"acp_models:{factory}", "--data-dir", str(data)]
    try:
        async with spawn_agent_process(
            client, AGENTKIT, *args, env=env, cwd=workspace, transport_kwargs={"stderr": stderr}
        ) as (conn, process):
            init = await asyncio.wait_for(conn.initialize(protocol_version=PROTOCOL_VERSION), 60)
            assert init.agent_capabilities is not None and init.agent_capabilities.load_session
            assert init.agent_info is not None and init.agent_info.name == "agentkit"
            yield conn, process
    finally:
        stderr.close()


async def prompt(conn: Any, session_id: str, text: str) -> str:
    response = await asyncio.wait_for(
        conn.prompt(session_id=session_id, prompt=[text_block(text)]), 60
    )
    return response.stop_reason


async def test_read_then_allowed_write(workspace: Path) -> None:
    client = Recorder(choose("allow_once"))
    async with agentkit_acp(client, workspace, "read_then_write") as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        stop = await prompt(conn, session.session_id, "Summarise notes.txt into summary.md")
    assert stop == "end_turn"
    assert (workspace / "summary.md").read_text() == "The Rhine: 1,230 km.\n"
    calls = client.calls()
    read_start, *read_rest = calls["r1"]
    assert read_start.kind == "read" and read_start.title == "read_file notes.txt"
    assert read_start.locations[0].path == str(workspace / "notes.txt")
    assert read_rest[-1].status == "completed" and NOTES in read_rest[-1].content[0].content.text
    write_start = calls["w1"][0]
    assert write_start.kind == "edit"
    diff = write_start.content[0]
    assert diff.type == "diff" and diff.path == str(workspace / "summary.md")
    assert diff.old_text is None and diff.new_text == "The Rhine: 1,230 km.\n"
    assert [s.status for s in calls["w1"]] == ["pending", "in_progress", "completed"]
    ((options, asked),) = client.permissions
    assert [o.kind for o in options] == ["allow_once", "allow_always", "reject_once"]
    assert asked.tool_call_id == "w1" and asked.content[0].type == "diff"
    assert client.text() == "Wrote the summary to summary.md."


async def test_rejected_write(workspace: Path) -> None:
    client = Recorder(choose("reject_once"))
    async with agentkit_acp(client, workspace, "write_rejected") as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        stop = await prompt(conn, session.session_id, "Write summary.md")
    assert stop == "end_turn"
    assert not (workspace / "summary.md").exists()
    assert [s.status for s in client.calls()["w1"]] == ["pending", "failed"]
    assert client.text() == "Understood, I did not write summary.md."


async def test_cancel_mid_generation(workspace: Path) -> None:
    client = Recorder(choose("allow_once"))
    async with agentkit_acp(client, workspace, "slow_words") as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        first_words = asyncio.Event()
        client.on_update = lambda u: first_words.set() if isinstance(u, AgentMessageChunk) else None
        turn = asyncio.ensure_future(prompt(conn, session.session_id, "Say many words"))
        await asyncio.wait_for(first_words.wait(), 60)
        await conn.cancel(session_id=session.session_id)
        assert await turn == "cancelled"
        streamed = client.text().split()
        assert 0 < len(streamed) < 200  # cut short
        client.on_update = None
        client.updates.clear()
        # the thread is consistent: the next prompt runs
        assert await prompt(conn, session.session_id, "Are you there?") == "end_turn"
        assert client.text() == "Back again."


async def test_permission_survives_a_killed_agent(workspace: Path) -> None:
    never = asyncio.Event()

    async def hang(
        options: list[PermissionOption], call: ToolCallUpdate
    ) -> RequestPermissionResponse:
        await never.wait()
        return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))

    first = Recorder(hang)
    async with agentkit_acp(first, workspace, "write_pending") as (conn, process):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        session_id = session.session_id
        turn = asyncio.ensure_future(prompt(conn, session_id, "Write out.txt"))
        await asyncio.wait_for(first.asked.wait(), 60)
        process.kill()  # while the permission request is pending
        await process.wait()
        with pytest.raises(Exception):  # noqa: B017 - the connection is gone
            await turn
    assert not (workspace / "out.txt").exists()

    second = Recorder(choose("allow_once"))
    async with agentkit_acp(second, workspace, "after_restart") as (conn, _):
        await conn.load_session(cwd=str(workspace), session_id=session_id, mcp_servers=[])
        replayed = list(second.updates)
        assert (
            isinstance(replayed[0], UserMessageChunk)
            and replayed[0].content.text == "Write out.txt"
        )
        assert [u.status for u in replayed if isinstance(u, ToolCallStart)] == ["pending"]
        stop = await prompt(conn, session_id, "go on")
    assert stop == "end_turn"
    ((_, asked),) = second.permissions
    assert asked.tool_call_id == "w9"  # the same call, asked again
    assert (workspace / "out.txt").read_text() == "survived\n"
    assert second.text() == "Wrote out.txt.Nothing more to do."


async def test_unknown_session_is_an_error(workspace: Path) -> None:
    client = Recorder(choose("allow_once"))
    async with agentkit_acp(client, workspace, "read_then_write") as (conn, _):
        with pytest.raises(Exception) as raised:
            await conn.load_session(cwd=str(workspace), session_id="nope", mcp_servers=[])
    assert "nope" in json.dumps(getattr(raised.value, "data", None) or str(raised.value))


async def test_session_modes_are_permission_modes(workspace: Path) -> None:
    """session/new reports agentkit's modes; set_mode accept-edits lets the
    write run without a permission request, and a reloaded session keeps it."""
    client = Recorder(choose("reject_once"))
    async with agentkit_acp(client, workspace, "read_then_write") as (conn, _):
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        assert session.modes is not None and session.modes.current_mode_id == "default"
        assert [m.id for m in session.modes.available_modes] == [
            "default",
            "accept-edits",
            "plan",
            "dont-ask",
        ]
        await conn.set_session_mode(session_id=session.session_id, mode_id="accept-edits")
        stop = await prompt(conn, session.session_id, "Summarise notes.txt into summary.md")
        assert stop == "end_turn"
        assert client.permissions == [], "accept-edits: no permission request"
        assert (workspace / "summary.md").read_text() == "The Rhine: 1,230 km.\n"
        loaded = await conn.load_session(
            cwd=str(workspace), session_id=session.session_id, mcp_servers=[]
        )
        assert loaded.modes is not None and loaded.modes.current_mode_id == "accept-edits"
        with pytest.raises(RequestError) as refused:
            await conn.set_session_mode(session_id=session.session_id, mode_id="yolo")
        assert "unknown mode 'yolo'" in str(refused.value.data)
