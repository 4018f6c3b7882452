"""Model throughput: raw llama-cpp-python vs our chat model, and constrained
(tool call) vs unconstrained decoding.

Both sides of each ratio run in this process, on the same GGUF file, threads,
n_ctx, batch size and the same prompt tokens, at temperature 0, interleaved
(A, B, A, B, ...) so a change in machine load hits both; the best repetition
of each side is kept. The raw side is ``Llama.create_completion`` on its own
``Llama`` object, created with the same parameters as our engine (including
``swa_full=True``). Because it runs in this process it also gets agentkit's
llama.cpp workarounds (``OMP_WAIT_POLICY=passive``, and on AMX CPUs the
extra-buffer-type switch of :mod:`agentkit._llama_compat`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.bench.core import BenchContext, Row, Target

DECODE_PROMPT = "Write a long story about a dragon who learns to cook. Use many details."
PREFILL_TEXT = (
    "The committee reviewed the harbour lantern budget, the orchard festival, the glacier "
    "survey and the violin workshop, then asked every team for a short written report. "
)
CONSTRAINED_PROMPT = "Write a detailed note about how dragons cook soup, with a title and a long body."


def note_tool() -> Any:
    from langchain_core.tools import tool

    @tool
    def write_note(title: str, body: str) -> str:
        """Save a note with a title and a body text."""
        return "saved"

    return write_note


@dataclass
class Timing:
    first_s: float
    total_s: float
    tokens: int
    text: str

    @property
    def decode_rate(self) -> float:
        span = self.total_s - self.first_s
        return (self.tokens - 1) / span if span > 0 and self.tokens > 1 else 0.0


def load_chat(ctx: BenchContext) -> Any:
    """The shared ChatLlama at temperature 0 (its engine is process-wide)."""
    cached = getattr(ctx, "_chat", None)
    if cached is None:
        from agentkit.models import ChatLlama

        cached = ChatLlama.from_settings(ctx.settings, temperature=0.0)
        cached.engine  # load now, not inside the first timing
        ctx._chat = cached  # type: ignore[attr-defined]
    return cached


def load_raw(chat: Any) -> Any:
    """A plain ``llama_cpp.Llama`` with exactly our engine's load parameters."""
    from llama_cpp import Llama

    p = chat.engine.params
    return Llama(
        model_path=p.path,
        n_ctx=p.n_ctx,
        n_batch=p.n_batch,
        n_ubatch=p.n_batch,
        n_threads=p.n_threads,
        n_threads_batch=p.n_threads,
        n_gpu_layers=p.n_gpu_layers,
        flash_attn=p.flash_attn,
        swa_full=True,
        verbose=False,
    )


def prompt_tokens(chat: Any, messages: list[BaseMessage]) -> list[int]:
    prompt, _ = chat._prompt(messages, None, "auto", None)
    return list(chat._tokens(prompt))


def time_raw(raw: Any, tokens: list[int], max_tokens: int, grammar: Any = None) -> Timing:
    raw.reset()
    start = time.perf_counter()
    first = 0.0
    pieces: list[str] = []
    for chunk in raw.create_completion(
        tokens, max_tokens=max_tokens, temperature=0.0, stream=True, grammar=grammar
    ):
        if not first:
            first = time.perf_counter() - start
        pieces.append(chunk["choices"][0]["text"])
    total = time.perf_counter() - start
    return Timing(first, total, len(pieces), "".join(pieces))


def time_chat(chat: Any, messages: list[BaseMessage], max_tokens: int) -> Timing:
    chat.engine.reset_cache()
    start = time.perf_counter()
    first = 0.0
    text: list[str] = []
    tokens = 0
    for chunk in chat.stream(messages, max_tokens=max_tokens):
        if chunk.content and not first:
            first = time.perf_counter() - start
        text.append(str(chunk.content))
        if chunk.usage_metadata:
            tokens = chunk.usage_metadata["output_tokens"]
    total = time.perf_counter() - start
    return Timing(first, total, tokens, "".join(text))


def measure_throughput(ctx: BenchContext, chat: Any, raw: Any) -> list[Row]:
    reps = 2 if ctx.quick else 3
    n_decode = 32 if ctx.quick else 128
    decode_msgs: list[BaseMessage] = [HumanMessage(DECODE_PROMPT)]
    decode_tokens = prompt_tokens(chat, decode_msgs)
    prefill_msgs: list[BaseMessage] = [HumanMessage(PREFILL_TEXT * (9 if ctx.quick else 14) + "Summarise.")]
    prefill_tokens = prompt_tokens(chat, prefill_msgs)

    raw_dec: list[Timing] = []
    chat_dec: list[Timing] = []
    raw_pre: list[float] = []
    chat_pre: list[float] = []
    ctx.say(f"[model] decode {n_decode} tokens and prefill {len(prefill_tokens)} tokens, {reps} reps each side")
    for _ in range(reps):
        raw_dec.append(time_raw(raw, decode_tokens, n_decode))
        chat_dec.append(time_chat(chat, decode_msgs, n_decode))
        raw_pre.append(time_raw(raw, prefill_tokens, 1).total_s)
        chat_pre.append(time_chat(chat, prefill_msgs, 1).total_s)

    raw_decode = max(t.decode_rate for t in raw_dec)
    chat_decode = max(t.decode_rate for t in chat_dec)
    raw_prefill = len(prefill_tokens) / min(raw_pre)
    chat_prefill = len(prefill_tokens) / min(chat_pre)
    same_text = raw_dec[0].text.strip() == chat_dec[0].text.strip()
    ctx.shared.update(raw_decode=raw_decode, raw_prefill=raw_prefill)
    note = f"{chat_dec[0].tokens} tokens; same text as raw: {'yes' if same_text else 'no'}"
    return [
        Row("model", "decode tok/s, raw llama-cpp-python", raw_decode, "tok/s",
            note="Llama.create_completion, same file/threads/n_ctx/prompt tokens"),
        Row("model", "decode tok/s, ChatLlama", chat_decode, "tok/s", note=note),
        Row("model", "ChatLlama ÷ raw decode", chat_decode / raw_decode, "",
            Target(">=", 0.97)),
        Row("model", "prefill tok/s, raw llama-cpp-python", raw_prefill, "tok/s",
            note=f"{len(prefill_tokens)}-token prompt, cold cache"),
        Row("model", "prefill tok/s, ChatLlama", chat_prefill, "tok/s"),
        Row("model", "ChatLlama ÷ raw prefill", chat_prefill / raw_prefill, ""),
    ]


def measure_constrained(ctx: BenchContext, chat: Any, raw: Any) -> list[Row]:
    """Same prompt tokens (tool instructions included) decoded with and
    without the tool-call grammar, by our engine; decode tokens/s excludes
    prefill. The unconstrained side is capped at the constrained side's
    token count so both decode the same length."""
    from agentkit.models.engine import SamplingParams

    engine = chat.engine
    tool = note_tool()
    tools = [convert_to_openai_tool(tool)]
    prompt, gbnf = chat._prompt([HumanMessage(CONSTRAINED_PROMPT)], tools, "write_note", None)
    tokens = list(chat._tokens(prompt))
    reps = 2 if ctx.quick else 3
    max_tokens = 64 if ctx.quick else 160

    def run(grammar: str | None, limit: int) -> tuple[float, int, int]:
        engine.reset_cache()
        gen = engine.generate(tokens, SamplingParams(temperature=0.0, max_tokens=limit), grammar=grammar)
        for _ in gen:
            pass
        s = gen.stats
        rate = s.completion_tokens / s.decode_seconds if s.decode_seconds > 0 else 0.0
        return rate, s.completion_tokens, s.grammar_rejections

    ctx.say(f"[model] constrained vs unconstrained decode, {reps} reps")
    constrained: list[float] = []
    free: list[float] = []
    n_tokens = max_tokens
    rejections = 0
    free_tokens = 0
    for _ in range(reps):
        rate, n_tokens, rejections = run(gbnf, max_tokens)
        constrained.append(rate)
        rate, free_tokens, _ = run(None, n_tokens)
        free.append(rate)
    rows = [
        Row("model", "decode tok/s, tool call (grammar)", max(constrained), "tok/s",
            note=f"{n_tokens} tokens, {rejections} grammar rejections"),
        Row("model", "decode tok/s, unconstrained", max(free), "tok/s",
            note=f"{free_tokens} tokens, same prompt"),
        Row("model", "constrained ÷ unconstrained decode", max(constrained) / max(free), "",
            Target(">=", 0.8), note="anchor: 0.17 with llama-cpp-python's grammar"),
    ]
    if not ctx.quick:
        from llama_cpp import LlamaGrammar

        ctx.say("[model] anchor: llama-cpp-python's own grammar sampler")
        grammar = LlamaGrammar.from_string(gbnf, verbose=False)
        raw_c = time_raw(raw, tokens, n_tokens, grammar=grammar)
        raw_u = time_raw(raw, tokens, n_tokens)
        rows.append(
            Row("model", "raw llama-cpp-python: grammar ÷ free decode",
                raw_c.decode_rate / raw_u.decode_rate if raw_u.decode_rate else 0.0, "",
                note=f"anchor, same prompt ({raw_c.decode_rate:.1f} vs {raw_u.decode_rate:.1f} tok/s)")
        )
    return rows


def run(ctx: BenchContext) -> list[Row]:
    chat = load_chat(ctx)
    raw = load_raw(chat)
    try:
        rows = measure_throughput(ctx, chat, raw)
        rows += measure_constrained(ctx, chat, raw)
    finally:
        raw.close()
    return rows
