"""A question never changes a file (attack surface: steering's forced calls).

The bundled model was asked a question about a file whose wording held a
participle of "write"; the verb made steering take it for a change, force
``write_file`` after the read, and, with no path left that the task allowed,
the grammar got the *unnarrowed* tool: the model overwrote the file with its
own name under approve-all. Two layers now hold: a verb of change inside a
question is not a request, and a forced tool with no valid argument is not
callable (never offered unnarrowed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.config import SteeringSettings
from agentkit.events import Approve
from agentkit.models.chat import _narrow
from agentkit.models.grammar import with_choices
from agentkit.models.profile import ModelProfile
from agentkit.steering import RouteRecord, StepView
from agentkit.steering.intent import asks_for_change
from agentkit.steering.small import SmallModelSteering
from agentkit.tools import builtin_tools

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
    narrowed, choice = _narrow(specs, "required", hints)
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
