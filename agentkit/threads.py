"""Threads: list, show, history, fork, rename, delete.

A thread is a LangGraph ``thread_id`` in the checkpointer. Titles, times and
its :class:`ThreadOrigin` (the workspace its tools act in, the identity of its
tool set and policy file, recorded when it starts) live in a small
``agentkit_threads`` table in the same SQLite file (or in memory for
in-memory checkpointers). Forking copies a checkpoint with its ancestors and
their writes (so the transcript and a pending approval fork too) into a new
thread, which keeps the origin.
"""

from __future__ import annotations

import copy
import functools
import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.graph.state import CompiledStateGraph

from agentkit.claims import ThreadBusyError, ThreadClaims
from agentkit.errors import AgentkitError, storage_fault
from agentkit.graphs.ledger import CallLedger
from agentkit.graphs.state import INTERRUPT
from agentkit.graphs.support import WORKSPACE_KEY
from agentkit.thread_records import (
    CheckpointInfo,
    ThreadInfo,
    ThreadNotFoundError,
    ThreadOrigin,
    ThreadStatus,
    WorkspaceMissingError,
    WorkspaceMove,
    new_thread_id,
    pending_requests,
    unfinished,
    workspace_identity,
)

if TYPE_CHECKING:
    from agentkit.audit import ThreadAudit

__all__ = [
    "CheckpointInfo",
    "ThreadInfo",
    "ThreadBusyError",
    "ThreadNotFoundError",
    "ThreadOrigin",
    "ThreadStatus",
    "ThreadStore",
    "WorkspaceMissingError",
    "WorkspaceMove",
    "new_thread_id",
    "workspace_identity",
]

HISTORY_LIMIT = 50


class _Row(NamedTuple):
    """A thread's row in ``agentkit_threads``."""

    title: str
    created_at: float
    updated_at: float
    origin: ThreadOrigin | None


def _root(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    configurable: dict[str, object] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


P = ParamSpec("P")
R = TypeVar("R")


def _storage_faults(
    method: Callable[Concatenate[ThreadStore, P], R],
) -> Callable[Concatenate[ThreadStore, P], R]:
    """A full disk, a locked or damaged database: one line naming the file."""

    @functools.wraps(method)
    def translated(self: ThreadStore, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as err:
            fault = storage_fault(err, self.location)
            if fault is None:
                raise
            raise fault from None

    return translated


class ThreadStore:
    """Thread operations over a compiled graph and its checkpointer."""

    def __init__(
        self,
        graph: CompiledStateGraph,
        checkpointer: BaseCheckpointSaver,
        ledger: CallLedger | None = None,
        meta_path: Path | None = None,
        on_delete: Callable[[str], None] | None = None,
        busy_timeout_ms: int = 5000,
    ) -> None:
        self.graph = graph
        self.checkpointer = checkpointer
        self.ledger = ledger
        self._on_delete = on_delete
        self._lock = threading.Lock()
        self.location = str(meta_path) if meta_path else "the in-memory thread store"
        self.claims = ThreadClaims(meta_path)
        try:
            self._conn = sqlite3.connect(
                str(meta_path) if meta_path else ":memory:",
                check_same_thread=False,
                isolation_level=None,
            )
            self._create_tables(busy_timeout_ms)
        except (sqlite3.Error, OSError) as err:
            raise (storage_fault(err, self.location) or err) from None

    def _create_tables(self, busy_timeout_ms: int) -> None:
        with self._lock:
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS agentkit_threads (thread_id TEXT PRIMARY KEY, "
                "title TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, updated_at REAL NOT NULL, "
                "extra TEXT NOT NULL DEFAULT '{}', origin TEXT NOT NULL DEFAULT '')"
            )
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(agentkit_threads)")}
            if "origin" not in columns:  # a database from before threads had workspaces
                try:
                    self._conn.execute(
                        "ALTER TABLE agentkit_threads ADD COLUMN origin TEXT NOT NULL DEFAULT ''"
                    )
                except sqlite3.OperationalError as err:  # another process added it first
                    if "duplicate column" not in str(err):
                        raise

    # --- one run at a time ------------------------------------------------------------
    def claim(self, thread_id: str) -> AbstractContextManager[None]:
        """Hold ``thread_id`` for one run (see :class:`ThreadClaims`)."""
        return self.claims.claim(thread_id)

    def running(self, thread_id: str) -> bool:
        """Whether a run of the thread is in progress (here or in another process)."""
        return self.claims.held(thread_id)

    # --- bookkeeping used by Agent --------------------------------------------------
    @_storage_faults
    def touch(self, thread_id: str, title: str = "") -> None:
        """Record activity on a thread; the first call sets its title."""
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO agentkit_threads (thread_id, title, created_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(thread_id) DO UPDATE SET updated_at = excluded.updated_at, "
                "title = CASE WHEN agentkit_threads.title = '' THEN excluded.title ELSE agentkit_threads.title END",
                (thread_id, _title(title), now, now),
            )

    @_storage_faults
    def set_extra(self, thread_id: str, extra: Mapping[str, Any]) -> None:
        """Attach front-end data to a thread (e.g. the CLI's tool list, so
        ``agentkit resume`` rebuilds the same agent)."""
        self.touch(thread_id)
        with self._lock:
            self._conn.execute(
                "UPDATE agentkit_threads SET extra = ? WHERE thread_id = ?",
                (json.dumps(dict(extra)), thread_id),
            )

    @_storage_faults
    def extra(self, thread_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._conn.execute(
                "SELECT extra FROM agentkit_threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        return dict(json.loads(row[0])) if row else {}

    @_storage_faults
    def _meta(self) -> dict[str, _Row]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT thread_id, title, created_at, updated_at, origin FROM agentkit_threads"
            ).fetchall()
        return {r[0]: _Row(r[1], r[2], r[3], _origin(r[4])) for r in rows}

    # --- workspaces -------------------------------------------------------------------
    @_storage_faults
    def origin(self, thread_id: str) -> ThreadOrigin | None:
        """What the thread was started with; None for a thread that recorded
        nothing (one from an older agentkit). A thread whose row is missing
        (e.g. Postgres checkpoints written elsewhere) still names its
        workspace in its checkpoints."""
        with self._lock:
            row = self._conn.execute(
                "SELECT origin FROM agentkit_threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        origin = _origin(row[0]) if row else None
        if origin is not None:
            return origin
        saved = self.checkpointer.get_tuple(_root(thread_id))
        workspace = (saved.metadata or {}).get(WORKSPACE_KEY) if saved else None
        return ThreadOrigin(workspace=str(workspace)) if workspace else None

    @_storage_faults
    def set_origin(self, thread_id: str, origin: ThreadOrigin) -> None:
        """Record what the thread works with (the Agent does, when it starts)."""
        self.touch(thread_id)
        with self._lock:
            self._conn.execute(
                "UPDATE agentkit_threads SET origin = ? WHERE thread_id = ?",
                (origin.model_dump_json(), thread_id),
            )

    def relocate(self, thread_id: str, workspace: str | Path) -> ThreadOrigin:
        """Continue the thread in another directory on purpose: its tools act
        there from now on, and the move is kept in its origin (and the
        checkpoints that follow name the new workspace)."""
        self.get(thread_id)
        target = Path(workspace_identity(workspace))
        if not target.is_dir():
            raise AgentkitError(f"cannot move thread {thread_id} to {workspace}: not a directory")
        origin = self.origin(thread_id) or ThreadOrigin(workspace="")
        if origin.workspace == str(target):
            return origin
        move = WorkspaceMove(
            at=datetime.now(UTC), from_workspace=origin.workspace, to_workspace=str(target)
        )
        moved = origin.model_copy(update={"workspace": str(target), "moves": [*origin.moves, move]})
        self.set_origin(thread_id, moved)
        return moved

    def _checkpointed_ids(self) -> set[str]:
        saver = self.checkpointer
        conn = getattr(saver, "conn", None)
        if isinstance(conn, sqlite3.Connection):
            with getattr(saver, "lock", threading.Lock()):
                return {r[0] for r in conn.execute("SELECT DISTINCT thread_id FROM checkpoints")}
        storage = getattr(saver, "storage", None)
        if isinstance(storage, dict):
            return {str(k) for k, v in storage.items() if v}
        return {str(t.config["configurable"]["thread_id"]) for t in saver.list(None)}

    # --- public operations -------------------------------------------------------------
    @_storage_faults
    def exists(self, thread_id: str) -> bool:
        return (
            self.checkpointer.get_tuple(_root(thread_id)) is not None or thread_id in self._meta()
        )

    @_storage_faults
    def list(self, workspace: str | Path | None = None) -> list[ThreadInfo]:
        """All threads, most recently active first; with ``workspace``, only
        those whose tools act in that directory."""
        meta = self._meta()
        ids = set(meta) | self._checkpointed_ids()
        wanted = workspace_identity(workspace) if workspace is not None else None
        infos: list[ThreadInfo] = []
        for thread_id in ids:
            row = meta.get(thread_id)
            if wanted and row and row.origin and row.origin.workspace != wanted:
                continue  # known to work elsewhere: skip reading its state
            info = self._info(thread_id, row)
            if wanted is None or info.workspace == wanted:
                infos.append(info)
        return sorted(
            infos, key=lambda i: i.updated_at or datetime.min.replace(tzinfo=UTC), reverse=True
        )

    @_storage_faults
    def get(self, thread_id: str) -> ThreadInfo:
        meta = self._meta().get(thread_id)
        if meta is None and self.checkpointer.get_tuple(_root(thread_id)) is None:
            raise ThreadNotFoundError(
                f"no thread {thread_id!r}", hint="`agentkit threads list` shows them"
            )
        return self._info(thread_id, meta)

    @_storage_faults
    def messages(self, thread_id: str) -> list[AnyMessage]:
        self.get(thread_id)
        snapshot = self.graph.get_state(_root(thread_id))
        return list(snapshot.values.get("messages", []))

    @_storage_faults
    def history(self, thread_id: str, limit: int | None = HISTORY_LIMIT) -> list[CheckpointInfo]:
        """The newest ``limit`` checkpoints (all with ``None``), newest first;
        any ``checkpoint_id`` can be forked. Each one's transcript is rebuilt
        from its ancestors, so a long thread's full history is slow to read."""
        self.get(thread_id)
        out: list[CheckpointInfo] = []
        for snap in self.graph.get_state_history(_root(thread_id), limit=limit):
            messages = snap.values.get("messages", []) if isinstance(snap.values, dict) else []
            last = str(messages[-1].content)[:80] if messages else ""
            parent = (snap.parent_config or {}).get("configurable", {}).get("checkpoint_id")
            out.append(
                CheckpointInfo(
                    checkpoint_id=snap.config["configurable"]["checkpoint_id"],
                    parent_id=parent,
                    step=(snap.metadata or {}).get("step", -1),
                    source=str((snap.metadata or {}).get("source", "")),
                    created_at=snap.created_at or "",
                    next=list(snap.next),
                    n_messages=len(messages),
                    last_message=last,
                    workspace=str((snap.metadata or {}).get(WORKSPACE_KEY, "")),
                )
            )
        return out

    @_storage_faults
    def fork(
        self,
        thread_id: str,
        checkpoint_id: str,
        title: str | None = None,
        workspace: str | Path | None = None,
    ) -> str:
        """A new thread starting at ``checkpoint_id`` of ``thread_id``; returns its id.
        Resuming the fork replays from there (its tool calls run again), in
        the original's workspace, or in ``workspace`` (recorded as a move)."""
        source = self.checkpointer.get_tuple(_root(thread_id, checkpoint_id))
        if source is None:
            raise ThreadNotFoundError(f"no checkpoint {checkpoint_id!r} in thread {thread_id!r}")
        # The transcript is a delta channel: a checkpoint holds only what its
        # step added, and reading it replays the ancestors' writes. So the
        # fork gets the whole ancestry (checkpoints and their writes), like a
        # branch in git, and its history shows where it came from.
        chain = [source]
        while chain[-1].parent_config is not None:
            parent = self.checkpointer.get_tuple(chain[-1].parent_config)
            if parent is None:
                break
            chain.append(parent)
        new_id = new_thread_id()
        saved: RunnableConfig = _root(new_id)
        for ancestor in reversed(chain[1:]):
            saved = self._copy_checkpoint(ancestor, saved, ancestor.metadata or {})
            self._copy_writes(ancestor, saved, keep=None)
        metadata = {
            **(source.metadata or {}),
            "source": "fork",
            "forked_from": f"{thread_id}@{checkpoint_id}",
        }
        saved = self._copy_checkpoint(source, saved, metadata)
        # Only pending interrupts travel from the fork point: the fork is the
        # state *before* the next step ran, so an approval answered later in
        # the original thread is pending again in the fork (and any step after
        # it replays).
        self._copy_writes(source, saved, keep=INTERRUPT)
        old = self._meta().get(thread_id)
        self.touch(new_id, title or f"fork of {old.title if old and old.title else thread_id}")
        extra = self.extra(thread_id)
        if extra:
            self.set_extra(new_id, extra)
        origin = self.origin(thread_id)
        if origin is not None:
            self.set_origin(new_id, origin)
        if workspace is not None:
            self.relocate(new_id, workspace)
        return new_id

    def _copy_checkpoint(
        self, source: CheckpointTuple, parent: RunnableConfig, metadata: Mapping[str, Any]
    ) -> RunnableConfig:
        checkpoint = copy.deepcopy(source.checkpoint)
        return self.checkpointer.put(
            parent, checkpoint, dict(metadata), dict(checkpoint["channel_versions"])
        )

    def _copy_writes(
        self, source: CheckpointTuple, saved: RunnableConfig, keep: str | None
    ) -> None:
        by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for task_id, channel, value in source.pending_writes or ():
            if keep is None or channel == keep:
                by_task[task_id].append((channel, value))
        for task_id, writes in by_task.items():
            self.checkpointer.put_writes(saved, writes, task_id)

    @_storage_faults
    def rename(self, thread_id: str, title: str) -> None:
        self.get(thread_id)
        self.touch(thread_id)
        with self._lock:
            self._conn.execute(
                "UPDATE agentkit_threads SET title = ? WHERE thread_id = ?", (title, thread_id)
            )

    def audit(self, thread_id: str) -> ThreadAudit:
        """The thread's audit record: transcript, every tool call with its
        policy verdict, decision, who decided and when, outputs, usage, forks
        (see :mod:`agentkit.audit`)."""
        from agentkit.audit import build_audit

        return build_audit(self, thread_id)

    @_storage_faults
    def delete(self, thread_id: str) -> None:
        """Delete the thread's checkpoints, ledger entries, title and thread rules."""
        self.get(thread_id)
        self.checkpointer.delete_thread(thread_id)
        if self.ledger is not None:
            self.ledger.delete_thread(thread_id)
        with self._lock:
            self._conn.execute("DELETE FROM agentkit_threads WHERE thread_id = ?", (thread_id,))
        self.claims.forget(thread_id)
        if self._on_delete is not None:
            self._on_delete(thread_id)

    # --- helpers -------------------------------------------------------------------------
    def _info(self, thread_id: str, meta: _Row | None) -> ThreadInfo:
        snapshot = self.graph.get_state(_root(thread_id))
        values = snapshot.values if isinstance(snapshot.values, dict) else {}
        pending = pending_requests(snapshot)
        status: ThreadStatus
        if self.running(thread_id):
            status = "running"
        elif pending:
            status = "needs_approval"
        elif values.get("status") in ("finished", "stopped") and not unfinished(snapshot):
            status = values["status"]
        elif unfinished(snapshot):
            status = "interrupted"
        else:
            status = "empty"
        created = meta.created_at if meta else None
        updated = meta.updated_at if meta else None
        if updated is None and snapshot.created_at:
            updated = datetime.fromisoformat(snapshot.created_at).timestamp()
        origin = meta.origin if meta else None
        workspace = origin.workspace if origin else (snapshot.metadata or {}).get(WORKSPACE_KEY)
        pending = [r.in_workspace(str(workspace or "")) for r in pending]
        return ThreadInfo(
            thread_id=thread_id,
            title=(meta.title if meta else "") or _title(values.get("task", "")),
            created_at=datetime.fromtimestamp(created, UTC) if created else None,
            updated_at=datetime.fromtimestamp(updated, UTC) if updated else None,
            status=status,
            stop_reason=values.get("stop_reason", "") if status == "stopped" else "",
            task=values.get("task", ""),
            answer=values.get("answer", ""),
            n_messages=len(values.get("messages", [])),
            pending=pending,
            workspace=str(workspace or ""),
        )

    def close(self) -> None:
        self._conn.close()


def _origin(raw: str) -> ThreadOrigin | None:
    return ThreadOrigin.model_validate_json(raw) if raw else None


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."
