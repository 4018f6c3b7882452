"""Decoding techniques that cut sequential decodes: prompt-lookup speculation
(:mod:`agentkit.models.speculate`) and jump-forward decoding through the
text a grammar forces (:mod:`agentkit.models.forced`).

Each technique is measured on and off in this process, on the same chat
model and prompt, interleaved (off, on, off, on) so a change in machine load
hits both sides. Each call's prompt is evaluated once before the timed
repetitions, so a timed call is almost all decoding. Rates come from the
engine's own decode time; the CPU-time figures (every llama.cpp thread of
this process, not the time other processes held the cores) are the steadier
ones on a busy host, and the targets are judged on them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agentkit.bench.core import BenchContext, Row, Target

# Novel prose: its first 32 tokens repeat little of the prompt or of
# themselves (the bundled base model soon echoes what it wrote, and then
# lookup pays off), so drafts are tried and mostly rejected: the overhead case.
NOVEL_PROMPT = "The history of the city of Lyon begins"
NOVEL_TOKENS = 32


def copy_source(lines: int) -> str:
    """A file whose lines start alike (the hard case for lookup: the draft
    must come from the right line)."""
    body = "\n".join(f"    value_{i} = compute(table[{i}], offset={i * 7})" for i in range(lines))
    return f"def build():\n{body}\n    return table\n"


def copy_messages(source: str) -> list[BaseMessage]:
    """A copy-heavy call: the file was read and written once already, and the
    task asks for another copy, so the call's content comes from the context."""
    return [
        HumanMessage("Copy build.py to backup.py."),
        AIMessage("", tool_calls=[{"name": "read_file", "args": {"path": "build.py"}, "id": "c0"}]),
        ToolMessage(source, tool_call_id="c0"),
        AIMessage(
            "",
            tool_calls=[
                {"name": "write_file", "args": {"path": "backup.py", "content": source}, "id": "c1"}
            ],
        ),
        ToolMessage("ok", tool_call_id="c1"),
        AIMessage("Copied."),
        HumanMessage("Also copy build.py to old.py."),
    ]


def write_file_tool() -> Any:
    from langchain_core.tools import tool

    @tool
    def write_file(path: str, content: str) -> str:
        """Write content to the file at path (the whole file)."""
        return "ok"

    return write_file


@dataclass
class Side:
    """Repetitions of one call with one setting."""

    tokens: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    batches: int = 0
    jumped: int = 0
    calls: list[Any] = field(default_factory=list)

    def add_generation(self, stats: Any, cpu: float, text: str) -> None:
        """One engine generation (its ``GenerationStats``) and its CPU time."""
        self.cpu += cpu
        self.tokens += stats.completion_tokens
        self.seconds += stats.decode_seconds
        self.batches += stats.decode_batches
        self.jumped += stats.jumped_tokens
        self.calls.append(text)

    def merge(self, other: Side) -> None:
        self.tokens += other.tokens
        self.seconds += other.seconds
        self.cpu += other.cpu
        self.batches += other.batches
        self.jumped += other.jumped
        self.calls += other.calls

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.tokens / self.cpu if self.cpu else 0.0


def time_call(model: Any, messages: list[BaseMessage], side: Side, **kwargs: Any) -> AIMessage:
    cpu0 = time.process_time()
    reply = model.invoke(messages, **kwargs)
    side.cpu += time.process_time() - cpu0
    meta = reply.response_metadata
    side.tokens += (reply.usage_metadata or {}).get("output_tokens", 0)
    side.seconds += meta["timings"]["decode_ms"] / 1000
    side.batches += meta.get("decode_batches", 0)
    side.jumped += meta.get("jumped_tokens", 0)
    side.calls.append([(c["name"], c["args"]) for c in reply.tool_calls])
    return reply


def compare(
    model: Any, messages: list[BaseMessage], reps: int, off: dict[str, Any], on: dict[str, Any]
) -> tuple[Side, Side]:
    """Interleaved repetitions of a call with settings ``off`` and ``on``,
    after one untimed call that puts the prompt in the KV cache."""
    model.invoke(messages, **off)
    plain, fast = Side(), Side()
    for _ in range(reps):
        time_call(model, messages, plain, **off)
        time_call(model, messages, fast, **on)
    return plain, fast


def compare_engine(engine: Any, reps: int) -> tuple[Side, Side, int, int]:
    """Like :func:`compare`, on the engine with a raw prompt (no chat
    template: the base model then writes new text instead of echoing)."""
    from agentkit.models.engine import SamplingParams

    tokens = engine.tokenize(NOVEL_PROMPT)
    plain, fast = Side(), Side()
    drafted = kept = 0
    for rep in range(reps + 1):
        for on in (False, True):
            side = fast if on else plain
            cpu0 = time.process_time()
            sampling = SamplingParams(temperature=0.0, max_tokens=NOVEL_TOKENS, prompt_lookup=on)
            generation = engine.generate(tokens, sampling)
            text = "".join(generation)
            if rep == 0:
                continue  # untimed: puts the prompt in the KV cache
            stats = generation.stats
            side.add_generation(stats, time.process_time() - cpu0, text)
            if on:
                drafted, kept = stats.draft_tokens, stats.draft_accepted
    return plain, fast, drafted, kept


def identical(a: Side, b: Side) -> bool:
    return bool(a.calls) and all(x == a.calls[0] for x in a.calls + b.calls)


def measure_speculation(ctx: BenchContext, chat: Any) -> list[Row]:
    reps = 1 if ctx.quick else 2
    lines = 12 if ctx.quick else 20
    source = copy_source(lines)
    # Without steering biases this small base model copies the file whole.
    unsteered = chat.model_copy(update={"copy_bias": 0.0, "avoid_bias": 0.0})
    writer = unsteered.bind_tools([write_file_tool()], tool_choice="write_file")
    ctx.say(f"[decoding] prompt lookup: a write_file call copying {lines} lines, {reps} reps")
    off, on = (
        {"prompt_lookup": False, "max_tokens": 600},
        {"prompt_lookup": True, "max_tokens": 600},
    )
    plain, fast = compare(writer, copy_messages(source), reps, off, on)
    copied = bool(plain.calls[0]) and plain.calls[0][0][1].get("content") == source
    same = identical(plain, fast)

    ctx.say(f"[decoding] prompt lookup: {NOVEL_TOKENS} tokens of novel prose, {2 * reps + 1} reps")
    novel_plain, novel_fast, drafted, kept = compare_engine(chat.engine, 2 * reps + 1)
    ctx.shared.update(plain_decode=novel_plain.rate)
    per = plain.tokens // max(1, reps)
    return [
        Row(
            "decoding",
            "copy-heavy call tok/s, plain decode",
            plain.rate,
            "tok/s",
            note=f"write_file copying {lines} lines read earlier; {per} tokens; "
            f"copied the file exactly: {'yes' if copied else 'no'}",
        ),
        Row(
            "decoding",
            "copy-heavy call tok/s, prompt lookup",
            fast.rate,
            "tok/s",
            note=f"{fast.batches // max(1, reps)} sequential evaluations for {per} tokens",
        ),
        Row(
            "decoding",
            "prompt lookup ÷ plain, copy-heavy call",
            fast.cpu_rate / plain.cpu_rate if plain.cpu_rate else 0.0,
            "",
            Target(">=", 2.0),
            note=f"CPU time; wall clock {fast.rate / plain.rate if plain.rate else 0:.2f}; "
            f"{reps} interleaved reps",
        ),
        Row(
            "decoding",
            "prompt lookup output identical (copy-heavy call)",
            same,
            "",
            Target("==", True),
            note="temperature 0; the same call every rep, with and without",
        ),
        Row(
            "decoding",
            "prompt lookup ÷ plain, reply copying nothing",
            novel_fast.cpu_rate / novel_plain.cpu_rate if novel_plain.cpu_rate else 0.0,
            "",
            Target(">=", 0.97),
            note=f"{NOVEL_TOKENS} tokens of prose; {drafted} tokens drafted, {kept} kept; CPU time; "
            f"wall clock {novel_fast.rate / novel_plain.rate if novel_plain.rate else 0:.2f} "
            f"({novel_plain.rate:.1f} vs {novel_fast.rate:.1f} tok/s); identical: "
            f"{'yes' if identical(novel_plain, novel_fast) else 'no'}",
        ),
    ]


# The tool-call set: every call the agent makes on these eval cases (one
# or two steps each, over different tools), recorded with plain decoding and
# replayed with jump-forward on and off.
TOOL_CALL_CASES = (
    "calc-multiply.w0",
    "read-config-value.w0",
    "which-file-mentions.w0",
    "write-text.w0",
    "edit-config-value.w0",
    "remember-fact.w0",
)


def record_tool_calls(ctx: BenchContext, cases: tuple[str, ...]) -> tuple[Any, list[Any]]:
    """The agent's constrained calls on ``cases`` (plain decoding)."""
    from agentkit.bench.agent import RecordingChatLlama
    from agentkit.evals.cases import load_suite
    from agentkit.evals.runner import run_case

    model = RecordingChatLlama.from_settings(
        ctx.settings, temperature=0.0, prompt_lookup=False, jump_forward=False
    )
    for case in [c for c in load_suite().cases if c.id in cases]:
        model.engine.reset_cache()
        run_case(case, model, ctx.settings)
    model._recording = False
    return model, [r for r in model._records if r.kwargs.get("tools")]


def free_decode(engine: Any, tokens: list[int], count: int, side: Side) -> None:
    """A prompt decoded without a grammar, for ``count`` tokens."""
    from agentkit.models.engine import SamplingParams

    cpu0 = time.process_time()
    generation = engine.generate(
        tokens, SamplingParams(temperature=0.0, max_tokens=count, prompt_lookup=False)
    )
    text = "".join(generation)
    side.add_generation(generation.stats, time.process_time() - cpu0, text)


def measure_jump_forward(ctx: BenchContext) -> list[Row]:
    from agentkit.bench.model import render

    cases = TOOL_CALL_CASES[:3] if ctx.quick else TOOL_CALL_CASES
    reps = 1 if ctx.quick else 2
    ctx.say(f"[decoding] jump-forward: recording the agent's tool calls on {len(cases)} cases")
    model, records = record_tool_calls(ctx, cases)
    ctx.say(f"[decoding] jump-forward: {len(records)} tool calls, {reps} reps")
    plain, fast, free = Side(), Side(), Side()
    differing = 0
    for record in records:
        call = {**record.kwargs, "stop": record.stop, "prompt_lookup": False}
        one_plain, one_fast = compare(
            model,
            record.messages,
            reps,
            {**call, "jump_forward": False},
            {**call, "jump_forward": True},
        )
        differing += not identical(one_plain, one_fast)
        plain.merge(one_plain)
        fast.merge(one_fast)
        prompt = render(model, record.messages, record.kwargs["tools"], "required")[0]
        for _ in range(reps):
            free_decode(model.engine, list(model._tokens(prompt)), one_fast.tokens // reps, free)
    per = fast.tokens // max(1, reps)
    return [
        Row(
            "decoding",
            "tool-call tok/s, unconstrained decode",
            free.rate,
            "tok/s",
            note=f"the same prompts and token counts without a grammar ({per} tokens)",
        ),
        Row(
            "decoding",
            "tool-call tok/s, grammar, jump-forward off",
            plain.rate,
            "tok/s",
            note=f"{plain.batches // max(1, reps)} sequential evaluations for "
            f"{plain.tokens // max(1, reps)} tokens",
        ),
        Row(
            "decoding",
            "tool-call tok/s, grammar, jump-forward on",
            fast.rate,
            "tok/s",
            note=f"{fast.batches // max(1, reps)} sequential evaluations; "
            f"{fast.jumped // max(1, reps)} of {per} tokens jumped; every token of the call counted",
        ),
        Row(
            "decoding",
            "jump-forward ÷ unconstrained decode, tool calls",
            fast.cpu_rate / free.cpu_rate if free.cpu_rate else 0.0,
            "",
            Target(">=", 1.5),
            note=f"CPU time; wall clock {fast.rate / free.rate if free.rate else 0:.2f}; "
            f"vs jump-forward off {fast.cpu_rate / plain.cpu_rate if plain.cpu_rate else 0:.2f}×",
        ),
        Row(
            "decoding",
            "jump-forward calls identical to plain decoding",
            (len(records) - differing) / max(1, len(records)),
            "",
            note=f"{len(records) - differing} of {len(records)} calls of the agent on "
            f"{', '.join(cases)}; temperature 0, prompt lookup off on both sides",
        ),
    ]


def run(ctx: BenchContext) -> list[Row]:
    from agentkit.models import ChatLlama

    chat = ChatLlama.from_settings(ctx.settings, temperature=0.0)
    _ = chat.engine  # loaded outside the timings
    return measure_speculation(ctx, chat) + measure_jump_forward(ctx)
