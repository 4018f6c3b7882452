"""A question about a file's end reads its last line
(agentkit.steering.line_places).

The classifier is checked with the real bundled MiniLM embedder (it fires on
no dev task, and on end questions worded unlike its examples); the hook in
the steering is driven with a scripted classifier; ``read_file`` reads the
last line of text from ``start_line=-1``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.config import SteeringSettings, load_settings
from agentkit.evals.families import builtin_cases
from agentkit.memory import LlamaEmbedder
from agentkit.models.grammar import ArgChoices, Fixed, Omitted, with_choices
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.line_places import EXAMPLES, LinePlaces
from agentkit.steering.small import SmallModelSteering
from agentkit.tools import builtin_tools

PROFILE = ModelProfile(n_params=270_000_000, base=True, tuned=True)


class ScriptedPlaces(LinePlaces):
    """Says every task asks for the end; counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def asks_last_line(self, task: str) -> bool:
        self.asked.append(task)
        return True


@pytest.fixture
def tools(tmp_path: Path) -> list[BaseTool]:
    (tmp_path / "poem.txt").write_text("Roses are red\nViolets are blue\nAnd so are you\n\n")
    (tmp_path / "log.txt").write_text("start\nstop\n")
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    return builtin_tools(settings, workspace=tmp_path)


def read_choices(task: str, tools: list[BaseTool], **settings: bool) -> dict[str, ArgChoices]:
    steering = SmallModelSteering(
        PROFILE, SteeringSettings(step_routing=False, **settings), places=ScriptedPlaces()
    )
    hints = steering.hints(StepView(task=task, messages=[]), tools)
    return dict(hints.arg_choices.get("read_file", {}))


def test_an_end_question_reads_the_last_line(tools: list[BaseTool]) -> None:
    choices = read_choices("How does poem.txt end?", tools)
    assert choices["start_line"] == Fixed(-1) and isinstance(choices["end_line"], Omitted)
    # The grammar then holds the read to start_line -1 with no end_line.
    read = next(t for t in tools if t.name == "read_file")
    [schema] = with_choices([convert_to_openai_tool(read)], {"read_file": choices})
    props = schema["function"]["parameters"]["properties"]
    assert props["start_line"] == {"const": -1} and "end_line" not in props


@pytest.mark.parametrize(
    "task",
    [
        # a change, two files, no file that exists
        "Add a last line to poem.txt: the end",
        "How do poem.txt and log.txt end?",
        "How does story.txt end?",
    ],
)
def test_only_a_question_about_one_existing_file(tools: list[BaseTool], task: str) -> None:
    choices = read_choices(task, tools)
    assert choices.get("start_line") != Fixed(-1)


def test_it_can_be_turned_off(tools: list[BaseTool]) -> None:
    choices = read_choices("How does poem.txt end?", tools, line_places=False)
    assert choices.get("start_line") != Fixed(-1)


def test_read_file_counts_from_the_last_line_of_text(tools: list[BaseTool]) -> None:
    read = next(t for t in tools if t.name == "read_file")
    out = read.invoke({"path": "poem.txt", "start_line": -1})
    assert out.endswith("\nAnd so are you") and "(lines 3-3 of 4)" in out
    assert read.invoke({"path": "poem.txt", "start_line": -2}).endswith(
        "Violets are blue\nAnd so are you"
    )
    assert read.invoke({"path": "log.txt", "start_line": -1}).endswith("\nstop")


def test_examples_name_files() -> None:
    # Masked like a task ("the file"): every example names the file it asks about.
    assert all("." in text for texts in EXAMPLES.values() for text in texts)


def test_classifier_fires_on_end_questions_only(embedder: LlamaEmbedder) -> None:
    places = LinePlaces(embedder)
    fired = [c.id for c in builtin_cases() if c.split == "dev" and places.asks_last_line(c.task)]
    assert fired == []  # no dev family asks for a file's end
    for task in (
        "what's the final sentence of essay.txt",
        "LAST LINE OF TODO.TXT",
        "print the final line of out.log",
        "Which line closes letter.txt?",
    ):
        assert places.asks_last_line(task), task
    for task in (
        "What's the first line of notes.txt?",
        "what's on line 3 of notes.txt",
        "when does the meeting end according to notes.txt?",
        "What is the last name of the owner in people.txt?",
        "who signed letter.txt at the end?",
    ):
        assert not places.asks_last_line(task), task


def test_a_count_of_lines_from_the_end_is_read(tools: list[BaseTool], tmp_path: Path) -> None:
    choices = read_choices("show the last 2 lines of poem.txt", tools)
    assert choices["start_line"] == Fixed(-2)
    # a number in the file's name is no count
    (tmp_path / "log2.txt").write_text("a\nb\n")
    assert read_choices("How does log2.txt end?", tools)["start_line"] == Fixed(-1)
