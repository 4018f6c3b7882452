"""A capable model gets the framework, not the 270M workarounds: every tool,
the transcript without cues or worked examples, no decoding hints, and its
answer byte for byte (no length cap, no markup or repeat cutting). The same
graph over a model that reports itself small is steered."""

from __future__ import annotations

from pathlib import Path

from agent_support import make_agent
from langchain_core.messages import SystemMessage

from agentkit.models.hints import DecodeHints
from agentkit.testing import call, final

# Markup, a table whose rows repeat, and more than any small-model cap.
ANSWER = (
    "<p>Here is the summary.</p><br>\n\n"
    "| name | score |\n|---|---|\n"
    + "| same | 1 |\n" * 40
    + "\nThat is all. That is all. That is all.\n"
    + "x" * 900
)


def test_a_capable_models_answer_is_returned_byte_for_byte(tmp_path: Path) -> None:
    agent, model, _ = make_agent(tmp_path, [final(ANSWER)])
    result = agent.run("Summarise the scores")
    assert result.status == "finished"
    assert result.answer == ANSWER


def test_a_capable_model_sees_every_tool_and_no_steering(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [call("read_file", {"path": "a.txt"}, "c1"), final("alpha")]
    agent, model, _ = make_agent(tmp_path, script)
    agent.run("Which name is written in a.txt?")
    assert all(names[:-1] == [t.name for t in agent.tools] for names in model.bound_tool_names)
    assert model.hints == [DecodeHints(), DecodeHints()]
    second = model.prompts[1]
    cues = [m for m in second[1:] if isinstance(m, SystemMessage)]
    assert cues == []  # no observation cue after the result, no worked examples


def test_a_small_model_is_steered_by_the_same_graph(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [call("read_file", {"path": "a.txt"}, "c1"), final("alpha " * 200)]
    agent, model, _ = make_agent(tmp_path, script, small=True)
    result = agent.run("What is in a.txt?")
    assert len(result.answer) < len("alpha " * 200)  # tidied: the repeat is cut
    assert model.hints[0] is not None and model.hints[0].copy_bias > 0
    second = model.prompts[1]
    assert any(isinstance(m, SystemMessage) for m in second[1:])  # worked examples, cues


def test_a_capable_model_sees_each_plan_note_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [call("read_file", {"path": "a.txt"}, "c1"), final("alpha")]
    plan = {"steps": ["Read a.txt", "Answer with its first word"]}
    agent, model, _ = make_agent(tmp_path, script, structured=[plan], planning=True)
    assert agent.run("Read a.txt and tell me its first word").status == "finished"
    act_prompts = [p for p in model.prompts if any("Plan:" in str(m.content) for m in p)]
    assert act_prompts
    for prompt in act_prompts:
        notes = [m for m in prompt if isinstance(m, SystemMessage) and "Plan:" in str(m.content)]
        assert len(notes) == len({str(m.content) for m in notes}), notes
