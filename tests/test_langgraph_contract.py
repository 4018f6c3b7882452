"""What agentkit relies on from LangGraph beyond its public API. Each test
names the one place that depends on it (graphs/state.py); when LangGraph
changes one of these, this file fails before any thread is misread."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage

from agentkit.graphs.state import INTERRUPT, messages_delta_reducer


def test_interrupt_key_matches_langgraph() -> None:
    from langgraph._internal._constants import INTERRUPT as LANGGRAPH_INTERRUPT

    assert INTERRUPT == LANGGRAPH_INTERRUPT


def test_messages_delta_reducer_is_add_messages_in_one_pass() -> None:
    a, b, c = HumanMessage("a", id="1"), AIMessage("b", id="2"), HumanMessage("c", id="3")
    edited = AIMessage("b, edited", id="2")
    writes = [[a, b], [c], [edited], [RemoveMessage(id="1")]]
    merged = messages_delta_reducer([], writes)
    assert [(m.id, m.content) for m in merged] == [("2", "b, edited"), ("3", "c")]
    # DeltaChannel replays writes in batches of any size: the result must not
    # depend on how they were split.
    stepwise: list = []
    for write in writes:
        stepwise = messages_delta_reducer(stepwise, [write])
    assert stepwise == merged
