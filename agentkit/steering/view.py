"""What steering sees of a run, as types (the graph builds them from its state)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.messages import AnyMessage
from typing_extensions import TypedDict


class RouteRecord(TypedDict):
    """Routing's decision for one task, kept in the thread's state so every
    step of the run offers the same tools (and reuses the prompt's cache)."""

    offered: list[str]  # tool names, in the tools' order
    bias: dict[str, float]  # the prior on the first step's tool name, <= 0
    # The prior for each step after the first, when the task is several
    # requests that want different tools (one entry per later request).
    later: list[dict[str, float]]


@dataclass(frozen=True)
class StepView:
    """One act step as steering sees it: the task, the transcript the model
    sees, how far the run is, and the plan notes to place (after how many
    transcript messages, which text)."""

    task: str
    messages: Sequence[AnyMessage]
    steps: int = 0
    last_succeeded: bool = False
    route: RouteRecord | None = None
    notes: Sequence[tuple[int, str]] = field(default_factory=tuple)
