"""Limits end a run cleanly with a reason; rejected or failed calls are not
retried blindly."""

from __future__ import annotations

from pathlib import Path

from agent_support import make_agent, prompt_text, settings_for, side_effects

from agentkit.events import ErrorEvent, Reject
from agentkit.graphs.agent_graph import Limits
from agentkit.testing import ScriptedChatModel, call, final


def test_max_steps(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    (tmp_path / "b").write_text("y")
    # alternating calls: neither the repeat detector nor answer-on-repeat applies
    script = [call("read_file", {"path": "ab"[i % 2]}, f"c{i}") for i in range(10)]
    agent, model, _ = make_agent(tmp_path, script, limits=Limits(max_steps=2, max_repeats=5))
    events = list(agent.stream("loop", "t"))
    result = agent.result("t")
    assert result.status == "stopped"
    assert result.stop_reason == "max steps (2) reached"
    assert model.calls_made == 2
    assert isinstance(events[-1], ErrorEvent) and "max steps" in events[-1].message


def test_token_budget(tmp_path: Path) -> None:
    long = "word " * 50
    agent, model, _ = make_agent(
        tmp_path, [call("read_file", {"path": long}), final("x")], limits=Limits(max_tokens=10)
    )
    result = agent.run("x")
    assert result.status == "stopped"
    assert result.stop_reason == "token budget (10) spent"
    assert result.usage["output_tokens"] >= 10


def test_wall_clock_budget(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    (tmp_path / "b").write_text("y")
    data = tmp_path / "data"
    data.mkdir()
    agent, model, _ = make_agent(
        tmp_path,
        [call("read_file", {"path": "ab"[i % 2]}, f"c{i}") for i in range(5)],
        settings=settings_for(data, time_budget_s=0.3),
        limits=Limits(max_repeats=10),
    )
    model.delay_s = 0.2
    result = agent.run("slow")
    assert result.status == "stopped"
    assert result.stop_reason == "wall-clock budget exceeded"
    # Two calls fit in 0.3 s on an idle machine; a loaded one may only fit
    # one. Either way the budget, not the script, ended the run.
    assert 1 <= model.calls_made <= 2


def test_rejected_call_is_not_repeated_blindly(tmp_path: Path) -> None:
    script = [
        call("shell", {"command": "make deploy"}, "c1"),
        call("shell", {"command": "make deploy"}, "c2"),  # the same call again
        final("ok, not deploying"),
    ]
    agent, model, log = make_agent(tmp_path, script)
    first = agent.run("deploy", "t")
    assert first.status == "needs_approval"
    result = agent.resume("t", [Reject(call_id="c1", feedback="not on a Friday")])
    # the repeat was answered without asking the human again, and never ran
    assert result.status == "finished"
    assert [c["status"] for c in result.tool_calls] == ["rejected", "error"]
    assert "already tried" in result.tool_calls[1]["output"]
    assert "not on a Friday" in result.tool_calls[1]["output"]
    assert "not on a Friday" in prompt_text(model, 1)
    assert side_effects(log) == []


def test_failed_call_is_not_repeated_blindly(tmp_path: Path) -> None:
    script = [call("boom", {"path": "a"}, "c1"), call("boom", {"path": "a"}, "c2"), final("stop")]
    agent, _, _ = make_agent(tmp_path, script)
    result = agent.run("x")
    assert "disk on fire" in result.tool_calls[0]["output"]
    assert "already tried" in result.tool_calls[1]["output"]
    assert "disk on fire" in result.tool_calls[1]["output"]  # says why


def test_identical_proposals_in_a_row_stop_the_run(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    agent, model, _ = make_agent(
        tmp_path,
        [call("read_file", {"path": "a"}, f"c{i}") for i in range(10)],
        limits=Limits(max_repeats=3),
    )
    result = agent.run("x")
    assert result.status == "stopped"
    assert result.stop_reason == "repeated identical call 3 times in a row"
    assert len(result.tool_calls) == 2  # the third proposal never ran
    # the transcript stays valid: every tool call has a ToolMessage
    messages = agent.threads.messages(result.thread_id)
    call_ids = {c["id"] for m in messages for c in getattr(m, "tool_calls", [])}
    answered = {m.tool_call_id for m in messages if m.type == "tool"}
    assert call_ids <= answered


def test_limits_come_from_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    from agentkit.agent import Agent

    agent = Agent(
        model=ScriptedChatModel(),
        tools=[],
        settings=settings_for(data, max_steps=3, max_run_tokens=99),
    )
    assert (agent.limits.max_steps, agent.limits.max_tokens) == (3, 99)


def test_repeating_a_successful_call_asks_for_the_answer(tmp_path: Path) -> None:
    """A small model proposes exactly the call that just succeeded: it is
    done. The call is not run again; the same prompt is asked for
    final_answer (small-model steering: answer on repeat)."""
    (tmp_path / "a").write_text("x")
    script = [
        call("read_file", {"path": "a"}, "c1"),
        call("read_file", {"path": "a"}, "c2"),
        final("x"),
    ]
    agent, model, _ = make_agent(tmp_path, script, small=True)
    result = agent.run("read a")
    assert result.status == "finished" and result.answer == "x"
    assert [c["call_id"] for c in result.tool_calls] == ["c1"]  # ran once
    assert model.calls_made == 3
    assert model.tool_choices[-1] == "final_answer"
