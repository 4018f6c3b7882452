"""The model layer: GGUF resolution, the shared llama.cpp engine, ChatLlama."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentkit.models.chat import ChatLlama
    from agentkit.models.factory import make_chat_model
    from agentkit.models.remote import ChatLlamaServer

__all__ = ["ChatLlama", "ChatLlamaServer", "make_chat_model"]


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
