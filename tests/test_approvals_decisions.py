"""Human decisions on pending calls: approve, edit, reject, respond, batches,
wrong ids, "always allow", the inline approver, and deny."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_support import make_agent, prompt_text, side_effects

from agentkit.approvals.decisions import (
    InvalidEditError,
    MissingDecisionError,
    NoPendingApprovalError,
    UnknownCallError,
)
from agentkit.approvals.policy import Policy
from agentkit.events import ApprovalNeeded, ApprovalRequest, Approve, Edit, Reject, Respond
from agentkit.testing import call, calls, final

WRITE = call("write_file", {"path": "out.txt", "content": "hello"}, "w1")


def test_write_waits_for_approval_then_runs_once(tmp_path: Path) -> None:
    agent, _, log = make_agent(tmp_path, [WRITE, final("written")])
    events = list(agent.stream("write hello", "t"))
    needed = [e for e in events if isinstance(e, ApprovalNeeded)]
    assert len(needed) == 1 and needed[0].thread_id == "t"
    request = needed[0].requests[0]
    assert (request.call_id, request.tool, request.side_effects) == ("w1", "write_file", ["write"])
    assert request.reason == "write: ask (default)"
    assert request.preview == {"kind": "text", "summary": "write out.txt"}
    assert request.args_schema["required"] == ["path", "content"]
    assert side_effects(log) == []  # nothing with a side effect before approval
    assert agent.pending("t") == needed[0].requests
    result = agent.resume("t", [Approve(call_id="w1")])
    assert result.status == "finished" and result.answer == "written"
    assert (tmp_path / "out.txt").read_text() == "hello"
    assert side_effects(log) == ["write_file out.txt"]


def test_edit_runs_with_new_arguments(tmp_path: Path) -> None:
    agent, model, log = make_agent(tmp_path, [WRITE, final("ok")])
    agent.run("x", "t")
    result = agent.resume(
        "t", [Edit(call_id="w1", args={"path": "other.txt", "content": "edited"})]
    )
    assert (tmp_path / "other.txt").read_text() == "edited"
    assert not (tmp_path / "out.txt").exists()
    assert result.tool_calls[0]["args"] == {"path": "other.txt", "content": "edited"}


def test_invalid_edit_is_refused_and_the_call_stays_pending(tmp_path: Path) -> None:
    agent, _, log = make_agent(tmp_path, [WRITE, final("ok")])
    agent.run("x", "t")
    with pytest.raises(InvalidEditError, match="content: Field required"):
        agent.resume("t", [Edit(call_id="w1", args={"path": "other.txt"})])
    assert [p.call_id for p in agent.pending("t")] == ["w1"]
    assert side_effects(log) == []
    assert agent.resume("t", [Approve(call_id="w1")]).status == "finished"


def test_reject_with_feedback(tmp_path: Path) -> None:
    agent, model, log = make_agent(tmp_path, [WRITE, final("did not write")])
    agent.run("x", "t")
    result = agent.resume("t", [Reject(call_id="w1", feedback="use notes.md instead")])
    assert result.tool_calls[0]["status"] == "rejected"
    assert side_effects(log) == []
    seen = prompt_text(model, 1)
    assert "use notes.md instead" in seen and "Do not repeat the same call" in seen


def test_respond_supplies_the_result_without_running(tmp_path: Path) -> None:
    agent, model, log = make_agent(
        tmp_path, [call("shell", {"command": "date"}, "s1"), final("it is noon")]
    )
    agent.run("x", "t")
    result = agent.resume("t", [Respond(call_id="s1", result="12:00")])
    assert side_effects(log) == []
    assert (
        result.tool_calls[0]["status"] == "responded" and result.tool_calls[0]["output"] == "12:00"
    )
    assert "12:00" in prompt_text(model, 1)


def test_batch_gets_a_decision_each(tmp_path: Path) -> None:
    batch = calls(
        ("write_file", {"path": "a.txt", "content": "A"}, "a"),
        ("write_file", {"path": "b.txt", "content": "B"}, "b"),
        ("shell", {"command": "ls"}, "c"),
        ("shell", {"command": "pwd"}, "d"),
        ("read_file", {"path": "a.txt"}, "e"),  # allowed outright: not in the batch
    )
    (tmp_path / "a.txt").write_text("old")
    agent, _, log = make_agent(tmp_path, [batch, final("done")])
    first = agent.run("x", "t")
    assert [p.call_id for p in first.pending] == ["a", "b", "c", "d"]
    result = agent.resume(
        "t",
        [
            Reject(call_id="b", feedback="no"),
            Approve(call_id="a"),
            Respond(call_id="d", result="/home"),
            Edit(call_id="c", args={"command": "ls -la"}),
        ],
    )
    by_id = {c["call_id"]: c for c in result.tool_calls}
    assert [c["call_id"] for c in result.tool_calls] == ["a", "b", "c", "d", "e"]  # proposal order
    assert by_id["a"]["status"] == "ok" and by_id["b"]["status"] == "rejected"
    assert by_id["c"]["output"] == "ran ls -la" and by_id["d"]["output"] == "/home"
    assert by_id["e"]["output"] == "A"  # the read ran after the approved write
    assert side_effects(log) == ["write_file a.txt", "shell ls -la"]


def test_unknown_call_id_is_an_error(tmp_path: Path) -> None:
    agent, _, log = make_agent(tmp_path, [WRITE, final("ok")])
    agent.run("x", "t")
    with pytest.raises(UnknownCallError, match="no pending call with id 'nope'"):
        agent.resume("t", [Approve(call_id="w1"), Approve(call_id="nope")])
    assert side_effects(log) == []
    assert [p.call_id for p in agent.pending("t")] == ["w1"]


def test_missing_decision_is_an_error(tmp_path: Path) -> None:
    batch = calls(("shell", {"command": "a"}, "1"), ("shell", {"command": "b"}, "2"))
    agent, _, log = make_agent(tmp_path, [batch, final("ok")])
    agent.run("x", "t")
    with pytest.raises(MissingDecisionError, match="2"):
        agent.resume("t", [Approve(call_id="1")])
    assert side_effects(log) == []


def test_decisions_for_a_thread_not_waiting(tmp_path: Path) -> None:
    agent, _, _ = make_agent(tmp_path, [final("ok")])
    agent.run("x", "t")
    with pytest.raises(NoPendingApprovalError):
        agent.resume("t", [Approve(call_id="w1")])


def test_always_allow_for_the_thread(tmp_path: Path) -> None:
    script = [
        call("shell", {"command": "git status"}, "s1"),
        call("shell", {"command": "git  status"}, "s2"),  # covered: the same command
        # not covered: "always" is exactly the approved command (a prefix would
        # also allow any arguments appended to it)
        call("shell", {"command": "git status --short"}, "s3"),
        final("ok"),
    ]
    agent, _, log = make_agent(tmp_path, script)
    agent.run("x", "t")
    result = agent.resume("t", [Approve(call_id="s1", always="thread")])
    assert result.status == "needs_approval"
    assert [p.call_id for p in result.pending] == ["s3"]
    rules = [r for r in agent.policy.list_rules() if r.scope == "thread"]
    assert (
        len(rules) == 1
        and rules[0].command_prefixes == ("git status",)
        and rules[0].thread_id == "t"
    )
    # the record survives a new process (records file in the data dir)
    reopened = Policy.default(records_path=tmp_path / "data" / "always_allow.json")
    assert [r.id for r in reopened.list_rules()] == [rules[0].id]
    agent.policy.revoke(rules[0].id)
    assert Policy.default(records_path=tmp_path / "data" / "always_allow.json").list_rules() == []
    assert side_effects(log) == ["shell git status", "shell git  status"]


def test_deleting_a_thread_revokes_its_rules(tmp_path: Path) -> None:
    agent, _, _ = make_agent(tmp_path, [WRITE, final("ok")])
    agent.run("x", "t")
    agent.resume("t", [Approve(call_id="w1", always="thread")])
    assert any(r.thread_id == "t" for r in agent.policy.list_rules())
    agent.threads.delete("t")
    assert not any(r.thread_id == "t" for r in agent.policy.list_rules())


def test_inline_approver(tmp_path: Path) -> None:
    seen: list[list[ApprovalRequest]] = []

    def approver(requests: list[ApprovalRequest]) -> list[Approve]:
        seen.append(requests)
        return [Approve(call_id=r.call_id) for r in requests]

    agent, _, log = make_agent(tmp_path, [WRITE, final("done")], approver=approver)
    result = agent.run("x")
    assert result.status == "finished"
    assert [r.call_id for r in seen[0]] == ["w1"]
    assert side_effects(log) == ["write_file out.txt"]


def test_denied_call_is_an_observation(tmp_path: Path) -> None:
    policy = Policy.from_dict({"tools": {"shell": "deny"}})
    agent, model, log = make_agent(
        tmp_path, [call("shell", {"command": "ls"}), final("cannot")], policy=policy
    )
    result = agent.run("x")
    assert result.status == "finished"
    assert result.tool_calls[0]["status"] == "denied"
    assert "denied by policy" in prompt_text(model, 1)
    assert side_effects(log) == []


def test_policy_allow_runs_without_asking(tmp_path: Path) -> None:
    policy = Policy.from_dict(
        {"rules": [{"tool": "write_file", "action": "allow", "paths": ["*.txt"]}]}
    )
    agent, _, log = make_agent(tmp_path, [WRITE, final("ok")], policy=policy)
    assert agent.run("x").status == "finished"
    assert side_effects(log) == ["write_file out.txt"]
