"""Worked examples in the act prompt: a base model continues patterns, so
show it the pattern.

For each tool offered in a run (see :mod:`.routing`), one of its worked
examples (the one whose request is most like the task, when it has several:
an append, not a replacement, for "Append the line ..." ) becomes a short transcript in the same messages the real run uses —
the request, the call, the tool's result, and the ``final_answer`` call — and
one example of answering without a tool is added. The examples' answers copy
the part of the result that answers the request: the one pattern a 270M
model reliably continues is "copy from the latest tool response" (answers
phrased in their own words were copied word for word into unrelated runs). They sit between the
system prompt and the task, the same for every step of a run, so they cost
prefill once and are then reused from the KV cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.events import FINAL_ANSWER_TOOL, FINISHED_NOTE
from agentkit.steering.examples import DIRECT_ANSWER, ToolExample, examples_for

MAX_EXEMPLARS = 5


def _call(tool: str, args: dict[str, object], call_id: str) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"name": tool, "args": dict(args), "id": call_id, "type": "tool_call"}],
    )


def episode(tool: str | None, example: ToolExample, index: int) -> list[AnyMessage]:
    """One example as transcript messages: request, call and result (when the
    example uses a tool), then the final answer."""
    messages: list[AnyMessage] = [HumanMessage(example["request"])]
    if tool is not None and "args" in example:
        call_id = f"example_{index}"
        messages += [
            _call(tool, example["args"], call_id),
            ToolMessage(example.get("result", ""), tool_call_id=call_id, name=tool),
        ]
    final_id = f"example_{index}_final"
    messages += [
        _call(FINAL_ANSWER_TOOL, {"answer": example.get("answer", "")}, final_id),
        ToolMessage(FINISHED_NOTE, tool_call_id=final_id, name=FINAL_ANSWER_TOOL),
    ]
    return messages


ExampleChooser = Callable[[BaseTool, list[ToolExample]], ToolExample]


def first_example(tool: BaseTool, worked: list[ToolExample]) -> ToolExample:
    return worked[0]


def worked_examples(tool: BaseTool) -> list[ToolExample]:
    """The tool's complete examples (request, call, result and answer)."""
    return [e for e in examples_for(tool) if "args" in e and "answer" in e]


def shown_example(tool: BaseTool, choose: ExampleChooser = first_example) -> ToolExample | None:
    worked = worked_examples(tool)
    return choose(tool, worked) if worked else None


def example_values(tools: Sequence[BaseTool], choose: ExampleChooser = first_example) -> str:
    """The argument values, results and answers the worked examples for
    ``tools`` show: words a small model should not copy into a real call."""
    parts: list[str] = [DIRECT_ANSWER.get("answer", "")]
    for tool in tools:
        worked = shown_example(tool, choose)
        if worked is None:
            continue
        parts += [str(v) for v in worked["args"].values()]
        parts += [worked.get("result", ""), worked.get("answer", "")]
    return "\n".join(p for p in parts if p)


def choice_examples(tools: Sequence[BaseTool], per_tool: int = 2) -> str:
    """Requests and the tool each takes, one per line: shows which tool fits
    which request without argument values a small model would copy."""
    lines = ["Which tool fits which request:"]
    for tool in tools:
        for example in examples_for(tool)[:per_tool]:
            lines.append(f'- "{example["request"]}" -> {tool.name}')
    lines.append(f'- "{DIRECT_ANSWER["request"]}" -> {FINAL_ANSWER_TOOL}')
    return "\n".join(lines)


def exemplar_messages(
    tools: Sequence[BaseTool], choose: ExampleChooser = first_example
) -> list[AnyMessage]:
    """Worked examples for ``tools`` (those that declare a complete one; of
    several, the one ``choose`` picks), then the direct answer."""
    messages: list[AnyMessage] = []
    shown = 0
    for tool in tools:
        worked = shown_example(tool, choose)
        if worked is None or shown >= MAX_EXEMPLARS:
            continue
        messages += episode(tool.name, worked, shown)
        shown += 1
    messages += episode(None, DIRECT_ANSWER, shown)
    return messages
