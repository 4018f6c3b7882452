"""What one generation takes (:class:`SamplingParams`) and gives back
(:class:`Generation`: text deltas, then :class:`GenerationStats`). Shared by
the in-process engine and its HTTP twin (:mod:`agentkit.models.remote`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

FinishReason = Literal["stop", "length", "cancelled", "context"]
ClosedEarly = Literal["budget", "repetition"]


class CancelFlag(Protocol):
    """Checked between tokens (a ``threading.Event`` is one)."""

    def is_set(self) -> bool: ...


@dataclass
class SamplingParams:
    temperature: float = 0.0
    top_k: int = 40
    top_p: float = 0.95
    seed: int = -1
    max_tokens: int = 512
    stop: Sequence[str] = ()
    prompt_lookup: bool = True
    """Speculate by prompt lookup (agentkit.models.speculate): the same
    output, fewer sequential decodes when the reply copies the context."""
    jump_forward: bool = True
    """Append the text a grammar forces without sampling it
    (agentkit.models.forced): fewer sequential decodes in tool calls."""


@dataclass
class GenerationStats:
    """Per-call accounting, exposed in ``response_metadata``."""

    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    prompt_tokens_reused: int = 0
    completion_tokens: int = 0
    prompt_seconds: float = 0.0
    decode_seconds: float = 0.0
    grammar_rejections: int = 0
    draft_tokens: int = 0
    """Tokens prompt lookup drafted and the model verified in a batch."""
    draft_accepted: int = 0
    """Of those, the ones decoding kept (each one decode step saved)."""
    decode_batches: int = 0
    """Sequential model evaluations while decoding (plain decoding: one per token)."""
    jumped_tokens: int = 0
    """Tokens the grammar forced, appended without sampling (jump-forward)."""
    finish_reason: FinishReason = "stop"
    closed_early: ClosedEarly | None = None
    """Why a constrained generation was steered to close its JSON early."""
    text: str = ""

    def timings(self) -> dict[str, float]:
        return {
            "prompt_ms": round(self.prompt_seconds * 1000, 2),
            "decode_ms": round(self.decode_seconds * 1000, 2),
            "prompt_per_second": round(self.prompt_tokens_evaluated / self.prompt_seconds, 2)
            if self.prompt_seconds > 0
            else 0.0,
            "decode_per_second": round(self.completion_tokens / self.decode_seconds, 2)
            if self.decode_seconds > 0
            else 0.0,
        }


@dataclass
class Generation:
    """An in-progress generation: iterate for text deltas; ``stats`` is final
    once iteration ends."""

    deltas: Iterator[str]
    stats: GenerationStats = field(default_factory=GenerationStats)

    def __iter__(self) -> Iterator[str]:
        return self.deltas
