"""A thread belongs to its workspace (issue 19): resuming, forking or
rewinding runs its tools where it started, whatever the current directory;
approvals name that place; lists are per workspace; "always allow for this
project" rules stay in their project; a moved workspace is a one-line error.

Real SQLite threads, the real built-in file tools and real files, driven
through the Python API and the CLI (the TUI's are in tests/tui/test_workspaces.py)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.cli import app, main
from agentkit.cli import run as run_cli
from agentkit.config import Settings
from agentkit.events import ApprovalRequest, Approve
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.threads import ThreadStore, WorkspaceMissingError
from agentkit.tools import builtin_tools
from agentkit.tools.registry import bound_workspace, call_target, rebind_tools, toolset_identity


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    """Two projects and one per-user data dir (threads.sqlite, policy.toml)."""
    found = {name: tmp_path / name for name in ("A", "B", "data")}
    for path in found.values():
        path.mkdir()
    return {name: path.resolve() for name, path in found.items()}


def write_twice() -> list[Any]:
    return [
        call("write_file", {"path": "out.txt", "content": "from A"}, "w1"),
        call("write_file", {"path": "second.txt", "content": "2"}, "w2"),
        final("done"),
    ]


def agent_in(workspace: Path, data: Path, script: list[Any], policy: Policy | None = None) -> Agent:
    """What `agentkit` builds in a project: the built-in tools with writes,
    SQLite threads in the shared data dir."""
    settings = Settings(data_dir=data, workspace=workspace)
    return Agent(
        model=ScriptedChatModel(script=script),
        tools=builtin_tools(settings),
        settings=settings,
        planning=False,
        policy=policy,
    )


# --- the Python API -------------------------------------------------------------------


def test_resume_from_another_project_writes_where_the_thread_started(
    dirs: dict[str, Path],
) -> None:
    script = write_twice()
    in_a = agent_in(dirs["A"], dirs["data"], script)
    first = in_a.run("write out.txt", thread_id="t1")
    assert first.status == "needs_approval" and first.workspace == str(dirs["A"])
    request = first.pending[0]
    assert request.workspace == str(dirs["A"])
    assert request.target == str(dirs["A"] / "out.txt")
    assert request.shown_location(cwd=dirs["A"]) is None, "inside: the relative path says enough"
    assert request.shown_location(cwd=dirs["B"]) == str(dirs["A"] / "out.txt")

    in_b = agent_in(dirs["B"], dirs["data"], script[1:])
    assert in_b.pending("t1") == first.pending, "the same request, naming A"
    second = in_b.resume("t1", [Approve(call_id="w1")])
    assert (dirs["A"] / "out.txt").read_text() == "from A"
    assert list(dirs["B"].iterdir()) == [], "B is untouched"
    assert second.status == "needs_approval" and second.workspace == str(dirs["A"])
    assert second.pending[0].target == str(dirs["A"] / "second.txt")
    assert in_b.resume("t1", [Approve(call_id="w2")]).status == "finished"
    assert (dirs["A"] / "second.txt").exists() and list(dirs["B"].iterdir()) == []
    # the agent's own workspace serves its new threads again
    assert in_b.workspace == dirs["B"] and in_b.workspace_of("new") == dirs["B"]
    history = in_b.threads.history("t1", limit=None)
    assert {h.workspace for h in history} == {str(dirs["A"])}, "every step ran in A"


def test_a_new_task_in_the_thread_still_acts_where_it_started(dirs: dict[str, Path]) -> None:
    agent_in(dirs["A"], dirs["data"], [final("hi")]).run("say hi", thread_id="t1")
    in_b = agent_in(
        dirs["B"],
        dirs["data"],
        [call("list_dir", {"path": "."}, "l1"), final("listed"), final("fine")],
    )
    (dirs["A"] / "only-in-a.txt").write_text("a")
    result = in_b.run("what is here?", thread_id="t1")
    assert result.workspace == str(dirs["A"])
    assert "only-in-a.txt" in result.tool_calls[-1]["output"]
    fresh = in_b.run("and here?", thread_id="t2")
    assert fresh.workspace == str(dirs["B"]), "a new thread works in the agent's workspace"


def test_a_moved_workspace_is_one_line_and_loses_nothing(dirs: dict[str, Path]) -> None:
    script = write_twice()
    in_a = agent_in(dirs["A"], dirs["data"], script)
    in_a.run("write out.txt", thread_id="t1")
    moved = dirs["A"].with_name("A-moved")
    dirs["A"].rename(moved)

    in_b = agent_in(dirs["B"], dirs["data"], script[1:])
    with pytest.raises(WorkspaceMissingError) as err:
        in_b.resume("t1", [Approve(call_id="w1")])
    message = str(err.value)
    assert "\n" not in message and str(dirs["A"]) in message and "--workspace PATH" in message
    assert [r.call_id for r in in_b.pending("t1")] == ["w1"], "still waiting, nothing ran"
    assert list(dirs["B"].iterdir()) == [] and not (moved / "out.txt").exists()

    origin = in_b.threads.relocate("t1", moved)
    assert origin.workspace == str(moved)
    asked = in_b.pending("t1")[0]
    assert (asked.workspace, asked.target) == (str(moved), str(moved / "out.txt"))
    assert in_b.threads.get("t1").pending == [asked]
    assert [(m.from_workspace, m.to_workspace) for m in origin.moves] == [
        (str(dirs["A"]), str(moved))
    ]
    in_b.resume("t1", [Approve(call_id="w1")])
    assert (moved / "out.txt").read_text() == "from A" and list(dirs["B"].iterdir()) == []
    steps = [h.workspace for h in reversed(in_b.threads.history("t1", limit=None))]
    assert steps[0] == str(dirs["A"]) and steps[-1] == str(moved), "the move is in the history"


def test_lists_per_workspace(dirs: dict[str, Path]) -> None:
    agent_in(dirs["A"], dirs["data"], [final("a")]).run("in A", thread_id="ta")
    in_b = agent_in(dirs["B"], dirs["data"], [final("b")])
    in_b.run("in B", thread_id="tb")
    assert [i.thread_id for i in in_b.threads.list(workspace=dirs["A"])] == ["ta"]
    assert [i.thread_id for i in in_b.threads.list(workspace=dirs["B"])] == ["tb"]
    assert {i.thread_id: i.workspace for i in in_b.threads.list()} == {
        "ta": str(dirs["A"]),
        "tb": str(dirs["B"]),
    }


def test_fork_and_rewind_keep_the_workspace_unless_moved(dirs: dict[str, Path]) -> None:
    script = write_twice()
    in_a = agent_in(dirs["A"], dirs["data"], script)
    in_a.run("write out.txt", thread_id="t1")
    at_approval = next(h for h in in_a.threads.history("t1") if h.next == ["approve"])
    in_b = agent_in(dirs["B"], dirs["data"], [final("forked")])
    fork = in_b.threads.fork("t1", at_approval.checkpoint_id)
    assert in_b.threads.get(fork).workspace == str(dirs["A"])
    in_b.resume(fork, [Approve(call_id="w1")])
    assert (dirs["A"] / "out.txt").exists() and list(dirs["B"].iterdir()) == []

    elsewhere = in_b.threads.fork("t1", at_approval.checkpoint_id, workspace=dirs["B"])
    assert in_b.threads.get(elsewhere).workspace == str(dirs["B"])
    assert in_b.threads.origin(elsewhere).moves[-1].to_workspace == str(dirs["B"])


def test_project_rules_are_keyed_by_workspace(dirs: dict[str, Path]) -> None:
    policy_file = dirs["data"] / "policy.toml"
    script = [call("write_file", {"path": "x.txt", "content": "1"}, "w"), final("ok")]
    in_a = agent_in(dirs["A"], dirs["data"], list(script), Policy.default(path=policy_file))
    in_a.run("write x", thread_id="t1")
    in_a.resume("t1", [Approve(call_id="w", always="project")])
    assert f'workspace = "{dirs["A"]}"' in policy_file.read_text()

    again_a = agent_in(dirs["A"], dirs["data"], list(script), Policy.from_toml(policy_file))
    assert again_a.run("write x", thread_id="t2").status == "finished", "allowed in A"
    in_b = agent_in(dirs["B"], dirs["data"], list(script), Policy.from_toml(policy_file))
    assert in_b.run("write x", thread_id="t3").status == "needs_approval", "never in B"
    assert not (dirs["B"] / "x.txt").exists()


def test_threads_from_before_workspaces(dirs: dict[str, Path]) -> None:
    """A database without the origin column is migrated in place; a thread
    that recorded nothing adopts the workspace it is next run in."""
    db = dirs["data"] / "threads.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE agentkit_threads (thread_id TEXT PRIMARY KEY, title TEXT NOT NULL "
            "DEFAULT '', created_at REAL NOT NULL, updated_at REAL NOT NULL, "
            "extra TEXT NOT NULL DEFAULT '{}')"
        )
        conn.execute("INSERT INTO agentkit_threads VALUES ('old', 'old one', 1.0, 2.0, '{}')")
    agent = agent_in(dirs["B"], dirs["data"], [final("hello")])
    assert agent.threads.origin("old") is None
    assert agent.threads.get("old").workspace == ""
    assert agent.run("say hello", thread_id="old").workspace == str(dirs["B"])
    assert agent.threads.origin("old").workspace == str(dirs["B"])


def test_the_origin_names_tools_and_policy(dirs: dict[str, Path]) -> None:
    policy_file = dirs["data"] / "policy.toml"
    policy_file.write_text("[tools]\ncalculator = 'allow'\n")
    agent = agent_in(dirs["A"], dirs["data"], [final("hi")], Policy.from_toml(policy_file))
    agent.run("hi", thread_id="t")
    origin = agent.threads.origin("t")
    assert origin is not None and origin.workspace == str(dirs["A"])
    assert origin.tools == [t.name for t in agent.tools]
    assert origin.toolset == toolset_identity(agent.tools)
    assert origin.policy_file == str(policy_file) and len(origin.policy_sha256) == 64


def test_rebinding_built_in_tools(dirs: dict[str, Path]) -> None:
    settings = Settings(data_dir=dirs["data"], workspace=dirs["A"])
    tools = builtin_tools(settings)
    assert bound_workspace(tools) == dirs["A"]
    moved = rebind_tools(tools, dirs["B"], settings)
    assert [t.name for t in moved] == [t.name for t in tools]
    assert bound_workspace(moved) == dirs["B"]
    by_name = {t.name: t for t in moved}
    assert call_target(by_name["write_file"], {"path": "sub/x.md"}) == str(dirs["B"] / "sub/x.md")
    assert call_target(by_name["shell"], {"command": "ls"}) == str(dirs["B"])
    assert call_target(by_name["calculator"], {"expression": "1"}) is None
    assert toolset_identity(moved) == toolset_identity(tools), "same tools, other place"
    assert rebind_tools(moved, dirs["B"], settings) == moved


def test_shown_location_without_a_target() -> None:
    request = ApprovalRequest(
        call_id="c", tool="mine", args={}, side_effects=["write"], workspace="/elsewhere/A"
    )
    assert request.shown_location(cwd="/elsewhere/A") is None
    assert request.shown_location(cwd="/elsewhere") is None
    assert request.shown_location(cwd="/elsewhere/A/sub") == "/elsewhere/A"
    assert request.shown_location(cwd="/tmp") == "/elsewhere/A"
    assert ApprovalRequest(call_id="c", tool="t", args={}, side_effects=[]).shown_location() is None
    moved = request.model_copy(update={"target": "/elsewhere/A/x.md"}).in_workspace("/new/A")
    assert (moved.workspace, moved.target) == ("/new/A", "/new/A/x.md")
    legacy = ApprovalRequest(call_id="c", tool="t", args={}, side_effects=[]).in_workspace("/w")
    assert (legacy.workspace, legacy.target) == ("/w", None)


# --- the CLI -----------------------------------------------------------------------------


@pytest.fixture
def cli(dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`agentkit` with a scripted model, the real tools and a per-user data dir."""
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(dirs["data"]))
    monkeypatch.delenv("AGENTKIT_WORKSPACE", raising=False)
    model = ScriptedChatModel(script=write_twice())
    monkeypatch.setattr(run_cli, "build_model", lambda settings: model)
    return {**dirs, "model": model, "chdir": monkeypatch.chdir}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_cli_resume_from_another_project(cli: dict[str, Any]) -> None:
    a, b = cli["A"], cli["B"]
    cli["chdir"](a)
    first = invoke("run", "write out.txt", "--no-plan", "--thread", "t1", "--json")
    assert first.exit_code == 3, first.output
    run_kinds = [line["kind"] for line in json_lines(first.output) if line["kind"] != "token"]

    cli["chdir"](b)
    here = invoke("threads", "list")
    assert "t1" not in here.output and "1 more thread(s) in other workspaces" in here.output
    assert json.loads(invoke("threads", "list", "--json").output) == []
    every = invoke("threads", "list", "--all")
    assert "t1" in every.output and "workspace" in every.output
    listed = json.loads(invoke("threads", "list", "--all", "--json").output)
    assert [(t["thread_id"], t["workspace"]) for t in listed] == [("t1", str(a))]
    assert f"in {a / 'out.txt'}" in invoke("threads", "show", "t1").output

    second = invoke("resume", "t1", "--approve", "w1", "--max-steps", "5")
    assert second.exit_code == 3, second.output
    assert f"thread t1 works in {a}" in second.output
    assert (a / "out.txt").read_text() == "from A" and list(b.iterdir()) == []
    approval = next(line for line in second.output.splitlines() if "approval needed" in line)
    assert f"in {a / 'second.txt'}" in approval, "the approval line names A's path"

    third = invoke("resume", "t1", "--approve", "w2", "--json")
    assert third.exit_code == 0, third.output
    lines = json_lines(third.output)
    assert lines[-1]["kind"] == "result" and lines[-1]["workspace"] == str(a)
    assert {k for k in run_kinds} >= {"tool_call", "approval_needed", "result"}
    assert all("kind" in line for line in lines), "the same JSON lines as `agentkit run`"
    assert (a / "second.txt").exists() and list(b.iterdir()) == []
    cli["chdir"](a)
    assert "t1" in invoke("threads", "list").output


def test_cli_resume_takes_the_run_limits(cli: dict[str, Any]) -> None:
    steps = [
        call("write_file", {"path": "1.txt", "content": "1"}, "w1"),
        call("read_file", {"path": "1.txt"}, "r1"),
        call("read_file", {"path": "1.txt", "start_line": 1}, "r2"),
        final("done"),
    ]
    cli["model"].script[:] = steps[:2] + steps  # the first run stops before its third call
    cli["chdir"](cli["A"])
    assert invoke("run", "write", "--no-plan", "--thread", "t", "--max-steps", "2").exit_code == 3
    cli["chdir"](cli["B"])
    out = invoke("resume", "t", "--approve", "w1", "--json")
    assert out.exit_code == 4, out.output
    assert json_lines(out.output)[-1]["stop_reason"] == "max steps (2) reached", "the run's limit"
    again = invoke("run", "write", "--no-plan", "--thread", "u", "--max-steps", "2")
    assert again.exit_code == 3
    wider = invoke("resume", "u", "--approve", "w1", "--max-steps", "9", "--json")
    assert wider.exit_code == 0 and json_lines(wider.output)[-1]["answer"] == "done"


def test_cli_moved_workspace(
    cli: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = cli["A"], cli["B"]
    cli["chdir"](a)
    assert invoke("run", "write out.txt", "--no-plan", "--thread", "t1").exit_code == 3
    cli["chdir"](b)
    moved = a.with_name("A2")
    a.rename(moved)

    monkeypatch.setattr(sys, "argv", ["agentkit", "resume", "t1", "--approve", "w1"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"works in {a}, which no longer exists" in err and "--workspace PATH" in err
    assert "pending w1" in invoke("threads", "show", "t1").output, "nothing lost"

    out = invoke("resume", "t1", "--approve", "w1", "--workspace", str(moved))
    assert out.exit_code == 3, out.output
    assert (moved / "out.txt").read_text() == "from A" and list(b.iterdir()) == []
    shown = invoke("threads", "show", "t1").output
    assert f"workspace: {moved}" in shown and f"{a} -> {moved}" in shown
    history = invoke("threads", "history", "t1", "--limit", "0").output
    assert f"[in {moved}]" in history and f"[in {a}]" in history


def test_tty_prompt_names_the_path_outside_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rich.prompt import Prompt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Prompt, "ask", classmethod(lambda cls, *a, **k: "a"))
    request = ApprovalRequest(
        call_id="w1",
        tool="write_file",
        args={"path": "out.txt", "content": "x"},
        side_effects=["write"],
        workspace="/projects/A",
        target="/projects/A/out.txt",
    )
    assert run_cli.prompt_approver([request]) == [Approve(call_id="w1")]
    assert "in /projects/A/out.txt" in capsys.readouterr().out


def test_thread_store_without_agent_reads_the_workspace_from_checkpoints(
    dirs: dict[str, Path],
) -> None:
    """Postgres threads written on another machine have no local row: their
    checkpoints still say where they work."""
    agent = agent_in(dirs["A"], dirs["data"], [final("hi")])
    agent.run("hi", thread_id="t")
    with sqlite3.connect(dirs["data"] / "threads.sqlite") as conn:
        conn.execute("DELETE FROM agentkit_threads")
    store = ThreadStore(agent.graph, agent.storage.checkpointer)
    assert store.origin("t") is not None and store.origin("t").workspace == str(dirs["A"])
    assert [i.thread_id for i in store.list(workspace=dirs["A"])] == ["t"]
