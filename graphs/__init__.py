"""The agent loop as a LangGraph graph: :func:`build_agent_graph` over
:class:`AgentNodes` (see :mod:`agentkit.graphs.agent_graph`)."""

from agentkit.graphs.agent_graph import (
    AgentNodes,
    ContextSource,
    Limits,
    build_agent_graph,
    route_after_act,
    route_after_observe,
    tool_order,
)
from agentkit.graphs.prompts import Prompts
from agentkit.graphs.state import AgentState

__all__ = [
    "AgentNodes",
    "AgentState",
    "ContextSource",
    "Limits",
    "Prompts",
    "build_agent_graph",
    "route_after_act",
    "route_after_observe",
    "tool_order",
]
