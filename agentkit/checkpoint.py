"""Where threads are stored: a LangGraph checkpointer built from settings.

- unset ``checkpointer`` setting: SQLite at ``<data_dir>/threads.sqlite``;
- a path (``*.sqlite``, ``*.db``): SQLite there;
- ``memory``: in-process only (tests, throwaway runs);
- ``postgres://`` / ``postgresql://``: LangGraph's Postgres saver, for several
  processes or LangGraph Server (needs ``pip install langgraph-checkpoint-postgres``).

The executed-calls ledger (exactly-once side effects) lives next to the
checkpoints: a table in the same SQLite file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from agentkit.config import Settings
from agentkit.errors import StoreError
from agentkit.graphs.ledger import CallLedger, MemoryLedger, SqliteLedger

POSTGRES_SCHEMES = ("postgres://", "postgresql://")
DEFAULT_DB_NAME = "threads.sqlite"


@dataclass
class ThreadStorage:
    """A checkpointer with its ledger and the SQLite file holding thread
    titles (``None`` path: in memory)."""

    checkpointer: BaseCheckpointSaver
    ledger: CallLedger
    meta_path: Path | None


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file threads live in, or None when they live elsewhere."""
    spec = settings.checkpointer
    if spec is None:
        return settings.resolved_data_dir() / DEFAULT_DB_NAME
    if spec == "memory" or spec.startswith(POSTGRES_SCHEMES):
        return None
    return Path(spec).expanduser().resolve()


def open_sqlite_saver(path: Path) -> BaseCheckpointSaver:
    from langgraph.checkpoint.sqlite import SqliteSaver

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        saver = SqliteSaver(conn)
        saver.setup()  # switches the file to WAL
        # In WAL mode NORMAL survives a killed process (only power loss can
        # drop the last commits) and skips an fsync per checkpoint, which
        # otherwise dominates the per-step overhead.
        conn.execute("PRAGMA synchronous=NORMAL")
    except (OSError, sqlite3.Error) as err:
        raise StoreError(f"cannot open the thread database {path}: {err}") from None
    return saver


def open_postgres_saver(dsn: str) -> BaseCheckpointSaver:
    """Hook for scale-out: LangGraph's Postgres saver over ``dsn``."""
    try:
        from langgraph.checkpoint.postgres import PostgresSaver  # type: ignore[import-not-found]
        from psycopg import Connection  # type: ignore[import-not-found]
    except ImportError:
        raise StoreError(
            "a postgres:// checkpointer needs the Postgres saver",
            hint="pip install langgraph-checkpoint-postgres psycopg[binary]",
        ) from None
    try:
        from agentkit.postgres import setup_lock

        conn = Connection.connect(dsn, autocommit=True, prepare_threshold=0)
        saver = PostgresSaver(conn)
        with setup_lock(conn):  # several processes may start at once
            saver.setup()
    except Exception as err:  # noqa: BLE001 - any connection failure is the user's to fix
        raise StoreError(f"cannot connect to the checkpoint database: {err}") from None
    return saver


def open_storage(settings: Settings) -> ThreadStorage:
    """Checkpointer + ledger + metadata location for ``settings``."""
    spec = settings.checkpointer
    if spec == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        return ThreadStorage(InMemorySaver(), MemoryLedger(), None)
    if spec is not None and spec.startswith(POSTGRES_SCHEMES):
        # Checkpoints and the ledger are shared in Postgres; thread titles
        # stay in a local SQLite file (listing still finds every thread from
        # the checkpoints, titled by its task).
        from agentkit.postgres import PostgresLedger

        saver = open_postgres_saver(spec)
        local = settings.resolved_data_dir() / "threads-local.sqlite"
        local.parent.mkdir(parents=True, exist_ok=True)
        return ThreadStorage(saver, PostgresLedger(spec), local)
    path = sqlite_path(settings)
    assert path is not None
    saver = open_sqlite_saver(path)
    return ThreadStorage(saver, SqliteLedger(path), path)
