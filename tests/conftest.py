"""Shared fixtures. Real-model fixtures are session-scoped: the bundled model
is assembled once into the user cache and loaded once per test process (the
engine is shared process-wide anyway)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests_support import model_cache_dir

if TYPE_CHECKING:
    from agentkit.memory import KnowledgeBase, LlamaEmbedder

# Keep llama.cpp from busy-waiting while other tests run (see shared design notes).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


@pytest.fixture(scope="session")
def bundled_model_path() -> Path:
    """The bundled Gemma 3 270M GGUF, assembled into the user cache once."""
    from agentkit.config import load_settings
    from agentkit.models.resolve import resolve_model_path

    settings = load_settings()
    return resolve_model_path("bundled:gemma3-270m", settings.resolved_cache_dir())


@pytest.fixture(scope="session")
def real_chat_model(bundled_model_path: Path):
    """ChatLlama on the bundled model, greedy (temperature 0) for determinism."""
    from agentkit.models import ChatLlama

    return ChatLlama(
        model_path=str(bundled_model_path),
        model="bundled:gemma3-270m",
        temperature=0.0,
        n_ctx=8192,
        max_tokens=256,
    )


# --- the embedder and a knowledge base (memory and ingest tests) ------------------


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    """The user cache: the embedder is converted once, as on a user's first run."""
    return model_cache_dir()


@pytest.fixture(scope="module")
def embedder(cache_dir: Path) -> Iterator[LlamaEmbedder]:
    from agentkit.memory import LlamaEmbedder

    emb = LlamaEmbedder.bundled(cache_dir, n_threads=2)
    yield emb
    emb.close()


@pytest.fixture
def kb(tmp_path: Path, embedder: LlamaEmbedder) -> Iterator[KnowledgeBase]:
    """A knowledge base in ``tmp_path / "data"``."""
    from agentkit.config import load_settings
    from agentkit.memory import KnowledgeBase

    base = KnowledgeBase.open(load_settings(data_dir=tmp_path / "data"), embeddings=embedder)
    yield base
    base.close()
