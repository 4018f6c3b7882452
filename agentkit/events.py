"""The typed vocabulary shared by the graph and every front end.

The TUI, the Python API and ``agentkit run --json`` all consume the same
:data:`AgentEvent` stream and answer approvals with the same
:data:`Decision` objects; none of them reimplements the loop. Everything here
is a pydantic model so it serialises to JSON lines as is.

This module is the bottom layer: it imports nothing from agentkit, so tools,
models, graphs and front ends can all share these names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

# --- what tools declare -----------------------------------------------------------

SideEffect = Literal["read", "write", "exec", "network"]
SIDE_EFFECTS: tuple[SideEffect, ...] = ("read", "write", "exec", "network")
DangerLevel = Literal["safe", "unknown", "dangerous", "destructive"]
PolicyAction = Literal["allow", "ask", "deny"]


class ToolPreview(TypedDict, total=False):
    """What a pending call would do, shown before the human decides."""

    kind: Literal["diff", "command", "http", "text"]
    summary: str  # one line, e.g. "write 12 lines to notes.md"
    body: str  # the diff, the command line, the request
    danger: DangerLevel
    cwd: str

# --- human decisions on pending tool calls -------------------------------------

AlwaysScope = Literal["thread", "project"]


class Approve(BaseModel):
    """Run the call as proposed. ``always`` also records an allow rule."""

    kind: Literal["approve"] = "approve"
    call_id: str
    always: AlwaysScope | None = None


class Edit(BaseModel):
    """Run the call with these arguments instead (validated before it runs)."""

    kind: Literal["edit"] = "edit"
    call_id: str
    args: dict[str, Any]


class Reject(BaseModel):
    """Do not run the call; the model sees the feedback and must not repeat it."""

    kind: Literal["reject"] = "reject"
    call_id: str
    feedback: str = ""


class Respond(BaseModel):
    """Do not run the call; use ``result`` as the tool's output."""

    kind: Literal["respond"] = "respond"
    call_id: str
    result: str


Decision = Annotated[Approve | Edit | Reject | Respond, Field(discriminator="kind")]


# --- plan -------------------------------------------------------------------------

StepStatus = Literal["pending", "running", "done", "failed"]


class PlanStep(BaseModel):
    index: int
    text: str
    status: StepStatus = "pending"


# --- approval requests ----------------------------------------------------------


class ApprovalRequest(BaseModel):
    """One pending call, as shown to the human."""

    call_id: str
    tool: str
    args: dict[str, Any]
    side_effects: list[SideEffect]
    danger: DangerLevel | None = None
    preview: ToolPreview | None = None
    args_schema: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""  # why the policy asked (e.g. "write: ask (default)")


# --- retrieved context ------------------------------------------------------------


class ContextItem(BaseModel):
    """A memory or document chunk placed in the prompt."""

    kind: Literal["memory", "document"]
    text: str
    source: str  # "path/to/file.md:12-30" or "memory:<id>"
    score: float = 0.0


# --- events -----------------------------------------------------------------------


class TokenEvent(BaseModel):
    kind: Literal["token"] = "token"
    text: str
    node: str = ""


class PlanEvent(BaseModel):
    kind: Literal["plan"] = "plan"
    steps: list[PlanStep]


class ContextEvent(BaseModel):
    kind: Literal["context"] = "context"
    items: list[ContextItem]


class ToolCallProposed(BaseModel):
    kind: Literal["tool_call"] = "tool_call"
    call_id: str
    tool: str
    args: dict[str, Any]
    side_effects: list[SideEffect]
    policy: Literal["allow", "ask", "deny"]


class ApprovalNeeded(BaseModel):
    kind: Literal["approval_needed"] = "approval_needed"
    thread_id: str
    requests: list[ApprovalRequest]


ToolOutcome = Literal["ok", "error", "rejected", "responded", "denied"]


class ToolResultEvent(BaseModel):
    kind: Literal["tool_result"] = "tool_result"
    call_id: str
    tool: str
    output: str
    status: ToolOutcome
    duration_s: float = 0.0


class FinalEvent(BaseModel):
    kind: Literal["final"] = "final"
    answer: str


class ErrorEvent(BaseModel):
    kind: Literal["error"] = "error"
    message: str


AgentEvent = Annotated[
    TokenEvent
    | PlanEvent
    | ContextEvent
    | ToolCallProposed
    | ApprovalNeeded
    | ToolResultEvent
    | FinalEvent
    | ErrorEvent,
    Field(discriminator="kind"),
]


# --- results -----------------------------------------------------------------------

RunStatus = Literal["finished", "needs_approval", "stopped"]


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    prompt_tokens_reused: int = 0
    model_seconds: float = 0.0


class ToolCallRecord(BaseModel):
    call_id: str
    tool: str
    args: dict[str, Any]
    status: ToolOutcome
    output: str = ""


class RunResult(BaseModel):
    thread_id: str
    status: RunStatus
    answer: str = ""
    stop_reason: str = ""  # set when status == "stopped"
    steps: list[PlanStep] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    pending: list[ApprovalRequest] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
