"""What one run did, in the terms the scores need: every model call to a
tool (valid or not, and how it ended), the approvals given, the answer, the
token counts. :class:`EventCollector` builds it from ``Agent.stream``'s
events; another harness (e.g. LangChain's own agent) can fill the same
:class:`Trace` from its messages and be scored alike."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from agentkit.events import (
    AgentEvent,
    ApprovalRequest,
    ErrorEvent,
    FinalEvent,
    ToolCallProposed,
    ToolResultEvent,
)
from agentkit.graphs import prompts as P

CallOutcome = Literal[
    "ok",  # ran and returned a result
    "error",  # ran (or was refused by the tool) and returned an error
    "invalid_args",  # a known tool, but the arguments failed its schema
    "unknown_tool",  # a tool name that is not offered
    "unparseable",  # the call itself did not parse (e.g. a runaway string cut at max_tokens)
    "blocked",  # a repeat of a call that had already failed or been rejected
    "rejected",  # the simulated user said no
    "denied",  # the policy said no
    "pending",  # proposed, never decided (the run stopped first)
]
INVALID_OUTCOMES: frozenset[str] = frozenset({"invalid_args", "unknown_tool", "unparseable"})
_REFUSED: frozenset[str] = INVALID_OUTCOMES | {"blocked"}  # refused by the graph, not the policy
OUTPUT_CHARS = 400  # of each tool result kept in the trace (and the JSON report)

# The graph reports a call it cannot run as an error result whose text says
# why; these prefixes tell the kinds apart (see graphs/agent_graph.py).
_UNKNOWN_TOOL = "error: unknown tool"
_UNPARSEABLE = "error: could not parse"
_BLOCKED = P.BLOCKED_REPEAT_NOTE.split("{", 1)[0]


class CallRecord(BaseModel):
    call_id: str
    tool: str
    args: dict[str, JsonValue] = Field(default_factory=dict)
    outcome: CallOutcome
    output: str = ""

    @property
    def valid(self) -> bool:
        """The call parsed and its arguments fit the tool's schema."""
        return self.outcome not in INVALID_OUTCOMES


class ApprovalRecord(BaseModel):
    call_id: str
    tool: str
    args: dict[str, JsonValue] = Field(default_factory=dict)
    reason: str = ""
    danger: str | None = None
    approved: bool


RunStatus = Literal["finished", "stopped", "needs_approval", "error"]


class Trace(BaseModel):
    status: RunStatus
    stop_reason: str = ""
    answer: str = ""
    steps: int = 0  # act steps (model turns that chose an action)
    calls: list[CallRecord] = Field(default_factory=list)  # final_answer included
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)  # error events (plan fallback, stop reasons)
    prompt_tokens: int = 0  # evaluated (prefix reuse excluded)
    generated_tokens: int = 0
    model_calls: int = 0  # plan + act calls
    runaways: int = 0  # generations cut at max_tokens
    error: str = ""  # the harness itself failed (not the model)

    @property
    def tool_calls(self) -> list[CallRecord]:
        """Calls to real tools (``final_answer`` left out)."""
        return [c for c in self.calls if c.tool != P.FINAL_ANSWER_TOOL]

    def first_tool(self) -> str | None:
        return self.calls[0].tool if self.calls else None

    def ran(self, tool: str) -> bool:
        return any(c.tool == tool and c.outcome == "ok" for c in self.calls)


def _invalid_outcome(output: str) -> CallOutcome:
    if output.startswith(_UNKNOWN_TOOL):
        return "unknown_tool"
    if output.startswith(_UNPARSEABLE):
        return "unparseable"
    if output.startswith(_BLOCKED):
        return "blocked"
    return "invalid_args"


class EventCollector:
    """Folds ``Agent.stream`` events into calls, answer and errors."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []
        self.answer = ""
        self.errors: list[str] = []
        self._invalid: set[str] = set()  # call ids the graph refused before the policy
        self._index: dict[str, int] = {}

    def add(self, event: AgentEvent) -> None:
        if isinstance(event, ToolCallProposed):
            # The graph proposes calls it cannot run with policy "deny" and
            # answers them with an error; a real policy denial has status
            # "denied" instead.
            if event.policy == "deny":
                self._invalid.add(event.call_id)
            self._index[event.call_id] = len(self.calls)
            self.calls.append(
                CallRecord(
                    call_id=event.call_id, tool=event.tool, args=event.args, outcome="pending"
                )
            )
        elif isinstance(event, ToolResultEvent):
            index = self._index.get(event.call_id)
            if index is None:
                return
            outcome: CallOutcome
            if event.call_id in self._invalid and event.status == "error":
                outcome = _invalid_outcome(event.output)
            elif event.status == "responded":
                outcome = "ok"
            else:
                outcome = event.status
            self.calls[index] = self.calls[index].model_copy(
                update={"outcome": outcome, "output": event.output[:OUTPUT_CHARS]}
            )
        elif isinstance(event, FinalEvent):
            self.answer = event.answer
            self.calls.append(
                CallRecord(
                    call_id="final",
                    tool=P.FINAL_ANSWER_TOOL,
                    args={"answer": event.answer},
                    outcome="ok",
                )
            )
        elif isinstance(event, ErrorEvent):
            self.errors.append(event.message)

    def finished_calls(self) -> list[CallRecord]:
        """The calls, with refused calls that never got a result (the run
        stopped on the repeat limit first) classed like their earlier twin."""
        out: list[CallRecord] = []
        for call in self.calls:
            if call.outcome == "pending" and call.call_id in self._invalid:
                twin = next(
                    (
                        c
                        for c in reversed(out)
                        if (c.tool, c.args) == (call.tool, call.args) and c.outcome in _REFUSED
                    ),
                    None,
                )
                call = call.model_copy(update={"outcome": twin.outcome if twin else "invalid_args"})
            out.append(call)
        return out


def approval_record(request: ApprovalRequest, approved: bool) -> ApprovalRecord:
    return ApprovalRecord(
        call_id=request.call_id,
        tool=request.tool,
        args=request.args,
        reason=request.reason,
        danger=request.danger,
        approved=approved,
    )
