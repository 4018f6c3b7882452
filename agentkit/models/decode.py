"""The decode loop of one generation: sample a token, check whether a draft
already holds it, jump over the text the grammar forces after it, and hand
out the new text, until the reply ends.

The pieces it calls: :mod:`agentkit.models.sampling` (sample first, grammar
check after), :mod:`agentkit.models.closing` (close structured output when
the budget runs low or it degenerates), :mod:`agentkit.models.speculate`
(prompt-lookup drafts, verified row by row) and :mod:`agentkit.models.forced`
(jump-forward); the engine (:mod:`agentkit.models.engine`) owns the KV cache
they evaluate into.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from agentkit.models.closing import Closing
from agentkit.models.forced import GrammarSampler, Jump, JumpForward
from agentkit.models.generation import CancelFlag, GenerationStats, SamplingParams
from agentkit.models.sampling import Bias, as_bias
from agentkit.models.speculate import Speculation

if TYPE_CHECKING:
    from agentkit.models.engine import LlamaEngine


class StopStrings:
    """The stop strings of one generation (empty ones dropped)."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.longest = max((len(s) for s in self.stops), default=0)

    def find(self, text: str, start: int) -> int:
        """Where the first stop string in ``text[start:]`` begins; -1: none."""
        found = (text.find(s, start) for s in self.stops)
        return min((i for i in found if i >= 0), default=-1)


class Output:
    """The tokens a generation produced, their text, and how much of the
    text was handed out."""

    def __init__(
        self,
        piece: Callable[[int], bytes],
        grammar: GrammarSampler | None,
        stats: GenerationStats,
        stops: StopStrings,
    ) -> None:
        self.tokens: list[int] = []
        self.text = ""
        self.emitted = 0
        self._piece = piece
        self._grammar = grammar
        self._stats = stats
        self._stops = stops
        # A token may end inside a UTF-8 character: its bytes wait for the next.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def take(self, tokens: list[int], *, forced: bool = False) -> None:
        """Tokens become output (sampled, or forced and not sampled)."""
        for token in tokens:
            if self._grammar is not None:
                self._grammar.accept(token)
            self.tokens.append(token)
            self.text += self._decoder.decode(self._piece(token))
        self._stats.completion_tokens += len(tokens)
        if forced:
            self._stats.jumped_tokens += len(tokens)

    def cut_at_stop(self, *, from_start: bool = False) -> bool:
        """Whether the text holds a stop string; it then ends before the
        first. Only text a new token may have completed one in is searched
        (from a stop's length before what was handed out), unless
        ``from_start``."""
        if not self._stops.stops:
            return False
        start = 0 if from_start else max(0, self.emitted - self._stops.longest)
        hit = self._stops.find(self.text, start)
        if hit < 0:
            return False
        self.text = self.text[:hit]
        return True

    def release(self, *, final: bool = False) -> str:
        """The text not handed out yet, less (unless ``final``) a tail that
        may be the start of a stop string."""
        end = len(self.text)
        if self._stops.stops and not final:
            end -= self._stops.longest - 1
        if end <= self.emitted:
            return ""
        delta = self.text[self.emitted : end]
        self.emitted = end
        return delta

    def flush(self) -> None:
        """The decoder's last bytes (an incomplete character) join the text."""
        self.text += self._decoder.decode(b"", final=True)


class Decoding:
    """One generation on ``engine``, whose lock the caller holds while
    :meth:`run` is iterated."""

    def __init__(
        self,
        engine: LlamaEngine,
        prompt_tokens: list[int],
        sampling: SamplingParams,
        grammar: GrammarSampler | None,
        stats: GenerationStats,
        *,
        cancel: CancelFlag | None = None,
        close_after: str | None = None,
        first_bias: dict[int, float] | None = None,
        step_bias: dict[int, float] | None = None,
    ) -> None:
        self._engine = engine
        self._prompt_tokens = prompt_tokens
        self._sampling = sampling
        self._grammar = grammar
        self._stats = stats
        self._cancel = cancel
        self._first_bias: Bias | None = as_bias(first_bias or {})
        self._step_bias: Bias | None = as_bias(step_bias or {})
        self._sampled = 0
        self._rng = np.random.default_rng(None if sampling.seed < 0 else sampling.seed)
        self._closing = Closing(sampling.max_tokens, close_after, constrained=grammar is not None)
        self._jumps = JumpForward(
            engine.forced_text if grammar is not None else None, grammar, sampling.jump_forward
        )
        self._drafts = Speculation(engine, prompt_tokens, stats, enabled=sampling.prompt_lookup)
        self._output = Output(engine.piece, grammar, stats, StopStrings(sampling.stop))

    def run(self) -> Iterator[str]:
        """Prefill, decode, and yield the text as it comes; ``stats`` is
        complete when iteration ends (or the iterator is closed)."""
        opening = self._prefill()
        started = time.perf_counter()
        self._stats.finish_reason = "length"
        try:
            if opening.ends:
                self._stats.finish_reason = "stop"
            else:
                yield from self._decode(pinned=opening.pinned)
            yield from self._finish()
        finally:
            self._drafts.abandon()
            self._stats.decode_seconds = time.perf_counter() - started
            self._stats.text = self._output.text

    def _prefill(self) -> Jump:
        """Evaluate the prompt and, in the same batches, the text the
        grammar forces before the first token."""
        opening = self._jumps.next(self._sampling.max_tokens)
        jumped = [] if opening.ends else opening.tokens
        self._engine.prefill(self._prompt_tokens + jumped, self._stats)
        self._stats.prompt_tokens = len(self._prompt_tokens)
        evaluated = self._stats.prompt_tokens_evaluated - len(jumped)
        self._stats.prompt_tokens_evaluated = max(0, evaluated)
        self._output.take(opening.tokens, forced=True)
        return opening

    def _decode(self, *, pinned: bool) -> Iterator[str]:
        """Sample until the reply ends. ``pinned``: the next token is the
        last of a forced span, left to the model."""
        stats, output, n_ctx = self._stats, self._output, self._engine.n_ctx
        while not self._closing.spent(len(output.tokens), stats):
            if self._cancel is not None and self._cancel.is_set():
                stats.finish_reason = "cancelled"
                break
            self._closing.check(output.text, output.tokens, stats)
            token = self._sample(pinned=pinned)
            if self._engine.ends_reply(token):
                stats.finish_reason = "stop"
                break
            output.take([token])
            cached = len(self._prompt_tokens) + len(output.tokens)
            if cached >= n_ctx:
                stats.finish_reason = "context"
                break
            room = min(self._closing.limit - len(output.tokens), n_ctx - 1 - cached)
            jump = self._jumps.next(room)
            pinned = jump.pinned
            if jump.ends:
                # The rest is forced to the end: no need to evaluate it.
                output.take(jump.tokens, forced=True)
                stats.finish_reason = "stop"
            else:
                self._evaluate(token, jump.tokens, room)
            if output.cut_at_stop():
                stats.finish_reason = "stop"
                break
            if delta := output.release():
                yield delta
            if jump.ends:
                break

    def _sample(self, *, pinned: bool) -> int:
        """The next token, from the logits row that predicts it. A pinned
        token is forced text: no bias or closing bonus bends its spelling."""
        closing = self._stats.closed_early is not None and not pinned
        first = self._sampled == 0 and self._first_bias is not None
        bias = self._first_bias if first else self._step_bias
        token = self._engine.sampler.sample(
            self._engine.logits(self._drafts.row),
            self._sampling,
            self._grammar,
            self._rng,
            self._stats,
            closing,
            None if pinned else bias,
        )
        self._sampled += 1
        return token

    def _evaluate(self, token: int, forced_tokens: list[int], room: int) -> None:
        """Bring the cache up to ``token`` and the forced text after it."""
        # A drafted token is in the cache already, and the draft's batch
        # holds the logits after it.
        in_cache = self._drafts.matches(token)
        if not in_cache or forced_tokens:
            self._drafts.end()
        if forced_tokens:
            # One batch, with the sampled token unless a draft put it there.
            batch = forced_tokens if in_cache else [token, *forced_tokens]
            self._engine.advance_batch(batch)
            self._output.take(forced_tokens, forced=True)
            self._stats.decode_batches += 1
        elif not in_cache:
            self._drafts.advance(token, self._output.tokens, room)
            self._stats.decode_batches += 1

    def _finish(self) -> Iterator[str]:
        """The last text: the decoder's pending bytes, cut at a stop string
        that only the end completed."""
        self._output.flush()
        if self._stats.finish_reason != "stop" and self._output.cut_at_stop(from_start=True):
            self._stats.finish_reason = "stop"
        if rest := self._output.release(final=True):
            yield rest
