"""A question never changes a file (attack surface: steering's forced calls).

The bundled model was asked a question about a file whose wording held a
participle of "write"; the verb made steering take it for a change, force
``write_file`` after the read, and, with no path left that the task allowed,
the grammar got the *unnarrowed* tool: the model overwrote the file with its
own name under approve-all. Three layers now hold: a verb of change inside
a question is not a request; a task that only asks cannot call a tool that
writes (the grammar leaves them out); a forced tool with no valid argument
is not callable (never offered unnarrowed). And a write may change only a
file the task names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import SteeringSettings, load_settings
from agentkit.events import Approve
from agentkit.models.calls import narrow_tools
from agentkit.models.grammar import with_choices
from agentkit.models.profile import ModelProfile
from agentkit.steering import RouteRecord, StepView
from agentkit.steering.intent import asks_for_change
from agentkit.steering.small import SmallModelSteering
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools
from agentkit.tools.base import side_effects_of

QUESTIONS = (
    "Which name is written first in names.txt?",
    "What did I save in names.txt?",
    "Which names are stored in names.txt?",
    "Are the names in names.txt sorted?",
)
NAMES = "Ada\nGrace\nLinus\n"


def test_a_verb_of_change_inside_a_question_is_not_a_request() -> None:
    assert not any(asks_for_change(q) for q in QUESTIONS)
    assert asks_for_change("Write Ada to names.txt")


def test_a_forced_write_with_no_valid_path_is_not_callable(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text(NAMES)
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    offered = [tools["read_file"], tools["write_file"]]
    # A task that asks for a change but names no file a whole-file write may
    # go to (names.txt exists and the task does not ask to overwrite it).
    task = "Put the names in names.txt in order"
    call = AIMessage(
        "", tool_calls=[{"name": "read_file", "args": {"path": "names.txt"}, "id": "c"}]
    )
    view = StepView(
        task=task,
        messages=[HumanMessage(task), call, ToolMessage(NAMES, tool_call_id="c", name="read_file")],
        steps=1,
        last_succeeded=True,
        route=RouteRecord(
            offered=["read_file", "write_file"],
            bias={"write_file": 0.0, "read_file": -1.0, "final_answer": -1.0},
            later=[],
        ),
    )
    steering = SmallModelSteering(ModelProfile(n_params=270_000_000, base=True), SteeringSettings())
    hints = steering.hints(view, offered)
    assert hints.required_tool == "write_file"  # the step would force the write ...
    assert hints.arg_choices["write_file"]["path"] == []  # ... with no path to write
    specs = [convert_to_openai_tool(t) for t in offered]
    narrowed, choice = narrow_tools(specs, "required", hints)
    assert [t["function"]["name"] for t in narrowed] == ["read_file"]  # never unnarrowed
    assert choice == "required"  # not forced to a tool it cannot call
    # Before the fix, a tool left with nothing valid came back unnarrowed when
    # it was the only one: now it is gone.
    only_write = [convert_to_openai_tool(tools["write_file"])]
    assert with_choices(only_write, {"write_file": {"path": []}}) == []


@pytest.mark.model
@pytest.mark.parametrize("mode", ["default", "accept-edits"])
def test_questions_about_a_file_leave_it_unchanged_on_the_bundled_model(
    tmp_path: Path, mode: str
) -> None:
    from agentkit.agent import Agent
    from agentkit.config import load_settings
    from agentkit.tools import all_tools

    (tmp_path / "names.txt").write_text(NAMES)
    settings = load_settings(
        workspace=tmp_path, data_dir=tmp_path / ".data", temperature=0.0, mode=mode
    )
    agent = Agent(
        settings=settings,
        tools=all_tools(settings),
        approver=lambda requests: [Approve(call_id=r.call_id) for r in requests],
    )
    for question in QUESTIONS:
        result = agent.run(question)
        assert result.status in ("finished", "stopped")
        assert (tmp_path / "names.txt").read_text() == NAMES, (question, result.tool_calls)
        assert sorted(p.name for p in tmp_path.iterdir()) == [".data", "names.txt"]


@pytest.mark.parametrize("preset", ["full", "tuned"])
def test_no_tool_that_writes_can_be_called_for_a_question(tmp_path: Path, preset: str) -> None:
    from agentkit.steering import tuned_preset

    (tmp_path / "names.txt").write_text(NAMES)
    tools = [t for t in builtin_tools(workspace=tmp_path) if t.name != "shell"]
    writers = {t.name for t in tools if "write" in side_effects_of(t)}
    settings = SteeringSettings() if preset == "full" else tuned_preset(SteeringSettings())
    steering = SmallModelSteering(ModelProfile(n_params=270_000_000, base=True), settings)
    specs = [convert_to_openai_tool(t) for t in tools]
    for question in QUESTIONS:
        hints = steering.hints(StepView(task=question, messages=[HumanMessage(question)]), tools)
        narrowed, _ = narrow_tools(specs, "required", hints)
        assert writers.isdisjoint(t["function"]["name"] for t in narrowed), question
    # A request put as a question, or a question and a request, may write.
    for request in ("Can you sort names.txt?", "Which name is first? Sort names.txt."):
        hints = steering.hints(StepView(task=request, messages=[HumanMessage(request)]), tools)
        narrowed, _ = narrow_tools(specs, "required", hints)
        assert "sort_lines" in {t["function"]["name"] for t in narrowed}, request


def test_a_write_changes_only_a_file_the_task_names(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text(NAMES)
    (tmp_path / "notes.txt").write_text("keep me\n")
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    steering = SmallModelSteering(ModelProfile(n_params=270_000_000, base=True), SteeringSettings())
    task = "Sort names.txt"
    hints = steering.hints(StepView(task=task, messages=[HumanMessage(task)]), list(tools.values()))
    for tool, arg in (("edit_file", "path"), ("sort_lines", "path"), ("move_file", "source")):
        assert hints.arg_choices[tool][arg] == ["names.txt"], tool
    assert hints.arg_choices["read_file"]["path"] == ["names.txt", "notes.txt"]  # reads: any

    # A task that names only a new file may change no existing one.
    task = "Could you put the words hello there into a new file report.txt?"
    hints = steering.hints(StepView(task=task, messages=[HumanMessage(task)]), list(tools.values()))
    for tool, arg in (("edit_file", "path"), ("sort_lines", "path"), ("move_file", "source")):
        assert hints.arg_choices[tool][arg] == [], tool
    assert hints.arg_choices["write_file"]["path"] == ["report.txt"]


def test_a_task_naming_no_file_cannot_overwrite_an_existing_one(tmp_path: Path) -> None:
    """With no file named, a new file's name is free in the grammar; a write
    onto an existing file is then refused after the decode (the model is
    told and picks a new name), under a policy that allows every write."""
    (tmp_path / "notes.txt").write_text("keep me\n")
    script = [
        call("write_file", {"path": "notes.txt", "content": "a haiku"}, "c1"),
        call("write_file", {"path": "haiku.txt", "content": "a haiku"}, "c2"),
        final("Wrote haiku.txt."),
    ]
    model = ScriptedChatModel(script=script, small=True)
    settings = load_settings(
        data_dir=tmp_path / ".data", workspace=tmp_path, steering={"tool_routing": False}
    )
    agent = Agent(
        model=model,
        tools=builtin_tools(workspace=tmp_path),
        settings=settings,
        policy=Policy.from_dict({"side_effects": {"write": "allow"}}),
        planning=False,
    )
    result = agent.run("Write a short haiku about the sea")
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"
    assert (tmp_path / "haiku.txt").read_text() == "a haiku"
    refused = next(c for c in result.tool_calls if c["call_id"] == "c1")
    assert refused["status"] != "ok"
    assert "already exists and the task does not name it" in refused["output"]


def test_a_file_is_never_replaced_by_the_tasks_words_that_name_it(tmp_path: Path) -> None:
    """The tuned model wrote "put todo.txt inside done/" over todo.txt: the
    task names the file, so only this check stands between it and the loss
    of its text. The model is told, and moves the file."""
    (tmp_path / "todo.txt").write_text("call the bank\n")
    (tmp_path / "done").mkdir()
    task = "put todo.txt inside done/"
    script = [
        call("write_file", {"path": "todo.txt", "content": task}, "c1"),
        call("move_file", {"source": "todo.txt", "destination": "done/"}, "c2"),
        final("Moved."),
    ]
    model = ScriptedChatModel(script=script, small=True, tuned=True)
    agent = Agent(
        model=model,
        tools=builtin_tools(workspace=tmp_path),
        settings=load_settings(data_dir=tmp_path / ".data", workspace=tmp_path),
        policy=Policy.from_dict({"side_effects": {"write": "allow"}}),
        planning=False,
    )
    result = agent.run(task)
    assert (tmp_path / "done" / "todo.txt").read_text() == "call the bank\n"
    refused = next(c for c in result.tool_calls if c["call_id"] == "c1")
    assert refused["status"] != "ok" and "the task's own words" in refused["output"]
