"""The agent loop as a LangGraph state machine.

    START → plan → act ─┬─→ approve → execute → observe ─┬─→ act      (continue)
                        │                                ├─→ plan     (replan)
                        └─→ finish ←─────────────────────┴─→ finish   (done / limit)

- **plan**: retrieves context (memories, documents), routes the task (which
  tools to offer; steering, small models only) and asks the model for a
  short numbered plan as structured output.
- **act**: the model picks tool calls, or the synthetic ``final_answer`` tool.
  With ``tool_choice="any"`` a constrained model can only produce a valid
  action. Each call is checked (known tool, schema-valid arguments, not a blind
  repeat of a rejected/failed call) and evaluated by the policy.
- **approve**: one ``interrupt`` for every call the policy does not allow
  outright; the resume value is a list of decisions.
- **execute**: runs approved calls once (see :mod:`.ledger`); every call gets
  a ``ToolMessage``, errors included.
- **observe**: advances the plan; continue, replan, or finish.
- **finish**: the final answer, or the reason the run stopped.

The nodes are the methods of :class:`AgentNodes`; one act step's pieces are
in :mod:`.acting`, the approval node's in :mod:`.approving`, running a call
in :mod:`.execution`. The edge list (``NODES``, ``EDGES``,
``CONDITIONAL_EDGES``), the routers and :func:`build_agent_graph` are in
:mod:`.edges`; build the graph with it, or assemble your own from the nodes
and the routers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import BaseTool
from langgraph.config import get_stream_writer
from langgraph.types import StreamWriter, interrupt

from agentkit.approvals.decisions import parse_decisions
from agentkit.approvals.policy import Policy
from agentkit.errors import AgentkitError
from agentkit.events import (
    ApprovalRequest,
    ContextEvent,
    ContextItem,
    Decision,
    Edit,
    ErrorEvent,
    FinalEvent,
    PlanEvent,
    PlanStep,
    add_usage,
)
from agentkit.graphs import prompts as P
from agentkit.graphs.acting import (
    announce,
    answer_update,
    ask_for_plan,
    call_model,
    pending_calls,
    plan_note,
    repeats_a_success,
    step_view,
)
from agentkit.graphs.approving import (
    approval_request,
    ask_rerun,
    decisions_of,
    edited_call,
    remember_always,
)
from agentkit.graphs.calls import pending_signature
from agentkit.graphs.compaction import Compaction, prompt_chars
from agentkit.graphs.edges import CONDITIONAL_EDGES as CONDITIONAL_EDGES  # re-exported
from agentkit.graphs.edges import DEADLINE_KEY, Limits
from agentkit.graphs.edges import EDGES as EDGES
from agentkit.graphs.edges import NODES as NODES
from agentkit.graphs.edges import build_agent_graph as build_agent_graph
from agentkit.graphs.edges import route_after_act as route_after_act
from agentkit.graphs.edges import route_after_observe as route_after_observe
from agentkit.graphs.edges import tool_order as tool_order
from agentkit.graphs.execution import CallRunner, blocked_after
from agentkit.graphs.file_history import FileHistory
from agentkit.graphs.gate import CallGate
from agentkit.graphs.ledger import CallLedger, MemoryLedger
from agentkit.graphs.state import AgentState, PendingCall, PlanNote, SummaryNote
from agentkit.graphs.support import StepCancelled as StepCancelled
from agentkit.graphs.support import (
    close_calls,
    close_unanswered,
    configurable,
    current_mode,
    current_thread_id,
    final_answer_tool,
    fresh_run_fields,
    last_ai_id,
    reply_usage,
)
from agentkit.hooks import HookSet
from agentkit.models.profile import model_profile
from agentkit.modes import PLAN_MODE_NOTE, read_only
from agentkit.steering import NoSteering, Steering

SteeringFactory = Callable[[BaseChatModel], Steering]


@runtime_checkable
class ContextSource(Protocol):
    """Where the plan node gets memories and documents (agentkit.memory
    implements it over Chroma)."""

    def retrieve(self, query: str, k: int) -> list[ContextItem]: ...


@dataclass
class AgentNodes:
    """The node functions, sharing their dependencies. Every method takes the
    state and returns a partial update, so any of them can be reused in a
    user-built ``StateGraph(AgentState)``."""

    model: BaseChatModel | Callable[[], BaseChatModel]
    """The chat model, or a factory called on first use (keeps thread listing
    from loading a GGUF)."""
    tools: Sequence[BaseTool] = ()
    policy: Policy = field(default_factory=Policy.default)
    ledger: CallLedger = field(default_factory=MemoryLedger)
    memory: ContextSource | None = None
    prompts: P.Prompts = field(default_factory=P.Prompts)
    limits: Limits = field(default_factory=Limits)
    planning: bool | None = True
    """Ask for a plan first; None: unless the model is small (its plans were noise)."""
    context_k: int = 4
    tool_choice: str | Callable[[AgentState], str] = "any"
    """``any``: every act step is a tool call (``final_answer`` included), so a
    constrained model always produces a valid action. ``auto`` lets the model
    answer in plain text. A callable picks per step (e.g. a scripted run that
    forces ``read_file`` first)."""
    steering: Steering | SteeringFactory = field(default_factory=NoSteering)
    """Small-model steering (agentkit.steering), or a factory that picks it
    from the model once it is built (``agentkit.steering.steering_for``)."""
    hooks: HookSet = field(default_factory=HookSet)
    """``before_tool`` / ``after_tool`` hooks (see :mod:`agentkit.hooks`)."""
    compaction: Compaction | None = None
    """Summarise older turns when the prompt nears the context size (see
    :mod:`.compaction`); None: never."""
    files: FileHistory | None = None
    """Where file contents are recorded before agentkit's tools change them
    (rewind, see :mod:`.file_history`); None: not recorded."""
    workspace: Path | None = None
    """The workspace root when a run names none (a run's ``WORKSPACE_KEY``, the
    thread's workspace, wins): hooks see it; shell snapshots are taken of it."""
    cancelled: Callable[[], bool] = field(default=lambda: False)
    """Whether the run driving these nodes was asked to stop (the Agent's
    cancel, Ctrl-C): a model reply cut short then redoes the step."""

    def __post_init__(self) -> None:
        self.bind_tools(self.tools)
        self.gate = CallGate(self.policy, self.hooks, str(self.workspace or ""))
        self.runner = CallRunner(self.ledger, self.hooks, self.files, self.workspace)
        self._steering: Steering | None = None

    def bind_tools(self, tools: Sequence[BaseTool]) -> None:
        """Use ``tools`` from the next step on (e.g. the same tools bound to
        another thread's workspace); never while a run is in progress."""
        by_name = {t.name: t for t in tools}
        if P.FINAL_ANSWER_TOOL in by_name:
            raise ValueError(f"a tool may not be named {P.FINAL_ANSWER_TOOL!r}")
        self.tools = tools
        self.tools_by_name: dict[str, BaseTool] = by_name

    @property
    def chat_model(self) -> BaseChatModel:
        if not isinstance(self.model, BaseChatModel):
            self.model = self.model()
        return self.model

    @property
    def active_steering(self) -> Steering:
        """The steering in use, decided once from the model actually built."""
        if self._steering is None:
            chosen = self.steering
            self._steering = chosen(self.chat_model) if callable(chosen) else chosen
            self._final_tool = final_answer_tool(self._steering.answer_max_chars)
        return self._steering

    @property
    def final_tool(self) -> BaseTool:
        self.active_steering  # noqa: B018 - decides the answer bound
        return self._final_tool

    def plans(self) -> bool:
        if self.planning is None:
            return not model_profile(self.chat_model).small
        return self.planning

    # --- plan ------------------------------------------------------------------
    def plan(self, state: AgentState) -> AgentState:
        emit = get_stream_writer()
        task = state.get("task", "")
        replanning = state.get("status") == "running"
        update: AgentState = {"consecutive_errors": 0}
        if replanning:
            update["replans"] = state.get("replans", 0) + 1
        else:
            update.update(fresh_run_fields())
            stale = close_unanswered(state.get("messages", []), P.SUPERSEDED_NOTE)
            update["messages"] = [*stale, HumanMessage(task)] if task else stale
            update["context"] = self._retrieve(task, emit)
            update["route"] = self.active_steering.route(task, self.tools)
        steps: list[str] = [task] if task else []
        if task and self.plans():
            start = time.perf_counter()
            context = update.get("context", state.get("context", []))
            planned = ask_for_plan(
                self.chat_model, self.prompts, context, state, emit, self.cancelled
            )
            steps = planned or steps
            run_usage = update.get("usage", state.get("usage"))  # a new task starts from zero
            update["usage"] = add_usage(run_usage, {"model_seconds": time.perf_counter() - start})
        plan = [
            PlanStep(index=i + 1, text=text, status="running" if i == 0 else "pending")
            for i, text in enumerate(steps)
        ]
        update["plan"] = plan
        emit(PlanEvent(steps=plan))
        return update

    def _retrieve(self, task: str, emit: StreamWriter) -> list[ContextItem]:
        if self.memory is None or not task:
            return []
        try:
            items = list(self.memory.retrieve(task, self.context_k))
        except AgentkitError as err:
            emit(ErrorEvent(message=f"context retrieval failed: {err}"))
            return []
        if items:
            emit(ContextEvent(items=items))
        return items

    # --- act -------------------------------------------------------------------
    def act(self, state: AgentState) -> AgentState:
        reason = self.limit_reason(state)
        if reason:
            return {"status": "stopped", "stop_reason": reason, "pending": []}
        emit = get_stream_writer()
        choice = self.tool_choice(state) if callable(self.tool_choice) else self.tool_choice
        offered = self.offered_tools(state, choice)
        note = plan_note(state)
        prompt = self.act_prompt(state, note, offered)
        summary = self._compact_if_due(state, prompt, offered)
        if summary is not None:
            state = {**state, "summaries": [*state.get("summaries", []), summary]}
            prompt = self.act_prompt(state, note, offered)
        start = time.perf_counter()
        try:
            response = self._call(prompt, offered, choice, state, note)
            if self.active_steering.answer_on_repeat and repeats_a_success(response, state):
                # The model asks for what it just got: it is done. Ask for the answer.
                response = self._call(prompt, offered, P.FINAL_ANSWER_TOOL, state, note)
        except AgentkitError as err:  # e.g. context window exceeded
            return {"status": "stopped", "stop_reason": f"model error: {err}", "pending": []}
        seconds = time.perf_counter() - start
        if response.response_metadata.get("finish_reason") == "cancelled":
            return {}  # Agent.cancel(): the run drains after this step; resume re-runs it
        usage = reply_usage(response, seconds)
        update: AgentState = {
            "steps": state.get("steps", 0) + 1,
            "usage": add_usage(state.get("usage"), usage),
            "decisions": [],
            "prompt_tokens": usage["input_tokens"],
            "prompt_chars": prompt_chars(prompt),
        }
        if note is not None:
            update["plan_notes"] = [note]
        if summary is not None:
            update["summaries"] = [summary]
        final = next((c for c in response.tool_calls if c["name"] == P.FINAL_ANSWER_TOOL), None)
        if final is not None or not (response.tool_calls or response.invalid_tool_calls):
            return {**update, **answer_update(response, final, state, self.active_steering)}
        pending = pending_calls(
            response, state, self.tools_by_name, self.policy, self.gate, self.active_steering
        )
        hook_log = announce(pending, emit)
        if hook_log:
            update["hook_log"] = hook_log
        signatures = sorted(pending_signature(p) for p in pending)
        repeats = state.get("repeats", 0) + 1 if signatures == state.get("last_signatures") else 0
        update.update(last_signatures=signatures, repeats=repeats)
        if repeats + 1 >= self.limits.max_repeats:
            reason = f"repeated identical call {repeats + 1} times in a row"
            return {
                **update,
                "messages": [response, *close_calls(response, f"not run: {reason}")],
                "pending": [],
                "status": "stopped",
                "stop_reason": reason,
            }
        return {**update, "messages": [response], "pending": pending}

    def _call(
        self,
        prompt: list[AnyMessage],
        offered: Sequence[BaseTool],
        choice: str,
        state: AgentState,
        note: PlanNote | None,
    ) -> AIMessage:
        tools = [*offered, self.final_tool]
        steering = self.active_steering
        return call_model(self.chat_model, prompt, tools, choice, steering, step_view(state, note))

    def offered_tools(self, state: AgentState, choice: str = "any") -> list[BaseTool]:
        """The tools this run offers (routed when steering routed), plus a
        tool ``choice`` names, in their original order. In plan mode only
        read-only tools are offered."""
        route = state.get("route")
        names = set(route["offered"] if route else self.tools_by_name) | {choice}
        planning = current_mode() == "plan"
        return [t for t in self.tools if t.name in names and not (planning and not read_only(t))]

    def act_prompt(
        self,
        state: AgentState,
        note: PlanNote | None = None,
        offered: Sequence[BaseTool] | None = None,
    ) -> list[AnyMessage]:
        parts = [
            self.prompts.system,
            PLAN_MODE_NOTE if current_mode() == "plan" else "",
            P.render_context(state.get("context", [])),
            Compaction.system_block(state),
        ]
        system = "\n\n".join(p for p in parts if p)
        tools = self.offered_tools(state) if offered is None else offered
        return self.active_steering.prompt(system, step_view(state, note), tools)

    # --- compaction --------------------------------------------------------------
    def _compact_if_due(
        self, state: AgentState, prompt: list[AnyMessage], offered: Sequence[BaseTool]
    ) -> SummaryNote | None:
        """A summary of the older turns when ``prompt`` would pass the
        compaction threshold (and its event), else None."""
        if self.compaction is None:
            return None
        before = self.compaction.estimate(prompt, state, offered)
        if not self.compaction.due(before):
            return None
        return self.compact(state, "auto", before, offered)

    def compact(
        self,
        state: AgentState,
        trigger: str = "manual",
        tokens_before: int | None = None,
        offered: Sequence[BaseTool] | None = None,
    ) -> SummaryNote | None:
        """Summarise ``state``'s older turns (None when there is nothing to
        summarise); emits a :class:`~agentkit.events.CompactionEvent` inside
        a run. ``Agent.compact`` calls it outside one."""
        tools = self.offered_tools(state) if offered is None else offered
        compaction = self.compaction or Compaction()
        return compaction.summarise_state(
            self.chat_model, state, lambda s: self.act_prompt(s, None, tools), trigger,
            tokens_before, tools,
        )  # fmt: skip

    # --- approve ---------------------------------------------------------------
    def approve(self, state: AgentState) -> AgentState:
        """One interrupt for the calls that ask. An edited call is evaluated
        again with its new arguments: refused if that denies it, asked about
        again if it now asks for another reason than the one the human saw."""
        pending = {p["call_id"]: p for p in state.get("pending", [])}
        asking = [p for p in pending.values() if p["verdict"] == "ask"]
        answers: dict[str, Decision] = {}
        stamps: dict[str, dict[str, object]] = {}
        while asking:
            requests = [self.approval_request(p) for p in asking]
            # The resume value was checked against these requests before the
            # graph resumed (Agent, resolve_decisions): a value refused here
            # would stay in the checkpoint and be replayed by every later resume.
            raw = interrupt({"requests": [r.model_dump(mode="json") for r in requests]})
            round_answers = {d.call_id: d for d in parse_decisions(raw)}
            stamps.update({str(d.get("call_id")): d for d in raw if isinstance(d, dict)})
            again: list[PendingCall] = []
            for p in asking:
                answer = round_answers.get(p["call_id"])
                if isinstance(answer, Edit):
                    p, answer = edited_call(self.gate, self.tools_by_name[p["tool"]], p, answer)
                    pending[p["call_id"]] = p
                    if answer is None:
                        again.append(p)
                        continue
                if answer is not None:
                    answers[p["call_id"]] = answer
            asking = again
        remember_always(self.policy, self.tools_by_name, pending.values(), answers)
        return {"decisions": decisions_of(pending.values(), answers, stamps)}

    def approval_request(self, p: PendingCall) -> ApprovalRequest:
        """A call the policy asks about, as the human sees it."""
        return approval_request(self.tools_by_name[p["tool"]], p, self.files)

    # --- execute ---------------------------------------------------------------
    def execute(self, state: AgentState) -> AgentState:
        thread_id = current_thread_id() or ""
        key_prefix = f"{thread_id}/{last_ai_id(state.get('messages', []))}"
        outcomes, hook_log = self.runner.run_decisions(
            self.tools_by_name,
            state,
            thread_id,
            key_prefix,
            get_stream_writer(),
            lambda p, d: ask_rerun(self.tools_by_name[p["tool"]], p, d, self.files),
        )
        all_failed = bool(outcomes) and all(o.failed for o in outcomes)
        shown = outcomes
        if self.compaction is not None:  # a result the context cannot hold is cut first
            fit = self.compaction.fit_output
            shown = [replace(o, output=fit(o.output, len(outcomes))) for o in outcomes]
        update: AgentState = {
            "last_succeeded": bool(outcomes) and not any(o.failed for o in outcomes),
            "messages": [o.message() for o in shown],
            "tool_log": [o.record() for o in outcomes],
            "blocked": blocked_after(outcomes, state),
            "pending": [],
            "decisions": [],
            "consecutive_errors": state.get("consecutive_errors", 0) + 1 if all_failed else 0,
        }
        if hook_log:
            update["hook_log"] = hook_log
        return update

    # --- observe / finish --------------------------------------------------------
    def observe(self, state: AgentState) -> AgentState:
        plan = [PlanStep(**s) for s in state.get("plan", [])]
        update: AgentState = {}
        if plan and state.get("consecutive_errors", 0) == 0:
            current = next((s for s in plan if s["status"] in ("running", "pending")), None)
            if current is not None:
                current["status"] = "done"
                following = next((s for s in plan if s["status"] == "pending"), None)
                if following is not None:
                    following["status"] = "running"
                update["plan"] = plan
                get_stream_writer()(PlanEvent(steps=plan))
        reason = self.limit_reason({**state, **update})
        if reason:
            update.update(status="stopped", stop_reason=reason)
        return update

    def finish(self, state: AgentState) -> AgentState:
        emit = get_stream_writer()
        if state.get("status") == "stopped":
            emit(ErrorEvent(message=f"stopped: {state.get('stop_reason', '')}"))
            return {"status": "stopped"}
        plan = [
            PlanStep(**{**s, "status": "done" if s["status"] == "running" else s["status"]})
            for s in state.get("plan", [])
        ]
        answer = state.get("answer", "")
        emit(FinalEvent(answer=answer))
        return {"status": "finished", "plan": plan, "answer": answer}

    # --- routing -----------------------------------------------------------------
    def limit_reason(self, state: AgentState) -> str:
        if state.get("steps", 0) >= self.limits.max_steps:
            return f"max steps ({self.limits.max_steps}) reached"
        if (state.get("usage") or {}).get("output_tokens", 0) >= self.limits.max_tokens:
            return f"token budget ({self.limits.max_tokens}) spent"
        deadline = configurable().get(DEADLINE_KEY)
        if deadline is not None and time.time() >= deadline:
            return "wall-clock budget exceeded"
        return ""
