"""The audit record of a thread: what was asked, what the agent proposed,
who allowed what and when, what ran and what it returned.

Everything comes from the thread's checkpoints (each step's state is kept)
and the executed-calls ledger (durations): no separate log to keep in step.
A checkpoint after ``act`` holds the proposed calls with the policy's
verdict, the pending approval holds the preview the human saw, the one after
``approve`` holds each decision with who made it and when, and the one after
``execute`` the outcomes. ``durability="exit"`` keeps fewer checkpoints, so
its audit can lack decisions for calls that ran inside one invocation.

``ThreadAudit`` is the JSON schema of ``agentkit threads export --format
json`` (``docs/audit-schema.json``); ``agent.threads.audit(id)`` returns it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from pydantic import BaseModel, Field

from agentkit.events import ApprovalRequest, HookRecord, ToolPreview, Usage, add_usage
from agentkit.graphs.support import last_ai_id
from agentkit.threads import ThreadStatus, pending_requests

if TYPE_CHECKING:
    from langgraph.types import StateSnapshot

    from agentkit.threads import ThreadStore

SCHEMA_VERSION = 1

CallStatus = Literal["ok", "error", "rejected", "responded", "denied", "pending", "not_run"]
DecisionKind = Literal["allow", "deny", "invalid", "approve", "edit", "reject", "respond"]


class AuditMessage(BaseModel):
    """One transcript message."""

    index: int
    role: Literal["user", "assistant", "tool", "system"]
    content: str
    tool_calls: list[dict[str, Any]] = Field(
        default_factory=list, description="Calls an assistant message made: name, args, id."
    )
    tool_call_id: str = Field("", description="The call a tool message answers.")
    tool: str = Field("", description="The tool that produced a tool message.")
    status: str = Field("", description="success or error, for tool messages.")
    at: datetime | None = Field(None, description="When the message entered the thread.")


class AuditToolCall(BaseModel):
    """One call the model proposed, from proposal to outcome."""

    call_id: str
    tool: str
    run: int = Field(description="Which run (task) of the thread, from 1.")
    step: int = Field(description="Act step within the run, from 1.")
    args: dict[str, Any] = Field(description="The arguments the model proposed.")
    side_effects: list[str] = Field(default_factory=list)
    proposed_at: datetime | None = None
    verdict: Literal["allow", "ask", "deny", "invalid"] = Field(
        description="The policy's verdict (invalid: unknown tool, bad arguments, blocked repeat)."
    )
    policy_reason: str = ""
    danger: str | None = Field(None, description="Danger level shown with the approval.")
    preview: ToolPreview | None = Field(None, description="What the human saw before deciding.")
    decision: DecisionKind | None = Field(None, description="None while still pending.")
    decided_by: Literal["policy", "check", "human", "approver", "hook", "mode"] | None = Field(
        None,
        description="policy (a rule or a default), mode (the permission mode), hook (a "
        "before_tool hook), check (unknown tool, bad arguments), human or approver.",
    )
    mode: str = Field("", description="The permission mode the call was evaluated in.")
    hooks: list[HookRecord] = Field(
        default_factory=list, description="What hooks said about the call, in order."
    )
    decided_at: datetime | None = None
    run_args: dict[str, Any] | None = Field(
        None, description="The edited arguments, after an edit."
    )
    feedback: str = Field("", description="The human's words on a rejected call.")
    status: CallStatus = "not_run"
    output: str = ""
    duration_s: float | None = None


class AuditRun(BaseModel):
    """One task given to the thread, and how it ended."""

    index: int
    task: str
    status: ThreadStatus | Literal["interrupted"]
    answer: str = ""
    stop_reason: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    steps: int = 0
    usage: Usage = Field(default_factory=lambda: add_usage(None))


class AuditFork(BaseModel):
    thread_id: str
    checkpoint_id: str


class ThreadAudit(BaseModel):
    """Everything ``agentkit threads export`` writes about a thread."""

    schema_version: int = SCHEMA_VERSION
    thread_id: str
    title: str = ""
    status: ThreadStatus
    created_at: datetime | None = None
    updated_at: datetime | None = None
    exported_at: datetime
    forked_from: AuditFork | None = None
    forks: list[AuditFork] = Field(default_factory=list)
    runs: list[AuditRun] = Field(default_factory=list)
    tool_calls: list[AuditToolCall] = Field(default_factory=list)
    transcript: list[AuditMessage] = Field(default_factory=list)
    pending: list[ApprovalRequest] = Field(default_factory=list)
    usage: Usage = Field(default_factory=lambda: add_usage(None))


def _time(iso: str | float | None) -> datetime | None:
    if iso is None or iso == "":
        return None
    if isinstance(iso, int | float):
        return datetime.fromtimestamp(iso, UTC)
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def _fork(spec: object) -> AuditFork | None:
    if not isinstance(spec, str) or "@" not in spec:
        return None
    thread_id, _, checkpoint_id = spec.partition("@")
    return AuditFork(thread_id=thread_id, checkpoint_id=checkpoint_id)


def _message(index: int, message: AnyMessage, at: str | None) -> AuditMessage:
    role = {"human": "user", "ai": "assistant", "tool": "tool"}.get(message.type, "system")
    content = message.content if isinstance(message.content, str) else str(message.content)
    calls = (
        [{"name": c["name"], "args": c["args"], "id": c["id"]} for c in message.tool_calls]
        if isinstance(message, AIMessage)
        else []
    )
    tool = isinstance(message, ToolMessage)
    return AuditMessage(
        index=index,
        role=role,  # type: ignore[arg-type]
        content=content,
        tool_calls=calls,
        tool_call_id=message.tool_call_id if tool else "",  # type: ignore[union-attr]
        tool=(message.name or "") if tool else "",
        status=str(getattr(message, "status", "")) if tool else "",
        at=_time(at),
    )


class _Builder:
    def __init__(self, store: ThreadStore, thread_id: str) -> None:
        self.store, self.thread_id = store, thread_id
        self.runs: list[AuditRun] = []
        self.calls: list[AuditToolCall] = []
        self.batch: dict[str, AuditToolCall] = {}
        self.batch_ai_id = ""
        self.first_seen: list[str | None] = []
        self.forked_from: AuditFork | None = None

    def feed(self, snapshots: Iterable[StateSnapshot]) -> StateSnapshot | None:
        previous: StateSnapshot | None = None
        for snap in snapshots:
            self._snapshot(snap, previous)
            previous = snap
        return previous

    def _snapshot(self, snap: StateSnapshot, previous: StateSnapshot | None) -> None:
        values: dict[str, Any] = snap.values if isinstance(snap.values, dict) else {}
        messages = values.get("messages", [])
        self.first_seen += [snap.created_at] * (len(messages) - len(self.first_seen))
        metadata = snap.metadata or {}
        if metadata.get("source") == "fork" and self.forked_from is None:
            self.forked_from = _fork(metadata.get("forked_from"))
        if snap.next == ("plan",) and values.get("status") == "starting":
            self.runs.append(
                AuditRun(
                    index=len(self.runs) + 1,
                    task=str(values.get("task", "")),
                    status="running",
                    started_at=_time(snap.created_at),
                )
            )
        if snap.next == ("approve",):
            self._proposed(values, snap)
        if snap.next == ("execute",):
            self._decided(values.get("decisions", []))
        if previous is not None and previous.next == ("execute",):
            self._executed(values.get("tool_log", []))
        if self.runs:
            run = self.runs[-1]
            run.status = values.get("status", run.status)
            run.answer = str(values.get("answer", ""))
            run.stop_reason = str(values.get("stop_reason", ""))
            run.steps = int(values.get("steps", 0))
            run.usage = add_usage(values.get("usage"))
            run.ended_at = _time(snap.created_at)

    def _proposed(self, values: dict[str, Any], snap: StateSnapshot) -> None:
        self.batch = {}
        self.batch_ai_id = last_ai_id(values.get("messages", []))
        for p in values.get("pending", []):
            call = AuditToolCall(
                call_id=p.get("call_id", ""),
                tool=p.get("tool", ""),
                run=max(1, len(self.runs)),
                step=int(values.get("steps", 0)),
                args=dict(p.get("original_args") or p.get("args", {})),
                run_args=dict(p["args"]) if p.get("original_args") else None,
                mode=str(p.get("mode", "")),
                side_effects=list(p.get("side_effects", [])),
                proposed_at=_time(snap.created_at),
                verdict=p.get("verdict", "invalid"),
                policy_reason=p.get("reason", ""),
                status="pending" if p.get("verdict") == "ask" else "not_run",
            )
            self.batch[call.call_id] = call
            self.calls.append(call)
        for request in pending_requests(snap):
            call = self.batch.get(request.call_id)
            if call is not None:
                call.preview, call.danger = request.preview, request.danger

    def _decided(self, decisions: Sequence[dict[str, Any]]) -> None:
        for d in decisions:
            call = self.batch.get(d.get("call_id", ""))
            if call is None:
                continue
            call.decision = d.get("decision") or _inferred(call, d)  # type: ignore[assignment]
            call.decided_by = d.get("decided_by") or (  # type: ignore[assignment]
                "human"
                if call.verdict == "ask"
                else "check"
                if call.verdict == "invalid"
                else "policy"
            )
            call.decided_at = _time(d.get("decided_at"))
            if d.get("args") is not None and d["args"] != call.args:
                call.run_args = dict(d["args"])
            call.feedback = str(d.get("feedback", ""))
            if "status" in d:
                call.status, call.output = d["status"], str(d.get("output", ""))
            elif call.status == "pending":
                call.status = "not_run"

    def _executed(self, records: Sequence[dict[str, Any]]) -> None:
        ledger = self.store.ledger
        for record in records:
            call = self.batch.get(record.get("call_id", ""))
            if call is None:
                continue
            call.status, call.output = (
                record.get("status", call.status),
                str(record.get("output", "")),
            )
            if ledger is not None and call.duration_s is None:
                entry = ledger.get(f"{self.thread_id}/{self.batch_ai_id}/{call.call_id}")
                call.duration_s = entry.duration_s if entry is not None else None


def _inferred(call: AuditToolCall, d: dict[str, Any]) -> str:
    """The decision of a thread saved before decisions were stamped."""
    status = d.get("status")
    if call.verdict != "ask":
        return call.verdict
    if status == "rejected":
        return "reject"
    if status == "responded":
        return "respond"
    return "edit" if d.get("args") not in (None, call.args) else "approve"


def build_audit(store: ThreadStore, thread_id: str) -> ThreadAudit:
    """The audit record of ``thread_id`` (raises ThreadNotFoundError)."""
    info = store.get(thread_id)
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    history = list(store.graph.get_state_history(config))  # newest first
    builder = _Builder(store, thread_id)
    last = builder.feed(reversed(history))
    values: dict[str, Any] = (
        last.values if last is not None and isinstance(last.values, dict) else {}
    )
    if builder.runs and last is not None:
        if info.status == "needs_approval":
            builder.runs[-1].status = "needs_approval"
        elif last.next:
            builder.runs[-1].status = "interrupted"
    by_id = {c.call_id: c for c in builder.calls}
    for entry in values.get("hook_log", []):
        call = by_id.get(entry.get("call_id", ""))
        if call is not None:
            call.hooks.append(entry)
    transcript = [
        _message(i, m, builder.first_seen[i] if i < len(builder.first_seen) else None)
        for i, m in enumerate(values.get("messages", []))
    ]
    forks = []
    for item in store.checkpointer.list(None, filter={"source": "fork"}):
        fork = _fork((item.metadata or {}).get("forked_from"))
        child = item.config["configurable"]["thread_id"]
        if fork is not None and fork.thread_id == thread_id and child != thread_id:
            forks.append(AuditFork(thread_id=child, checkpoint_id=fork.checkpoint_id))
    return ThreadAudit(
        thread_id=thread_id,
        title=info.title,
        status=info.status,
        created_at=info.created_at,
        updated_at=info.updated_at,
        exported_at=datetime.now(UTC),
        forked_from=builder.forked_from,
        forks=forks,
        runs=builder.runs,
        tool_calls=builder.calls,
        transcript=transcript,
        pending=info.pending,
        usage=add_usage(*(r.usage for r in builder.runs)),
    )
