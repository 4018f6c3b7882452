"""Shared fixtures. Real-model fixtures are session-scoped: the bundled model
is assembled once into the user cache and loaded once per test process (the
engine is shared process-wide anyway)."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests_support import model_cache_dir

if TYPE_CHECKING:
    from agentkit.memory import KnowledgeBase, LlamaEmbedder

# Keep llama.cpp from busy-waiting while other tests run (see shared design notes).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

# System packages some tests need; without them those tests skip. `.ci/run`
# installs them; `make test` on a fresh machine says so at the start and end.
SYSTEM_PACKAGES = {
    "bubblewrap": ("bwrap", "the shell sandbox tests"),
    "tmux": ("tmux", "the real-terminal TUI test"),
    "postgresql": ("initdb", "the Postgres scale-out tests"),
}


def _missing_system_packages() -> list[str]:
    missing = []
    for package, (command, _what) in SYSTEM_PACKAGES.items():
        found = shutil.which(command) or (
            command == "initdb" and glob.glob("/usr/lib/postgresql/*/bin/initdb")
        )
        if not found:
            missing.append(package)
    return missing


def _missing_line() -> str | None:
    missing = _missing_system_packages()
    if not missing:
        return None
    skipped = ", ".join(SYSTEM_PACKAGES[p][1] for p in missing)
    return (
        f"missing system packages: {' '.join(missing)} ({skipped} will skip); "
        f"install with: sudo apt-get install -y {' '.join(missing)}"
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    return _missing_line()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = _missing_line()
    if line:
        terminalreporter.write_line(line, yellow=True)


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


@pytest.fixture(scope="session")
def adapted_chat_model(bundled_model_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """``real_chat_model`` with a small random LoRA adapter applied (every
    attention and MLP weight of every layer): exactness must hold with one."""
    from adapter_support import random_adapter

    from agentkit.models import ChatLlama

    adapter = random_adapter(
        bundled_model_path,
        tmp_path_factory.mktemp("adapter") / "random.gguf",
        rank=4,
        scale=0.02,
        seed=1,
    )
    return ChatLlama(
        model_path=str(bundled_model_path),
        model="bundled:gemma3-270m",
        adapter_path=str(adapter),
        temperature=0.0,
        n_ctx=8192,
        max_tokens=256,
    )


@pytest.fixture(params=["base model", "with a LoRA adapter"])
def exact_chat_model(request: pytest.FixtureRequest):
    """The exactness tests' model: the bundled one, then with an adapter."""
    name = "real_chat_model" if request.param == "base model" else "adapted_chat_model"
    return request.getfixturevalue(name)


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
