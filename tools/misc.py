"""``current_time`` and ``think``: tools that touch nothing, so the default
policy never asks about them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import ArgsSchema, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.declared import DeclaredTool


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


class CurrentTime(DeclaredTool):
    name: str = "current_time"
    description: str = "The current date and time in a time zone."
    args_schema: ArgsSchema | None = CurrentTimeArgs

    def execute(self, timezone: str = "UTC") -> str:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolException(f"current_time: unknown time zone '{timezone}'") from None
        now = datetime.now(zone)
        return f"{now.isoformat(timespec='seconds')} ({now.strftime('%A, %d %B %Y, %H:%M:%S')} {timezone})"


class Think(DeclaredTool):
    name: str = "think"
    description: str = "Write down a thought or plan. Changes nothing and needs no approval."
    args_schema: ArgsSchema | None = ThinkArgs
    scratchpad: Scratchpad = Field(default_factory=Scratchpad, exclude=True)

    def execute(self, thought: str) -> str:
        notes = self.scratchpad.notes
        notes.append(thought)
        return f"noted ({len(notes)} note{'s' if len(notes) != 1 else ''} so far)"


def current_time_tool() -> CurrentTime:
    return CurrentTime()


def think_tool(scratchpad: Scratchpad | None = None) -> Think:
    return Think() if scratchpad is None else Think(scratchpad=scratchpad)
