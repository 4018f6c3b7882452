"""Embeddings and RAG: sentences/s, ingest chunks/s, query latency vs corpus size.

Uses the memory layer as shipped (:class:`~agentkit.memory.LlamaEmbedder`,
:class:`~agentkit.memory.KnowledgeBase`); the same measurements as
``benchmarks/bench_memory.py``, folded into rows.

Query latency is end to end, as ``DocumentIndex.search`` does it: embedding
the query, then ``search_vector`` (Chroma's top-5 search and fetching the
hits); the two halves are also reported separately. Corpora past the
ingested notes are filled with vectors derived from real embeddings (real
vectors plus small noise, renormalised) inserted straight into the Chroma
collection: embedding 100k chunks would take ~17 minutes on 2 cores, and the
search cost does not depend on where the vectors came from. Only the queries
are embedded for real.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.bench.core import BenchContext, Row, Target, percentile

WORDS = (
    "agent memory vector store embedding query document chunk approval tool model graph "
    "thread checkpoint policy shell file network budget review committee river mountain "
    "harbour lantern orchard violin quantum protein glacier market festival engine"
).split()
SENTENCE_TOKENS = 64


def sentences(count: int, words: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)) for _ in range(count)]


def sized_sentences(embedder: Any, count: int) -> tuple[list[str], float]:
    """``count`` sentences of about 64 tokens ([CLS]/[SEP] included)."""
    texts = sentences(count, 62)
    while statistics.mean(len(embedder.tokenize(t)) for t in texts[:16]) > SENTENCE_TOKENS:
        texts = [t.rsplit(" ", 1)[0] for t in texts]
    return texts, statistics.mean(len(embedder.tokenize(t)) for t in texts)


# Sentence-transformers' ~96 sentences/s (design.md) over the baseline's
# 27.5/s, measured on an idle 2-core host with the same llama.cpp build: the
# ratio is the target, because both sides of it move with the machine's load.
EMBED_TARGET_RATIO = 3.5


def baseline_embedder(embedder: Any) -> Any:
    """llama-cpp-python's own embedding path on the same GGUF, everything at
    its defaults: what design.md measured at ~17 sentences/s beside
    sentence-transformers' ~96/s on the same kind of machine."""
    from llama_cpp import Llama

    return Llama(model_path=str(embedder.model_path), embedding=True, verbose=False)


def measure_embedding(ctx: BenchContext, embedder: Any) -> list[Row]:
    count = 96 if ctx.quick else 512
    texts, n_tokens = sized_sentences(embedder, count)
    ctx.say(f"[rag] embedding {count} sentences of {n_tokens:.0f} tokens, and the baseline")
    baseline = baseline_embedder(embedder)
    embedder.embed_array(texts[:16])
    baseline.embed(texts[:16])
    ours = base = float("inf")
    try:
        # Interleaved, best of two each: both sides see the same machine load.
        for _ in range(2):
            start = time.perf_counter()
            embedder.embed_array(texts)
            ours = min(ours, time.perf_counter() - start)
            start = time.perf_counter()
            baseline.embed(texts)
            base = min(base, time.perf_counter() - start)
    finally:
        baseline.close()
    return [
        Row(
            "rag",
            "embeddings sentences/s",
            count / ours,
            "sent/s",
            note=f"{n_tokens:.0f}-token sentences; design.md's figure: sentence-transformers on "
            f"torch ~96/s (not measured here: no torch installed)",
        ),
        Row(
            "rag",
            "embeddings ÷ llama.cpp defaults, same run",
            base / ours,
            "",
            Target(">=", EMBED_TARGET_RATIO),
            note=f"baseline: Llama(embedding=True).embed, same GGUF and texts, "
            f"{count / base:.1f} sent/s; interleaved, best of 2",
        ),
    ]


def measure_ingest(ctx: BenchContext, embedder: Any) -> list[Row]:
    from agentkit.memory import KnowledgeBase

    files = 10 if ctx.quick else 60
    ctx.say(f"[rag] ingesting {files} Markdown files")
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        root = Path(tmp)
        docs = root / "docs"
        docs.mkdir()
        for i in range(files):
            paragraphs = [" ".join(sentences(1, 110, seed=i * 10 + p)) + "." for p in range(4)]
            (docs / f"note{i:04d}.md").write_text(
                f"# Note {i}\n\n" + "\n\n".join(paragraphs) + "\n"
            )
        settings = ctx.settings.model_copy(update={"data_dir": root / "data"})
        with KnowledgeBase.open(settings, embeddings=embedder) as kb:
            report = kb.documents.ingest([docs])
    rate = report.chunks_written / report.seconds if report.seconds else 0.0
    return [
        Row(
            "rag",
            "ingest chunks/s",
            rate,
            "chunks/s",
            note=f"{report.chunks_written} chunks from {files} files (split + embed + Chroma)",
        )
    ]


def add_synthetic_chunks(
    collection: Any,
    base: np.ndarray,
    base_texts: list[str],
    filled: int,
    size: int,
    rng: np.random.Generator,
    id_prefix: str = "bench",
) -> int:
    """Grow a documents collection from ``filled`` to ``size`` chunks with
    vectors near real embeddings (``base``): embedding 100k real chunks takes
    most of an hour here, and search cost depends on the count, not the text.
    Returns the new count."""
    while filled < size:
        n = min(2000, size - filled)
        picks = base[rng.integers(0, len(base), n)]
        vectors = picks + rng.normal(0, 0.05, picks.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        collection.add(
            ids=[f"{id_prefix}{filled + i}" for i in range(n)],
            embeddings=vectors,
            documents=[base_texts[(filled + i) % len(base_texts)] for i in range(n)],
            metadatas=[
                {
                    "source": f"/bench/file{(filled + i) // 10}.md",
                    "start": 1,
                    "end": 9,
                    "unit": "line",
                    "n_chunks": 10,
                    "file_hash": "x",
                    "kind": "markdown",
                }
                for i in range(n)
            ],
        )
        filled += n
    return filled


def time_queries(index: Any, queries: list[str]) -> tuple[list[float], list[float]]:
    """Seconds per query end to end (embed + top-5 search) and for the
    embedding alone; DocumentIndex.search is embed_query + search_vector, so
    timing the halves says which one the latency is. Five warm-up queries first."""
    for q in queries[:5]:
        index.search(q, k=5)
    total: list[float] = []
    embed_only: list[float] = []
    for q in queries:
        start = time.perf_counter()
        vector = index.embeddings.embed_query(q)
        middle = time.perf_counter()
        index.search_vector(vector, k=5)
        total.append(time.perf_counter() - start)
        embed_only.append(middle - start)
    return total, embed_only


def measure_queries(ctx: BenchContext, embedder: Any) -> list[Row]:
    from agentkit.memory import KnowledgeBase

    sizes = [1_000, 10_000] if ctx.quick else [1_000, 10_000, 100_000]
    n_queries = 50 if ctx.quick else 100
    base_texts = sentences(256, 40, seed=7)
    base = embedder.embed_array(base_texts)
    rng = np.random.default_rng(0)
    queries = sentences(n_queries, 10, seed=3)
    series: list[dict[str, float]] = []
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        notes = Path(tmp) / "notes"
        notes.mkdir()
        (notes / "note.md").write_text("# Note\n\n" + sentences(1, 80)[0] + "\n")
        settings = ctx.settings.model_copy(update={"data_dir": Path(tmp) / "data"})
        with KnowledgeBase.open(settings, embeddings=embedder) as kb:
            kb.documents.ingest([notes])
            collection = kb.documents.collection
            filled = kb.documents.count()
            for size in sizes:
                ctx.say(f"[rag] filling the store to {size} chunks, {n_queries} queries")
                filled = add_synthetic_chunks(collection, base, base_texts, filled, size, rng)
                total, embed_only = time_queries(kb.documents, queries)
                p50, p95 = percentile(total, 0.5) * 1000, percentile(total, 0.95) * 1000
                embed_p50 = percentile(embed_only, 0.5) * 1000
                search_p50 = (
                    percentile([t - e for t, e in zip(total, embed_only, strict=True)], 0.5) * 1000
                )
                series.append(
                    {
                        "chunks": size,
                        "p50_ms": p50,
                        "p95_ms": p95,
                        "embed_p50_ms": embed_p50,
                        "search_p50_ms": search_p50,
                    }
                )
                largest = size == sizes[-1]
                target = Target("<=", 30.0) if largest else None
                note = f"embedding + top-5 search (p50 {embed_p50:.1f} + {search_p50:.1f} ms)"
                if largest and size != 100_000:
                    note += "; quick run: target (set at 100k) applied at 10k"
                rows.append(
                    Row(
                        "rag",
                        f"RAG query p50 @ {size // 1000}k chunks",
                        p50,
                        "ms",
                        target,
                        note=note,
                    )
                )
                rows.append(Row("rag", f"RAG query p95 @ {size // 1000}k chunks", p95, "ms"))
    ctx.series["latency_vs_corpus"] = series
    return rows


def run(ctx: BenchContext) -> list[Row]:
    from agentkit.memory import LlamaEmbedder

    embedder = LlamaEmbedder.from_settings(ctx.settings)
    try:
        rows = measure_embedding(ctx, embedder)
        rows += measure_ingest(ctx, embedder)
        rows += measure_queries(ctx, embedder)
    finally:
        embedder.close()
    return rows
