"""Postgres pieces of the scale-out setup (``checkpointer = "postgresql://..."``).

The checkpoints go to LangGraph's ``PostgresSaver`` (see
:mod:`agentkit.checkpoint`). The executed-calls ledger, which makes a side
effect run at most once when a run is resumed, must be as shared as the
checkpoints: a run killed on one machine and resumed on another has to see
which calls already started. :class:`PostgresLedger` is
:class:`~agentkit.graphs.ledger.SqliteLedger`'s table in the same database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agentkit.graphs.ledger import LedgerEntry

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS agentkit_executed_calls (
        key TEXT PRIMARY KEY, thread_id TEXT NOT NULL, tool TEXT NOT NULL,
        state TEXT NOT NULL, output TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT '', duration_s DOUBLE PRECISION NOT NULL DEFAULT 0,
        updated_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS agentkit_executed_calls_thread ON agentkit_executed_calls(thread_id)",
)


# pg_advisory_lock key for schema setup (any constant; "agentkit" in ASCII).
SETUP_LOCK_KEY = 0x6167656E746B6974
SETUP_LOCK_TIMEOUT_S = 60.0


@contextmanager
def setup_lock(conn: Any) -> Iterator[None]:
    """Serialise schema setup across processes. Several agentkit processes
    starting at once on a fresh database otherwise race in ``CREATE TABLE IF
    NOT EXISTS`` and in PostgresSaver's migrations table (duplicate key).

    Polls ``pg_try_advisory_lock`` instead of blocking in
    ``pg_advisory_lock``: a waiter blocked in a statement holds a transaction
    open, and the saver's ``CREATE INDEX CONCURRENTLY`` waits for every open
    transaction, so blocking waiters deadlock with the holder."""
    deadline = time.monotonic() + SETUP_LOCK_TIMEOUT_S
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", (SETUP_LOCK_KEY,)).fetchone()[0]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"schema setup lock still held after {SETUP_LOCK_TIMEOUT_S:.0f} s")
        time.sleep(0.05)
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))


class PostgresLedger:
    """The executed-calls ledger in Postgres; every write is committed
    (autocommit) before the call returns, like the SQLite ledger."""

    def __init__(self, dsn: str) -> None:
        from psycopg import Connection

        self._conn: Any = Connection.connect(dsn, autocommit=True, prepare_threshold=0)
        self._lock = threading.Lock()
        with self._lock, setup_lock(self._conn):
            for statement in _SCHEMA:
                self._conn.execute(statement)

    def get(self, key: str) -> LedgerEntry | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT key, tool, state, output, status, duration_s "
                "FROM agentkit_executed_calls WHERE key = %s",
                (key,),
            ).fetchone()
        return LedgerEntry(*row) if row else None

    def start(self, key: str, thread_id: str, tool: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO agentkit_executed_calls (key, thread_id, tool, state, output, status, "
                "duration_s, updated_at) VALUES (%s, %s, %s, 'started', '', '', 0, %s) "
                "ON CONFLICT (key) DO UPDATE SET thread_id = excluded.thread_id, tool = excluded.tool, "
                "state = 'started', output = '', status = '', duration_s = 0, updated_at = excluded.updated_at",
                (key, thread_id, tool, time.time()),
            )

    def finish(self, key: str, output: str, status: str, duration_s: float) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE agentkit_executed_calls SET state = 'done', output = %s, status = %s, "
                "duration_s = %s, updated_at = %s WHERE key = %s",
                (output, status, duration_s, time.time(), key),
            )

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM agentkit_executed_calls WHERE thread_id = %s", (thread_id,))

    def thread_calls(self, thread_id: str) -> list[LedgerEntry]:
        """Every recorded call of a thread (diagnostics, the load benchmark)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, tool, state, output, status, duration_s FROM agentkit_executed_calls "
                "WHERE thread_id = %s ORDER BY updated_at",
                (thread_id,),
            ).fetchall()
        return [LedgerEntry(*row) for row in rows]

    def close(self) -> None:
        self._conn.close()
