"""calculator, current_time, think and http_get."""

from __future__ import annotations

import http.server
import math
import threading
from collections.abc import Iterator

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.tools.calculator import CalculatorError, calculator_tool, evaluate
from agentkit.tools.http import host_allowed, http_get_tool
from agentkit.tools.limits import ToolLimits
from agentkit.tools.misc import Scratchpad, current_time_tool, think_tool


def call(t: BaseTool, args: dict[str, object]) -> ToolMessage:
    message = t.invoke({"type": "tool_call", "name": t.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


@pytest.mark.parametrize(
    "expression,value",
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 ** 10", 1024),
        ("2 ^ 8", 256),
        ("7 // 2 + 7 % 2", 4),
        ("-3 + +1", -2),
        ("sqrt(16) + log10(1000)", 7.0),
        ("round(pi, 3)", 3.142),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("factorial(10)", 3628800),
        ("1 / 4", 0.25),
    ],
)
def test_calculator_values(expression: str, value: float) -> None:
    assert evaluate(expression) == pytest.approx(value)


@pytest.mark.parametrize(
    "expression,words",
    [
        ("__import__('os').system('id')", "not allowed"),
        ("__import__('os')", "unknown function"),
        ("().__class__.__bases__", "not allowed"),
        ("open('/etc/passwd')", "unknown function"),
        ("os", "unknown name"),
        ("'a' * 10", "not allowed"),
        ("[x for x in range(9)]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("9 ** 9 ** 9", "too large"),
        ("10 ** 100000", "too large"),
        ("factorial(100000)", "factorial"),
        ("1 / 0", "division by zero"),
        ("1 +", "not an arithmetic expression"),
        ("1" * 600, "longer than"),
        ("math.sqrt(4)", "not allowed"),
        ("sqrt(x=4)", "not allowed"),
    ],
)
def test_calculator_refuses(expression: str, words: str) -> None:
    with pytest.raises(CalculatorError, match=words):
        evaluate(expression)


def test_calculator_tool() -> None:
    t = calculator_tool()
    assert call(t, {"expression": "6 * 7"}).content == "42"
    assert call(t, {"expression": "2 ** 0.5"}).content == str(math.sqrt(2))
    bad = call(t, {"expression": "import os"})
    assert bad.status == "error" and bad.content.startswith("calculator:")


def test_current_time() -> None:
    t = current_time_tool()
    out = call(t, {}).content
    assert "+00:00" in out and "UTC" in out
    assert "Europe/Paris" in call(t, {"timezone": "Europe/Paris"}).content
    bad = call(t, {"timezone": "Mars/Olympus"})
    assert bad.status == "error" and "unknown time zone" in bad.content


def test_think_records_notes() -> None:
    pad = Scratchpad()
    t = think_tool(pad)
    assert call(t, {"thought": "first read the README"}).content == "noted (1 note so far)"
    call(t, {"thought": "then run tests"})
    assert pad.notes == ["first read the README", "then run tests"]


# --- http_get against a local server -----------------------------------------------


PAGE = (
    "<!doctype html><html><head><title>About us</title><style>p {color: red}</style></head>"
    "<body><h1>Acme <i>Widgets</i></h1><p>Founded in <b>1999</b>.</p>"
    "<ul><li>lamps</li><li>chairs</li></ul><p>See <a href='/shop?id=1'>our shop</a>.</p>"
    "<script>track()</script></body></html>"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/redirect-out":
            self.send_response(302)
            self.send_header("Location", "http://evil.invalid/steal")
            self.end_headers()
            return
        if self.path == "/redirect-in":
            self.send_response(302)
            self.send_header("Location", "/hello")
            self.end_headers()
            return
        if self.path in ("/page", "/page-as-plain"):
            self.send_response(200)
            kind = "text/html" if self.path == "/page" else "text/plain"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE.encode())
            return
        if self.path == "/image":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(b"\x89PNG....")
            return
        body = f"hello from {self.path}; auth={self.headers.get('Authorization')}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_http_get_text(server: str) -> None:
    out = call(http_get_tool(ToolLimits()), {"url": server + "/hello"}).content
    assert out.startswith("HTTP 200 OK") and "hello from /hello; auth=None" in out


def test_http_get_follows_allowed_redirects_only(server: str) -> None:
    t = http_get_tool(ToolLimits(), allowed_hosts=["127.0.0.1"])
    assert "hello from /hello" in call(t, {"url": server + "/redirect-in"}).content
    out = call(t, {"url": server + "/redirect-out"})
    assert out.status == "error" and "'evil.invalid' is not in http_allowed_hosts" in out.content


def test_http_get_refusals(server: str) -> None:
    t = http_get_tool(ToolLimits(), allowed_hosts=["example.com"])
    assert "not in http_allowed_hosts" in call(t, {"url": server + "/hello"}).content
    assert "only http and https" in call(t, {"url": "file:///etc/passwd"}).content
    assert (
        "credentials" in call(http_get_tool(ToolLimits()), {"url": "http://u:p@127.0.0.1/"}).content
    )


def test_http_get_shows_a_page_as_its_text(server: str) -> None:
    text = "title: About us\n# Acme Widgets\nFounded in 1999.\n- lamps\n- chairs\nSee "
    for path in ("/page", "/page-as-plain"):  # a page sent as text/plain is a page
        out = call(http_get_tool(ToolLimits()), {"url": server + path}).content
        # A link keeps where it points, made absolute: a model can fetch it next.
        link = f"[our shop]({server}/shop?id=1)."
        assert out.endswith("[HTML page shown as its text]\n\n" + text + link), out
    raw = call(http_get_tool(ToolLimits(), html_as_text=False), {"url": server + "/page"}).content
    assert raw.endswith(PAGE)
    plain = call(http_get_tool(ToolLimits()), {"url": server + "/hello"}).content
    assert "shown as its text" not in plain


def test_http_get_binary_not_shown(server: str) -> None:
    out = call(http_get_tool(ToolLimits()), {"url": server + "/image"}).content
    assert "[binary content, 8 bytes, not shown]" in out


def test_host_allowlist_matching() -> None:
    assert host_allowed("docs.example.com", ["example.com"])
    assert host_allowed("example.com", ["*.example.com"])
    assert not host_allowed("example.com.evil.net", ["example.com"])
    assert not host_allowed("notexample.com", ["example.com"])
    assert host_allowed("anything.net", [])
