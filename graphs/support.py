"""Small pieces the graph's nodes share: output schemas, the synthetic
``final_answer`` tool, transcript and usage helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.config import get_config
from langgraph.types import Overwrite
from pydantic import BaseModel, Field, StringConstraints, create_model

from agentkit.events import Usage, add_usage
from agentkit.graphs import prompts as P
from agentkit.modes import DEFAULT_MODE, MODE_KEY
from agentkit.tools.base import declare


class StepCancelled(Exception):  # noqa: N818 - a control-flow signal, like GraphDrained
    """The run was cancelled while this node waited for the model. Raised so
    the step keeps no writes: resuming the thread runs the node again."""


PlanStepText = Annotated[str, StringConstraints(min_length=2, max_length=120)]


class PlanOutput(BaseModel):
    """A short numbered plan. The bounds are in the JSON schema, so a
    constrained model cannot ramble on for its whole token budget."""

    steps: list[PlanStepText] = Field(min_length=1, max_length=5)


class FinalAnswerArgs(BaseModel):
    # No field description: base models copy descriptions into the value.
    answer: str = Field(min_length=1)


def final_answer_tool(max_chars: int | None = None) -> BaseTool:
    """The synthetic tool the model calls to finish; never executed.
    ``max_chars`` bounds the answer: steering bounds a small model's, so a
    constrained model closes the string instead of rambling into
    repetition (a truncated call is invalid); others are unbounded."""
    args: type[BaseModel] = FinalAnswerArgs
    if max_chars is not None:
        args = create_model(
            "FinalAnswerArgs",
            answer=(str, Field(min_length=1, max_length=max_chars)),
        )
    tool = StructuredTool.from_function(
        func=lambda answer: answer,
        name=P.FINAL_ANSWER_TOOL,
        description=P.FINAL_ANSWER_DESCRIPTION,
        args_schema=args,
    )
    return declare(tool, ["read"])


def configurable() -> dict[str, object]:
    """The running graph's ``config["configurable"]`` ({} outside a run)."""
    try:
        return dict(get_config().get("configurable", {}))
    except RuntimeError:
        return {}


def current_mode() -> str:
    """The permission mode of the running invocation (``default`` outside one)."""
    return str(configurable().get(MODE_KEY) or DEFAULT_MODE)


def configurable_metadata() -> dict[str, object]:
    """The running node's config metadata (``langgraph_step``, ...; {} outside a run)."""
    try:
        return dict(get_config().get("metadata", {}))
    except RuntimeError:
        return {}


def current_thread_id() -> str | None:
    value = configurable().get("thread_id")
    return str(value) if value is not None else None


WORKSPACE_KEY = "agentkit_workspace"
"""``config["configurable"]`` key: the directory the thread's tools act in (a
resolved absolute path). LangGraph copies it into every checkpoint's metadata,
so a thread's history shows where each step ran."""


def current_workspace() -> str | None:
    value = configurable().get(WORKSPACE_KEY)
    return str(value) if value else None


def normalise_reply(response: BaseMessage) -> AIMessage:
    """An AIMessage whose unparseable calls are in ``invalid_tool_calls`` (a
    streamed reply may carry them in its metadata only)."""
    if not isinstance(response, AIMessage):
        response = AIMessage(content=str(getattr(response, "content", response)))
    from_metadata = response.response_metadata.get("invalid_tool_calls")
    if not response.invalid_tool_calls and from_metadata:
        response = response.model_copy(update={"invalid_tool_calls": list(from_metadata)})
    return response


def reply_text(message: AIMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def close_calls(response: AIMessage, note: str) -> list[ToolMessage]:
    """A ToolMessage for every call of ``response``, so the transcript stays
    valid for chat formats that require one per call, even for unrun calls."""
    closed = [
        ToolMessage(content=note, tool_call_id=c["id"] or "", name=c["name"])
        for c in response.tool_calls
    ]
    closed += [
        ToolMessage(content=note, tool_call_id=c.get("id") or "", name=c.get("name") or "?")
        for c in response.invalid_tool_calls
    ]
    return closed


def close_unanswered(messages: Sequence[AnyMessage], note: str) -> list[ToolMessage]:
    """ToolMessages for calls that never got one (a new task arrived while
    they waited for approval), so the transcript stays well-formed."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    return [
        ToolMessage(content=note, tool_call_id=c["id"] or "", name=c["name"])
        for m in messages
        if isinstance(m, AIMessage)
        for c in m.tool_calls
        if (c["id"] or "") not in answered
    ]


def last_ai_id(messages: Sequence[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return message.id or ""
    return ""


def reply_usage(response: AIMessage, seconds: float) -> Usage:
    """One model call's usage. ``cache_read`` is LangChain's name for the
    reused prompt prefix; agentkit's models also report what they evaluated."""
    usage = response.usage_metadata or {}
    prompt = usage.get("input_tokens", 0)
    reused = (usage.get("input_token_details") or {}).get("cache_read", 0)
    evaluated = response.response_metadata.get("prompt_tokens_evaluated", prompt - reused)
    return Usage(
        input_tokens=prompt,
        output_tokens=usage.get("output_tokens", 0),
        prompt_tokens_evaluated=evaluated,
        prompt_tokens_reused=reused,
        model_seconds=seconds,
    )


def fresh_run_fields() -> dict[str, object]:
    """What a new task on a thread starts from (the transcript is kept)."""
    return {
        "steps": 0,
        "replans": 0,
        "repeats": 0,
        "last_signatures": [],
        "last_succeeded": False,
        "pending": [],
        "decisions": [],
        "answer": "",
        "stop_reason": "",
        "status": "running",
        "tool_log": Overwrite([]),
        "usage": add_usage(None),
    }
