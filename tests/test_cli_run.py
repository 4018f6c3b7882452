"""``agentkit run`` / ``resume`` / ``threads`` with a scripted model: exit
codes, JSON lines, decisions from flags, tasks files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from agent_support import make_tools, side_effects
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.cli import run as run_cli
from agentkit.errors import AgentkitError
from agentkit.testing import ScriptedChatModel, call, final


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTKIT_WORKSPACE", str(tmp_path))
    # The scripts below start with a plan; the configured model is the small
    # bundled one, for which planning is off unless set.
    monkeypatch.setenv("AGENTKIT_PLANNING", "on")
    monkeypatch.setenv("AGENTKIT_MEMORY", "false")  # one test below turns it on
    monkeypatch.chdir(tmp_path)
    model = ScriptedChatModel()
    log = tmp_path / "side_effects.log"
    monkeypatch.setattr(run_cli, "build_model", lambda settings: model)
    monkeypatch.setattr(
        run_cli, "build_tools", lambda settings, read_only: make_tools(tmp_path, log)
    )
    return {"model": model, "log": log, "dir": tmp_path}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_run_needs_approval_then_resume(env: dict[str, Any]) -> None:
    env["model"].script[:] = [
        call("write_file", {"path": "out.md", "content": "hi"}, "w1"),
        final("wrote it"),
    ]
    first = invoke("run", "write out.md", "--json", "--no-plan", "--thread", "t1")
    assert first.exit_code == run_cli.EXIT_NEEDS_APPROVAL == 3
    lines = json_lines(first.output)
    assert [line["kind"] for line in lines if line["kind"] != "token"] == [
        "plan",
        "tool_call",
        "approval_needed",
        "result",
    ]
    assert lines[-1]["status"] == "needs_approval" and lines[-1]["pending"][0]["call_id"] == "w1"
    assert side_effects(env["log"]) == []

    second = invoke("resume", "t1", "--approve", "w1", "--json")
    assert second.exit_code == 0, second.output
    result = json_lines(second.output)[-1]
    assert result["status"] == "finished" and result["answer"] == "wrote it"
    assert (env["dir"] / "out.md").read_text() == "hi"


def test_resume_reject_edit_respond_flags(env: dict[str, Any]) -> None:
    from agentkit.testing import calls

    env["model"].script[:] = [
        calls(
            ("shell", {"command": "a"}, "c1"),
            ("shell", {"command": "b"}, "c2"),
            ("shell", {"command": "c"}, "c3"),
        ),
        final("done"),
    ]
    assert invoke("run", "x", "--no-plan", "--thread", "t").exit_code == 3
    out = invoke(
        "resume",
        "t",
        "--reject",
        "c1",
        "--feedback",
        "no",
        "--edit",
        "c2",
        "--args",
        '{"command": "bb"}',
        "--respond",
        "c3",
        "--result",
        "fake",
        "--json",
    )
    assert out.exit_code == 0, out.output
    calls_ = {c["call_id"]: c for c in json_lines(out.output)[-1]["tool_calls"]}
    assert calls_["c1"]["status"] == "rejected"
    assert calls_["c2"]["output"] == "ran bb"
    assert calls_["c3"]["output"] == "fake"
    assert side_effects(env["log"]) == ["shell bb"]


def test_resume_with_wrong_id_is_a_user_error(env: dict[str, Any]) -> None:
    env["model"].script[:] = [call("shell", {"command": "a"}, "c1"), final("done")]
    invoke("run", "x", "--no-plan", "--thread", "t")
    out = invoke("resume", "t", "--approve", "nope")
    assert isinstance(out.exception, AgentkitError) and "no pending call with id 'nope'" in str(
        out.exception
    )
    out = invoke("resume", "t", "--edit", "c1", "--args", '{"command": 5}')
    assert isinstance(out.exception, AgentkitError) and "invalid arguments for shell" in str(
        out.exception
    )
    assert side_effects(env["log"]) == []


def test_policy_file_makes_runs_non_interactive(env: dict[str, Any]) -> None:
    policy = env["dir"] / "policy.toml"
    policy.write_text('[[rules]]\ntool = "write_file"\naction = "allow"\npaths = ["*.md"]\n')
    env["model"].script[:] = [
        call("write_file", {"path": "s.md", "content": "x"}, "w"),
        final("ok"),
    ]
    out = invoke("run", "write", "--no-plan", "--policy", str(policy))
    assert out.exit_code == 0, out.output
    assert "answer: ok" in out.output


def test_max_steps_stops_with_exit_code_4(env: dict[str, Any]) -> None:
    (env["dir"] / "a").write_text("x")
    env["model"].script[:] = [
        call("read_file", {"path": "a"}),
        call("read_file", {"path": "a"}),
        final("x"),
    ]
    out = invoke("run", "x", "--no-plan", "--max-steps", "1", "--json")
    assert out.exit_code == run_cli.EXIT_STOPPED == 4
    assert json_lines(out.output)[-1]["stop_reason"] == "max steps (1) reached"


def test_tasks_file_with_expectations(env: dict[str, Any]) -> None:
    (env["dir"] / "policy.toml").write_text('[tools]\nwrite_file = "allow"\n')
    (env["dir"] / "tasks.yaml").write_text(
        """
tasks:
  - id: summary
    task: write a summary
    tools: [write_file]
    policy: policy.toml
    expect:
      status: finished
      answer_contains: [summary]
      files: {summary.md: "short"}
  - id: wrong
    task: answer
    expect:
      answer_contains: [banana]
"""
    )
    env["model"].script[:] = [
        {"steps": ["write"]},
        call("write_file", {"path": "summary.md", "content": "a short summary"}, "w"),
        final("the summary is written"),
        {"steps": ["answer"]},
        final("apple"),
    ]
    out = invoke("run", "--file", "tasks.yaml", "--json")
    assert out.exit_code == run_cli.EXIT_EXPECTATION_FAILED == 1
    results = [line for line in json_lines(out.output) if line["kind"] == "result"]
    assert [(r["task_id"], r["status"]) for r in results] == [
        ("summary", "finished"),
        ("wrong", "finished"),
    ]
    assert env["model"].bound_tool_names[0] == ["write_file", "final_answer"]
    assert "wrong: answer lacks 'banana'" in out.output + out.stderr


def test_bad_tasks_file(env: dict[str, Any]) -> None:
    (env["dir"] / "tasks.yaml").write_text("tasks:\n  - nope: 1\n")
    out = invoke("run", "--file", "tasks.yaml")
    assert isinstance(out.exception, AgentkitError)
    assert "tasks[0]: unknown key 'nope' (did you mean `task`?)" in str(out.exception)
    out = invoke("run", "--file", "tasks.yaml", "also a task")
    assert isinstance(out.exception, AgentkitError)


def test_threads_commands(env: dict[str, Any]) -> None:
    env["model"].script[:] = [call("shell", {"command": "ls"}, "s"), final("listed")]
    invoke("run", "list files", "--no-plan", "--thread", "t")
    listed = invoke("threads", "list", "--json")
    assert listed.exit_code == 0
    assert [(t["thread_id"], t["status"]) for t in json.loads(listed.output)] == [
        ("t", "needs_approval")
    ]
    shown = invoke("threads", "show", "t")
    assert "pending s: shell" in shown.output
    history = json.loads(invoke("threads", "history", "t", "--json").output)
    at_approval = next(h for h in history if h["next"] == ["approve"])
    fork = invoke("threads", "fork", "t", at_approval["checkpoint_id"])
    fork_id = fork.output.strip()
    assert invoke("resume", fork_id, "--approve", "s").exit_code == 0
    assert invoke("threads", "rename", "t", "my thread").exit_code == 0
    assert invoke("threads", "delete", "t", "--yes").exit_code == 0
    remaining = json.loads(invoke("threads", "list", "--json").output)
    assert [(t["thread_id"], t["status"]) for t in remaining] == [(fork_id, "finished")]
    missing = invoke("threads", "show", "t")
    assert isinstance(missing.exception, AgentkitError)


def test_tty_prompt_approver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inline prompt maps answers to decisions (a: approve, t: always for
    the thread, e: edit with JSON, r: reject with feedback, s: respond)."""
    from rich.prompt import Prompt

    from agentkit.events import ApprovalRequest, Approve, Edit, Reject, Respond

    answers = iter(["a", "t", "e", '{"command": "ls -la"}', "r", "too risky", "s", "42"])
    monkeypatch.setattr(Prompt, "ask", classmethod(lambda cls, *a, **k: next(answers)))
    requests = [
        ApprovalRequest(call_id=str(i), tool="shell", args={"command": "ls"}, side_effects=["exec"])
        for i in range(5)
    ]
    decisions = run_cli.prompt_approver(requests)
    assert decisions == [
        Approve(call_id="0"),
        Approve(call_id="1", always="thread"),
        Edit(call_id="2", args={"command": "ls -la"}),
        Reject(call_id="3", feedback="too risky"),
        Respond(call_id="4", result="42"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tasks:\n  - task: x\n    tool: [a]\n", "tasks[0]: unknown key 'tool'"),
        (
            "tasks:\n  - task: x\n    expect: {status: done}\n",
            "tasks[0].expect.status: Input should be 'finished'",
        ),
        (
            "tasks:\n  - task: x\n    max_steps: 0\n",
            "tasks[0].max_steps: Input should be greater than or equal to 1",
        ),
        ("tasks: []\n", "tasks: List should have at least 1 item"),
        ("", "expected a non-empty `tasks:` list"),
    ],
)
def test_tasks_file_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    from agentkit.cli.tasks_file import load_tasks

    (tmp_path / "tasks.yaml").write_text(text)
    with pytest.raises(AgentkitError) as err:
        load_tasks(tmp_path / "tasks.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_tasks_file_bare_list(tmp_path: Path) -> None:
    from agentkit.cli.tasks_file import load_tasks

    (tmp_path / "tasks.yaml").write_text("- first\n- task: second\n  policy: p.toml\n")
    first, second = load_tasks(tmp_path / "tasks.yaml")
    assert (first.id, first.task, second.id, second.task) == ("task1", "first", "task2", "second")
    assert second.policy == (tmp_path / "p.toml").resolve()


def test_run_follows_the_planning_setting(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # auto: no plan call for a small model (the bundled one's plans were
    # noise such as "1. ]}, 12345678910..."), decided from the model built;
    # --no-plan and "on" still decide.
    monkeypatch.setenv("AGENTKIT_PLANNING", "auto")
    monkeypatch.setenv("AGENTKIT_STEERING__TOOL_ROUTING", "false")  # no embedder in this test
    env["model"].small = True
    env["model"].script[:] = [final("hello")]
    out = invoke("run", "say hello")
    assert out.exit_code == 0, out.output
    assert "answer: hello" in out.output and "1. say hello" in out.output  # the task as its plan
    assert env["model"].calls_made == 1


def test_run_gets_the_knowledge_base_like_chat_and_eval(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's RAG flow: after `agentkit ingest`, a run can search the
    # documents and remember (agentkit.assembly builds every front end's agent).
    monkeypatch.setenv("AGENTKIT_MEMORY", "true")
    docs = env["dir"] / "docs"
    docs.mkdir()
    (docs / "widget.md").write_text("# Widget\nTo reset the widget, hold the button for 5 s.\n")
    assert invoke("ingest", str(docs)).exit_code == 0
    env["model"].script[:] = [
        call("search_docs", {"query": "reset the widget"}, "s1"),
        final("Hold the button for 5 s. [widget.md:1-2]"),
    ]
    out = invoke("run", "How do I reset my widget? Cite your sources.", "--no-plan")
    assert out.exit_code == 0, out.output
    bound = env["model"].bound_tool_names[0]
    assert {"search_docs", "remember", "recall"} <= set(bound)
    assert "hold the button" in out.output.lower()
    listed = invoke("tools", "list", "--json")
    assert {"search_docs", "remember", "recall"} <= {
        json.loads(x)["name"] for x in listed.output.splitlines()
    }
