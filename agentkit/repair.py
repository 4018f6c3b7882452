"""The data dir's health, and its repair (``agentkit doctor [--repair]``).

:func:`check_data_dir` reports what can stop agentkit from saving: a data dir
that is not writable, a nearly full disk, a damaged, empty or locked thread
database or vector store. :func:`repair_data_dir` fixes the damaged ones:

- the thread database is backed up (``threads.sqlite.damaged-<time>``, with
  its ``-wal``) and rebuilt from every row that can still be read, table by
  table and, where a table is damaged, row by row;
- the vector store is moved aside (``chroma.damaged-<time>``) and rebuilt:
  the files recorded by ``agentkit ingest`` are indexed again, and the
  memories that can still be read are stored again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agentkit.checkpoint import sqlite_path
from agentkit.config import Settings
from agentkit.errors import storage_problem

CheckStatus = Literal["ok", "warning", "problem"]
LOW_SPACE_BYTES = 100 * 1024 * 1024
INGEST_RECORD = "ingested.json"  # what `agentkit ingest` indexed (paths), for a rebuild
CHROMA_FILE = "chroma.sqlite3"


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    detail: str
    damaged: Path | None = None  # a database --repair can rebuild


@dataclass
class RepairReport:
    lines: list[str] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)


# --- checking ---------------------------------------------------------------------------


def check_data_dir(settings: Settings) -> list[Check]:
    data_dir = settings.resolved_data_dir()
    checks = [_writable(data_dir), _free_space(data_dir)]
    threads = sqlite_path(settings)
    if threads is not None:
        checks.append(check_database("thread database", threads))
    if not settings.chroma_url:
        checks.append(check_database("vector store", data_dir / "chroma" / CHROMA_FILE))
    return checks


def _writable(data_dir: Path) -> Check:
    if not data_dir.exists():
        return Check("data dir", "ok", f"{data_dir} (created on first use)")
    probe = data_dir / f".agentkit-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as err:
        why = storage_problem(err) or "unwritable"
        return Check("data dir", "problem", f"{data_dir} is not writable ({why}: {err.strerror})")
    return Check("data dir", "ok", f"{data_dir} (writable)")


def _free_space(data_dir: Path) -> Check:
    existing = next((p for p in (data_dir, *data_dir.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(existing).free
    shown = f"{free / 1024 / 1024:.0f} MB free"
    if free == 0:
        return Check("free space", "problem", f"{shown}: nothing can be saved")
    if free < LOW_SPACE_BYTES:
        return Check("free space", "warning", f"{shown}: threads may fail to save")
    return Check("free space", "ok", shown)


def check_database(name: str, path: Path) -> Check:
    """SQLite's quick_check over a read-only connection (it never writes)."""
    if not path.exists():
        return Check(name, "ok", f"{path} (not created yet)")
    if path.is_dir():
        return Check(name, "problem", f"{path} is a directory")
    if path.stat().st_size == 0:
        return Check(name, "warning", f"{path} is empty (0 bytes): truncated?")
    try:
        with _read_only(path) as conn:
            rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as err:
        problem = storage_problem(err)
        if problem == "locked":
            return Check(name, "warning", f"{path} is locked by another process")
        return Check(name, "problem", f"{path}: {err}", damaged=path)
    found = [str(r[0]) for r in rows if r[0] != "ok"]
    if found:
        return Check(name, "problem", f"{path} is damaged: {found[0]}", damaged=path)
    return Check(name, "ok", f"{path} (intact)")


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    try:
        yield conn
    finally:
        conn.close()


# --- repairing --------------------------------------------------------------------------


def repair_data_dir(settings: Settings, checks: list[Check]) -> RepairReport:
    """Back up and rebuild every database ``checks`` found damaged."""
    report = RepairReport()
    threads = sqlite_path(settings)
    for check in checks:
        if check.damaged is None:
            continue
        if check.damaged == threads:
            repair_threads(settings, check.damaged, report)
        elif check.damaged.name == CHROMA_FILE:
            repair_vector_store(settings, check.damaged.parent, report)
    return report


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _move_aside(path: Path, suffix: str) -> Path:
    """``path`` (and its SQLite -wal/-shm files) renamed ``path.suffix``."""
    backup = path.with_name(f"{path.name}.{suffix}")
    for extra in ("-wal", "-shm"):
        companion = path.with_name(path.name + extra)
        if companion.exists():
            os.replace(companion, backup.with_name(backup.name + extra))
    os.replace(path, backup)
    return backup


def repair_threads(settings: Settings, path: Path, report: RepairReport) -> None:
    backup = _move_aside(path, f"damaged-{_stamp()}")
    report.backups.append(backup)
    _create_thread_tables(settings)
    copied, total = salvage_rows(backup, path)
    lost = f"; {total - copied} could not be read" if total > copied else ""
    report.lines.append(
        f"thread database {path}: rebuilt from the damaged copy (kept as {backup}); "
        f"{copied} rows saved{lost}"
    )


def _create_thread_tables(settings: Settings) -> None:
    """An empty thread database with every table agentkit keeps there."""
    from agentkit.agent import Agent

    def no_model() -> None:
        raise RuntimeError("repair never calls the model")

    agent = Agent(model=no_model, tools=[], settings=settings)  # type: ignore[arg-type]
    agent.threads.close()


def salvage_rows(damaged: Path, fresh: Path) -> tuple[int, int]:
    """Copy every readable row of every table both databases have; (copied,
    rows seen). A table that cannot be read whole is read row by row."""
    copied = seen = 0
    try:
        src = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return 0, 0
    dst = sqlite3.connect(str(fresh), timeout=5.0)
    try:
        try:
            tables = [
                r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
        except sqlite3.DatabaseError:
            return 0, 0  # the schema itself is unreadable (e.g. "file is not a database")
        wanted = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in tables:
            if table not in wanted or table.startswith("sqlite_"):
                continue
            columns = _common_columns(src, dst, table)
            if not columns:
                continue
            insert = (
                f'INSERT OR IGNORE INTO "{table}" ({columns}) '
                f"VALUES ({', '.join('?' * len(columns.split(',')))})"
            )
            for row in _readable_rows(src, table, columns):
                seen += 1
                if row is None:
                    continue
                dst.execute(insert, row)
                copied += 1
            dst.commit()
    finally:
        src.close()
        dst.close()
    return copied, seen


def _common_columns(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> str:
    try:
        old = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
    except sqlite3.DatabaseError:
        return ""
    new = {r[1] for r in dst.execute(f'PRAGMA table_info("{table}")')}
    return ", ".join(f'"{c}"' for c in old if c in new)


def _readable_rows(
    src: sqlite3.Connection, table: str, columns: str
) -> Iterator[tuple[object, ...] | None]:
    """The table's rows; None for each row (or run of rows) that cannot be read."""
    try:
        rows = src.execute(f'SELECT {columns} FROM "{table}"').fetchall()
    except sqlite3.DatabaseError:
        pass
    else:
        yield from rows
        return
    try:
        last = src.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0] or 0
    except sqlite3.DatabaseError:
        last = 100_000
    rowid, skip = 0, 1
    while rowid < last:
        try:
            found = src.execute(
                f'SELECT rowid, {columns} FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT 1',
                (rowid,),
            ).fetchone()
        except sqlite3.DatabaseError:
            yield None
            rowid, skip = rowid + skip, skip * 2  # past the damaged page, faster each time
            continue
        if found is None:
            return
        rowid, skip = found[0], 1
        yield tuple(found[1:])


# --- the vector store -----------------------------------------------------------------


def record_ingest(data_dir: Path, paths: list[Path], removed: bool = False) -> None:
    """Remember what ``agentkit ingest`` indexed (outside the vector store,
    so a damaged store can be rebuilt from it)."""
    record = data_dir / INGEST_RECORD
    known = set(ingest_record(data_dir))
    changed = {str(p.expanduser().resolve()) for p in paths}
    known = known - changed if removed else known | changed
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps({"paths": sorted(known)}, indent=2), encoding="utf-8")
    os.replace(tmp, record)


def ingest_record(data_dir: Path) -> list[str]:
    try:
        data = json.loads((data_dir / INGEST_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    paths = data.get("paths", []) if isinstance(data, dict) else []
    return [str(p) for p in paths if isinstance(p, str)]


@dataclass(frozen=True)
class SalvagedMemory:
    id: str
    text: str
    metadata: dict[str, str]


def salvage_chroma(chroma_db: Path) -> tuple[list[str], list[SalvagedMemory]]:
    """What can still be read from a damaged Chroma database: the sources
    of the indexed files (its manifest) and the memories."""
    from agentkit.memory.store import FILES_COLLECTION, MEMORIES_COLLECTION

    sources: set[str] = set()
    memories: dict[str, dict[str, str]] = {}
    query = (
        "SELECT e.embedding_id, m.key, m.string_value FROM embeddings e "
        "JOIN segments s ON e.segment_id = s.id JOIN collections c ON s.collection = c.id "
        "JOIN embedding_metadata m ON m.id = e.id WHERE c.name = ?"
    )
    try:
        with _read_only(chroma_db) as conn:
            for row in _rows(lambda: conn.execute(query, (FILES_COLLECTION,)).fetchall()):
                if row[1] == "source" and row[2]:
                    sources.add(str(row[2]))
            for row in _rows(lambda: conn.execute(query, (MEMORIES_COLLECTION,)).fetchall()):
                if row[2] is not None:
                    memories.setdefault(str(row[0]), {})[str(row[1])] = str(row[2])
    except sqlite3.Error:
        pass
    salvaged = [
        SalvagedMemory(
            id=memory_id,
            text=fields.pop("chroma:document", ""),
            metadata=fields,
        )
        for memory_id, fields in memories.items()
    ]
    return sorted(sources), [m for m in salvaged if m.text.strip()]


def _rows(read: Callable[[], list[tuple[object, ...]]]) -> list[tuple[object, ...]]:
    try:
        return read()
    except sqlite3.DatabaseError:
        return []


def repair_vector_store(settings: Settings, chroma_dir: Path, report: RepairReport) -> None:
    """Move the damaged store aside and rebuild it: the ingested files again
    (from the ingest record and what the store's manifest still says), and
    the memories that can still be read."""
    from agentkit.memory.knowledge import KnowledgeBase

    data_dir = chroma_dir.parent
    sources, memories = salvage_chroma(chroma_dir / CHROMA_FILE)
    backup = chroma_dir.with_name(f"{chroma_dir.name}.damaged-{_stamp()}")
    os.replace(chroma_dir, backup)
    report.backups.append(backup)
    roots = [Path(p) for p in {*ingest_record(data_dir), *sources} if Path(p).exists()]
    with KnowledgeBase.open(settings) as kb:
        indexed = kb.documents.ingest(roots) if roots else None
        for memory in memories:
            meta = memory.metadata
            kb.memories.remember(
                memory.text,
                thread_id=meta.get("thread_id"),
                message_id=meta.get("message_id"),
                namespace=meta.get("namespace", "default"),
                key=meta.get("key"),
                memory_id=memory.id,
                value_json=meta.get("value_json"),
            )
    files = len(indexed.added) if indexed else 0
    report.lines.append(
        f"vector store {chroma_dir}: rebuilt (damaged copy kept as {backup}); "
        f"{files} file(s) indexed again, {len(memories)} memory(ies) kept"
    )
