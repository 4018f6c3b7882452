"""Canned, deterministic scenes for the snapshot tests."""

from __future__ import annotations

from agentkit.config import Settings
from agentkit.events import (
    AgentEvent,
    ApprovalNeeded,
    ContextEvent,
    ContextItem,
    FinalEvent,
    PlanEvent,
    PlanStep,
    TokenEvent,
    ToolCallProposed,
    ToolResultEvent,
)
from agentkit.threads import ThreadInfo
from agentkit.tui.app import AgentkitApp

from .conftest import write_request
from .fakes import FakeAgent

THREADS = [
    ThreadInfo(
        thread_id="a1b2c3d4e5f6",
        title="Release notes draft",
        updated_at="2026-03-14T09:26:00",
        status="finished",
    ),
    ThreadInfo(
        thread_id="0f9e8d7c6b5a",
        title="Fix flaky CI test",
        updated_at="2026-03-13T17:02:00",
        status="needs_approval",
        pending=[write_request()],
    ),
    ThreadInfo(
        thread_id="77aa88bb99cc",
        title="Summarise design.md",
        updated_at="2026-03-12T08:45:00",
        status="finished",
    ),
]

PLAN = [
    PlanStep(index=0, text="Read the changelog", status="done"),
    PlanStep(index=1, text="Write NOTES.md", status="running"),
    PlanStep(index=2, text="Summarise for the user", status="pending"),
]

CONTEXT = [
    ContextItem(
        kind="document",
        text="## 0.3.0\n- threads can be forked from any checkpoint",
        source="CHANGELOG.md:1-12",
        score=0.82,
    ),
    ContextItem(
        kind="memory", text="The user prefers short bullet lists.", source="memory:7f3a", score=0.64
    ),
]


def _tokens(text: str) -> list[AgentEvent]:
    return [TokenEvent(text=text[i : i + 6]) for i in range(0, len(text), 6)]


def conversation_script() -> list[list[AgentEvent]]:
    request = write_request("call_notes", "NOTES.md", "# 0.3.0\n- fork threads\n")
    first: list[AgentEvent] = [
        PlanEvent(steps=PLAN[:1] + [PlanStep(**{**PLAN[1], "status": "pending"})] + PLAN[2:]),
        ContextEvent(items=CONTEXT),
        ToolCallProposed(
            call_id="call_read",
            tool="read_file",
            args={"path": "CHANGELOG.md"},
            side_effects=["read"],
            policy="allow",
        ),
        ToolResultEvent(
            call_id="call_read",
            tool="read_file",
            status="ok",
            duration_s=0.01,
            output="## 0.3.0\n- threads can be forked from any checkpoint",
        ),
        PlanEvent(steps=PLAN),
        *_tokens(
            "I read the changelog. Next I will **write `NOTES.md`** with:\n\n"
            "- one heading per release\n- a bullet per change\n"
        ),
        ToolCallProposed(
            call_id="call_notes",
            tool="write_file",
            args=request.args,
            side_effects=["write"],
            policy="ask",
        ),
        ApprovalNeeded(thread_id="a1b2c3d4e5f6", requests=[request]),
    ]
    second: list[AgentEvent] = [
        ToolResultEvent(
            call_id="call_notes",
            tool="write_file",
            status="ok",
            duration_s=0.02,
            output="wrote 2 lines to NOTES.md",
        ),
        PlanEvent(steps=[PlanStep(**{**s, "status": "done"}) for s in PLAN]),
        FinalEvent(answer="Done: `NOTES.md` now lists the 0.3.0 changes."),
    ]
    return [first, second]


def make_app(scripts: list[list[AgentEvent]] | None = None) -> tuple[AgentkitApp, FakeAgent]:
    agent = FakeAgent(scripts if scripts is not None else conversation_script(), threads=THREADS)
    settings = Settings(model="bundled:gemma3-270m", n_ctx=8192, n_gpu_layers=0)
    app = AgentkitApp(agent, settings=settings, thread_id="a1b2c3d4e5f6")
    return app, agent
