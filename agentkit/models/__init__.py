"""The model layer: GGUF resolution, the shared llama.cpp engine, ChatLlama."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentkit.models.chat import ChatLlama

__all__ = ["ChatLlama"]


def __getattr__(name: str) -> object:
    # Lazy: importing agentkit.models must not load llama.cpp.
    if name == "ChatLlama":
        from agentkit.models.chat import ChatLlama

        return ChatLlama
    raise AttributeError(name)
