"""A new file's text that names the file it writes is decoded again
without those words (agentkit.steering.echoes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_support import settings_for
from langchain_core.messages import ToolCall

from agentkit.agent import Agent
from agentkit.config import SteeringSettings
from agentkit.models.grammar import Differs, Fixed
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.echoes import ECHO_AVOID_BIAS, echoed_name
from agentkit.steering.small import SmallModelSteering
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools

PROFILE = ModelProfile(n_params=270_000_000, base=True, tuned=True)
TASK = "Create todo.txt listing milk, eggs and bread"


def write(path: str, content: str) -> ToolCall:
    return {"name": "write_file", "args": {"path": path, "content": content}, "id": "c1"}


def test_content_naming_its_file_is_decoded_again_without_it() -> None:
    hints = echoed_name(
        "write_file", {"path": "todo.txt", "content": "create todo.txt\neggs"}, TASK
    )
    assert hints is not None
    choices = hints.arg_choices["write_file"]
    assert choices["path"] == Fixed("todo.txt")
    assert choices["content"] == Differs("create todo.txt\neggs")
    # only the lines that named the file are penalised: "eggs" may stay
    assert hints.avoid_from == "create todo.txt" and hints.avoid_bias == ECHO_AVOID_BIAS


@pytest.mark.parametrize(
    ("path", "content", "task"),
    [
        # content without the name; the name in a subfolder's path only
        ("todo.txt", "milk\neggs\nbread\n", TASK),
        ("work/todo.txt", "see work for more", "make work/todo.txt saying see work for more"),
        # the task quotes the name as text to write
        ("a.txt", "see notes.txt", "put 'see notes.txt' in a.txt"),
    ],
)
def test_other_writes_are_kept(path: str, content: str, task: str) -> None:
    assert echoed_name("write_file", {"path": path, "content": content}, task) is None


def test_a_write_over_an_existing_file_is_left_to_the_refusals() -> None:
    # they tell the model to move or edit it (tests/security/test_questions_never_write.py)
    args = {"path": "todo.txt", "content": "put todo.txt inside done/"}
    assert echoed_name("write_file", args, "put todo.txt inside done/", exists=True) is None


def test_only_write_file_and_it_can_be_turned_off() -> None:
    args = {"path": "todo.txt", "old_string": "x", "new_string": "todo.txt"}
    assert echoed_name("edit_file", args, TASK) is None
    view = StepView(task=TASK, messages=[])
    echo = write("todo.txt", "create todo.txt")
    on = SmallModelSteering(PROFILE, SteeringSettings())
    assert on.redecode(view, [], echo) is not None
    off = SmallModelSteering(PROFILE, SteeringSettings(echoed_names=False))
    assert off.redecode(view, [], echo) is None


def test_the_graph_writes_the_call_decoded_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = settings_for(data, steering={"tool_routing": False}, mode="accept-edits")
    script = [
        call("write_file", {"path": "todo.txt", "content": "create todo.txt\neggs\nbread\n"}),
        call("write_file", {"path": "todo.txt", "content": "milk\neggs\nbread\n"}),
        final("Done."),
    ]
    model = ScriptedChatModel(script=script, small=True, tuned=True)
    agent = Agent(
        model=model,
        tools=builtin_tools(config, workspace=tmp_path),
        settings=config,
        planning=False,
    )
    result = agent.run(TASK)
    assert result.status == "finished"
    assert [c["tool"] for c in result.tool_calls] == ["write_file"]
    assert (tmp_path / "todo.txt").read_text() == "milk\neggs\nbread\n"
    assert model.tool_choices[1] == "write_file"
