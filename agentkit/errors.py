"""User-facing errors.

An :class:`AgentkitError` is something the *user* can fix (a missing model
file, a bad config value, a locked store). Front ends print ``str(err)`` as one
line and exit non-zero; they never show a traceback for it. Programming errors
are ordinary exceptions and do propagate.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Literal

from pydantic import ValidationError


class AgentkitError(Exception):
    """An error with a one-line message that says what to do."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


class ConfigError(AgentkitError):
    """The configuration (TOML file, environment, arguments) is invalid."""


class ModelError(AgentkitError):
    """A model spec cannot be resolved or loaded."""


class StoreError(AgentkitError):
    """The vector store or checkpoint database cannot be used."""


def describe_invalid(err: ValidationError) -> str:
    """The first problem pydantic found in a file the user wrote, as one line
    that names where it is (``rules[2].action``) and what is wrong."""
    problems = err.errors()
    # A misspelt key shows up twice, as unknown and as the missing key it
    # should have been: name the unknown one first, which says what to fix.
    problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    kind = problem["type"]
    loc = tuple(part for part in problem["loc"] if part != "[key]")  # a bad dict key
    if kind in ("extra_forbidden", "missing") and loc:
        parent, name = _dotted(loc[:-1]), loc[-1]
        text = f"unknown key {name!r}" if kind == "extra_forbidden" else f"needs `{name}`"
        missing = [
            str(p["loc"][-1])
            for p in problems
            if p["type"] == "missing" and tuple(p["loc"][:-1]) == tuple(loc[:-1])
        ]
        if kind == "extra_forbidden" and missing:
            text += f" (did you mean `{missing[0]}`?)"
        return f"{parent}: {text}" if parent else text
    message = problem["msg"].removeprefix("Value error, ")  # a validator's own words
    got = problem.get("input")
    if kind != "value_error" and isinstance(got, str | int | float):
        message += f", got {got!r}"
    return f"{_dotted(loc) or 'file'}: {message}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


StorageProblem = Literal["full", "read_only", "locked", "damaged", "io", "unopenable"]

# What the user does about each problem; the message names the file.
_STORAGE_FIXES: dict[StorageProblem, tuple[str, str]] = {
    "full": ("the disk is full", "free some space"),
    "read_only": (
        "it is read-only",
        "make it writable, or set AGENTKIT_DATA_DIR to a writable directory",
    ),
    "locked": (
        "another process holds it locked",
        "let the other agentkit process (chat, run, ingest) finish, or close it",
    ),
    "damaged": ("it is damaged", "`agentkit doctor --repair` backs it up and rebuilds it"),
    "io": ("the disk reported an I/O error", "check the disk (`agentkit doctor`)"),
    "unopenable": (
        "it cannot be opened",
        "check that its directory exists and is writable (`agentkit doctor`)",
    ),
}
_SQLITE_CODES: dict[str, StorageProblem] = {
    "SQLITE_FULL": "full",
    "SQLITE_READONLY": "read_only",
    "SQLITE_BUSY": "locked",
    "SQLITE_LOCKED": "locked",
    "SQLITE_CORRUPT": "damaged",
    "SQLITE_NOTADB": "damaged",
    "SQLITE_IOERR": "io",
    "SQLITE_CANTOPEN": "unopenable",
    "SQLITE_PERM": "read_only",
}
_SQLITE_MESSAGES: tuple[tuple[str, StorageProblem], ...] = (
    ("disk is full", "full"),
    ("readonly database", "read_only"),
    ("read-only", "read_only"),
    ("database is locked", "locked"),
    ("is locked", "locked"),
    ("malformed", "damaged"),
    ("not a database", "damaged"),
    ("disk i/o error", "io"),
    ("unable to open database", "unopenable"),
)
_ERRNOS: dict[int, StorageProblem] = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "read_only",
    errno.EACCES: "read_only",
    errno.EPERM: "read_only",
    errno.EIO: "io",
}


class StorageFault(StoreError):
    """A database or data file could not be read or written: full disk,
    read-only or locked file, damaged pages, I/O error. Nothing half-written
    is kept (SQLite rolls the write back), so the last saved step stands."""

    def __init__(
        self, path: str, problem: StorageProblem, detail: str = "", then: str = ""
    ) -> None:
        self.path = path
        self.problem = problem
        self.detail = detail
        why, fix = _STORAGE_FIXES[problem]
        shown = f" ({detail})" if detail and problem in ("io", "unopenable") else ""
        fix += f"; then `{then}`" if then else "; then run the command again"
        super().__init__(f"cannot use {path}: {why}{shown}", hint=fix)

    def then(self, command: str) -> StorageFault:
        """The same fault, whose fix ends with ``command`` (e.g. the resume)."""
        return StorageFault(self.path, self.problem, self.detail, then=command)


def storage_problem(err: BaseException) -> StorageProblem | None:
    """What kind of storage fault ``err`` is (None: not one). SQLite's own
    error code decides when it is there; else the errno; else the message."""
    if isinstance(err, StorageFault):
        return err.problem
    if isinstance(err, sqlite3.Error):
        name = getattr(err, "sqlite_errorname", "") or ""
        for prefix, problem in _SQLITE_CODES.items():
            if name.startswith(prefix):
                return problem
        text = str(err).lower()
        return next((p for needle, p in _SQLITE_MESSAGES if needle in text), None)
    if isinstance(err, OSError) and err.errno in _ERRNOS:
        return _ERRNOS[err.errno]
    text = str(err).lower()  # e.g. Chroma re-raising SQLite's text in its own exception
    if "sqlite" in text or "database" in text or "no space left" in text:
        return next((p for needle, p in _SQLITE_MESSAGES if needle in text), None) or (
            "full" if "no space left" in text else None
        )
    return None


def storage_fault(err: BaseException, path: str | Path) -> StorageFault | None:
    """``err`` as a one-line :class:`StorageFault` about ``path``, or None
    when it is not a storage fault (a programming error: let it raise)."""
    if isinstance(err, StorageFault):
        return err
    problem = storage_problem(err)
    if problem is None:
        return None
    if isinstance(err, OSError) and err.filename:  # the file the system call named
        path = err.filename
    detail = getattr(err, "strerror", None) or str(err)
    return StorageFault(str(path), problem, detail)
