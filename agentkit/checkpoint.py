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

import os
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from agentkit.config import Settings
from agentkit.errors import StorageFault, StoreError, storage_fault
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
    busy_timeout_ms: int = 5000
    """How long a write waits for another process's lock before it fails."""


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file threads live in, or None when they live elsewhere."""
    spec = settings.checkpointer
    if spec is None:
        return settings.resolved_data_dir() / DEFAULT_DB_NAME
    if spec == "memory" or spec.startswith(POSTGRES_SCHEMES):
        return None
    return Path(spec).expanduser().resolve()


class StorageWarning(UserWarning):
    """Something about the stored threads the user should know, that does not
    stop the command (the CLI prints it as one ``warning:`` line)."""


def open_sqlite_saver(path: Path, busy_timeout_ms: int = 5000) -> BaseCheckpointSaver:
    from langgraph.checkpoint.sqlite import SqliteSaver

    if path.is_file() and path.stat().st_size == 0:
        warnings.warn(
            f"the thread database {path} was empty (0 bytes): if it held threads, it was "
            "truncated; restore it from a backup, or carry on with no threads",
            StorageWarning,
            stacklevel=2,
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        saver = SqliteSaver(conn)
        saver.setup()  # switches the file to WAL
        # In WAL mode NORMAL survives a killed process (only power loss can
        # drop the last commits) and skips an fsync per checkpoint, which
        # otherwise dominates the per-step overhead.
        conn.execute("PRAGMA synchronous=NORMAL")
    except (OSError, sqlite3.Error) as err:
        raise open_failure(err, path) from None
    return saver


def open_failure(err: BaseException, path: Path) -> StoreError:
    """Why ``path`` could not be opened, in one line that names the cause
    (SQLite only says "unable to open database file")."""
    fault = storage_fault(err, path)
    if fault is None:
        return StoreError(f"cannot open the thread database {path}: {err}")
    if fault.problem != "unopenable":
        return fault
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if path.is_dir():
        return StoreError(
            f"cannot open the thread database {path}: it is a directory",
            hint="set checkpointer to a file path",
        )
    if folder is not None and not folder.is_dir():
        return StoreError(f"cannot open the thread database {path}: {folder} is not a directory")
    if folder is not None and not os.access(folder, os.W_OK):
        return StorageFault(str(folder), "read_only")
    if folder is not None and shutil.disk_usage(folder).free == 0:
        return StorageFault(str(folder), "full")
    return fault


@contextmanager
def storage_faults(storage: ThreadStorage) -> Iterator[None]:
    """A full disk, a read-only, locked or damaged database: one line that
    names the file and the fix (:class:`StorageFault`). SQLite rolled the
    failed write back, so the thread's last saved step stands."""
    try:
        yield
    except (sqlite3.Error, OSError) as err:
        fault = storage_fault(err, storage.meta_path or "the thread store")
        if fault is None:
            raise
        # A commit that failed (disk full) leaves its transaction open, and its
        # lock would block every later write of this process: roll it back.
        conn = getattr(storage.checkpointer, "conn", None)
        if isinstance(conn, sqlite3.Connection) and conn.in_transaction:
            try:
                conn.rollback()
            except sqlite3.Error:
                pass
        raise fault from None


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
    timeout = int(settings.db_busy_timeout_s * 1000)
    saver = open_sqlite_saver(path, timeout)
    try:
        ledger = SqliteLedger(path, busy_timeout_ms=timeout)
    except (OSError, sqlite3.Error) as err:
        raise open_failure(err, path) from None
    return ThreadStorage(saver, ledger, path, timeout)
