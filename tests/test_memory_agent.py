"""The knowledge base inside the agent loop (scripted chat model, real Chroma
and embeddings): the plan node recalls memories, search_docs results carry
citations the final answer uses, remember asks before it writes and records
the thread and tool call it came from. Also the LangGraph BaseStore view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage, ToolMessage

from agentkit.agent import Agent
from agentkit.config import load_settings
from agentkit.events import Approve, ContextEvent
from agentkit.memory import KnowledgeBase
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools.memory import memory_tools

pytestmark = pytest.mark.model


def make_agent(tmp_path: Path, kb: KnowledgeBase, script: list) -> tuple[Agent, ScriptedChatModel]:
    data = tmp_path / "agent"  # the knowledge base is in tmp_path / "data"
    data.mkdir(exist_ok=True)
    model = ScriptedChatModel(script=script)
    settings = load_settings(data_dir=data, workspace=tmp_path)
    agent = Agent(model=model, tools=memory_tools(kb), memory=kb, settings=settings, planning=False)
    return agent, model


def answer_citing_first_passage(messages: list[BaseMessage]):
    tool_output = [m for m in messages if isinstance(m, ToolMessage)][-1].content
    citation = re.search(r"\[([^\]]+:\d+(?:-\d+)?)\]", str(tool_output)).group(1)
    return final(f"Hold the red button for ten seconds [{citation}].")


def test_agent_answers_from_documents_with_citations(tmp_path: Path, kb: KnowledgeBase) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "manual.md").write_text(
        "# Widget manual\n\nCharging takes two hours.\n\n"
        "## Reset\n\nTo reset the widget, hold the red button for ten seconds.\n"
    )
    (docs / "recipes.md").write_text("# Soup\n\nSimmer the onions for forty minutes.\n")
    kb.documents.ingest([docs])
    kb.memories.remember("The user owns the blue 2019 widget.")

    agent, model = make_agent(
        tmp_path,
        kb,
        [call("search_docs", {"query": "reset the widget", "k": 2}), answer_citing_first_passage],
    )
    events = list(agent.stream("How do I reset my widget?", "t1"))
    result = agent.result("t1")

    context = [e for e in events if isinstance(e, ContextEvent)]
    assert context, "the plan node should retrieve context"
    sources = [item["source"] for item in context[0].items]
    assert any(s.startswith("memory:") for s in sources)
    assert any("manual.md:" in s for s in sources)
    assert "blue 2019 widget" in "\n".join(str(m.content) for m in model.prompts[0])

    assert result.status == "finished"
    assert re.search(r"\[[^\]]*manual\.md:\d+(-\d+)?\]", result.answer), result.answer


def test_remember_asks_first_and_records_provenance(tmp_path: Path, kb: KnowledgeBase) -> None:
    agent, _ = make_agent(
        tmp_path,
        kb,
        [
            call("remember", {"text": "The user prefers short answers."}, "call_mem"),
            final("Noted."),
        ],
    )
    paused = agent.run("Remember that I prefer short answers.", "t2")
    assert paused.status == "needs_approval"
    assert [p.tool for p in paused.pending] == ["remember"]
    assert kb.memories.count() == 0

    done = agent.resume("t2", [Approve(call_id="call_mem")])
    assert done.status == "finished"
    [record] = kb.memories.list()
    assert record.text == "The user prefers short answers."
    assert (record.thread_id, record.message_id) == ("t2", "call_mem")


def test_langgraph_store_view(kb: KnowledgeBase) -> None:
    store = kb.as_langgraph_store()
    store.put(("users", "ada"), "food", {"text": "Ada is vegetarian.", "topic": "diet"})
    store.put(("users", "ada"), "city", {"text": "Ada lives in Lisbon.", "topic": "home"})
    store.put(("users", "bob"), "food", {"text": "Bob loves steak.", "topic": "diet"})

    item = store.get(("users", "ada"), "food")
    assert item is not None and item.value["text"] == "Ada is vegetarian."
    hits = store.search(("users", "ada"), query="what does she eat?", limit=1)
    assert [h.key for h in hits] == ["food"] and hits[0].score is not None
    assert {h.namespace for h in store.search(("users",), filter={"topic": "diet"})} == {
        ("users", "ada"),
        ("users", "bob"),
    }
    assert store.list_namespaces(prefix=("users",)) == [("users", "ada"), ("users", "bob")]
    assert store.list_namespaces(max_depth=1) == [("users",)]

    store.put(("users", "ada"), "city", {"text": "Ada moved to Porto."})
    assert store.get(("users", "ada"), "city").value["text"] == "Ada moved to Porto."
    store.delete(("users", "ada"), "city")
    assert store.get(("users", "ada"), "city") is None
    # The same memories are visible to agentkit's own commands.
    assert any(r.text == "Bob loves steak." for r in kb.memories.list())
