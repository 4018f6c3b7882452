"""Side panels: the live plan and the retrieved context."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from agentkit.events import ContextItem, PlanStep

STEP_ICONS: dict[str, tuple[str, str]] = {
    "pending": ("○", "dim"),
    "running": ("▶", "bold"),
    "done": ("✓", "green"),
    "failed": ("✗", "red"),
}


def render_plan(steps: list[PlanStep]) -> Text:
    if not steps:
        return Text("No plan yet.", style="dim")
    text = Text()
    for number, step in enumerate(steps, start=1):
        icon, style = STEP_ICONS.get(step["status"], ("•", ""))
        if number > 1:
            text.append("\n")
        text.append(f"{icon} ", style=style)
        done = step["status"] == "done"
        text.append(f"{number}. {step['text']}", style="strike dim" if done else style)
    return text


class PlanPanel(VerticalScroll):
    """The current plan, one line per step with its status."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.steps: list[PlanStep] = []
        self._body = Static(render_plan([]), classes="panel-body")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def on_mount(self) -> None:
        self.border_title = "Plan"

    def show(self, steps: list[PlanStep]) -> None:
        self.steps = list(steps)
        self._body.update(render_plan(self.steps))

    def finish(self) -> None:
        """The run is over: the step that was running is done (as the graph records it)."""
        self.show(
            [
                PlanStep(**{**s, "status": "done"}) if s["status"] == "running" else s
                for s in self.steps
            ]
        )


def render_context(items: list[ContextItem], instructions: list[str] | None = None) -> Text:
    text = Text()
    if instructions:
        text.append("[instructions] ", style="bold")
        text.append(", ".join(instructions), style="underline")
        text.append("\n\n")
    if not items:
        text.append("Nothing retrieved for this step.", style="dim")
        return text
    for number, item in enumerate(items, start=1):
        if number > 1:
            text.append("\n\n")
        label = "memory" if item["kind"] == "memory" else "doc"
        text.append(f"[{label}] ", style="bold")
        text.append(item["source"], style="underline")
        if item.get("score"):
            text.append(f"  {item['score']:.2f}", style="dim")
        snippet = " ".join(item["text"].split())
        if len(snippet) > 240:
            snippet = snippet[:239] + "…"
        text.append("\n" + snippet)
    return text


class ContextPanel(VerticalScroll):
    """Documents and memories retrieved for the current step, with sources."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[ContextItem] = []
        self.instructions: list[str] = []  # project instruction files in the system prompt
        self._body = Static(render_context([]), classes="panel-body")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def on_mount(self) -> None:
        self.border_title = "Context"

    def show(self, items: list[ContextItem]) -> None:
        self.items = list(items)
        self._body.update(render_context(self.items, self.instructions))

    def show_instructions(self, paths: list[str]) -> None:
        """The project instructions (AGENTS.md) the agent follows, always listed first."""
        self.instructions = list(paths)
        self.show(self.items)
