"""The real Agent with canned events and thread records, for deterministic
snapshots.

Pilot flow tests drive the real :class:`agentkit.agent.Agent` end to end; the
snapshot tests need fixed thread ids, titles and times, so they replay canned
events through :class:`FakeAgent`, an Agent (in-memory checkpoints) whose
stream methods replay scripts and whose thread store returns fixed, real
:class:`~agentkit.threads.ThreadInfo` records.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from langchain_core.messages import AnyMessage

from agentkit.agent import Agent
from agentkit.config import Settings
from agentkit.events import AgentEvent, ApprovalRequest, Decision
from agentkit.testing import ScriptedChatModel
from agentkit.threads import (
    HISTORY_LIMIT,
    CheckpointInfo,
    ThreadInfo,
    ThreadNotFoundError,
    ThreadStore,
)

HISTORY = [
    CheckpointInfo(
        checkpoint_id="cp-2",
        step=2,
        created_at="2026-01-02T10:01:00",
        last_message="after write_file",
    ),
    CheckpointInfo(
        checkpoint_id="cp-1", step=1, created_at="2026-01-02T10:00:00", last_message="user: hello"
    ),
]


class FakeThreadStore(ThreadStore):
    """The agent's ThreadStore, answering from fixed records."""

    def __init__(self, agent: Agent, threads: Sequence[ThreadInfo]) -> None:
        super().__init__(agent.graph, agent.storage.checkpointer)
        here = str(agent.workspace)  # the canned threads work in the app's workspace
        self.infos = {t.thread_id: t.model_copy(update={"workspace": here}) for t in threads}
        self.forked: list[tuple[str, str]] = []

    def list(self, workspace: str | Path | None = None) -> list[ThreadInfo]:
        return list(self.infos.values())

    def get(self, thread_id: str) -> ThreadInfo:
        if thread_id not in self.infos:
            raise ThreadNotFoundError(f"no thread {thread_id!r}")
        return self.infos[thread_id]

    def messages(self, thread_id: str) -> list[AnyMessage]:
        self.get(thread_id)
        return []

    def history(self, thread_id: str, limit: int | None = HISTORY_LIMIT) -> list[CheckpointInfo]:
        return HISTORY[:limit]

    def fork(
        self, thread_id: str, checkpoint_id: str, title: str | None = None, **_: object
    ) -> str:
        self.forked.append((thread_id, checkpoint_id))
        original = self.get(thread_id)
        new = ThreadInfo(
            thread_id="fork0000aaaa",
            title=title or f"fork of {original.title}",
            workspace=original.workspace,
        )
        self.infos[new.thread_id] = new
        return new.thread_id

    def rename(self, thread_id: str, title: str) -> None:
        self.infos[thread_id] = self.get(thread_id).model_copy(update={"title": title})

    def delete(self, thread_id: str) -> None:
        self.infos.pop(thread_id, None)


class FakeAgent(Agent):
    """Replays ``scripts`` (one list of events per astream/astream_resume call)."""

    def __init__(
        self,
        scripts: list[list[AgentEvent]] | None = None,
        threads: Sequence[ThreadInfo] = (),
        pending: dict[str, list[ApprovalRequest]] | None = None,
        delay_s: float = 0.0,
    ) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="agentkit-tui-"))
        settings = Settings(data_dir=data_dir, workspace=data_dir, checkpointer="memory")
        super().__init__(model=ScriptedChatModel(), tools=[], settings=settings, planning=False)
        self.threads = FakeThreadStore(self, threads)
        self.scripts = list(scripts or [])
        self.pending_by_thread = dict(pending or {})
        self.delay_s = delay_s
        self.tasks: list[tuple[str, str | None]] = []
        self.decisions: list[list[Decision]] = []

    async def _replay(self) -> AsyncIterator[AgentEvent]:
        events = self.scripts.pop(0) if self.scripts else []
        for event in events:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield event

    def astream(self, task: str, thread_id: str | None = None) -> AsyncIterator[AgentEvent]:
        self.tasks.append((task, thread_id))
        return self._replay()

    def astream_resume(
        self, thread_id: str, decisions: Sequence[Decision] = ()
    ) -> AsyncIterator[AgentEvent]:
        self.decisions.append(list(decisions))
        self.pending_by_thread.pop(thread_id, None)
        return self._replay()

    def pending(self, thread_id: str) -> list[ApprovalRequest]:
        return list(self.pending_by_thread.get(thread_id, []))
