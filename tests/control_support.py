"""An agent with the real built-in tools in a temporary workspace, SQLite
threads in a temporary data dir and a scripted model: what the tests of
hooks, modes, rewind, compaction and instructions drive."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import ToolMessage

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import Settings
from agentkit.events import AgentEvent
from agentkit.testing import ScriptedChatModel
from agentkit.tools import builtin_tools


def control_settings(tmp_path: Path, **overrides: Any) -> Settings:
    ws = tmp_path / "ws"
    ws.mkdir(parents=True, exist_ok=True)
    return Settings(data_dir=tmp_path / "data", workspace=ws, **overrides)


def control_agent(
    tmp_path: Path,
    script: Sequence[Any],
    *,
    policy: Policy | None = None,
    settings: Settings | None = None,
    **kwargs: Any,
) -> tuple[Agent, ScriptedChatModel, Path]:
    """(agent, model, workspace): the built-in tools (writes and shell
    included) confined to ``tmp_path/ws``."""
    settings = settings or control_settings(tmp_path)
    model = ScriptedChatModel(script=list(script))
    agent = Agent(
        model=model,
        tools=builtin_tools(settings),
        settings=settings,
        policy=policy,
        planning=False,
        **kwargs,
    )
    return agent, model, settings.resolved_workspace()


def tool_results(agent: Agent, thread_id: str) -> dict[str, list[str]]:
    """Every ToolMessage of the thread, by call id (to check one result per call)."""
    out: dict[str, list[str]] = {}
    for message in agent.threads.messages(thread_id):
        if isinstance(message, ToolMessage):
            out.setdefault(message.tool_call_id, []).append(str(message.content))
    return out


def kinds(events: Sequence[AgentEvent]) -> list[str]:
    return [e.kind for e in events]
