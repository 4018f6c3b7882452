"""The Agent's loop driver: one run of a thread through the graph, from
claiming the thread and reading its state to the last checkpoint, with the
approver asked in between, and the translation of the graph's stream into
:mod:`agentkit.events`. A mixin of :class:`agentkit.agent.Agent`: the sync
and async APIs and session control all run through ``_drive``, so it lives
apart from the Agent's construction and public methods, which stay readable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, get_args

from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphDrained
from langgraph.runtime import RunControl
from langgraph.types import Command

from agentkit.approvals.always import check_always
from agentkit.approvals.decisions import resolve_decisions
from agentkit.errors import AgentkitError
from agentkit.events import (
    AgentEvent,
    ApprovalNeeded,
    ApprovalRequest,
    Decision,
    ErrorEvent,
    TokenEvent,
)
from agentkit.graphs.agent_graph import DEADLINE_KEY, StepCancelled
from agentkit.graphs.state import INTERRUPT, AgentState
from agentkit.graphs.support import WORKSPACE_KEY
from agentkit.interrupts import RunInterrupted, SignalDrain
from agentkit.modes import MODE_KEY
from agentkit.threads import pending_requests, unfinished

if TYPE_CHECKING:
    from pathlib import Path

    from langchain_core.tools import BaseTool
    from langgraph.graph.state import CompiledStateGraph
    from langgraph.types import Durability

    from agentkit.agent import Approver
    from agentkit.config import Settings
    from agentkit.events import RunResult
    from agentkit.graphs.agent_graph import Limits
    from agentkit.hooks import HookSet
    from agentkit.modes import Mode
    from agentkit.threads import ThreadStore
    from agentkit.tracing import Tracing

STREAM_MODES = ["messages", "custom", "updates"]
EVENT_TYPES: tuple[type, ...] = get_args(get_args(AgentEvent)[0])


class RunLoop:
    """What the Agent provides to these methods."""

    settings: Settings
    threads: ThreadStore
    graph: CompiledStateGraph
    tools: list[BaseTool]
    limits: Limits
    tracing: Tracing
    hooks: HookSet
    approver: Approver | None
    durability: Durability
    _bound: Path
    _lock: threading.Lock
    _control: RunControl | None

    # Declared for type checkers only: defined at run time, these stubs would
    # shadow the methods SessionControl and the Agent define.
    if TYPE_CHECKING:

        def mode(self, thread_id: str) -> Mode: ...

        def result(self, thread_id: str) -> RunResult: ...

        def _enter(self, thread_id: str) -> Path: ...

        def _drain(self, control: RunControl, reason: str) -> None: ...

        def _storage_faults(self) -> AbstractContextManager[None]: ...

    def _config(self, thread_id: str) -> RunnableConfig:
        configurable: dict[str, object] = {
            "thread_id": thread_id,
            WORKSPACE_KEY: str(self._bound),
            MODE_KEY: self.mode(thread_id),
        }
        if self.settings.time_budget_s is not None:
            configurable[DEADLINE_KEY] = time.time() + self.settings.time_budget_s
        limit = self.limits.max_steps * 5 + 10 * (self.limits.max_replans + 2)
        return {"configurable": configurable, "recursion_limit": limit}

    def _resume_input(
        self, thread_id: str, decisions: Sequence[Decision | Mapping[str, object]]
    ) -> Command | None:
        if not self.threads.exists(thread_id):
            from agentkit.threads import ThreadNotFoundError

            raise ThreadNotFoundError(f"no thread {thread_id!r}")
        snapshot = self.graph.get_state(self._config(thread_id))
        pending = pending_requests(snapshot)
        if not pending:
            if unfinished(snapshot):
                # Continue an interrupted run from its last checkpoint. Decisions
                # for calls no longer pending were saved by an earlier try of
                # this command that stopped part-way (Ctrl-C, a full disk).
                return None
            status = self.result(thread_id).status
            if decisions:
                from agentkit.approvals.decisions import NoPendingApprovalError

                raise NoPendingApprovalError(
                    f"thread {thread_id} is not waiting for an approval (status: {status})",
                    hint="another process may have resumed it: `agentkit threads show "
                    f"{thread_id}`",
                )
            raise AgentkitError(f"thread {thread_id} has nothing to resume (status: {status})")
        return self._resume_command(pending, decisions)

    def _resume_command(
        self,
        requests: Sequence[ApprovalRequest],
        answers: Sequence[Decision | Mapping[str, object]],
        decided_by: str = "human",
    ) -> Command:
        """The answers, checked once (see resolve_decisions), as the graph's
        resume value, stamped with who decided and when (the audit trail)."""
        decisions = resolve_decisions(requests, answers, {t.name: t for t in self.tools})
        check_always(requests, decisions)
        now = time.time()
        return Command(
            resume=[
                {**d.model_dump(), "decided_by": decided_by, "decided_at": now} for d in decisions
            ]
        )

    def _drive(
        self,
        thread_id: str,
        prepare: Callable[[], AgentState | Command | None],
        task: str | None = None,
    ) -> Iterator[AgentEvent]:
        """One run of the thread, which it holds (``ThreadStore.claim``) from
        reading its state to the last checkpoint: a second process resuming it
        meanwhile gets one line and changes nothing."""
        with self._storage_faults(), self.threads.claim(thread_id):
            graph_input = prepare()
            resumed = graph_input.resume if isinstance(graph_input, Command) else None
            with self.tracing.run(thread_id, self.graph, task=task, decisions=resumed) as trace:
                yield from self._drive_traced(thread_id, graph_input, trace)
            if self.hooks:
                yield from self.hooks.run_end(self.result(thread_id))

    def _drive_traced(
        self, thread_id: str, graph_input: AgentState | Command | None, trace: Any
    ) -> Iterator[AgentEvent]:
        self._enter(thread_id)
        control = RunControl()
        with self._lock:
            self._control = control
        signals = SignalDrain(lambda signum: self._drain(control, f"signal {signum}"), thread_id)
        try:
            while True:
                requests: list[ApprovalRequest] = []
                try:
                    with signals:
                        for mode, chunk in self.graph.stream(
                            graph_input,
                            trace.config(self._config(thread_id)),
                            stream_mode=STREAM_MODES,
                            durability=self.durability,
                            control=control,
                        ):
                            event = self._event(thread_id, mode, chunk)
                            if isinstance(event, ApprovalNeeded):
                                requests = event.requests
                            if event is not None:
                                yield event
                except (GraphDrained, StepCancelled):
                    if signals.signum is not None:  # the signal handler has said so
                        raise RunInterrupted(thread_id, signals.signum) from None
                    yield ErrorEvent(message="cancelled; resume the thread to continue")
                    return
                if signals.signum is not None:  # the run ended with the step it was in
                    raise RunInterrupted(thread_id, signals.signum)
                if control.drain_requested:  # drained between steps without raising
                    return
                if requests and self.hooks:
                    yield from self.hooks.approval_request(requests, thread_id)
                if not requests or self.approver is None:
                    return
                try:
                    answers = trace.ask(self.approver, requests)
                except KeyboardInterrupt as err:  # the question is saved with the thread
                    raise RunInterrupted(thread_id) from err
                graph_input = self._resume_command(requests, answers, decided_by="approver")
        finally:
            with self._lock:
                if self._control is control:
                    self._control = None

    @staticmethod
    def _event(thread_id: str, mode: str, chunk: object) -> AgentEvent | None:
        if mode == "messages" and isinstance(chunk, tuple):
            message, metadata = chunk
            if (
                isinstance(message, AIMessageChunk)
                and isinstance(message.content, str)
                and message.content
            ):
                return TokenEvent(
                    text=message.content, node=str(metadata.get("langgraph_node", ""))
                )
            return None
        if mode == "custom":  # what the nodes emit
            return chunk if isinstance(chunk, EVENT_TYPES) else None
        if mode == "updates" and isinstance(chunk, dict) and INTERRUPT in chunk:
            requests: list[ApprovalRequest] = []
            for item in chunk[INTERRUPT]:
                if isinstance(item.value, dict):
                    requests.extend(
                        ApprovalRequest.model_validate(r) for r in item.value.get("requests", [])
                    )
            return ApprovalNeeded(thread_id=thread_id, requests=requests)
        return None
