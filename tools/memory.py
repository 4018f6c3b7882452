"""Tools over the knowledge base: ``search_docs`` and ``recall`` read,
``remember`` writes (so the default policy asks before the agent stores
something about the user).

``remember`` records where a memory came from: the thread (``thread_id`` in
the run's ``configurable``), the time, and the id of the tool call that
stored it.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agentkit.memory.documents import format_citation
from agentkit.tools.base import ToolPreview, declare

if TYPE_CHECKING:
    from agentkit.memory.knowledge import KnowledgeBase

_CURRENT_TOOL_CALL: ContextVar[str | None] = ContextVar("agentkit_tool_call_id", default=None)


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


class RememberTool(BaseTool):
    """``remember(text)``: store a long-term memory with its provenance."""

    name: str = "remember"
    description: str = (
        "Store one fact about the user or the project in long-term memory so it can be "
        "recalled in later conversations."
    )
    args_schema: type[BaseModel] = RememberArgs
    kb: Any = None  # KnowledgeBase; Any keeps pydantic from validating it

    def run(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # BaseTool hands tool_call_id to run(), not to _run(): keep it for _run.
        token = _CURRENT_TOOL_CALL.set(kwargs.get("tool_call_id"))
        try:
            return super().run(tool_input, *args, **kwargs)
        finally:
            _CURRENT_TOOL_CALL.reset(token)

    async def arun(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        token = _CURRENT_TOOL_CALL.set(kwargs.get("tool_call_id"))
        try:
            return await super().arun(tool_input, *args, **kwargs)
        finally:
            _CURRENT_TOOL_CALL.reset(token)

    def _run(self, text: str, config: RunnableConfig, run_manager: Any = None) -> str:
        record = self.kb.memories.remember(
            text, thread_id=_thread_id(config), message_id=_CURRENT_TOOL_CALL.get()
        )
        # The fact first, as recall shows it: an answer copied from this
        # result says what was remembered ("Remembered as memory:1d29b4"
        # answered "tell me my locker code").
        return f"Remembered: {record.text} [memory:{record.id}]"


def _remember_preview(args: Any) -> ToolPreview:
    text = str(args.get("text", ""))
    return ToolPreview(kind="text", summary=f"remember: {text[:80]}", body=text)


def memory_tools(kb: KnowledgeBase) -> list[BaseTool]:
    """``search_docs`` (read), ``remember`` (write), ``recall`` (read) bound to ``kb``."""

    def search_docs(query: str, k: int = 5) -> str:
        return format_passages(kb, query, k)

    def recall(query: str, k: int = 5) -> str:
        hits = [h for h in kb.memories.recall(query, k) if h.score >= kb.min_score]
        if not hits:
            return "No relevant memories."
        return "\n".join(
            # The fact first: an answer copied from the line starts with it.
            f"{h.memory.text} [memory:{h.memory.id}, stored {h.memory.created_at}]"
            for h in hits
        )

    search_tool = StructuredTool.from_function(
        search_docs,
        name="search_docs",
        description=(
            "Search the documents the user ingested (notes, code, manuals). Returns passages "
            "with citations like path:12-30; cite them in your answer."
        ),
        args_schema=SearchDocsArgs,
    )
    recall_tool = StructuredTool.from_function(
        recall,
        name="recall",
        description="Recall facts stored in long-term memory in earlier conversations.",
        args_schema=RecallArgs,
    )
    remember_tool = RememberTool(kb=kb)
    return [
        # passages of ingested documents: someone else's words (untrusted content)
        declare(search_tool, ["read"], untrusted=True),
        declare(remember_tool, ["write"], preview=_remember_preview),
        declare(recall_tool, ["read"]),
    ]
