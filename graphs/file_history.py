"""What agentkit's tools changed in the workspace, so a thread can be rewound.

Before a write or an edit by one of agentkit's workspace tools runs, the
execute node records the file's content (or that it did not exist), with the
thread, the graph step and the call; after it ran, the hash of what the tool
left there. :mod:`agentkit.rewind` restores files from these records, and
refuses to overwrite a file whose content is no longer what the tool left
(someone else changed it since).

``shell`` commands can change anything, so their changes cannot be recorded
this way. In a git work tree the node instead takes a snapshot of the tracked
files (``git stash create``, which touches neither the index nor the work
tree) before each approved command; rewind can restore it.

Snapshots obey two caps: a file larger than ``max_file_bytes`` is recorded as
too large (rewind reports it), and a thread keeps at most ``max_thread_bytes``
of snapshots. They live in a table next to the checkpoints and are deleted
with the thread.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from langchain_core.tools import BaseTool

from agentkit.approvals.rules import PATH_ARGS
from agentkit.tools.base import side_effects_of, targets_of

ChangeKind = Literal["file", "git"]
GIT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class FileChange:
    """One recorded change: a file before a tool wrote it, or a git snapshot
    of the work tree before a shell command."""

    id: int
    thread_id: str
    step: int
    call_id: str
    tool: str
    kind: ChangeKind
    root: str
    path: str  # relative to root ("." for a git snapshot)
    existed: bool
    before: bytes | None  # None: not kept (see skipped) or, for git, in the commit
    skipped: str  # why the content was not kept ("" when it was)
    after_hash: str | None  # sha256 of what the tool left (None: the call never finished)
    commit: str  # git snapshots: the commit with the work tree's tracked files
    created_at: float
    reverted: bool


def digest(data: bytes | None) -> str:
    """The hash recorded for a file's content (``absent`` for no file)."""
    return "absent" if data is None else hashlib.sha256(data).hexdigest()


def read_current(root: str, path: str) -> bytes | None:
    """A file's bytes now, None if it does not exist (a symlink reads as its
    own target path, never followed)."""
    full = Path(root) / path
    if full.is_symlink():
        return b"symlink:" + os.readlink(full).encode()
    try:
        return full.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return b"directory"


def written_paths(tool: BaseTool, args: Mapping[str, Any]) -> tuple[str, list[str]]:
    """(workspace root, paths relative to it) a call of one of agentkit's
    workspace tools will write; nothing for any other tool. A tool that
    reports its targets names them (a move writes its source and its
    destination, a copy only its destination, possibly inside a folder);
    otherwise its path arguments count."""
    workspace = getattr(tool, "ws", None)
    if workspace is None or "write" not in side_effects_of(tool):
        return "", []
    root: Path = workspace.root
    targets = targets_of(tool, args)
    if targets is not None:
        values = [t.written for t in targets if t.write]
    else:
        values = [v for name in PATH_ARGS if isinstance(v := args.get(name), str)]
    out: list[str] = []
    for value in dict.fromkeys(values):
        try:
            real = workspace.resolve(value, for_write=True)
        except Exception:  # noqa: BLE001 - the tool will refuse it too
            continue
        out.append(str(real.relative_to(root)))
    return str(root), list(dict.fromkeys(out))


def git_work_tree(root: Path) -> bool:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def git_snapshot(root: Path) -> tuple[str, str]:
    """(commit, why not): a commit holding the work tree's tracked files as
    they are now (``git stash create``, or HEAD when nothing is modified)."""
    try:
        made = subprocess.run(
            ["git", "-C", str(root), "stash", "create", "agentkit: before a shell command"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
        commit = made.stdout.strip()
        if made.returncode == 0 and not commit:
            head = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD"],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
            commit = head.stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as err:
        return "", f"git failed: {err}"
    if made.returncode != 0:
        return "", f"git stash create failed: {made.stderr.strip()[:200]}"
    return (commit, "") if commit else ("", "no commit yet to snapshot against")


class FileHistory:
    """The records, in SQLite (the thread database, or ``:memory:``)."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        max_file_bytes: int = 1_000_000,
        max_thread_bytes: int = 50_000_000,
        git_snapshots: bool = True,
        busy_timeout_ms: int = 5000,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_thread_bytes = max_thread_bytes
        self.git_snapshots = git_snapshots
        self._lock = threading.Lock()
        self._git_roots: dict[str, bool] = {}
        self._conn = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        with self._lock:
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._conn.execute(
                """CREATE TABLE IF NOT EXISTS agentkit_file_history (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL,
                    step INTEGER NOT NULL, call_id TEXT NOT NULL, tool TEXT NOT NULL,
                    kind TEXT NOT NULL, root TEXT NOT NULL, path TEXT NOT NULL,
                    existed INTEGER NOT NULL, before BLOB, skipped TEXT NOT NULL DEFAULT '',
                    after_hash TEXT, git_commit TEXT NOT NULL DEFAULT '',
                    size INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL,
                    reverted INTEGER NOT NULL DEFAULT 0)"""
            )
            self._conn.execute(
                "CREATE INDEX IF NOT EXISTS agentkit_file_history_thread "
                "ON agentkit_file_history(thread_id, step)"
            )

    # --- recording (the execute node) -----------------------------------------------------
    def before_call(
        self,
        thread_id: str,
        step: int,
        call_id: str,
        tool: BaseTool,
        args: Mapping[str, Any],
        workspace: Path | None = None,
    ) -> list[int]:
        """Record what ``tool`` is about to change; the ids for :meth:`after_call`."""
        root, paths = written_paths(tool, args)
        ids = [self._record_file(thread_id, step, call_id, tool.name, root, p) for p in paths]
        if tool.name == "shell" and workspace is not None:
            commit, why = "", "not a git work tree: what the command changes cannot be undone"
            if not self.git_snapshots:
                why = "git snapshots are off: what the command changes cannot be undone"
            elif self._git(workspace):
                commit, why = git_snapshot(workspace)
            ids.append(
                self._insert(
                    thread_id, step, call_id, tool.name, "git", str(workspace), ".", True, None,
                    why, 0, commit,
                )
            )  # fmt: skip
        return ids

    def after_call(self, ids: Iterable[int]) -> None:
        """Record what the call left in each file it was recorded for."""
        with self._lock:
            rows = [
                self._conn.execute(
                    "SELECT id, root, path, kind FROM agentkit_file_history WHERE id = ?", (i,)
                ).fetchone()
                for i in ids
            ]
        for row in rows:
            if row is None or row[3] != "file":
                continue
            after = digest(read_current(row[1], row[2]))
            with self._lock:
                self._conn.execute(
                    "UPDATE agentkit_file_history SET after_hash = ? WHERE id = ?", (after, row[0])
                )

    def _git(self, workspace: Path) -> bool:
        key = str(workspace)
        if key not in self._git_roots:
            self._git_roots[key] = git_work_tree(workspace)
        return self._git_roots[key]

    def _record_file(
        self, thread_id: str, step: int, call_id: str, tool: str, root: str, path: str
    ) -> int:
        data = read_current(root, path)
        skipped = ""
        kept: bytes | None = data
        if data is not None and len(data) > self.max_file_bytes:
            kept, skipped = None, f"larger than rewind_max_file_bytes ({self.max_file_bytes})"
        elif data is not None and self.thread_bytes(thread_id) + len(data) > self.max_thread_bytes:
            kept, skipped = None, f"thread over rewind_max_thread_bytes ({self.max_thread_bytes})"
        return self._insert(
            thread_id, step, call_id, tool, "file", root, path, data is not None, kept, skipped,
            len(kept or b""), "",
        )  # fmt: skip

    def _insert(
        self,
        thread_id: str,
        step: int,
        call_id: str,
        tool: str,
        kind: ChangeKind,
        root: str,
        path: str,
        existed: bool,
        before: bytes | None,
        skipped: str,
        size: int,
        commit: str,
    ) -> int:
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO agentkit_file_history (thread_id, step, call_id, tool, kind, root, "
                "path, existed, before, skipped, git_commit, size, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    thread_id, step, call_id, tool, kind, root, path, int(existed), before,
                    skipped, commit, size, time.time(),
                ),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    # --- reading and rewinding ----------------------------------------------------------
    _COLUMNS = (
        "id, thread_id, step, call_id, tool, kind, root, path, existed, before, skipped, "
        "after_hash, git_commit, created_at, reverted"
    )

    def changes(self, thread_id: str, *, include_reverted: bool = False) -> list[FileChange]:
        """The thread's records, oldest first."""
        sql = f"SELECT {self._COLUMNS} FROM agentkit_file_history WHERE thread_id = ?"
        if not include_reverted:
            sql += " AND reverted = 0"
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY id", (thread_id,)).fetchall()
        return [
            FileChange(
                id=r[0], thread_id=r[1], step=r[2], call_id=r[3], tool=r[4], kind=r[5],
                root=r[6], path=r[7], existed=bool(r[8]), before=r[9], skipped=r[10],
                after_hash=r[11], commit=r[12], created_at=r[13], reverted=bool(r[14]),
            )
            for r in rows
        ]  # fmt: skip

    def mark_reverted(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._conn.executemany(
                "UPDATE agentkit_file_history SET reverted = 1 WHERE id = ?", [(i,) for i in ids]
            )

    def copy(self, source: str, target: str, upto_step: int) -> None:
        """Give a fork the records of its source up to the fork point."""
        columns = (
            "step, call_id, tool, kind, root, path, existed, before, skipped, after_hash, "
            "git_commit, size, created_at"
        )
        with self._lock:
            self._conn.execute(
                f"INSERT INTO agentkit_file_history (thread_id, {columns}) "
                f"SELECT ?, {columns} FROM agentkit_file_history "
                "WHERE thread_id = ? AND step <= ? AND reverted = 0 ORDER BY id",
                (target, source, upto_step),
            )

    def thread_bytes(self, thread_id: str) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(SUM(size), 0) FROM agentkit_file_history WHERE thread_id = ?",
                (thread_id,),
            ).fetchone()
        return int(row[0])

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            self._conn.execute(
                "DELETE FROM agentkit_file_history WHERE thread_id = ?", (thread_id,)
            )

    def close(self) -> None:
        self._conn.close()
