"""The agent graph's state, as explicit types.

Everything in the state is plain data (TypedDicts, strings, LangChain
messages) so the checkpointer serialises it without custom types and a thread
saved by one version of agentkit opens in the next.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from agentkit.tools.base import PolicyAction, SideEffect

CallDecisionKind = Literal["allow", "approve", "edit", "reject", "respond", "deny", "invalid"]


class PlanStepState(TypedDict):
    index: int
    text: str
    status: Literal["pending", "running", "done", "failed"]


class PendingCall(TypedDict, total=False):
    """One tool call proposed by the act node, with what the policy said.

    ``verdict`` is ``invalid`` when the call cannot run at all (unknown tool,
    arguments that fail the schema, a blocked repeat); ``error`` then holds the
    observation the model will see.
    """

    call_id: str
    tool: str
    args: dict[str, Any]
    side_effects: list[SideEffect]
    verdict: PolicyAction | Literal["invalid"]
    reason: str
    error: str


class CallDecision(TypedDict, total=False):
    """What will happen to a pending call, after the policy and the human."""

    call_id: str
    kind: CallDecisionKind
    args: dict[str, Any]  # final arguments (edited ones for "edit")
    feedback: str  # reject feedback, respond result, deny/invalid reason


class ToolCallLog(TypedDict):
    call_id: str
    tool: str
    args: dict[str, Any]
    status: Literal["ok", "error", "rejected", "responded", "denied"]
    output: str


class UsageState(TypedDict):
    input_tokens: int
    output_tokens: int
    model_seconds: float


RunStatusState = Literal["starting", "running", "finished", "stopped"]


class AgentState(TypedDict, total=False):
    """State of one thread.

    ``messages`` is the transcript the model sees. ``pending`` and
    ``decisions`` carry one act step's calls through approve and execute.
    ``blocked`` maps a call signature (tool + canonical arguments) to why it
    must not be retried blindly. A new task enters with ``status="starting"``;
    the plan node resets the per-run fields and keeps the transcript.
    """

    task: str
    messages: Annotated[list[AnyMessage], add_messages]
    plan: list[PlanStepState]
    context: list[dict[str, Any]]  # ContextItem dumps placed in the prompt
    pending: list[PendingCall]
    decisions: list[CallDecision]
    steps: int  # act steps taken
    replans: int
    blocked: dict[str, str]
    last_signatures: list[str]  # signatures of the previous act step's calls
    repeats: int  # consecutive act steps proposing the same calls
    consecutive_errors: int
    tool_log: list[ToolCallLog]  # this run's calls
    usage: UsageState  # this run's usage
    answer: str
    status: RunStatusState
    stop_reason: str
