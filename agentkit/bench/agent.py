"""The agent loop on the real model, and the framework's own cost per step.

- A 10-turn loop through :class:`~agentkit.agent.Agent` with the bundled model
  (temperature 0), the built-in read-only tools plus a ``lookup`` tool, the
  default ``tool_choice="any"`` and the real SQLite checkpointer. The task
  names ten animals to look up; ``max_steps`` ends the run at ten model
  calls (the model may also finish earlier with ``final_answer``). Per
  turn we record prompt tokens and tokens actually evaluated (prefix reuse),
  and replay chosen turns on a cleared cache to check that reuse changes
  nothing in the reply.
- The same loop with a scripted chat model (:mod:`agentkit.testing`) and the
  same checkpointer, policy and event stream: everything but the model. Its
  time per step divided by the real model's time per step is the overhead.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import BaseTool
from pydantic import PrivateAttr

from agentkit.bench.core import BenchContext, Row, Target, median
from agentkit.models.chat import ChatLlama

TURNS = 10
TASK = (
    "Look up these animals one at a time with the lookup tool: "
    "cat, dog, owl, fox, bee, elk, yak, ant, emu, eel."
)
Animal = Literal["cat", "dog", "owl", "fox", "bee", "elk", "yak", "ant", "emu", "eel"]
FACT = (
    "It lives in many habitats, eats a varied diet, is active at dawn and dusk, "
    "and was recorded {n} times in this season's survey."
)


def lookup_tool() -> BaseTool:
    from langchain_core.tools import tool

    from agentkit.tools.base import declare

    counter = iter(range(1, 10_000))

    # An enum keeps the bundled base model's calls short: with a free string
    # it repeats the task text until the token budget runs out.
    @tool
    def lookup(topic: Animal) -> str:
        """Look up facts about one animal."""
        return f"Facts about {topic}: " + FACT.format(n=next(counter) * 7)

    return declare(lookup, ["read"])


@dataclass
class CallRecord:
    messages: list[BaseMessage]
    stop: list[str] | None
    kwargs: dict[str, Any]
    started: float
    ended: float
    prompt_tokens: int
    evaluated: int
    completion_tokens: int
    prompt_seconds: float
    reply: tuple[str, list[tuple[str | None, str | None]]] = ("", [])


class RecordingChatLlama(ChatLlama):
    """ChatLlama that keeps every call's input and output for replay."""

    _records: list[CallRecord] = PrivateAttr(default_factory=list)
    _recording: bool = PrivateAttr(default=True)

    def _run(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        cancel: threading.Event,
    ) -> Iterator[ChatGenerationChunk]:
        started = time.perf_counter()
        text: list[str] = []
        last: ChatGenerationChunk | None = None
        for chunk in super()._run(messages, stop, kwargs, cancel):
            last = chunk
            text.append(str(chunk.message.content))
            yield chunk
        if not self._recording or last is None:
            return
        message: Any = last.message
        meta = message.response_metadata
        usage = message.usage_metadata or {}
        timings = meta.get("timings", {})
        self._records.append(
            CallRecord(
                messages=list(messages),
                stop=stop,
                kwargs=dict(kwargs),
                started=started,
                ended=time.perf_counter(),
                prompt_tokens=int(usage.get("input_tokens", 0)),
                evaluated=int(meta.get("prompt_tokens_evaluated", 0)),
                completion_tokens=int(usage.get("output_tokens", 0)),
                prompt_seconds=float(timings.get("prompt_ms", 0.0)) / 1000,
                reply=_reply_of(text, message),
            )
        )

    def replay_cold(self, record: CallRecord) -> tuple[str, list[tuple[str | None, str | None]]]:
        """The same call on an empty KV cache."""
        self.engine.reset_cache()
        self._recording = False
        try:
            text: list[str] = []
            last: Any = None
            for chunk in self._run(record.messages, record.stop, record.kwargs, threading.Event()):
                last = chunk
                text.append(str(chunk.message.content))
            return _reply_of(text, last.message)
        finally:
            self._recording = True


def _reply_of(text: list[str], message: Any) -> tuple[str, list[tuple[str | None, str | None]]]:
    calls = [(c.get("name"), c.get("args")) for c in getattr(message, "tool_call_chunks", [])]
    return "".join(text), calls


def bench_tools(ctx: BenchContext) -> list[BaseTool]:
    """``lookup`` plus agentkit's built-in read-only tools, as a default
    ``Agent`` has them (their instructions are most of the prompt)."""
    from agentkit.agent import default_tools

    return [lookup_tool(), *default_tools(ctx.settings)]


def _agent(model: Any, tools: list[BaseTool], root: Path, ctx: BenchContext, steps: int) -> Any:
    """An Agent as users get it (default policy, ``tool_choice="any"``, SQLite
    checkpoints, durability from settings) except: no plan call, and
    ``max_steps`` ends the run after ``steps`` model calls."""
    from agentkit.agent import Agent, Limits
    from agentkit.checkpoint import open_sqlite_saver

    settings = ctx.settings.model_copy(update={"data_dir": root})
    return Agent(
        model=model,
        tools=tools,
        checkpointer=open_sqlite_saver(root / "threads.sqlite"),
        settings=settings,
        planning=False,
        limits=Limits(max_steps=steps, max_repeats=10_000, max_tokens=10**9),
        # Every step calls lookup: the loop measures reuse over ``steps``
        # turns whatever the model would decide (the steered 270M model
        # answers from the first result).
        tool_choice="lookup",
    )


@dataclass
class LoopResult:
    records: list[CallRecord]
    cold_checked: list[int] = field(default_factory=list)
    cold_mismatches: list[int] = field(default_factory=list)
    status: str = ""


def real_loop(ctx: BenchContext) -> LoopResult:
    model = RecordingChatLlama.from_settings(ctx.settings, temperature=0.0)
    model.engine.reset_cache()
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        agent = _agent(model, bench_tools(ctx), Path(tmp), ctx, TURNS)
        ctx.say(f"[agent] {TURNS}-turn agent loop on the real model")
        result = agent.run(TASK)
        records = list(model._records)
        loop = LoopResult(records=records, status=result.status)
        turns = range(2, len(records) + 1)
        check = list(turns) if not ctx.quick else sorted({len(records) // 2 + 1, len(records)})
        ctx.say(f"[agent] replaying turns {check} on a cold cache")
        for turn in check:
            if turn < 2 or turn > len(records):
                continue
            record = records[turn - 1]
            loop.cold_checked.append(turn)
            if model.replay_cold(record) != record.reply:
                loop.cold_mismatches.append(turn)
    return loop


def framework_per_step(ctx: BenchContext, steps: int) -> tuple[float, int]:
    """Seconds per agent step with a scripted model (no model time)."""
    from agentkit.testing import ScriptedChatModel, call

    animals = list(Animal.__args__)
    script: list[Any] = [call("lookup", {"topic": animals[i % 10]}) for i in range(steps)]
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        model = ScriptedChatModel(script=script)
        agent = _agent(model, bench_tools(ctx), Path(tmp), ctx, steps)
        start = time.perf_counter()
        result = agent.run(TASK)
        seconds = time.perf_counter() - start
        done = model.calls_made
    if result.stop_reason != f"max steps ({steps}) reached" or done != steps:
        raise RuntimeError(f"scripted loop ended {result.status} after {done} of {steps} steps")
    return seconds / steps, steps


def run(ctx: BenchContext) -> list[Row]:
    loop = real_loop(ctx)
    records = loop.records
    if len(records) < 2:
        raise RuntimeError(f"the agent loop made {len(records)} model calls ({loop.status})")
    series = [
        {
            "turn": i + 1,
            "prompt_tokens": r.prompt_tokens,
            "evaluated_tokens": r.evaluated,
            "completion_tokens": r.completion_tokens,
            "model_s": round(r.ended - r.started, 4),
        }
        for i, r in enumerate(records)
    ]
    ctx.series["tokens_per_turn"] = series
    later = records[1:]
    reuse_ratio = sum(r.evaluated for r in later) / max(1, sum(r.prompt_tokens for r in later))
    worst = max(later, key=lambda r: r.evaluated / max(1, r.prompt_tokens))
    worst_turn = records.index(worst) + 1
    identical = not loop.cold_mismatches
    steady = records[2:]
    steady_ratio = (
        sum(r.evaluated for r in steady) / max(1, sum(r.prompt_tokens for r in steady))
        if steady
        else float("nan")
    )

    # Model time per step, and the decode rate of a whole agent step (graph,
    # tool and checkpoint included: model call start to the next call's
    # start) next to the model's own rate in the same calls.
    model_s = [r.ended - r.started for r in records]
    model_per_step = sum(model_s) / len(model_s)
    walls = [b.started - a.started for a, b in zip(records, records[1:], strict=False)]
    decode_span = sum(w - a.prompt_seconds for w, a in zip(walls, records, strict=False))
    agent_decode = sum(r.completion_tokens for r in records[:-1]) / decode_span
    model_decode = sum(r.completion_tokens for r in records[:-1]) / sum(
        r.ended - r.started - r.prompt_seconds for r in records[:-1]
    )
    first = records[0]
    agent_prefill = first.evaluated / first.prompt_seconds if first.prompt_seconds else 0.0

    ctx.say("[agent] framework time per step (scripted model, real SQLite checkpointer)")
    per_step = median([framework_per_step(ctx, TURNS)[0] for _ in range(3)])
    ctx.shared.update(model_s_per_step=model_per_step, framework_s_per_step=per_step)

    rows = [
        Row(
            "agent",
            "turn ≥ 2 tokens evaluated ÷ prompt tokens",
            reuse_ratio,
            "",
            Target("<=", 0.10),
            note=f"{len(records)} turns, prompt {records[0].prompt_tokens}→{records[-1].prompt_tokens} tok; "
            f"worst turn {worst_turn}: {worst.evaluated}/{worst.prompt_tokens}",
        ),
        Row(
            "agent",
            "turn ≥ 3 tokens evaluated ÷ prompt tokens",
            steady_ratio,
            "",
            note="the same loop without turn 2 (turn 2 also evaluates a new plan note: "
            "step 1's status changed)",
        ),
        Row(
            "agent",
            "warm turns identical to cold replay",
            identical,
            "",
            Target("==", True),
            note=f"turns {loop.cold_checked} replayed on an empty cache"
            + (f"; differ: {loop.cold_mismatches}" if loop.cold_mismatches else ""),
        ),
        Row(
            "agent",
            "model time per agent step",
            model_per_step * 1000,
            "ms",
            note="bundled model, constrained tool call",
        ),
        Row(
            "agent",
            "framework time per step",
            per_step * 1000,
            "ms",
            note="graph + SQLite checkpoint + policy + events, scripted model, "
            f"durability={ctx.settings.durability}",
        ),
        Row(
            "agent",
            "framework ÷ model time per step",
            per_step / model_per_step,
            "",
            Target("<=", 0.02),
        ),
        Row(
            "agent",
            "decode tok/s, full agent step",
            agent_decode,
            "tok/s",
            note="completion tokens ÷ (call-to-call wall time − prefill), turns 1-9",
        ),
        Row(
            "agent",
            "agent step ÷ ChatLlama decode, same calls",
            agent_decode / model_decode,
            "",
            note=f"ChatLlama alone in those calls: {model_decode:.1f} tok/s",
        ),
        Row(
            "agent",
            "prefill tok/s, agent turn 1",
            agent_prefill,
            "tok/s",
            note=f"{first.evaluated} tokens, cold cache",
        ),
    ]
    chat_over_raw = ctx.shared.get("chat_over_raw_decode")
    if chat_over_raw:
        # Chained: each factor compares two sides under the same conditions;
        # comparing agent steps with the model group's raw run directly would
        # mix prompt lengths and machine load.
        rows.append(
            Row(
                "agent",
                "agent step ÷ raw decode (chained)",
                agent_decode / model_decode * chat_over_raw,
                "",
                note="(agent step ÷ ChatLlama, same calls) × (ChatLlama ÷ raw, model group)",
            )
        )
    return rows
