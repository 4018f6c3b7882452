"""One act step's pieces: the prompt the model sees, the model call with
steering's hints, and the reply turned into an answer or checked calls.

The act node in :mod:`.agent_graph` strings them together; steering (small
models only) decides the prompt's examples and cues and the decoding hints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolCall
from langchain_core.tools import BaseTool
from langgraph.types import StreamWriter

from agentkit.approvals.decisions import call_signature
from agentkit.approvals.policy import Policy
from agentkit.approvals.untrusted import Provenance
from agentkit.events import ContextItem, ErrorEvent, HookRecord, ToolCallProposed
from agentkit.graphs import prompts as P
from agentkit.graphs.calls import propose, unparseable
from agentkit.graphs.compaction import Compaction
from agentkit.graphs.gate import CallGate
from agentkit.graphs.state import AgentState, PendingCall, PlanNote
from agentkit.graphs.support import (
    PlanOutput,
    StepCancelled,
    close_calls,
    current_mode,
    current_thread_id,
    current_workspace,
    normalise_reply,
    reply_text,
)
from agentkit.hooks import event_of
from agentkit.models.hints import HintedModel
from agentkit.steering import Steering, StepView
from agentkit.tools.base import side_effects_of


def ask_for_plan(
    model: BaseChatModel,
    prompts: P.Prompts,
    context: list[ContextItem],
    state: AgentState,
    emit: StreamWriter,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[str]:
    """A short plan for the task (a new one when the run is replanning), as
    structured output; [] when the model's plan is not usable (model-caused).
    A plan cut short by a cancel raises :class:`StepCancelled`: it is
    planned again on resume."""
    replanning = state.get("status") == "running"
    instructions = prompts.replan if replanning else prompts.plan
    system = "\n\n".join(s for s in (prompts.system, P.render_context(context), instructions) if s)
    window = Compaction.window(state).get("messages", [])
    history = list(window) if replanning else [HumanMessage(state.get("task", ""))]
    try:
        result = model.with_structured_output(PlanOutput).invoke([SystemMessage(system), *history])
        parsed = PlanOutput.model_validate(result)
    except (ValueError, TypeError) as err:
        if cancelled():  # cut short, not wrong
            raise StepCancelled("planning was cancelled") from None
        emit(ErrorEvent(message=f"plan not usable ({err}); using the task as the plan"))
        return []
    return [s.strip() for s in parsed.steps if s.strip()][:5]


def step_view(state: AgentState, note: PlanNote | None = None) -> StepView:
    """``state`` as steering sees it: the transcript after the latest
    compaction, the plan notes placed in it (``note``: the one this step adds)."""
    window = Compaction.window(state)
    shifted = Compaction.shift(note, state)
    notes = [*window.get("plan_notes", []), *([shifted] if shifted else [])]
    return StepView(
        task=state.get("task", ""),
        messages=window.get("messages", []),
        steps=state.get("steps", 0),
        last_succeeded=bool(state.get("last_succeeded")),
        route=state.get("route"),
        notes=[(n["after"], n["text"]) for n in notes],
    )


def plan_note(state: AgentState) -> PlanNote | None:
    """A note for the act prompt when the plan differs from the last one shown."""
    plan = state.get("plan", [])
    if len(plan) < 2:
        # A one-step plan is the request itself: repeating it (with a "[x]"
        # once done) only gives a small model more text to copy.
        return None
    text = P.render_plan(plan)
    notes = state.get("plan_notes", [])
    if not text or (notes and notes[-1]["text"] == text):
        return None
    return PlanNote(after=len(state.get("messages", [])), text=text)


def call_model(
    model: BaseChatModel,
    prompt: list[AnyMessage],
    tools: Sequence[BaseTool],
    choice: str,
    steering: Steering,
    view: StepView,
) -> AIMessage:
    """One model call over ``tools`` (the final-answer tool last). A model
    that takes hints gets steering's; the prompt, and its KV cache, stay the
    same whatever the hints say."""
    if isinstance(model, HintedModel):
        # A required tool applies to tool_choice "any" only: a tool that a
        # scripted order or answer-on-repeat forces stays forced.
        offered = [t for t in tools if t.name != P.FINAL_ANSWER_TOOL]
        hints = steering.hints(view, offered)
        bound = model.bind_tools(list(tools), tool_choice=choice, hints=hints)
    else:
        bound = model.bind_tools(list(tools), tool_choice=choice)
    reply = normalise_reply(bound.invoke(prompt))
    if not isinstance(model, HintedModel):
        return reply
    # A call that can only fail (an edit whose new text is its old text) is
    # decoded once more over the same prompt, its other arguments kept.
    only = reply.tool_calls[0] if len(reply.tool_calls) == 1 else None
    redo = steering.redecode(view, offered, only) if only else None
    if only and redo is not None:
        # Mostly the same tool; a repair may name another (steering.field_edits).
        name = redo.required_tool or only["name"]
        bound = model.bind_tools([t for t in tools if t.name == name], tool_choice=name, hints=redo)
        return normalise_reply(bound.invoke(prompt))
    # An answer that miscopied the result it read is decoded once more,
    # over the same prompt (its cache), as a span of that result.
    final = next((c for c in reply.tool_calls if c["name"] == P.FINAL_ANSWER_TOOL), None)
    again = (
        steering.reanswer(view, offered, str(final["args"].get("answer", ""))) if final else None
    )
    if again is None:
        return reply
    tools_now = [t for t in tools if t.name == P.FINAL_ANSWER_TOOL]
    bound = model.bind_tools(tools_now, tool_choice=P.FINAL_ANSWER_TOOL, hints=again)
    return normalise_reply(bound.invoke(prompt))


def repeats_a_success(response: AIMessage, state: AgentState) -> bool:
    """Whether ``response`` proposes exactly the calls of the previous step,
    and those all succeeded."""
    if not response.tool_calls:
        return False
    if any(c["name"] == P.FINAL_ANSWER_TOOL for c in response.tool_calls):
        return False
    signatures = sorted(call_signature(c["name"], c["args"]) for c in response.tool_calls)
    return signatures == state.get("last_signatures") and bool(state.get("last_succeeded"))


def answer_update(
    response: AIMessage, final: ToolCall | None, state: AgentState, steering: Steering
) -> AgentState:
    """The model finished (``final_answer`` or plain text); an empty answer
    is a model error, fed back so it tries again."""
    raw = str(final["args"].get("answer", "")) if final else reply_text(response)
    answer = steering.tidy(raw)
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


def pending_calls(
    response: AIMessage,
    state: AgentState,
    tools_by_name: Mapping[str, BaseTool],
    policy: Policy,
    gate: CallGate,
    steering: Steering | None = None,
) -> list[PendingCall]:
    """Each call of ``response``, checked and evaluated by the gate; a call
    ``steering`` vetoes never reaches the gate (its error goes back to the
    model)."""
    seen = None
    if policy.untrusted_content != "off" and any(
        side_effects_of(tools_by_name[c["name"]]) - {"read"}
        for c in response.tool_calls
        if c["name"] in tools_by_name
    ):  # what the model has read, and from whom
        seen = Provenance.of(
            state.get("messages", []),
            tools_by_name,
            state.get("task", ""),
            state.get("context", []),
        )
    blocked, thread_id, workspace = (
        state.get("blocked", {}),
        current_thread_id(),
        current_workspace(),
    )
    mode = current_mode()
    task = state.get("task", "")
    checked = [
        vetoed(c, tools_by_name.get(c["name"]), steering, task)
        or propose(
            c, tools_by_name, policy, blocked, thread_id, seen, workspace, gate=gate, mode=mode
        )
        for c in response.tool_calls
    ]
    return checked + [unparseable(c) for c in response.invalid_tool_calls]


def vetoed(
    call: ToolCall, tool: BaseTool | None, steering: Steering | None, task: str
) -> PendingCall | None:
    """The call as invalid when steering says it may not run, else None."""
    if tool is None or steering is None:
        return None
    error = steering.vet(tool, call["args"], task)
    if error is None:
        return None
    return PendingCall(
        call_id=call["id"] or "",
        tool=call["name"],
        args=call["args"],
        side_effects=sorted(side_effects_of(tool)),
        verdict="invalid",
        reason="vetoed by steering",
        error=error,
    )


def announce(pending: list[PendingCall], emit: StreamWriter) -> list[HookRecord]:
    """Emit what the hooks said and each proposed call; returns the hook
    records (moved out of the pending calls into the thread's hook log)."""
    hook_log: list[HookRecord] = [h for p in pending for h in p.pop("hooks", [])]
    for entry in hook_log:
        emit(event_of(entry))
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
    return hook_log
