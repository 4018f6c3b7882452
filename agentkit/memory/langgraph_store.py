"""agentkit's long-term memory as a LangGraph ``BaseStore``.

LangGraph-native code (``store.put``, ``store.search(query=...)``, a graph
compiled with ``store=``) reads and writes the same memories the ``remember``
and ``recall`` tools do. Namespaces are stored joined with "/"; a value's
``"text"`` field (or the whole value as JSON) is what gets embedded.

Memories are a small collection (hundreds to thousands of entries), so
namespace-prefix and value filters are applied in Python over the collection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

from agentkit.memory.memories import MemoryRecord, MemoryStore

SEPARATOR = "/"


def _join(namespace: tuple[str, ...]) -> str:
    return SEPARATOR.join(namespace)


def _split(namespace: str) -> tuple[str, ...]:
    return tuple(namespace.split(SEPARATOR)) if namespace else ()


def _item_id(namespace: tuple[str, ...], key: str) -> str:
    return "lg-" + hashlib.sha256(f"{_join(namespace)}\0{key}".encode()).hexdigest()[:20]


def _value(record: MemoryRecord) -> dict[str, Any]:
    if record.value_json:
        return json.loads(record.value_json)
    return {"text": record.text}  # stored by the remember tool


def _time(record: MemoryRecord) -> datetime:
    return datetime.fromisoformat(record.created_at)


def _matches(value: dict[str, Any], conditions: dict[str, Any] | None) -> bool:
    return all(value.get(k) == v for k, v in (conditions or {}).items())


class KnowledgeBaseStore(BaseStore):
    """A ``BaseStore`` over :class:`~agentkit.memory.memories.MemoryStore`."""

    def __init__(self, memories: MemoryStore) -> None:
        self.memories = memories

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return [self._run(op) for op in ops]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return self.batch(ops)

    def _run(self, op: Op) -> Result:
        if isinstance(op, GetOp):
            return self._get(op)
        if isinstance(op, PutOp):
            self._put(op)
            return None
        if isinstance(op, SearchOp):
            return self._search(op)
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise TypeError(f"unsupported store operation {type(op).__name__}")

    def _get(self, op: GetOp) -> Item | None:
        record = self.memories.get(_item_id(op.namespace, op.key))
        if record is None:
            return None
        return Item(
            value=_value(record),
            key=op.key,
            namespace=op.namespace,
            created_at=_time(record),
            updated_at=_time(record),
        )

    def _put(self, op: PutOp) -> None:
        memory_id = _item_id(op.namespace, op.key)
        if op.value is None:
            self.memories.forget(memory_id)
            return
        value = dict(op.value)
        text = value["text"] if isinstance(value.get("text"), str) else json.dumps(value)
        self.memories.remember(
            text,
            namespace=_join(op.namespace),
            key=op.key,
            memory_id=memory_id,
            value_json=json.dumps(value),
        )

    def _search(self, op: SearchOp) -> list[SearchItem]:
        prefix = op.namespace_prefix
        candidates = []
        for record, vector in self.memories.records_with_vectors():
            namespace = _split(record.namespace)
            value = _value(record)
            if namespace[: len(prefix)] == prefix and _matches(value, op.filter):
                candidates.append((record, namespace, value, vector))
        scores: list[float | None] = [None] * len(candidates)
        if op.query and candidates:
            query = np.asarray(self.memories.embeddings.embed_query(op.query), dtype=np.float32)
            matrix = np.asarray([c[3] for c in candidates], dtype=np.float32)
            sims = (
                matrix
                @ query
                / (
                    np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
                    + 1e-12
                )
            )
            scores = [float(s) for s in sims]
            order = sorted(range(len(candidates)), key=lambda i: -sims[i])
        else:
            order = sorted(
                range(len(candidates)), key=lambda i: candidates[i][0].created_at, reverse=True
            )
        page = order[op.offset : op.offset + op.limit]
        return [
            SearchItem(
                namespace=candidates[i][1],
                key=candidates[i][0].key or candidates[i][0].id,
                value=candidates[i][2],
                created_at=_time(candidates[i][0]),
                updated_at=_time(candidates[i][0]),
                score=scores[i],
            )
            for i in page
        ]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        namespaces = {_split(r.namespace) for r in self.memories.list()}
        selected = []
        for namespace in namespaces:
            if all(
                _condition_holds(namespace, c.match_type, c.path) for c in op.match_conditions or ()
            ):
                selected.append(namespace[: op.max_depth] if op.max_depth else namespace)
        unique = sorted(set(selected))
        return unique[op.offset : op.offset + op.limit]


def _condition_holds(namespace: tuple[str, ...], match_type: str, path: tuple[str, ...]) -> bool:
    if len(path) > len(namespace):
        return False
    part = (
        namespace[: len(path)]
        if match_type == "prefix"
        else namespace[len(namespace) - len(path) :]
    )
    return all(p == "*" or p == n for p, n in zip(path, part, strict=True))
