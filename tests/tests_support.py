"""Helpers shared by test modules (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from langchain_core.tools import tool


def model_cache_dir() -> Path:
    """The user cache agentkit uses for assembled and converted models, so the
    test run converts the embedder once, like a user's first run does."""
    from agentkit.config import load_settings

    path = load_settings().resolved_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[str], timeout: float) -> None:
    """Poll until ``predicate()`` holds while the child ``proc`` runs (a kill
    test's "reached the kill point"); fail with the child's output if it exits
    first, and kill it if ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"child exited early ({proc.returncode}): {out}\n{err[-3000:]}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("child never reached the kill point")


# Fixture tools for the model tests.


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny in {city}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b
