"""Running one approved tool call: errors become observations, never crashes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool, StructuredTool

RunOutcome = Literal["ok", "error"]


def _stringify(output: Any) -> str:
    if isinstance(output, BaseMessage):
        output = output.content
    if isinstance(output, str):
        return output
    try:
        return json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(output)


def _is_async_only(tool: BaseTool) -> bool:
    return isinstance(tool, StructuredTool) and tool.func is None and tool.coroutine is not None


def run_tool(
    tool: BaseTool, args: Mapping[str, Any], call_id: str | None = None
) -> tuple[str, RunOutcome, float]:
    """Invoke ``tool``; returns (output, outcome, seconds). A raising tool is an
    ``error`` outcome whose output tells the model what went wrong."""
    start = time.perf_counter()
    # With the call id, invoke with a ToolCall so tools can see it
    # (InjectedToolCallId; `remember` records it as provenance).
    payload: Any = (
        {"type": "tool_call", "name": tool.name, "args": dict(args), "id": call_id}
        if call_id
        else dict(args)
    )
    try:
        if _is_async_only(tool):
            # Async-only tools (MCP) from a sync node: run on a private loop in a
            # worker thread, since the caller may itself be inside a loop.
            with ThreadPoolExecutor(max_workers=1) as pool:
                output = pool.submit(asyncio.run, tool.ainvoke(payload)).result()
        else:
            output = tool.invoke(payload)
    except Exception as err:  # noqa: BLE001 - a failing tool is an observation
        message = str(err) or type(err).__name__
        failure = f"error: {tool.name} failed: {type(err).__name__}: {message}"
        return failure, "error", time.perf_counter() - start
    # a tool that handles its own errors (handle_tool_error) says so on its ToolMessage
    outcome: RunOutcome = "error" if getattr(output, "status", None) == "error" else "ok"
    return _stringify(output), outcome, time.perf_counter() - start
