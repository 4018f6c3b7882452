"""Helpers shared by test modules (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_core.tools import BaseTool, StructuredTool, tool
from pydantic import BaseModel

from agentkit.tools.base import declare


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


def summary_tools(
    workdir: Path,
    read: Callable[[str], str],
    read_description: str,
    read_args: type[BaseModel],
    summary_args: type[BaseModel],
    reply: str,
) -> tuple[BaseTool, BaseTool]:
    """read_file (read) and write_summary (write, to ``workdir/summary.md``;
    ``reply`` is its observation, ``{n}`` the characters written): the
    action space of the scripted end-to-end runs on a real model."""

    def write_summary(content: str) -> str:
        (workdir / "summary.md").write_text(content)
        return reply.format(n=len(content))

    read_file = StructuredTool.from_function(
        read, name="read_file", description=read_description, args_schema=read_args
    )
    write = StructuredTool.from_function(
        write_summary,
        name="write_summary",
        description="Write the summary to summary.md.",
        args_schema=summary_args,
    )
    return declare(read_file, ["read"]), declare(write, ["write"])


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny in {city}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class KeywordEmbeddings(Embeddings):
    """Bag-of-keywords vectors: enough to rank tools deterministically."""

    WORDS: tuple[str, ...] = (
        "file",
        "read",
        "write",
        "run",
        "time",
        "fetch",
        "add",
        "times",
        "reply",
    )

    def _vector(self, text: str) -> list[float]:
        lower = text.lower()
        return [float(w in lower) for w in self.WORDS] + [0.01]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)
