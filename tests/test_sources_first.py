"""Sources before results (agentkit/steering/sources.py): in a task that
names existing files and a new one, a source is acted on before the new file
is written, and stays unchanged until something is made. Decided from which
named paths exist, through the hints a small model's grammar gets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.config import SteeringSettings
from agentkit.models.grammar import ArgChoices
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.arguments import arg_choices
from agentkit.steering.small import SmallModelSteering
from agentkit.steering.sources import sources_first
from agentkit.tools import builtin_tools

TUNED = ModelProfile(n_params=270_000_000, base=True, tuned=True)


def tools_in(ws: Path) -> list[BaseTool]:
    return builtin_tools(workspace=ws)


def ran(
    name: str, args: dict[str, object], output: str, call_id: str, status: str = "success"
) -> list[AnyMessage]:
    call = AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])
    return [call, ToolMessage(output, tool_call_id=call_id, name=name, status=status)]


def narrowed(
    ws: Path, task: str, messages: Sequence[AnyMessage] = ()
) -> dict[str, dict[str, ArgChoices]]:
    tools = tools_in(ws)
    grounded = arg_choices(tools, task, content=False, task=task, rewrite=True)
    return {
        name: args
        for name, args in sources_first(
            tools, task, [HumanMessage(task), *messages], grounded
        ).items()
        if grounded.get(name) != args
    }


def test_a_new_file_made_from_a_source_waits_until_the_source_is_read(tmp_path: Path) -> None:
    # The tuned model wrote "story.txt" into summary.txt before reading it.
    (tmp_path / "story.txt").write_text("A fox jumped over a dog.\n")
    task = "write a one-line summary of story.txt into summary.txt"
    assert narrowed(tmp_path, task)["write_file"]["path"] == []
    read = ran("read_file", {"path": "story.txt"}, "story.txt (lines 1-1 of 1)\nA fox", "c1")
    assert "write_file" not in narrowed(tmp_path, task, read)


def test_a_failed_read_does_not_count_as_reading(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n")
    task = "put the contents of a.txt into c.txt"
    failed = ran("read_file", {"path": "a.txt", "start_line": 9}, "a.txt has 1 line", "c1", "error")
    assert narrowed(tmp_path, task, failed)["write_file"]["path"] == []


def test_a_source_is_not_changed_before_the_new_file_exists(tmp_path: Path) -> None:
    # "make lower.txt, a lowercase version of LOUD.txt": it edited LOUD.txt.
    (tmp_path / "LOUD.txt").write_text("HELLO THERE\n")
    task = "make lower.txt, a lowercase version of LOUD.txt"
    read = ran("read_file", {"path": "LOUD.txt"}, "LOUD.txt (lines 1-1 of 1)\nHELLO", "c1")
    choices = narrowed(tmp_path, task, read)
    assert choices["edit_file"]["path"] == []
    assert "write_file" not in choices  # the new file may be written now


def test_a_backup_comes_before_the_edit_it_protects(tmp_path: Path) -> None:
    (tmp_path / "config.ini").write_text("debug=false\n")
    task = "back up config.ini to config.ini.bak, then set debug=true in config.ini"
    assert narrowed(tmp_path, task)["edit_file"]["path"] == []
    copied = ran(
        "copy_file",
        {"source": "config.ini", "destination": "config.ini.bak"},
        "copied config.ini to config.ini.bak (1 line)",
        "c1",
    )
    (tmp_path / "config.ini.bak").write_text("debug=false\n")
    assert "edit_file" not in narrowed(tmp_path, task, copied)


def test_copy_move_and_sort_into_a_new_file_stay_open(tmp_path: Path) -> None:
    (tmp_path / "draft.md").write_text("text\n")
    choices = narrowed(tmp_path, "rename draft.md to final.md")
    assert not {"move_file", "copy_file", "sort_lines"} & set(choices)


def test_tasks_without_both_kinds_of_file_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "pets.txt").write_text("my cat\n")
    assert narrowed(tmp_path, "replace cat with dog in pets.txt") == {}
    assert narrowed(tmp_path, "save hi to new.txt") == {}


def test_a_file_of_the_new_files_name_elsewhere_is_not_a_source(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "notes.txt").write_text("old notes\n")
    assert narrowed(tmp_path, "create notes.txt with hello") == {}


def test_the_tuned_presets_hints_carry_it_and_a_setting_turns_it_off(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text("A fox.\n")
    task = "write a one-line summary of story.txt into summary.txt"
    offered = tools_in(tmp_path)
    view = StepView(task=task, messages=[HumanMessage(task)])
    on = SmallModelSteering(TUNED, SteeringSettings(intent_classifier=False))
    assert on.hints(view, offered).arg_choices["write_file"]["path"] == []
    off = SmallModelSteering(TUNED, SteeringSettings(intent_classifier=False, sources_first=False))
    assert off.hints(view, offered).arg_choices["write_file"]["path"] != []


def test_an_earlier_task_of_the_thread_does_not_count(tmp_path: Path) -> None:
    # In a chat thread, story.txt read and a file written for the previous
    # task leave this task's sources unread and unchanged.
    (tmp_path / "story.txt").write_text("A fox.\n")
    earlier = [
        HumanMessage("read story.txt"),
        *ran("read_file", {"path": "story.txt"}, "story.txt (lines 1-1 of 1)\nA fox.", "c1"),
        *ran("write_file", {"path": "x.txt", "content": "x"}, "created x.txt", "c2"),
    ]
    task = "write a one-line summary of story.txt into summary.txt"
    tools = tools_in(tmp_path)
    grounded = arg_choices(tools, task, content=False, task=task, rewrite=True)
    out = sources_first(tools, task, [*earlier, HumanMessage(task)], grounded)
    assert out["write_file"]["path"] == []
