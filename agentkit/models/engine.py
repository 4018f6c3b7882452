"""One llama.cpp model per process, shared, with prefix reuse and fast
grammar-constrained sampling.

Why not ``Llama.create_completion``:

- Its sampler applies the grammar to the whole vocabulary before sampling, on
  every token: with Gemma's 262k vocabulary that made constrained decoding ~6x
  slower. We sample first and check only the sampled token against the
  grammar; the full mask is applied only when that token is rejected (what
  llama.cpp's own ``common_sampler`` does).
- We need per-call accounting of evaluated vs reused prompt tokens and a
  cancellation flag checked between tokens.

Prefix reuse: the KV cache keeps the last sequence, prompt and generated
tokens; a new prompt evaluates only the tokens after the longest common
prefix. Reuse gives exactly the cold result because evaluation is batch
invariant (:mod:`agentkit.models.kernels` says when, docs/kernels.md shows
the evidence). The context is created with ``swa_full=True`` because with
Gemma 3's sliding-window layers a partial cache removal otherwise silently
changes the logits (see shared/design.md).
"""

from __future__ import annotations

import codecs
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from agentkit.errors import ModelError
from agentkit.models.forced import NOTHING_FORCED, TOKEN_DATA, ForcedText, GrammarSampler
from agentkit.models.kernels import ReuseRules, reuse_rules
from agentkit.models.speculate import PromptLookup

if TYPE_CHECKING:
    from agentkit.config import Settings

FinishReason = Literal["stop", "length", "cancelled", "context"]
ClosedEarly = Literal["budget", "repetition"]


class CancelFlag(Protocol):
    """Checked between tokens (a ``threading.Event`` is one)."""

    def is_set(self) -> bool: ...


TOP_CANDIDATES = 64
# A constrained generation closes its JSON when this few tokens of budget
# are left, and may then run this many tokens past max_tokens to finish it:
# a cut-off call would be invalid, and a closed one is valid.
CLOSING_RESERVE = 32
CLOSING_ALLOWANCE = 64
# Text that closes JSON structures; in closing mode these tokens get a large
# logit bonus, so among what the grammar allows the model ends strings,
# arrays and objects instead of continuing them.
CLOSERS = ('"', "}", "]", '"}', '"]', "}}", '"}}', "]}", '"]}', "}]", '"}]')
CLOSER_BONUS = 50.0
# Inside a string every closer is also plain content: "}" there continues the
# string (SmolLM2 wrote "}}}}}}" until the budget ran out). Ending the string
# first gets this much more.
QUOTE_CLOSER_EXTRA = 10.0
# A constrained generation whose last tokens are one short pattern repeated
# (e.g. `Desktop\\` over and over inside a path, or a tool result's
# "(1 lines, 11 bytes) " ten tokens at a time) has degenerated: close it.
REPEAT_MAX_PERIOD = 16
REPEAT_MIN_SPAN = 16
REPEAT_MIN_COUNT = 4


Bias = tuple[np.ndarray, np.ndarray]  # token ids, values added to their logits


def _as_bias(values: dict[int, float]) -> Bias | None:
    if not values:
        return None
    ids = np.fromiter(values, dtype=np.int64)
    return ids, np.asarray([values[i] for i in ids.tolist()], dtype=np.float32)


def degenerate(tokens: Sequence[int]) -> bool:
    """Whether ``tokens`` ends with a pattern of 1..16 tokens repeated at least
    four times over at least 16 tokens."""
    n = len(tokens)
    for period in range(1, REPEAT_MAX_PERIOD + 1):
        span = period * max(REPEAT_MIN_COUNT, -(-REPEAT_MIN_SPAN // period))
        if n < span:
            break
        tail = tokens[n - span :]
        if all(tail[i] == tail[i - period] for i in range(period, span)):
            return True
    return False


def _balanced_batches(tokens: list[int], n_batch: int) -> list[list[int]]:
    """Split into batches of at most ``n_batch``, of even sizes (each at
    least ``n_batch / 2`` when there is more than one), so no batch is tiny."""
    if len(tokens) <= n_batch:
        return [tokens] if tokens else []
    count = -(-len(tokens) // n_batch)
    size = -(-len(tokens) // count)
    return [tokens[i : i + size] for i in range(0, len(tokens), size)]


@dataclass(frozen=True)
class LoadParams:
    """Everything that requires a separate llama.cpp model/context."""

    path: str
    n_ctx: int = 8192
    n_threads: int = 2
    n_batch: int = 512
    n_gpu_layers: int = 0
    flash_attn: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, path: Path | str) -> LoadParams:
        """What ``ChatLlama.from_settings(settings)`` loads, for ``path``."""
        return cls(
            path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=settings.resolved_threads(),
            n_batch=settings.n_batch,
            n_gpu_layers=settings.n_gpu_layers,
            flash_attn=settings.flash_attn,
        )

    def llama_kwargs(self) -> dict[str, object]:
        """Arguments for ``llama_cpp.Llama`` (the benchmark's raw baseline
        loads a plain Llama with exactly these)."""
        return {
            "model_path": self.path,
            "n_ctx": self.n_ctx,
            "n_batch": self.n_batch,
            "n_ubatch": self.n_batch,  # each prefill batch is computed whole
            "n_threads": self.n_threads,
            "n_threads_batch": self.n_threads,
            "n_gpu_layers": self.n_gpu_layers,
            "flash_attn": self.flash_attn,
            # Prefix reuse must not change results with sliding-window layers.
            "swa_full": True,
            "logits_all": False,
            "verbose": False,
        }


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


class LlamaEngine:
    """A loaded model and its context. Use :meth:`shared` to get the process-wide
    instance for a set of load parameters; :meth:`generate` holds a lock for the
    whole generation, so two callers never decode at once."""

    _registry: dict[LoadParams, LlamaEngine] = {}
    _registry_lock = threading.Lock()

    @classmethod
    def shared(cls, params: LoadParams) -> LlamaEngine:
        with cls._registry_lock:
            engine = cls._registry.get(params)
            if engine is None:
                engine = cls(params)
                cls._registry[params] = engine
            return engine

    def __init__(self, params: LoadParams) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise ModelError(
                f"llama-cpp-python is not importable ({err})", hint="run `make install`"
            ) from None
        self.params = params
        try:
            self.llm = Llama(**params.llama_kwargs())
        except (ValueError, RuntimeError) as err:
            raise ModelError(
                f"llama.cpp could not load {params.path}: {err}",
                hint="check that the file is a complete GGUF model this llama.cpp supports",
            ) from None
        import llama_cpp

        self._lib = llama_cpp
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.n_vocab = self.llm.n_vocab()
        self.n_ctx = self.llm.n_ctx()
        self.lock = threading.Lock()
        self._token_data = np.empty(self.n_vocab, dtype=TOKEN_DATA)
        self._all_ids = np.arange(self.n_vocab, dtype=np.int32)
        self._grammars: OrderedDict[str, GrammarSampler] = OrderedDict()
        self.rules: ReuseRules = reuse_rules(
            n_gpu_layers=params.n_gpu_layers, flash_attn=params.flash_attn
        )
        # Cache positions below this may be reused by the next prompt.
        self._reusable_tokens = 0
        self._closer_ids = self._single_token_ids(CLOSERS)
        self._forced = ForcedText.for_vocab(
            tokenize=self._tokenize_text,
            detokenize=self._detokenize,
            end_token=self.llm.token_eos(),
        )
        self._quote_closer_ids = self._single_token_ids(
            [c for c in CLOSERS if c.startswith('"')], with_eos=False
        )

    # --- tokens -------------------------------------------------------------------
    def tokenize(self, text: str, *, add_special: bool = True) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_special, special=True)

    def _tokenize_text(self, text: str) -> list[int]:
        """Plain text as the model would write it: no BOS, no special tokens."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _piece(self, token: int) -> bytes:
        return self.llm._model.token_to_piece(token, special=False).rstrip(b"\0")

    def _detokenize(self, tokens: list[int]) -> str:
        return b"".join(self._piece(t) for t in tokens).decode("utf-8", errors="replace")

    def token_text(self, token: int) -> str:
        return self.llm._model.token_get_text(token)

    def is_control(self, token: int) -> bool:
        attr = self._lib.llama_vocab_get_attr(self.vocab, token)
        return bool(attr & self._lib.LLAMA_TOKEN_ATTR_CONTROL)

    def ends_reply(self, token: int) -> bool:
        """End-of-generation tokens, and any control token: a chat model that
        emits ``<start_of_turn>`` or ``<|im_start|>`` is starting a new turn
        (the Gemma base model does this instead of ``<end_of_turn>``)."""
        if self._lib.llama_vocab_is_eog(self.vocab, token):
            return True
        attr = self._lib.llama_vocab_get_attr(self.vocab, token)
        return bool(attr & self._lib.LLAMA_TOKEN_ATTR_CONTROL)

    def _single_token_ids(self, texts: Sequence[str], *, with_eos: bool = True) -> np.ndarray:
        ids = []
        for text in texts:
            tokens = self.tokenize(text, add_special=False)
            if len(tokens) == 1:
                ids.append(tokens[0])
        eos = self.llm.token_eos()
        if with_eos and eos >= 0:
            ids.append(eos)
        return np.unique(np.asarray(ids, dtype=np.int64))

    @property
    def cached_tokens(self) -> int:
        return self.llm.n_tokens

    def reset_cache(self) -> None:
        with self.lock:
            self.llm.reset()
            self.llm._ctx.kv_cache_clear()
            self._reusable_tokens = 0

    # --- grammar ------------------------------------------------------------------
    def _grammar(self, gbnf: str) -> GrammarSampler:
        grammar = self._grammars.get(gbnf)
        if grammar is None:
            grammar = GrammarSampler.compile(self.vocab, gbnf)
            self._grammars[gbnf] = grammar
            while len(self._grammars) > 16:
                self._grammars.popitem(last=False)
        else:
            self._grammars.move_to_end(gbnf)
            grammar.reset()
        return grammar

    # --- evaluation ---------------------------------------------------------------
    def _prefill(self, tokens: list[int], stats: GenerationStats) -> None:
        """Bring the KV cache to ``tokens``, evaluating only what differs.

        Reuse must never change results. The tail is re-evaluated with at
        least ``rules.min_batch`` tokens (2 with batch-invariant kernels: a
        lone token takes other kernels), so the last token's logits come from
        a batch like the cold run's.
        """
        llm = self.llm
        reusable = min(llm.n_tokens, self._reusable_tokens)
        cached = llm.input_ids[:reusable]
        limit = min(len(cached), len(tokens) - self.rules.min_batch)
        common = 0
        if limit > 0:
            diff = np.nonzero(cached[:limit] != np.asarray(tokens[:limit], dtype=cached.dtype))[0]
            common = int(diff[0]) if len(diff) else limit
        if common < llm.n_tokens and not llm._ctx.kv_cache_seq_rm(-1, common, -1):
            common = 0  # this cache cannot drop a suffix: start over
            llm._ctx.kv_cache_clear()
        llm.n_tokens = common
        started = time.perf_counter()
        for batch in _balanced_batches(tokens[common:], self.params.n_batch):
            llm.eval(batch)
        stats.prompt_seconds = time.perf_counter() - started
        stats.prompt_tokens = len(tokens)
        stats.prompt_tokens_reused = common
        stats.prompt_tokens_evaluated = len(tokens) - common
        self._reusable_tokens = len(tokens)

    def _advance(self, token: int) -> None:
        """Evaluate a generated token. With batch-invariant kernels it goes
        in a batch with the token before it (re-evaluated: same position,
        same values), because a one-token batch takes other kernels; its KV
        entry then equals a cold prompt evaluation's and stays reusable."""
        llm = self.llm
        if self.rules.decode_pairs and llm.n_tokens > 0:
            previous = int(llm.input_ids[llm.n_tokens - 1])
            llm.n_tokens -= 1  # eval() drops the cache from n_tokens on
            llm.eval([previous, token])
        else:
            llm.eval([token])
        if self.rules.reuse_generated:
            self._reusable_tokens = llm.n_tokens

    def _advance_all(self, tokens: list[int]) -> None:
        """Evaluate several tokens in one batch, logits for the last only
        (forced text: what a prompt's tokens get, so with batch-invariant
        kernels the same keys and values as decoding them one by one)."""
        if len(tokens) == 1:
            self._advance(tokens[0])
            return
        self.llm.eval(tokens)
        if self.rules.reuse_generated:
            self._reusable_tokens = self.llm.n_tokens

    def _advance_draft(self, token: int, draft: list[int]) -> None:
        """Evaluate a generated token and its draft in one batch, with logits
        for every row (row ``i`` predicts the token after ``[token, *draft][i]``).
        The batch has two or more rows, so batch-invariant kernels give each
        row's keys, values and logits exactly as pair decoding would."""
        llm = self.llm
        batch = [token, *draft]
        start = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, start, -1)
        llm._batch.set_batch(batch=batch, n_past=start, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[start : start + len(batch)] = batch
        llm.n_tokens = start + len(batch)
        if self.rules.reuse_generated:
            self._reusable_tokens = llm.n_tokens

    def _drop_draft(self, count: int) -> None:
        """Forget the last ``count`` evaluated tokens (a rejected draft's rest)."""
        if count <= 0:
            return
        llm = self.llm
        llm.n_tokens -= count
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
        self._reusable_tokens = min(self._reusable_tokens, llm.n_tokens)

    def _logits(self, row: int = -1) -> np.ndarray:
        ptr = self._lib.llama_get_logits_ith(self.llm._ctx.ctx, row)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    @staticmethod
    def _pick(logits: np.ndarray, sampling: SamplingParams, rng: np.random.Generator) -> int:
        if sampling.temperature <= 0:
            return int(np.argmax(logits))
        k = sampling.top_k if 0 < sampling.top_k < len(logits) else len(logits)
        candidates = np.argpartition(logits, -k)[-k:]
        scaled = logits[candidates].astype(np.float64) / sampling.temperature
        scaled -= scaled.max()
        probs = np.exp(scaled)
        probs /= probs.sum()
        order = np.argsort(-probs)
        if sampling.top_p < 1.0:
            cut = int(np.searchsorted(np.cumsum(probs[order]), sampling.top_p)) + 1
            order = order[:cut]
        kept = probs[order] / probs[order].sum()
        return int(candidates[order[rng.choice(len(order), p=kept)]])

    def _sample(
        self,
        sampling: SamplingParams,
        grammar: GrammarSampler | None,
        rng: np.random.Generator,
        stats: GenerationStats,
        closing: bool = False,
        bias: Bias | None = None,
        row: int = -1,
    ) -> int:
        logits = self._logits(row)
        if closing or bias is not None:
            logits = logits.copy()
        if bias is not None:
            logits[bias[0]] += bias[1]
        if closing:
            logits[self._closer_ids] += CLOSER_BONUS
            logits[self._quote_closer_ids] += QUOTE_CLOSER_EXTRA
        token = self._pick(logits, sampling, rng)
        if grammar is None or grammar.allows(token):
            return token
        stats.grammar_rejections += 1
        # Rejected. The best allowed token is almost always among the top few
        # candidates: checking 64 of them costs ~1/4000 of masking 262k.
        top = np.argpartition(logits, -TOP_CANDIDATES)[-TOP_CANDIDATES:]
        allowed = top[grammar.allowed_among(top.astype(np.int32))]
        if len(allowed):
            restricted = np.full_like(logits, -np.inf)
            restricted[allowed] = logits[allowed]
            return self._pick(restricted, sampling, rng)
        # None of them: mask the whole vocabulary once and pick again.
        data = self._token_data
        data["id"] = self._all_ids
        data["logit"] = logits
        data["p"] = 0.0
        grammar.mask(data)
        masked = data["logit"]
        if not np.isfinite(masked).any():
            raise RuntimeError("grammar allows no token: the grammar is inconsistent")
        return self._pick(masked, sampling, rng)

    # --- generation ----------------------------------------------------------------
    def generate(
        self,
        prompt_tokens: list[int],
        sampling: SamplingParams,
        *,
        grammar: str | None = None,
        cancel: CancelFlag | None = None,
        close_after: str | None = None,
        first_bias: dict[int, float] | None = None,
        step_bias: dict[int, float] | None = None,
    ) -> Generation:
        """Start generating after ``prompt_tokens``. Iterate the result for text
        deltas; the engine lock is held until iteration ends (or the iterator
        is closed).

        ``close_after``: with a grammar, once the generated text starts with
        this (``""``: always), the output is structured (a tool call, JSON):
        when the budget runs low or the output degenerates into repetition,
        the engine steers it to close along the grammar, so it still parses
        and validates. ``first_bias`` is added to the logits of those tokens
        for the first generated token only (ChatLlama's tool-routing prior).
        ``step_bias`` (token → value) is added at every later step: ChatLlama
        uses it so a small model copies arguments from the task and the
        latest result, not from worked examples."""
        if len(prompt_tokens) >= self.n_ctx:
            raise ModelError(
                f"the prompt has {len(prompt_tokens)} tokens but the context holds {self.n_ctx}",
                hint="raise n_ctx or shorten the conversation",
            )
        stats = GenerationStats()
        generation = Generation(deltas=iter(()), stats=stats)
        generation.deltas = self._run(
            prompt_tokens, sampling, grammar, cancel, stats, close_after, first_bias, step_bias
        )
        return generation

    def _run(
        self,
        prompt_tokens: list[int],
        sampling: SamplingParams,
        gbnf: str | None,
        cancel: CancelFlag | None,
        stats: GenerationStats,
        close_after: str | None = None,
        first_bias: dict[int, float] | None = None,
        step_bias: dict[int, float] | None = None,
    ) -> Iterator[str]:
        first = _as_bias(first_bias or {})
        copied = _as_bias(step_bias or {})
        with self.lock:
            grammar = self._grammar(gbnf) if gbnf else None
            # Forced text is probed whether or not it is jumped: the steering
            # biases stay off where the grammar leaves no choice.
            forced = self._forced if grammar is not None else None
            jumping = sampling.jump_forward
            rng = np.random.default_rng(None if sampling.seed < 0 else sampling.seed)
            structured = grammar is not None and close_after is not None
            limit = sampling.max_tokens + (CLOSING_ALLOWANCE if structured else 0)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            stops = [s for s in sampling.stop if s]
            max_stop = max((len(s) for s in stops), default=0)
            text = ""
            emitted = 0
            generated: list[int] = []

            def take(tokens: list[int], *, forced: bool = False) -> None:
                """Tokens become output (sampled, or forced and not sampled)."""
                nonlocal text
                for token in tokens:
                    if grammar is not None:
                        grammar.accept(token)
                    generated.append(token)
                    text += decoder.decode(self._piece(token))
                stats.completion_tokens += len(tokens)
                if forced:
                    stats.jumped_tokens += len(tokens)

            # Text the grammar forces before the first token is evaluated with
            # the prompt, in the same batches.
            opening = (
                forced.jump(grammar, sampling.max_tokens if jumping else 0)
                if forced and grammar
                else NOTHING_FORCED
            )
            pinned = opening.pinned
            jumped = [] if opening.ends else opening.tokens
            self._prefill(prompt_tokens + jumped, stats)
            stats.prompt_tokens = len(prompt_tokens)
            stats.prompt_tokens_evaluated = max(0, stats.prompt_tokens_evaluated - len(jumped))
            take(opening.tokens, forced=True)
            started = time.perf_counter()
            stats.finish_reason = "length"
            lookup = PromptLookup(prompt_tokens) if sampling.prompt_lookup else None
            # The draft being verified: its tokens not matched yet, how many it
            # had, and the logits row (of its batch) that predicts the next one.
            expected: list[int] = []
            drafted = 0
            row = -1
            sampled = 0
            try:
                while not opening.ends:
                    step = len(generated)
                    if step >= limit:
                        break
                    if step >= sampling.max_tokens and stats.closed_early is None:
                        break  # the allowance past max_tokens is for closing only
                    if cancel is not None and cancel.is_set():
                        stats.finish_reason = "cancelled"
                        break
                    if (
                        structured
                        and stats.closed_early is None
                        and text.startswith(close_after or "")
                    ):
                        if step >= sampling.max_tokens - CLOSING_RESERVE:
                            stats.closed_early = "budget"
                        elif degenerate(generated):
                            stats.closed_early = "repetition"
                    closing = stats.closed_early is not None and not pinned
                    bias = first if sampled == 0 and first is not None else copied
                    token = self._sample(
                        sampling, grammar, rng, stats, closing, None if pinned else bias, row
                    )
                    sampled += 1
                    if self.ends_reply(token):
                        stats.finish_reason = "stop"
                        break
                    take([token])
                    cached = len(prompt_tokens) + len(generated)
                    if cached >= self.n_ctx:
                        stats.finish_reason = "context"
                        break
                    room = min(limit - len(generated), self.n_ctx - 1 - cached)
                    jump = (
                        forced.jump(grammar, room if jumping else 0)
                        if forced and grammar
                        else NOTHING_FORCED
                    )
                    pinned = jump.pinned
                    if jump.ends:
                        # The rest is forced to the end: no need to evaluate it.
                        take(jump.tokens, forced=True)
                        stats.finish_reason = "stop"
                    else:
                        # A drafted token is in the cache already, and the
                        # batch's next row holds the logits after it.
                        in_cache = bool(expected) and token == expected[0]
                        if in_cache:
                            expected.pop(0)
                            row += 1
                            stats.draft_accepted += 1
                        if not in_cache or jump.tokens:
                            # The draft ends here: its unmatched rest leaves the cache.
                            if lookup is not None and drafted:
                                lookup.record(drafted, drafted - len(expected))
                                self._drop_draft(len(expected))
                            expected, drafted, row = [], 0, -1
                        if jump.tokens:
                            # Forced text: one batch, with the sampled token
                            # unless a draft put that in the cache already.
                            self._advance_all(jump.tokens if in_cache else [token, *jump.tokens])
                            take(jump.tokens, forced=True)
                            stats.decode_batches += 1
                        elif not in_cache:
                            draft: list[int] = []
                            if lookup is not None:
                                lookup.extend(generated[len(lookup) - len(prompt_tokens) :])
                                draft = lookup.draft(room)
                            if draft:
                                self._advance_draft(token, draft)
                                expected, drafted, row = draft, len(draft), 0
                                stats.draft_tokens += len(draft)
                            else:
                                self._advance(token)
                            stats.decode_batches += 1
                    if stops:
                        hit = min(
                            (
                                i
                                for i in (text.find(s, max(0, emitted - max_stop)) for s in stops)
                                if i >= 0
                            ),
                            default=-1,
                        )
                        if hit >= 0:
                            text = text[:hit]
                            stats.finish_reason = "stop"
                            break
                        # Hold back a tail that may be the start of a stop string.
                        safe = len(text) - (max_stop - 1)
                        if safe > emitted:
                            yield text[emitted:safe]
                            emitted = safe
                    elif len(text) > emitted:
                        yield text[emitted:]
                        emitted = len(text)
                    if jump.ends:
                        break
                if opening.ends:
                    stats.finish_reason = "stop"
                text += decoder.decode(b"", final=True)
                if stops and stats.finish_reason != "stop":
                    hit = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
                    if hit >= 0:
                        text = text[:hit]
                        stats.finish_reason = "stop"
                if len(text) > emitted:
                    yield text[emitted:]
            finally:
                if expected:  # drafted tokens the output never reached
                    self._drop_draft(len(expected))
                stats.decode_seconds = time.perf_counter() - started
                stats.text = text
