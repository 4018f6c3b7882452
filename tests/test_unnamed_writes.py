"""A small model writes only where the task says: a task that asks for no
change makes no file it does not name, and a bare extension the task asks
about (".csv", "*.log") is a type of file, not a file to make
(agentkit.steering.arguments, agentkit.steering.grounding)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.tools import BaseTool

from agentkit.config import SteeringSettings
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.arguments import choices
from agentkit.steering.grounding import names_a_type, write_paths
from agentkit.steering.small import SmallModelSteering
from agentkit.tools import builtin_tools

PROFILE = ModelProfile(n_params=270_000_000, base=True, tuned=True)


@pytest.fixture
def tools(tmp_path: Path) -> dict[str, BaseTool]:
    (tmp_path / "sales.csv").write_text("a,b\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    return {t.name: t for t in builtin_tools(workspace=tmp_path)}


@pytest.mark.parametrize(
    ("path", "text", "files", "is_type"),
    [
        (".csv", "ls, then tell me the .csv file", ["sales.csv"], True),
        (".log", "add a .gitignore that ignores *.log", [], True),
        # a dotfile is a name, even beside files of another type
        (".gitignore", "add a .gitignore that ignores *.log", ["a.log"], False),
        (".env", "put DEBUG=1 in .env", [".env"], False),
        (".csv", "make .csv", [], False),
        ("data/.csv", "x", ["a.csv"], False),
    ],
)
def test_a_bare_extension_is_a_type_of_file(
    path: str, text: str, files: list[str], is_type: bool
) -> None:
    assert names_a_type(path, text, files) == is_type


def test_a_type_is_no_place_to_write() -> None:
    assert write_paths("add a .gitignore that ignores *.log", []) == [".gitignore"]
    assert write_paths("ls, then tell me the .csv file", ["sales.csv"]) is None


def test_a_task_asking_no_change_makes_no_unnamed_file(tools: dict[str, BaseTool]) -> None:
    task = "ls, then tell me the .csv file"
    assert choices(tools["write_file"], "named_path", task, change=False) == []
    assert choices(tools["copy_file"], "destination", task, change=False) == []
    # a change may still make a file it leaves unnamed (the approval shows it)
    assert choices(tools["write_file"], "named_path", "Write a haiku", change=True) is None
    # and a named file is named either way
    named = choices(tools["write_file"], "named_path", "hi to out.txt", change=False)
    assert named == ["out.txt"]


def test_the_steering_passes_the_tasks_intent(tools: dict[str, BaseTool]) -> None:
    steering = SmallModelSteering(PROFILE, SteeringSettings(step_routing=False))
    offered = list(tools.values())

    def write_path(task: str) -> object:
        hints = steering.hints(StepView(task=task, messages=[]), offered)
        return hints.arg_choices.get("write_file", {}).get("path")

    assert write_path("ls, then tell me the .csv file") == []
    assert write_path("Write a haiku about rain into a new file") is None


@pytest.mark.parametrize(
    ("task", "content", "refused"),
    [
        # the tuned model's write: the list in notes.txt would be lost
        ("put notes.txt in the docs folder", "notes.put.notes\n", True),
        ("Replace everything in notes.txt with: Pay the rent", "pay the rent.\n", False),
        ("notes.txt should list eggs, milk and bread", "eggs\nmilk\nbread\n", False),
        ("clear out notes.txt", "", False),
        # words the task does not hold: a result the run read
        ("count the lines of a.txt and save the count in notes.txt", "7\n", False),
        ("Read a.txt and write its colour to notes.txt", "green", False),
    ],
)
def test_a_whole_file_write_over_a_file_holds_the_tasks_text(
    tools: dict[str, BaseTool], task: str, content: str, refused: bool
) -> None:
    steering = SmallModelSteering(PROFILE, SteeringSettings())
    args = {"path": "notes.txt", "content": content}
    error = steering.vet(tools["write_file"], args, task)
    assert (error is not None) == refused
    if refused:
        assert error is not None and "edit_file" in error and "move_file" in error
        assert "out of order" in error
    # a new file may hold any text
    new = {"path": "fresh.txt", "content": "notes.put.notes\n"}
    assert steering.vet(tools["write_file"], new, task) is None
