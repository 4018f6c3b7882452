"""The agent graph for LangGraph Server (``langgraph dev``, LangGraph Platform).

``langgraph.json`` at the repo root points here. The server supplies
persistence itself (its own checkpointer, or Postgres on the Platform), so the
graph is compiled without one. The model, tools, policy and limits come from
agentkit's settings (``agentkit.toml`` / ``AGENTKIT_*``), read once when the
server loads the graph (tools: built-in, user and MCP ones, as ``agentkit run``
uses them); the model loads on the first call (an HTTP model when
``model_urls`` is set, which is what a server deployment should use).

Interrupts are LangGraph interrupts: a run that needs approval ends with an
``__interrupt__`` whose value is ``{"requests": [ApprovalRequest, ...]}``;
resume it with ``Command(resume=[{"kind": "approve", "call_id": ...}, ...])``
(one decision per request; see :mod:`agentkit.events`). The graph trusts the
resume value: build it with :func:`agentkit.approvals.decisions.resolve_decisions`,
as ``Agent.resume`` does. Start a task with the input ``{"task": "..."}``.
"""

from __future__ import annotations

import asyncio

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agentkit.checkpoint import POSTGRES_SCHEMES
from agentkit.config import Settings, load_settings
from agentkit.graphs.agent_graph import AgentNodes, Limits, build_agent_graph
from agentkit.graphs.ledger import CallLedger, MemoryLedger
from agentkit.steering import Steering


def _ledger(settings: Settings) -> CallLedger:
    """The executed-calls ledger must outlive a server process as long as its
    checkpoints do: Postgres when agentkit's checkpointer setting names one."""
    spec = settings.checkpointer or ""
    if spec.startswith(POSTGRES_SCHEMES):
        from agentkit.postgres import PostgresLedger

        return PostgresLedger(spec)
    return MemoryLedger()


def build_server_graph(
    settings: Settings | None = None, **node_overrides: object
) -> CompiledStateGraph:
    """The standard agent graph without a checkpointer. ``node_overrides``
    replace :class:`AgentNodes` fields (``model=``, ``tools=`` ... in tests)."""
    from agentkit.approvals.policy import Policy
    from agentkit.models.factory import make_chat_model, shared_embeddings
    from agentkit.steering import steering_for
    from agentkit.tools import all_tools

    settings = settings or load_settings()
    # every tool: the policy makes the ones with side effects wait for approval
    tools = all_tools(settings)

    def steering(model: BaseChatModel) -> Steering:
        return steering_for(model, settings.steering, lambda: shared_embeddings(settings), tools)

    values: dict[str, object] = {
        "model": lambda: make_chat_model(settings),
        "tools": tools,
        "policy": Policy.from_settings(settings),
        "ledger": _ledger(settings),
        "limits": Limits(max_steps=settings.max_steps, max_tokens=settings.max_run_tokens),
        "planning": {"on": True, "off": False}.get(settings.planning),  # auto: None
        "tool_choice": "any",
        "steering": steering,
    }
    values.update(node_overrides)
    nodes = AgentNodes(**values)
    graph = build_agent_graph(nodes, checkpointer=None)
    # The same super-step budget Agent gives a run (LangGraph's default of 25
    # would cut a 12-step run short).
    limit = nodes.limits.max_steps * 5 + 10 * (nodes.limits.max_replans + 2)
    return graph.with_config(recursion_limit=limit)  # type: ignore[return-value]


_graph: CompiledStateGraph | None = None


async def make_graph(config: RunnableConfig | None = None) -> CompiledStateGraph:
    """Graph factory named in ``langgraph.json``. LangGraph Server awaits it
    on its event loop for every run, so the build (settings, tools, policy,
    ledger connection: blocking I/O) runs once, in a worker thread."""
    global _graph
    if _graph is None:
        _graph = await asyncio.to_thread(build_server_graph)
    return _graph
