"""Step routing: which tool a step leans to, or must call, given what the
task still asks for."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.steering.intent import asks_for_change
from agentkit.steering.view import StepView
from agentkit.tools.base import side_effects_of

# Against answering before a change the task asks for was made (routed runs).
CHANGE_PENDING_BIAS = 5.0
# How far below the best tool routing may rank a writing tool for a task
# asking for a change to be made with it after a read (0.1 of similarity).
WRITE_NEAR = 2.0


def step_bias(view: StepView, offered: Sequence[BaseTool]) -> dict[str, float]:
    """The prior on this step's tool name: routing's for the first step
    and for each later request of the task ("…, then multiply them"),
    and against answering while a change the task asks for is not made."""
    if view.route is None:
        return {}
    later, first = view.route["later"], view.route["bias"]
    if view.steps == 0:
        return first
    if view.steps <= len(later):
        return later[view.steps - 1]
    if first and change_pending(view, offered):
        return {FINAL_ANSWER_TOOL: -CHANGE_PENDING_BIAS}
    return {}


def must_call(view: StepView, offered: Sequence[BaseTool]) -> str | None:
    """The tool this step must call, if it may not answer yet: the previous
    step succeeded and the task still asks for an action, a request routed to
    a tool ("..., and double it": the calculator) or a change, when routing
    ranked a tool that writes near the top (within :data:`WRITE_NEAR` of the
    best). In such steps the 270M model answered "Double it." and "Next:
    Change the port in config.json to 9090", or repeated the read. Only right
    after a success, so a model that cannot make the call still gets to
    answer. The decoder forces the tool only where it is callable (grounding
    may leave it no valid argument: then it is not called at all)."""
    if view.route is None or view.steps == 0 or not view.last_succeeded:
        return None
    later, first = view.route["later"], view.route["bias"]
    if view.steps <= len(later):
        pending = later[view.steps - 1]
        tool = max(pending, key=pending.__getitem__)
        return None if tool == FINAL_ANSWER_TOOL else tool
    writing = writer_names(offered)
    writers = [t.name for t in offered if t.name in writing and t.name in first]  # tool order
    if view.steps != 1 or not writers or not change_pending(view, offered):
        return None
    writer = max(writers, key=first.__getitem__)
    return writer if first[writer] >= -WRITE_NEAR else None


def run_start(messages: Sequence[AnyMessage], task: str) -> int:
    """How many messages precede this run's (1-based position of its task)."""
    return max(
        (i for i, m in enumerate(messages, 1) if isinstance(m, HumanMessage) and m.content == task),
        default=len(messages) + 1,
    )


def writer_names(offered: Sequence[BaseTool]) -> set[str]:
    """The offered tools that write (whose call makes a change)."""
    return {t.name for t in offered if "write" in side_effects_of(t)}


def changed(message: AnyMessage, writers: set[str]) -> bool:
    """Whether ``message`` is the result of a write that succeeded."""
    return (
        isinstance(message, ToolMessage) and message.name in writers and message.status != "error"
    )


def change_pending(view: StepView, offered: Sequence[BaseTool]) -> bool:
    """Whether the task asks for a change that no call of this run made yet."""
    writers = writer_names(offered)
    if not writers or not asks_for_change(view.task):
        return False
    messages = view.messages
    return not any(changed(m, writers) for m in messages[run_start(messages, view.task) :])
