"""The model layer over HTTP: llama.cpp's OpenAI-compatible servers.

``ChatLlamaServer`` is :class:`~agentkit.models.chat.ChatLlama` with the
in-process engine swapped for a pool of servers (``python -m
llama_cpp.server`` from ``llama-cpp-python[server]``, or ``llama-server``).
Everything above the engine is shared: the prompt is rendered with the same
:class:`~agentkit.models.prompt.PromptFormat`, tool calls and structured
output are decoded under the same GBNF grammar (sent as the ``grammar`` field
of ``/v1/completions``, which both servers accept), and the reply is parsed by
the same ``parse_tool_calls``. So a tool call is valid by construction here
too, and streaming, ``tool_choice`` and ``with_structured_output`` behave
the same.

``/v1/completions`` rather than ``/v1/chat/completions``: the chat endpoint
would apply the server's own template and tool-call handling (llama-cpp-python
ignores ``json_schema`` response formats and its function-calling format gave
2/20 valid calls on the bundled model; see shared design notes).

Several URLs: each request starts at the next server (round robin); a server
that refuses the connection or answers 5xx before the first token is skipped
with a warning for ``retry_s`` seconds, and the request goes to the next one.
``RemoteEmbeddings`` does the same for ``/v1/embeddings``. The pool itself is
:mod:`agentkit.models.servers`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from langchain_core.embeddings import Embeddings
from pydantic import Field, PrivateAttr

from agentkit.config import Settings, load_settings
from agentkit.errors import ConfigError, ModelError
from agentkit.models.chat import ChatLlama, sampling_settings
from agentkit.models.engine import FinishReason, Generation, GenerationStats, SamplingParams
from agentkit.models.hints import GRAMMAR_HINTS, HintKind
from agentkit.models.profile import ModelProfile
from agentkit.models.prompt import PromptFormat, choose_format
from agentkit.models.servers import (
    HEALTH_TIMEOUT_S,
    HTTP_SCHEMES,
    ServerDown,
    ServerPool,
    _describe,
    _none_reachable,
    _raise_for_client_error,
    is_server_spec,
    model_server_urls,
    normalise_url,
    split_urls,
)

# What moved to servers.py stays importable from here.
__all__ = [
    "HEALTH_TIMEOUT_S",
    "HTTP_SCHEMES",
    "ChatLlamaServer",
    "RemoteEmbeddings",
    "RemoteEngine",
    "ServerDown",
    "ServerPool",
    "embedder_name",
    "is_server_spec",
    "model_server_urls",
    "normalise_url",
    "split_urls",
]

# --- streaming completions --------------------------------------------------------------


class RemoteEngine:
    """The HTTP counterpart of :class:`~agentkit.models.engine.LlamaEngine`:
    ``generate`` takes the rendered prompt (the server tokenizes it) and a
    GBNF grammar, and returns the same :class:`Generation` of text deltas."""

    def __init__(self, pool: ServerPool, model: str = "") -> None:
        self.pool = pool
        self.model = model

    def generate(
        self,
        prompt: str,
        sampling: SamplingParams,
        *,
        grammar: str | None = None,
        cancel: threading.Event | None = None,
        close_after: str | None = None,
        first_bias: dict[int, float] | None = None,
        step_bias: dict[int, float] | None = None,
    ) -> Generation:
        """The steering arguments of the in-process engine are accepted and
        not applied: a server decodes the whole reply in one request, so a
        call it cuts off at ``max_tokens`` is reported invalid instead of
        being closed, and per-step logit biases cannot be sent."""
        del close_after, first_bias, step_bias
        stats = GenerationStats()
        generation = Generation(deltas=iter(()), stats=stats)
        generation.deltas = self._run(prompt, sampling, grammar, cancel, stats)
        return generation

    def _body(self, prompt: str, sampling: SamplingParams, grammar: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "prompt": prompt,
            "stream": True,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k,
            # llama-server: report token counts in the last chunk
            "stream_options": {"include_usage": True},
        }
        if self.model:
            body["model"] = self.model
        if sampling.seed >= 0:
            body["seed"] = sampling.seed
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if grammar is not None:
            body["grammar"] = grammar
        return body

    def _run(
        self,
        prompt: str,
        sampling: SamplingParams,
        grammar: str | None,
        cancel: threading.Event | None,
        stats: GenerationStats,
    ) -> Iterator[str]:
        body = self._body(prompt, sampling, grammar)
        errors: list[str] = []
        for url in self.pool.candidates():
            try:
                yield from self._stream_from(url, body, cancel, stats)
            except ServerDown as err:
                errors.append(f"{url}: {err}")
                self.pool.mark_dead(url, str(err))
                continue
            self.pool.mark_alive(url)
            return
        raise _none_reachable(errors)

    def _stream_from(
        self,
        url: str,
        body: dict[str, Any],
        cancel: threading.Event | None,
        stats: GenerationStats,
    ) -> Iterator[str]:
        """Stream one completion from ``url``. Raises ServerDown while nothing
        has been yielded (so the caller may try another server), ModelError
        after (a half reply cannot be retried without repeating tokens)."""
        started = time.perf_counter()
        first_token_at: float | None = None
        finish: str | None = None
        usage: dict[str, Any] = {}
        try:
            with self.pool.client.stream("POST", f"{url}/completions", json=body) as response:
                if response.status_code >= 500:
                    raise ServerDown(f"HTTP {response.status_code}")
                if response.status_code >= 400:
                    response.read()
                    _raise_for_client_error(url, response)
                for data in _sse_data(response.iter_lines()):
                    if cancel is not None and cancel.is_set():
                        finish = (
                            "cancelled"  # leaving the block closes the stream; the server stops
                        )
                        break
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if chunk.get("error"):
                        message = _describe(Exception(json.dumps(chunk["error"])))
                        if not stats.text:
                            raise ServerDown(f"server error: {message}")
                        raise ModelError(
                            f"model server {url} failed in the middle of a reply: {message}"
                        )
                    if chunk.get("usage"):
                        usage = chunk["usage"]
                    for choice in chunk.get("choices") or ():
                        text = choice.get("text") or ""
                        if text:
                            if first_token_at is None:
                                first_token_at = time.perf_counter()
                            stats.completion_tokens += 1
                            stats.text += text
                            yield text
                        if choice.get("finish_reason"):
                            finish = str(choice["finish_reason"])
        except httpx.TransportError as err:
            if not stats.text:
                raise ServerDown(_describe(err)) from None
            raise ModelError(
                f"model server {url} failed in the middle of a reply: {_describe(err)}",
                hint="the run can be resumed; check the server's log",
            ) from None
        finally:
            ended = time.perf_counter()
            stats.prompt_seconds = (first_token_at or ended) - started
            stats.decode_seconds = ended - (first_token_at or ended)
        if finish is None:
            # The stream ended without a finish reason: llama_cpp.server cuts
            # a stream short when another request arrives unless it was
            # started with --interrupt_requests false.
            if not stats.text:
                raise ServerDown("the reply stream ended before it started")
            raise ModelError(
                f"model server {url} ended a reply early",
                hint="start llama_cpp.server with --interrupt_requests false (docs/deploy.md)",
            )
        stats.finish_reason = _finish_reason(finish)
        if usage:
            stats.completion_tokens = int(usage.get("completion_tokens") or stats.completion_tokens)
            stats.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
            stats.prompt_tokens_reused = cached
            stats.prompt_tokens_evaluated = max(0, stats.prompt_tokens - cached)


def _finish_reason(reason: str) -> FinishReason:
    if reason in ("length", "cancelled"):
        return reason  # type: ignore[return-value]
    return "stop"


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data:`` payloads of a server-sent event stream (one per event)."""
    parts: list[str] = []
    for line in lines:
        if not line.strip():
            if parts:
                yield "\n".join(parts)
                parts = []
            continue
        if line.startswith("data:"):
            parts.append(line[5:].lstrip(" "))
            # llama_cpp.server separates events with a single newline.
            if parts[-1] == "[DONE]" or parts[-1].endswith("}"):
                yield "\n".join(parts)
                parts = []
    if parts:
        yield "\n".join(parts)


# --- the chat model ------------------------------------------------------------------------


class ChatLlamaServer(ChatLlama):
    """``ChatLlama`` over one or more llama.cpp OpenAI-compatible servers.

    The prompt format: ``chat_format`` if set; otherwise the same resolution
    as in process when the GGUF the servers run is known locally (``model``
    set to its path or ``bundled:...``), else Gemma's format when the server
    reports a gemma model id and ChatML for anything else.
    """

    model_path: str = Field(
        "", description="Local copy of the served GGUF, if any (format detection)."
    )

    def agentkit_profile(self) -> ModelProfile:
        """A served model is not inspected: small-model steering stays off."""
        return ModelProfile(served=True)

    @property
    def supported_hints(self) -> frozenset[HintKind]:
        """A server decodes the whole reply in one request: argument choices
        and a required tool travel in the grammar, per-token biases cannot."""
        return GRAMMAR_HINTS

    base_urls: list[str] = Field(description="Server base URLs (http://host:port/v1).")
    timeout_s: float = 120.0
    retry_s: float = 15.0
    server_model: str = Field("", description="`model` field sent to the servers (optional).")

    _remote: RemoteEngine | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> ChatLlamaServer:
        settings = settings or load_settings()
        urls = model_server_urls(settings)
        if not urls:
            raise ConfigError(
                "no model servers configured",
                hint='set model_urls or model = "http://host:port/v1"',
            )
        values: dict[str, Any] = {
            "base_urls": urls,
            "model_path": _local_gguf(settings),
            "model": ",".join(urls),
            **sampling_settings(settings),
            "timeout_s": settings.remote_timeout_s,
            "retry_s": settings.remote_retry_s,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def pool(self) -> ServerPool:
        return self.engine.pool

    @property
    def engine(self) -> RemoteEngine:  # type: ignore[override]
        if self._remote is None:
            pool = ServerPool.shared(self.base_urls, self.timeout_s, self.retry_s)
            self._remote = RemoteEngine(pool, self.server_model)
        return self._remote

    @property
    def prompt_format(self) -> PromptFormat:
        if self._format is None:
            architecture, template = "", None
            if self.chat_format == "auto":
                if self.model_path and Path(self.model_path).is_file():
                    from agentkit.models.resolve import read_gguf_info

                    info = read_gguf_info(Path(self.model_path))
                    architecture, template = info.architecture, info.chat_template
                else:
                    ids = self.engine.pool.model_ids()
                    architecture = "gemma" if any("gemma" in i.lower() for i in ids) else ""
            try:
                # BOS: the server adds it when it tokenizes the prompt.
                self._format = choose_format(
                    self.chat_format,
                    architecture=architecture,
                    chat_template=template,
                    bos_token="",
                    eos_token="",
                )
            except ValueError as err:
                raise ModelError(str(err)) from None
        return self._format

    def _tokens(self, prompt: str) -> Any:  # type: ignore[override]
        return prompt  # the server tokenizes

    @property
    def _llm_type(self) -> str:
        return "agentkit-llama-cpp-server"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {**super()._identifying_params, "servers": list(self.base_urls)}


def _local_gguf(settings: Settings) -> str:
    """The GGUF ``model`` names, if it is on this host already (only used to
    pick the prompt format: a client host never assembles or loads it)."""
    spec = settings.model.strip()
    if is_server_spec(spec):
        return ""
    if spec.startswith("bundled:"):
        from agentkit.models.resolve import BUNDLED

        bundled = BUNDLED.get(spec.removeprefix("bundled:"))
        if bundled is None:
            return ""
        path = settings.resolved_cache_dir() / "models" / bundled.filename
    else:
        path = Path(spec).expanduser()
    return str(path) if path.is_file() else ""


# --- embeddings ----------------------------------------------------------------------------


class RemoteEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over ``/v1/embeddings`` of one or more servers
    (``python -m llama_cpp.server --embedding true``, or ``llama-server
    --embeddings``). Vectors are L2-normalised here (llama-cpp-python's server
    does not), matching the in-process embedder, so a collection built with one
    can be searched with the other when both run the same GGUF."""

    def __init__(
        self,
        urls: Sequence[str] | str,
        *,
        name: str,
        model: str = "",
        batch_size: int = 32,
        timeout_s: float = 120.0,
        retry_s: float = 15.0,
    ) -> None:
        self.urls = split_urls(urls)
        self.name = name
        self.model = model
        self.batch_size = batch_size
        self.pool = ServerPool.shared(self.urls, timeout_s, retry_s)
        self._dimension: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteEmbeddings:
        if not settings.embed_url:
            raise ConfigError("embed_url is not set")
        return cls(
            settings.embed_url,
            name=embedder_name(settings.embed_model),
            timeout_s=settings.remote_timeout_s,
            retry_s=settings.remote_retry_s,
        )

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.embed_query("dimension probe"))
        return self._dimension

    @property
    def info(self) -> Any:
        from agentkit.models.embedder import EmbedderInfo

        return EmbedderInfo(self.name, self.dimension)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t if t.strip() else " " for t in texts[start : start + self.batch_size]]
            body: dict[str, Any] = {"input": batch}
            if self.model:
                body["model"] = self.model
            data = self.pool.post_json("/embeddings", body).get("data") or []
            if len(data) != len(batch):
                raise ModelError(
                    f"embedding server returned {len(data)} vectors for {len(batch)} texts"
                )
            for item in sorted(data, key=lambda d: d.get("index", 0)):
                vectors.append(_normalised(_pooled(item["embedding"])))
        if vectors and self._dimension is None:
            self._dimension = len(vectors[0])
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def close(self) -> None:
        """The pool is shared within the process; nothing to release per object."""


def _pooled(embedding: list[Any]) -> list[float]:
    # A server started without pooling returns one vector per token: mean them
    # (what the model's sentence-transformers pipeline does).
    if embedding and isinstance(embedding[0], list):
        n = len(embedding)
        return [sum(col) / n for col in zip(*embedding, strict=True)]
    return [float(x) for x in embedding]


def _normalised(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else vector


def embedder_name(embed_model: str) -> str:
    """The collection-metadata name of ``embed_model``: the same name the
    in-process embedder records for the same GGUF."""
    from agentkit.models.embedder import BUNDLED_EMBEDDER_NAME
    from agentkit.models.minilm import BUNDLED_EMBED_SPEC

    if embed_model == BUNDLED_EMBED_SPEC:
        return BUNDLED_EMBEDDER_NAME
    if is_server_spec(embed_model) or embed_model.startswith("bundled:"):
        return embed_model
    return f"gguf:{Path(embed_model).expanduser().name}"
