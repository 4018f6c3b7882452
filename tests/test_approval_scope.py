"""From the anchors' bug lists: "always allow" shows its exact scope and
never covers more; an edited call is evaluated by the policy again; in a
batch, rejecting one call keeps the approved ones and every call id gets
exactly one tool result. Real built-in tools, real files, SQLite threads."""

from __future__ import annotations

from pathlib import Path

import pytest
from control_support import control_agent, tool_results

from agentkit.approvals.always import always_options, pattern_rule
from agentkit.approvals.commands import command_matches
from agentkit.approvals.policy import Policy, PolicyRule
from agentkit.errors import AgentkitError
from agentkit.events import Approve, Edit, Reject, Respond
from agentkit.testing import call, calls, final
from agentkit.tools import builtin_tools


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        ("cat notes/a.md", True),
        ("cat 'notes/b c.md'", True),
        ("cat notes/./a.md", True),
        ("cat notes/../../x", False),
        ("cat notes/../x", False),
        ("cat a; rm b", False),
        ("cat notes/a.md; rm b", False),
        ("cat notes/a.md && rm -rf ~", False),
        ("cat notes/a.md | sh", False),
        ("cat notes/a.md > out", False),
        ("cat $(rm b)", False),
        ("cat notes/a.md /etc/passwd", False),
        ("cat /etc/passwd", False),
        ("cat notes/sub/a.md", False),
        ("cat -n notes/a.md", False),
        ("tac notes/a.md", False),
    ],
)
def test_an_always_allow_for_cat_notes_star(tmp_path: Path, command: str, allowed: bool) -> None:
    policy = Policy()
    shell = next(t for t in builtin_tools(read_only=False, workspace=tmp_path) if t.name == "shell")
    policy.add_always_allow(
        "shell", command_prefixes=["cat notes/*"], scope="thread", thread_id="t"
    )
    verdict = policy.evaluate(shell, {"command": command}, thread_id="t")
    assert (verdict.action == "allow") is allowed, (command, verdict)
    assert command_matches(command, ["cat notes/*"]) is allowed


def test_the_approval_shows_the_exact_scopes_before_the_pick(tmp_path: Path) -> None:
    tools = {t.name: t for t in builtin_tools(workspace=tmp_path)}
    shell = always_options(tools["shell"], {"command": "cat notes/a.md"})
    assert [o["pattern"] for o in shell] == ["cat notes/a.md", "cat notes/*"]
    assert "exactly the command `cat notes/a.md`" in shell[0]["label"]
    assert "no other arguments, no `..`, no chained commands" in shell[1]["label"]
    write = always_options(tools["write_file"], {"path": "notes/../notes/a.md", "content": ""})
    assert [o["pattern"] for o in write] == ["notes/a.md", "notes/*", "notes/**"]
    assert write[0]["label"] == "write_file on notes/a.md only"
    assert [o["pattern"] for o in always_options(tools["current_time"], {})] == [""]
    assert pattern_rule({"command": "git status"}) == {"command_prefixes": ["git status"]}
    assert pattern_rule({"path": "a/b.md"}, "a/*") == {"paths": ["a/*"]}


def test_always_with_a_chosen_scope_through_the_agent(tmp_path: Path) -> None:
    script = [
        call("shell", {"command": "cat notes/a.md"}, "s1"),
        call("shell", {"command": "cat notes/b.md"}, "s2"),  # covered by notes/*
        call("shell", {"command": "cat notes/../secret"}, "s3"),  # never
        final("ok"),
    ]
    (tmp_path / "ws" / "notes").mkdir(parents=True)
    for name in ("a.md", "b.md"):
        (tmp_path / "ws" / "notes" / name).write_text(name)
    agent, _, _ = control_agent(tmp_path, script)
    result = agent.run("read notes", "t")
    assert [o["pattern"] for o in result.pending[0].always_options] == [
        "cat notes/a.md",
        "cat notes/*",
    ]
    with pytest.raises(AgentkitError, match="not a scope offered"):
        agent.resume("t", [Approve(call_id="s1", always="thread", always_pattern="cat *")])
    result = agent.resume(
        "t", [Approve(call_id="s1", always="thread", always_pattern="cat notes/*")]
    )
    assert result.status == "needs_approval" and [p.call_id for p in result.pending] == ["s3"]
    assert "b.md" in tool_results(agent, "t")["s2"][0]
    rules = agent.policy.list_rules()
    assert [r.describe() for r in rules] == [
        "allow tool shell commands exactly like ['cat notes/*'] in thread t"
    ]


def test_an_edit_that_leaves_the_allowed_globs_asks_again(tmp_path: Path) -> None:
    policy = Policy(
        [
            PolicyRule(action="ask", tool="write_file", paths=("drafts/**",)),
            PolicyRule(action="deny", tool="write_file", paths=("secrets/**",)),
        ]
    )
    script = [call("write_file", {"path": "drafts/a.txt", "content": "x"}, "w1"), final("ok")]
    agent, _, ws = control_agent(tmp_path, script, policy=policy)
    agent.run("x", "t")
    # an edit into a denied path is refused, nothing written
    agent2, _, ws2 = control_agent(tmp_path / "2", list(script), policy=policy)
    agent2.run("x", "t")
    result = agent2.resume("t", [Edit(call_id="w1", args={"path": "secrets/k", "content": "x"})])
    assert result.status == "finished" and not (ws2 / "secrets" / "k").exists()
    assert "edited call: rule: deny" in tool_results(agent2, "t")["w1"][0]
    # an edit that now asks for another reason is asked about again, with the new arguments
    result = agent.resume("t", [Edit(call_id="w1", args={"path": "other.txt", "content": "y"})])
    assert result.status == "needs_approval"
    again = result.pending[0]
    assert again.call_id == "w1" and again.args == {"path": "other.txt", "content": "y"}
    assert again.reason == "edited: write: ask (default)"
    assert not (ws / "other.txt").exists()
    result = agent.resume("t", [Approve(call_id="w1")])
    assert result.status == "finished" and (ws / "other.txt").read_text() == "y"
    audit = agent.threads.audit("t").tool_calls[0]
    assert audit.args["path"] == "drafts/a.txt" and audit.run_args["path"] == "other.txt"


def test_an_edit_within_the_same_rule_runs(tmp_path: Path) -> None:
    script = [call("write_file", {"path": "a.txt", "content": "x"}, "w1"), final("ok")]
    agent, _, ws = control_agent(tmp_path, script)
    agent.run("x", "t")
    result = agent.resume("t", [Edit(call_id="w1", args={"path": "b.txt", "content": "z"})])
    assert result.status == "finished" and (ws / "b.txt").read_text() == "z"


def test_rejecting_one_call_in_a_batch_keeps_the_others(tmp_path: Path) -> None:
    batch = calls(
        ("write_file", {"path": "a.txt", "content": "a"}, "w1"),
        ("write_file", {"path": "b.txt", "content": "b"}, "w2"),
        ("write_file", {"path": "c.txt", "content": "c"}, "w3"),
        ("shell", {"command": "echo hi"}, "s1"),
        ("read_file", {"path": "missing.txt"}, "r1"),  # allowed, fails: still one result
        ("no_such_tool", {}, "x1"),  # invalid: still one result
    )
    agent, model, ws = control_agent(tmp_path, [batch, final("ok")])
    result = agent.run("x", "t")
    assert {p.call_id for p in result.pending} == {"w1", "w2", "w3", "s1"}
    result = agent.resume(
        "t",
        [
            Approve(call_id="w1"),
            Reject(call_id="w2", feedback="not b"),
            Edit(call_id="w3", args={"path": "c.txt", "content": "C"}),
            Respond(call_id="s1", result="hi"),
        ],
    )
    assert result.status == "finished"
    assert (ws / "a.txt").read_text() == "a" and (ws / "c.txt").read_text() == "C"
    assert not (ws / "b.txt").exists()
    results = tool_results(agent, "t")
    assert all(len(outputs) == 1 for outputs in results.values()), results
    assert set(results) >= {"w1", "w2", "w3", "s1", "r1", "x1"}
    assert "not b" in results["w2"][0] and results["s1"] == ["hi"]
    # the model's next prompt answers every call id exactly once
    answered = [m.tool_call_id for m in model.prompts[1] if m.type == "tool"]
    assert sorted(answered) == sorted({"w1", "w2", "w3", "s1", "r1", "x1"})
