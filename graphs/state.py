"""The agent graph's state, as explicit types.

Everything in the state is plain data (TypedDicts, strings, LangChain
messages) so the checkpointer serialises it without custom types and a thread
saved by one version of agentkit opens in the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, NotRequired, TypedDict, TypeVar

from langchain_core.messages import AnyMessage
from langgraph.channels.delta import DeltaChannel

# LangGraph's one-pass reducer for a DeltaChannel of messages (add_messages
# semantics: update by id, RemoveMessage) is experimental and only exported
# under a private name. This is the one place agentkit imports it;
# tests/test_langgraph_contract.py fails loudly if it moves or changes.
from langgraph.graph.message import _messages_delta_reducer as messages_delta_reducer

from agentkit.events import (
    ContextItem,
    HookRecord,
    PlanStep,
    PolicyAction,
    SideEffect,
    ToolCallRecord,
    ToolOutcome,
    Usage,
)
from agentkit.steering import RouteRecord

# The key under which a ``stream_mode="updates"`` chunk carries interrupts,
# and the pending-write channel a checkpoint keeps them in. LangGraph's own
# constant is private (langgraph._internal._constants.INTERRUPT); the contract
# test checks that this value still matches it.
INTERRUPT = "__interrupt__"


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
    mode: str  # the permission mode it was evaluated in
    decided_by: str  # policy, mode or hook: whose verdict this is
    rule_id: str | None  # the policy rule that decided, if one did
    original_args: dict[str, Any]  # the model's arguments, when a hook rewrote them
    hooks: list[HookRecord]  # what the before_tool hooks said (moved to hook_log)
    pinned: dict[str, str]  # path as written -> the real path (relative) a write was checked for


class CallDecision(TypedDict):
    """What happens to a pending call after the policy and the human: it runs
    with ``args`` or, when ``status`` is set, it does not run and ``output``
    is what the model sees instead."""

    call_id: str
    args: dict[str, Any]  # the arguments it runs with (edited ones after an edit)
    status: NotRequired[ToolOutcome]
    output: NotRequired[str]
    feedback: NotRequired[str]  # the human's words on a rejected call
    # The audit trail: approve/edit/reject/respond (a human's or an approver's
    # answer), or allow/deny/invalid (the policy's or the checks' verdict);
    # who decided (policy, check, human, approver) and when (epoch seconds).
    decision: NotRequired[str]
    decided_by: NotRequired[str]
    decided_at: NotRequired[float]


class PlanNote(TypedDict):
    """The plan as the model was shown it, placed after the first ``after``
    transcript messages. A new note is added only when the plan changes, so
    the prompt only ever grows at its end (and its cached prefix stays valid)."""

    after: int
    text: str


class SummaryNote(TypedDict):
    """Context compaction: the first ``upto`` transcript messages are shown
    to the model as ``summary`` from now on (the transcript keeps them all;
    see :mod:`agentkit.graphs.compaction`)."""

    upto: int
    summary: str
    at: float
    tokens_before: int
    tokens_after: int
    trigger: str  # auto or manual


RunStatusState = Literal["starting", "running", "finished", "stopped"]

# The transcript and the tool log only ever grow, and storing them whole in
# every checkpoint made a thread's database grow with the square of its
# length. LangGraph's DeltaChannel stores each super-step's new items only and
# rebuilds the value from the ancestors' writes, with a full snapshot every
# SNAPSHOT_EVERY updates to bound the replay (see docs/benchmarks.md).
SNAPSHOT_EVERY = 100
T = TypeVar("T")


def append_batches(state: list[T], writes: Sequence[list[T]]) -> list[T]:
    """Append each write's items, in order (batching-invariant, as
    DeltaChannel requires)."""
    return [*state, *(item for batch in writes for item in batch)]


class AgentState(TypedDict, total=False):
    """State of one thread.

    ``messages`` is the transcript the model sees. ``pending`` and
    ``decisions`` carry one act step's calls through approve and execute.
    ``blocked`` maps a call signature (tool + canonical arguments) to why it
    must not be retried blindly. A new task enters with ``status="starting"``;
    the plan node resets the per-run fields and keeps the transcript.
    """

    task: str
    messages: Annotated[
        list[AnyMessage], DeltaChannel(messages_delta_reducer, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    plan: list[PlanStep]
    plan_notes: Annotated[
        list[PlanNote], DeltaChannel(append_batches, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    context: list[ContextItem]  # placed in the prompt
    pending: list[PendingCall]
    decisions: list[CallDecision]
    steps: int  # act steps taken
    replans: int
    blocked: dict[str, str]
    last_signatures: list[str]  # signatures of the previous act step's calls
    last_succeeded: bool  # every call of the previous act step ran and succeeded
    route: RouteRecord  # steering's routing for this run: tools offered, priors per step
    repeats: int  # consecutive act steps proposing the same calls
    consecutive_errors: int
    # this run's calls; a node returns only its new entries
    tool_log: Annotated[
        list[ToolCallRecord], DeltaChannel(append_batches, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    usage: Usage  # this run's usage
    answer: str
    status: RunStatusState
    stop_reason: str
    # what hooks said about this thread's calls (before and after they ran)
    hook_log: Annotated[
        list[HookRecord], DeltaChannel(append_batches, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    # context compaction: each summary replaces the transcript before its `upto`
    summaries: Annotated[
        list[SummaryNote], DeltaChannel(append_batches, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    prompt_tokens: int  # the last act prompt's size as the model counted it
    prompt_chars: int  # and in characters (what the next prompt's size is estimated from)
