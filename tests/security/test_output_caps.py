"""Attack surface: unbounded tool output. Every tool's result is capped in
lines and characters with a marker that says what was dropped."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, tool

from agentkit.tools.files import file_tools
from agentkit.tools.http import http_get_tool
from agentkit.tools.limits import TRUNCATION_MARKER, ToolLimits, cap_text, with_limits
from agentkit.tools.shell import shell_tool
from agentkit.tools.workspace import Workspace

LIMITS = ToolLimits(max_chars=2000, max_lines=50, timeout_s=10)


def call(t: BaseTool, args: dict[str, object]) -> ToolMessage:
    message = t.invoke({"type": "tool_call", "name": t.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


def within_caps(text: str, limits: ToolLimits = LIMITS) -> bool:
    body = text.rsplit("\n" + TRUNCATION_MARKER, 1)[0]
    return len(body) <= limits.max_chars + 200 and body.count("\n") <= limits.max_lines + 3


def test_cap_text_lines_marker() -> None:
    text = "".join(f"line {i}\n" for i in range(1000))
    capped = cap_text(text, LIMITS)
    assert capped.splitlines()[:50] == [f"line {i}" for i in range(50)]
    assert capped.splitlines()[-1].startswith(TRUNCATION_MARKER)
    assert "showed 50 of 1000 lines" in capped


def test_cap_text_chars_marker_one_long_line() -> None:
    capped = cap_text("x" * 100_000, LIMITS)
    assert "2000 of 100000 characters" in capped
    assert len(capped) < 2300


def test_cap_text_leaves_small_output_alone() -> None:
    assert cap_text("small\n", LIMITS) == "small\n"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "big.txt").write_text("".join(f"row {i} " + "y" * 50 + "\n" for i in range(5000)))
    (tmp_path / "wide.txt").write_text("z" * 500_000)
    return Workspace(tmp_path)


def test_read_file_is_capped(ws: Workspace) -> None:
    tools = {t.name: t for t in file_tools(ws, LIMITS)}
    out = call(tools["read_file"], {"path": "big.txt"}).content
    assert TRUNCATION_MARKER in out and "read a smaller line range" in out
    assert within_caps(out)
    wide = call(tools["read_file"], {"path": "wide.txt"}).content
    assert TRUNCATION_MARKER in wide and within_caps(wide)
    ranged = call(tools["read_file"], {"path": "big.txt", "start_line": 10, "end_line": 12}).content
    assert TRUNCATION_MARKER not in ranged and "row 9 " in ranged and "row 12 " not in ranged


def test_grep_and_glob_are_capped(ws: Workspace, tmp_path: Path) -> None:
    for i in range(300):
        (tmp_path / f"f{i:03}.txt").write_text("needle\n")
    tools = {t.name: t for t in file_tools(ws, LIMITS)}
    grep = call(tools["grep"], {"pattern": "y+", "max_results": 1000}).content
    assert TRUNCATION_MARKER in grep and within_caps(grep)
    glob = call(tools["glob"], {"pattern": "*.txt"}).content
    assert TRUNCATION_MARKER in glob and within_caps(glob)


def test_shell_output_is_capped_while_reading(ws: Workspace) -> None:
    t = shell_tool(ws, LIMITS, sandbox="off")
    out = call(t, {"command": "yes | head -c 50000000"}).content
    assert out.startswith("exit code 0")
    assert TRUNCATION_MARKER in out and "bytes of output were discarded" in out
    assert within_caps(out)


def test_shell_long_single_line_is_capped(ws: Workspace) -> None:
    t = shell_tool(ws, LIMITS, sandbox="off")
    out = call(t, {"command": "head -c 100000 /dev/zero | tr '\\0' x"}).content
    assert TRUNCATION_MARKER in out and within_caps(out)


def test_user_tool_output_is_capped() -> None:
    @tool
    def chatty(n: int) -> str:
        """Print n lines."""
        return "\n".join(str(i) for i in range(n))

    limited = with_limits(chatty, LIMITS)
    out = call(limited, {"n": 10_000}).content
    assert TRUNCATION_MARKER in out and within_caps(out)
    assert limited.name == "chatty" and limited.args == chatty.args


class _BigHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        for _ in range(200):
            self.wfile.write(b"a" * 10_000 + b"\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def big_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BigHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_http_get_stops_at_max_bytes(big_server: str) -> None:
    t = http_get_tool(LIMITS, max_bytes=50_000, timeout_s=5)
    out = call(t, {"url": big_server}).content
    assert "download stopped at http_max_bytes=50000" in out
    assert within_caps(out)
