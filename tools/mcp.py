"""Tools from MCP servers listed in ``[mcp_servers.NAME]`` (agentkit.toml),
loaded with ``langchain-mcp-adapters``.

Every MCP tool is ``exec`` with no default policy (so the policy asks) unless
the server entry, or its ``tools.<name>`` entry, sets ``side_effects`` and/or
``policy``. Its results are untrusted content unless an entry sets
``trusted = true``. Each call opens a session to the server (the adapter's default),
runs under ``tool_timeout_s`` and has its output capped like every other tool.
A stdio server gets the MCP SDK's minimal environment (HOME, PATH, USER, ...)
plus the entry's ``env``; secrets in the parent environment are not passed on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool

from agentkit.errors import ConfigError
from agentkit.tools.base import declare
from agentkit.tools.limits import ToolLimits, with_limits

if TYPE_CHECKING:
    from agentkit.config import McpServerConfig, Settings

MCP_SERVER_KEY = "agentkit_mcp_server"


def connection_for(name: str, server: McpServerConfig) -> dict[str, Any]:
    """The adapter's connection dict for one configured server."""
    if server.transport == "stdio":
        if not server.command:
            raise ConfigError(f"mcp_servers.{name}: a stdio server needs 'command'")
        conn: dict[str, Any] = {
            "transport": "stdio",
            "command": server.command,
            "args": list(server.args),
        }
        if server.env is not None:
            conn["env"] = dict(server.env)
        if server.cwd is not None:
            conn["cwd"] = str(server.cwd)
        return conn
    if not server.url:
        raise ConfigError(f"mcp_servers.{name}: a streamable_http server needs 'url'")
    conn = {"transport": "streamable_http", "url": server.url}
    if server.headers:
        conn["headers"] = dict(server.headers)
    return conn


def _first_leaf(err: BaseException) -> BaseException:
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    return err


async def _server_tools(name: str, server: McpServerConfig, limits: ToolLimits) -> list[BaseTool]:
    from langchain_mcp_adapters.client import MultiServerMCPClient

    client = MultiServerMCPClient(
        {name: connection_for(name, server)}, tool_name_prefix=server.prefix
    )  # type: ignore[dict-item]
    try:
        loaded = await asyncio.wait_for(
            client.get_tools(server_name=name), timeout=max(limits.timeout_s, 10.0)
        )
    except TimeoutError:
        raise ConfigError(
            f"MCP server '{name}' did not answer within {max(limits.timeout_s, 10.0):g}s"
        ) from None
    except Exception as err:  # noqa: BLE001 - any start failure is the config's problem
        leaf = _first_leaf(err)
        raise ConfigError(
            f"MCP server '{name}' failed to start or list its tools: {type(leaf).__name__}: {leaf}",
            hint="check [mcp_servers." + name + "] in agentkit.toml",
        ) from None
    tools: list[BaseTool] = []
    for tool in loaded:
        original = (
            tool.name[len(name) + 1 :]
            if server.prefix and tool.name.startswith(name + "_")
            else tool.name
        )
        override = server.tools.get(original)
        effects = (
            (override.side_effects if override and override.side_effects else None)
            or server.side_effects
            or ["exec"]
        )
        policy = (override.policy if override and override.policy else None) or server.policy
        trusted = override.trusted if override and override.trusted is not None else None
        limited = with_limits(tool, limits)
        limited.metadata = {**(limited.metadata or {}), MCP_SERVER_KEY: name}
        untrusted = not (server.trusted if trusted is None else trusted)
        tools.append(declare(limited, effects, policy=policy, untrusted=untrusted))
    return tools


async def aload_mcp_tools(settings: Settings) -> list[BaseTool]:
    """Tools of every configured MCP server (raises ConfigError naming the
    server that failed)."""
    if not settings.mcp_servers:
        return []
    limits = ToolLimits.from_settings(settings)
    results = await asyncio.gather(
        *(_server_tools(name, server, limits) for name, server in settings.mcp_servers.items())
    )
    return [tool for tools in results for tool in tools]


def load_mcp_tools(settings: Settings) -> list[BaseTool]:
    """Sync twin of :func:`aload_mcp_tools` (works inside a running loop too)."""
    if not settings.mcp_servers:
        return []
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(aload_mcp_tools(settings))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, aload_mcp_tools(settings)).result()
