"""Long-term memories: short texts the agent chose to keep, with provenance
(which thread, when, and which message or tool call they came from)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection


class MemoryRecord(BaseModel):
    id: str
    text: str
    created_at: str  # ISO 8601, UTC
    thread_id: str | None = None
    message_id: str | None = None  # the tool call or message that stored it
    namespace: str = "default"  # LangGraph BaseStore namespace, joined with "/"
    key: str | None = None  # LangGraph BaseStore key
    value_json: str | None = None  # LangGraph BaseStore value, as JSON

    @property
    def source(self) -> str:
        return f"memory:{self.id}"


class MemoryHit(BaseModel):
    memory: MemoryRecord
    score: float  # cosine similarity


def _to_metadata(record: MemoryRecord) -> dict[str, str]:
    # Chroma metadata values cannot be None: leave absent keys out.
    fields = record.model_dump(exclude={"id", "text"}, exclude_none=True)
    return {k: str(v) for k, v in fields.items()}


def _from_chroma(memory_id: str, text: str | None, meta: dict[str, object] | None) -> MemoryRecord:
    meta = dict(meta or {})
    return MemoryRecord(
        id=memory_id,
        text=text or "",
        created_at=str(meta.get("created_at", "")),
        thread_id=_opt(meta.get("thread_id")),
        message_id=_opt(meta.get("message_id")),
        namespace=str(meta.get("namespace", "default")),
        key=_opt(meta.get("key")),
        value_json=_opt(meta.get("value_json")),
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


class MemoryStore:
    def __init__(self, collection: Collection, embeddings: Embeddings) -> None:
        self.collection = collection
        self.embeddings = embeddings

    def remember(
        self,
        text: str,
        *,
        thread_id: str | None = None,
        message_id: str | None = None,
        namespace: str = "default",
        key: str | None = None,
        memory_id: str | None = None,
        value_json: str | None = None,
        created_at: str | None = None,
    ) -> MemoryRecord:
        text = text.strip()
        if not text:
            raise ValueError("a memory needs some text")
        record = MemoryRecord(
            id=memory_id or uuid.uuid4().hex[:12],
            text=text,
            created_at=created_at or datetime.now(UTC).isoformat(timespec="seconds"),
            thread_id=thread_id,
            message_id=message_id,
            namespace=namespace,
            key=key,
            value_json=value_json,
        )
        self.collection.upsert(
            ids=[record.id],
            embeddings=[self.embeddings.embed_query(text)],
            documents=[text],
            metadatas=[_to_metadata(record)],
        )
        return record

    def recall(self, query: str, k: int = 5, namespace: str | None = None) -> list[MemoryHit]:
        return self.recall_vector(self.embeddings.embed_query(query), k, namespace)

    def recall_vector(
        self, vector: Sequence[float], k: int = 5, namespace: str | None = None
    ) -> list[MemoryHit]:
        total = self.collection.count()
        if k <= 0 or total == 0:
            return []
        result = self.collection.query(
            query_embeddings=[list(vector)],
            n_results=min(k, total),
            where={"namespace": namespace} if namespace is not None else None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            MemoryHit(memory=_from_chroma(i, t, m), score=1.0 - float(d))  # type: ignore[arg-type]
            for i, t, m, d in zip(
                result["ids"][0],
                (result["documents"] or [[]])[0],
                (result["metadatas"] or [[]])[0],
                (result["distances"] or [[]])[0],
                strict=True,
            )
        ]

    def get(self, memory_id: str) -> MemoryRecord | None:
        result = self.collection.get(ids=[memory_id], include=["documents", "metadatas"])
        if not result["ids"]:
            return None
        return _from_chroma(
            result["ids"][0],
            (result["documents"] or [None])[0],
            (result["metadatas"] or [None])[0],  # type: ignore[arg-type]
        )

    def list(self, limit: int | None = None, namespace: str | None = None) -> list[MemoryRecord]:
        """Memories, newest first."""
        result = self.collection.get(
            where={"namespace": namespace} if namespace is not None else None,
            include=["documents", "metadatas"],
        )
        records = [
            _from_chroma(i, t, m)  # type: ignore[arg-type]
            for i, t, m in zip(
                result["ids"], result["documents"] or [], result["metadatas"] or [], strict=True
            )
        ]
        records.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return records[:limit] if limit is not None else records

    def forget(self, memory_id: str) -> bool:
        if self.get(memory_id) is None:
            return False
        self.collection.delete(ids=[memory_id])
        return True

    def records_with_vectors(self) -> list[tuple[MemoryRecord, list[float]]]:
        """Every memory with its vector (for the LangGraph store's filtering)."""
        result = self.collection.get(include=["documents", "metadatas", "embeddings"])
        vectors = result["embeddings"] if result["embeddings"] is not None else []
        return [
            (_from_chroma(i, t, m), list(v))  # type: ignore[arg-type]
            for i, t, m, v in zip(
                result["ids"],
                result["documents"] or [],
                result["metadatas"] or [],
                vectors,
                strict=True,
            )
        ]

    def count(self) -> int:
        return self.collection.count()
