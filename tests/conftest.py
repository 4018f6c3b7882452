"""Shared fixtures. Real-model fixtures are session-scoped: the bundled model
is assembled once into the user cache and loaded once per test process (the
engine is shared process-wide anyway)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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

    return ChatLlama(model_path=str(bundled_model_path), model="bundled:gemma3-270m", temperature=0.0, n_ctx=8192, max_tokens=256)
