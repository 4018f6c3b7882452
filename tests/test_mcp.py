"""MCP tools from a real stdio server (tests/fixtures/mcp_server.py, FastMCP):
listing, calling, errors, caps, timeouts and the configured policy."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.config import Settings, load_settings
from agentkit.errors import ConfigError
from agentkit.tools import aload_mcp_tools, load_mcp_tools
from agentkit.tools.base import default_policy_of, side_effects_of
from agentkit.tools.limits import TRUNCATION_MARKER

SERVER = str(Path(__file__).parent / "fixtures" / "mcp_server.py")


def settings_for(**server: object) -> Settings:
    entry = {"command": sys.executable, "args": [SERVER], **server}
    return load_settings(tool_timeout_s=3, tool_max_output_lines=20, mcp_servers={"fx": entry})


@pytest.fixture(scope="module")
def mcp_tools() -> dict[str, BaseTool]:
    settings = settings_for(
        policy="allow",
        side_effects=["read"],
        tools={
            "fail": {"policy": "deny"},
            "env_value": {"policy": "ask", "side_effects": ["exec"]},
        },
    )
    return {t.name: t for t in load_mcp_tools(settings)}


def call(t: BaseTool, args: dict[str, object]) -> ToolMessage:
    message = t.invoke({"type": "tool_call", "name": t.name, "args": args, "id": "t"})
    assert isinstance(message, ToolMessage)
    return message


def test_lists_tools_with_server_prefix(mcp_tools: dict[str, BaseTool]) -> None:
    assert sorted(mcp_tools) == [
        "fx_add",
        "fx_echo",
        "fx_env_value",
        "fx_fail",
        "fx_lines",
        "fx_slow",
    ]
    assert "integers" in mcp_tools["fx_add"].description
    assert set(mcp_tools["fx_add"].args) == {"a", "b"}


def test_calls_a_tool(mcp_tools: dict[str, BaseTool]) -> None:
    message = call(mcp_tools["fx_add"], {"a": 2, "b": 40})
    assert message.status == "success" and message.content == "42"


def test_tool_error_is_returned_to_the_model(mcp_tools: dict[str, BaseTool]) -> None:
    message = call(mcp_tools["fx_fail"], {"message": "kaput"})
    assert message.status == "error" and "kaput" in message.content


def test_output_capped_and_timeout_enforced(mcp_tools: dict[str, BaseTool]) -> None:
    capped = call(mcp_tools["fx_lines"], {"count": 500})
    assert TRUNCATION_MARKER in capped.content and "showed 20 of 500 lines" in capped.content
    slow = call(mcp_tools["fx_slow"], {"seconds": 10})
    assert slow.status == "error" and "timed out after 3s" in slow.content


def test_server_does_not_inherit_secrets(
    mcp_tools: dict[str, BaseTool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-leak")
    assert call(mcp_tools["fx_env_value"], {"name": "OPENAI_API_KEY"}).content == "<unset>"


def test_config_policy_and_side_effects_applied(mcp_tools: dict[str, BaseTool]) -> None:
    assert side_effects_of(mcp_tools["fx_add"]) == {"read"}
    assert default_policy_of(mcp_tools["fx_add"]) == "allow"
    assert default_policy_of(mcp_tools["fx_fail"]) == "deny"
    assert side_effects_of(mcp_tools["fx_env_value"]) == {"exec"}
    assert default_policy_of(mcp_tools["fx_env_value"]) == "ask"
    policy_module = pytest.importorskip("agentkit.approvals.policy")
    policy = policy_module.Policy.default()
    assert policy.evaluate(mcp_tools["fx_add"], {"a": 1, "b": 2}).action == "allow"
    assert policy.evaluate(mcp_tools["fx_fail"], {"message": "x"}).action == "deny"
    assert policy.evaluate(mcp_tools["fx_env_value"], {"name": "x"}).action == "ask"


async def test_unconfigured_server_tools_are_exec_and_ask() -> None:
    tools = {t.name: t for t in await aload_mcp_tools(settings_for(prefix=False))}
    assert "add" in tools
    assert side_effects_of(tools["add"]) == {"exec"}
    assert default_policy_of(tools["add"]) is None
    policy_module = pytest.importorskip("agentkit.approvals.policy")
    assert policy_module.Policy.default().evaluate(tools["add"], {}).action == "ask"
    message = await tools["add"].ainvoke(
        {"type": "tool_call", "name": "add", "args": {"a": 1, "b": 1}, "id": "t"}
    )
    assert message.content == "2"


def test_broken_server_is_a_config_error() -> None:
    settings = load_settings(
        mcp_servers={"bad": {"command": sys.executable, "args": ["-c", "import sys; sys.exit(3)"]}}
    )
    with pytest.raises(ConfigError, match="MCP server 'bad'"):
        load_mcp_tools(settings)
    with pytest.raises(ConfigError, match="needs 'command'"):
        load_mcp_tools(load_settings(mcp_servers={"nocmd": {"transport": "stdio"}}))


def test_cli_lists_mcp_tools_with_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from agentkit.cli import app

    config = tmp_path / "agentkit.toml"
    config.write_text(
        f"[mcp_servers.fx]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(SERVER)}]\n"
        '[mcp_servers.fx.tools.add]\npolicy = "allow"\nside_effects = ["read"]\n'
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["tools", "list", "--json", "--config", str(config), "--workspace", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in map(json.loads, result.output.splitlines())}
    assert rows["fx_add"]["source"] == "mcp:fx"
    assert rows["fx_add"]["policy"].startswith("allow")
    assert rows["fx_echo"]["side_effects"] == ["exec"] and rows["fx_echo"]["policy"].startswith(
        "ask"
    )
    assert rows["read_file"]["source"] == "builtin"


@pytest.fixture
def http_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, SERVER, "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the streamable-http MCP server did not start")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_streamable_http_server(http_server: str) -> None:
    settings = load_settings(
        tool_timeout_s=5,
        mcp_servers={
            "web": {
                "transport": "streamable_http",
                "url": http_server,
                "tools": {"add": {"policy": "allow"}},
            }
        },
    )
    tools = {t.name: t for t in load_mcp_tools(settings)}
    assert "web_add" in tools and default_policy_of(tools["web_add"]) == "allow"
    assert side_effects_of(tools["web_echo"]) == {"exec"}
    assert call(tools["web_add"], {"a": 20, "b": 22}).content == "42"
