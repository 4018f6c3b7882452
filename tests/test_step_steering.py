"""Steering step by step: tasks of several requests, a change not made yet,
the worked example most like the task, and answers tidied of repeats
(agentkit/steering)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from tests_support import KeywordEmbeddings

from agentkit.config import SteeringSettings
from agentkit.graphs import prompts as P
from agentkit.models.profile import ModelProfile
from agentkit.steering import RouteRecord, StepView
from agentkit.steering.answers import tidy_answer
from agentkit.steering.intent import clauses, requests_of
from agentkit.steering.routing import ToolRouter
from agentkit.steering.small import NEXT_REQUEST_CUE, OBSERVATION_CUE, SmallModelSteering
from agentkit.steering.step import must_call, step_bias
from agentkit.tools import builtin_tools


@pytest.fixture
def tools(tmp_path: Path) -> dict[str, BaseTool]:
    (tmp_path / "numbers.txt").write_text("17\n23\n")
    (tmp_path / "config.ini").write_text("port = 8080\n")
    return {t.name: t for t in builtin_tools(workspace=tmp_path)}


class StepEmbeddings(KeywordEmbeddings):
    WORDS = ("read", "times|multipl", "append", "change", "tell")

    def _vector(self, text: str) -> list[float]:
        lower = text.lower()
        return [float(any(w in lower for w in k.split("|"))) for k in self.WORDS] + [0.01]


def steering_for(tools: dict[str, BaseTool]) -> SmallModelSteering:
    router = ToolRouter(StepEmbeddings(), list(tools.values()))
    profile = ModelProfile(n_params=270_000_000, base=True)
    return SmallModelSteering(profile, SteeringSettings(routing_top_k=3), router)


@pytest.mark.parametrize(
    ("task", "parts"),
    [
        ("Read numbers.txt and multiply the two numbers in it.", 2),
        ("Count the lines, then write the count to count.txt", 2),
        ("add 1250 and 3775", 1),  # a side of one word is not a request
        ("Remember that my code is 4812, then tell me my code.", 2),
    ],
)
def test_clauses(task: str, parts: int) -> None:
    assert len(clauses(task)) == parts


def test_a_clause_asking_for_the_answer_is_not_a_request() -> None:
    assert requests_of("Remember my code is 4812, then tell me my code.") == [
        "Remember my code is 4812"
    ]
    assert requests_of("Put 42 in answer.txt and nothing else.") == ["Put 42 in answer.txt"]


def run_view(
    task: str,
    route_later: list[dict[str, float]],
    *done: str,
    bias: dict[str, float] | None = None,
) -> StepView:
    """A run of ``task`` whose steps called ``done`` tools, each succeeding."""
    messages: list = [HumanMessage(task)]
    for index, name in enumerate(done):
        call_id = f"c{index}"
        messages += [
            AIMessage("", tool_calls=[{"name": name, "args": {}, "id": call_id}]),
            ToolMessage("17\n23", tool_call_id=call_id, name=name),
        ]
    first = {"read_file": 0.0, P.FINAL_ANSWER_TOOL: -1.0} if bias is None else bias
    route = RouteRecord(offered=[], bias=first, later=route_later)
    return StepView(
        task=task, messages=messages, steps=len(done), last_succeeded=bool(done), route=route
    )


def test_each_request_of_a_task_gets_its_prior_its_cue_and_no_early_answer(
    tools: dict[str, BaseTool],
) -> None:
    steering = steering_for(tools)
    task = "Read numbers.txt and multiply the two numbers in it."
    route = steering.route(task, list(tools.values()))
    assert "calculator" in route["offered"] and len(route["later"]) == 1
    later = route["later"][0]
    assert max(later, key=later.__getitem__) == "calculator"
    assert later[P.FINAL_ANSWER_TOOL] <= -5.0  # answering before multiplying costs
    view = run_view(task, route["later"], "read_file")
    offered = [tools[n] for n in route["offered"]]
    assert step_bias(view, offered) == later
    assert must_call(view, offered) == "calculator"  # read, not multiplied yet
    cues = [m.content for m in steering.prompt("s", view, offered)[-1:]]
    assert cues == [NEXT_REQUEST_CUE.format(request="multiply the two numbers in it.")]
    finished = run_view(task, route["later"], "read_file", "calculator")
    assert must_call(finished, offered) is None
    assert steering.prompt("s", finished, offered)[-1].content == OBSERVATION_CUE


def test_a_change_not_made_yet_is_cued_and_must_be_tried_once(tools: dict[str, BaseTool]) -> None:
    steering = steering_for(tools)
    task = "Change the port in config.ini to 9090"
    offered = [tools["read_file"], tools["edit_file"]]
    view = run_view(task, [], "read_file", bias={"edit_file": 0.0, "read_file": -1})
    prompt = steering.prompt("s", view, offered)
    assert prompt[-1] == SystemMessage(NEXT_REQUEST_CUE.format(request=task))
    assert step_bias(view, offered)[P.FINAL_ANSWER_TOOL] < 0
    assert must_call(view, offered) == "edit_file"
    # routing ranked the edit far below the best tool: no call is required
    far = run_view(task, [], "read_file", bias={"read_file": 0.0, "edit_file": -3.0})
    assert must_call(far, offered) is None
    # once the edit ran, the usual cue; a question never gets either
    edited = run_view(task, [], "read_file", "edit_file", bias={})
    assert steering.prompt("s", edited, offered)[-1].content == OBSERVATION_CUE
    question = "What port does config.ini use?"
    asked = run_view(question, [], "read_file", bias={"edit_file": 0.0, "read_file": -1})
    assert must_call(asked, offered) is None


def test_the_worked_example_shown_is_the_one_most_like_the_task(
    tools: dict[str, BaseTool],
) -> None:
    steering = steering_for(tools)
    offered = [tools["edit_file"]]

    def shown_call(task: str) -> dict[str, object]:
        prompt = steering.prompt("s", StepView(task=task, messages=[]), offered)
        calls = [c for m in prompt if isinstance(m, AIMessage) for c in m.tool_calls]
        return calls[0]["args"]

    assert shown_call("Append the line 'done' to log.txt")["old_string"] == ""
    assert shown_call("In a.ini, change the colour to red")["old_string"] == "blue"
    assert "the end" in steering.example_words("Append the line 'done' to log.txt", offered)


@pytest.mark.parametrize(
    ("answer", "tidy"),
    [
        ("created a.txt (1 lines, 3 bytes) (1 lines, 3 bytes) (1 lines, 3 bytes) (1 li", None),
        ("edited c.md (+1 -1 lines)</h4></tool_call> next.md", "edited c.md (+1 -1 lines)"),
        ("src/a.py tests/t.py tests/t.py tests/t.py tests/t", "src/a.py tests/t.py"),
        ("it is very very good", "it is very very good"),
        ("Paris", "Paris"),
    ],
)
def test_answers_lose_markup_and_repeats(answer: str, tidy: str | None) -> None:
    assert tidy_answer(answer) == (tidy or "created a.txt (1 lines, 3 bytes)")
