"""Threads survive the process: pending approvals reopen, a crash between a
side effect and its checkpoint does not repeat it, forks replay. Parametrised
over LangGraph's durability modes (all three are supported)."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_support import make_agent, side_effects

from agentkit.agent import Agent
from agentkit.events import Approve, Reject
from agentkit.graphs.prompts import RERUN_REASON
from agentkit.testing import call, calls, final

MODES = ["sync", "async", "exit"]


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


def drive_to_end(agent: Agent, thread_id: str) -> None:
    for _ in range(5):
        pending = agent.pending(thread_id)
        result = agent.resume(thread_id, [Approve(call_id=p.call_id) for p in pending])
        if result.status != "needs_approval":
            return


@pytest.mark.parametrize("durability", MODES)
def test_pending_approval_reopens_in_a_new_agent(tmp_path: Path, durability: str) -> None:
    write = call("write_file", {"path": "a.txt", "content": "A"}, "w1")
    first, _, log = make_agent(tmp_path, [write], durability=durability)
    assert first.run("write a", "t").status == "needs_approval"
    del first

    second, _, _ = make_agent(tmp_path, [final("written")], durability=durability)
    assert [p.call_id for p in second.pending("t")] == ["w1"]
    info = second.threads.get("t")
    assert info.status == "needs_approval" and info.title == "write a"
    result = second.resume("t", [Approve(call_id="w1")])
    assert result.status == "finished"
    assert side_effects(log) == ["write_file a.txt"]


@pytest.mark.parametrize("durability", MODES)
def test_crash_after_side_effect_does_not_repeat_it(tmp_path: Path, durability: str) -> None:
    """The first write completes, then the process 'dies' inside the second
    call: on resume the first is reused from the ledger, the second (which may
    have partly run) is reported instead of re-run."""
    batch = calls(
        ("write_file", {"path": "a.txt", "content": "A"}, "wa"),
        ("shell", {"command": "deploy"}, "sh"),
    )
    agent, _, log = make_agent(tmp_path, [batch, final("done")], durability=durability)
    assert agent.run("x", "t").status == "needs_approval"
    shell = agent.nodes.tools_by_name["shell"]
    original = shell.func

    def dying(command: str) -> str:
        original(command)  # the side effect happens...
        raise Crash()  # ...and the process dies before anything is recorded

    shell.func = dying
    with pytest.raises(Crash):
        agent.resume("t", [Approve(call_id="wa"), Approve(call_id="sh")])
    shell.func = original

    reopened, _, _ = make_agent(tmp_path, [final("done")], durability=durability)
    asked = reopened.resume("t")  # the thread is interrupted: continue it
    assert asked.status == "needs_approval"
    assert [(p.call_id, p.reason) for p in asked.pending] == [("sh", RERUN_REASON)]
    assert asked.pending[0].always_options == []  # never "always" for a re-run
    result = reopened.resume("t", [Reject(call_id="sh", feedback="it did deploy")])
    assert result.status == "finished"
    assert side_effects(log) == ["write_file a.txt", "shell deploy"]
    by_id = {c["call_id"]: c for c in result.tool_calls}
    assert by_id["wa"]["status"] == "ok"
    assert by_id["sh"]["status"] == "error" and "may have partly run" in by_id["sh"]["output"]
    assert "it did deploy" in by_id["sh"]["output"]


def test_an_interrupted_call_runs_again_when_approved(tmp_path: Path) -> None:
    """The human may say the interrupted call is to run again: it runs once more."""
    agent, _, log = make_agent(tmp_path, [call("shell", {"command": "deploy"}, "sh"), final("ok")])
    assert agent.run("x", "t").status == "needs_approval"
    shell = agent.nodes.tools_by_name["shell"]
    original = shell.func

    def dying(command: str) -> str:
        original(command)
        raise Crash()

    shell.func = dying
    with pytest.raises(Crash):
        agent.resume("t", [Approve(call_id="sh")])
    shell.func = original
    assert agent.threads.get("t").status == "interrupted"
    assert agent.resume("t").pending[0].reason == RERUN_REASON
    result = agent.resume("t", [Approve(call_id="sh")])
    assert result.status == "finished" and result.tool_calls[0]["output"] == "ran deploy"
    assert side_effects(log) == ["shell deploy", "shell deploy"]


@pytest.mark.parametrize("durability", MODES)
def test_crash_after_ledger_before_checkpoint_reuses_result(
    tmp_path: Path, durability: str
) -> None:
    """Both calls finish and are in the ledger, then the process dies before
    the step's checkpoint: re-running the step reuses both results."""
    batch = calls(
        ("write_file", {"path": "a.txt", "content": "A"}, "wa"),
        ("write_file", {"path": "b.txt", "content": "B"}, "wb"),
    )
    agent, _, log = make_agent(tmp_path, [batch, final("done")], durability=durability)
    agent.run("x", "t")
    ledger = agent.storage.ledger
    original_finish = ledger.finish
    finished: list[str] = []

    def finish_then_die(key: str, output: str, status: str, duration_s: float) -> None:
        original_finish(key, output, status, duration_s)
        finished.append(key)
        if len(finished) == 2:
            raise Crash()

    ledger.finish = finish_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        agent.resume("t", [Approve(call_id="wa"), Approve(call_id="wb")])
    reopened, _, _ = make_agent(tmp_path, [final("done")], durability=durability)
    drive_to_end(reopened, "t")
    result = reopened.result("t")
    assert result.status == "finished"
    assert [c["status"] for c in result.tool_calls] == ["ok", "ok"]
    assert side_effects(log) == ["write_file a.txt", "write_file b.txt"]


@pytest.mark.parametrize("durability", MODES)
def test_fork_from_an_earlier_checkpoint(tmp_path: Path, durability: str) -> None:
    write = call("write_file", {"path": "a.txt", "content": "A"}, "w1")
    agent, _, log = make_agent(
        tmp_path, [write, final("first"), final("second")], durability=durability
    )
    agent.run("write a", "t")
    agent.resume("t", [Approve(call_id="w1")])
    history = agent.threads.history("t")
    at_approval = next(c for c in history if c.next == ["approve"])
    fork_id = agent.threads.fork("t", at_approval.checkpoint_id)
    assert fork_id != "t"
    assert [p.call_id for p in agent.pending(fork_id)] == ["w1"]
    assert agent.threads.get(fork_id).title == "fork of write a"
    # the transcript forks too (it is rebuilt from the copied ancestry)
    forked = agent.graph.get_state(agent._config(fork_id)).values["messages"]
    original = agent.graph.get_state(
        {"configurable": {"thread_id": "t", "checkpoint_id": at_approval.checkpoint_id}}
    ).values["messages"]
    assert [m.content for m in forked] == [m.content for m in original]
    assert any(m.content == "write a" for m in forked)
    result = agent.resume(fork_id, [Approve(call_id="w1")])
    assert result.answer == "second"
    # a fork replays: its call runs again, under the new thread
    assert side_effects(log) == ["write_file a.txt", "write_file a.txt"]
    # the original is untouched
    assert agent.result("t").answer == "first"


def test_threads_list_rename_delete(tmp_path: Path) -> None:
    agent, _, _ = make_agent(tmp_path, [final("one"), call("shell", {"command": "ls"}, "s")])
    agent.run("first task", "a")
    agent.run("second task", "b")
    infos = {i.thread_id: i for i in agent.threads.list()}
    assert infos["a"].status == "finished" and infos["a"].answer == "one"
    assert infos["b"].status == "needs_approval" and infos["b"].pending[0].call_id == "s"
    assert [i.thread_id for i in agent.threads.list()][0] == "b"  # most recent first
    agent.threads.rename("a", "renamed")
    assert agent.threads.get("a").title == "renamed"
    agent.threads.delete("a")
    assert {i.thread_id for i in agent.threads.list()} == {"b"}
    from agentkit.threads import ThreadNotFoundError

    with pytest.raises(ThreadNotFoundError):
        agent.threads.get("a")
    with pytest.raises(ThreadNotFoundError):
        agent.resume("a", [])


def test_a_thread_saved_before_delta_channels_opens_and_resumes(tmp_path: Path) -> None:
    # Saved by the first release, whose checkpoints held the whole transcript
    # and tool log in every checkpoint (add_messages / plain list channels):
    # "read a then write b", the read done, the write waiting for approval.
    import shutil

    (tmp_path / "data").mkdir()
    shutil.copy(
        Path(__file__).parent / "fixtures" / "threads-first-session.sqlite",
        tmp_path / "data" / "threads.sqlite",
    )
    agent, _, log = make_agent(tmp_path, [final("done")])
    assert [m.type for m in agent.threads.messages("t")] == ["human", "ai", "tool", "ai"]
    assert [p.call_id for p in agent.pending("t")] == ["w1"]
    result = agent.resume("t", [Approve(call_id="w1")])
    assert (result.status, result.answer) == ("finished", "done")
    assert [c["tool"] for c in result.tool_calls] == ["read_file", "write_file"]
    assert (tmp_path / "b.txt").read_text() == "B"
    assert side_effects(log) == ["write_file b.txt"]


def test_a_first_release_thread_forked_before_execute_runs_its_decided_calls(
    tmp_path: Path,
) -> None:
    # The first release recorded decisions as {"kind": "allow", ...}; its
    # threads keep such a checkpoint wherever approve had run and execute had
    # not (here: the read, allowed by policy). Forking there replays execute.
    import shutil

    (tmp_path / "data").mkdir()
    shutil.copy(
        Path(__file__).parent / "fixtures" / "threads-first-session.sqlite",
        tmp_path / "data" / "threads.sqlite",
    )
    (tmp_path / "a.txt").write_text("A")
    agent, _, log = make_agent(tmp_path, [final("done")])
    before_execute = next(h for h in agent.threads.history("t") if h.next == ["execute"])
    fork = agent.threads.fork("t", before_execute.checkpoint_id)
    result = agent.resume(fork)
    assert [(c["tool"], c["status"], c["output"]) for c in result.tool_calls] == [
        ("read_file", "ok", "A")
    ]
    assert (result.status, result.answer) == ("finished", "done")  # the scripted model's next reply
    assert side_effects(log) == []


@pytest.mark.parametrize(
    ("saved", "expected"),
    [
        ({"kind": "allow"}, {}),
        ({"kind": "approve"}, {}),
        ({"kind": "edit", "args": {"path": "b"}}, {"args": {"path": "b"}}),
        ({"kind": "reject", "feedback": "no"}, {"status": "rejected", "feedback": "no"}),
        ({"kind": "respond", "feedback": "42"}, {"status": "responded", "output": "42"}),
        (
            {"kind": "deny", "feedback": "Not run: denied"},
            {"status": "denied", "output": "Not run: denied"},
        ),
        (
            {"kind": "invalid", "feedback": "error: bad"},
            {"status": "error", "output": "error: bad"},
        ),
    ],
)
def test_first_release_decisions_read_as_today(saved: dict, expected: dict) -> None:
    from agentkit.graphs.calls import saved_decision

    decision = saved_decision({"call_id": "c", "args": {"path": "a"}, **saved})
    assert decision == {"call_id": "c", "args": {"path": "a"}, **expected} | (
        {"output": decision["output"]} if saved["kind"] == "reject" else {}
    )
    if saved["kind"] == "reject":
        assert decision["output"].startswith("The user rejected this call: no.")
