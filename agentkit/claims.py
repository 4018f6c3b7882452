"""One run per thread: a run holds its thread from reading its state to its
last checkpoint, so two processes resuming one thread cannot both run it
(and write its history twice).

A claim is an exclusive ``flock`` on one lock file per thread, next to the
thread database (``threads.sqlite-locks/<hash>.lock``, like SQLite's -wal and
-shm files). The kernel releases it when the process dies, so a killed run
never leaves a thread claimed. An in-memory store claims within the process.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentkit.errors import AgentkitError, storage_fault


class ThreadBusyError(AgentkitError):
    """Another process (or another run in this one) is running the thread;
    nothing was done."""

    def __init__(self, thread_id: str, holder: str = "") -> None:
        self.thread_id = thread_id
        super().__init__(
            f"thread {thread_id} is being run or resumed by another process{holder}",
            hint="wait for it to finish (`agentkit threads list` shows it running)",
        )


class ThreadClaims:
    """The claims of the threads in one database (``None``: in memory)."""

    def __init__(self, database: Path | None) -> None:
        self.folder = database.with_name(database.name + "-locks") if database else None
        self._local: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, thread_id: str) -> Iterator[None]:
        """Hold ``thread_id`` for the ``with`` block: a second claim, in this
        process or another, raises :class:`ThreadBusyError` until it ends."""
        if self.folder is None:
            with self._lock:
                if thread_id in self._local:
                    raise ThreadBusyError(thread_id)
                self._local.add(thread_id)
            try:
                yield
            finally:
                with self._lock:
                    self._local.discard(thread_id)
            return
        path = self._path(thread_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise (storage_fault(err, path.parent) or err) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise ThreadBusyError(thread_id, holder) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:  # the pid only makes the other process's message precise
            pass
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def held(self, thread_id: str) -> bool:
        """Whether someone (this process included) holds the thread now."""
        if self.folder is None:
            with self._lock:
                return thread_id in self._local
        try:
            fd = os.open(self._path(thread_id), os.O_RDONLY)
        except OSError:  # never claimed (or unreadable: then nobody can claim it either)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's shared lock
        return False

    def forget(self, thread_id: str) -> None:
        """Remove a deleted thread's lock file. (Never on release: a process
        waiting on the old file could then hold a claim beside a new one.)"""
        if self.folder is not None:
            self._path(thread_id).unlink(missing_ok=True)

    def _path(self, thread_id: str) -> Path:
        assert self.folder is not None
        name = hashlib.sha256(thread_id.encode()).hexdigest()[:24]
        return self.folder / f"{name}.lock"


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
