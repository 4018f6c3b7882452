"""Permission modes on the real built-in tools, real files and SQLite threads:
plan (read-only, a plan to approve), default, accept-edits (workspace edits
only), dont-ask (what would ask is denied); stored per thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from control_support import control_agent, control_settings, tool_results

from agentkit.approvals.policy import Policy, PolicyRule
from agentkit.errors import ConfigError
from agentkit.events import Approve, ToolCallProposed
from agentkit.modes import MODES, PLAN_APPROVED_TASK, next_mode
from agentkit.testing import call, final


def test_default_mode_asks_before_a_write(tmp_path: Path) -> None:
    agent, _, ws = control_agent(
        tmp_path, [call("write_file", {"path": "a.txt", "content": "x"}, "w1"), final("ok")]
    )
    result = agent.run("write", "t")
    assert result.status == "needs_approval" and result.mode == "default"
    request = result.pending[0]
    assert request.mode == "default" and request.reason == "write: ask (default)"
    assert not (ws / "a.txt").exists()


def test_accept_edits_writes_and_edits_in_the_workspace_without_asking(tmp_path: Path) -> None:
    script = [
        call("write_file", {"path": "notes/a.txt", "content": "one\n"}, "w1"),
        call("edit_file", {"path": "notes/a.txt", "old_string": "one", "new_string": "two"}, "e1"),
        final("done"),
    ]
    agent, _, ws = control_agent(tmp_path, script, mode="accept-edits")
    events = list(agent.stream("edit notes", "t"))
    result = agent.result("t")
    assert result.status == "finished", result
    assert (ws / "notes" / "a.txt").read_text() == "two\n"
    proposed = [e for e in events if isinstance(e, ToolCallProposed)]
    assert [e.policy for e in proposed] == ["allow", "allow"]
    audit = agent.threads.audit("t")
    assert [(c.decided_by, c.mode) for c in audit.tool_calls] == [
        ("mode", "accept-edits"),
        ("mode", "accept-edits"),
    ]
    assert audit.tool_calls[0].policy_reason.startswith("mode accept-edits: workspace edit")


@pytest.mark.parametrize(
    ("tool", "args", "why"),
    [
        ("write_file", {"path": "../outside.txt", "content": "x"}, "outside the workspace"),
        ("shell", {"command": "echo hi > b.txt"}, "exec still asks"),
        ("http_get", {"url": "http://example.com"}, "network still asks"),
    ],
)
def test_accept_edits_still_asks_for_everything_else(
    tmp_path: Path, tool: str, args: dict[str, str], why: str
) -> None:
    agent, _, _ = control_agent(
        tmp_path, [call(tool, args, "c1"), final("ok")], mode="accept-edits"
    )
    result = agent.run("x", "t")
    assert result.status == "needs_approval", why
    assert result.pending[0].mode == "accept-edits"


def test_accept_edits_never_writes_protected_paths(tmp_path: Path) -> None:
    # agentkit's own data inside the workspace: the workspace refuses it, so
    # the mode does not lift the ask (and the tool refuses it if approved).
    settings = control_settings(tmp_path)
    settings = settings.model_copy(update={"data_dir": settings.resolved_workspace() / ".agentkit"})
    script = [
        call("write_file", {"path": ".agentkit/policy.toml", "content": "x"}, "w1"),
        final("ok"),
    ]
    agent, _, _ = control_agent(tmp_path, script, mode="accept-edits", settings=settings)
    assert agent.run("x", "t").status == "needs_approval"


def test_accept_edits_keeps_an_explicit_ask_rule(tmp_path: Path) -> None:
    policy = Policy([PolicyRule(action="ask", tool="write_file", paths=("secrets/**",))])
    script = [call("write_file", {"path": "secrets/k", "content": "x"}, "w1"), final("ok")]
    agent, _, _ = control_agent(tmp_path, script, mode="accept-edits", policy=policy)
    result = agent.run("x", "t")
    assert result.status == "needs_approval"
    assert result.pending[0].rule_id is not None and "secrets" in result.pending[0].reason


def test_dont_ask_denies_what_would_ask_and_tells_the_model(tmp_path: Path) -> None:
    script = [
        call("write_file", {"path": "a.txt", "content": "x"}, "w1"),
        call("read_file", {"path": "b.txt"}, "r1"),
        final("gave up on writing"),
    ]
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "b.txt").write_text("bee")
    agent, model, ws = control_agent(tmp_path, script, mode="dont-ask")
    result = agent.run("x", "t")
    assert result.status == "finished", "dont-ask never blocks"
    assert not (ws / "a.txt").exists()
    results = tool_results(agent, "t")
    assert "mode dont-ask" in results["w1"][0] and "needs approval" in results["w1"][0]
    assert results["r1"] == ["b.txt (lines 1-1 of 1)\nbee"], "reads still run"
    assert "mode dont-ask" in str(model.prompts[1][-2].content) or any(
        "mode dont-ask" in str(m.content) for m in model.prompts[1]
    )


def test_plan_mode_is_read_only_and_ends_with_a_plan_to_approve(tmp_path: Path) -> None:
    script = [
        call("read_file", {"path": "todo.txt"}, "r1"),
        call("write_file", {"path": "x.txt", "content": "sneaky"}, "w1"),  # not offered; denied
        final("1. Create done.txt saying done"),
        call("write_file", {"path": "done.txt", "content": "done"}, "w2"),
        final("Created done.txt"),
    ]
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "todo.txt").write_text("make done.txt")
    agent, model, ws = control_agent(tmp_path, script, mode="plan")
    result = agent.run("plan the todo", "t")
    assert result.status == "finished" and result.mode == "plan"
    assert result.answer.startswith("1. Create done.txt")
    offered = model.bound_tool_names[0]
    assert "read_file" in offered and "write_file" not in offered and "shell" not in offered
    assert "Plan mode" in str(model.prompts[0][0].content)
    assert not (ws / "x.txt").exists(), "nothing with a side effect runs"
    assert "mode plan: read-only" in tool_results(agent, "t")["w1"][0]
    assert agent.pending("t") == [], "nor is it asked for"
    # Approving the plan switches the thread to default and carries it out.
    result = agent.approve_plan("t")
    assert agent.mode("t") == "default" and result.mode == "default"
    assert result.status == "needs_approval", "default mode asks before the write again"
    assert any(PLAN_APPROVED_TASK in str(m.content) for m in model.prompts[3])
    result = agent.resume("t", [Approve(call_id="w2")])
    assert result.status == "finished" and (ws / "done.txt").read_text() == "done"


def test_mode_is_stored_per_thread(tmp_path: Path) -> None:
    agent, _, _ = control_agent(tmp_path, [final("a"), final("b")], mode="accept-edits")
    agent.run("x", "t1")
    agent.set_mode("t2", "dont-ask")
    assert agent.mode("t1") == "accept-edits" and agent.mode("t2") == "dont-ask"
    # a new process (a new Agent over the same data dir) sees the stored modes
    again, _, _ = control_agent(tmp_path, [final("c")])
    assert again.mode("t2") == "dont-ask" and again.mode("t3") == "default"
    with pytest.raises(ConfigError, match="unknown mode"):
        agent.set_mode("t1", "yolo")


def test_modes_cycle() -> None:
    seen = ["default"]
    for _ in MODES:
        seen.append(next_mode(seen[-1]))
    assert seen == ["default", "accept-edits", "plan", "dont-ask", "default"]


def test_accept_edits_never_lifts_the_protected_path_guard(tmp_path: Path) -> None:
    """Writing .envrc (a protected path, issue 15) asks even in accept-edits."""
    script = [call("write_file", {"path": ".envrc", "content": "export X=1\n"}, "w1"), final("ok")]
    agent, _, ws = control_agent(tmp_path, script, mode="accept-edits")
    result = agent.run("x", "t")
    assert result.status == "needs_approval"
    assert "protected path" in result.pending[0].reason
    assert not (ws / ".envrc").exists()
