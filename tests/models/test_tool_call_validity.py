"""Every tool call the chat model emits validates against its tool's schema.

Over 50+ varied prompts and tool sets (strings, ints, numbers, booleans,
enums, nested objects, lists, optional fields, no-arg tools; 1 to 5 tools
bound; tool_choice "any", a named tool and "auto") on the real bundled model,
each emitted call is checked three ways: jsonschema against the tool's JSON
schema (closed: no invented keys), the tool's pydantic args model, and the
LangChain tool's own input validation (``tool.invoke``). The figure is printed
(``pytest -s``) and must be 100%.

Cases sharing a tool set are run back to back: the tool instructions sit at
the start of the prompt, so each case after the first reuses them from the KV
cache.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field
from tests_support import add, get_weather

pytestmark = pytest.mark.model

# --- tools -----------------------------------------------------------------------------


@tool
def set_alarm(hour: int, minute: int, label: str | None = None) -> str:
    """Set an alarm clock at hour:minute with an optional label."""
    return f"alarm {hour:02d}:{minute:02d} {label or ''}"


@tool
def toggle_light(room: str, on: bool) -> str:
    """Switch the light in a room on or off."""
    return f"{room} {'on' if on else 'off'}"


@tool
def convert_currency(amount: float, currency: Literal["USD", "EUR", "JPY"]) -> str:
    """Convert an amount of money into the given currency."""
    return f"{amount} {currency}"


class Location(BaseModel):
    """Where an event takes place."""

    model_config = ConfigDict(extra="forbid")
    city: str
    indoor: bool | None = None


# Lists carry maxItems: with an unbounded list the 270M base model keeps
# adding items until max_tokens cuts the call off. That is the model, not the
# grammar (the cut-off call is reported in invalid_tool_calls).
class CreateEventArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    attendees: list[str] = Field(max_length=3, description="Names of the people invited.")
    location: Location


@tool(args_schema=CreateEventArgs)
def create_event(title: str, attendees: list[str], location: Location | dict[str, Any]) -> str:
    """Create a calendar event with attendees at a location."""
    return f"event {title} with {len(attendees)} people"


@tool
def sum_numbers(values: Annotated[list[float], Field(max_length=4)]) -> float:
    """Add up a list of numbers."""
    return sum(values)


@tool
def get_time() -> str:
    """Get the current time. Takes no arguments."""
    return "12:00"


@tool
def list_files() -> list[str]:
    """List the files in the current folder. Takes no arguments."""
    return ["a.txt"]


@tool
def search(query: str, limit: int = 5) -> str:
    """Search the web for a query and return up to `limit` results."""
    return f"{limit} results for {query}"


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email with a subject line to an address."""
    return f"sent to {to}"


class Translate(BaseModel):
    """Translate a short text into another language."""

    model_config = ConfigDict(extra="forbid")
    text: str
    target: Literal["french", "german", "spanish"]


class Order(BaseModel):
    """Order items from the shop."""

    model_config = ConfigDict(extra="forbid")
    items: list[str] = Field(max_length=3)
    express: bool = False
    quantity: int = Field(1, ge=1, le=9)


ToolLike = BaseTool | type[BaseModel]

TOOLSETS: dict[str, list[ToolLike]] = {
    "weather": [get_weather],
    "weather+add": [get_weather, add],
    "home": [set_alarm, toggle_light, convert_currency],
    "structured": [create_event, sum_numbers],
    "office": [get_time, list_files, search, send_email, Translate],
    "shop": [Order, add],
}

Choice = str  # "any", "auto" or a tool name


@dataclass(frozen=True)
class Case:
    toolset: str
    choice: Choice
    prompt: str


def _cases() -> list[Case]:
    raw: list[tuple[str, Choice, list[str]]] = [
        (
            "weather",
            "any",
            [
                "What's the weather in Paris?",
                "Is it raining in Tokyo right now?",
                "Weather for Berlin please.",
            ],
        ),
        (
            "weather+add",
            "any",
            [
                "What is 2 plus 3?",
                "How warm is it in Madrid?",
                "Add 17 and 25.",
                "Tell me the weather in Oslo.",
                "What do you get when you add 100 and -7?",
            ],
        ),
        (
            "weather+add",
            "add",
            [
                "Sum 4 and 9.",
                "Add 8 and 1.",
            ],
        ),
        (
            "weather+add",
            "auto",
            [
                "What's the weather in Lisbon?",
                "Add 6 and 7.",
            ],
        ),
        (
            "home",
            "any",
            [
                "Wake me up at 7:30.",
                "Turn off the kitchen light.",
                "Is the hallway light on? Turn it on.",
                "Convert 25.5 dollars to euros.",
                "Set an alarm for 6:15 labelled gym.",
                "Switch on the light in the bedroom.",
                "How much is 1000 in yen?",
            ],
        ),
        (
            "home",
            "toggle_light",
            [
                "The garage is too dark.",
                "Good night!",
            ],
        ),
        (
            "home",
            "convert_currency",
            [
                "I have 12 pounds.",
            ],
        ),
        (
            "home",
            "auto",
            [
                "Set an alarm for 9:00.",
            ],
        ),
        (
            "structured",
            "any",
            [
                "Create an event called Standup with Ann and Bob in Paris, room 4.",
                "What is 1.5 plus 2.25 plus 3?",
                "Plan a lunch with Carol in London.",
                "Add up 10, 20 and 30.",
                "Schedule a review with Dan, Eve and Finn in Berlin.",
            ],
        ),
        (
            "structured",
            "create_event",
            [
                "Team dinner in Rome with Gina.",
                "Picnic with Ivy in Paris.",
            ],
        ),
        (
            "structured",
            "sum_numbers",
            [
                "Total of 3, 4 and 5.",
            ],
        ),
        (
            "office",
            "any",
            [
                "What time is it?",
                "Show me the files here.",
                "Search for llama.cpp grammars.",
                "Email bob@example.com about the budget.",
                "Translate 'good morning' into German.",
                "Find three articles about Gemma.",
                "Send alice@example.com an email saying hi.",
                "Translate 'thank you' to Spanish.",
            ],
        ),
        (
            "office",
            "get_time",
            [
                "Hello there.",
            ],
        ),
        (
            "office",
            "Translate",
            [
                "Say cheese in French.",
            ],
        ),
        (
            "office",
            "search",
            [
                "Python decorators",
            ],
        ),
        (
            "office",
            "auto",
            [
                "What time is it?",
            ],
        ),
        (
            "shop",
            "any",
            [
                "Order two apples and a pear.",
                "Buy milk with express delivery.",
                "What is 8 plus 8?",
                "I want 3 notebooks.",
            ],
        ),
        (
            "shop",
            "Order",
            [
                "Get me some bread.",
                "Express order of batteries, quantity 4.",
            ],
        ),
        (
            "shop",
            "auto",
            [
                "Order a coffee.",
            ],
        ),
    ]
    return [Case(toolset, choice, prompt) for toolset, choice, prompts in raw for prompt in prompts]


CASES = _cases()

# max_tokens caps prose ("auto" replies that answer in text); tool calls and
# structured output get ChatLlama's constrained floor (min_constrained_tokens)
# so a call is never cut off mid-JSON by a small max_tokens.
MAX_TOKENS = {"auto": 32}
DEFAULT_MAX_TOKENS = 80

# In "auto" mode the base model tends to echo the instructions; one worked
# example in the history makes it call tools the way an agent transcript does.
FEW_SHOT: list[BaseMessage] = [
    HumanMessage("What is 1 plus 1?"),
    AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1, "b": 1}, "id": "call_0"}]),
    ToolMessage("2", tool_call_id="call_0", name="add"),
    AIMessage("1 plus 1 is 2."),
]


# --- validation ----------------------------------------------------------------------


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every object closed: a call may not invent keys."""
    schema = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return schema


def _name(t: ToolLike) -> str:
    return t.name if isinstance(t, BaseTool) else t.__name__


def _problems(call: dict[str, Any], tools: list[ToolLike]) -> list[str]:
    """Why ``call`` is not a valid call of one of ``tools`` (empty = valid)."""
    by_name = {_name(t): t for t in tools}
    target = by_name.get(call["name"])
    if target is None:
        return [f"unknown tool {call['name']}"]
    problems: list[str] = []
    parameters = convert_to_openai_tool(target)["function"]["parameters"]
    try:
        jsonschema.validate(call["args"], _closed(parameters))
    except jsonschema.ValidationError as err:
        problems.append(f"jsonschema: {err.message}")
    if isinstance(target, BaseTool):
        args_model = target.args_schema
        assert isinstance(args_model, type) and issubclass(args_model, BaseModel)
        try:
            args_model.model_validate(call["args"])
        except Exception as err:  # noqa: BLE001 - any failure is a finding
            problems.append(f"args model: {err}")
        try:
            result = target.invoke({**call, "type": "tool_call"})
            assert isinstance(result, ToolMessage) and result.status == "success"
        except Exception as err:  # noqa: BLE001
            problems.append(f"tool input validation: {err}")
    else:
        try:
            target.model_validate(call["args"])
        except Exception as err:  # noqa: BLE001
            problems.append(f"pydantic model: {err}")
    return problems


def test_every_emitted_tool_call_validates(real_chat_model) -> None:
    assert len(CASES) >= 50
    model = real_chat_model
    decoded = 0
    started = time.perf_counter()
    bound: dict[tuple[str, Choice], Any] = {}
    emitted = valid = 0
    per_choice: dict[str, list[int]] = {}
    failures: list[str] = []
    for case in CASES:
        tools = TOOLSETS[case.toolset]
        key = (case.toolset, case.choice)
        if key not in bound:
            bound[key] = model.bind_tools(tools, tool_choice=case.choice)
        max_tokens = MAX_TOKENS.get(case.choice, DEFAULT_MAX_TOKENS)
        messages = [*FEW_SHOT, HumanMessage(case.prompt)] if case.choice == "auto" else case.prompt
        reply = bound[key].invoke(messages, max_tokens=max_tokens)
        assert isinstance(reply, AIMessage)
        assert reply.usage_metadata is not None
        decoded += reply.usage_metadata["output_tokens"]
        kind = case.choice if case.choice in ("any", "auto") else "named"
        counts = per_choice.setdefault(kind, [0, 0, 0])
        counts[0] += 1
        where = f"[{case.toolset}/{case.choice}] {case.prompt!r}"
        for bad in reply.invalid_tool_calls:
            emitted += 1
            counts[1] += 1
            failures.append(f"{where}: invalid call {bad['args']!r}: {bad['error']}")
        for call in reply.tool_calls:
            emitted += 1
            counts[1] += 1
            problems = _problems(dict(call), tools)
            if case.choice not in ("any", "auto") and call["name"] != case.choice:
                problems.append(f"called {call['name']} although tool_choice={case.choice}")
            if problems:
                failures.append(f"{where}: {call['name']}({call['args']}): {problems}")
            else:
                valid += 1
                counts[2] += 1
        if case.choice == "auto":
            # Text replies never start like a tool call block.
            assert reply.tool_calls or not str(reply.content).lstrip().startswith("<tool_call>")
        elif not reply.tool_calls:
            failures.append(f"{where}: no tool call although tool_choice={case.choice}")
    summary = ", ".join(
        f"{kind}: {c[2]}/{c[1]} valid over {c[0]} prompts" for kind, c in per_choice.items()
    )
    print(f"\ntool-call validity: {valid}/{emitted} valid over {len(CASES)} prompts ({summary})")
    print(f"  {decoded} tokens decoded in {time.perf_counter() - started:.1f} s")
    assert not failures, "\n".join(failures)
    assert emitted >= len([c for c in CASES if c.choice != "auto"])
    assert valid == emitted


# --- any budget, and runaway strings ---------------------------------------------------

BUDGET_CASES: list[tuple[str, str]] = [
    ("structured", "Create an event called Standup with Ann and Bob in Paris, room 4."),
    ("home", "Set an alarm for 6:15 labelled gym."),
    ("office", "Email bob@example.com about the budget."),
    ("shop", "Order two apples and a pear."),
]


@pytest.mark.parametrize("budget", [1, 6, 16, 40])
def test_calls_validate_at_any_budget(real_chat_model, budget: int) -> None:
    """With no constrained floor and a tiny max_tokens, the engine closes the
    call along the grammar before the budget runs out: every call parses and
    validates (it may be a poor call; the loop's feedback deals with that)."""
    model = real_chat_model.model_copy(update={"min_constrained_tokens": 0})
    for toolset, prompt in BUDGET_CASES:
        tools = TOOLSETS[toolset]
        reply = model.bind_tools(tools, tool_choice="any").invoke(prompt, max_tokens=budget)
        assert not reply.invalid_tool_calls, (budget, prompt, reply.invalid_tool_calls)
        assert reply.tool_calls, (budget, prompt)
        for call in reply.tool_calls:
            assert not _problems(dict(call), tools), (budget, prompt, call)


@tool
def open_path(path: str) -> str:
    """Open a file by its path."""
    return path


RUNAWAY_PROMPTS = [
    "Open Desktop\\Desktop\\Desktop\\Desktop\\Desktop\\Desktop\\Desktop\\Desktop\\Desktop\\"
    "Desktop\\Desktop\\Desktop\\notes.txt",
    "Open a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a",
    "Open the file " + "la " * 40,
]


def test_a_runaway_string_is_closed_and_the_call_validates(real_chat_model) -> None:
    """Prompts that push the base model into repeating inside a string (seen:
    `Desktop\\\\Desktop\\\\...` until max_tokens): the call is closed when the
    repetition is detected, or at the budget, and validates."""
    bound = real_chat_model.bind_tools([open_path], tool_choice="open_path")
    closed = []
    for prompt in RUNAWAY_PROMPTS:
        reply = bound.invoke(prompt, max_tokens=256)
        assert not reply.invalid_tool_calls, (prompt, reply.invalid_tool_calls)
        assert len(reply.tool_calls) == 1 and not _problems(dict(reply.tool_calls[0]), [open_path])
        closed.append(reply.response_metadata["closed_early"])
        assert reply.usage_metadata["output_tokens"] < 256 + 64  # type: ignore[index]
    print(f"\nrunaway prompts closed early: {closed}")
    assert "repetition" in closed
