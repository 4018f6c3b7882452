"""Running one case through an agent and recording a :class:`Trace`.

:class:`AgentHarness` drives the public :class:`agentkit.agent.Agent` (the
same graph the TUI and ``agentkit run`` use) and folds its event stream into
the trace. A different agent (e.g. LangChain's ``create_agent`` over the same
model) is another :class:`Harness` that fills the same trace, so it is
scored and tabled side by side.

Token counts come from a LangChain callback handler that every model call in
the run picks up through a context variable, so nothing in the agent needs
to know about evals.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from agentkit.errors import ConfigError
from agentkit.evals.trace import ApprovalRecord, EventCollector, Trace, approval_record
from agentkit.events import ApprovalRequest, Approve, Decision, Reject

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agentkit.agent import Agent
    from agentkit.evals.sandbox import CaseEnv


class Harness(Protocol):
    """Runs ``env.task`` with ``model`` over ``env.tools`` and reports what happened."""

    def run(self, env: CaseEnv, model: BaseChatModel | None) -> Trace: ...


class TokenMeter(BaseCallbackHandler):
    """Sums usage over every chat-model call made while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.prompt_tokens = 0
        self.generated_tokens = 0
        self.model_calls = 0
        self.runaways = 0

    def counts(self) -> dict[str, int]:
        """The :class:`Trace` fields this meter fills."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "generated_tokens": self.generated_tokens,
            "model_calls": self.model_calls,
            "runaways": self.runaways,
        }

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration) and isinstance(
                    generation.message, AIMessage
                ):
                    self._count(generation.message)

    def _count(self, message: AIMessage) -> None:
        self.model_calls += 1
        usage = message.usage_metadata or {}
        meta = message.response_metadata
        evaluated = meta.get("prompt_tokens_evaluated")
        if evaluated is None:  # models without prefix-reuse stats: the whole prompt
            cached = (usage.get("input_token_details") or {}).get("cache_read", 0)
            evaluated = usage.get("input_tokens", 0) - cached
        self.prompt_tokens += int(evaluated)
        self.generated_tokens += int(usage.get("output_tokens", 0))
        if meta.get("finish_reason") == "length":
            self.runaways += 1


_ACTIVE_METER: ContextVar[TokenMeter | None] = ContextVar("agentkit_eval_meter", default=None)
register_configure_hook(_ACTIVE_METER, inheritable=True)


@contextmanager
def metering() -> Iterator[TokenMeter]:
    """Count every model call made in this context (and the graph's worker
    threads, which copy the context)."""
    meter = TokenMeter()
    token = _ACTIVE_METER.set(meter)
    try:
        yield meter
    finally:
        _ACTIVE_METER.reset(token)


class RecordingApprover:
    """The simulated user: answers every approval (yes for ``approve="all"``,
    no for ``"none"``) and records what it was asked."""

    def __init__(self, approve: bool) -> None:
        self.approve = approve
        self.records: list[ApprovalRecord] = []

    def __call__(self, requests: list[ApprovalRequest]) -> Sequence[Decision]:
        self.records += [approval_record(r, self.approve) for r in requests]
        if self.approve:
            return [Approve(call_id=r.call_id) for r in requests]
        return [Reject(call_id=r.call_id, feedback="not approved") for r in requests]


@dataclass(frozen=True)
class AgentHarness:
    """The product's own agent loop. ``planning`` and ``tool_choice`` are
    :class:`~agentkit.agent.Agent` options an eval run can toggle."""

    planning: bool | None = None  # None: the planning setting
    tool_choice: str = "any"

    def run(self, env: CaseEnv, model: BaseChatModel | None) -> Trace:
        from agentkit.agent import Agent, Limits
        from agentkit.threads import new_thread_id

        if model is None:
            raise ConfigError("the agent harness needs a chat model")

        approver = RecordingApprover(env.case.approve == "all")
        agent = Agent(
            model=model,
            tools=env.tools,
            memory=env.kb,
            policy=env.policy,
            settings=env.settings,
            approver=approver,
            planning=self.planning,
            limits=Limits(max_steps=env.max_steps, max_tokens=env.settings.max_run_tokens),
            tool_choice=self.tool_choice,
        )
        collector = EventCollector()
        thread_id = new_thread_id()
        try:
            with metering() as meter:
                for event in agent.stream(env.task, thread_id):
                    collector.add(event)
            result = agent.result(thread_id)
            state = agent.graph.get_state({"configurable": {"thread_id": thread_id}})
            steps = int(state.values.get("steps", 0)) if isinstance(state.values, dict) else 0
        finally:
            _close(agent)
        return Trace(
            status=result.status,
            stop_reason=result.stop_reason,
            answer=result.answer,
            steps=steps,
            calls=collector.finished_calls(),
            approvals=approver.records,
            errors=collector.errors,
            **meter.counts(),
        )


def _close(agent: Agent) -> None:
    """Release the case's SQLite files (their temp dir is removed next)."""
    for resource in (agent.storage.ledger, getattr(agent.storage.checkpointer, "conn", None)):
        close = getattr(resource, "close", None)
        if callable(close):
            close()
