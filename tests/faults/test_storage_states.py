"""The thread database locked past the busy timeout, damaged, empty or
read-only: one ``error:`` line naming the file and the fix, never a
traceback; ``agentkit doctor`` reports it and ``doctor --repair`` rebuilds a
damaged one from what can still be read (keeping a backup)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from fault_support import TALLY, THREAD, Harness, assert_clean

from agentkit.config import load_settings
from agentkit.repair import check_data_dir


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(tmp_path, monkeypatch)


def db(harness: Harness) -> Path:
    return harness.data / "threads.sqlite"


def one_error(harness: Harness, *args: str) -> str:
    outcome = harness.cli(*args)
    assert_clean(outcome, {2})
    (line,) = outcome.error_lines()
    assert str(db(harness)) in line, line
    return line


def test_a_write_lock_held_past_the_timeout(harness: Harness) -> None:
    assert_clean(harness.run(), {3})
    other = harness.real_connect(str(db(harness)), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, for longer than 0.2 s
    TALLY.faults += 1
    line = one_error(harness, "resume", THREAD, "--approve-all")
    assert "another process holds it locked" in line
    assert_clean(harness.cli("threads", "list"), {0})  # readers still read
    other.execute("ROLLBACK")
    other.close()
    harness.drive_to_end()
    harness.assert_same_end()


def test_an_exclusive_lock_stops_readers_too(harness: Harness) -> None:
    assert_clean(harness.run(), {3})
    other = harness.real_connect(str(db(harness)), isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("UPDATE agentkit_threads SET title = title")
    other.execute("COMMIT")  # exclusive mode keeps the lock after the commit
    TALLY.faults += 1
    assert "locked" in one_error(harness, "threads", "list")
    assert "locked" in one_error(harness, "resume", THREAD, "--approve-all")
    other.close()
    harness.drive_to_end()
    harness.assert_same_end()


def test_a_read_only_database(harness: Harness) -> None:
    assert_clean(harness.run(), {3})
    harness.writes.message, harness.writes.sticky = "attempt to write a readonly database", True
    harness.writes.fail_at = harness.writes.count + 1
    TALLY.faults += 1
    line = one_error(harness, "resume", THREAD, "--approve-all")
    assert "read-only" in line and "AGENTKIT_DATA_DIR" in line
    harness.drive_to_end()
    harness.assert_same_end()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories anyway")
def test_a_read_only_data_dir(harness: Harness) -> None:
    assert_clean(harness.run(), {3})
    harness.data.chmod(0o555)
    try:
        outcome = harness.cli("resume", THREAD, "--approve-all")
        assert_clean(outcome, {2})
        assert "read-only" in outcome.error_lines()[0]
    finally:
        harness.data.chmod(0o755)
    harness.drive_to_end()
    harness.assert_same_end()


def checkpoint_wal(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_damaged_pages_then_repair(harness: Harness) -> None:
    assert_clean(harness.run(), {3})
    harness.drive_to_end()
    checkpoint_wal(db(harness))
    data = bytearray(db(harness).read_bytes())
    page = 4096
    for start in range(page, len(data), page):  # every page's header but the first
        data[start : start + 16] = b"\xde\xad\xbe\xef" * 4
    db(harness).write_bytes(bytes(data))
    TALLY.faults += 1
    settings = load_settings()
    (health,) = [c for c in check_data_dir(settings) if c.name == "thread database"]
    assert health.status == "problem" and health.damaged == db(harness)
    for args in (("threads", "list"), ("threads", "show", THREAD), ("run", "again")):
        line = one_error(harness, *args)
        assert "damaged" in line and "agentkit doctor --repair" in line
    repaired = harness.cli("doctor", "--repair")
    assert_clean(repaired, {0})
    assert "rebuilt from the damaged copy" in repaired.out
    backups = list(harness.data.glob("threads.sqlite.damaged-*"))
    assert [b.name for b in backups if not b.name.endswith(("-wal", "-shm"))]
    assert_clean(harness.cli("threads", "list"), {0})
    (health,) = [c for c in check_data_dir(settings) if c.name == "thread database"]
    assert health.status == "ok"


def test_not_a_database_then_repair(harness: Harness) -> None:
    assert_clean(harness.run(), {3})
    checkpoint_wal(db(harness))
    with db(harness).open("r+b") as f:
        f.write(b"this is not sqlite" * 8)
    TALLY.faults += 1
    line = one_error(harness, "threads", "list")
    assert "damaged" in line
    assert_clean(harness.cli("doctor", "--repair"), {0})
    listed = harness.cli("threads", "list", "--json")
    assert_clean(listed, {0})
    assert json.loads(listed.out) == []  # nothing could be read; the backup keeps the bytes


def test_an_empty_database_warns(harness: Harness) -> None:
    harness.data.mkdir()
    db(harness).write_bytes(b"")
    TALLY.faults += 1
    outcome = harness.cli("threads", "list")
    assert_clean(outcome, {0})
    warnings = [line for line in outcome.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "0 bytes" in warnings[0]


def test_doctor_reports_a_full_disk(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    usage = shutil.disk_usage(harness.root)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=0))
    checks = {c.name: c for c in check_data_dir(load_settings())}
    assert checks["free space"].status == "problem"
    assert checks["data dir"].status == "ok"


def test_unable_to_open_names_the_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite says only "unable to open database file"; the line says why."""
    from agentkit.checkpoint import open_failure

    unopenable = sqlite3.OperationalError("unable to open database file")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    fault = open_failure(unopenable, tmp_path / "data" / "threads.sqlite")
    assert str(fault) == (
        f"cannot use {tmp_path}: it is read-only (make it writable, or set AGENTKIT_DATA_DIR "
        "to a writable directory; then run the command again)"
    )
    monkeypatch.undo()
    (tmp_path / "threads.sqlite").mkdir()
    assert "is a directory" in str(open_failure(unopenable, tmp_path / "threads.sqlite"))


def test_a_data_dir_under_a_file(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(harness.work / "notes.txt" / "data"))
    outcome = harness.cli("threads", "list")
    assert_clean(outcome, {2})
    assert "notes.txt" in outcome.error_lines()[0]
