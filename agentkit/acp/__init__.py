"""agentkit as an Agent Client Protocol agent (``agentkit acp``), for Toad,
Zed and any other ACP client: JSON-RPC over stdio with the reference SDK
(``agent-client-protocol``). See docs/acp.md and :mod:`.server`."""

from __future__ import annotations

import asyncio
import logging
import sys

from agentkit.acp.server import AcpAgent, AgentFactory

__all__ = ["AcpAgent", "AgentFactory", "serve"]


def serve(make_agent: AgentFactory, always: str = "thread") -> None:
    """Serve ACP on this process's stdin/stdout until the client goes away.
    Logs go to stderr: stdout carries the protocol."""
    from importlib.metadata import PackageNotFoundError, version

    from acp import run_agent

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        own = version("agentkit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        own = "0"
    asyncio.run(run_agent(AcpAgent(make_agent, always=always, version=own)))
