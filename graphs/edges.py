"""Where the loop goes next, and the graph's shape: the :class:`Limits` that
end a run cleanly (and the deadline key a run's config carries), the routers
that pick the node after ``act`` and after ``observe``, ``tool_order`` (a
scripted ``tool_choice``), and the nodes and edges :func:`build_agent_graph`
wires over :class:`~agentkit.graphs.agent_graph.AgentNodes`. Kept apart from
the nodes because none of it calls a model or a tool: it only reads the state,
so a user assembling their own graph can take these without the nodes;
agent_graph.py re-exports every name here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agentkit.graphs.state import AgentState

if TYPE_CHECKING:
    from agentkit.graphs.agent_graph import AgentNodes

DEADLINE_KEY = "agentkit_deadline"  # config["configurable"] key: time.time() budget end


@dataclass(frozen=True)
class Limits:
    """Limits that end a run cleanly with a reason."""

    max_steps: int = 12
    max_tokens: int = 20000  # generated tokens per run
    max_repeats: int = 3  # identical proposals in a row
    max_replans: int = 2
    replan_after_errors: int = 3  # consecutive act steps whose calls all failed


def tool_order(*names: str) -> Callable[[AgentState], str]:
    """A ``tool_choice`` that forces ``names`` in turn, one per act step, and
    then the last one (a scripted run: read first, then write, then answer)."""

    def choice(state: AgentState) -> str:
        return names[min(state.get("steps", 0), len(names) - 1)]

    return choice


def route_after_act(state: AgentState) -> Literal["approve", "finish", "act"]:
    if state.get("status") in ("finished", "stopped"):
        return "finish"
    return "approve" if state.get("pending") else "act"


def route_after_observe(state: AgentState, limits: Limits) -> Literal["act", "plan", "finish"]:
    if state.get("status") == "stopped":
        return "finish"
    if (
        state.get("consecutive_errors", 0) >= limits.replan_after_errors
        and state.get("replans", 0) < limits.max_replans
    ):
        return "plan"
    return "act"


NODES = ("plan", "act", "approve", "execute", "observe", "finish")
EDGES: tuple[tuple[str, str], ...] = (
    (START, "plan"),
    ("plan", "act"),
    ("approve", "execute"),
    ("execute", "observe"),
    ("finish", END),
)
CONDITIONAL_EDGES = {
    "act": ("approve", "finish", "act"),  # act → act: an empty reply, retried
    "observe": ("act", "plan", "finish"),
}


def build_agent_graph(
    nodes: AgentNodes, checkpointer: BaseCheckpointSaver | None = None
) -> CompiledStateGraph:
    """The standard graph over ``nodes``; see the module docstring."""
    builder = StateGraph(AgentState)
    for name in NODES:
        builder.add_node(name, getattr(nodes, name))
    for source, target in EDGES:
        builder.add_edge(source, target)
    builder.add_conditional_edges("act", route_after_act, list(CONDITIONAL_EDGES["act"]))
    builder.add_conditional_edges(
        "observe",
        lambda s: route_after_observe(s, nodes.limits),
        list(CONDITIONAL_EDGES["observe"]),
    )
    return builder.compile(checkpointer=checkpointer, name="agentkit")
