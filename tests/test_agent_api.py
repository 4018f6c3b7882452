"""The Python API: zero-argument defaults, typed event stream, async twins,
cancellation, and the thread store behind ``agent.threads``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from agent_support import make_agent, settings_for, side_effects
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import TypeAdapter

from agentkit.agent import Agent
from agentkit.events import AgentEvent, Approve, RunResult
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools.base import side_effects_of


def test_zero_argument_agent_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path))
    agent = Agent()
    # no model is loaded until the first run
    assert not hasattr(agent.nodes.model, "invoke")
    assert agent.storage.meta_path == tmp_path / "threads.sqlite"
    assert all(side_effects_of(t) == {"read"} for t in agent.tools)
    assert agent.threads.list() == []
    assert agent.policy.evaluate.__self__ is agent.policy


def test_user_checkpointer_and_memory_ledger(tmp_path: Path) -> None:
    agent = Agent(
        model=ScriptedChatModel(script=[final("hi")]),
        tools=[],
        checkpointer=InMemorySaver(),
        settings=settings_for(tmp_path),
        planning=False,
    )
    assert agent.run("x", "t").answer == "hi"
    assert [i.thread_id for i in agent.threads.list()] == ["t"]


def test_stream_yields_typed_serialisable_events(tmp_path: Path) -> None:
    agent, _, _ = make_agent(
        tmp_path,
        [call("write_file", {"path": "a", "content": "x"}, "w"), final("ok")],
        structured=[{"steps": ["write"]}],
        planning=True,
    )
    events = list(agent.stream("write", "t"))
    kinds = [e.kind for e in events]
    assert kinds[-1] == "approval_needed"
    assert {"token", "plan", "tool_call"} <= set(kinds)
    adapter = TypeAdapter(AgentEvent)
    for event in events:  # JSON round trip: what `agentkit run --json` prints
        assert adapter.validate_json(event.model_dump_json()) == event
    resumed = list(agent.stream_resume("t", [Approve(call_id="w")]))
    assert [e.kind for e in resumed if e.kind != "token"] == ["tool_result", "plan", "final"]


def test_run_result_fields(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("A")
    agent, _, _ = make_agent(tmp_path, [call("read_file", {"path": "a"}, "r"), final("A it is")])
    result = agent.run("read a")
    assert isinstance(result, RunResult)
    assert result.status == "finished" and result.answer == "A it is" and result.stop_reason == ""
    assert [(c["call_id"], c["tool"], c["status"], c["output"]) for c in result.tool_calls] == [
        ("r", "read_file", "ok", "A")
    ]
    usage = result.usage
    assert usage["output_tokens"] > 0 and usage["input_tokens"] > 0
    # The second act prompt starts with the first, so its prefix was reused;
    # every prompt token is either evaluated or reused.
    assert usage["prompt_tokens_reused"] > 0
    assert usage["prompt_tokens_evaluated"] + usage["prompt_tokens_reused"] == usage["input_tokens"]
    assert result.pending == []


async def test_async_twins(tmp_path: Path) -> None:
    agent, _, log = make_agent(
        tmp_path, [call("write_file", {"path": "a", "content": "x"}, "w"), final("done")]
    )
    first = await agent.arun("write", "t")
    assert first.status == "needs_approval"
    events = [e async for e in agent.astream_resume("t", [Approve(call_id="w")])]
    assert events[-1].kind == "final"
    assert side_effects(log) == ["write_file a"]
    (tmp_path / "other").mkdir()
    agent2, _, _ = make_agent(tmp_path / "other", [final("ok")])
    assert [e.kind async for e in agent2.astream("q", "u")][-1] == "final"
    with pytest.raises(Exception, match="nothing to resume"):
        await agent.aresume("t", [])


async def test_cancelling_the_task_leaves_a_resumable_thread(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(str(i))
    script = [call("read_file", {"path": f"{i}.txt"}, f"r{i}") for i in range(3)] + [final("done")]
    agent, model, _ = make_agent(tmp_path, script)
    model.delay_s = 0.3
    started = asyncio.Event()

    async def consume() -> None:
        async for event in agent.astream("slow", "t"):
            if event.kind == "tool_result":
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled = agent.result("t")
    assert cancelled.status == "interrupted"
    assert agent.threads.get("t").status == "interrupted"
    model.delay_s = 0
    result = await agent.aresume("t")
    assert result.status == "finished" and result.answer == "done"


def test_cancel_from_another_thread(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text(str(i))
    script = [call("read_file", {"path": f"{i}.txt"}, f"r{i}") for i in range(5)] + [final("done")]
    agent, _, _ = make_agent(tmp_path, script)
    kinds = []
    for event in agent.stream("x", "t"):
        kinds.append(event.kind)
        if event.kind == "tool_result":
            agent.cancel()
    assert kinds[-1] == "error"
    assert agent.result("t").status == "interrupted"
    assert agent.resume("t").answer == "done"


def test_system_prompt_is_used(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, [final("ok")], system_prompt="You are a pirate.")
    agent.run("x")
    assert model.prompts[0][0].content.startswith("You are a pirate.")
