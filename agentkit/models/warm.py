"""Start loading the chat model while the rest of agentkit is imported.

Loading the bundled GGUF takes ~0.6 s (almost all of it llama.cpp reading
Gemma's 262k-token vocabulary), and importing LangChain and LangGraph takes
~0.9 s. Both mostly wait on one core each, and llama.cpp's loader runs
without the GIL (ctypes releases it), so a background load overlaps the two.
The front ends call :func:`prewarm` first thing; a script can too:

    import agentkit
    from agentkit.config import load_settings

    settings = load_settings()
    agentkit.prewarm(settings)            # returns at once
    from agentkit.models import ChatLlama  # imports while the model loads
    model = ChatLlama.from_settings(settings)  # waits for the load, if still running

This module imports nothing heavy: only the engine (numpy, llama_cpp) and
model-file resolution.
"""

from __future__ import annotations

import threading

from agentkit.config import Settings

_HTTP = ("http://", "https://")


def runs_in_process(settings: Settings) -> bool:
    """Whether ``settings`` use the in-process llama.cpp model (not servers)."""
    return not settings.model_urls and not settings.model.strip().lower().startswith(_HTTP)


def prewarm(settings: Settings) -> threading.Thread | None:
    """Load the in-process chat model in a daemon thread; ``None`` when the
    model runs on servers. A failed load is not reported here: the model's
    first use loads again and raises the error where it can be shown."""
    if not runs_in_process(settings):
        return None

    def load() -> None:
        try:
            from agentkit.models.engine import LlamaEngine, LoadParams
            from agentkit.models.resolve import resolve_model_path

            path = resolve_model_path(settings.model, settings.resolved_cache_dir())
            LlamaEngine.shared(LoadParams.from_settings(settings, path))
        except Exception:  # noqa: BLE001 - reported by the real load, see above
            pass

    thread = threading.Thread(target=load, name="agentkit-prewarm", daemon=True)
    thread.start()
    return thread
