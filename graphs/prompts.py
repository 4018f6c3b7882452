"""Prompts of the agent graph. Short on purpose: the bundled model is small,
and every token of prompt is prefill time on a CPU."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentkit.events import FINAL_ANSWER_TOOL as FINAL_ANSWER_TOOL
from agentkit.events import FINISHED_NOTE as FINISHED_NOTE
from agentkit.events import ContextItem, PlanStep

DEFAULT_SYSTEM_PROMPT = (
    "You are a careful assistant that completes tasks with tools. "
    "Call one tool at a time when you need information or must change something. "
    "When the task is done, call final_answer with the answer."
)

PLAN_INSTRUCTIONS = (
    "Write a short numbered plan (1 to 5 steps) for the task. Each step is one short sentence."
)

REPLAN_INSTRUCTIONS = (
    "The previous plan did not work. Write a new short plan (1 to 5 steps) "
    "that uses what the observations above show."
)

FINAL_ANSWER_DESCRIPTION = "Finish the task and give the answer to the user."

REJECTED_NOTE = (
    "The user rejected this call{feedback}. Do not repeat the same call; "
    "change the approach or give the final answer."
)
BLOCKED_REPEAT_NOTE = (
    "Not run: the same call with the same arguments was already tried and {why}. "
    "Do not repeat it; change the arguments or the approach."
)
EMPTY_REPLY_NOTE = "error: your reply was empty. Call a tool, or call final_answer with the answer."
SUPERSEDED_NOTE = "Not run: the user gave a new task instead of deciding on this call."
DENIED_NOTE = "Not run: denied by policy ({reason})."
INTERRUPTED_NOTE = (
    "Not run again: the process stopped while this call was running, so it may "
    "have partly run. Check its effect before trying it again."
)
# Why a human is asked before such a call runs a second time.
RERUN_REASON = "it was running when the process stopped, so it may have partly run: run it again?"


@dataclass(frozen=True)
class Prompts:
    """The instructions the graph gives the model (the system prompt and the
    planning requests); pass your own to :class:`~agentkit.graphs.AgentNodes`
    or ``Agent(system_prompt=...)``. The notes the loop writes into tool
    results (rejected, denied, blocked, ...) are this module's constants;
    small-model cues and worked examples belong to agentkit.steering."""

    system: str = DEFAULT_SYSTEM_PROMPT
    plan: str = PLAN_INSTRUCTIONS
    replan: str = REPLAN_INSTRUCTIONS


def render_context(items: Sequence[ContextItem]) -> str:
    """Retrieved memories and document chunks, each with where it came from."""
    if not items:
        return ""
    lines = ["Relevant context (cite the source when you use it):"]
    for item in items:
        lines.append(f"[{item['kind']} {item['source']}] {item['text'].strip()}")
    return "\n".join(lines)


def render_plan(steps: Sequence[PlanStep]) -> str:
    if not steps:
        return ""
    marks = {"done": "x", "failed": "!", "running": ">", "pending": " "}
    lines = ["Plan:"]
    for step in steps:
        mark = marks.get(step["status"], " ")
        lines.append(f"[{mark}] {step['index']}. {step['text']}")
    return "\n".join(lines)
