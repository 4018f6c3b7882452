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
from agentkit.steering.answer_spans import (
    echoes,
    field_values,
    pointed_values,
    regrounded_answer,
)
from agentkit.steering.appends import unnamed_replacement
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
    new = steering.hints(StepView(task="due date? (new.txt)", messages=[]), tools).tool_bias
    assert new.get("current_time", 0.0) == 0.0 and new.get(FINAL_ANSWER_TOOL, 0.0) == 0.0
    later = StepView(task="due date? (notes.txt)", messages=[], steps=1)
    assert not steering.hints(later, tools).tool_bias


def _openai(tools: list[BaseTool], name: str) -> dict[str, object]:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    return convert_to_openai_tool(next(t for t in tools if t.name == name))


def test_the_first_step_of_a_task_making_only_new_files_does_not_read_others(
    tools: list[BaseTool], tmp_path: Path
) -> None:
    (tmp_path / "todo.txt").write_text("buy milk\n")
    (tmp_path / "data").mkdir()
    steering = SmallModelSteering(PROFILE, SteeringSettings(step_routing=False))
    make = StepView(task="pets.txt: cat, dog, parrot (one per line)", messages=[])
    bias = steering.hints(make, tools).tool_bias
    # the 270M model read todo.txt and answered with its text
    assert bias["read_file"] == -NAMED_FILE_PENALTY and bias["read_field"] == -NAMED_FILE_PENALTY
    assert bias.get("write_file", 0.0) == 0.0 and bias.get("grep", 0.0) == 0.0
    off = SmallModelSteering(PROFILE, SteeringSettings(step_routing=False, new_file_first=False))
    assert off.hints(make, tools).tool_bias.get("read_file", 0.0) == 0.0
    # a question may read; so may a task naming a file or folder that exists,
    # and a later step
    for task in ("what is in pets.txt?", "copy todo.txt to pets.txt", "sum up data/ in pets.txt"):
        hints = steering.hints(StepView(task=task, messages=[]), tools)
        assert hints.tool_bias.get("read_file", 0.0) == 0.0, task
    later = StepView(task=make.task, messages=[], steps=1)
    assert steering.hints(later, tools).tool_bias.get("read_file", 0.0) == 0.0


ERRANDS = "- renew passport\n- book a table\nDeadline: Monday\nthe cat sleeps\nold line\nuntill\n"


@pytest.mark.parametrize(
    ("task", "old", "new", "appended"),
    [
        # the 270M model's calls: a word nobody named gave way to the new item
        ("add clean the oven to errands.md", "renew", "clean the oven", True),
        ("Put call the bank at the bottom of log.txt", "book", "call the bank", True),
        # a replacement the task names, a fix, a line chosen whole, an append
        ("replace cat with dog in pets.txt", "cat", "dog", False),
        ("replace cat with doggy in pets.txt", "cat", "doggy", False),
        ("fix the typo in notice.txt", "untill", "until", False),
        ("set the deadline in plan.txt to Friday", "Monday", "Friday", False),
        ("set the deadline in plan.txt to Thursday", "Monday", "Thursday", False),
        ("replace line 2 of notes.txt with hello world", "old line", "hello world", False),
        ("add clean the oven to errands.md", "", "clean the oven", False),
        # new text that is not the task's
        ("tidy up errands.md", "renew", "clean the oven", False),
    ],
)
def test_a_word_the_task_never_names_replaced_by_its_words_is_an_append(
    task: str, old: str, new: str, appended: bool, tools: list[BaseTool], tmp_path: Path
) -> None:
    (tmp_path / "errands.md").write_text(ERRANDS)
    args = {"path": "errands.md", "old_string": old, "new_string": new}
    choices = unnamed_replacement("edit_file", args, task, tools)
    assert (choices is not None) == appended
    if choices is not None:
        assert list(choices["old_string"]) == [""] and list(choices["new_string"]) == [new]
        assert list(choices["path"]) == ["errands.md"]


def test_the_append_is_decoded_with_the_grammar_and_can_be_turned_off(
    tools: list[BaseTool], tmp_path: Path
) -> None:
    (tmp_path / "errands.md").write_text(ERRANDS)
    call = {
        "name": "edit_file",
        "args": {"path": "errands.md", "old_string": "renew", "new_string": "clean the oven"},
        "id": "c1",
    }
    view = StepView(task="add clean the oven to errands.md", messages=[])
    steering = SmallModelSteering(PROFILE, SteeringSettings())
    hints = steering.redecode(view, tools, call)  # type: ignore[arg-type]
    assert hints is not None
    edit = hints.arg_choices["edit_file"]
    assert list(edit["old_string"]) == [""] and isinstance(edit["replace_all"], Omitted)
    off = SmallModelSteering(PROFILE, SteeringSettings(append_unnamed_replacements=False))
    assert off.redecode(view, tools, call) is None  # type: ignore[arg-type]


def test_an_answer_that_only_echoes_the_task_is_decoded_again_from_the_line(
    tools: list[BaseTool],
) -> None:
    found = "app.log:2: 2026-03-01 WARN disk at 91%"
    searched = one_call("grep", {"pattern": "disk"}, found, "success")
    task = "how full was the disk per app.log"
    # the 270M model's answer: a word of the task, nothing read
    again = regrounded_answer(task, searched, tools, "full")
    assert again is not None and any("91%" in span for span in again["answer"])
    assert regrounded_answer(task, searched, tools, "91% full") is None  # it says something
    assert echoes("The disk.", task) and not echoes("91%", task)
