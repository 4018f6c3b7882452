"""What the TUI shows of the agent's records: sidebar rows from
:class:`~agentkit.threads.ThreadInfo`, fork choices from
:class:`~agentkit.threads.CheckpointInfo`, and a reopened thread's transcript
from its LangChain messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agentkit.errors import AgentkitError
from agentkit.graphs.prompts import FINAL_ANSWER_TOOL
from agentkit.models import context_usage
from agentkit.threads import CheckpointInfo, ThreadInfo, ThreadStatus

if TYPE_CHECKING:
    from agentkit.agent import Agent


def error_text(err: BaseException) -> str:
    """A user-fixable error says what to do; anything else names its type."""
    return str(err) if isinstance(err, AgentkitError) else f"{type(err).__name__}: {err}"


def format_time(value: datetime | str | None) -> str:
    """Local time to the minute; a checkpoint's ISO string or a thread's datetime."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ThreadRow:
    """What the sidebar shows for one thread."""

    thread_id: str
    title: str
    updated: str
    pending: int
    status: ThreadStatus | str
    workspace: str = ""  # where its tools act ("" = not recorded)

    @classmethod
    def from_info(cls, info: ThreadInfo) -> ThreadRow:
        return cls(
            thread_id=info.thread_id,
            title=info.title or "untitled",
            updated=format_time(info.updated_at),
            pending=len(info.pending),
            status=info.status,
            workspace=info.workspace,
        )


@dataclass(frozen=True)
class CheckpointRow:
    """One point in a thread's history that can be forked."""

    checkpoint_id: str
    label: str
    created: str
    step: int

    @classmethod
    def from_info(cls, info: CheckpointInfo) -> CheckpointRow:
        return cls(info.checkpoint_id, info.last_message, format_time(info.created_at), info.step)

    def describe(self) -> str:
        when = f"  {self.created}" if self.created else ""
        text = f"  {self.label}" if self.label else ""
        return f"step {self.step}{when}{text}"


@dataclass(frozen=True)
class TranscriptEntry:
    """A past message replayed when a thread is reopened."""

    role: str  # "user" | "agent" | "call" | "result"
    text: str = ""
    tool: str = ""
    call_id: str = ""
    args: dict[str, Any] | None = None
    status: str = ""


def transcript_from_messages(messages: Sequence[AnyMessage]) -> list[TranscriptEntry]:
    """Display entries: the final answer comes out of the synthetic
    final_answer call, other calls become tool cards completed by their
    tool messages."""
    entries: list[TranscriptEntry] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            entries.append(TranscriptEntry("user", message.text))
        elif isinstance(message, AIMessage):
            if message.text.strip():
                entries.append(TranscriptEntry("agent", message.text))
            for call in message.tool_calls:
                if call["name"] == FINAL_ANSWER_TOOL:
                    entries.append(TranscriptEntry("agent", str(call["args"].get("answer", ""))))
                else:
                    entry = TranscriptEntry(
                        "call", tool=call["name"], call_id=call["id"] or "", args=call["args"]
                    )
                    entries.append(entry)
        elif isinstance(message, ToolMessage) and message.name != FINAL_ANSWER_TOOL:
            entry = TranscriptEntry(
                "result",
                message.text,
                tool=message.name or "",
                call_id=message.tool_call_id,
                status=message.status,
            )
            entries.append(entry)
    return entries


def model_context(agent: Agent) -> tuple[int | None, int | None]:
    """Tokens in the in-process model's context now, and its size. Nothing
    before the model is loaded (it is still a factory) or when it runs on
    servers."""
    usage = context_usage(agent.nodes.model)
    if usage is None:
        return None, None
    return usage.tokens, usage.size
