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

from agentkit.graphs.ledger import SqlLedger

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


class PostgresLedger(SqlLedger):
    """The executed-calls ledger in Postgres (autocommit, like the SQLite one)."""

    _marker = "%s"

    def __init__(self, dsn: str) -> None:
        from psycopg import Connection

        self._conn: Any = Connection.connect(dsn, autocommit=True, prepare_threshold=0)
        self._lock = threading.Lock()
        with self._lock, setup_lock(self._conn):
            for statement in _SCHEMA:
                self._conn.execute(statement)
