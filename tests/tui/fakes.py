"""A fixed-data stand-in for the Agent API, for deterministic snapshots.

Pilot flow tests drive the real :class:`agentkit.agent.Agent`; the snapshot
tests need fixed thread ids, titles and times, so they replay canned events
through this object, which has exactly the Agent's public surface.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from agentkit.events import AgentEvent, ApprovalRequest, Decision


@dataclass
class FakeThread:
    thread_id: str
    title: str
    updated_at: str
    pending: int = 0
    messages: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FakeCheckpoint:
    checkpoint_id: str
    step: int
    created_at: str
    label: str


class FakeThreads:
    def __init__(self, threads: list[FakeThread]) -> None:
        self.threads = {t.thread_id: t for t in threads}
        self.forked: list[tuple[str, str]] = []

    def list(self) -> list[FakeThread]:
        return list(self.threads.values())

    def get(self, thread_id: str) -> FakeThread | None:
        return self.threads.get(thread_id)

    def messages(self, thread_id: str) -> list[dict[str, str]]:
        thread = self.threads.get(thread_id)
        return thread.messages if thread else []

    def history(self, thread_id: str) -> list[FakeCheckpoint]:
        return [FakeCheckpoint("cp-2", 2, "2026-01-02T10:01:00", "after write_file"),
                FakeCheckpoint("cp-1", 1, "2026-01-02T10:00:00", "user: hello")]

    def fork(self, thread_id: str, checkpoint_id: str) -> str:
        self.forked.append((thread_id, checkpoint_id))
        new = FakeThread("fork0000aaaa", "fork of " + self.threads[thread_id].title,
                         "2026-01-02 11:00")
        self.threads[new.thread_id] = new
        return new.thread_id

    def delete(self, thread_id: str) -> None:
        self.threads.pop(thread_id, None)

    def rename(self, thread_id: str, title: str) -> None:
        self.threads[thread_id].title = title


class FakeAgent:
    """Replays ``scripts`` (one list of events per astream/astream_resume call)."""

    def __init__(
        self,
        scripts: list[list[AgentEvent]] | None = None,
        threads: list[FakeThread] | None = None,
        pending: dict[str, list[ApprovalRequest]] | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self.scripts = list(scripts or [])
        self.threads = FakeThreads(threads or [])
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
        self, thread_id: str, decisions: Sequence[Decision]
    ) -> AsyncIterator[AgentEvent]:
        self.decisions.append(list(decisions))
        self.pending_by_thread.pop(thread_id, None)
        return self._replay()

    def pending(self, thread_id: str) -> list[ApprovalRequest]:
        return list(self.pending_by_thread.get(thread_id, []))
