"""Long-term memory and documents (RAG) over Chroma, embedded with llama.cpp.

    from agentkit.memory import KnowledgeBase
    with KnowledgeBase.open(settings) as kb:
        kb.documents.ingest(["docs/"])
        kb.retrieve("how do approvals work?", k=5)   # -> list[ContextItem]
        tools = memory_tools(kb)   # agentkit.tools.memory: search_docs, remember, recall

Names are imported lazily so ``import agentkit.memory`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentkit.memory.documents import DocumentHit, DocumentIndex, IngestReport
    from agentkit.memory.knowledge import KnowledgeBase
    from agentkit.memory.memories import MemoryHit, MemoryRecord, MemoryStore
    from agentkit.memory.store import EmbedderInfo, VectorStore
    from agentkit.models.embedder import LlamaEmbedder

_EXPORTS = {
    "KnowledgeBase": "agentkit.memory.knowledge",
    "LlamaEmbedder": "agentkit.models.embedder",
    "DocumentIndex": "agentkit.memory.documents",
    "DocumentHit": "agentkit.memory.documents",
    "IngestReport": "agentkit.memory.documents",
    "MemoryStore": "agentkit.memory.memories",
    "MemoryRecord": "agentkit.memory.memories",
    "MemoryHit": "agentkit.memory.memories",
    "VectorStore": "agentkit.memory.store",
    "EmbedderInfo": "agentkit.models.embedder",
}

__all__ = [
    "DocumentHit",
    "DocumentIndex",
    "EmbedderInfo",
    "IngestReport",
    "KnowledgeBase",
    "LlamaEmbedder",
    "MemoryHit",
    "MemoryRecord",
    "MemoryStore",
    "VectorStore",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentkit.memory' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
