"""The agent's long-term knowledge: documents (RAG) and memories in one store.

:class:`KnowledgeBase` is what the agent core uses: ``retrieve()`` implements
the plan node's ``ContextSource`` protocol, ``tools()`` gives the model
``search_docs``, ``remember`` and ``recall``.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from agentkit.events import ContextItem
from agentkit.memory.documents import DocumentIndex
from agentkit.memory.memories import MemoryStore
from agentkit.memory.store import (
    DOCUMENTS_COLLECTION,
    FILES_COLLECTION,
    MANIFEST_INFO_NAME,
    MEMORIES_COLLECTION,
    EmbedderInfo,
    VectorStore,
)
from agentkit.models.embedder import LlamaEmbedder, embedder_info

if TYPE_CHECKING:
    from agentkit.config import Settings

# Below this cosine similarity a memory or chunk is noise, not context.
DEFAULT_MIN_SCORE = 0.25


class KnowledgeBase:
    """Documents and memories over one embedder and one Chroma store."""

    def __init__(
        self,
        store: VectorStore,
        embeddings: Embeddings,
        *,
        info: EmbedderInfo | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        owns_embeddings: bool = False,
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.info = info or embedder_info(embeddings)
        self.min_score = min_score
        self._owns_embeddings = owns_embeddings
        try:
            self.documents = DocumentIndex(
                store.collection(DOCUMENTS_COLLECTION, self.info),
                store.collection(FILES_COLLECTION, EmbedderInfo(MANIFEST_INFO_NAME, 1)),
                embeddings,
            )
            self.memories = MemoryStore(
                store.collection(MEMORIES_COLLECTION, self.info), embeddings
            )
        except Exception:
            store.close()
            raise

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        embeddings: Embeddings | None = None,
        data_dir: Path | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> KnowledgeBase:
        """Open the store named by ``settings`` (embedded and locked, or a
        server) with ``embeddings`` or the configured GGUF embedder."""
        if settings is None:
            from agentkit.config import load_settings

            settings = load_settings()
        owns = embeddings is None
        # Load the embedder first: a bad model path should not take the lock.
        if embeddings is None:
            from agentkit.models.factory import make_embeddings

            embeddings = make_embeddings(settings)  # in process, or embed_url's server
        info = embedder_info(embeddings)
        store = VectorStore.open(data_dir or settings.resolved_data_dir(), settings.chroma_url)
        return cls(store, embeddings, info=info, min_score=min_score, owns_embeddings=owns)

    # --- the plan node's ContextSource ------------------------------------------------

    def retrieve(self, query: str, k: int) -> list[ContextItem]:
        """The ``k`` most relevant memories and document chunks, best first."""
        if k <= 0 or not query.strip():
            return []
        vector = self.embeddings.embed_query(query)
        scored = [
            (
                h.score,
                ContextItem(
                    kind="memory", text=h.memory.text, source=h.memory.source, score=h.score
                ),
            )
            for h in self.memories.recall_vector(vector, k)
        ] + [
            (h.score, ContextItem(kind="document", text=h.text, source=h.citation, score=h.score))
            for h in self.documents.search_vector(vector, k)
        ]
        scored.sort(key=lambda pair: pair[0], reverse=True)
        return [item for score, item in scored if score >= self.min_score][:k]

    def as_langgraph_store(self) -> object:
        """The memories as a LangGraph ``BaseStore``."""
        from agentkit.memory.langgraph_store import KnowledgeBaseStore

        return KnowledgeBaseStore(self.memories)

    def close(self) -> None:
        self.store.close()
        if self._owns_embeddings and isinstance(self.embeddings, LlamaEmbedder):
            self.embeddings.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
