"""Memory and RAG benchmarks: embedding throughput, ingest rate, query latency.

    .venv/bin/python benchmarks/bench_memory.py            # everything (minutes: 100k inserts)
    .venv/bin/python benchmarks/bench_memory.py --quick    # 1k and 10k chunks only

Prints numbers; asserts nothing. Figures to compare with (design.md, 2-core
x86): llama.cpp defaults ~17 sentences/s, flash attention ~43/s,
sentence-transformers on torch ~96/s, for 64-token sentences.

Query latency is end to end through ``DocumentIndex.search``: embedding the
query plus Chroma's top-5 search and fetch. Stores of 10k and 100k chunks are
filled with vectors derived from real embeddings (real vectors plus small
noise, renormalised): embedding 100k real chunks would take most of an hour on
2 cores, and the store's speed does not depend on where vectors came from.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from agentkit.bench.core import percentile
from agentkit.bench.rag import add_synthetic_chunks, sentences, time_queries
from agentkit.config import load_settings
from agentkit.models.embedder import LlamaEmbedder
from agentkit.models.minilm import bundled_gguf_path


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    return timed_cpu(fn, repeat)[0]


def timed_cpu(fn: Callable[[], object], repeat: int = 1) -> tuple[float, float]:
    """Best wall seconds and best CPU seconds (this process, all threads).

    On a machine other jobs are loading, wall time mostly measures the load;
    CPU time divided over the threads estimates the time on idle cores."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def bench_embedding(cache_dir: Path, threads: int, count: int) -> None:
    import llama_cpp

    model = bundled_gguf_path(cache_dir)
    probe = LlamaEmbedder(model, n_threads=threads, max_tokens=256)
    # Trim words until the sentences average 64 tokens with [CLS]/[SEP].
    texts = sentences(count, 62)
    while statistics.mean(len(probe.tokenize(t)) for t in texts[:16]) > 64:
        texts = [t.rsplit(" ", 1)[0] for t in texts]
    n_tokens = statistics.mean(len(probe.tokenize(t)) for t in texts)
    probe.close()
    print(
        f"\n## Embedding throughput ({count} sentences, {n_tokens:.0f} tokens each, {threads} threads)"
    )

    for label, flash in (
        ("llama-cpp-python Llama.embed, defaults", False),
        ("llama-cpp-python Llama.embed, flash_attn", True),
    ):
        llama = llama_cpp.Llama(
            model_path=str(model),
            embedding=True,
            n_threads=threads,
            n_threads_batch=threads,
            n_ctx=512,
            n_batch=512,
            n_ubatch=512,
            flash_attn=flash,
            verbose=False,
        )
        llama.embed(texts[:8])
        seconds, cpu = timed_cpu(lambda llama=llama: llama.embed(texts, normalize=True))
        print(
            f"{label:<46} {count / seconds:7.1f} sentences/s   "
            f"(idle-core estimate from CPU time {threads * count / cpu:6.1f}/s)"
        )
        llama.close()

    for batch_tokens in (256, 512, 1024):
        embedder = LlamaEmbedder(
            model, n_threads=threads, max_tokens=256, batch_tokens=batch_tokens
        )
        embedder.embed_array(texts[:16])
        seconds, cpu = timed_cpu(lambda embedder=embedder: embedder.embed_array(texts), repeat=2)
        queries = sentences(50, 8, seed=1)
        latencies = []
        for q in queries:
            start = time.perf_counter()
            embedder.embed_query(q)
            latencies.append(time.perf_counter() - start)
        default = " (default)" if batch_tokens == 512 else ""
        print(
            f"{'agentkit LlamaEmbedder, batch_tokens=' + str(batch_tokens) + default:<46} "
            f"{count / seconds:7.1f} sentences/s   "
            f"(idle-core estimate from CPU time {threads * count / cpu:6.1f}/s)   "
            f"query p50 {1000 * percentile(latencies, 0.5):.1f} ms"
        )
        embedder.close()


def bench_ingest(cache_dir: Path, threads: int, files: int) -> None:
    from agentkit.memory import KnowledgeBase

    embedder = LlamaEmbedder.bundled(cache_dir, n_threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        docs = root / "docs"
        docs.mkdir()
        for i in range(files):
            paragraphs = [" ".join(sentences(1, 110, seed=i * 10 + p)) + "." for p in range(4)]
            (docs / f"note{i:04d}.md").write_text(
                f"# Note {i}\n\n" + "\n\n".join(paragraphs) + "\n"
            )
        settings = load_settings(data_dir=root / "data")
        with KnowledgeBase.open(settings, embeddings=embedder) as kb:
            report = kb.documents.ingest([docs])
            again = kb.documents.ingest([docs])
        print(f"\n## Ingest ({files} Markdown files)")
        print(
            f"first run: {report.chunks_written} chunks in {report.seconds:.1f}s = "
            f"{report.chunks_written / report.seconds:.1f} chunks/s"
        )
        print(f"unchanged re-run: {len(again.unchanged)} files skipped in {again.seconds:.2f}s")
    embedder.close()


def bench_query(cache_dir: Path, threads: int, sizes: list[int]) -> None:
    from agentkit.memory import KnowledgeBase

    embedder = LlamaEmbedder.bundled(cache_dir, n_threads=threads)
    base_texts = sentences(512, 40, seed=7)
    base = embedder.embed_array(base_texts)
    rng = np.random.default_rng(0)
    queries = sentences(100, 10, seed=3)
    print(f"\n## Query latency, top-5, end to end (embed query + Chroma), {threads} threads")
    with tempfile.TemporaryDirectory() as tmp:
        notes = Path(tmp) / "notes"
        notes.mkdir()
        for i in range(5):
            (notes / f"note{i}.md").write_text(
                f"# Note {i}\n\n" + sentences(1, 80, seed=i)[0] + "\n"
            )
        settings = load_settings(data_dir=Path(tmp) / "data")
        with KnowledgeBase.open(settings, embeddings=embedder) as kb:
            kb.documents.ingest([notes])
            collection = kb.documents.collection
            filled = 0
            for size in sizes:
                start = time.perf_counter()
                added = size - filled
                filled = add_synthetic_chunks(collection, base, base_texts, filled, size, rng, "c")
                insert_s = time.perf_counter() - start
                total, embed_only = time_queries(kb.documents, queries)
                unchanged = kb.documents.ingest([notes])
                target = notes / "note0.md"
                target.write_text(target.read_text() + f"\nEdited at {size} chunks.\n")
                changed = kb.documents.ingest([notes])
                print(
                    f"{size:>7} chunks: p50 {1000 * percentile(total, 0.5):6.1f} ms  "
                    f"p95 {1000 * percentile(total, 0.95):6.1f} ms  "
                    f"(query embedding p50 {1000 * percentile(embed_only, 0.5):.1f} ms; "
                    f"store filled at {added / max(insert_s, 1e-9):.0f} vectors/s)\n"
                    f"{'':>15}re-ingest of 5 files: unchanged {unchanged.seconds:.2f} s, "
                    f"one file changed {changed.seconds:.2f} s"
                )
    embedder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100k-chunk store")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--only", choices=["embedding", "ingest", "query"])
    args = parser.parse_args()
    cache_dir = load_settings().resolved_cache_dir()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    if args.only in (None, "embedding"):
        bench_embedding(cache_dir, args.threads, args.sentences)
    if args.only in (None, "ingest"):
        bench_ingest(cache_dir, args.threads, args.files)
    if args.only in (None, "query"):
        bench_query(cache_dir, args.threads, sizes)


if __name__ == "__main__":
    main()
