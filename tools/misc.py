"""``current_time`` and ``think``: tools that touch nothing, so the default
policy never asks about them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.base import declare
from agentkit.tools.limits import describe_validation_error


class CurrentTimeArgs(BaseModel):
    timezone: str = Field("UTC", description="IANA time zone, e.g. 'UTC' or 'Europe/Paris'.")


class ThinkArgs(BaseModel):
    thought: str = Field(
        description="A note to yourself: reasoning, a plan, something to remember."
    )


class Scratchpad:
    """The notes ``think`` has taken (one per tool instance)."""

    def __init__(self) -> None:
        self.notes: list[str] = []


def current_time_tool() -> BaseTool:
    def current_time(timezone: str = "UTC") -> str:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolException(f"current_time: unknown time zone '{timezone}'") from None
        now = datetime.now(zone)
        return f"{now.isoformat(timespec='seconds')} ({now.strftime('%A, %d %B %Y, %H:%M:%S')} {timezone})"

    tool = StructuredTool.from_function(
        func=current_time,
        name="current_time",
        description="The current date and time in a time zone.",
        args_schema=CurrentTimeArgs,
        handle_tool_error=True,
        handle_validation_error=describe_validation_error,
    )
    return declare(tool, ["read"])


def think_tool(scratchpad: Scratchpad | None = None) -> BaseTool:
    pad = scratchpad if scratchpad is not None else Scratchpad()

    def think(thought: str) -> str:
        pad.notes.append(thought)
        return f"noted ({len(pad.notes)} note{'s' if len(pad.notes) != 1 else ''} so far)"

    tool = StructuredTool.from_function(
        func=think,
        name="think",
        description="Write down a thought or plan. Changes nothing and needs no approval.",
        args_schema=ThinkArgs,
        handle_tool_error=True,
        handle_validation_error=describe_validation_error,
    )
    return declare(tool, ["read"])
