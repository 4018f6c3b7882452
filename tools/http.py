"""``http_get``: fetch one URL (network side effect, so the default policy asks).

Only http and https; an optional host allowlist checked on every redirect hop;
a byte cap while streaming and a total time cap. The client ignores the
environment (``trust_env=False``): no proxy variables, no ~/.netrc
credentials are sent on the model's behalf.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
from langchain_core.tools import ArgsSchema, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.base import SideEffect, ToolPreview
from agentkit.tools.declared import DeclaredTool
from agentkit.tools.limits import TRUNCATION_MARKER, ToolLimits, cap_text
from agentkit.tools.page_text import is_html, page_text

MAX_REDIRECTS = 5
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "+json",
    "+xml",
)


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """``example.com`` allows itself and its subdomains; empty = any host."""
    if not allowed:
        return True
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().lstrip("*.").rstrip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


def check_url(url: str, allowed: Sequence[str]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ToolException(
            f"http_get: only http and https URLs are allowed, not '{parts.scheme or url}'"
        )
    if not parts.hostname:
        raise ToolException(f"http_get: no host in URL '{url}'")
    if parts.username or parts.password:
        raise ToolException("http_get: URLs with credentials are not allowed")
    if not host_allowed(parts.hostname, allowed):
        raise ToolException(
            f"http_get: host '{parts.hostname}' is not in http_allowed_hosts ({', '.join(allowed)})"
        )
    return parts.hostname


class HttpGetArgs(BaseModel):
    url: str = Field(description="The http(s) URL to fetch.")


class HttpGet(DeclaredTool):
    name: str = "http_get"
    description: str = "Fetch a web page or API response with HTTP GET and return its text."
    args_schema: ArgsSchema | None = HttpGetArgs
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("network",)
    shows_content: ClassVar[bool] = True  # a page says whatever its author wants
    limits: ToolLimits = Field(exclude=True)
    allowed_hosts: tuple[str, ...] = ()
    max_bytes: int = 1_000_000
    timeout_s: float = 15.0
    html_as_text: bool = True  # an HTML page is shown as its text (tools/page_text.py)
    transport: httpx.BaseTransport | None = Field(None, exclude=True)  # tests: a mock

    def execute(self, url: str) -> str:
        check_url(url, self.allowed_hosts)
        deadline = time.monotonic() + self.timeout_s
        client = httpx.Client(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.timeout_s),
            transport=self.transport,
            headers={"User-Agent": "agentkit-http_get"},
        )
        try:
            with client:
                current = url
                for _hop in range(MAX_REDIRECTS + 1):
                    with client.stream("GET", current) as response:
                        if response.is_redirect and "location" in response.headers:
                            current = urljoin(current, response.headers["location"])
                            check_url(current, self.allowed_hosts)
                            continue
                        body = bytearray()
                        for chunk in response.iter_bytes():
                            body += chunk
                            if len(body) > self.max_bytes:
                                break
                            if time.monotonic() > deadline:
                                raise ToolException(
                                    f"http_get: timed out after {self.timeout_s:g}s"
                                )
                        return _describe(
                            response,
                            bytes(body),
                            current,
                            self.max_bytes,
                            self.limits,
                            html_as_text=self.html_as_text,
                        )
                raise ToolException(f"http_get: more than {MAX_REDIRECTS} redirects")
        except httpx.TimeoutException:
            raise ToolException(f"http_get: timed out after {self.timeout_s:g}s") from None
        except httpx.HTTPError as err:
            raise ToolException(f"http_get: {type(err).__name__}: {err}") from None

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        url = str(args.get("url", ""))
        note = ""
        try:
            check_url(url, self.allowed_hosts)
        except ToolException as err:
            note = f"\nwill be refused: {err}"
        return ToolPreview(
            kind="http",
            summary=f"GET {url}",
            body=f"GET {url}\nmethod: GET; max {self.max_bytes} bytes; "
            f"timeout {self.timeout_s:g}s{note}",
        )


def http_get_tool(
    limits: ToolLimits,
    *,
    allowed_hosts: Sequence[str] = (),
    max_bytes: int = 1_000_000,
    timeout_s: float = 15.0,
    html_as_text: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> HttpGet:
    return HttpGet(
        limits=limits,
        allowed_hosts=tuple(allowed_hosts),
        max_bytes=max_bytes,
        timeout_s=timeout_s,
        html_as_text=html_as_text,
        transport=transport,
    )


def _describe(
    response: httpx.Response,
    body: bytes,
    url: str,
    max_bytes: int,
    limits: ToolLimits,
    *,
    html_as_text: bool = True,
) -> str:
    content_type = response.headers.get("content-type", "")
    head = f"HTTP {response.status_code} {response.reason_phrase} {url}\ncontent-type: {content_type or '(none)'}\n"
    truncated = len(body) > max_bytes
    body = body[:max_bytes]
    if content_type and not any(t in content_type for t in TEXT_TYPES):
        return head + f"\n[binary content, {len(body)}{'+' if truncated else ''} bytes, not shown]"
    text = body.decode(response.encoding or "utf-8", errors="replace")
    if html_as_text and is_html(content_type, text):
        head += "[HTML page shown as its text]\n"
        text = page_text(text, url)
    if not truncated:
        return head + "\n" + cap_text(text, limits)
    hint = f"download stopped at http_max_bytes={max_bytes}"
    capped = cap_text(text, limits, hint=hint)
    if capped == text:
        capped = text.rstrip("\n") + f"\n{TRUNCATION_MARKER} {hint}]"
    return head + "\n" + capped
