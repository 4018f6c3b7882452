"""Model throughput: raw llama-cpp-python vs our chat model, and constrained
(tool call) vs unconstrained decoding.

Both sides of each ratio run in this process, on the same GGUF file, threads,
n_ctx, batch size and the same prompt tokens, at temperature 0, interleaved
(A, B, A, B, ...) so a change in machine load hits both; the best repetition
of each side is kept. The raw side is ``Llama.create_completion`` on its own
``Llama`` object, created with the same parameters as our engine (including
``swa_full=True``). Because it runs in this process it also gets agentkit's
llama.cpp settings (``OMP_WAIT_POLICY=passive``, extra buffer types and the
tiled matmul off: :mod:`agentkit.models.kernels`). It decodes one token per
batch; our engine decodes in pairs to keep results batch invariant, which
the decode ratio includes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.bench.core import BenchContext, Row, Target, median

DECODE_PROMPT = "Write a long story about a dragon who learns to cook. Use many details."
PREFILL_TEXT = (
    "The committee reviewed the harbour lantern budget, the orchard festival, the glacier "
    "survey and the violin workshop, then asked every team for a short written report. "
)
CONSTRAINED_PROMPT = (
    "Write a detailed note about how dragons cook soup, with a title and a long body."
)


def note_tool() -> Any:
    from langchain_core.tools import tool

    @tool
    def write_note(title: str, body: str) -> str:
        """Save a note with a title and a body text."""
        return "saved"

    return write_note


@dataclass
class Timing:
    """One generation: wall and process CPU time at each streamed token. CPU
    time counts every llama.cpp thread of this process and not the time other
    processes held the cores."""

    wall: list[float]
    cpu: list[float]
    tokens: int
    text: str

    @property
    def total_s(self) -> float:
        return self.wall[-1]

    def intervals(self, cpu: bool = False) -> list[float]:
        tokens = (self.cpu if cpu else self.wall)[:-1]  # the last stamp is the end
        return [b - a for a, b in zip(tokens, tokens[1:], strict=False)]


class Clock:
    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def mark(self) -> None:
        self.wall.append(time.perf_counter() - self.wall0)
        self.cpu.append(time.process_time() - self.cpu0)

    def timing(self, tokens: int, text: str) -> Timing:
        self.mark()  # the end
        return Timing(self.wall, self.cpu, tokens, text)


def decode_rate(timings: list[Timing], cpu: bool = False) -> float:
    """Tokens/s over every token interval of every repetition (the first
    token, which carries the prefill, excluded). A plain mean: slow tokens
    that are slow for a reason (grammar rejections) count; interleaving the
    two sides spreads other processes' load over both."""
    spans = [i for t in timings for i in t.intervals(cpu)]
    return len(spans) / sum(spans) if spans and sum(spans) > 0 else 0.0


def pair_spread(a: list[Timing], b: list[Timing]) -> str:
    """Range of the per-repetition ratios a/b: how noisy the machine was."""
    ratios = [
        decode_rate([x]) / decode_rate([y]) for x, y in zip(a, b, strict=False) if decode_rate([y])
    ]
    return f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else "-"


def load_chat(ctx: BenchContext) -> Any:
    """ChatLlama at temperature 0; its engine is process-wide, loaded here so
    loading is not inside the first timing."""
    from agentkit.models import ChatLlama

    # Plain decoding: these rows compare the engine with raw llama-cpp-python
    # token by token; the speculation group measures what prompt lookup adds.
    chat = ChatLlama.from_settings(ctx.settings, temperature=0.0, prompt_lookup=False)
    _ = chat.engine
    return chat


def load_raw(chat: Any) -> Any:
    """A plain ``llama_cpp.Llama`` with exactly our engine's load parameters."""
    from llama_cpp import Llama

    return Llama(**chat.engine.params.llama_kwargs())


def render(
    chat: Any,
    messages: list[BaseMessage],
    tools: list[dict[str, Any]] | None = None,
    choice: str = "auto",
) -> tuple[str, str | None]:
    """ChatLlama's own prompt text and grammar for a call (a private method:
    the bench must feed the raw side exactly the tokens our model evaluates)."""
    rendered = chat._prompt(messages, tools, choice, None)
    return rendered[0], rendered[1]


def prompt_tokens(chat: Any, messages: list[BaseMessage]) -> list[int]:
    return list(chat._tokens(render(chat, messages)[0]))


def time_raw(raw: Any, tokens: list[int], max_tokens: int, grammar: Any = None) -> Timing:
    raw.reset()
    clock = Clock()
    pieces: list[str] = []
    for chunk in raw.create_completion(
        tokens, max_tokens=max_tokens, temperature=0.0, stream=True, grammar=grammar
    ):
        piece = chunk["choices"][0]["text"]
        if piece:  # the last chunk only carries finish_reason
            clock.mark()
        pieces.append(piece)
    return clock.timing(sum(1 for p in pieces if p), "".join(pieces))


def time_chat(chat: Any, messages: list[BaseMessage], max_tokens: int) -> Timing:
    chat.engine.reset_cache()
    clock = Clock()
    text: list[str] = []
    tokens = 0
    for chunk in chat.stream(messages, max_tokens=max_tokens):
        if chunk.content:
            clock.mark()
        text.append(str(chunk.content))
        if chunk.usage_metadata:
            tokens = chunk.usage_metadata["output_tokens"]
    return clock.timing(tokens, "".join(text))


@contextmanager
def one_token_batches(engine: Any) -> Iterator[None]:
    """Decode one token per batch, as raw llama-cpp-python does, to measure
    the framework's own overhead apart from the cost of exact reuse."""
    rules = engine.rules
    engine.rules = replace(rules, decode_pairs=False, reuse_generated=False)
    try:
        yield
    finally:
        engine.rules = rules
        engine.reset_cache()


def time_engine(
    engine: Any, tokens: list[int], max_tokens: int, grammar: str | None
) -> tuple[Timing, int]:
    from agentkit.models.engine import SamplingParams

    engine.reset_cache()
    clock = Clock()
    gen = engine.generate(
        tokens,
        SamplingParams(temperature=0.0, max_tokens=max_tokens, prompt_lookup=False),
        grammar=grammar,
    )
    for delta in gen:
        if delta:
            clock.mark()
    return clock.timing(gen.stats.completion_tokens, gen.stats.text), gen.stats.grammar_rejections


def measure_throughput(ctx: BenchContext, chat: Any, raw: Any) -> list[Row]:
    reps = 5 if ctx.quick else 6
    n_decode = 48 if ctx.quick else 64
    decode_msgs: list[BaseMessage] = [HumanMessage(DECODE_PROMPT)]
    decode_tokens = prompt_tokens(chat, decode_msgs)
    prefill_msgs: list[BaseMessage] = [
        HumanMessage(PREFILL_TEXT * (9 if ctx.quick else 14) + "Summarise.")
    ]
    prefill_tokens = prompt_tokens(chat, prefill_msgs)

    raw_dec: list[Timing] = []
    chat_dec: list[Timing] = []
    single_dec: list[Timing] = []
    raw_pre: list[Timing] = []
    chat_pre: list[Timing] = []
    ctx.say(
        f"[model] decode {n_decode} tokens and prefill {len(prefill_tokens)} tokens, {reps} reps each side"
    )
    for _ in range(reps):
        raw_dec.append(time_raw(raw, decode_tokens, n_decode))
        chat_dec.append(time_chat(chat, decode_msgs, n_decode))
        with one_token_batches(chat.engine):
            single_dec.append(time_chat(chat, decode_msgs, n_decode))
        raw_pre.append(time_raw(raw, prefill_tokens, 1))
        chat_pre.append(time_chat(chat, prefill_msgs, 1))

    raw_decode = decode_rate(raw_dec)
    chat_decode = decode_rate(chat_dec)
    single_decode = decode_rate(single_dec)
    cpu_ratio = decode_rate(single_dec, cpu=True) / decode_rate(raw_dec, cpu=True)
    n_pre = len(prefill_tokens)
    raw_prefill = n_pre / median([t.total_s for t in raw_pre])
    chat_prefill = n_pre / median([t.total_s for t in chat_pre])
    same_text = raw_dec[0].text.strip() == single_dec[0].text.strip()
    ctx.shared.update(raw_decode=raw_decode, chat_over_raw_decode=chat_decode / raw_decode)
    how = f"{reps} interleaved reps"
    return [
        Row(
            "model",
            "decode tok/s, raw llama-cpp-python",
            raw_decode,
            "tok/s",
            note=f"{how}; Llama.create_completion, same file/threads/n_ctx/prompt tokens",
        ),
        Row(
            "model",
            "decode tok/s, ChatLlama",
            chat_decode,
            "tok/s",
            note=f"{how}; {chat_dec[0].tokens} tokens; decoded in pairs (exact prefix reuse)",
        ),
        Row(
            "model",
            "ChatLlama ÷ raw decode, one token per batch",
            single_decode / raw_decode,
            "",
            Target(">=", 0.97),
            note=f"framework overhead: our engine decoding like raw; per-rep ratios ranged "
            f"{pair_spread(single_dec, raw_dec)}; same text as raw: {'yes' if same_text else 'no'}",
        ),
        Row(
            "model",
            "ChatLlama ÷ raw decode, CPU time",
            cpu_ratio,
            "",
            note="one token per batch; process CPU seconds per token (insensitive to other processes)",
        ),
        Row(
            "model",
            "pairs ÷ one token per batch decode",
            chat_decode / single_decode,
            "",
            note="the cost of exact reuse of generated tokens (docs/kernels.md: ~0.92)",
        ),
        Row(
            "model",
            "prefill tok/s, raw llama-cpp-python",
            raw_prefill,
            "tok/s",
            note=f"median of {reps}; {n_pre}-token prompt, cold cache",
        ),
        Row("model", "prefill tok/s, ChatLlama", chat_prefill, "tok/s", note=f"median of {reps}"),
        Row("model", "ChatLlama ÷ raw prefill", chat_prefill / raw_prefill, ""),
    ]


def measure_constrained(ctx: BenchContext, chat: Any, raw: Any) -> list[Row]:
    """The same prompt tokens (ChatLlama's forced-call prompt, tool
    instructions included) decoded by our engine with and without the
    tool-call grammar. The unconstrained side is capped at the constrained
    side's token count so both decode the same length."""
    engine = chat.engine
    tools = [convert_to_openai_tool(note_tool())]
    prompt, gbnf = render(chat, [HumanMessage(CONSTRAINED_PROMPT)], tools, "write_note")
    tokens = list(chat._tokens(prompt))
    reps = 4 if ctx.quick else 5
    max_tokens = 48 if ctx.quick else 96

    ctx.say(f"[model] constrained vs unconstrained decode, {reps} reps")
    constrained: list[Timing] = []
    free: list[Timing] = []
    rejections = 0
    for _ in range(reps):
        timing, rejections = time_engine(engine, tokens, max_tokens, gbnf)
        constrained.append(timing)
        free.append(time_engine(engine, tokens, max(2, timing.tokens), None)[0])
    grammar_rate, free_rate = decode_rate(constrained), decode_rate(free)
    cpu_ratio = decode_rate(constrained, cpu=True) / decode_rate(free, cpu=True)
    how = f"{reps} interleaved reps"
    rows = [
        Row(
            "model",
            "decode tok/s, tool call (grammar)",
            grammar_rate,
            "tok/s",
            note=f"{how}; {constrained[0].tokens} tokens, {rejections} grammar rejections",
        ),
        Row(
            "model",
            "decode tok/s, unconstrained",
            free_rate,
            "tok/s",
            note=f"{how}; {free[0].tokens} tokens, same prompt tokens",
        ),
        Row(
            "model",
            "constrained ÷ unconstrained decode",
            grammar_rate / free_rate,
            "",
            Target(">=", 0.8),
            note=f"wall clock; per-rep ratios ranged {pair_spread(constrained, free)}; "
            f"CPU-time ratio {cpu_ratio:.3f}; anchor: 0.17 with llama-cpp-python's grammar",
        ),
    ]
    if not ctx.quick:
        from llama_cpp import LlamaGrammar

        ctx.say("[model] anchor: llama-cpp-python's own grammar sampler")
        grammar = LlamaGrammar.from_string(gbnf, verbose=False)
        anchor_tokens = min(constrained[0].tokens, 32)  # ~6x slower: keep it short
        raw_c = decode_rate([time_raw(raw, tokens, anchor_tokens, grammar=grammar)])
        raw_u = decode_rate([time_raw(raw, tokens, anchor_tokens)])
        rows.append(
            Row(
                "model",
                "anchor: raw llama-cpp-python grammar ÷ free",
                raw_c / raw_u if raw_u else 0.0,
                "",
                note=f"same prompt, one pair ({raw_c:.1f} vs {raw_u:.1f} tok/s)",
            )
        )
    return rows


CHAT_SYSTEM = (
    "You are a patient writing assistant. Write in plain English, in full sentences, "
    "and keep to the user's topic. When asked for a story, tell it in detail."
)
CHAT_TURNS = (
    "Write a long story about a lighthouse keeper and a storm.",
    "Now tell the same story from the storm's point of view.",
    "Write a long letter the keeper sends to his sister afterwards.",
    "Give the story a title and explain why you chose it.",
)


def measure_chat_reuse(ctx: BenchContext, chat: Any) -> list[Row]:
    """A chat whose replies are long: what share of each turn's prompt the
    engine evaluates (the rest, previous replies included, comes from the KV
    cache), and whether every turn's reply equals a cold replay's."""
    from langchain_core.messages import AIMessage, SystemMessage

    reply_tokens = 192
    turns = CHAT_TURNS[:3] if ctx.quick else CHAT_TURNS
    ctx.say(f"[model] chat reuse: {len(turns)} turns, replies of up to {reply_tokens} tokens")
    chat.engine.reset_cache()
    messages: list[BaseMessage] = [SystemMessage(CHAT_SYSTEM)]
    warm: list[tuple[list[BaseMessage], str]] = []
    ratios: list[float] = []
    replies: list[int] = []
    for turn, question in enumerate(turns, start=1):
        messages.append(HumanMessage(question))
        reply = chat.invoke(messages, max_tokens=reply_tokens)
        meta, usage = reply.response_metadata, reply.usage_metadata or {}
        if turn > 1:
            ratios.append(meta["prompt_tokens_evaluated"] / max(1, usage.get("input_tokens", 1)))
        replies.append(usage.get("output_tokens", 0))
        warm.append((list(messages), str(reply.content)))
        messages.append(AIMessage(reply.content))
    replay = warm if not ctx.quick else warm[-1:]
    mismatches = 0
    for turn_messages, text in replay:
        chat.engine.reset_cache()
        if str(chat.invoke(turn_messages, max_tokens=reply_tokens).content) != text:
            mismatches += 1
    rules = chat.engine.rules
    return [
        Row(
            "model",
            "chat turn ≥ 2 tokens evaluated ÷ prompt (long replies)",
            max(ratios),
            "",
            Target("<=", 0.10),
            note=f"worst of turns 2–{len(turns)}; replies {min(replies)}–{max(replies)} tokens; "
            f"per turn {', '.join(f'{r:.3f}' for r in ratios)}",
        ),
        Row(
            "model",
            "chat turns identical to cold replay",
            mismatches == 0,
            "",
            Target("==", True),
            note=f"{len(replay)} turn(s) replayed on a cleared cache; reuse {rules.reason}",
        ),
    ]


def run(ctx: BenchContext) -> list[Row]:
    chat = load_chat(ctx)
    raw = load_raw(chat)
    try:
        rows = measure_throughput(ctx, chat, raw)
        rows += measure_constrained(ctx, chat, raw)
        rows += measure_chat_reuse(ctx, chat)
    finally:
        raw.close()
    return rows
