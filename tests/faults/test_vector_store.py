"""The vector store (Chroma) read-only, full or damaged: ``ingest``, ``docs``
and ``memory`` commands print one ``error:`` line naming the store and the
fix, never a traceback; ``doctor --repair`` moves a damaged store aside and
rebuilds it from the ingest record and what can still be read."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fault_support import TALLY, Harness, assert_clean
from tests_support import KeywordEmbeddings

from agentkit.models import factory as model_factory

COMMANDS = (("memory", "list"), ("docs", "search", "file"), ("ingest", "docs"))


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    h = Harness(tmp_path, monkeypatch)
    monkeypatch.setattr(model_factory, "make_embeddings", lambda settings: KeywordEmbeddings())
    docs = h.work / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Guide\n\nHow to read a file and write a file.\n")
    (docs / "notes.txt").write_text("Run the tests in the morning.\n")
    return h


def store(harness: Harness) -> Path:
    return harness.data / "chroma"


def indexed(harness: Harness) -> list[str]:
    listed = harness.cli("docs", "list", "--json")
    assert_clean(listed, {0})
    return sorted(Path(f["path"]).name for f in json.loads(listed.out))


def one_error(harness: Harness, args: tuple[str, ...], says: str) -> None:
    outcome = harness.cli(*args)
    assert_clean(outcome, {2})
    (line,) = outcome.error_lines()
    assert says in line and str(harness.data) in line, line


def test_read_only_data_dir(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def read_only(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("chroma.lock"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    for args in COMMANDS:
        TALLY.faults += 1
        one_error(harness, args, "read-only")


def test_a_full_disk_while_ingesting(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.api.models.Collection import Collection
    from chromadb.errors import InternalError

    def full(self: Collection, *args: Any, **kwargs: Any) -> None:
        raise InternalError("error returned from database: (code: 13) database or disk is full")

    monkeypatch.setattr(Collection, "upsert", full)
    TALLY.faults += 1
    one_error(harness, ("ingest", "docs"), "the disk is full")
    monkeypatch.undo()  # space again: the same command finishes the job
    monkeypatch.setattr(model_factory, "make_embeddings", lambda settings: KeywordEmbeddings())
    monkeypatch.chdir(harness.work)
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(harness.data))
    assert_clean(harness.cli("ingest", "docs"), {0})
    assert indexed(harness) == ["guide.md", "notes.txt"]


def damage(db: Path, header: bool) -> None:
    conn = sqlite3.connect(str(db))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    if header:
        data[:100] = b"not a database " * 6 + b"x" * 10
    else:
        for start in range(4096, len(data), 4096):
            data[start : start + 16] = b"\xde\xad\xbe\xef" * 4
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("header", [True, False], ids=["not-a-database", "damaged-pages"])
def test_damaged_store_then_repair(harness: Harness, header: bool) -> None:
    assert_clean(harness.cli("ingest", "docs"), {0})
    assert_clean(harness.cli("memory", "add", "The deploy key lives in the vault."), {0})
    damage(store(harness) / "chroma.sqlite3", header)
    TALLY.faults += 1
    for args in COMMANDS:
        one_error(harness, args, "damaged")
    repaired = harness.cli("doctor", "--repair")
    assert_clean(repaired, {0})
    assert "vector store" in repaired.out and "2 file(s) indexed again" in repaired.out
    assert list(harness.data.glob("chroma.damaged-*"))
    assert indexed(harness) == ["guide.md", "notes.txt"]  # from the ingest record
    assert_clean(harness.cli("memory", "list"), {0})
