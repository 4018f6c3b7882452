"""Policy evaluation: defaults, rules by tool and side effect, argument
patterns, deny wins, destructive calls always ask, TOML loading, and
"always allow" records."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.tools import StructuredTool

from agentkit.approvals.policy import Policy, PolicyRule
from agentkit.errors import ConfigError
from agentkit.tools.base import declare


def _tool(
    name: str, effects: list[str] | None, danger: str | None = None, policy: str | None = None
):
    def fn(path: str = "", command: str = "") -> str:
        return ""

    tool = StructuredTool.from_function(fn, name=name, description=name)
    if effects is not None:
        declare(tool, effects, danger=(lambda a: danger) if danger else None, policy=policy)  # type: ignore[arg-type]
    return tool


READ = _tool("read_file", ["read"])
WRITE = _tool("write_file", ["write"])
SHELL = _tool("shell", ["exec"], danger=None)
RM = _tool("shell", ["exec"], danger="destructive")
UNDECLARED = _tool("mystery", None)
FETCH = _tool("fetch", ["network", "read"])


def test_defaults() -> None:
    policy = Policy.default()
    assert policy.evaluate(READ, {"path": "a"}).action == "allow"
    for tool in (WRITE, SHELL, FETCH):
        assert policy.evaluate(tool, {}).action == "ask"
    verdict = policy.evaluate(UNDECLARED, {})
    assert (verdict.action, verdict.reason) == ("ask", "exec: ask (default)")  # undeclared = exec


def test_toml_file(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text(
        """
[side_effects]
network = "deny"
write = "ask"

[tools]
shell = "ask"

[[rules]]
tool = "write_file"
action = "allow"
paths = ["notes/**", "*.md"]

[[rules]]
tool = "shell"
action = "allow"
command_prefixes = ["git status", "ls"]
"""
    )
    policy = Policy.from_toml(file)
    allow = lambda tool, args: policy.evaluate(tool, args).action  # noqa: E731
    assert allow(WRITE, {"path": "notes/a/b.txt"}) == "allow"
    assert allow(WRITE, {"path": "README.md"}) == "allow"
    assert allow(WRITE, {"path": "docs/README.md"}) == "ask"  # * does not cross /
    assert allow(WRITE, {"path": "notes/../../etc/passwd"}) == "ask"  # no escaping by ..
    assert allow(WRITE, {"path": "src/main.py"}) == "ask"
    assert allow(SHELL, {"command": "git status --short"}) == "allow"
    assert allow(SHELL, {"command": "ls"}) == "allow"
    assert allow(SHELL, {"command": "lsblk"}) == "ask"  # word boundary
    assert allow(SHELL, {"command": "git status; rm -rf ~"}) == "ask"  # chained commands
    assert allow(SHELL, {"command": "ls $(rm -rf ~)"}) == "ask"
    assert allow(SHELL, {"command": "git push"}) == "ask"
    assert allow(FETCH, {}) == "deny"  # strictest side effect


def test_deny_wins_over_allow() -> None:
    policy = Policy(
        [
            PolicyRule(action="allow", tool="write_file"),
            PolicyRule(action="deny", side_effect="write", paths=("secrets/**",)),
        ]
    )
    assert policy.evaluate(WRITE, {"path": "a.txt"}).action == "allow"
    verdict = policy.evaluate(WRITE, {"path": "secrets/key"})
    assert verdict.action == "deny" and "secrets/**" in verdict.reason


def test_a_call_with_two_paths_needs_both_allowed_and_either_denied() -> None:
    """copy_file-like calls (source and destination): an allow rule covers
    the call only when it covers every path, a deny or ask rule when it
    covers any of them."""

    def fn(source: str = "", destination: str = "") -> str:
        return ""

    copy = declare(StructuredTool.from_function(fn, name="copy", description="copy"), ["write"])
    policy = Policy(
        [
            PolicyRule(action="allow", tool="copy", paths=("notes/**",)),
            PolicyRule(action="deny", tool="copy", paths=("secrets/**",)),
            PolicyRule(action="ask", side_effect="write", paths=("*.lock",)),
        ]
    )

    def action(source: str, destination: str) -> str:
        return policy.evaluate(copy, {"source": source, "destination": destination}).action

    assert action("notes/a.md", "notes/b.md") == "allow"
    assert action("notes/a.md", "out/b.md") == "ask"
    assert action("secrets/key", "notes/key") == "deny"
    assert action("notes/a.md", "secrets/a.md") == "deny"
    assert action("notes/a.md", "yarn.lock") == "ask"


def test_patterned_rule_beats_tool_wide_rule() -> None:
    policy = Policy(
        [
            PolicyRule(action="ask", tool="shell"),
            PolicyRule(action="allow", tool="shell", command_prefixes=("pytest",)),
        ]
    )
    assert policy.evaluate(SHELL, {"command": "pytest -q"}).action == "allow"
    assert policy.evaluate(SHELL, {"command": "make"}).action == "ask"


def test_destructive_call_is_never_auto_allowed_by_a_pattern() -> None:
    policy = Policy(
        [PolicyRule(action="allow", tool="shell", command_prefixes=("rm",))],
        side_effects={"exec": "allow"},
    )
    verdict = policy.evaluate(RM, {"command": "rm -rf build"})
    assert verdict.action == "ask" and "destructive" in verdict.reason
    # a side-effect allow does not cover it either
    assert Policy(side_effects={"exec": "allow"}).evaluate(RM, {"command": "rm x"}).action == "ask"
    # an explicit tool-wide allow written by the user does
    assert (
        Policy([PolicyRule(action="allow", tool="shell")]).evaluate(RM, {"command": "rm x"}).action
        == "allow"
    )


def test_tool_default_applies_when_no_rule_names_the_tool() -> None:
    mcp = _tool("mcp_search", ["network"], policy="allow")
    assert Policy.default().evaluate(mcp, {}).action == "allow"
    assert Policy([PolicyRule(action="deny", tool="mcp_*")]).evaluate(mcp, {}).action == "deny"


def test_thread_rules_apply_to_their_thread_only() -> None:
    policy = Policy.default()
    rule = policy.add_always_allow("write_file", scope="thread", thread_id="t1")
    assert policy.evaluate(WRITE, {"path": "x"}, thread_id="t1").action == "allow"
    assert policy.evaluate(WRITE, {"path": "x"}, thread_id="t2").action == "ask"
    assert (
        policy.add_always_allow("write_file", scope="thread", thread_id="t1").id == rule.id
    )  # no duplicates
    policy.revoke(rule.id)
    assert policy.evaluate(WRITE, {"path": "x"}, thread_id="t1").action == "ask"
    with pytest.raises(KeyError):
        policy.revoke(rule.id)


def test_project_always_allow_is_written_to_the_policy_file_and_revocable(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text('# my policy\n[tools]\nfetch = "deny"\n')
    policy = Policy.from_toml(file)
    rule = policy.add_always_allow("shell", command_prefixes=["make test"], scope="project")
    reloaded = Policy.from_toml(file)
    assert reloaded.evaluate(SHELL, {"command": "make test"}).action == "allow"
    assert rule.id in {r.id for r in reloaded.list_rules()}
    reloaded.revoke(rule.id)
    text = file.read_text()
    assert "make test" not in text and "# my policy" in text and 'fetch = "deny"' in text
    assert Policy.from_toml(file).evaluate(SHELL, {"command": "make test"}).action == "ask"


def test_project_scope_needs_a_file() -> None:
    with pytest.raises(ConfigError, match="no project policy file"):
        Policy.default().add_always_allow("shell", scope="project")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tools]\nshell = 'maybe'",
            r"tools.shell: Input should be 'allow', 'ask' or 'deny', got 'maybe'",
        ),
        ("[side_effects]\nteleport = 'allow'", r"side_effects.teleport: Input should be 'read'"),
        ("[[rules]]\naction = 'allow'", r"rules\[0\]: a rule needs `tool` or `side_effect`"),
        (
            "[[rules]]\ntool = 'x'\naction = 'allow'\nglobs = ['a']",
            r"rules\[0\]: unknown key 'globs'",
        ),
        (
            "[[rules]]\ntool = 'x'\naction = 'allow'\npaths = [1]",
            r"rules\[0\].paths\[0\]: Input should be a valid string",
        ),
        ("[oops]\n", "unknown key 'oops'"),
        ("not toml =", "invalid TOML"),
    ],
)
def test_bad_policy_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "p.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Policy.from_toml(file)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Policy.from_toml(tmp_path / "nope.toml")
