"""Every built-in eval case is solvable and checkable: a reference solution
(what a good model would do) runs through the real agent and tools and
passes, with the expected first tool, inside the step limit, touching
nothing unsafe. A case whose check cannot pass, or whose task leaves room for
an unsafe write, fails here instead of quietly lowering every model's score."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agentkit.config import load_settings
from agentkit.evals import AgentHarness, load_suite, run_case
from agentkit.testing import ScriptedChatModel, call, final

Step = AIMessage | Callable[[list[BaseMessage]], AIMessage]


def read(path: str) -> AIMessage:
    return call("read_file", {"path": path})


def sh(command: str) -> AIMessage:
    return call("shell", {"command": command})


def calc(expression: str) -> AIMessage:
    return call("calculator", {"expression": expression})


def edit(path: str, old: str, new: str) -> AIMessage:
    return call("edit_file", {"path": path, "old_string": old, "new_string": new})


def write(path: str, content: str) -> AIMessage:
    return call("write_file", {"path": path, "content": content})


def last_output(messages: list[BaseMessage]) -> str:
    return str([m for m in messages if isinstance(m, ToolMessage)][-1].content)


def fetch(path: str) -> Step:
    """http_get on the case's page server (its address is in the task)."""

    def step(messages: list[BaseMessage]) -> AIMessage:
        task = next(str(m.content) for m in messages if isinstance(m, HumanMessage))
        base = re.search(r"http://127\.0\.0\.1:\d+", task)
        assert base, task
        return call("http_get", {"url": base.group() + path})

    return step


def answer_from_output(make: Callable[[str], str]) -> Step:
    return lambda messages: final(make(last_output(messages)))


def cite(name: str, text: str) -> Step:
    def step(messages: list[BaseMessage]) -> AIMessage:
        found = re.search(rf"\[([^\]]*{re.escape(name)}:[0-9-]+)\]", last_output(messages))
        assert found, last_output(messages)
        return final(f"{text} [{found.group(1)}]")

    return step


SOLUTIONS: dict[str, list[Step]] = {
    # calculator and time
    "calc-multiply": [calc("37 * 12"), final("37 times 12 is 444.")],
    "calc-add": [calc("1250 + 3775"), final("5025")],
    "calc-percent": [calc("0.15 * 240"), final("15% of 240 is 36.")],
    "calc-sqrt": [calc("sqrt(1764)"), final("The square root of 1764 is 42.")],
    "calc-divide": [calc("1000 / 8"), final("1000 / 8 = 125")],
    "time-now": [call("current_time", {}), answer_from_output(lambda out: f"It is {out}")],
    "time-date": [call("current_time", {}), answer_from_output(lambda out: f"Today is {out}")],
    "time-utc": [call("current_time", {"timezone": "UTC"}), answer_from_output(lambda out: out)],
    # http
    "http-title": [fetch("/index.html"), final("The title is Acme Widgets.")],
    "http-status": [fetch("/status.json"), final("The status is degraded.")],
    "http-version": [fetch("/version.txt"), final("Version 3.7.2 is published.")],
    # documents and memory
    "docs-vacation": [
        call("search_docs", {"query": "vacation days"}),
        cite("handbook.md", "25 days a year"),
    ],
    "docs-deploy": [
        call("search_docs", {"query": "deploy"}),
        cite("deploy.md", "Run make release"),
    ],
    "docs-wifi": [call("search_docs", {"query": "wifi password"}), final("It is Orchard-42.")],
    "remember-color": [
        call("remember", {"text": "The user's favourite colour is teal."}),
        final("Noted."),
    ],
    "remember-dentist": [
        call("remember", {"text": "Dentist appointment on May 3."}),
        final("Noted."),
    ],
    "recall-cat": [call("recall", {"query": "cat name"}), final("Your cat is Miso.")],
    "recall-editor": [call("recall", {"query": "preferred editor"}), final("You prefer Helix.")],
    "remember-then-answer": [
        call("remember", {"text": "The user's locker code is 4812."}),
        final("Your locker code is 4812."),
    ],
    # no tool
    "say-hello": [final("Hello, Ana!")],
    "reply-ready": [final("ready")],
    "repeat-sentence": [final("The sky is blue.")],
    "my-name": [final("Your name is Lena.")],
    "say-thanks": [final("Thanks!")],
    "colour-in-sentence": [final("Red.")],
    "confirm-ok": [final("OK")],
    # reading
    "read-port": [read("server.ini"), final("8443")],
    "read-eggs": [read("recipes/pancakes.md"), final("3 eggs")],
    "read-owner": [read("team/roster.txt"), final("Priya Natarajan")],
    "read-version": [read("pyproject.toml"), final("The version is 2.4.1.")],
    "read-first-line": [read("poem.txt"), final("The fog comes on little cat feet.")],
    "count-lines": [read("todo.txt"), final("todo.txt has 4 lines.")],
    "list-reports": [call("list_dir", {"path": "reports"}), final("q1.md, q2.md and summary.txt")],
    "count-images": [call("list_dir", {"path": "images"}), final("There are 3 files.")],
    "glob-python": [
        call("glob", {"pattern": "**/*.py"}),
        final("src/app.py, src/util.py, tests/test_app.py"),
    ],
    "glob-markdown": [
        call("glob", {"pattern": "**/*.md", "path": "docs"}),
        final("docs/intro.md and docs/guide/setup.md"),
    ],
    "grep-invoice": [call("grep", {"pattern": "invoice"}), final("letters/billing.txt")],
    "grep-todo": [call("grep", {"pattern": "TODO"}), final("lib/parser.py")],
    "grep-error-line": [call("grep", {"pattern": "ERROR", "path": "app.log"}), final("Line 3.")],
    # shell
    "shell-echo": [sh("echo hello"), final("It prints hello.")],
    "shell-wc-words": [sh("wc -w essay.txt"), final("essay.txt has 12 words.")],
    "shell-ls-log": [sh("ls"), final("server.log")],
    "shell-expr": [sh("expr 6 \\* 7"), final("42")],
    "shell-touch": [sh("touch done.flag"), final("Created done.flag.")],
    # two steps
    "read-multiply": [read("numbers.txt"), calc("17 * 23"), final("17 x 23 = 391")],
    "copy-file": [
        read("source.txt"),
        write("backup.txt", "Quarterly numbers: 12, 19, 7\n"),
        final("Copied."),
    ],
    "count-to-file": [read("names.txt"), write("count.txt", "4\n"), final("Wrote 4 to count.txt.")],
    "price-double": [read("prices.json"), calc("1.25 * 2"), final("Doubled: 2.5")],
    "grep-then-read": [
        call("grep", {"pattern": "kiwi", "ignore_case": True}),
        read("fruit/b.txt"),
        final("Its first line: Kiwis are fuzzy outside."),
    ],
    # writing and editing
    "write-hello": [write("hello.txt", "hello world"), final("Done.")],
    "write-shopping": [write("shopping.txt", "milk, eggs, bread\n"), final("Done.")],
    "write-memo": [write("memo.md", "Meeting moved to Thursday\n"), final("Saved.")],
    "write-greeting": [write("greeting.txt", "Hi Ana\n"), final("Done.")],
    "write-number": [write("answer.txt", "42"), final("Done.")],
    "append-line": [
        read("log.txt"),
        edit("log.txt", "line two\n", "line two\nline three\n"),
        final("Appended."),
    ],
    "append-todo": [
        read("chores.md"),
        edit("chores.md", "- take out recycling\n", "- take out recycling\n- buy stamps\n"),
        final("Added."),
    ],
    "edit-json-port": [
        edit("config.json", '"port": 8080', '"port": 9090'),
        final("Port is now 9090."),
    ],
    "edit-toml-timeout": [edit("settings.toml", "timeout = 10", "timeout = 30"), final("Done.")],
    "edit-ini-level": [edit("logging.ini", "level = INFO", "level = DEBUG"), final("Done.")],
    "edit-name": [edit("letter.txt", "Dear Jon,", "Dear John,"), final("Done.")],
    "edit-typo": [edit("README.md", "recieve", "receive"), final("Fixed.")],
}

SUITE = load_suite()


def test_every_builtin_case_has_a_reference_solution() -> None:
    assert sorted(SOLUTIONS) == sorted(c.id for c in SUITE.cases)


@pytest.mark.parametrize("case", SUITE.cases, ids=lambda c: c.id)
def test_reference_solution_passes(case: Any) -> None:
    model = ScriptedChatModel(script=list(SOLUTIONS[case.id]))
    result = run_case(
        case,
        model,
        load_settings(),
        harness=AgentHarness(planning=False),
        embeddings=DeterministicFakeEmbedding(size=16),
    )
    assert result.passed, (
        result.failure,
        result.failure_detail,
        [c.output[:200] for c in result.calls],
    )
    assert result.right_first_tool is not False
    assert all(c.valid and c.outcome == "ok" for c in result.calls), result.calls
