"""Files a task names without an extension (agentkit/steering/paths.py): a
conventional name (Makefile, LICENSE), a name inside a folder that exists
("notes/todo"). Left unnamed, a write's name was free, and the tuned model
wrote docker.Dockerfile and notes/todo/todo.txt: files the task did not
name. A name only "called" so ("a file called shopping") is not one: that
would take an English pattern, and it won no held-out case."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit.steering.arguments import choices
from agentkit.steering.grounding import mentioned_paths, write_paths
from agentkit.tools import builtin_tools


@pytest.mark.parametrize(
    ("task", "named"),
    [
        ("write FROM python:3.12 to Dockerfile", ["Dockerfile"]),
        ("make a Makefile with one line: all: build", ["Makefile"]),
        ("Add a LICENSE file that says MIT", ["LICENSE"]),
        ("put v1.2.0 into release/VERSION", ["release/VERSION"]),
        # still by form, as before
        ("create a file called notes.txt", ["notes.txt"]),
        # not names: a plural, an acronym, a word a file or folder is called
        ("Makefiles are great; MIT or BSD?", []),
        ("create a file called shopping with eggs in it", []),
        ("a folder called out", []),
    ],
)
def test_names_without_an_extension(task: str, named: list[str]) -> None:
    assert mentioned_paths(task) == named


def test_a_name_inside_a_folder_that_exists_is_where_a_write_goes() -> None:
    assert write_paths("save hi to notes/todo", ["notes/a.txt"], ["notes"]) == ["notes/todo"]
    # "and/or" names no folder that exists
    assert write_paths("write this and/or that to x.txt", [], ["notes"]) == ["x.txt"]


def test_a_write_may_go_only_to_a_conventional_name(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("unrelated\n")
    write = {t.name: t for t in builtin_tools(workspace=tmp_path)}["write_file"]
    assert choices(write, "named_path", "write FROM python:3.12 to Dockerfile") == ["Dockerfile"]


def test_an_existing_conventional_file_can_be_edited_by_name(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("all: build\n")
    edit = {t.name: t for t in builtin_tools(workspace=tmp_path)}["edit_file"]
    assert choices(edit, "named_file", "in Makefile change build to test") == ["Makefile"]
