"""Steering repairs with a scripted transcript: an edit retried with
replace_all, an answer that lacks the field's value read, and the first
step of a task that names an existing file."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from llama_cpp import LlamaGrammar

from agentkit.config import SteeringSettings, load_settings
from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.models.grammar import Fixed, Omitted, tool_call_grammar, with_choices
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.answer_spans import field_values, pointed_values, regrounded_answer
from agentkit.steering.retries import replace_all_retry
from agentkit.steering.small import NAMED_FILE_PENALTY, SmallModelSteering
from agentkit.tools import builtin_tools

PROFILE = ModelProfile(n_params=270_000_000, base=True)


@pytest.fixture
def tools(tmp_path: Path) -> list[BaseTool]:
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    return builtin_tools(settings, workspace=tmp_path)


def one_call(tool: str, args: dict[str, object], output: str, status: str) -> list[BaseMessage]:
    call = AIMessage("", tool_calls=[{"name": tool, "args": args, "id": "c1"}])
    result = ToolMessage(output, tool_call_id="c1", name=tool, status=status)
    return [HumanMessage("t"), call, result]


EDIT = {"path": "pets.txt", "old_string": "cat", "new_string": "dog"}


def test_an_edit_refused_for_a_repeated_text_is_retried_with_replace_all(
    tools: list[BaseTool], tmp_path: Path
) -> None:
    (tmp_path / "pets.txt").write_text("cat food\nthe cat sleeps\n")
    failed = one_call("edit_file", EDIT, "edit_file: old_string occurs 2 times", "error")
    view = StepView(task="every cat in pets.txt should be dog", messages=failed, steps=1)
    hints = SmallModelSteering(PROFILE, SteeringSettings()).hints(view, tools)
    assert hints.required_tool == "edit_file"
    retry = hints.arg_choices["edit_file"]
    assert retry["replace_all"] == Fixed(True)
    assert list(retry["old_string"]) == ["cat"] and list(retry["new_string"]) == ["dog"]
    assert isinstance(retry["patch"], Omitted)
    # the grammar's schema pins the boolean and requires it
    schema = with_choices([_openai(tools, "edit_file")], {"edit_file": retry})[0]
    params = schema["function"]["parameters"]
    assert params["properties"]["replace_all"] == {"const": True}
    assert "replace_all" in params["required"] and "patch" not in params["properties"]
    gbnf = tool_call_grammar(
        with_choices([_openai(tools, "edit_file")], {"edit_file": retry}), "required"
    )
    assert LlamaGrammar.from_string(gbnf.gbnf, verbose=False) is not None  # llama.cpp takes it
    assert '"true"' in gbnf.gbnf
    off = SmallModelSteering(PROFILE, SteeringSettings(typed_retries=False))
    assert off.hints(view, tools).required_tool is None


@pytest.mark.parametrize(
    ("args", "status", "content"),
    [
        (EDIT, "error", "cat food\n"),  # not repeated: the error was something else
        ({**EDIT, "replace_all": True}, "error", "cat\ncat\n"),  # already tried
        (EDIT, "success", "cat\ncat\n"),  # it worked
        ({**EDIT, "old_string": ""}, "error", "cat\ncat\n"),  # an append
    ],
)
def test_no_retry_unless_the_text_was_repeated(
    tools: list[BaseTool], tmp_path: Path, args: dict[str, object], status: str, content: str
) -> None:
    (tmp_path / "pets.txt").write_text(content)
    assert replace_all_retry(one_call("edit_file", args, "x", status), tools) is None


def test_an_answer_lacking_the_value_of_the_field_read_is_decoded_again(
    tools: list[BaseTool],
) -> None:
    read = one_call("read_field", {}, "cache.host = cache.internal", "success")
    assert field_values([m for m in read if isinstance(m, ToolMessage)]) == ["cache.internal"]
    again = regrounded_answer("what is the cache host in db.ini", read, tools, "cache.host")
    assert again is not None and "cache.internal" in again["answer"]
    kept = "The cache host is cache.internal."
    assert regrounded_answer("what is the cache host in db.ini", read, tools, kept) is None
    # a yes/no question answered yes or no stands
    flag = one_call("read_field", {}, "DEBUG = 0", "success")
    assert regrounded_answer("Is DEBUG on in .env?", flag, tools, "No.") is None


WEATHER = '{"city": "Bergen", "temp_c": 11, "conditions": "rain"}'


@pytest.mark.parametrize(
    ("task", "pointed"),
    [
        ("temperature at /weather?", ["11"]),  # a key's word begins the task's
        ("What are the conditions in /weather", ["rain"]),
        ("what does /weather say", []),  # no key named
        ("city and conditions at /weather", []),  # two named as much: none
    ],
)
def test_the_json_leaf_a_task_points_to(task: str, pointed: list[str]) -> None:
    assert pointed_values(task, [WEATHER]) == pointed
    assert pointed_values(task, ["city: Bergen"]) == []  # not JSON: pointed_line's


def test_an_answer_missing_the_pointed_json_value_is_decoded_again(
    tools: list[BaseTool],
) -> None:
    page = f"HTTP 200 OK http://x.test/weather\ncontent-type: text/plain\n\n{WEATHER}\n"
    fetched = one_call("http_get", {"url": "http://x.test/weather"}, page, "success")
    task = "temperature at http://x.test/weather?"
    # the 270M model's answers: the first value, and a miscopy ("Rainy.")
    for answer in ("Bergen", "Rainy."):
        again = regrounded_answer(task, fetched, tools, answer)
        assert again is not None and list(again["answer"]) == ["11"]
    assert regrounded_answer(task, fetched, tools, "It is 11 degrees.") is None


def test_the_first_step_of_a_task_naming_an_existing_file_acts_on_files(
    tools: list[BaseTool], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("Due: 12 May\n")
    steering = SmallModelSteering(PROFILE, SteeringSettings(step_routing=False))
    off = SmallModelSteering(PROFILE, SteeringSettings(named_file_first=False))
    assert not off.hints(StepView(task="due date? (notes.txt)", messages=[]), tools).tool_bias
    bias = steering.hints(StepView(task="due date? (notes.txt)", messages=[]), tools).tool_bias
    assert bias["current_time"] == -NAMED_FILE_PENALTY
    assert bias[FINAL_ANSWER_TOOL] == -NAMED_FILE_PENALTY
    assert bias["read_file"] == 0.0 and bias["grep"] == 0.0
    # numbers to compute with keep the calculator; a file the task only
    # creates is no file it is about; a later step is left alone
    sum_task = "add 3 and 4 and write it to notes.txt"
    assert (
        steering.hints(StepView(task=sum_task, messages=[]), tools).tool_bias.get("calculator", 0.0)
        == 0.0
    )
    assert not steering.hints(StepView(task="due date? (new.txt)", messages=[]), tools).tool_bias
    later = StepView(task="due date? (notes.txt)", messages=[], steps=1)
    assert not steering.hints(later, tools).tool_bias


def _openai(tools: list[BaseTool], name: str) -> dict[str, object]:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    return convert_to_openai_tool(next(t for t in tools if t.name == name))
