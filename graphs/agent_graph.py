"""The agent loop as a LangGraph state machine.

    START → plan → act ─┬─→ approve → execute → observe ─┬─→ act      (continue)
                        │                                ├─→ plan     (replan)
                        └─→ finish ←─────────────────────┴─→ finish   (done / limit)

- **plan**: retrieves context (memories, documents) and asks the model for a
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

Build it with :func:`build_agent_graph`, or assemble your own graph from the
methods of :class:`AgentNodes` and the routers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolCall
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StreamWriter, interrupt

from agentkit.approvals.always import always_options, pattern_rule
from agentkit.approvals.decisions import call_signature, parse_decisions
from agentkit.approvals.policy import Policy
from agentkit.approvals.untrusted import Provenance
from agentkit.errors import AgentkitError
from agentkit.events import (
    ApprovalRequest,
    Approve,
    ContextEvent,
    ContextItem,
    Decision,
    Edit,
    ErrorEvent,
    FinalEvent,
    HookRecord,
    PlanEvent,
    PlanStep,
    ToolCallProposed,
    add_usage,
)
from agentkit.graphs import prompts as P
from agentkit.graphs.calls import (
    CallOutcome,
    decide,
    interrupted_writer,
    pending_signature,
    propose,
    provenance,
    saved_decision,
    unparseable,
)
from agentkit.graphs.compaction import Compaction, prompt_chars
from agentkit.graphs.control_steps import ControlSteps, current_mode
from agentkit.graphs.file_history import FileHistory
from agentkit.graphs.gate import CallGate
from agentkit.graphs.ledger import CallLedger, MemoryLedger
from agentkit.graphs.state import AgentState, CallDecision, PendingCall, PlanNote
from agentkit.graphs.steering import Steering, copy_text, must_call, tidy_answer
from agentkit.graphs.support import (
    PlanOutput,
    close_calls,
    close_unanswered,
    configurable,
    current_thread_id,
    current_workspace,
    final_answer_tool,
    fresh_run_fields,
    last_ai_id,
    normalise_reply,
    reply_text,
    reply_usage,
)
from agentkit.hooks import HookSet, event_of
from agentkit.modes import DEFAULT_MODE, PLAN_MODE_NOTE, read_only
from agentkit.tools.base import danger_of, preview_of, side_effects_of
from agentkit.tools.registry import call_target

DEADLINE_KEY = "agentkit_deadline"  # config["configurable"] key: time.time() budget end


class StepCancelled(Exception):  # noqa: N818 - a control-flow signal, like GraphDrained
    """The run was cancelled while this node waited for the model. Raised so
    the step keeps no writes: resuming the thread runs the node again."""


@runtime_checkable
class ContextSource(Protocol):
    """Where the plan node gets memories and documents (agentkit.memory
    implements it over Chroma)."""

    def retrieve(self, query: str, k: int) -> list[ContextItem]: ...


@dataclass(frozen=True)
class Limits:
    """Limits that end a run cleanly with a reason."""

    max_steps: int = 12
    max_tokens: int = 20000  # generated tokens per run
    max_repeats: int = 3  # identical proposals in a row
    max_replans: int = 2
    replan_after_errors: int = 3  # consecutive act steps whose calls all failed


@dataclass
class AgentNodes(ControlSteps):
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
    planning: bool = True
    context_k: int = 4
    tool_choice: str | Callable[[AgentState], str] = "any"
    """``any``: every act step is a tool call (``final_answer`` included), so a
    constrained model always produces a valid action. ``auto`` lets the model
    answer in plain text. A callable picks per step (e.g. a scripted run that
    forces ``read_file`` first)."""
    steering: Steering = field(default_factory=Steering)
    """Tool routing, worked examples, grounded arguments, the observation cue
    and answer-on-repeat (see :mod:`.steering`)."""
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
        self._final_tool = final_answer_tool(self.steering.answer_max_chars)
        self.gate = CallGate(self.policy, self.hooks, str(self.workspace or ""))

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
            route = self.steering.route(task, self.tools)
            update["offered_tools"], update["tool_bias"] = route.offered, route.bias
            update["later_tool_bias"] = route.later
        context: list[ContextItem] = update.get("context", state.get("context", []))
        steps: list[str] = [task] if task else []
        if self.planning and task:
            start = time.perf_counter()
            instructions = self.prompts.replan if replanning else self.prompts.plan
            system = "\n\n".join(
                s for s in (self.prompts.system, P.render_context(context), instructions) if s
            )
            window = Compaction.window(state).get("messages", [])
            history = list(window) if replanning else [HumanMessage(task)]
            try:
                result = self.chat_model.with_structured_output(PlanOutput).invoke(
                    [SystemMessage(system), *history]
                )
                parsed = PlanOutput.model_validate(result)
                steps = [s.strip() for s in parsed.steps if s.strip()][:5] or steps
            except (ValueError, TypeError) as err:  # unparseable plan: model-caused
                if self.cancelled():  # cut short, not wrong: plan again on resume
                    raise StepCancelled("planning was cancelled") from None
                emit(ErrorEvent(message=f"plan not usable ({err}); using the task as the plan"))
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
        note = self.plan_note(state)
        prompt = self.act_prompt(state, note, offered)
        summary = self._compact_if_due(state, prompt, offered)
        if summary is not None:
            state = {**state, "summaries": [*state.get("summaries", []), summary]}
            prompt = self.act_prompt(state, note, offered)
        start = time.perf_counter()
        try:
            response = self._call_model(prompt, offered, choice, state)
            if self._repeats_a_success(response, state):
                # The model asks for what it just got: it is done. Ask for the answer.
                response = self._call_model(prompt, offered, P.FINAL_ANSWER_TOOL, state)
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
            return {**update, **self._answer(response, final, state)}
        pending = self._pending_calls(response, state)
        hook_log: list[HookRecord] = [h for p in pending for h in p.pop("hooks", [])]
        for entry in hook_log:
            emit(event_of(entry))
        if hook_log:
            update["hook_log"] = hook_log
        for p in pending:
            emit(
                ToolCallProposed(
                    call_id=p["call_id"],
                    tool=p["tool"],
                    args=p["args"],
                    side_effects=p["side_effects"],
                    policy="deny" if p["verdict"] == "invalid" else p["verdict"],
                )
            )
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

    def _answer(self, response: AIMessage, final: ToolCall | None, state: AgentState) -> AgentState:
        """The model finished (``final_answer`` or plain text); an empty answer
        is a model error, fed back so it tries again."""
        answer = tidy_answer(
            str(final["args"].get("answer", "")) if final else reply_text(response)
        )
        if not answer.strip():
            return {
                "messages": [
                    response,
                    *close_calls(response, "error: empty answer"),
                    HumanMessage(P.EMPTY_REPLY_NOTE),
                ],
                "pending": [],
                "consecutive_errors": state.get("consecutive_errors", 0) + 1,
            }
        return {
            "messages": [response, *close_calls(response, P.FINISHED_NOTE)],
            "answer": answer,
            "pending": [],
            "status": "finished",
        }

    def _pending_calls(self, response: AIMessage, state: AgentState) -> list[PendingCall]:
        blocked, thread_id, workspace = (
            state.get("blocked", {}),
            current_thread_id(),
            current_workspace(),
        )
        seen = None
        if self.policy.untrusted_content != "off" and any(
            side_effects_of(self.tools_by_name[c["name"]]) - {"read"}
            for c in response.tool_calls
            if c["name"] in self.tools_by_name
        ):  # what the model has read, and from whom
            seen = Provenance.of(
                state.get("messages", []),
                self.tools_by_name,
                state.get("task", ""),
                state.get("context", []),
            )
        mode = current_mode()
        checked = [
            propose(
                c,
                self.tools_by_name,
                self.policy,
                blocked,
                thread_id,
                seen,
                workspace,
                gate=self.gate,
                mode=mode,
            )
            for c in response.tool_calls
        ]
        return checked + [unparseable(c) for c in response.invalid_tool_calls]

    def offered_tools(self, state: AgentState, choice: str = "any") -> list[BaseTool]:
        """The tools this run offers (routed when the plan node routed), plus
        a tool ``choice`` names, in their original order. In plan mode only
        read-only tools are offered."""
        names = set(state.get("offered_tools") or self.tools_by_name) | {choice}
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
        window = Compaction.window(state)
        return self.steering.act_prompt(system, window, tools, Compaction.shift(note, state))

    def _call_model(
        self, prompt: list[AnyMessage], offered: Sequence[BaseTool], choice: str, state: AgentState
    ) -> AIMessage:
        model = self.chat_model
        extra: dict[str, object] = {}
        if getattr(model, "supports_arg_choices", False):
            required = must_call(state, offered) if choice == "any" else None
            if required is not None:
                # The task still asks for an action (the prompt, and its KV
                # cache, stay the same: only the grammar names the tool).
                choice = required
            extra["arg_choices"] = self.steering.arg_choices(offered, state)
            extra["copy_from"] = copy_text(state)
            if self.steering.worked_examples:
                extra["avoid_from"] = self.steering.example_words(state.get("task", ""), offered)
            bias = self.steering.step_bias(state, offered)
            if bias:
                extra["tool_bias"] = bias
        bound = model.bind_tools([*offered, self._final_tool], tool_choice=choice, **extra)
        return normalise_reply(bound.invoke(prompt))

    def _repeats_a_success(self, response: AIMessage, state: AgentState) -> bool:
        """Whether ``response`` proposes exactly the calls of the previous step,
        and those all succeeded."""
        if not self.steering.answer_on_repeat or not response.tool_calls:
            return False
        if any(c["name"] == P.FINAL_ANSWER_TOOL for c in response.tool_calls):
            return False
        signatures = sorted(call_signature(c["name"], c["args"]) for c in response.tool_calls)
        return signatures == state.get("last_signatures") and bool(state.get("last_succeeded"))

    @staticmethod
    def plan_note(state: AgentState) -> PlanNote | None:
        """A note for the act prompt when the plan differs from the last one shown."""
        plan = state.get("plan", [])
        if len(plan) < 2:
            # A one-step plan is the request itself: repeating it (with a
            # "[x]" once done) only gives a small model more text to copy.
            return None
        text = P.render_plan(plan)
        notes = state.get("plan_notes", [])
        if not text or (notes and notes[-1]["text"] == text):
            return None
        return PlanNote(after=len(state.get("messages", [])), text=text)

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
                    p, answer = self._edited(p, answer)
                    pending[p["call_id"]] = p
                    if answer is None:
                        again.append(p)
                        continue
                if answer is not None:
                    answers[p["call_id"]] = answer
            asking = again
        for p in pending.values():
            answer = answers.get(p["call_id"])
            if isinstance(answer, Approve) and answer.always and p["verdict"] == "ask":
                self.policy.add_always_allow(
                    p["tool"],
                    **pattern_rule(p["args"], answer.always_pattern),
                    scope=answer.always,
                    thread_id=current_thread_id(),
                    workspace=current_workspace(),
                )
        now = time.time()
        decisions = []
        for p in pending.values():
            answer = answers.get(p["call_id"])
            stamp = provenance(p, answer, stamps.get(p["call_id"]), now)
            decisions.append({**decide(p, answer), **stamp})
        return {"decisions": decisions}

    def approval_request(self, p: PendingCall) -> ApprovalRequest:
        """A call the policy asks about, as the human sees it."""
        tool = self.tools_by_name[p["tool"]]
        schema = tool.tool_call_schema
        notes = []
        if p.get("original_args"):
            notes.append(f"arguments changed from {json.dumps(p['original_args'])[:200]}")
        if "exec" in side_effects_of(tool):
            notes.append(
                "rewind cannot undo what a command changes"
                + (
                    "; the tracked files of the git work tree are snapshotted before it runs"
                    if self.files is not None and self.files.git_snapshots
                    else ""
                )
            )
        return ApprovalRequest(
            call_id=p["call_id"],
            tool=p["tool"],
            args=p["args"],
            side_effects=p["side_effects"],
            danger=danger_of(tool, p["args"]),
            preview=preview_of(tool, p["args"]),
            args_schema=schema.model_json_schema() if isinstance(schema, type) else dict(schema),
            reason=p["reason"],
            mode=p.get("mode", DEFAULT_MODE),
            rule_id=p.get("rule_id"),
            always_options=always_options(tool, p["args"]),
            notes=notes,
            workspace=current_workspace() or "",
            target=call_target(tool, p["args"]),
        )

    # --- execute ---------------------------------------------------------------
    def execute(self, state: AgentState) -> AgentState:
        emit = get_stream_writer()
        thread_id = current_thread_id() or ""
        key_prefix = f"{thread_id}/{last_ai_id(state.get('messages', []))}"
        pending = {p["call_id"]: p for p in state.get("pending", [])}
        outcomes: list[CallOutcome] = []
        hook_log: list[HookRecord] = []
        for saved in state.get("decisions", []):
            d = saved_decision(saved)
            p = pending[d["call_id"]]
            if "status" in d:
                outcome = CallOutcome(
                    p["call_id"],
                    p["tool"],
                    d["args"],
                    d["status"],
                    d.get("output", ""),
                    feedback=d.get("feedback", ""),
                )
            else:
                key = f"{key_prefix}/{p['call_id']}"
                rerun = False
                if interrupted_writer(self.ledger.get(key), self.tools_by_name[p["tool"]]):
                    d, rerun = self._ask_rerun(p, d), True
                if "status" in d:  # the human chose not to run it again
                    status = "responded" if d["status"] == "responded" else "error"
                    outcome = CallOutcome(p["call_id"], p["tool"], d["args"], status, _not_rerun(d))
                    records = []
                else:
                    outcome, records = self._run(key, thread_id, p, d["args"], rerun=rerun)
                for entry in records:
                    emit(event_of(entry))
                hook_log += records
            emit(outcome.event())
            outcomes.append(outcome)
        blocked = dict(state.get("blocked", {}))
        for outcome in outcomes:
            why = outcome.block_reason()
            if pending.get(outcome.call_id, {}).get("decided_by") == "mode":
                why = None  # the mode can change (an approved plan): it may run then
            if why:  # the repeated-call detector refuses this exact call from now on
                blocked[call_signature(outcome.tool, outcome.args)] = why
        all_failed = bool(outcomes) and all(o.failed for o in outcomes)
        update: AgentState = {
            "last_succeeded": bool(outcomes) and not any(o.failed for o in outcomes),
            "messages": [self.fit_result(o, len(outcomes)).message() for o in outcomes],
            "tool_log": [o.record() for o in outcomes],
            "blocked": blocked,
            "pending": [],
            "decisions": [],
            "consecutive_errors": state.get("consecutive_errors", 0) + 1 if all_failed else 0,
        }
        if hook_log:
            update["hook_log"] = hook_log
        return update

    def _ask_rerun(self, p: PendingCall, decided: CallDecision) -> CallDecision:
        """A call with side effects was running when the process stopped: it
        may have partly run, so it runs again only if a human says so (an
        interrupt, like the approve node's; re-running this node reuses the
        ledger's record of the calls before it)."""
        request = self.approval_request(
            {**p, "args": decided["args"], "reason": P.RERUN_REASON}
        ).model_copy(update={"always_options": []})
        raw = interrupt({"requests": [request.model_dump(mode="json")]})
        answer = next((d for d in parse_decisions(raw) if d.call_id == p["call_id"]), None)
        return decide({**p, "args": decided["args"], "verdict": "ask"}, answer)

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


def _not_rerun(decided: CallDecision) -> str:
    """What the model sees for an interrupted call the human did not run again."""
    if decided.get("status") == "responded":
        return decided.get("output", "")
    feedback = decided.get("feedback", "")
    return P.INTERRUPTED_NOTE + (f" The user said: {feedback}" if feedback else "")


def tool_order(*names: str) -> Callable[[AgentState], str]:
    """A ``tool_choice`` that forces ``names`` in turn, one per act step, and
    then the last one (a scripted run: read first, then write, then answer)."""

    def choice(state: AgentState) -> str:
        return names[min(state.get("steps", 0), len(names) - 1)]

    return choice


def route_after_act(state: AgentState) -> Literal["approve", "finish", "act"]:
    if state.get("status") in ("finished", "stopped"):
        return "finish"
    return "approve" if state.get("pending") else "act"


def route_after_observe(state: AgentState, limits: Limits) -> Literal["act", "plan", "finish"]:
    if state.get("status") == "stopped":
        return "finish"
    if (
        state.get("consecutive_errors", 0) >= limits.replan_after_errors
        and state.get("replans", 0) < limits.max_replans
    ):
        return "plan"
    return "act"


NODES = ("plan", "act", "approve", "execute", "observe", "finish")
EDGES: tuple[tuple[str, str], ...] = (
    (START, "plan"),
    ("plan", "act"),
    ("approve", "execute"),
    ("execute", "observe"),
    ("finish", END),
)
CONDITIONAL_EDGES = {
    "act": ("approve", "finish", "act"),  # act → act: an empty reply, retried
    "observe": ("act", "plan", "finish"),
}


def build_agent_graph(
    nodes: AgentNodes, checkpointer: BaseCheckpointSaver | None = None
) -> CompiledStateGraph:
    """The standard graph over ``nodes``; see the module docstring."""
    builder = StateGraph(AgentState)
    for name in NODES:
        builder.add_node(name, getattr(nodes, name))
    for source, target in EDGES:
        builder.add_edge(source, target)
    builder.add_conditional_edges("act", route_after_act, list(CONDITIONAL_EDGES["act"]))
    builder.add_conditional_edges(
        "observe",
        lambda s: route_after_observe(s, nodes.limits),
        list(CONDITIONAL_EDGES["observe"]),
    )
    return builder.compile(checkpointer=checkpointer, name="agentkit")
