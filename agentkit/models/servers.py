"""The pool of llama.cpp servers that :mod:`agentkit.models.remote` talks to:
parsing and checking the configured URLs, and :class:`ServerPool`, which
hands out servers round robin, skips one that refused a connection or
answered 5xx for ``retry_s`` seconds, checks their health and posts JSON
with failover. The chat model, its engine and the embeddings all share one
pool per set of URLs; it lives apart from them because it knows nothing of
prompts, grammars or generations, only of servers."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import httpx

from agentkit.config import Settings
from agentkit.errors import ConfigError, ModelError

# The pool's warnings keep the logger they had before it moved here, so
# logging set up for agentkit.models.remote still sees them.
log = logging.getLogger("agentkit.models.remote")

HTTP_SCHEMES = ("http://", "https://")
HEALTH_TIMEOUT_S = 3.0


# --- URLs -------------------------------------------------------------------------------


def is_server_spec(spec: str | None) -> bool:
    """Whether a ``model``/``embed_model`` value names servers instead of a file."""
    return bool(spec) and spec.strip().lower().startswith(HTTP_SCHEMES)  # type: ignore[union-attr]


def split_urls(spec: str | Sequence[str] | None) -> list[str]:
    """``"http://a:1/v1, http://b:2"`` or a list → normalised base URLs ending in ``/v1``."""
    if spec is None:
        return []
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    return [normalise_url(item) for item in items if item.strip()]


def normalise_url(url: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"invalid server URL {url!r}", hint="use http://host:port/v1")
    path = parsed.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return f"{parsed.scheme}://{parsed.netloc}{path}"


def model_server_urls(settings: Settings) -> list[str]:
    """The chat model servers ``settings`` name (empty: run in process)."""
    urls = split_urls(settings.model_urls)
    if is_server_spec(settings.model):
        urls += [u for u in split_urls(settings.model) if u not in urls]
    return urls


# --- the server pool ----------------------------------------------------------------------


class ServerDown(Exception):
    """A server could not take the request (connection refused, 5xx, cut off
    before the first byte of the reply): try the next one."""


class ServerPool:
    """Round robin over base URLs with dead-server skipping. Shared per URL
    set within a process (:meth:`shared`), so every model and thread spreads
    its requests over the same rotation."""

    _registry: dict[tuple[tuple[str, ...], float, float], ServerPool] = {}
    _registry_lock = threading.Lock()

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_s: float = 120.0,
        retry_s: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ConfigError("no server URLs given")
        self.urls = [normalise_url(u) for u in urls]
        self.retry_s = retry_s
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            transport=transport,
            # Many agent threads share one pool; keep a connection per thread.
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self._next = itertools.count()
        self._dead_until: dict[str, float] = {}
        self.served: Counter[str] = Counter()  # completed requests per server
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, urls: Sequence[str], timeout_s: float, retry_s: float) -> ServerPool:
        key = (tuple(normalise_url(u) for u in urls), timeout_s, retry_s)
        with cls._registry_lock:
            pool = cls._registry.get(key)
            if pool is None:
                pool = cls(key[0], timeout_s=timeout_s, retry_s=retry_s)
                cls._registry[key] = pool
            return pool

    def candidates(self) -> list[str]:
        """Servers to try for one request, in order: the live ones starting at
        the next in the rotation, then the ones marked dead (they may be back)."""
        with self._lock:
            start = next(self._next) % len(self.urls)
            now = time.monotonic()
            rotated = self.urls[start:] + self.urls[:start]
            live = [u for u in rotated if self._dead_until.get(u, 0.0) <= now]
            dead = [u for u in rotated if u not in live]
        return live + dead

    def mark_dead(self, url: str, reason: str) -> None:
        with self._lock:
            first = url not in self._dead_until
            self._dead_until[url] = time.monotonic() + self.retry_s
        if first:
            log.warning(
                "model server %s is unavailable (%s); skipping it for %.0f s",
                url,
                reason,
                self.retry_s,
            )

    def mark_alive(self, url: str) -> None:
        with self._lock:
            self.served[url] += 1
            if self._dead_until.pop(url, None) is not None:
                log.warning("model server %s is back", url)

    def health(self) -> dict[str, str]:
        """``url → "ok" | reason`` from each server's ``/models`` (what
        ``agentkit doctor`` can show)."""
        report: dict[str, str] = {}
        for url in self.urls:
            try:
                response = self.client.get(f"{url}/models", timeout=HEALTH_TIMEOUT_S)
                response.raise_for_status()
                report[url] = "ok"
                self.mark_alive(url)
            except httpx.HTTPError as err:
                report[url] = _describe(err)
                self.mark_dead(url, report[url])
        return report

    def model_ids(self) -> list[str]:
        """Model ids the first reachable server reports (``/v1/models``)."""
        for url in self.candidates():
            try:
                response = self.client.get(f"{url}/models", timeout=HEALTH_TIMEOUT_S)
                response.raise_for_status()
            except httpx.HTTPError as err:
                self.mark_dead(url, _describe(err))
                continue
            return [str(m.get("id", "")) for m in response.json().get("data", [])]
        return []

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the first server that answers; ModelError when none does."""
        errors: list[str] = []
        for url in self.candidates():
            try:
                response = self.client.post(f"{url}{path}", json=body)
            except httpx.TransportError as err:
                errors.append(f"{url}: {_describe(err)}")
                self.mark_dead(url, _describe(err))
                continue
            if response.status_code >= 500:
                errors.append(f"{url}: HTTP {response.status_code}")
                self.mark_dead(url, f"HTTP {response.status_code}")
                continue
            _raise_for_client_error(url, response)
            self.mark_alive(url)
            return dict(response.json())
        raise _none_reachable(errors)

    def close(self) -> None:
        self.client.close()


def _describe(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0][:160]


def _raise_for_client_error(url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        detail = response.text[:300].replace("\n", " ")
        raise ModelError(
            f"model server {url} refused the request (HTTP {response.status_code}): {detail}",
            hint="check that the server is a llama.cpp OpenAI-compatible server and its flags (docs/deploy.md)",
        )


def _none_reachable(errors: list[str]) -> ModelError:
    return ModelError(
        "no model server could take the request (" + "; ".join(errors) + ")",
        hint="start the servers (docs/deploy.md) or fix model_urls / embed_url",
    )
