"""The executed-calls ledger: what makes side effects run at most once.

LangGraph re-runs an interrupted node from its start. The execute node writes
a ``started`` record before a call runs and a ``done`` record (with the output)
right after, each committed at once, before the step's checkpoint. On a re-run
a ``done`` call reuses its stored output; a ``started`` call with side effects
is not run again (it may have partly run) and the model is told so.

Keys are ``thread_id/message_id/call_id``: a forked thread has a new id, so
replaying a fork runs its calls again, as time travel should.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

LedgerState = Literal["started", "done"]


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    tool: str
    state: LedgerState
    output: str = ""
    status: str = ""
    duration_s: float = 0.0


class CallLedger(Protocol):
    def get(self, key: str) -> LedgerEntry | None: ...
    def start(self, key: str, thread_id: str, tool: str) -> None: ...
    def finish(self, key: str, output: str, status: str, duration_s: float) -> None: ...
    def delete_thread(self, thread_id: str) -> None: ...


class MemoryLedger:
    """For in-memory checkpointers: as durable as they are."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, LedgerEntry]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> LedgerEntry | None:
        with self._lock:
            found = self._entries.get(key)
        return found[1] if found else None

    def start(self, key: str, thread_id: str, tool: str) -> None:
        with self._lock:
            self._entries[key] = (thread_id, LedgerEntry(key, tool, "started"))

    def finish(self, key: str, output: str, status: str, duration_s: float) -> None:
        with self._lock:
            thread_id, entry = self._entries[key]
            self._entries[key] = (
                thread_id,
                LedgerEntry(key, entry.tool, "done", output, status, duration_s),
            )

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            for key in [k for k, (t, _) in self._entries.items() if t == thread_id]:
                del self._entries[key]


class SqlLedger:
    """The ledger table over a DB-API connection in autocommit mode: every
    write is committed before the call returns. SQLite and Postgres share
    these statements; only the parameter marker differs."""

    _conn: Any
    _lock: threading.Lock
    _marker = "?"

    def _execute(self, sql: str, params: tuple[object, ...]) -> Any:
        return self._conn.execute(sql.replace("?", self._marker), params)

    def get(self, key: str) -> LedgerEntry | None:
        with self._lock:
            row = self._execute(
                "SELECT key, tool, state, output, status, duration_s "
                "FROM agentkit_executed_calls WHERE key = ?",
                (key,),
            ).fetchone()
        return LedgerEntry(*row) if row else None

    def start(self, key: str, thread_id: str, tool: str) -> None:
        with self._lock:
            self._execute(
                "INSERT INTO agentkit_executed_calls (key, thread_id, tool, state, output, status, "
                "duration_s, updated_at) VALUES (?, ?, ?, 'started', '', '', 0, ?) "
                "ON CONFLICT (key) DO UPDATE SET thread_id = excluded.thread_id, tool = excluded.tool, "
                "state = 'started', output = '', status = '', duration_s = 0, updated_at = excluded.updated_at",
                (key, thread_id, tool, time.time()),
            )

    def finish(self, key: str, output: str, status: str, duration_s: float) -> None:
        with self._lock:
            self._execute(
                "UPDATE agentkit_executed_calls SET state = 'done', output = ?, status = ?, "
                "duration_s = ?, updated_at = ? WHERE key = ?",
                (output, status, duration_s, time.time(), key),
            )

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            self._execute("DELETE FROM agentkit_executed_calls WHERE thread_id = ?", (thread_id,))

    def thread_calls(self, thread_id: str) -> list[LedgerEntry]:
        """Every recorded call of a thread (diagnostics, the load benchmark)."""
        with self._lock:
            rows = self._execute(
                "SELECT key, tool, state, output, status, duration_s FROM agentkit_executed_calls "
                "WHERE thread_id = ? ORDER BY updated_at",
                (thread_id,),
            ).fetchall()
        return [LedgerEntry(*row) for row in rows]

    def close(self) -> None:
        self._conn.close()


class SqliteLedger(SqlLedger):
    """A table next to the checkpoints (same file by default)."""

    def __init__(self, path: Path | str, busy_timeout_ms: int = 5000) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
            self._conn.execute(
                """CREATE TABLE IF NOT EXISTS agentkit_executed_calls (
                    key TEXT PRIMARY KEY, thread_id TEXT NOT NULL, tool TEXT NOT NULL,
                    state TEXT NOT NULL, output TEXT NOT NULL DEFAULT '',
                    status TEXT NOT NULL DEFAULT '', duration_s REAL NOT NULL DEFAULT 0,
                    updated_at REAL NOT NULL)"""
            )
            self._conn.execute(
                "CREATE INDEX IF NOT EXISTS agentkit_executed_calls_thread "
                "ON agentkit_executed_calls(thread_id)"
            )
