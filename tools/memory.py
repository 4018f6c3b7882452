"""Tools over the knowledge base: ``search_docs`` and ``recall`` read,
``remember`` writes (so the default policy asks before the agent stores
something about the user).

``remember`` records where a memory came from: the thread (``thread_id`` in
the run's ``configurable``), the time, and the id of the tool call that
stored it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import ArgsSchema, BaseTool, ToolException
from pydantic import BaseModel, Field, ValidationError

from agentkit.memory.documents import format_citation
from agentkit.memory.knowledge import KnowledgeBase
from agentkit.tools.base import SideEffect, ToolPreview
from agentkit.tools.declared import DeclaredTool


class SearchDocsArgs(BaseModel):
    query: str = Field(description="What to look for in the ingested documents.")
    k: int = Field(5, ge=1, le=20, description="How many passages to return.")


class RememberArgs(BaseModel):
    text: str = Field(
        min_length=1,
        max_length=2000,
        description="A fact worth keeping across conversations, as one self-contained sentence.",
    )


class RecallArgs(BaseModel):
    query: str = Field(description="What to recall from long-term memory.")
    k: int = Field(5, ge=1, le=20, description="How many memories to return.")


PASSAGES_HEADER = "Passages from the user's documents. Cite the ones you use as [path:lines]."


def short_names(sources: list[str]) -> dict[str, str]:
    """Each path as its shortest tail that no other of ``sources`` shares
    (``handbook.md``, ``ops/deploy.md``): the citation a reader and a small
    model can copy, where a full path was 60 characters of temp directory."""
    parts = {s: Path(s).parts for s in dict.fromkeys(sources)}
    names: dict[str, str] = {}
    for source, own in parts.items():
        for size in range(1, len(own) + 1):
            tail = own[-size:]
            if all(other[-size:] != tail for o, other in parts.items() if o != source):
                names[source] = "/".join(tail)
                break
        else:
            names[source] = source
    return names


def format_passages(kb: KnowledgeBase, query: str, k: int) -> str:
    hits = kb.documents.search(query, k)
    if not hits:
        return "No ingested documents match. (Ingest some with `agentkit ingest PATH`.)"
    names = short_names([hit.source for hit in hits])
    blocks = [
        f"[{format_citation(names[hit.source], hit.start, hit.end, hit.unit)}]\n{hit.text.strip()}"
        for hit in hits
    ]
    return PASSAGES_HEADER + "\n\n" + "\n\n".join(blocks)


def _thread_id(config: RunnableConfig | None) -> str | None:
    configurable = (config or {}).get("configurable") or {}
    value = configurable.get("thread_id")
    return None if value is None else str(value)


@dataclass(frozen=True)
class CallOrigin:
    """Where a ``remember`` call came from: its thread and tool call."""

    thread_id: str | None = None
    call_id: str | None = None


# BaseTool hands the config and tool_call_id to run()/arun(), not to _run():
# Remember keeps them here for execute() (a copied context reaches the
# worker thread ainvoke runs _run in).
_CURRENT_CALL: ContextVar[CallOrigin | None] = ContextVar("agentkit_remember_call", default=None)


class MemoryTool(DeclaredTool):
    """What the memory tools share: the knowledge base. Unlike the other
    built-ins they have always let errors and bad arguments raise (the agent
    reports a raised error as the call's observation)."""

    kb: KnowledgeBase = Field(exclude=True)
    handle_tool_error: bool | str | Callable[[ToolException], str] | None = False
    handle_validation_error: bool | str | Callable[[ValidationError], str] | None = False


class SearchDocs(MemoryTool):
    name: str = "search_docs"
    description: str = (
        "Search the documents the user ingested (notes, code, manuals). Returns passages "
        "with citations like path:12-30; cite them in your answer."
    )
    args_schema: ArgsSchema | None = SearchDocsArgs
    shows_content: ClassVar[bool] = True  # someone else's words

    def execute(self, query: str, k: int = 5) -> str:
        return format_passages(self.kb, query, k)


class Remember(MemoryTool):
    """``remember(text)``: store a long-term memory with its provenance."""

    name: str = "remember"
    description: str = (
        "Store one fact about the user or the project in long-term memory so it can be "
        "recalled in later conversations."
    )
    args_schema: ArgsSchema | None = RememberArgs
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("write",)

    def run(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        token = _CURRENT_CALL.set(_origin(kwargs))
        try:
            return super().run(tool_input, *args, **kwargs)
        finally:
            _CURRENT_CALL.reset(token)

    async def arun(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        token = _CURRENT_CALL.set(_origin(kwargs))
        try:
            return await super().arun(tool_input, *args, **kwargs)
        finally:
            _CURRENT_CALL.reset(token)

    def execute(self, text: str) -> str:
        origin = _CURRENT_CALL.get() or CallOrigin()
        record = self.kb.memories.remember(
            text, thread_id=origin.thread_id, message_id=origin.call_id
        )
        # The fact first, as recall shows it: an answer copied from this
        # result says what was remembered ("Remembered as memory:1d29b4"
        # answered "tell me my locker code").
        return f"Remembered: {record.text} [memory:{record.id}]"

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        text = str(args.get("text", ""))
        return ToolPreview(kind="text", summary=f"remember: {text[:80]}", body=text)


def _origin(run_kwargs: Mapping[str, Any]) -> CallOrigin:
    return CallOrigin(_thread_id(run_kwargs.get("config")), run_kwargs.get("tool_call_id"))


class Recall(MemoryTool):
    name: str = "recall"
    description: str = "Recall facts stored in long-term memory in earlier conversations."
    args_schema: ArgsSchema | None = RecallArgs

    def execute(self, query: str, k: int = 5) -> str:
        hits = [h for h in self.kb.memories.recall(query, k) if h.score >= self.kb.min_score]
        if not hits:
            return "No relevant memories."
        return "\n".join(
            # The fact first: an answer copied from the line starts with it.
            f"{h.memory.text} [memory:{h.memory.id}, stored {h.memory.created_at}]"
            for h in hits
        )


def memory_tools(kb: KnowledgeBase) -> list[BaseTool]:
    """``search_docs`` (read), ``remember`` (write), ``recall`` (read) bound to ``kb``."""
    return [SearchDocs(kb=kb), Remember(kb=kb), Recall(kb=kb)]
