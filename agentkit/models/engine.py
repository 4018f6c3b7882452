"""One llama.cpp model per process, shared: loading, tokens, and the KV
cache with exact prefix reuse. :meth:`LlamaEngine.generate` runs the decode
loop of :mod:`agentkit.models.decode` over it.

Why not ``Llama.create_completion``:

- Its sampler applies the grammar to the whole vocabulary before sampling, on
  every token: with Gemma's 262k vocabulary that made constrained decoding ~6x
  slower. We sample first and check only the sampled token against the
  grammar (:mod:`agentkit.models.sampling`).
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

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agentkit.errors import ModelError
from agentkit.models.closing import CloserBias, degenerate
from agentkit.models.decode import Decoding
from agentkit.models.forced import ForcedText, GrammarSampler
from agentkit.models.generation import (
    CancelFlag,
    ClosedEarly,
    FinishReason,
    Generation,
    GenerationStats,
    SamplingParams,
)
from agentkit.models.kernels import ReuseRules, reuse_rules
from agentkit.models.sampling import Sampler

if TYPE_CHECKING:
    from agentkit.config import Settings

# What moved out of this module stays importable from it.
__all__ = [
    "CancelFlag",
    "ClosedEarly",
    "FinishReason",
    "Generation",
    "GenerationStats",
    "LlamaEngine",
    "LoadParams",
    "SamplingParams",
    "degenerate",
]
# How many compiled grammars an engine keeps (the least recently used goes).
GRAMMAR_CACHE_SIZE = 16


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
    lora_path: str | None = None
    """A GGUF LoRA adapter applied on load (agentkit.models.adapter): another
    model, so another shared instance."""

    @classmethod
    def from_settings(cls, settings: Settings, path: Path | str) -> LoadParams:
        """What ``ChatLlama.from_settings(settings)`` loads, for ``path``."""
        from agentkit.models.adapter import resolve_adapter

        adapter = resolve_adapter(settings.model_adapter, settings.model)
        return cls(
            path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=settings.resolved_threads(),
            n_batch=settings.n_batch,
            n_gpu_layers=settings.n_gpu_layers,
            flash_attn=settings.flash_attn,
            lora_path=str(adapter) if adapter else None,
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
            **({"lora_path": self.lora_path} if self.lora_path else {}),
        }


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
        if params.lora_path:
            from agentkit.models.adapter import check_adapter, check_lora_support

            check_lora_support()
            check_adapter(Path(params.lora_path), Path(params.path))
        try:
            self.llm = Llama(**params.llama_kwargs())
        except (ValueError, RuntimeError) as err:
            raise ModelError(
                f"llama.cpp could not load {params.path}: {err}",
                hint="check that the file is a complete GGUF model this llama.cpp supports",
            ) from None
        if params.lora_path:
            from agentkit.models.adapter import verify_applied

            verify_applied(self.llm, Path(params.lora_path))
        import llama_cpp

        self._lib = llama_cpp
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.n_vocab = self.llm.n_vocab()
        self.n_ctx = self.llm.n_ctx()
        self.lock = threading.Lock()
        self._grammars: OrderedDict[str, GrammarSampler] = OrderedDict()
        self.rules: ReuseRules = reuse_rules(
            n_gpu_layers=params.n_gpu_layers, flash_attn=params.flash_attn
        )
        # Cache positions below this may be reused by the next prompt.
        self._reusable_tokens = 0
        closers = CloserBias.for_vocab(
            lambda text: self.tokenize(text, add_special=False), self.llm.token_eos()
        )
        self.sampler = Sampler(self.n_vocab, closers)
        self.forced_text: ForcedText | None = ForcedText.for_vocab(
            tokenize=self._tokenize_text,
            detokenize=self._detokenize,
            end_token=self.llm.token_eos(),
        )
        """Finds the text a grammar forces (None: this vocabulary cannot be probed)."""

    # --- tokens -------------------------------------------------------------------
    def tokenize(self, text: str, *, add_special: bool = True) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_special, special=True)

    def _tokenize_text(self, text: str) -> list[int]:
        """Plain text as the model would write it: no BOS, no special tokens."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def piece(self, token: int) -> bytes:
        """The bytes a token stands for in generated text."""
        return self.llm._model.token_to_piece(token, special=False).rstrip(b"\0")

    def _detokenize(self, tokens: list[int]) -> str:
        return b"".join(self.piece(t) for t in tokens).decode("utf-8", errors="replace")

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
            while len(self._grammars) > GRAMMAR_CACHE_SIZE:
                self._grammars.popitem(last=False)
        else:
            self._grammars.move_to_end(gbnf)
            grammar.reset()
        return grammar

    # --- evaluation: the decode loop's view of the KV cache, under the lock --------
    def prefill(self, tokens: list[int], stats: GenerationStats) -> None:
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

    def advance(self, token: int) -> None:
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

    def advance_batch(self, tokens: list[int]) -> None:
        """Evaluate several tokens in one batch, logits for the last only
        (forced text: what a prompt's tokens get, so with batch-invariant
        kernels the same keys and values as decoding them one by one)."""
        if len(tokens) == 1:
            self.advance(tokens[0])
            return
        self.llm.eval(tokens)
        if self.rules.reuse_generated:
            self._reusable_tokens = self.llm.n_tokens

    def advance_draft(self, token: int, draft: list[int]) -> None:
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

    def drop_last(self, count: int) -> None:
        """Forget the last ``count`` evaluated tokens (a rejected draft's rest)."""
        if count <= 0:
            return
        llm = self.llm
        llm.n_tokens -= count
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
        self._reusable_tokens = min(self._reusable_tokens, llm.n_tokens)

    def logits(self, row: int = -1) -> np.ndarray:
        """Row ``row`` of the last evaluated batch's logits (-1: its last): a
        view of llama.cpp's buffer, overwritten by the next evaluation."""
        ptr = self._lib.llama_get_logits_ith(self.llm._ctx.ctx, row)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

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
        close_after: str | None,
        first_bias: dict[int, float] | None,
        step_bias: dict[int, float] | None,
    ) -> Iterator[str]:
        with self.lock:
            grammar = self._grammar(gbnf) if gbnf else None
            decoding = Decoding(
                self,
                prompt_tokens,
                sampling,
                grammar,
                stats,
                cancel=cancel,
                close_after=close_after,
                first_bias=first_bias,
                step_bias=step_bias,
            )
            yield from decoding.run()
