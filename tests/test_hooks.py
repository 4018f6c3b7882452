"""Hooks, from Python and from agentkit.toml commands, on the real built-in
tools, real files and SQLite threads: verdicts, rewrites evaluated by the
policy again, results replaced, failures closed, events and the thread's
record (the audit's "who decided" says hook)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from control_support import control_agent, control_settings, tool_results

from agentkit.approvals.policy import Policy, PolicyRule
from agentkit.config import HookConfig
from agentkit.events import ApprovalRequest, HookEvent, RunResult, ToolCallProposed
from agentkit.hooks import Allow, Ask, Deny, Hooks, Replace, Rewrite, ToolCall, ToolResult
from agentkit.testing import call, calls, final

WRITE_LOCK = call("write_file", {"path": "poetry.lock", "content": "x"}, "w1")


class NoLockfiles(Hooks):
    name = "no-lockfiles"

    def before_tool(self, call: ToolCall) -> Deny | None:
        if call.args.get("path", "").endswith(".lock"):
            return Deny("lock files are generated; edit the manifest")
        return None


def test_a_python_hook_denies_and_the_model_sees_why(tmp_path: Path) -> None:
    agent, _, ws = control_agent(tmp_path, [WRITE_LOCK, final("ok")], hooks=NoLockfiles())
    events = list(agent.stream("x", "t"))
    assert agent.result("t").status == "finished"
    assert not (ws / "poetry.lock").exists()
    assert "lock files are generated" in tool_results(agent, "t")["w1"][0]
    hook_events = [e for e in events if isinstance(e, HookEvent)]
    assert [(e.stage, e.hook, e.outcome) for e in hook_events] == [
        ("before_tool", "no-lockfiles", "deny")
    ]
    assert [e.policy for e in events if isinstance(e, ToolCallProposed)] == ["deny"]
    audit = agent.threads.audit("t")
    call_audit = audit.tool_calls[0]
    assert call_audit.decided_by == "hook" and call_audit.decision == "deny"
    assert [h["outcome"] for h in call_audit.hooks] == ["deny"]


class AllowNotes(Hooks):
    def before_tool(self, call: ToolCall) -> Allow | None:
        return Allow("notes are fine") if call.args.get("path", "").startswith("notes/") else None


def test_allow_answers_an_ask_but_never_a_deny(tmp_path: Path) -> None:
    policy = Policy([PolicyRule(action="deny", tool="write_file", paths=("notes/secret*",))])
    script = [
        call("write_file", {"path": "notes/a.txt", "content": "a"}, "w1"),
        call("write_file", {"path": "notes/secret.txt", "content": "s"}, "w2"),
        call("write_file", {"path": "other.txt", "content": "o"}, "w3"),
        final("ok"),
    ]
    agent, _, ws = control_agent(tmp_path, script, hooks=[AllowNotes()], policy=policy)
    result = agent.run("x", "t")
    assert (ws / "notes" / "a.txt").read_text() == "a", "the hook answered the ask"
    assert not (ws / "notes" / "secret.txt").exists(), "a policy deny stands"
    assert result.status == "needs_approval" and result.pending[0].call_id == "w3"
    by_id = {c.call_id: c for c in agent.threads.audit("t").tool_calls}
    assert by_id["w1"].decided_by == "hook" and by_id["w1"].decision == "allow"
    assert by_id["w2"].decided_by == "policy" and by_id["w2"].decision == "deny"


class AskAlways(Hooks):
    def before_tool(self, call: ToolCall) -> Ask:
        return Ask("second opinion")


def test_ask_turns_an_allow_into_a_question(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "a.txt").write_text("a")
    agent, _, _ = control_agent(
        tmp_path, [call("read_file", {"path": "a.txt"}, "r1"), final("ok")], hooks=AskAlways()
    )
    result = agent.run("x", "t")
    assert result.status == "needs_approval"
    assert "second opinion" in result.pending[0].reason


class Redirect(Hooks):
    """Moves writes elsewhere: into notes/ (allowed by the policy) or out of
    the allowed globs, or into arguments the schema refuses."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.args = args

    def before_tool(self, call: ToolCall) -> Rewrite | None:
        return Rewrite(self.args) if call.tool == "write_file" else None


def test_a_rewrite_is_evaluated_by_the_policy_again(tmp_path: Path) -> None:
    policy = Policy(
        [PolicyRule(action="allow", tool="write_file", paths=("drafts/**",))],
        side_effects={"write": "deny"},
    )
    write = call("write_file", {"path": "drafts/a.txt", "content": "x"}, "w1")
    # allowed as proposed; the hook moves it outside the allowed globs: denied
    agent, _, ws = control_agent(
        tmp_path,
        [write, final("ok")],
        hooks=Redirect({"path": "elsewhere/a.txt", "content": "x"}),
        policy=policy,
    )
    agent.run("x", "t")
    assert not (ws / "elsewhere" / "a.txt").exists() and not (ws / "drafts" / "a.txt").exists()
    assert "Not run: denied by policy" in tool_results(agent, "t")["w1"][0]
    audit = agent.threads.audit("t").tool_calls[0]
    assert audit.args["path"] == "drafts/a.txt" and audit.run_args == {
        "path": "elsewhere/a.txt",
        "content": "x",
    }


def test_a_rewrite_that_stays_allowed_runs_with_the_new_arguments(tmp_path: Path) -> None:
    policy = Policy([PolicyRule(action="allow", tool="write_file", paths=("drafts/**",))])
    write = call("write_file", {"path": "drafts/a.txt", "content": "x"}, "w1")
    agent, _, ws = control_agent(
        tmp_path,
        [write, final("ok")],
        hooks=Redirect({"path": "drafts/b.txt", "content": "y"}),
        policy=policy,
    )
    assert agent.run("x", "t").status == "finished"
    assert (ws / "drafts" / "b.txt").read_text() == "y" and not (ws / "drafts" / "a.txt").exists()
    assert "changed the arguments" in tool_results(agent, "t")["w1"][0]


def test_a_rewrite_that_fails_the_schema_is_refused(tmp_path: Path) -> None:
    agent, _, ws = control_agent(
        tmp_path,
        [call("write_file", {"path": "a.txt", "content": "x"}, "w1"), final("ok")],
        hooks=Redirect({"path": 3}),
    )
    agent.run("x", "t")
    assert not (ws / "a.txt").exists()
    assert "rewrote the call into an invalid one" in tool_results(agent, "t")["w1"][0]


class Redact(Hooks):
    def after_tool(self, call: ToolCall, result: ToolResult) -> Replace | ToolResult:
        if "SECRET" in result.output:
            return Replace(result.output.replace("SECRET", "[redacted]"), "redacted")
        return result


def test_after_tool_replaces_what_the_model_sees(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "k.txt").write_text("key=SECRET")
    agent, model, _ = control_agent(
        tmp_path, [call("read_file", {"path": "k.txt"}, "r1"), final("ok")], hooks=Redact()
    )
    events = list(agent.stream("x", "t"))
    assert tool_results(agent, "t")["r1"][0].endswith("key=[redacted]")
    assert all("SECRET" not in str(m.content) for m in model.prompts[1])
    assert [(e.stage, e.outcome) for e in events if isinstance(e, HookEvent)] == [
        ("after_tool", "replace")
    ]
    assert agent.threads.audit("t").tool_calls[0].hooks[0]["outcome"] == "replace"


class Broken(Hooks):
    name = "broken"

    def before_tool(self, call: ToolCall) -> None:
        raise RuntimeError("boom")

    def after_tool(self, call: ToolCall, result: ToolResult) -> None:
        raise RuntimeError("boom")


def test_a_failing_hook_fails_closed(tmp_path: Path) -> None:
    policy = Policy([PolicyRule(action="allow", tool="write_file")])
    agent, _, ws = control_agent(
        tmp_path,
        [call("write_file", {"path": "a.txt", "content": "x"}, "w1"), final("ok")],
        hooks=Broken(),
        policy=policy,
    )
    agent.run("x", "t")
    assert not (ws / "a.txt").exists()
    assert "hook broken failed (RuntimeError: boom)" in tool_results(agent, "t")["w1"][0]


class Recorder(Hooks):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_approval_request(self, requests: list[ApprovalRequest]) -> None:
        self.seen.append("approval:" + ",".join(r.call_id for r in requests))

    def on_run_end(self, result: RunResult) -> None:
        self.seen.append(f"end:{result.status}")


def test_approval_and_run_end_notifications(tmp_path: Path) -> None:
    recorder = Recorder()
    agent, _, _ = control_agent(
        tmp_path,
        [call("write_file", {"path": "a.txt", "content": "x"}, "w1"), final("ok")],
        hooks=recorder,
    )
    events = list(agent.stream("x", "t"))
    assert recorder.seen == ["approval:w1", "end:needs_approval"]
    assert [e.stage for e in events if isinstance(e, HookEvent)] == ["approval_request", "run_end"]


# --- command hooks from agentkit.toml --------------------------------------------------

DENY_LOCK = textwrap.dedent(
    """\
    import json, sys
    call = json.load(sys.stdin)
    if call["args"].get("path", "").endswith(".lock"):
        print("lock files are generated; change the manifest", file=sys.stderr)
        sys.exit(2)
    """
)


def script_hook(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / name
    path.write_text(body)
    return [sys.executable, str(path)]


def test_command_hook_exit_2_denies_with_stderr(tmp_path: Path) -> None:
    hook = HookConfig(
        event="before_tool", command=script_hook(tmp_path, "lock.py", DENY_LOCK), tools=["write_*"]
    )
    settings = control_settings(tmp_path, hooks=[hook])
    policy = Policy([PolicyRule(action="allow", tool="write_file")])
    script = [WRITE_LOCK, call("write_file", {"path": "ok.txt", "content": "y"}, "w2"), final("ok")]
    agent, _, ws = control_agent(tmp_path, script, settings=settings, policy=policy)
    events = list(agent.stream("x", "t"))
    assert not (ws / "poetry.lock").exists() and (ws / "ok.txt").read_text() == "y"
    assert "lock files are generated; change the manifest" in tool_results(agent, "t")["w1"][0]
    assert [e.outcome for e in events if isinstance(e, HookEvent)] == ["deny", "pass"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("import sys; sys.exit(1)", "exit code 1"),
        ("print('not json')", "not JSON"),
        ("import time; time.sleep(5)", "timed out"),
    ],
)
def test_command_hook_errors_fail_closed(tmp_path: Path, body: str, expected: str) -> None:
    hook = HookConfig(command=script_hook(tmp_path, "h.py", body), timeout_s=1.0)
    policy = Policy([PolicyRule(action="allow", tool="write_file")])
    agent, _, ws = control_agent(
        tmp_path,
        [call("write_file", {"path": "a.txt", "content": "x"}, "w1"), final("ok")],
        settings=control_settings(tmp_path, hooks=[hook]),
        policy=policy,
    )
    agent.run("x", "t")
    assert not (ws / "a.txt").exists()
    assert expected in tool_results(agent, "t")["w1"][0]


def test_command_hook_json_verdicts_and_side_effect_matching(tmp_path: Path) -> None:
    rewrite = script_hook(
        tmp_path,
        "rewrite.py",
        "import json, sys\n"
        "call = json.load(sys.stdin)\n"
        "args = dict(call['args'], content=call['args']['content'].upper())\n"
        "print(json.dumps({'decision': 'rewrite', 'args': args, 'reason': 'shout'}))\n",
    )
    hooks = [HookConfig(command=rewrite, side_effects=["write"])]
    policy = Policy([PolicyRule(action="allow", tool="write_file")])
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "r.txt").write_text("r")
    script = [
        call("read_file", {"path": "r.txt"}, "r1"),  # a read: not matched
        call("write_file", {"path": "a.txt", "content": "quiet"}, "w1"),
        final("ok"),
    ]
    agent, _, ws = control_agent(
        tmp_path, script, settings=control_settings(tmp_path, hooks=hooks), policy=policy
    )
    events = list(agent.stream("x", "t"))
    assert (ws / "a.txt").read_text() == "QUIET"
    assert [(e.tool, e.outcome, e.reason) for e in events if isinstance(e, HookEvent)] == [
        ("write_file", "rewrite", "shout")
    ]


FORMATTER = textwrap.dedent(
    """\
    import json, pathlib, sys
    call = json.load(sys.stdin)
    path = pathlib.Path(call["workspace"]) / call["args"]["path"]
    path.write_text("\\n".join(line.rstrip() for line in path.read_text().splitlines()) + "\\n")
    print(json.dumps({"replace": call["output"] + " (formatted)"}))
    """
)


def test_after_tool_command_formats_edited_files(tmp_path: Path) -> None:
    hook = HookConfig(
        event="after_tool",
        command=script_hook(tmp_path, "fmt.py", FORMATTER),
        tools=["write_file", "edit_file"],
        name="format",
    )
    policy = Policy([PolicyRule(action="allow", tool="write_file")])
    agent, _, ws = control_agent(
        tmp_path,
        [call("write_file", {"path": "a.py", "content": "x = 1   \ny = 2  "}, "w1"), final("ok")],
        settings=control_settings(tmp_path, hooks=[hook]),
        policy=policy,
    )
    agent.run("x", "t")
    assert (ws / "a.py").read_text() == "x = 1\ny = 2\n"
    assert tool_results(agent, "t")["w1"][0].endswith("(formatted)")
    record = agent.threads.audit("t").tool_calls[0].hooks[0]
    assert record["hook"] == "format" and record["stage"] == "after_tool"


def test_hooks_in_agentkit_toml(tmp_path: Path) -> None:
    from agentkit.config import load_settings

    toml = tmp_path / "agentkit.toml"
    toml.write_text(
        textwrap.dedent(
            f"""\
            [[hooks]]
            event = "before_tool"
            command = {json.dumps(" ".join(script_hook(tmp_path, "lock.py", DENY_LOCK)))}
            tools = ["write_file", "edit_file"]
            timeout_s = 5
            """
        )
    )
    settings = load_settings(config_file=toml)
    assert settings.hooks[0].tools == ["write_file", "edit_file"]


def test_a_formatted_file_rewinds_without_a_conflict(tmp_path: Path) -> None:
    """What an after_tool formatter changes counts as the call's own change:
    rewind restores the file instead of reporting someone else's edit."""
    hook = HookConfig(
        event="after_tool", command=script_hook(tmp_path, "fmt.py", FORMATTER), name="format"
    )
    policy = Policy([PolicyRule(action="allow", tool="write_file")])
    agent, _, ws = control_agent(
        tmp_path,
        [call("write_file", {"path": "a.py", "content": "x = 1   "}, "w1"), final("ok")],
        settings=control_settings(tmp_path, hooks=[hook]),
        policy=policy,
    )
    agent.run("x", "t")
    assert (ws / "a.py").read_text() == "x = 1\n"
    step = agent.file_history.changes("t")[0].step
    report = agent.rewind("t", step - 1)
    assert [(f.action, f.done) for f in report.files] == [("delete", True)]
    assert not (ws / "a.py").exists()


class AllowEverything(Hooks):
    def before_tool(self, call: ToolCall) -> Allow:
        return Allow("trusted hook")


def test_a_hook_allow_never_answers_a_guard(tmp_path: Path) -> None:
    """A protected path's ask (issue 15) is for a human: a hook's Allow
    answers the plain ask of the second write, not the guarded first."""
    script = [
        calls(
            ("write_file", {"path": ".envrc", "content": "export X=1\n"}, "w1"),
            ("write_file", {"path": "plain.txt", "content": "p"}, "w2"),
        ),
        final("ok"),
    ]
    agent, _, ws = control_agent(tmp_path, script, hooks=[AllowEverything()])
    result = agent.run("x", "t")
    assert [p.call_id for p in result.pending] == ["w1"]
    assert "protected path" in result.pending[0].reason
    assert not (ws / ".envrc").exists()
