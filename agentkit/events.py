"""The typed vocabulary shared by the graph and every front end.

The TUI, the Python API and ``agentkit run --json`` all consume the same
:data:`AgentEvent` stream and answer approvals with the same
:data:`Decision` objects; none of them reimplements the loop. Events,
decisions and results are pydantic models, so they serialise to JSON lines
as is.

The records a thread keeps (:class:`PlanStep`, :class:`ToolCallRecord`,
:class:`Usage`, :class:`ContextItem`) are TypedDicts: plain dicts, which the
LangGraph checkpointer stores as data. A pydantic model in a checkpoint is
stored by its import path and revived by importing it (LangGraph warns about
such "unregistered types" and blocks them in strict mode), and threads saved
by earlier versions hold exactly these dicts. The events and results below
embed the same TypedDicts, so each record has one definition everywhere.

This module is the bottom layer: it imports nothing from agentkit, so tools,
models, graphs and front ends can all share these names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

# --- what tools declare -----------------------------------------------------------

SideEffect = Literal["read", "write", "exec", "network"]
SIDE_EFFECTS: tuple[SideEffect, ...] = ("read", "write", "exec", "network")
DangerLevel = Literal["safe", "unknown", "dangerous", "destructive"]
PolicyAction = Literal["allow", "ask", "deny"]
# The synthetic tool the agent's model calls to finish (never executed), and
# the result the transcript shows for it.
FINAL_ANSWER_TOOL = "final_answer"
FINISHED_NOTE = "ok: finished"


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
    """Run the call as proposed. ``always`` also records an allow rule; its
    scope is the exact call unless ``always_pattern`` widens it to one of the
    request's :attr:`ApprovalRequest.always_options` (e.g. ``cat notes/*``)."""

    kind: Literal["approve"] = "approve"
    call_id: str
    always: AlwaysScope | None = None
    always_pattern: str | None = None


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


class PlanStep(TypedDict):
    index: int  # 1-based
    text: str
    status: StepStatus


# --- approval requests ----------------------------------------------------------


class AlwaysOption(TypedDict):
    """One scope "always allow" can take for a call: the pattern applied to
    its path or command argument (``""``: the whole tool) and its exact
    meaning in words."""

    pattern: str
    label: str


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
    mode: str = ""  # the permission mode the call was evaluated in
    rule_id: str | None = None  # the policy rule that decided, if a rule did
    always_options: list[AlwaysOption] = Field(default_factory=list)
    """What "always allow" would cover, narrowest first: shown before the
    human picks it."""
    notes: list[str] = Field(default_factory=list)  # e.g. what rewind cannot undo
    workspace: str = ""  # the thread's workspace (absolute): where its tools act
    target: str | None = None  # the absolute path the call acts on, when the tool knows it

    def shown_location(self, cwd: str | Path | None = None) -> str | None:
        """Where the call acts, for a front end to show when that is outside
        ``cwd`` (default: the current directory): the target's absolute path,
        or the workspace when the target is unknown. None when it is inside
        (the relative path in the arguments then says enough)."""
        where = self.target or self.workspace
        if not where:
            return None
        here = Path(cwd if cwd is not None else os.getcwd()).resolve()
        return None if Path(where).is_relative_to(here) else where

    def in_workspace(self, workspace: str) -> ApprovalRequest:
        """The request as it reads once the thread works in ``workspace``
        (moved since the request was saved, or saved before requests named
        their workspace): the target moves along with it."""
        if not workspace or workspace == self.workspace:
            return self
        target = self.target
        if target and self.workspace and Path(target).is_relative_to(self.workspace):
            target = str(Path(workspace) / Path(target).relative_to(self.workspace))
        return self.model_copy(update={"workspace": workspace, "target": target})


# --- retrieved context ------------------------------------------------------------


class ContextItem(TypedDict):
    """A memory or document chunk placed in the prompt."""

    kind: Literal["memory", "document"]
    text: str
    source: str  # "path/to/file.md:12-30" or "memory:<id>"
    score: NotRequired[float]  # similarity, when the source has one


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


HookStage = Literal["before_tool", "after_tool", "approval_request", "run_end"]
HookOutcome = Literal["allow", "deny", "ask", "rewrite", "replace", "pass", "error"]


class HookRecord(TypedDict):
    """What one hook said about one call (or run), as the thread keeps it."""

    stage: HookStage
    hook: str  # the hook's name
    outcome: HookOutcome  # pass: no opinion / result unchanged
    reason: str
    call_id: str
    tool: str
    at: float  # epoch seconds


class HookEvent(BaseModel):
    """A hook ran: what it said (``deny`` and ``error`` stop the call)."""

    kind: Literal["hook"] = "hook"
    stage: HookStage
    hook: str
    outcome: HookOutcome
    reason: str = ""
    call_id: str = ""
    tool: str = ""


class CompactionEvent(BaseModel):
    """Older turns were summarised so the prompt fits the context window.
    The full history stays in the checkpoints."""

    kind: Literal["compaction"] = "compaction"
    summarized: int  # messages now covered by the summary
    kept: int  # messages after it, shown verbatim
    tokens_before: int  # the prompt's estimated size before and after
    tokens_after: int
    seconds: float
    summary: str
    trigger: Literal["auto", "manual"] = "auto"


AgentEvent = Annotated[
    TokenEvent
    | PlanEvent
    | ContextEvent
    | ToolCallProposed
    | ApprovalNeeded
    | ToolResultEvent
    | FinalEvent
    | ErrorEvent
    | HookEvent
    | CompactionEvent,
    Field(discriminator="kind"),
]


# --- results -----------------------------------------------------------------------

RunStatus = Literal["finished", "needs_approval", "stopped", "interrupted"]
"""``interrupted``: the run stopped part-way (cancelled, Ctrl-C, SIGTERM, a
crash or a storage fault) and ``resume`` continues it from its last step."""


class Usage(TypedDict):
    """Model use of one run. Prompt tokens are ``input_tokens``; of those, the
    model evaluated ``prompt_tokens_evaluated`` and reused the cached prefix
    for ``prompt_tokens_reused``."""

    input_tokens: int
    output_tokens: int
    prompt_tokens_evaluated: int
    prompt_tokens_reused: int
    model_seconds: float


NO_USAGE = Usage(
    input_tokens=0,
    output_tokens=0,
    prompt_tokens_evaluated=0,
    prompt_tokens_reused=0,
    model_seconds=0.0,
)


def add_usage(*parts: Mapping[str, float] | None) -> Usage:
    """The key-by-key sum of ``parts``. A thread saved before
    ``prompt_tokens_*`` existed lacks those keys: they count from 0."""
    total: dict[str, float] = dict(NO_USAGE)
    for part in parts:
        for key, value in (part or {}).items():
            total[key] += value
    return Usage(**total)


class ToolCallRecord(TypedDict):
    """One call of a run, as the thread's tool log keeps it."""

    call_id: str
    tool: str
    args: dict[str, Any]
    status: ToolOutcome
    output: str


class RunResult(BaseModel):
    thread_id: str
    status: RunStatus
    answer: str = ""
    stop_reason: str = ""  # set when status == "stopped"
    steps: list[PlanStep] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    pending: list[ApprovalRequest] = Field(default_factory=list)
    usage: Usage = Field(default_factory=lambda: add_usage(None))
    mode: str = ""  # the thread's permission mode; a finished "plan" run awaits plan approval
    workspace: str = ""  # where the thread's tools act (absolute path)
