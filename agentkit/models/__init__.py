"""The model layer: GGUF resolution, the shared llama.cpp engine, ChatLlama.

Front ends (the CLI, the TUI, ACP) use only what this package exports: the
chat models, and :func:`ensure_loaded` / :func:`context_usage` for what they
show of an in-process model, never the engine itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentkit.models.chat import ChatLlama
    from agentkit.models.factory import make_chat_model
    from agentkit.models.remote import ChatLlamaServer

__all__ = [
    "ChatLlama",
    "ChatLlamaServer",
    "ContextUsage",
    "context_usage",
    "ensure_loaded",
    "make_chat_model",
]


def __getattr__(name: str) -> object:
    # Lazy: importing agentkit.models must not load llama.cpp.
    if name == "ChatLlama":
        from agentkit.models.chat import ChatLlama

        return ChatLlama
    if name == "ChatLlamaServer":  # over llama.cpp's HTTP servers (docs/deploy.md)
        from agentkit.models.remote import ChatLlamaServer

        return ChatLlamaServer
    if name == "make_chat_model":
        from agentkit.models.factory import make_chat_model

        return make_chat_model
    raise AttributeError(name)


@dataclass(frozen=True)
class ContextUsage:
    """How full an in-process model's context is."""

    tokens: int
    """Tokens in its KV cache now (the last prompt and reply)."""
    size: int
    """The context's size (``n_ctx``)."""


def ensure_loaded(model: object) -> None:
    """Load an in-process model's weights now (a ``ChatLlama`` loads them on
    first use), so a missing model is reported early. Anything else: nothing."""
    from agentkit.models.chat import ChatLlama

    if isinstance(model, ChatLlama):
        model.engine  # noqa: B018 - loading is the point


def context_usage(model: object) -> ContextUsage | None:
    """The context use of an in-process ``ChatLlama`` (loading it if it is
    not yet). None for anything else: a model on servers, a factory that has
    not made its model yet, a scripted test model."""
    from agentkit.models.chat import ChatLlama
    from agentkit.models.engine import LlamaEngine

    engine = model.engine if isinstance(model, ChatLlama) else None
    if not isinstance(engine, LlamaEngine):
        return None
    return ContextUsage(tokens=engine.cached_tokens, size=engine.n_ctx)
