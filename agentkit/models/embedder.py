"""Sentence embeddings with llama.cpp, as a LangChain ``Embeddings``.

Speed comes from packing many sequences into one ``llama_decode`` call (one
seq_id each, pooled per sequence by llama.cpp), sorting texts by token count
first so each batch holds sequences of similar length, and flash attention,
which skips the masked cross-sequence blocks. A short query is decoded alone,
at its own length.

Correctness against sentence-transformers needs two things llama-cpp-python's
``Llama.embed`` does not do: truncate to the model's window *keeping the final
[SEP]*, and L2-normalise.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from agentkit.errors import ModelError
from agentkit.models.minilm import BUNDLED_EMBED_SPEC, BUNDLED_MAX_TOKENS, bundled_gguf_path


@dataclass(frozen=True)
class EmbedderInfo:
    """What a collection's vectors were made with."""

    name: str
    dimension: int


if TYPE_CHECKING:
    from llama_cpp import Llama

    from agentkit.config import Settings

ProgressFn = Callable[[int, int], None]  # (texts done, texts total)

BUNDLED_EMBEDDER_NAME = "all-minilm-l6-v2"
DEFAULT_BATCH_TOKENS = 256
DEFAULT_MAX_TOKENS = 512  # for GGUF models by path, capped by their training context
DEFAULT_MAX_SEQS = 64
MAX_LANES = 4


@dataclass
class _Lane:
    """One llama.cpp context on the shared model, with its own batch buffer."""

    ctx: Any  # llama_context_p
    memory: Any  # llama_memory_t, or None for encoders
    batch: Any  # llama_batch
    owned: bool  # created by the embedder (the first lane is the Llama's own)


class LlamaEmbedder(Embeddings):
    """A GGUF embedding model run in-process by llama.cpp."""

    def __init__(
        self,
        model_path: Path | str,
        *,
        name: str | None = None,
        n_threads: int | None = None,
        max_tokens: int | None = None,
        batch_tokens: int | None = None,
        max_seqs: int = DEFAULT_MAX_SEQS,
        flash_attn: bool = True,
        n_gpu_layers: int = 0,
        normalize: bool = True,
    ) -> None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelError(
                f"embedding model {path} not found", hint="set embed_model to a GGUF file"
            )
        # One decode holds at most batch_tokens tokens, so the longest
        # (truncated) text must fit. Smaller batches waste less attention on
        # masked cross-sequence blocks: for the bundled F16 MiniLM on 2 cores
        # 256 gave 80-91 sentences/s against 66-77 for 512 (paired runs).
        if batch_tokens is None:
            batch_tokens = max(DEFAULT_BATCH_TOKENS, max_tokens or DEFAULT_MAX_TOKENS)
        # n_ctx above 256 must be a multiple of 256 or context creation aborts.
        if batch_tokens > 256 and batch_tokens % 256:
            batch_tokens = (batch_tokens // 256 + 1) * 256
        self.model_path = path
        self.normalize = normalize
        self._batch_tokens = batch_tokens
        self._lock = threading.Lock()
        self._threads = n_threads or _default_threads()
        self._llama = self._load(path, self._threads, batch_tokens, flash_attn, n_gpu_layers)

        import llama_cpp

        model = self._llama.model
        self._vocab = llama_cpp.llama_model_get_vocab(model)
        self.dimension = int(llama_cpp.llama_model_n_embd(model))
        train_ctx = int(llama_cpp.llama_model_n_ctx_train(model)) or batch_tokens
        self.max_tokens = min(max_tokens or train_ctx, train_ctx, batch_tokens)
        self._max_seqs = max(1, min(max_seqs, int(self._llama.context_params.n_seq_max)))
        # When the tokenizer appends [SEP]/EOS, truncation must keep it
        # (sentence-transformers does; cosine fell to 0.71 without it).
        self._keeps_last = bool(
            llama_cpp.llama_vocab_get_add_sep(self._vocab)
            or llama_cpp.llama_vocab_get_add_eos(self._vocab)
        )
        self._lanes = [self._lane(self._llama.ctx, owned=False)]
        # Batches are spread over one context per core, each on one thread:
        # a context on two threads spends ~15% of its time in OpenMP barriers
        # (46 sentences per CPU-second on one thread, 36-43 on two). A lone
        # batch (a query) still gets every thread.
        lanes = 1 if n_gpu_layers else min(self._threads, MAX_LANES)
        for _ in range(lanes - 1):
            params = type(self._llama.context_params).from_buffer_copy(self._llama.context_params)
            params.n_threads = params.n_threads_batch = max(1, self._threads // lanes)
            ctx = llama_cpp.llama_init_from_model(model, params)
            if not ctx:
                break
            self._lanes.append(self._lane(ctx, owned=True))
        self.name = name or f"gguf:{path.name}"

    def _lane(self, ctx: Any, owned: bool) -> _Lane:
        import llama_cpp

        batch = llama_cpp.llama_batch_init(self._batch_tokens, 0, 1)
        return _Lane(ctx, llama_cpp.llama_get_memory(ctx), batch, owned)

    @staticmethod
    def _load(
        path: Path, threads: int, batch_tokens: int, flash_attn: bool, n_gpu_layers: int
    ) -> Llama:
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        import llama_cpp
        from llama_cpp import Llama

        from agentkit._llama_compat import extra_bufts_for
        from agentkit.models.resolve import read_gguf_info

        def load(pooling: int) -> Llama:
            return Llama(
                model_path=str(path),
                embedding=True,
                # n_batch must equal n_ubatch: encoder models evaluate a batch
                # in one ubatch and llama.cpp aborts the process otherwise.
                n_ctx=batch_tokens,
                n_batch=batch_tokens,
                n_ubatch=batch_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=n_gpu_layers,
                flash_attn=flash_attn,
                pooling_type=pooling,
                verbose=False,
            )

        try:
            with extra_bufts_for(read_gguf_info(path).file_type):
                llama = load(llama_cpp.LLAMA_POOLING_TYPE_UNSPECIFIED)
                if llama_cpp.llama_pooling_type(llama.ctx) == llama_cpp.LLAMA_POOLING_TYPE_NONE:
                    # The GGUF does not say how to pool; mean pooling is the
                    # sentence-transformers default.
                    llama.close()
                    llama = load(llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelError(f"cannot load embedding model {path}: {err}") from None
        return llama

    # --- construction from settings ---------------------------------------------

    @classmethod
    def bundled(cls, cache_dir: Path, n_threads: int | None = None) -> LlamaEmbedder:
        """all-MiniLM-L6-v2, converted to GGUF into ``cache_dir`` on first use."""
        return cls(
            bundled_gguf_path(cache_dir),
            name=BUNDLED_EMBEDDER_NAME,
            n_threads=n_threads,
            max_tokens=BUNDLED_MAX_TOKENS,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> LlamaEmbedder:
        spec = settings.embed_model
        threads = settings.resolved_threads()
        if spec == BUNDLED_EMBED_SPEC:
            return cls.bundled(settings.resolved_cache_dir(), n_threads=threads)
        if spec.startswith("bundled:"):
            raise ModelError(
                f"unknown bundled embedding model {spec!r}",
                hint=f"use {BUNDLED_EMBED_SPEC} or a GGUF path",
            )
        return cls(Path(spec), n_threads=threads, n_gpu_layers=settings.n_gpu_layers)

    @property
    def info(self) -> EmbedderInfo:
        return EmbedderInfo(self.name, self.dimension)

    # --- tokenisation -------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Token ids with special tokens, truncated like sentence-transformers."""
        tokens = self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        if not tokens:
            tokens = self._llama.tokenize(b" ", add_bos=True, special=False) or [0]
        if len(tokens) > self.max_tokens:
            if self._keeps_last:
                tokens = tokens[: self.max_tokens - 1] + tokens[-1:]
            else:
                tokens = tokens[: self.max_tokens]
        return tokens

    # --- embedding ------------------------------------------------------------------

    def embed_array(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Vectors for ``texts`` as a float32 array of shape (len(texts), dimension)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        tokenized = [self.tokenize(t) for t in texts]
        # Longest first: each batch holds sequences of similar length.
        order = sorted(range(len(texts)), key=lambda i: len(tokenized[i]), reverse=True)
        groups = self._pack(order, tokenized)
        with self._lock:
            # A lone batch (a query) gets every thread, on the first context.
            lanes = self._lanes if len(groups) > 1 else self._lanes[:1]
            self._set_threads(lanes[0], max(1, self._threads // len(lanes)))
            self._decode_groups(lanes, groups, tokenized, out, progress)
        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.maximum(norms, 1e-12)
        return out

    def _pack(self, order: list[int], tokenized: list[list[int]]) -> list[list[int]]:
        groups: list[list[int]] = []
        current: list[int] = []
        used = 0
        for index in order:
            n = len(tokenized[index])
            if current and (used + n > self._batch_tokens or len(current) >= self._max_seqs):
                groups.append(current)
                current, used = [], 0
            current.append(index)
            used += n
        if current:
            groups.append(current)
        return groups

    @staticmethod
    def _set_threads(lane: _Lane, threads: int) -> None:
        import llama_cpp

        llama_cpp.llama_set_n_threads(lane.ctx, threads, threads)

    def _decode_groups(
        self,
        lanes: list[_Lane],
        groups: list[list[int]],
        tokenized: list[list[int]],
        out: np.ndarray,
        progress: ProgressFn | None,
    ) -> None:
        """Each lane takes the next group until none is left (longest first,
        so the lanes finish together); the first lane runs on this thread,
        the others on their own (llama_decode releases the GIL)."""
        pending = list(reversed(groups))
        taken = threading.Lock()
        failures: list[BaseException] = []
        done = [0]

        def work(lane: _Lane) -> None:
            while True:
                with taken:
                    if not pending or failures:
                        return
                    group = pending.pop()
                try:
                    vectors = self._decode(lane, [tokenized[i] for i in group])
                except BaseException as err:  # noqa: BLE001 - re-raised by the caller
                    with taken:
                        failures.append(err)
                    return
                with taken:
                    out[group] = vectors
                    done[0] += len(group)
                    if progress is not None:
                        progress(done[0], len(out))

        workers = [threading.Thread(target=work, args=(lane,), daemon=True) for lane in lanes[1:]]
        for worker in workers:
            worker.start()
        work(lanes[0])
        for worker in workers:
            worker.join()
        if failures:
            raise failures[0]

    def _decode(self, lane: _Lane, sequences: list[list[int]]) -> np.ndarray:
        import llama_cpp

        batch = lane.batch
        j = 0
        for seq_id, tokens in enumerate(sequences):
            for pos, token in enumerate(tokens):
                batch.token[j] = token
                batch.pos[j] = pos
                batch.n_seq_id[j] = 1
                batch.seq_id[j][0] = seq_id
                batch.logits[j] = 1  # every token is an output for pooling
                j += 1
        batch.n_tokens = j
        ctx = lane.ctx
        if lane.memory is not None:  # causal embedding models keep a KV cache
            llama_cpp.llama_memory_clear(lane.memory, True)
        status = llama_cpp.llama_decode(ctx, batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed with status {status}")
        result = np.empty((len(sequences), self.dimension), dtype=np.float32)
        for seq_id in range(len(sequences)):
            pointer = llama_cpp.llama_get_embeddings_seq(ctx, seq_id)
            if not pointer:
                raise RuntimeError("llama.cpp returned no pooled embedding")
            result[seq_id] = np.ctypeslib.as_array(pointer, shape=(self.dimension,))
        return result

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()

    def close(self) -> None:
        import llama_cpp

        with self._lock:
            for lane in self._lanes:
                llama_cpp.llama_batch_free(lane.batch)
                if lane.owned:
                    llama_cpp.llama_free(lane.ctx)
            self._lanes = []
            self._llama.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def _default_threads() -> int:
    from agentkit.config import physical_cores

    return physical_cores()


def embedder_info(embeddings: Embeddings) -> EmbedderInfo:
    """Name and dimension of any LangChain ``Embeddings`` (probing it once if
    it does not say), for the collection metadata check."""
    info = getattr(embeddings, "info", None)
    if isinstance(info, EmbedderInfo):
        return info
    model = next(
        (
            str(getattr(embeddings, attr))
            for attr in ("model", "model_name", "model_id", "name")
            if isinstance(getattr(embeddings, attr, None), str)
        ),
        None,
    )
    name = f"{type(embeddings).__name__}:{model}" if model else type(embeddings).__name__
    dimension = len(embeddings.embed_query("dimension probe"))
    return EmbedderInfo(name, dimension)


def embed_texts(
    embeddings: Embeddings,
    texts: Sequence[str],
    progress: ProgressFn | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Embed with any ``Embeddings`` in batches, reporting progress."""
    if isinstance(embeddings, LlamaEmbedder):
        return embeddings.embed_array(texts, progress)
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), batch_size):
        part = embeddings.embed_documents(list(texts[start : start + batch_size]))
        parts.append(np.asarray(part, dtype=np.float32))
        if progress is not None:
            progress(min(start + batch_size, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(parts)
