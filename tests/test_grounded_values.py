"""Grounded values: what a small model's arguments may be, given the task and
what the run has seen (agentkit/steering: grounding, the calculator's
expressions, the memory tools' phrases), and how the grammar takes them
(models/grammar.py); a tool with no valid value is never offered unnarrowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.models.grammar import (
    ArgChoices,
    Omitted,
    RequiredChoices,
    json_grammar,
    with_choices,
)
from agentkit.steering.arguments import GROUNDED_ARGS, choices
from agentkit.steering.expressions import expression_choices
from agentkit.steering.grounding import file_fragments, mentioned_paths, task_phrases, write_paths
from agentkit.tools import builtin_tools
from agentkit.tools.calculator import evaluate
from agentkit.tools.memory import short_names
from agentkit.tools.workspace import Workspace


def grounded(tool: object, arg: str, text: str) -> ArgChoices | None:
    kind = GROUNDED_ARGS.get(tool.name, {}).get(arg)  # type: ignore[attr-defined]
    return None if kind is None else choices(tool, kind, text)  # type: ignore[arg-type]


def matches(pattern: str | list[str] | None, value: str) -> bool:
    assert isinstance(pattern, str)
    return re.fullmatch(pattern, value) is not None


# --- calculator ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "good", "bad"),
    [
        # the 270M model wrote "1250 * 3775" for an addition: "add" allows only +
        ("add 1250 and 3775", ["add 1250 and 3775", "1250 + 3775"], ["1250 * 3775"]),
        # a task that names a function uses it: it wrote "1764 * 1764"
        (
            "Compute the square root of 1764.",
            ["square root of 1764", "sqrt(1764)", "sqrt(1764) + 1764"],
            ["1764", "1764 * 1764"],
        ),
        ("What's 15% of 240?", ["15% of 240", "15 / 100 * 240"], ["12 * 7"]),
        ("What is 37 times 12?", ["37 times 12", "37 * 12"], ["37 + 12", "12 * 7"]),
    ],
)
def test_an_expression_is_a_span_of_the_task_or_its_numbers(
    task: str, good: list[str], bad: list[str]
) -> None:
    pattern = expression_choices(task)
    for expression in good:
        assert matches(pattern, expression), expression
        evaluate(expression)
    for expression in bad:
        assert not matches(pattern, expression), expression


def test_no_number_to_compute_with_means_no_calculator_yet() -> None:
    # "multiply the two numbers in it": the numbers are in the file, not here
    assert expression_choices("Read numbers.txt and multiply the two numbers") == []
    after_read = (
        "Read numbers.txt and multiply the two numbers\nnumbers.txt (lines 1-2 of 2)\n17\n23"
    )
    pattern = expression_choices(after_read)
    assert matches(pattern, "17 * 23")
    assert not matches(pattern, "1 * 2")  # the result header's numbers are not the user's


# --- phrases, fragments, destinations ----------------------------------------------------


def test_a_query_is_a_phrase_of_the_task_never_a_path_or_filler() -> None:
    phrases = task_phrases("which text editor do I prefer? you stored it earlier")
    assert "text editor" in phrases and "editor" in phrases
    assert not any(p.split()[0].lower() in {"which", "do", "you"} for p in phrases)
    grep_words = task_phrases("On which line of app.log does ERROR appear?")
    assert "ERROR" in grep_words and "app.log" not in grep_words
    assert task_phrases('Find the file that mentions "kiwi pie"')[0] == "kiwi pie"
    # a phrase stays inside its clause
    assert "4812 then tell" not in " | ".join(task_phrases("my code is 4812, then tell me"))


def test_edit_text_is_a_line_or_a_distinct_word_of_the_named_file(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("[network]\ntimeout = 10\nretries = 3\n")
    (tmp_path / "other.txt").write_text("unrelated\n")
    ws = Workspace(tmp_path)
    fragments = file_fragments(ws, "set the timeout in settings.toml to 30")
    assert isinstance(fragments, RequiredChoices)
    assert fragments[0] == ""  # an append
    assert {"timeout = 10", "10", "timeout"} <= set(fragments)
    assert "3" not in fragments  # one character: "30" began with it
    assert "unrelated" not in fragments  # another file
    assert file_fragments(ws, "fix the typo somewhere") is None  # no file named: free


def test_a_whole_file_write_goes_to_the_destination_or_a_new_file() -> None:
    files = ["names.txt", "chores.md"]
    assert write_paths("Count the lines in names.txt and write the count to count.txt", files) == [
        "count.txt"
    ]
    # it exists: a small model edits it, never rewrites it whole, whatever the
    # wording ("replace cat with dog in pets.txt" once replaced the whole file)
    assert write_paths('Add "buy stamps" at the end of chores.md', files) == []
    assert write_paths("Replace cat with dog in chores.md", files) == []
    assert write_paths("Overwrite chores.md with nothing", files) == []
    assert write_paths("Write a haiku", files) is None
    assert write_paths("Read docs/a.txt and write the count to count.txt", files) == ["count.txt"]


def test_a_rewrite_may_replace_only_an_existing_file_the_task_names(tmp_path: Path) -> None:
    """With ``rewrite`` (a tuned model, a task that asks for a change), the
    existing files the task names are offered beside the new ones; never a
    file it does not name."""
    (tmp_path / "memo.txt").write_text("old\nlines\n")
    (tmp_path / "other.txt").write_text("keep\n")
    write = {t.name: t for t in builtin_tools(workspace=tmp_path)}["write_file"]
    task = "Overwrite memo.txt so that it reads email the landlord."
    assert choices(write, "named_path", task, task) == []
    assert choices(write, "named_path", task, task, rewrite=True) == ["memo.txt"]
    # A task that names a file to make writes that one; the existing file it
    # names is the source ("make hello.txt with the same text as other.txt"
    # overwrote other.txt).
    for task in (
        "make hello.txt with the same text as other.txt",
        "Replace everything in memo.txt and save a copy as copy.txt",
    ):
        new = [p for p in mentioned_paths(task) if not (tmp_path / p).exists()]
        assert choices(write, "named_path", task, task, rewrite=True) == new
    # ... one the task names, not one a tool's result names
    task = "make hello.txt with the same text as other.txt"
    seen = f"{task}\nother.txt (lines 1-1 of 1)\nsee todo.txt"
    assert choices(write, "named_path", seen, task) == ["hello.txt"]
    # a file only a tool's result named is not the task's to rewrite
    seen = "Rewrite the file that says keep\nother.txt:1: keep"
    assert choices(write, "named_path", seen, "Rewrite the file that says keep", True) == []


def test_an_in_place_operation_writes_to_the_new_file_the_task_names(tmp_path: Path) -> None:
    (tmp_path / "scores.txt").write_text("3\n1\n2\n")
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    for name in ("sort_lines", "dedupe_lines"):
        # a new file named: the result goes there, never back into the source
        task = "Sort scores.txt from high to low and save them as ranked.txt"
        assert grounded(tools[name], "destination", task) == ["ranked.txt"]
        # only the source named: in place ("") is the choice
        assert grounded(tools[name], "destination", "sort scores.txt") == [""]


def test_edit_text_choices_come_from_the_named_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    task = "Replace alpha with beta in a.txt"
    # "" appends; a line with its newline deletes the line
    assert grounded(tools["edit_file"], "old_string", task) == ["", "alpha", "alpha\n"]
    assert grounded(tools["edit_file"], "path", task) == ["a.txt"]
    # every word, one that recurs too (replace_all), and with its space (removed cleanly)
    (tmp_path / "b.txt").write_text("really good, really\n")
    task = "Remove the word really from b.txt"
    assert grounded(tools["edit_file"], "old_string", task) == [
        "",
        "really good, really",
        "really good, really\n",
        "really",
        "good",
        "really ",
    ]


def test_a_bare_name_may_go_into_a_folder_the_task_names(tmp_path: Path) -> None:
    (tmp_path / "drafts").mkdir()
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    task = "Put a file todo.txt in drafts that says buy milk"  # an existing folder
    assert grounded(tools["write_file"], "path", task) == ["todo.txt", "drafts/todo.txt"]
    # a folder the task does not name is not offered
    assert grounded(tools["write_file"], "path", "Write buy milk to todo.txt") == ["todo.txt"]


@pytest.mark.parametrize(
    ("task", "paths"),
    [
        ("I need letter.txt in inbox/ with the line hi", ["inbox/letter.txt"]),
        ("Make notes.txt inside the drafts folder that says hi", ["drafts/notes.txt"]),
        ("save 'hi' as memo.txt in the work directory", ["work/memo.txt"]),
        ("Put hi in a.txt in a new folder called out", ["out/a.txt"]),
        # which folder, not a folder's name: the top stays on offer
        ("save hi as x.txt in the root folder", ["x.txt"]),
    ],
)
def test_a_new_file_goes_into_the_new_folder_the_task_names(
    tmp_path: Path, task: str, paths: list[str]
) -> None:
    """A folder that does not exist is named only to hold the new file: the
    bare name at the top would be a path the task did not ask for."""
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    assert grounded(tools["write_file"], "path", task) == paths


def test_a_move_may_go_into_a_new_folder_the_task_names(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi\n")
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    task = "Move notes.txt into a new folder called archive"
    assert grounded(tools["move_file"], "destination", task) == ["archive/"]
    assert "contain" not in str(
        grounded(tools["move_file"], "destination", "what does the folder contain?")
    )


def test_a_change_lands_only_on_a_file_someone_named(tmp_path: Path) -> None:
    """A task that names no file leaves nothing to change until a tool's
    result names one: "touch .keep" once moved notes/readme.txt."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hi\n")
    (tmp_path / "config.ini").write_text("a = 1\n")
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    for tool, arg in [("move_file", "source"), ("edit_file", "path"), ("sort_lines", "path")]:
        assert grounded(tools[tool], arg, "touch .keep") == [], tool
    seen = "fix the typo in the config\nconfig.ini: 1 match"
    assert choices(tools["edit_file"], "named_file", seen, "fix the typo in the config") == [
        "config.ini"
    ]


def test_citations_are_the_shortest_distinct_tail_of_each_path() -> None:
    names = short_names(["/tmp/x/docs/ops/deploy.md", "/tmp/x/docs/ops/backup.md", "/a/b/c.md"])
    assert names == {
        "/tmp/x/docs/ops/deploy.md": "deploy.md",
        "/tmp/x/docs/ops/backup.md": "backup.md",
        "/a/b/c.md": "c.md",
    }
    assert short_names(["/a/x/notes.md", "/b/x/notes.md"])["/a/x/notes.md"] == "a/x/notes.md"


# --- the grammar -------------------------------------------------------------------------


def _spec(tools: dict[str, object], name: str) -> dict[str, object]:
    return convert_to_openai_tool(tools[name])


def test_a_tool_with_nothing_valid_to_name_leaves_the_grammar(tmp_path: Path) -> None:
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    specs = [_spec(tools, "read_file"), _spec(tools, "calculator")]
    kept = with_choices(specs, {"read_file": {"path": []}})
    assert [t["function"]["name"] for t in kept] == ["calculator"]
    # fail closed: never the unnarrowed tool, even when nothing else is left
    assert with_choices(specs[:1], {"read_file": {"path": []}}) == []


def test_required_choices_and_patterns_must_be_given_in_schema_order(tmp_path: Path) -> None:
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    edit = with_choices(
        [_spec(tools, "edit_file")],
        {"edit_file": {"new_string": RequiredChoices(["b"]), "old_string": RequiredChoices(["a"])}},
    )[0]["function"]["parameters"]
    # llama.cpp's converter writes required properties first, in this order
    assert edit["required"] == ["path", "old_string", "new_string"]
    grep = with_choices([_spec(tools, "grep")], {"grep": {"path": [".", "src"]}})[0]
    assert grep["function"]["parameters"]["required"] == ["pattern"]  # a default stays one
    calc = with_choices([_spec(tools, "calculator")], {"calculator": {"expression": "1 \\+ 2"}})[0]
    assert calc["function"]["parameters"]["properties"]["expression"]["pattern"] == "^(1 \\+ 2)$"


def test_an_omitted_optional_argument_leaves_the_schema(tmp_path: Path) -> None:
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    read = with_choices(
        [_spec(tools, "read_file")],
        {"read_file": {"path": ["plan.txt"], "start_line": Omitted(), "end_line": Omitted()}},
    )[0]["function"]["parameters"]
    assert set(read["properties"]) == {"path"} and read["required"] == ["path"]
    # an argument the call needs is never left out, and the tool stays callable
    kept = with_choices([_spec(tools, "read_file")], {"read_file": {"path": Omitted()}})
    assert set(kept[0]["function"]["parameters"]["properties"]) == {
        "path",
        "start_line",
        "end_line",
    }


@pytest.mark.parametrize(
    ("task", "whole"),
    [
        ("Who leads the work in plan.txt?", True),  # "Lead: Omar" is line 4
        ("what budget does plan.txt give", True),
        ("what's the first line of plan.txt?", False),  # a place, not a content
        ("what does plan.txt say on line 2", False),
        ("Who leads the work?", False),  # no file named
    ],
)
def test_a_read_of_a_line_the_task_points_to_reads_the_whole_file(
    tmp_path: Path, task: str, whole: bool
) -> None:
    (tmp_path / "plan.txt").write_text(
        "Goal: ship the beta\nDeadline: 14 March\nBudget: 4000\nLead: Omar\n"
    )
    read = {t.name: t for t in builtin_tools(workspace=tmp_path)}["read_file"]
    for arg in ("start_line", "end_line"):
        found = grounded(read, arg, task)
        assert isinstance(found, Omitted) if whole else found is None


def test_enum_values_with_quotes_and_backslashes_make_a_valid_grammar() -> None:
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    values = ['"port": 8080,', "C:\\temp", "two\nlines", ""]
    gbnf = json_grammar({"type": "object", "properties": {"v": {"type": "string", "enum": values}}})
    llama_grammar.LlamaGrammar.from_string(gbnf, verbose=False)  # rejected before the fix
    assert '\\"\\\\\\"port\\\\\\": 8080,\\"' in gbnf


# --- shell commands ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "commands"),
    [
        ("Run the command `expr 6 \\* 7` and report it.", ["expr 6 \\* 7"]),
        ("Run ls and tell me which file ends in .log", ["ls"]),
        ("Use wc to count the words in essay.txt.", ["wc"]),
        ("Use the shell to create done.flag (touch done.flag).", ["touch done.flag"]),
        ("What is 2 + 2?", []),  # no command written: a small model gets no shell
    ],
)
def test_a_small_models_command_is_one_the_task_spells_out(
    task: str, commands: list[str], tmp_path: Path
) -> None:
    shell = {t.name: t for t in builtin_tools(workspace=tmp_path)}["shell"]
    assert grounded(shell, "command", task) == commands


def test_run_offers_each_prefix_of_the_clause(tmp_path: Path) -> None:
    shell = {t.name: t for t in builtin_tools(workspace=tmp_path)}["shell"]
    offered = grounded(shell, "command", "Run echo hello there and tell me what it prints")
    assert offered == ["echo", "echo hello", "echo hello there"]
