"""Settings → the chat model and embeddings to use: in process or over HTTP.

Every front end builds its model here, so ``model = "http://host:port/v1"``
(or ``model_urls``) and ``embed_url`` switch the whole product to servers
without code changes.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING

from agentkit.config import Settings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel


def uses_model_servers(settings: Settings) -> bool:
    from agentkit.models.remote import model_server_urls

    return bool(model_server_urls(settings))


def make_chat_model(settings: Settings) -> BaseChatModel:
    """``ChatLlamaServer`` when model servers are configured, else ``ChatLlama``."""
    if uses_model_servers(settings):
        from agentkit.models.remote import ChatLlamaServer

        return ChatLlamaServer.from_settings(settings)
    from agentkit.models.chat import ChatLlama

    return ChatLlama.from_settings(settings)


_SHARED_EMBEDDINGS: dict[tuple[str, str, str], Embeddings] = {}


def shared_embeddings(settings: Settings) -> Embeddings:
    """One embedder per configuration per process (tool routing uses it;
    loading MiniLM takes ~0.3 s and 46 MB)."""
    key = (settings.embed_model, settings.embed_url or "", str(settings.resolved_cache_dir()))
    if key not in _SHARED_EMBEDDINGS:
        if not _SHARED_EMBEDDINGS:
            # Freed before the interpreter tears llama.cpp's bindings down
            # (a finaliser running after that prints a traceback at exit).
            atexit.register(_close_shared_embeddings)
        _SHARED_EMBEDDINGS[key] = make_embeddings(settings)
    return _SHARED_EMBEDDINGS[key]


def _close_shared_embeddings() -> None:
    for embeddings in _SHARED_EMBEDDINGS.values():
        close = getattr(embeddings, "close", None)
        if callable(close):
            close()
    _SHARED_EMBEDDINGS.clear()


def make_embeddings(settings: Settings) -> Embeddings:
    """``RemoteEmbeddings`` when ``embed_url`` is set, else the in-process GGUF embedder."""
    if settings.embed_url:
        from agentkit.models.remote import RemoteEmbeddings

        return RemoteEmbeddings.from_settings(settings)
    from agentkit.models.embedder import LlamaEmbedder

    return LlamaEmbedder.from_settings(settings)
