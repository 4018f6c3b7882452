"""Grounded answers (agentkit/steering/answer_spans.py): a small model's
answer that miscopies the result it read is decoded again as a span of that
result; after a write, an error or no result at all it stays free."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.config import SteeringSettings, load_settings
from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.models.grammar import RequiredChoices
from agentkit.models.profile import ModelProfile
from agentkit.steering import NoSteering, StepView
from agentkit.steering.answer_spans import (
    answer_spans,
    asks_yes_no,
    grounded_answer,
    miscopied,
    misplaced_answer,
    pointed_line,
    regrounded_answer,
    ungrounded,
)
from agentkit.steering.small import SmallModelSteering
from agentkit.tools import builtin_tools


@pytest.fixture
def tools(tmp_path: Path) -> list[BaseTool]:
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    return builtin_tools(settings, workspace=tmp_path)


def step(tool: str, output: str, status: str = "success") -> list[BaseMessage]:
    call = AIMessage("", tool_calls=[{"name": tool, "args": {}, "id": "c1"}])
    result = ToolMessage(output, tool_call_id="c1", name=tool, status=status)
    return [HumanMessage("t"), call, result]


def test_spans_are_lines_values_json_leaves_and_cited_lines() -> None:
    spans = answer_spans(
        "settings.yaml (lines 1-3 of 3)\ndatabase:\n  host: db.internal\n"
        'notes/a.txt:12: the deadline is May 2\n{"owner": "ops", "tags": ["a", 7]}'
    )
    # the 270M model answered "db.host" from these lines
    assert "db.internal" in spans and "host: db.internal" in spans
    assert "the deadline is May 2" in spans  # grep's path:line prefix dropped
    assert {"ops", "a", "7"} <= set(spans)
    assert "db.host" not in spans and "yes" not in spans
    cited = answer_spans("[guide.md:1-3]\n# Reset\nHold the button for ten seconds.")
    assert "Hold the button for ten seconds. [guide.md:1-3]" in cited


@pytest.mark.parametrize(
    ("task", "yes_no"),
    [
        ("does list.txt mention butter", True),
        ("list.txt: is bread on it?", True),
        ("Check whether ideas.txt mentions Dublin.", True),
        ("How many lines mention ERROR?", False),  # "no" was chosen for it
        ("What is the database host in settings.yaml?", False),
    ],
)
def test_yes_and_no_only_for_a_yes_no_question(task: str, yes_no: bool) -> None:
    assert asks_yes_no(task) is yes_no


def test_an_answer_after_a_read_is_a_span_of_it(tools: list[BaseTool]) -> None:
    found = grounded_answer("is milk on list.txt?", step("read_file", "eggs\nmilk\n"), tools)
    assert found is not None
    assert isinstance(found["answer"], RequiredChoices)
    assert set(found["answer"]) == {"eggs", "milk", "yes", "no"}


@pytest.mark.parametrize(
    "messages",
    [
        step("write_file", "created a.txt (1 lines, 4 bytes)"),  # it reports what it did
        step("read_file", "error: no such file", status="error"),  # it retries or explains
        [HumanMessage("t")],  # nothing read yet
        step("read_file", ""),  # nothing to copy
        step("read_file", "\n".join(f"line {n}" for n in range(400))),  # too many to list
    ],
)
def test_the_answer_stays_free(tools: list[BaseTool], messages: list[BaseMessage]) -> None:
    assert grounded_answer("what does a.txt say?", messages, tools) is None


@pytest.mark.parametrize(
    ("answer", "source", "words"),
    [
        ("masu", "queue.user = tomas", ["masu"]),  # 270M answers, dev cases
        ("portado", '{"region": "porto"}', ["portado"]),
        ("db.host", "database:\n  host: db.internal", ["db.host"]),
        ("Nairobi appears 2 times.", "does Nairobi appear?\n2 lines", []),  # inflected
        ("It was written on 2023-06-15.", "Date: 2023-06-15", []),  # words of its own
        ("It was written then.", "The committee met.", []),  # "itte" is too little
        ("Fatima is on both lists.", "Fatima was listed", []),  # one word, two forms
        ("There are 7 of them.", "a.md\nb.md", []),  # a count is computed
    ],
)
def test_a_miscopy_is_a_near_word_of_the_source(answer: str, source: str, words: list[str]) -> None:
    assert miscopied(answer, source) == words


def test_only_a_miscopied_answer_is_decoded_again(tools: list[BaseTool]) -> None:
    profile = ModelProfile(n_params=270_000_000, base=True)
    view = StepView(task="what port?", messages=step("read_field", "server.port = 8443"))
    steering = SmallModelSteering(profile, SteeringSettings())
    assert FINAL_ANSWER_TOOL not in steering.hints(view, tools).arg_choices  # free at first
    again = steering.reanswer(view, tools, "The port is 8433 on server.prot")
    assert again is not None
    assert set(again.arg_choices[FINAL_ANSWER_TOOL]["answer"]) == {"server.port = 8443", "8443"}
    assert steering.reanswer(view, tools, "The port is 8443.") is None
    off = SmallModelSteering(profile, SteeringSettings(answer_grounding=False))
    assert off.reanswer(view, tools, "server.prot") is None
    assert NoSteering().reanswer(view, tools, "server.prot") is None


@pytest.mark.parametrize(
    ("answer", "source", "about", "empty"),
    [
        ("enabled", "is debug turned on?\nDEBUG = false", "", True),  # 270M, a probe case
        ("It is false.", "is debug turned on?\nDEBUG = false", "", False),
        ("There are 3 files.", "how many?\na.md\nb.md", "", False),  # a count is computed
        ("It lists apples.", "apple\npear", "", False),  # a form of a word of it
        ("HTTP 200 OK.", "all systems operational", "HTTP 200 OK\ncontent-type: text/plain", True),
        ("http", "see http://x.test/page", "", True),  # a URL says where, not what
        ("x", "a (lines 1-1 of 1)\nx", "", False),  # short words only: not judged
    ],
)
def test_an_answer_holding_nothing_of_the_source_is_ungrounded(
    answer: str, source: str, about: str, empty: bool
) -> None:
    assert ungrounded(answer, source, about) is empty


def page(body: str) -> list[BaseMessage]:
    return step(
        "http_get", f"HTTP 200 OK http://127.0.0.1:8000/status\ncontent-type: text/plain\n\n{body}"
    )


def test_a_page_is_answered_from_its_body_not_its_status_line(tools: list[BaseTool]) -> None:
    found = grounded_answer("what does /status say?", page("all systems operational"), tools)
    assert found is not None
    assert set(found["answer"]) == {"all systems operational"}
    # the model answered the status line; it is decoded again from the body
    again = regrounded_answer(
        "what does /status say?", page("all systems operational"), tools, "HTTP 200 OK."
    )
    assert again is not None and set(again["answer"]) == {"all systems operational"}
    kept = regrounded_answer(
        "what does /status say?",
        page("all systems operational"),
        tools,
        "It says all systems are operational.",
    )
    assert kept is None


def test_an_answer_with_nothing_of_the_result_is_decoded_again(tools: list[BaseTool]) -> None:
    messages = step("read_field", "DEBUG = false")
    again = regrounded_answer("is debug turned on in .env", messages, tools, "enabled")
    assert again is not None and set(again["answer"]) == {"DEBUG = false", "false", "yes", "no"}
    # "No." answers a yes/no question though no word of the result is in it
    assert regrounded_answer("is debug turned on in .env", messages, tools, "No.") is None
    assert regrounded_answer("is debug turned on in .env", messages, tools, "Nothing.") is not None


COUNTED = ["notes has 5 files", "3 .log files", "2 .py files"]
LABELLED = ["Project: Velvet", "Maintainer: Amara Sato", "Sponsor: Mateo Castillo"]


@pytest.mark.parametrize(
    ("task", "lines", "acted_on", "pointed"),
    [
        ("How many .log files are in notes?", COUNTED, '{"path": "notes"}', 1),
        # "notes" is the folder counted: it points nowhere, and nothing else does
        ("How many files are in notes?", COUNTED, '{"path": "notes"}', None),
        # a form of a word: "maintains" for "Maintainer"
        ("who maintains drafts/project.txt?", LABELLED, '{"path": "drafts/project.txt"}', 1),
        ("the maintainer of drafts/project.txt?", LABELLED, '{"path": "drafts/project.txt"}', 1),
        # "project" is in the file's name and in its first line: only the
        # call's arguments tell that it is where, not what
        ("the maintainer of drafts/project.txt?", LABELLED, "", None),
        ("count the words of a.txt", ["a.txt has 1 line", "a.txt has 9 words"], "a.txt", 1),
        (
            "what is on line 2 of a.txt?",
            ["fix the bike", "pay the rent"],
            '{"path": "a.txt"}',
            None,
        ),
        # an inflection points, whatever it means: "opening" points to "opens"
        # (two dev cases lost to this; no English exception for it)
        ("the opening line of a.txt", ["Rain fell.", "The bakery opens at six."], "a.txt", 1),
    ],
)
def test_the_line_a_task_points_to_holds_its_words_no_other_line_holds(
    task: str, lines: list[str], acted_on: str, pointed: int | None
) -> None:
    assert pointed_line(task, lines, acted_on) == pointed


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("2 .py files.", "3 .log files"),  # another line: the one pointed to instead
        ("3 .log files", None),  # the line pointed to
        ("There are 3.", None),  # not a copy of one line: composed, it stands
        ("files", None),  # a copy of every line: no line in particular
        ("2 .py files; 3 .log files", "3 .log files"),  # the line pointed to and another
        ("2 .py files; and more", None),  # a part of its own words: it stands
    ],
)
def test_an_answer_copying_a_line_the_task_does_not_point_to_is_misplaced(
    answer: str, expected: str | None
) -> None:
    task = "How many .log files are in notes?"
    assert misplaced_answer(task, COUNTED, answer, '{"path": "notes"}') == expected


def test_a_misplaced_answer_is_decoded_again_from_the_line_pointed_to(
    tools: list[BaseTool],
) -> None:
    call = AIMessage("", tool_calls=[{"name": "count", "args": {"path": "notes"}, "id": "c1"}])
    result = ToolMessage("\n".join(COUNTED), tool_call_id="c1", name="count")
    messages: list[BaseMessage] = [HumanMessage("t"), call, result]
    task = "How many .log files are in notes?"
    again = regrounded_answer(task, messages, tools, "2 .py files.")
    assert again is not None and set(again["answer"]) == {"3 .log files"}
    assert regrounded_answer(task, messages, tools, "3 .log files.") is None
    # read_file's header says what was read, not what the file says
    read = AIMessage("", tool_calls=[{"name": "read_file", "args": {"path": "p.txt"}, "id": "c2"}])
    shown = ToolMessage("p.txt (lines 1-3 of 3)\n" + "\n".join(LABELLED), tool_call_id="c2")
    shown.name = "read_file"
    again = regrounded_answer(
        "the maintainer in p.txt?",
        [HumanMessage("t"), read, shown],
        tools,
        "Sponsor: Mateo Castillo",
    )
    assert again is not None and set(again["answer"]) == {"Maintainer: Amara Sato", "Amara Sato"}
