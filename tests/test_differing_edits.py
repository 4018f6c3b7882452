"""An edit whose new text is its old text can only fail: a small model's
such call is decoded once more with the grammar ruling that value out
(agentkit.models.grammar.Differs), its path and old text kept. A capable
model's call is left to the tool, which refuses it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from agent_support import settings_for
from langchain_core.messages import ToolCall
from llama_cpp import LlamaGrammar

from agentkit.agent import Agent
from agentkit.config import SteeringSettings
from agentkit.events import RunResult
from agentkit.models.grammar import Differs, Omitted, RequiredChoices, json_grammar, with_choices
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.arguments import differing_call
from agentkit.steering.small import SmallModelSteering
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools

SAME = {"path": "style.txt", "old_string": "colour", "new_string": "colour"}
SMALL = ModelProfile(n_params=270_000_000, base=True)
HARD = ['a"b', "back\\slash", "two\nlines", "tab\there", "café ü", "x"]


def test_only_a_repeated_value_is_decoded_again() -> None:
    assert differing_call("edit_file", SAME) == {
        "path": RequiredChoices(["style.txt"]),
        "old_string": RequiredChoices(["colour"]),
        "new_string": Differs("colour"),
    }
    assert differing_call("edit_file", {**SAME, "new_string": "color"}) is None
    # An append (empty old text) adds its new text: never a repeat.
    assert differing_call("edit_file", {"path": "a", "old_string": "", "new_string": ""}) is None
    assert differing_call("write_file", {"path": "a", "content": "a"}) is None


def test_the_differing_argument_is_required_and_negated_in_the_schema() -> None:
    edit = {
        "type": "function",
        "function": {
            "name": "edit_file",
            "parameters": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "old_string": {"type": "string"},
                    "new_string": {"type": "string", "default": ""},
                },
                "required": ["path", "old_string"],
            },
        },
    }
    (narrowed,) = with_choices([edit], {"edit_file": differing_call("edit_file", SAME) or {}})
    params = narrowed["function"]["parameters"]
    assert params["properties"]["new_string"] == {"type": "string", "not": {"const": "colour"}}
    assert params["required"] == ["path", "old_string", "new_string"]


@pytest.mark.parametrize("value", HARD)
def test_llama_cpp_parses_the_grammar_for_any_characters(value: str) -> None:
    gbnf = json_grammar({"type": "string", "not": {"const": value}})
    assert LlamaGrammar.from_string(gbnf, verbose=False) is not None
    # One rule per character (or escape) of the value as JSON writes it.
    units = len(json.dumps(value, ensure_ascii=False)[1:-1]) - value.count("\n") - value.count("\t")
    units -= value.count('"') + value.count("\\")
    assert len(re.findall(r"^root-d\d+ ::=", gbnf, re.MULTILINE)) == units + 1


@pytest.mark.parametrize("value", ["week", 'say "hi"', "buy stamps\n"])
def test_the_real_model_cannot_write_the_value_it_must_differ_from(
    real_chat_model, tmp_path: Path, value: str
) -> None:
    (tmp_path / "notes.txt").write_text(f"{value}\n")
    (edit,) = [t for t in builtin_tools(workspace=tmp_path) if t.name == "edit_file"]
    args = {"path": "notes.txt", "old_string": value, "new_string": value}
    steering = SmallModelSteering(SMALL, SteeringSettings())
    hints = steering.redecode(StepView(task="t", messages=[]), [edit], tool_call(args))
    assert hints is not None
    # what the call left out stays out (decoded again, the model added replace_all)
    chosen = hints.arg_choices["edit_file"]
    assert chosen["replace_all"] == Omitted() and chosen["patch"] == Omitted()
    bound = real_chat_model.bind_tools([edit], tool_choice="edit_file", hints=hints)
    # A prompt that asks for the very repeat the grammar rules out.
    reply = bound.invoke(f"Replace {json.dumps(value)} with {json.dumps(value)} in notes.txt.")
    (made,) = reply.tool_calls
    assert made["args"]["path"] == "notes.txt" and made["args"]["old_string"] == value
    assert made["args"]["new_string"] != value
    assert set(made["args"]) == {"path", "old_string", "new_string"}


def tool_call(args: dict[str, Any]) -> ToolCall:
    return {"name": "edit_file", "args": args, "id": "c1", "type": "tool_call"}


def run_on_style(tmp_path: Path, model: ScriptedChatModel, **settings: Any) -> RunResult:
    """``model`` over the built-in tools, asked to respell style.txt."""
    (tmp_path / "style.txt").write_text("colour one\n")
    data = tmp_path / "data"
    data.mkdir()
    config = settings_for(data, **settings)
    tools = builtin_tools(config, workspace=tmp_path)
    agent = Agent(model=model, tools=tools, settings=config, planning=False)
    return agent.run("use color instead of colour in style.txt")


def test_a_small_models_repeated_edit_is_decoded_again_and_runs(tmp_path: Path) -> None:
    fixed = {**SAME, "new_string": "color"}
    script = [call("edit_file", SAME), call("edit_file", fixed), final("Fixed.")]
    model = ScriptedChatModel(script=script, small=True)
    result = run_on_style(tmp_path, model, steering={"tool_routing": False}, mode="accept-edits")
    assert result.status == "finished"
    assert (tmp_path / "style.txt").read_text() == "color one\n"
    # The repeat never ran: one call, the second decode's.
    assert [r["args"]["new_string"] for r in result.tool_calls] == ["color"]
    again = model.hints[1]
    assert again is not None and again.arg_choices["edit_file"]["new_string"] == Differs("colour")


def test_a_capable_models_repeated_edit_goes_to_the_tool(tmp_path: Path) -> None:
    model = ScriptedChatModel(script=[call("edit_file", SAME), final("could not")])
    result = run_on_style(tmp_path, model)
    assert "nothing would change" in result.tool_calls[0]["output"]
    assert len(model.hints) == 2  # no decode in between
