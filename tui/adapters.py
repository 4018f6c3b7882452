"""Tolerant readers for the agent's thread records.

The TUI only depends on the public Agent API. Thread and checkpoint records
are read through these helpers so that a field the agent does not (yet) fill
in degrades to a sensible default instead of breaking the sidebar.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from agentkit.events import AgentEvent, ApprovalRequest, Decision

T = TypeVar("T")


class AgentLike(Protocol):
    """The part of :class:`agentkit.agent.Agent` the TUI uses."""

    threads: Any

    def astream(self, task: str, thread_id: str | None = None) -> AsyncIterator[AgentEvent]: ...

    def astream_resume(
        self, thread_id: str, decisions: Sequence[Decision]
    ) -> AsyncIterator[AgentEvent]: ...

    def pending(self, thread_id: str) -> list[ApprovalRequest]: ...


def new_thread_id() -> str:
    return uuid.uuid4().hex[:12]


async def maybe_await(value: T | Any) -> T:
    """The Agent API may expose thread management as sync or async methods."""
    if inspect.isawaitable(value):
        return await value
    return value


def _field(record: object, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(record, Mapping) and name in record:
            return record[name]
        if hasattr(record, name):
            return getattr(record, name)
    return default


def _as_text_time(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        local = value.astimezone() if value.tzinfo is not None else value
        return local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text[:16]
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone()
    return parsed.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ThreadRow:
    """What the sidebar shows for one thread."""

    thread_id: str
    title: str
    updated: str
    pending: int
    status: str

    @classmethod
    def from_info(cls, info: object) -> ThreadRow:
        thread_id = str(_field(info, "thread_id", "id", default=""))
        title = str(_field(info, "title", "name", default="") or "") or "untitled"
        updated = _as_text_time(_field(info, "updated_at", "updated", "created_at", default=""))
        pending_raw = _field(info, "pending", "pending_approvals", default=0)
        pending = len(pending_raw) if isinstance(pending_raw, list | tuple) else int(pending_raw or 0)
        status = str(_field(info, "status", default="") or "")
        if pending and not status:
            status = "needs_approval"
        return cls(thread_id=thread_id, title=title, updated=updated, pending=pending, status=status)


@dataclass(frozen=True)
class CheckpointRow:
    """One point in a thread's history that can be forked."""

    checkpoint_id: str
    label: str
    created: str
    step: int | None

    @classmethod
    def from_info(cls, info: object) -> CheckpointRow:
        checkpoint_id = str(_field(info, "checkpoint_id", "id", default=""))
        step = _field(info, "step", default=None)
        label = str(
            _field(info, "label", "summary", "description", "last_message", "next", default="")
            or ""
        )
        created = _as_text_time(_field(info, "created_at", "ts", "created", default=""))
        return cls(
            checkpoint_id=checkpoint_id,
            label=label,
            created=created,
            step=step if isinstance(step, int) else None,
        )


FINAL_ANSWER_TOOL = "final_answer"


@dataclass(frozen=True)
class TranscriptEntry:
    """A past message replayed when a thread is reopened."""

    role: str  # "user" | "agent" | "call" | "result"
    text: str = ""
    tool: str = ""
    call_id: str = ""
    args: dict[str, Any] | None = None
    status: str = ""


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # content blocks
        return "".join(
            str(block.get("text", "")) if isinstance(block, Mapping) else str(block)
            for block in content
        )
    return str(content or "")


def transcript_from_messages(messages: list[Any]) -> list[TranscriptEntry]:
    """LangChain messages (or dicts with role/content) to display entries:
    the final answer comes out of the synthetic final_answer call, other
    calls become tool cards completed by their tool messages."""
    entries: list[TranscriptEntry] = []
    for message in messages:
        role = str(_field(message, "type", "role", default=""))
        text = _content_text(_field(message, "content", default=""))
        if role in ("human", "user"):
            entries.append(TranscriptEntry("user", text))
        elif role in ("ai", "assistant"):
            if text.strip():
                entries.append(TranscriptEntry("agent", text))
            for call in _field(message, "tool_calls", default=None) or []:
                name = str(_field(call, "name", default=""))
                args = dict(_field(call, "args", default={}) or {})
                if name == FINAL_ANSWER_TOOL:
                    entries.append(TranscriptEntry("agent", str(args.get("answer", ""))))
                else:
                    entries.append(TranscriptEntry(
                        "call", tool=name, call_id=str(_field(call, "id", default="")), args=args
                    ))
        elif role == "tool":
            if str(_field(message, "name", default="")) == FINAL_ANSWER_TOOL:
                continue
            entries.append(TranscriptEntry(
                "result", text, tool=str(_field(message, "name", default="")),
                call_id=str(_field(message, "tool_call_id", default="")),
                status=str(_field(message, "status", default="") or "success"),
            ))
    return entries


def model_context(agent: object) -> tuple[int | None, int | None]:
    """Tokens in the model's context now, and its size, when the loaded chat
    model exposes its llama.cpp engine. Never loads a model."""
    nodes = getattr(agent, "nodes", None)
    model = getattr(nodes, "model", None)
    if model is None or callable(model) and not hasattr(model, "invoke"):
        return None, None
    engine = getattr(model, "engine", None) or getattr(model, "_engine", None)
    if engine is None:
        return None, None
    try:
        used = getattr(engine, "cached_tokens", None)
        if callable(used):
            used = used()
        size = getattr(engine, "n_ctx", None)
        return (int(used) if used is not None else None, int(size) if size else None)
    except Exception:  # noqa: BLE001 - a display nicety, never an error
        return None, None
