"""Helpers shared by test modules (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path


def model_cache_dir() -> Path:
    """The user cache agentkit uses for assembled and converted models, so the
    test run converts the embedder once, like a user's first run does."""
    from agentkit.config import load_settings

    path = load_settings().resolved_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path
