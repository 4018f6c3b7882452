"""The plan → act → approve → execute → observe → finish loop, driven by a
scripted model: model-caused errors become observations and the loop goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_support import make_agent, prompt_text, settings_for
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from agentkit.agent import Agent
from agentkit.events import ContextItem, ErrorEvent, FinalEvent, PlanEvent, TokenEvent
from agentkit.graphs.agent_graph import AgentNodes, route_after_act
from agentkit.graphs.state import AgentState
from agentkit.testing import ScriptedChatModel, call, calls, final
from agentkit.tools import builtin_tools


def test_final_answer_through_constrained_action(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, [final("42")])
    result = agent.run("What is six times seven?")
    assert result.status == "finished"
    assert result.answer == "42"
    # the act step is a forced tool choice over the tools plus final_answer
    assert model.tool_choices == ["any"]
    assert "final_answer" in model.bound_tool_names[0]
    assert "read_file" in model.bound_tool_names[0]


def test_plain_text_reply_is_the_answer(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, ["It is 42."], tool_choice="auto")
    result = agent.run("question")
    assert (result.status, result.answer) == ("finished", "It is 42.")
    assert model.tool_choices == ["auto"]


def test_plan_context_and_progress(tmp_path: Path) -> None:
    class Memory:
        def retrieve(self, query: str, k: int) -> list[ContextItem]:
            assert query == "summarise notes.txt"
            return [
                ContextItem(kind="memory", text="User prefers bullet points.", source="memory:7")
            ]

    (tmp_path / "notes.txt").write_text("alpha beta")
    agent, model, _ = make_agent(
        tmp_path,
        [call("read_file", {"path": "notes.txt"}), final("- alpha\n- beta")],
        structured=[{"steps": ["Read notes.txt", "Summarise it"]}],
        planning=True,
        memory=Memory(),
    )
    events = list(agent.stream("summarise notes.txt", "t"))
    kinds = [e.kind for e in events]
    assert (
        kinds.index("context")
        < kinds.index("plan")
        < kinds.index("tool_call")
        < kinds.index("final")
    )
    plans = [e for e in events if isinstance(e, PlanEvent)]
    assert [s["text"] for s in plans[0].steps] == ["Read notes.txt", "Summarise it"]
    assert [s["status"] for s in plans[1].steps] == ["done", "running"]
    # the plan call streamed tokens from the plan node
    assert any(isinstance(e, TokenEvent) and e.node == "plan" for e in events)
    # recalled memory and the plan are in the act prompt
    act_prompt = prompt_text(model, 1)
    assert "User prefers bullet points." in act_prompt and "memory:7" in act_prompt
    assert "1. Read notes.txt" in act_prompt
    result = agent.result("t")
    assert [s["status"] for s in result.steps] == ["done", "done"]
    assert result.tool_calls[0]["output"] == "alpha beta"


def test_act_prompts_only_grow_at_the_end(tmp_path: Path) -> None:
    # Every act prompt extends the previous one, even as the plan's step
    # statuses change, so the model's cached prompt prefix stays valid.
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    agent, model, _ = make_agent(
        tmp_path,
        [call("read_file", {"path": "a.txt"}), call("read_file", {"path": "b.txt"}), final("done")],
        structured=[{"steps": ["Read a.txt", "Read b.txt", "Answer"]}],
        planning=True,
    )
    agent.run("read both files", "t")
    act_prompts = [p for p in model.prompts if any("Plan:" in str(m.content) for m in p)]
    assert len(act_prompts) == 3
    for before, after in zip(act_prompts, act_prompts[1:], strict=False):
        assert [m.content for m in after[: len(before)]] == [m.content for m in before]
    last = [str(m.content) for m in act_prompts[-1]]
    plans = [text for text in last if text.startswith("Plan:")]
    # one note per change: running step 1, then step 2, then step 3
    assert [p.count("[x]") for p in plans] == [0, 1, 2]
    assert plans[-1].endswith("[>] 3. Answer")
    assert last[-1] == plans[-1]  # the newest note is right before the reply


def test_unparseable_plan_falls_back_to_the_task(tmp_path: Path) -> None:
    agent, _, _ = make_agent(tmp_path, [final("ok")], structured=["not json"], planning=True)
    events = list(agent.stream("do the thing", "t"))
    assert any(isinstance(e, ErrorEvent) and "plan not usable" in e.message for e in events)
    assert agent.result("t").steps[0]["text"] == "do the thing"
    assert agent.result("t").status == "finished"


def test_unknown_tool_is_an_observation(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, [call("rm_rf", {"path": "/"}), final("sorry")])
    result = agent.run("x")
    assert result.status == "finished"
    assert result.tool_calls[0]["status"] == "error"
    assert "unknown tool 'rm_rf'" in result.tool_calls[0]["output"]
    assert "unknown tool 'rm_rf'" in prompt_text(model, 1)


def test_invalid_arguments_are_an_observation(tmp_path: Path) -> None:
    agent, model, log = make_agent(tmp_path, [call("write_file", {"path": 3}), final("gave up")])
    result = agent.run("x")
    assert result.status == "finished"
    record = result.tool_calls[0]
    assert record["status"] == "error" and "invalid arguments for write_file" in record["output"]
    assert "content" in record["output"]  # the missing field is named
    assert "invalid arguments" in prompt_text(model, 1)
    assert not log.exists()  # never reached approval, never ran


def test_raising_tool_is_an_observation(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, [call("boom", {"path": "a"}), final("it failed")])
    events = list(agent.stream("x", "t"))
    result = agent.result("t")
    assert result.status == "finished"
    assert "RuntimeError: disk on fire reading a" in result.tool_calls[0]["output"]
    assert any(e.kind == "tool_result" and e.status == "error" for e in events)
    messages = agent.threads.messages("t")
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    assert tool_messages[0].status == "error"


def test_empty_reply_is_fed_back(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, ["", final("fine")], tool_choice="auto")
    result = agent.run("x")
    assert result.answer == "fine"
    assert "your reply was empty" in prompt_text(model, 1)


def test_replan_after_consecutive_failures(tmp_path: Path) -> None:
    script = [call("boom", {"path": str(i)}) for i in range(3)] + [final("done")]
    agent, model, _ = make_agent(
        tmp_path,
        script,
        structured=[{"steps": ["try"]}, {"steps": ["try differently"]}],
        planning=True,
    )
    events = list(agent.stream("x", "t"))
    plans = [e for e in events if isinstance(e, PlanEvent)]
    assert plans[-1].steps[0]["text"] == "try differently"
    assert agent.result("t").status == "finished"


def test_batch_of_calls_in_one_step(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "b.txt").write_text("B")
    agent, _, _ = make_agent(
        tmp_path,
        [calls(("read_file", {"path": "a.txt"}), ("read_file", {"path": "b.txt"})), final("AB")],
    )
    result = agent.run("x")
    assert [c["output"] for c in result.tool_calls] == ["A", "B"]


def test_second_task_on_a_thread_keeps_the_transcript(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, [final("first answer"), final("second answer")])
    agent.run("first question", "t")
    result = agent.run("second question", "t")
    assert result.answer == "second answer"
    seen = prompt_text(model, 1)
    assert "first question" in seen and "second question" in seen
    assert result.tool_calls == []  # per-run fields were reset


def test_each_run_counts_only_its_own_usage(tmp_path: Path) -> None:
    # With planning, a second task's usage used to start from the first one's.
    plans = [{"steps": ["answer"]}, {"steps": ["answer"]}]
    agent, _, _ = make_agent(
        tmp_path, [final("one"), final("two")], structured=plans, planning=True
    )
    first = agent.run("first question", "t")
    second = agent.run("second question", "t")
    assert second.usage["output_tokens"] == first.usage["output_tokens"] > 0


def test_users_can_compose_their_own_graph() -> None:
    """Our nodes in a user-built graph: no planning, no approval node (this
    graph only allows calls the policy allows outright)."""
    model = ScriptedChatModel(script=[final("composed")])
    nodes = AgentNodes(model=model, tools=[], planning=False)
    builder = StateGraph(AgentState)
    builder.add_node("act", nodes.act)
    builder.add_node("finish", nodes.finish)
    builder.add_edge(START, "act")
    builder.add_conditional_edges(
        "act", route_after_act, {"finish": "finish", "approve": END, "act": "act"}
    )
    builder.add_edge("finish", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    out = graph.invoke(
        {"task": "x", "messages": [("user", "x")]}, {"configurable": {"thread_id": "1"}}
    )
    assert out["answer"] == "composed" and out["status"] == "finished"


def test_final_event_carries_answer(tmp_path: Path) -> None:
    agent, _, _ = make_agent(tmp_path, [final("the end")])
    events = list(agent.stream("x"))
    assert isinstance(events[-1], FinalEvent) and events[-1].answer == "the end"


def test_tool_that_handles_its_own_error_is_an_error(tmp_path: Path) -> None:
    from langchain_core.tools import StructuredTool, ToolException

    from agentkit.tools.base import declare

    def flaky(path: str) -> str:
        raise ToolException(f"{path} is locked")

    tool = declare(
        StructuredTool.from_function(flaky, name="flaky", description="x", handle_tool_error=True),
        ["read"],
    )
    model = ScriptedChatModel(script=[call("flaky", {"path": "a"}), final("gave up")])
    from agent_support import settings_for

    from agentkit.agent import Agent

    (tmp_path / "d").mkdir()
    agent = Agent(model=model, tools=[tool], settings=settings_for(tmp_path / "d"), planning=False)
    result = agent.run("x")
    assert (
        result.tool_calls[0]["status"] == "error"
        and "a is locked" in result.tool_calls[0]["output"]
    )


def test_new_task_while_a_call_waits_closes_it(tmp_path: Path) -> None:
    agent, model, log = make_agent(
        tmp_path, [call("shell", {"command": "deploy"}, "s1"), final("answered instead")]
    )
    assert agent.run("deploy", "t").status == "needs_approval"
    result = agent.run("never mind, just answer", "t")
    assert result.status == "finished" and agent.pending("t") == []
    closing = [m for m in agent.threads.messages("t") if isinstance(m, ToolMessage)]
    assert closing[0].tool_call_id == "s1" and "new task" in closing[0].content
    assert not log.exists()


def test_an_edit_that_changes_nothing_is_refused_before_approval(tmp_path: Path) -> None:
    (tmp_path / "style.txt").write_text("colour one\ncolour two\n")
    data = tmp_path / "data"
    data.mkdir()
    settings = settings_for(data)
    same = {"path": "style.txt", "old_string": "colour", "new_string": "colour"}
    model = ScriptedChatModel(script=[call("edit_file", same), final("could not")])
    tools = builtin_tools(settings, workspace=tmp_path)
    agent = Agent(model=model, tools=tools, settings=settings, planning=False)
    result = agent.run("use color instead of colour in style.txt")
    # Finished, not waiting on an approval: the call never reached the prompt.
    assert result.status == "finished"
    record = result.tool_calls[0]
    assert (
        record["status"] == "error" and "are the same, so nothing would change" in record["output"]
    )
    assert "nothing would change" in prompt_text(model, 1)  # the model is told, and tries again
    assert (tmp_path / "style.txt").read_text() == "colour one\ncolour two\n"


@pytest.mark.parametrize("tool", ["copy_file", "move_file"])
def test_a_copy_or_move_onto_its_source_is_refused_before_approval(
    tmp_path: Path, tool: str
) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_text("x\n")
    data = tmp_path / "data"
    data.mkdir()
    settings = settings_for(data)
    onto_itself = {"source": "logs/a.log", "destination": "logs/"}
    model = ScriptedChatModel(script=[call(tool, onto_itself), final("could not")])
    agent = Agent(
        model=model,
        tools=builtin_tools(settings, workspace=tmp_path),
        settings=settings,
        planning=False,
    )
    result = agent.run("make an empty file called .gitkeep in the logs folder")
    assert result.status == "finished"  # no approval was asked for
    record = result.tool_calls[0]
    assert record["status"] == "error" and "are the same file" in record["output"]
    assert "destination is the new path" in prompt_text(model, 1)
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["a.log"]
