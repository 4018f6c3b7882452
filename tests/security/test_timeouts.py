"""Attack surface: calls that never end. Timeouts are enforced for the shell
(the whole process group dies), for user and MCP tools (with_limits) and for
http_get; file walks check a deadline."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, tool

from agentkit.tools.http import http_get_tool
from agentkit.tools.limits import Deadline, ToolLimits, with_limits
from agentkit.tools.shell import run_command, shell_tool
from agentkit.tools.workspace import Workspace

LIMITS = ToolLimits(max_chars=5000, max_lines=100, timeout_s=1.0)


def call(t: BaseTool, args: dict[str, object]) -> ToolMessage:
    message = t.invoke({"type": "tool_call", "name": t.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


def test_shell_timeout_kills_process_group(tmp_path: Path) -> None:
    t = shell_tool(Workspace(tmp_path), LIMITS, sandbox="off")
    start = time.monotonic()
    message = call(t, {"command": "sleep 60 & echo $! > child.pid; echo started; sleep 60"})
    elapsed = time.monotonic() - start
    assert message.status == "error"
    assert message.content.startswith("timed out after 1s") and "started" in message.content
    assert elapsed < 5
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 3
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_shell_background_stragglers_are_reaped(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    result = run_command("sleep 60 & echo $! > bg.pid; echo done", ws, ToolLimits(timeout_s=10))
    assert not result.timed_out and result.exit_code == 0 and "done" in result.output
    assert result.duration_s < 5
    pid = int((tmp_path / "bg.pid").read_text())
    time.sleep(0.2)
    assert not alive(pid)


def test_shell_output_flood_still_times_out(tmp_path: Path) -> None:
    t = shell_tool(Workspace(tmp_path), LIMITS, sandbox="off")
    start = time.monotonic()
    message = call(t, {"command": "yes"})
    assert message.status == "error" and "timed out" in message.content
    assert time.monotonic() - start < 5


def test_sync_user_tool_times_out() -> None:
    @tool
    def stuck(seconds: float) -> str:
        """Sleep."""
        time.sleep(seconds)
        return "finished"

    limited = with_limits(stuck, ToolLimits(timeout_s=0.3))
    start = time.monotonic()
    message = call(limited, {"seconds": 3})
    assert message.status == "error" and message.content == "stuck timed out after 0.3s"
    assert time.monotonic() - start < 1.5
    assert call(limited, {"seconds": 0}).content == "finished"


async def test_async_user_tool_times_out() -> None:
    @tool
    async def stuck_async(seconds: float) -> str:
        """Sleep."""
        await asyncio.sleep(seconds)
        return "finished"

    limited = with_limits(stuck_async, ToolLimits(timeout_s=0.3))
    start = time.monotonic()
    message = await limited.ainvoke(
        {"type": "tool_call", "name": "stuck_async", "args": {"seconds": 5}, "id": "t"}
    )
    assert message.status == "error" and "timed out after 0.3s" in message.content
    assert time.monotonic() - start < 1.5


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


def test_http_get_times_out(silent_server: str) -> None:
    t = http_get_tool(LIMITS, timeout_s=0.5)
    start = time.monotonic()
    message = call(t, {"url": silent_server})
    assert message.status == "error" and "timed out after 0.5s" in message.content
    assert time.monotonic() - start < 3


def test_deadline_stops_file_walks(tmp_path: Path) -> None:
    from agentkit.tools.files import file_tools

    for i in range(50):
        (tmp_path / f"d{i}").mkdir()
    tools = {t.name: t for t in file_tools(Workspace(tmp_path), ToolLimits(timeout_s=1e-9))}
    message = call(tools["grep"], {"pattern": "x"})
    assert message.status == "error" and "grep timed out" in message.content
    deadline = Deadline(0, "x")
    assert deadline.expired()


def _processes_with_arg(arg: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if arg.encode() in argv and alive(int(entry)):
            found.append(int(entry))
    return found


def test_sandboxed_timeout_kills_everything_inside(tmp_path: Path) -> None:
    from agentkit.tools.shell import bwrap_unavailable_reason

    reason = bwrap_unavailable_reason()
    if reason:
        pytest.skip(f"sandbox test: {reason}")
    marker = f"{60 + (os.getpid() % 1000) / 1000:.3f}"  # a sleep argument no one else uses
    result = run_command(
        f"(setsid sleep {marker} &) ; sleep {marker} & sleep {marker}",
        Workspace(tmp_path),
        ToolLimits(timeout_s=1.0),
        sandbox=True,
    )
    assert result.timed_out
    deadline = time.monotonic() + 3
    while _processes_with_arg(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with_arg(marker) == []


@pytest.mark.parametrize(
    "timeout_s,command",
    [
        (1.0, "(setsid sleep {m} &); sleep {m}"),
        (10.0, "(setsid sleep {m} > /dev/null 2>&1 &); echo quick"),
    ],
)
def test_setsid_escapees_are_killed_without_sandbox(
    timeout_s: float, command: str, tmp_path: Path
) -> None:
    """Leaving the process group with setsid does not outlive the call: the
    run's tag in the environment finds them."""
    marker = f"{70 + (os.getpid() % 1000) / 1000:.3f}"
    result = run_command(
        command.format(m=marker), Workspace(tmp_path), ToolLimits(timeout_s=timeout_s)
    )
    assert result.duration_s < 5
    deadline = time.monotonic() + 3
    while _processes_with_arg(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with_arg(marker) == []
