"""Output caps and timeouts shared by every tool.

Built-in tools enforce their limits themselves (the shell kills its process
group, file walks check a deadline, http_get streams with a byte cap). Any
other LangChain tool (user tools, MCP tools) is wrapped by :func:`with_limits`,
which caps the text it returns and stops waiting for it after the timeout.

Errors a model can cause (a bad path, a timeout, a refused host) are raised as
:class:`~langchain_core.tools.ToolException`; every agentkit tool has
``handle_tool_error=True``, so LangChain turns them into a ``ToolMessage`` with
``status="error"`` and the agent loop feeds the text back to the model.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import ValidationError

if TYPE_CHECKING:
    from agentkit.config import Settings

TRUNCATION_MARKER = "[output truncated:"


@dataclass(frozen=True)
class ToolLimits:
    """How much one tool call may return and how long it may take."""

    max_chars: int = 20_000
    max_lines: int = 400
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolLimits:
        return cls(
            max_chars=settings.tool_max_output_chars,
            max_lines=settings.tool_max_output_lines,
            timeout_s=settings.tool_timeout_s,
        )


def cap_text(text: str, limits: ToolLimits, *, hint: str = "") -> str:
    """``text`` cut to the line and character caps, with a marker that says
    how much was dropped (so the model knows to ask for less)."""
    total_chars = len(text)
    lines = text.splitlines(keepends=True)
    total_lines = len(lines)
    if total_chars <= limits.max_chars and total_lines <= limits.max_lines:
        return text
    kept = "".join(lines[: limits.max_lines])
    if len(kept) > limits.max_chars:
        kept = kept[: limits.max_chars]
    shown_lines = kept.count("\n") + (0 if kept.endswith("\n") or not kept else 1)
    marker = (
        f"{TRUNCATION_MARKER} showed {shown_lines} of {total_lines} lines, "
        f"{len(kept)} of {total_chars} characters"
        f" (caps: {limits.max_lines} lines, {limits.max_chars} characters)"
        f"{'; ' + hint if hint else ''}]"
    )
    return kept.rstrip("\n") + "\n" + marker


class Deadline:
    """A point in time that cooperative loops check (file walks, downloads)."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end

    def check(self) -> None:
        if self.expired():
            raise ToolException(f"{self.what} timed out after {self.seconds:g}s")


def describe_validation_error(err: ValidationError) -> str:
    """A one-line message for bad tool arguments, fed back to the model."""
    parts = []
    for item in err.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ())) or "arguments"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "invalid arguments: " + "; ".join(parts)


def _content_to_text(content: Any) -> str:
    """Tool output (a string, content blocks, a ToolMessage) as plain text."""
    content = getattr(content, "content", content)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for block in content:
            if isinstance(block, str):
                texts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                texts.append(str(block.get("text", "")))
            else:
                texts.append(
                    f"[{block.get('type', 'content') if isinstance(block, dict) else type(block).__name__} omitted]"
                )
        return "\n".join(texts)
    return str(content)


def _as_call(tool: BaseTool, args: dict[str, Any]) -> dict[str, Any]:
    """A ToolCall, so the inner tool answers with a ToolMessage and its status."""
    return {"type": "tool_call", "name": tool.name, "args": args, "id": "agentkit-limits"}


_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="agentkit-tool")


def with_limits(tool: BaseTool, limits: ToolLimits) -> BaseTool:
    """A tool with ``tool``'s name, schema and metadata whose output is capped
    and whose calls time out. Sync calls run in a worker thread (a Python
    function cannot be killed; the caller stops waiting and gets an error).
    Async calls are cancelled at the timeout."""

    def finish(result: Any) -> str:
        text = cap_text(_content_to_text(result), limits)
        if getattr(result, "status", "success") == "error":
            raise ToolException(text)  # keep the inner tool's error status
        return text

    async_only = (
        getattr(tool, "func", True) is None and getattr(tool, "coroutine", None) is not None
    )

    def call(args: dict[str, Any]) -> Any:
        if async_only:  # e.g. MCP tools, called from sync code: own loop, own thread
            return asyncio.run(tool.ainvoke(_as_call(tool, args)))
        return tool.invoke(_as_call(tool, args))

    def run_sync(**kwargs: Any) -> str:
        future = _POOL.submit(call, kwargs)
        try:
            result = future.result(timeout=limits.timeout_s)
        except concurrent.futures.TimeoutError:
            raise ToolException(f"{tool.name} timed out after {limits.timeout_s:g}s") from None
        return finish(result)

    async def run_async(**kwargs: Any) -> str:
        try:
            result = await asyncio.wait_for(
                tool.ainvoke(_as_call(tool, kwargs)), timeout=limits.timeout_s
            )
        except TimeoutError:
            raise ToolException(f"{tool.name} timed out after {limits.timeout_s:g}s") from None
        return finish(result)

    wrapped = StructuredTool(
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
        func=run_sync,
        coroutine=run_async,
        metadata=dict(tool.metadata or {}),
        tags=list(tool.tags or []),
        handle_tool_error=True,
        handle_validation_error=describe_validation_error,
    )
    return wrapped
