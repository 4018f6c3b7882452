"""Session control on the Agent: the thread's permission mode, approving a
plan-mode run's plan, compacting a thread by hand, and rewinding the file
changes agentkit's tools made (see docs/control.md). A mixin of
:class:`agentkit.agent.Agent`, kept apart so each file stays readable."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from agentkit.errors import AgentkitError
from agentkit.events import AgentEvent, CompactionEvent, RunResult
from agentkit.modes import DEFAULT_MODE, PLAN_APPROVED_TASK, Mode, check_mode
from agentkit.rewind import RewindPoint, RewindReport, rewind, rewind_points
from agentkit.threads import pending_requests

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.graph.state import CompiledStateGraph
    from langgraph.runtime import RunControl

    from agentkit.config import Settings
    from agentkit.graphs.agent_graph import AgentNodes
    from agentkit.graphs.file_history import FileHistory
    from agentkit.threads import ThreadStore


class SessionControl:
    """What the Agent provides to these methods."""

    settings: Settings
    threads: ThreadStore
    graph: CompiledStateGraph
    nodes: AgentNodes
    file_history: FileHistory
    default_mode: Mode
    _lock: threading.Lock
    _control: RunControl | None

    def _config(self, thread_id: str) -> RunnableConfig:
        raise NotImplementedError

    def stream(self, task: str, thread_id: str | None = None) -> Iterator[AgentEvent]:
        raise NotImplementedError

    def result(self, thread_id: str) -> RunResult:
        raise NotImplementedError

    # --- permission modes ------------------------------------------------------------
    def mode(self, thread_id: str) -> Mode:
        """The thread's permission mode (the agent's default for a new thread)."""
        stored = self.threads.extra(thread_id).get("mode")
        return check_mode(stored) if stored else self.default_mode

    def set_mode(self, thread_id: str, mode: Mode | str) -> Mode:
        """Store ``mode`` with the thread; it applies from the next step the
        agent takes (a run in progress keeps the mode it started with)."""
        checked = check_mode(mode)
        self.threads.set_extra(thread_id, {**self.threads.extra(thread_id), "mode": checked})
        return checked

    def approve_plan(self, thread_id: str) -> RunResult:
        """Approve the plan a ``plan``-mode run ended with: the thread
        switches to ``default`` and the agent carries the plan out."""
        for _ in self.stream_approve_plan(thread_id):
            pass
        return self.result(thread_id)

    def stream_approve_plan(self, thread_id: str) -> Iterator[AgentEvent]:
        self.set_mode(thread_id, DEFAULT_MODE)
        return self.stream(PLAN_APPROVED_TASK, thread_id)

    # --- context compaction ------------------------------------------------------------
    def compact(self, thread_id: str) -> CompactionEvent | None:
        """Summarise the thread's older turns now (``/compact``); None when
        there is nothing older than the messages kept verbatim. The full
        history stays in the checkpoints."""
        self.threads.get(thread_id)  # ThreadNotFoundError: one line, nothing done
        snapshot = self.graph.get_state(self._config(thread_id))
        if pending_requests(snapshot):
            raise AgentkitError(
                f"thread {thread_id} waits for an approval", hint="decide it, then compact"
            )
        with self._lock:
            if self._control is not None:
                raise AgentkitError("a run is in progress", hint="compact when it has finished")
        values = snapshot.values if isinstance(snapshot.values, dict) else {}
        started = time.perf_counter()
        summary = self.nodes.compact(dict(values), "manual")  # type: ignore[arg-type]
        if summary is None:
            return None
        self.graph.update_state(self._config(thread_id), {"summaries": [summary]})
        return CompactionEvent(
            summarized=summary["upto"],
            kept=len(values.get("messages", [])) - summary["upto"],
            tokens_before=summary["tokens_before"],
            tokens_after=summary["tokens_after"],
            seconds=time.perf_counter() - started,
            summary=summary["summary"],
            trigger="manual",
        )

    # --- rewind ------------------------------------------------------------------------
    def rewind_points(self, thread_id: str) -> list[RewindPoint]:
        """Steps where agentkit's tools changed files, newest first."""
        return rewind_points(self.file_history, thread_id)

    def rewind(
        self,
        thread_id: str,
        to_step: int,
        *,
        files: bool = True,
        conversation: bool = False,
        git: bool = False,
        force: bool = False,
        dry_run: bool = False,
    ) -> RewindReport:
        """Undo the file changes made after checkpoint ``to_step`` and/or fork
        the conversation there (see :mod:`agentkit.rewind`)."""
        from agentkit.tools.workspace import protected_paths_from_settings

        return rewind(
            self.threads,
            self.file_history,
            thread_id,
            to_step,
            files=files,
            conversation=conversation,
            git=git,
            force=force,
            dry_run=dry_run,
            protected=protected_paths_from_settings(self.settings),
        )
