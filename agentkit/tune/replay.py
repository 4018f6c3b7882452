"""A chat model that renders exactly what :class:`ChatLlama` renders and,
instead of sampling, answers with the next gold call, recording the pair.

:class:`GoldReplayModel` is a ``ChatLlama``: the agent graph, steering and
the hints treat it as the bundled model, and its prompt comes from
``ChatLlama._prompt`` itself (prompt format, steering's prompt, tool
instructions, the grammar's forced prefix). The gold call is written in the
canonical JSON the grammar produces (keys in the order the grammar writes
them, ``json.dumps`` separators) and checked, token by token, against that
step's grammar: a call the decoder could never produce (an argument outside
steering's grounded choices, another tool than the one forced) is a
problem, and the episode is not used for training.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.models import grammar as grammars
from agentkit.models.calls import final_chunk
from agentkit.models.chat import ChatLlama
from agentkit.models.engine import GenerationStats
from agentkit.models.hints import DecodeHints
from agentkit.models.prompt import render_tool_call
from agentkit.tune.examples import Label, TrainingExample

RESULT_SLOT = "{result}"
# The converter's own property order (agentkit.models.grammar._converter).
_PROP_ORDER = {"name": 0, "arguments": 1}


@dataclass(frozen=True)
class GoldCall:
    """A tool call of a gold solution (``final_answer`` included)."""

    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GoldStep:
    """What one act step should produce: one call, or several in one turn."""

    calls: tuple[GoldCall, ...]
    label: Label = "gold"
    step: int = 0


def canonical(value: Any, schema: Mapping[str, Any] | None) -> Any:
    """``value`` with object keys in the order llama.cpp's schema converter
    writes them: required properties first, then optional ones, each in the
    schema's order (``name`` and ``arguments`` ahead of all)."""
    schema = schema or {}
    if isinstance(value, Mapping):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        ordered = [
            name
            for _, name in sorted(
                enumerate(properties), key=lambda item: (_PROP_ORDER.get(item[1], 2), item[0])
            )
        ]
        keys = [k for k in ordered if k in required] + [k for k in ordered if k not in required]
        keys = [k for k in keys if k in value] + [k for k in value if k not in properties]
        return {k: canonical(value[k], properties.get(k)) for k in keys}
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else None
        return [canonical(v, items) for v in value]
    return value


def with_result(call: GoldCall, result: str) -> GoldCall:
    """``call`` with ``{result}`` in its string arguments replaced by the
    latest tool result (a gold answer that quotes what a tool returned)."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(RESULT_SLOT, result)
        if isinstance(value, Mapping):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return GoldCall(call.tool, fill(dict(call.args)))


def render_calls(calls: Sequence[GoldCall], tools: Sequence[Mapping[str, Any]]) -> str:
    """The calls as the grammar writes them (one block each, newline apart)."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    blocks = []
    for call in calls:
        schema = grammars.tighten(schemas.get(call.tool) or {})
        blocks.append(render_tool_call(call.tool, canonical(dict(call.args), schema)))
    return "\n".join(blocks)


class GoldReplayModel(ChatLlama):
    """``ChatLlama`` that replays :class:`GoldStep`\\ s and records each act
    step as a :class:`TrainingExample`. Calls without tools (a plan, a
    compaction summary) get an empty reply and are not recorded."""

    steering_style: str = ""
    """Recorded with each example: "tuned" when the agent renders with the
    preset for tuned models (an adapter trained on them is loaded that way)."""

    _script: list[GoldStep] = PrivateAttr(default_factory=list)
    _examples: list[TrainingExample] = PrivateAttr(default_factory=list)
    _problems: list[str] = PrivateAttr(default_factory=list)
    _source: str = PrivateAttr(default="")
    _asked: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def expect(self, steps: Sequence[GoldStep], source: str) -> None:
        """Replay ``steps`` next (one per act step), recording as ``source``."""
        with self._lock:
            self._script = list(steps)
            self._examples = []
            self._problems = []
            self._source = source
            self._asked = 0

    @property
    def examples(self) -> list[TrainingExample]:
        return list(self._examples)

    @property
    def problems(self) -> list[str]:
        """Why the recorded examples do not match a run of the real model."""
        return list(self._problems)

    @property
    def steps_left(self) -> int:
        return len(self._script)

    def _run(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        cancel: Any,
    ) -> Iterator[ChatGenerationChunk]:
        tools: list[dict[str, Any]] | None = kwargs.get("tools")
        choice = kwargs.get("tool_choice") or "auto"
        if not tools or choice == "none" or kwargs.get("json_schema") is not None:
            # Not an act step: "{}" is no plan, so the agent plans the task itself.
            text = "{}" if kwargs.get("json_schema") is not None else ""
            yield final_chunk(GenerationStats(text=text), None, self._reply_metadata())
            return
        hints: DecodeHints = kwargs.get("hints") or self.default_hints(messages, tools, choice)
        max_calls = kwargs.get("max_tool_calls", self.max_parallel_tool_calls)
        prompt, gbnf, prefix = self._prompt(messages, tools, choice, None, max_calls, hints)
        with self._lock:
            gold = self._script.pop(0) if self._script else None
            self._asked += 1
        if gold is None:
            self._problems.append("the agent asked for more steps than the gold solution has")
            gold = GoldStep((GoldCall(FINAL_ANSWER_TOOL, {"answer": "(no gold step)"}),))
        step = gold.step or self._asked
        narrowed = grammars.with_choices(tools, dict(hints.arg_choices))
        result = next(
            (str(m.content).strip() for m in reversed(messages) if isinstance(m, ToolMessage)), ""
        )
        text = render_calls([with_result(c, result) for c in gold.calls], narrowed)
        problem = self._unreachable(text, prefix, gbnf)
        if problem:
            self._problems.append(f"step {step}: {problem}")
        else:
            self._examples.append(
                TrainingExample(
                    prompt=prompt,
                    completion=text[len(prefix) :],
                    source=self._source,
                    step=step,
                    tools=[c.tool for c in gold.calls],
                    label=gold.label,
                    tool_prompt=self.tool_prompt,
                    steering=self.steering_style,
                )
            )
        # The reply carries the gold calls whatever the grammar says, so the
        # run goes on as the gold solution does.
        forced = "" if problem else prefix
        stats = GenerationStats(text=text[len(forced) :], finish_reason="stop")
        stats.prompt_tokens = len(self._tokens(prompt))
        yield final_chunk(stats, tools, self._reply_metadata(), forced)

    def _unreachable(self, text: str, prefix: str, gbnf: str | None) -> str:
        """Why the decoder could not produce ``text`` after this prompt ("" if it can)."""
        if not text.startswith(prefix):
            return f"the grammar forces {prefix!r} but the gold call is {text[:60]!r}"
        completion = text[len(prefix) :]
        accepted = None if gbnf is None else self.grammar_refusal(gbnf, completion)
        if accepted is None:
            return ""
        if accepted == completion:
            return f"the grammar does not end after {completion!r}"
        if not accepted:
            return (
                f"the grammar does not allow {completion[:80]!r}: the tool is not callable "
                "at this step (not offered, or no argument value allowed)"
            )
        return (
            f"the grammar does not allow {completion!r} after {accepted!r}: "
            "a value outside steering's grounded choices?"
        )
