"""``agentkit.prewarm``: the background load is the one the chat model uses,
and loading in a background thread hides nothing another thread prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentkit.config import load_settings
from agentkit.models.engine import LlamaEngine, LoadParams
from agentkit.models.warm import prewarm, runs_in_process

pytestmark = pytest.mark.model


def test_prewarm_loads_the_engine_chat_llama_uses(bundled_model_path: Path) -> None:
    from agentkit.models import ChatLlama

    settings = load_settings(n_ctx=1024)  # a context no other test shares
    thread = prewarm(settings)
    assert thread is not None
    thread.join(timeout=60)
    params = LoadParams.from_settings(settings, bundled_model_path)
    model = ChatLlama.from_settings(settings)
    assert model.load_params == params
    assert LlamaEngine._registry[params] is model.engine  # loaded once, by prewarm


def test_prewarm_skips_model_servers() -> None:
    settings = load_settings(model="http://127.0.0.1:9/v1")
    assert not runs_in_process(settings)
    assert prewarm(settings) is None


def test_a_bad_model_path_is_reported_by_the_real_load(tmp_path: Path) -> None:
    from agentkit.errors import ModelError
    from agentkit.models import ChatLlama

    settings = load_settings(model=str(tmp_path / "missing.gguf"))
    thread = prewarm(settings)
    assert thread is not None
    thread.join(timeout=60)  # fails quietly in the background
    with pytest.raises(ModelError, match="does not exist"):
        ChatLlama.from_settings(settings)


def test_output_printed_during_a_background_load_is_not_lost(bundled_model_path: Path) -> None:
    # llama-cpp-python pointed fds 1 and 2 at /dev/null during a load; a line
    # the main thread printed meanwhile (an error message) disappeared.
    script = (
        "import sys, time, agentkit\n"
        "thread = agentkit.prewarm()\n"
        "deadline = time.time() + 30\n"
        "n = 0\n"
        "while thread.is_alive() and time.time() < deadline:\n"
        "    n += 1\n"
        "    print(f'out {n}', flush=True)\n"
        "    print(f'err {n}', file=sys.stderr, flush=True)\n"
        "    time.sleep(0.01)\n"
        "print(f'total {n}', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    total = int(done.stdout.strip().splitlines()[-1].split()[1])
    assert total > 0
    assert [line for line in done.stdout.splitlines() if line.startswith("out ")] == [
        f"out {i}" for i in range(1, total + 1)
    ]
    assert [line for line in done.stderr.splitlines() if line.startswith("err ")] == [
        f"err {i}" for i in range(1, total + 1)
    ]
    # llama.cpp's own log (its load messages and warnings) stays out of stderr
    assert all(line.startswith("err ") for line in done.stderr.splitlines())
