"""A change to a structured file that names one of its keys goes to
set_field (agentkit.steering.field_edits): a lean on the first step, and an
edit that writes a value after a key's name decoded again as set_field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_support import settings_for
from langchain_core.messages import ToolCall
from langchain_core.tools import BaseTool

from agentkit.agent import Agent
from agentkit.config import SteeringSettings, load_settings
from agentkit.models.grammar import Fixed
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.field_edits import FIELD_BIAS, key_edit
from agentkit.steering.grounding import setting_values
from agentkit.steering.small import SmallModelSteering
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools

PROFILE = ModelProfile(n_params=270_000_000, base=True, tuned=True)
CONFIG = {"worker": {"timeout": 30, "workers": 4}, "name": "api"}


@pytest.fixture
def tools(tmp_path: Path) -> list[BaseTool]:
    (tmp_path / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    (tmp_path / "notes.txt").write_text("timeout: remember to call\n")
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    return builtin_tools(settings, workspace=tmp_path)


def steering(**settings: bool) -> SmallModelSteering:
    return SmallModelSteering(PROFILE, SteeringSettings(step_routing=False, **settings))


@pytest.mark.parametrize(
    ("task", "leans"),
    [
        ("Change the timeout in config.json to 652", True),
        ("set workers in config.json to 8", True),
        # a question, a file with no such key, a file that is not structured
        ("What is the timeout in config.json?", False),
        ("Change the retries in config.json to 3", False),
        ("Change the timeout in notes.txt to tomorrow", False),
    ],
)
def test_a_change_naming_a_key_leans_to_set_field(
    tools: list[BaseTool], task: str, leans: bool
) -> None:
    bias = steering().hints(StepView(task=task, messages=[]), tools).tool_bias
    assert bias.get("set_field", 0.0) == (FIELD_BIAS if leans else 0.0)


def test_the_lean_is_first_step_only_and_can_be_turned_off(tools: list[BaseTool]) -> None:
    task = "Change the timeout in config.json to 652"
    later = StepView(task=task, messages=[], steps=1)
    assert steering().hints(later, tools).tool_bias.get("set_field", 0.0) == 0.0
    off = steering(set_fields=False).hints(StepView(task=task, messages=[]), tools)
    assert off.tool_bias.get("set_field", 0.0) == 0.0


@pytest.mark.parametrize(
    ("old", "new", "keys"),
    [
        # the tuned model's calls: the key renamed "timeout 652", the key
        # kept, the key replaced by the value, the key deleted
        ("timeout", "timeout 652", ["worker.timeout"]),
        ("workers", "workers", ["worker.workers"]),
        ('"timeout"', '"timeout": 652', ["worker.timeout"]),
        ("timeout", "652", ["worker.timeout"]),
        ("timeout ", "", ["worker.timeout"]),
        # a renamed key is taken for a setting too (the preview shows it)
        ("timeout", "time_limit", ["worker.timeout"]),
        # a value changed, a word that is no key, a section
        ("30", "652", None),
        ("api", "api v2", None),
        ("worker", "workers", None),
    ],
)
def test_an_edit_writing_a_value_after_a_key_is_a_setting(
    tools: list[BaseTool], old: str, new: str, keys: list[str] | None
) -> None:
    args = {"path": "config.json", "old_string": old, "new_string": new}
    choices = key_edit("edit_file", args, tools, "Change the timeout in config.json to 652")
    if keys is None:
        assert choices is None
        return
    assert choices is not None
    assert choices["path"] == Fixed("config.json") and list(choices["key"]) == keys
    assert "652" in choices["value"] and "config.json" not in choices["value"]
    # not the key's own name: "debug" had been set to "debug"
    assert keys[0].rsplit(".", 1)[-1] not in choices["value"]


def test_only_edits_of_a_structured_file_are_settings(tools: list[BaseTool]) -> None:
    args = {"path": "notes.txt", "old_string": "timeout", "new_string": "timeout 2"}
    assert key_edit("edit_file", args, tools, "t") is None
    assert key_edit("write_file", {"path": "config.json"}, tools, "t") is None


def test_setting_values_are_the_tasks_words() -> None:
    values = setting_values('set name in app.json to "Big Co" and debug to on', {"debug": "x"})
    assert values[0] == "Big Co" and "on" in values and "app.json" not in values
    assert "debug" not in values and values[-2:] == ["true", "false"]
    # a value that looks like a file name is still a value
    assert "db.internal" in setting_values("Update host to db.internal in config.toml")
    # typed by the setting's value now: a boolean, a number
    assert setting_values("turn debug on in app.yaml", {"server.debug": False}) == ["true", "false"]
    assert setting_values("raise the timeout to 60 or 90", {"timeout": 30}) == ["60", "90"]
    assert "raise" in setting_values("raise the timeout a lot", {"timeout": 30})


def test_the_path_is_the_settings_file_the_task_names(tools: list[BaseTool]) -> None:
    from agentkit.steering.arguments import GROUNDED_ARGS, choices

    set_field = next(t for t in tools if t.name == "set_field")

    def path(task: str) -> object:
        return choices(set_field, GROUNDED_ARGS["set_field"]["path"], task)

    # db.internal was made as a file for "Update host to db.internal in config.toml"
    assert path("Update host to db.internal in config.json") == ["config.json"]
    assert path("make new.toml with port 8080") == ["new.toml"]


def edit(args: dict[str, object]) -> ToolCall:
    return {"name": "edit_file", "args": args, "id": "c1", "type": "tool_call"}


def test_the_redecode_names_set_field_and_can_be_turned_off(tools: list[BaseTool]) -> None:
    view = StepView(task="Change the timeout in config.json to 652", messages=[])
    bad = edit({"path": "config.json", "old_string": "timeout", "new_string": "timeout 652"})
    hints = steering().redecode(view, tools, bad)
    assert hints is not None and hints.required_tool == "set_field"
    assert list(hints.arg_choices["set_field"]["key"]) == ["worker.timeout"]
    assert steering(set_fields=False).redecode(view, tools, bad) is None


def test_a_small_models_key_edit_runs_as_set_field(tmp_path: Path) -> None:
    """The graph decodes the call again as the tool the repair names, and
    only that call runs."""
    (tmp_path / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    data = tmp_path / "data"
    data.mkdir()
    config = settings_for(data, steering={"tool_routing": False}, mode="accept-edits")
    bad = {"path": "config.json", "old_string": "timeout", "new_string": "timeout 652"}
    setting = {"path": "config.json", "key": "worker.timeout", "value": "652"}
    script = [call("edit_file", bad), call("set_field", setting), final("Done.")]
    model = ScriptedChatModel(script=script, small=True, tuned=True)
    agent = Agent(
        model=model,
        tools=builtin_tools(config, workspace=tmp_path),
        settings=config,
        planning=False,
    )
    result = agent.run("Change the timeout in config.json to 652")
    assert result.status == "finished"
    assert [c["tool"] for c in result.tool_calls] == ["set_field"]
    assert json.loads((tmp_path / "config.json").read_text())["worker"]["timeout"] == 652
    assert model.bound_tool_names[1] == ["set_field"] and model.tool_choices[1] == "set_field"
