"""The llama.cpp embedder against sentence-transformers' own vectors.

Reference vectors: tests/fixtures/embeddings/ (README there says how they were
made). Everything runs on the real converted GGUF.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from agentkit.config import load_settings
from agentkit.errors import ModelError
from agentkit.models.embedder import LlamaEmbedder, embed_texts, embedder_info
from agentkit.models.minilm import bundled_gguf_path, bundled_model_zip

pytestmark = pytest.mark.model

FIXTURE = Path(__file__).parent / "fixtures" / "embeddings" / "reference_vectors.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(FIXTURE.read_text())


def test_conversion_writes_the_metadata_llama_cpp_needs(cache_dir: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(bundled_gguf_path(cache_dir))

    def value(key: str):
        return reader.fields[key].contents()

    assert value("general.architecture") == "bert"
    assert value("bert.pooling_type") == gguf.PoolingType.MEAN
    assert value("tokenizer.ggml.token_type_count") == 2
    assert value("tokenizer.ggml.model") == "bert"
    tokens = value("tokenizer.ggml.tokens")
    types = value("tokenizer.ggml.token_type")
    # WordPiece convention: "##ing" -> "ing", "the" -> "\u2581the", specials kept.
    assert tokens[101] == "[CLS]" and types[101] == gguf.TokenType.CONTROL
    assert "\u2581the" in tokens and "##ing" not in tokens
    assert value("tokenizer.ggml.bos_token_id") == 101
    assert value("tokenizer.ggml.seperator_token_id") == 102
    f16 = [t for t in reader.tensors if t.tensor_type == gguf.GGMLQuantizationType.F16]
    assert f16, "matrices should be stored as f16"


def test_conversion_is_cached(cache_dir: Path) -> None:
    first = bundled_gguf_path(cache_dir)
    mtime = first.stat().st_mtime_ns
    assert bundled_gguf_path(cache_dir) == first
    assert first.stat().st_mtime_ns == mtime
    assert not list(first.parent.glob("*.part"))


def test_token_ids_match_the_huggingface_tokenizer(
    embedder: LlamaEmbedder, reference: dict
) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    data = zipfile.ZipFile(bundled_model_zip()).read("tokenizer.json").decode()
    hf = tokenizers.Tokenizer.from_str(data)
    hf.enable_truncation(256)
    hf.no_padding()
    for sentence in reference["sentences"]:
        assert embedder.tokenize(sentence) == hf.encode(sentence).ids, sentence


def test_long_text_is_truncated_to_256_tokens_keeping_sep(
    embedder: LlamaEmbedder, reference: dict
) -> None:
    counts = reference["untruncated_token_counts"]
    longest = reference["sentences"][counts.index(max(counts))]
    assert max(counts) > 256
    tokens = embedder.tokenize(longest)
    assert len(tokens) == 256
    assert tokens[0] == 101 and tokens[-1] == 102


def test_vectors_match_sentence_transformers(embedder: LlamaEmbedder, reference: dict) -> None:
    expected = np.array(reference["vectors"], dtype=np.float32)
    assert len(expected) >= 10
    batched = embedder.embed_array(reference["sentences"])
    single = np.array([embedder.embed_query(s) for s in reference["sentences"]])
    for got in (batched, single):
        cosine = (got * expected).sum(axis=1) / (
            np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1)
        )
        worst = int(cosine.argmin())
        assert cosine.min() >= 0.999, (reference["sentences"][worst][:60], float(cosine.min()))
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_batches_keep_input_order_and_report_progress(embedder: LlamaEmbedder) -> None:
    texts = [("word " * n).strip() for n in (3, 200, 1, 50, 120, 7, 300, 2)] * 8
    events: list[tuple[int, int]] = []
    together = embedder.embed_array(
        texts, progress=lambda done, total: events.append((done, total))
    )
    alone = np.array([embedder.embed_query(t) for t in texts[:8]])
    # batches run on one context per core (2 here): every copy lands in its place
    for copy in range(8):
        np.testing.assert_allclose(together[copy * 8 : copy * 8 + 8], alone, atol=2e-3)
    assert len(events) > 1, "should run in several batches"
    assert [d for d, _ in events] == sorted(d for d, _ in events)
    assert events[-1] == (len(texts), len(texts))


def test_langchain_interface(embedder: LlamaEmbedder) -> None:
    docs = embedder.embed_documents(["alpha", "beta"])
    assert len(docs) == 2 and len(docs[0]) == 384
    assert isinstance(embedder.embed_query("alpha")[0], float)
    assert embedder_info(embedder).name == "all-minilm-l6-v2"
    assert embedder_info(embedder).dimension == 384


def test_any_gguf_by_path(cache_dir: Path, embedder: LlamaEmbedder, tmp_path: Path) -> None:
    copy = tmp_path / "my-embedder.gguf"
    copy.write_bytes(bundled_gguf_path(cache_dir).read_bytes())
    settings = load_settings(embed_model=str(copy), n_threads=2, cache_dir=cache_dir)
    other = LlamaEmbedder.from_settings(settings)
    try:
        assert other.name == "gguf:my-embedder.gguf"
        assert other.dimension == 384
        np.testing.assert_allclose(
            other.embed_query("hello there"), embedder.embed_query("hello there"), atol=1e-4
        )
    finally:
        other.close()


def test_missing_gguf_is_a_user_error(tmp_path: Path) -> None:
    settings = load_settings(embed_model=str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelError, match="not found"):
        LlamaEmbedder.from_settings(settings)
    with pytest.raises(ModelError, match="unknown bundled"):
        LlamaEmbedder.from_settings(load_settings(embed_model="bundled:nope"))


def test_embed_texts_batches_any_embeddings() -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    fake = DeterministicFakeEmbedding(size=8)
    seen: list[int] = []
    out = embed_texts(fake, [f"t{i}" for i in range(10)], lambda d, t: seen.append(d), batch_size=4)
    assert out.shape == (10, 8)
    assert seen == [4, 8, 10]
