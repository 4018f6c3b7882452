"""Build the real Agent for Pilot tests: scripted model (deterministic), real
SQLite checkpointer in tmp_path, real built-in file tools, real policy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from agentkit.agent import Agent
from agentkit.config import Settings
from agentkit.events import AgentEvent, Decision
from agentkit.testing import ScriptedChatModel
from agentkit.tools import builtin_tools
from agentkit.tui.app import AgentkitApp


class RecordingAgent(Agent):
    """The real Agent, also keeping the events it streamed (to assert on)."""

    events: list[AgentEvent]

    def astream(self, task: str, thread_id: str | None = None) -> AsyncIterator[AgentEvent]:
        return self._record(super().astream(task, thread_id))

    def astream_resume(
        self, thread_id: str, decisions: Sequence[Decision] = ()
    ) -> AsyncIterator[AgentEvent]:
        return self._record(super().astream_resume(thread_id, decisions))

    async def _record(self, stream: AsyncIterator[AgentEvent]) -> AsyncIterator[AgentEvent]:
        async for event in stream:
            self.events.append(event)
            yield event


def settings_for(tmp_path: Path) -> Settings:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    return Settings(data_dir=tmp_path / "data", workspace=workspace, model="bundled:gemma3-270m")


def make_agent(
    tmp_path: Path,
    script: list[Any],
    *,
    plans: list[Any] | None = None,
    delay_s: float = 0.0,
) -> RecordingAgent:
    settings = settings_for(tmp_path)
    model = ScriptedChatModel(script=script, structured=list(plans or []), delay_s=delay_s)
    agent = RecordingAgent(
        model=model,
        tools=builtin_tools(settings),
        settings=settings,
        planning=plans is not None,
    )
    agent.events = []
    return agent


def ids(*names: str) -> Any:
    """Deterministic thread ids for the app's "new thread"."""
    queue = list(names)
    return lambda: queue.pop(0)


def make_app(agent: Agent, *names: str, thread_id: str | None = None) -> AgentkitApp:
    return AgentkitApp(agent, settings=agent.settings, id_factory=ids(*names), thread_id=thread_id)
