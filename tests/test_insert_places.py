"""Added lines go where the task puts them (agentkit.steering.insert_places).

The repair is driven with a scripted classifier over a real workspace and
the real ``edit_file`` (what the pinned call does to the file); the
classifier itself is checked with the real bundled MiniLM embedder on
requests worded unlike its examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from langchain_core.messages import ToolCall
from langchain_core.tools import BaseTool

from agentkit.config import SteeringSettings, load_settings
from agentkit.memory import LlamaEmbedder
from agentkit.models.grammar import ArgChoices, Omitted, RequiredChoices
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.insert_places import (
    InsertPlaces,
    Place,
    masked_request,
    pinned_args,
    placed_insertion,
)
from agentkit.steering.small import SmallModelSteering
from agentkit.tools import builtin_tools

PROFILE = ModelProfile(n_params=270_000_000, base=True, tuned=True)
LIST = "buy stamps\nrenew passport\nemail the landlord\n"


class ScriptedPlaces(InsertPlaces):
    """Answers one place for every task; records what it was asked."""

    def __init__(self, place: Place) -> None:
        self.answer: Place = place
        self.asked: list[tuple[str, str, str]] = []

    def place(self, task: str, added: str = "", anchor: str = "") -> Place:
        self.asked.append((task, added, anchor))
        return self.answer


@pytest.fixture
def tools(tmp_path: Path) -> list[BaseTool]:
    (tmp_path / "list.txt").write_text(LIST)
    (tmp_path / "repeats.txt").write_text("a\nb\na\nc\n")
    (tmp_path / "empty.txt").write_text("")
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    return builtin_tools(settings, workspace=tmp_path)


def placed(place: Place, tools: list[BaseTool], **args: str) -> dict[str, ArgChoices] | None:
    return placed_insertion(ScriptedPlaces(place), "a task", "edit_file", args, tools)


def edited(tools: list[BaseTool], choices: Mapping[str, ArgChoices] | None) -> str:
    """The file after ``edit_file`` runs with the pinned ``choices``."""
    assert choices is not None
    # What the re-decode leaves out (Omitted) stays out of the call.
    args = pinned_args({k: v for k, v in choices.items() if not isinstance(v, Omitted)})
    assert args is not None
    edit = next(t for t in tools if t.name == "edit_file")
    edit.invoke(args)
    read = next(t for t in tools if t.name == "read_file")
    return str(read.invoke({"path": args["path"]})).split("\n", 1)[1]


def test_an_append_goes_to_the_top(tools: list[BaseTool]) -> None:
    choices = placed("top", tools, path="list.txt", old_string="", new_string="back up the laptop")
    assert edited(tools, choices) == "back up the laptop\n" + LIST.rstrip("\n")


def test_a_line_put_above_another_goes_to_the_top(tools: list[BaseTool]) -> None:
    # The model copied its anchor back without the file's exact text.
    choices = placed(
        "top",
        tools,
        path="list.txt",
        old_string="email the landlord",
        new_string="# Plan\nemail the landlor",
    )
    assert edited(tools, choices).startswith("# Plan\nbuy stamps\n")


def test_the_top_is_anchored_on_a_unique_head(tools: list[BaseTool]) -> None:
    choices = placed("top", tools, path="repeats.txt", old_string="", new_string="z")
    assert choices is not None and choices["old_string"] == RequiredChoices(["a\nb\n"])
    assert edited(tools, choices) == "z\na\nb\na\nc"


def test_after_and_before_a_line(tools: list[BaseTool]) -> None:
    above = {
        "path": "list.txt",
        "old_string": "renew passport\n",
        "new_string": "pay rent\nrenew passport\n",
    }
    assert placed("before", tools, **above) is None  # already where the task puts it
    after = placed("after", tools, **above)
    assert edited(tools, after) == "buy stamps\nrenew passport\npay rent\nemail the landlord"
    below = {"path": "list.txt", "old_string": "buy stamps\n", "new_string": "buy stamps\ntea\n"}
    assert edited(tools, placed("before", tools, **below)).startswith("tea\nbuy stamps\nrenew")


def test_a_line_put_mid_file_goes_to_the_end(tools: list[BaseTool]) -> None:
    choices = placed(
        "end", tools, path="list.txt", old_string="buy stamps", new_string="tea\nbuy stamps"
    )
    assert edited(tools, choices) == LIST + "tea"
    assert placed("end", tools, path="list.txt", old_string="", new_string="tea") is None


@pytest.mark.parametrize(
    "args",
    [
        # a replacement, a removal, text inside a line, a whole new text
        {"path": "list.txt", "old_string": "renew passport", "new_string": "renew visa"},
        {"path": "list.txt", "old_string": "renew passport\n", "new_string": ""},
        {"path": "list.txt", "old_string": "renew", "new_string": "pay\nrenew"},
        {"path": "list.txt", "old_string": "renew passport", "new_string": "a\nb\nc"},
        {"path": "empty.txt", "old_string": "", "new_string": "first"},
    ],
)
def test_only_insertions_are_moved(tools: list[BaseTool], args: dict[str, str]) -> None:
    for place in ("top", "after", "before", "end"):
        assert placed(place, tools, **args) is None


def test_a_whole_line_replaced_by_the_tasks_words_is_kept(tools: list[BaseTool]) -> None:
    # "put pay rent right after renew passport" replaced that line.
    task = "put pay rent right after renew passport in list.txt"
    args = {"path": "list.txt", "old_string": "renew passport", "new_string": "pay rent"}
    choices = placed_insertion(ScriptedPlaces("after"), task, "edit_file", args, tools)
    assert edited(tools, choices) == "buy stamps\nrenew passport\npay rent\nemail the landlord"
    # Words of the model's own are a replacement it meant: not moved.
    args["new_string"] = "pay the landlord's rent"
    assert placed_insertion(ScriptedPlaces("after"), task, "edit_file", args, tools) is None


def test_no_place_moves_nothing(tools: list[BaseTool]) -> None:
    assert placed("none", tools, path="list.txt", old_string="", new_string="tea") is None


def redecoded(
    task: str, call_args: dict[str, str], tools: list[BaseTool], **settings: bool
) -> tuple[Mapping[str, ArgChoices] | None, ScriptedPlaces]:
    places = ScriptedPlaces("top")
    steering = SmallModelSteering(PROFILE, SteeringSettings(**settings), insertions=places)
    call = ToolCall(name="edit_file", args=call_args, id="c1")
    hints = steering.redecode(StepView(task=task, messages=[]), tools, call)
    return (hints.arg_choices.get("edit_file") if hints else None), places


def test_the_steering_redecodes_an_unnamed_replacement_at_the_top(tools: list[BaseTool]) -> None:
    # "renew" is a word the task never names: first an append, then placed.
    task = "Put back up the laptop at the top of list.txt."
    args = {"path": "list.txt", "old_string": "renew", "new_string": "back up the laptop"}
    choices, places = redecoded(task, args, tools)
    assert places.asked == [(task, "back up the laptop", "")]
    assert edited(tools, choices).startswith("back up the laptop\nbuy stamps\n")


def test_questions_and_the_setting_off_are_left_alone(tools: list[BaseTool]) -> None:
    args = {"path": "list.txt", "old_string": "", "new_string": "tea"}
    assert redecoded("Put tea at the top of list.txt", args, tools, insert_places=False)[0] is None
    assert redecoded("What is at the top of list.txt?", args, tools)[0] is None


def test_the_request_is_masked() -> None:
    masked = masked_request("put 'pears' right under Apples in fruit.txt", "pears", "apples")
    assert masked == "put X right under Y in the file"


def test_classifier_places_requests_worded_unlike_its_examples(embedder: LlamaEmbedder) -> None:
    places = InsertPlaces(embedder)
    for want, task, added, anchor in (
        ("top", "insert a new top line 'DRAFT' into memo.txt", "DRAFT", ""),
        ("top", "i want 'Contents' right at the beginning of book.md", "Contents", ""),
        ("top", "Add 'date,amount' as the first row of spend.csv", "date,amount", ""),
        ("after", "insert cheese on the line after bread in shop.txt", "cheese", "bread"),
        ("after", "directly beneath 'Monday' in week.txt put 'Tuesday'", "Tuesday", "Monday"),
        ("before", "insert cheese on the line before bread in shop.txt", "cheese", "bread"),
        ("before", "'step 1' should come before 'step 2' in steps.txt", "step 1", "step 2"),
        ("end", "could you add 'pay bills' to my todo.txt", "pay bills", "walk dog"),
        ("end", "stick 'bananas' on the end of list.txt", "bananas", "apples"),
    ):
        assert places.place(task, added, anchor) == want, task
    for task, added, anchor in (
        ("turn 'colour' into 'color' in essay.txt", "color", "colour"),
        ("remove the line 'old stuff' from notes.txt", "", "old stuff"),
        ("config.ini should have debug = true instead of false", "debug = true", "debug = false"),
    ):
        assert places.place(task, added, anchor) == "none", task
