"""Attack surface: files that run code or steer agentkit. A write to a
protected path (.git/, .envrc, .vscode/, shell rc files, ...) is never
auto-allowed, whatever the rules say: no allow rule, no "always allow", no
allow-everything policy. A human's yes still writes it; ``deny`` still
denies; agentkit's own data stays unwritable even with a yes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import Settings, load_settings
from agentkit.events import Approve
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools
from agentkit.tools.protected import (
    BUILD_FILES,
    PROTECTED_PATHS,
    protected_patterns,
    security_warnings,
)
from agentkit.tools.workspace import Workspace

WRITERS = (
    "write_file",
    "edit_file",
    "copy_file",
    "move_file",
    "sort_lines",
    "dedupe_lines",
    "set_field",
)
ALLOW_ALL: dict[str, Any] = {
    "side_effects": {"write": "allow", "exec": "allow", "network": "allow"},
    "tools": {**dict.fromkeys(WRITERS, "allow"), "shell": "allow"},
    "rules": [{"tool": name, "action": "allow", "paths": ["**"]} for name in WRITERS],
}

# One path per built-in entry (and a nested variant where it matters).
PROTECTED_EXAMPLES = [
    ".git/hooks/pre-commit",
    ".git/config",
    ".git",  # a worktree's .git file
    "vendor/lib/.git/hooks/post-checkout",  # a nested repository
    ".agentkit",
    ".agentkit/policy.toml",
    "agentkit.toml",
    ".envrc",
    "sub/.envrc",
    ".vscode/tasks.json",
    ".idea/workspace.xml",
    ".devcontainer/devcontainer.json",
    ".pre-commit-config.yaml",
    "sitecustomize.py",
    "usercustomize.py",
    ".venv/lib/python3.12/site-packages/evil.pth",
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".gitconfig",
    ".config/fish/config.fish",
    ".config/git/config",
    ".ssh/authorized_keys",
    ".GIT/config",  # case-insensitive file systems
]


def settings_for(root: Path, **extra: Any) -> Settings:
    extra.setdefault("data_dir", root.parent / "data")
    return load_settings(workspace=root, shell_sandbox="off", **extra)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".git" / "config").write_text("[core]\n")
    (ws / "notes").mkdir()
    (ws / "notes" / "hooks").symlink_to("../.git/hooks")
    return ws


@pytest.fixture
def tools(root: Path) -> dict[str, BaseTool]:
    return {t.name: t for t in builtin_tools(settings_for(root))}


NAMED = [p.removeprefix("**/") for p in PROTECTED_PATHS if "*" not in p.removeprefix("**/")]


def test_every_builtin_entry_has_an_example() -> None:
    for pattern in PROTECTED_PATHS:
        ws = Workspace(Path("/"), protected_globs={pattern: "x"})
        assert any(ws.protection(e) for e in PROTECTED_EXAMPLES + NAMED), pattern


@pytest.mark.parametrize("path", PROTECTED_EXAMPLES + NAMED)
def test_no_rule_auto_allows_a_protected_write(tools: dict[str, BaseTool], path: str) -> None:
    policy = Policy.from_dict(ALLOW_ALL)
    policy.add_always_allow("write_file", scope="thread", thread_id="t")
    result = policy.evaluate(tools["write_file"], {"path": path, "content": "x"}, "t")
    assert result.action == "ask", result
    assert "protected path" in result.reason and "only a human" in result.reason


@pytest.mark.parametrize(
    "path", ["notes/a.md", "src/app.py", ".github/README.md", "Makefile", ".bashrc.example"]
)
def test_ordinary_paths_stay_allowed(tools: dict[str, BaseTool], path: str) -> None:
    result = Policy.from_dict(ALLOW_ALL).evaluate(
        tools["write_file"], {"path": path, "content": ""}
    )
    assert result.action == "allow"


def test_protected_through_a_symlink_and_for_edits(tools: dict[str, BaseTool]) -> None:
    policy = Policy.from_dict(ALLOW_ALL)
    via_link = policy.evaluate(tools["write_file"], {"path": "notes/hooks/pre-push", "content": ""})
    assert via_link.action == "ask"
    assert "notes/hooks/pre-push → .git/hooks/pre-push" in via_link.reason
    edit = policy.evaluate(
        tools["edit_file"], {"path": ".git/config", "old_string": "[core]", "new_string": "x"}
    )
    assert edit.action == "ask" and "protected path" in edit.reason


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("copy_file", {"source": "notes/x", "destination": ".envrc"}),
        ("copy_file", {"source": "notes/x", "destination": ".git/hooks/"}),
        ("copy_file", {"source": "notes/x", "destination": "notes/hooks/pre-push"}),
        ("move_file", {"source": "notes/x", "destination": ".bashrc"}),
        ("move_file", {"source": ".git/config", "destination": "notes/config"}),
        ("sort_lines", {"path": ".git/config"}),
        ("sort_lines", {"path": "notes/x", "destination": ".vscode/settings.json"}),
        ("dedupe_lines", {"path": "notes/x", "destination": ".envrc"}),
        ("set_field", {"path": ".vscode/settings.json", "key": "a", "value": "1"}),
        ("set_field", {"path": ".git/config", "key": "core.bare", "value": "true"}),
    ],
)
def test_file_operations_on_protected_paths_ask(
    tools: dict[str, BaseTool], tool: str, args: dict[str, Any]
) -> None:
    """Every path a file operation writes counts: a copy's or a sort's
    destination (a folder's included), and a move's source as well."""
    policy = Policy.from_dict(ALLOW_ALL)
    policy.add_always_allow(tool, scope="thread", thread_id="t")
    result = policy.evaluate(tools[tool], args, "t")
    assert result.action == "ask", (tool, args, result)
    assert "protected path" in result.reason and "only a human" in result.reason


def test_copying_from_a_protected_path_is_a_read(tools: dict[str, BaseTool]) -> None:
    result = Policy.from_dict(ALLOW_ALL).evaluate(
        tools["copy_file"], {"source": ".git/config", "destination": "notes/git-config"}
    )
    assert result.action == "allow", result


@pytest.mark.parametrize(
    "command",
    [
        "cp notes/x .git/hooks/pre-commit",
        "tee .envrc",
        "chmod +x .git/hooks/pre-commit",
        "git config core.hooksPath notes",
        "git config --local alias.st '!sh -c evil'",
        "sed -i s/a/b/ .vscode/settings.json",
        "ln -s /tmp/evil notes/hooks/pre-commit",
        "mv notes/x .bashrc",
    ],
)
def test_shell_writes_to_protected_paths_ask(tools: dict[str, BaseTool], command: str) -> None:
    policy = Policy.from_dict(
        {**ALLOW_ALL, "rules": [{"tool": "shell", "action": "allow", "command_prefixes": ["cp"]}]}
    )
    result = policy.evaluate(tools["shell"], {"command": command})
    assert result.action == "ask", (command, result)
    assert "protected path" in result.reason


@pytest.mark.parametrize(
    "command",
    [
        "git -c core.pager='touch PWNED' -p log",
        "git -c core.fsmonitor=./evil status",
        "git -c alias.st='!sh evil' st",
        "git --config-env=core.sshCommand=EVIL fetch",
    ],
)
def test_git_options_that_run_commands_are_never_auto_allowed(
    tools: dict[str, BaseTool], command: str
) -> None:
    """Graded destructive: no prefix, side-effect or "always" rule allows
    them (only an explicit allow-the-whole-shell rule does, as for rm -rf)."""
    policy = Policy.from_dict(
        {
            "side_effects": {"exec": "allow"},
            "rules": [{"tool": "shell", "action": "allow", "command_prefixes": ["git"]}],
        }
    )
    result = policy.evaluate(tools["shell"], {"command": command})
    assert result.action == "ask"
    assert "destructive" in result.reason


def test_reading_and_listing_protected_paths_is_untouched(tools: dict[str, BaseTool]) -> None:
    policy = Policy.default()
    assert policy.evaluate(tools["read_file"], {"path": ".git/config"}).action == "allow"
    shell = Policy.from_dict(
        {"rules": [{"tool": "shell", "action": "allow", "command_prefixes": ["git config"]}]}
    )
    assert shell.evaluate(tools["shell"], {"command": "git config --get user.name"}).action == (
        "allow"
    )


def test_deny_still_wins(tools: dict[str, BaseTool]) -> None:
    policy = Policy.from_dict({"rules": [{"tool": "write_file", "action": "deny"}]})
    assert policy.evaluate(tools["write_file"], {"path": ".envrc", "content": ""}).action == "deny"


def test_a_human_yes_writes_it(root: Path, tools: dict[str, BaseTool]) -> None:
    model = ScriptedChatModel(
        script=[call("write_file", {"path": ".envrc", "content": "export A=1\n"}), final("ok")]
    )
    agent = Agent(
        model=model,
        tools=list(tools.values()),
        policy=Policy.from_dict(ALLOW_ALL),
        checkpointer=InMemorySaver(),
        settings=settings_for(root),
        planning=False,
    )
    pending = agent.run("set up direnv")
    assert pending.status == "needs_approval"
    assert "protected path" in pending.pending[0].reason
    done = agent.resume(pending.thread_id, [Approve(call_id=pending.pending[0].call_id)])
    assert done.status == "finished"
    assert (root / ".envrc").read_text() == "export A=1\n"


def test_agentkit_data_stays_unwritable_even_with_a_yes(root: Path) -> None:
    settings = settings_for(root, data_dir=root / ".agentkit")
    (root / ".agentkit").mkdir()
    tools = {t.name: t for t in builtin_tools(settings)}
    out = tools["write_file"].invoke(
        {
            "type": "tool_call",
            "name": "write_file",
            "id": "1",
            "args": {"path": ".agentkit/x", "content": ""},
        }
    )
    assert out.status == "error" and "agentkit's own data" in out.content
    (root / "a.txt").write_text("a\n")
    for name, args in [
        ("copy_file", {"source": "a.txt", "destination": ".agentkit/x"}),
        ("move_file", {"source": "a.txt", "destination": ".agentkit/"}),
        ("sort_lines", {"path": "a.txt", "destination": ".agentkit/x"}),
        ("set_field", {"path": ".agentkit/x.json", "key": "a", "value": "1"}),
    ]:
        out = tools[name].invoke({"type": "tool_call", "name": name, "id": "1", "args": args})
        assert out.status == "error" and "agentkit's own data" in out.content, name
    assert list((root / ".agentkit").iterdir()) == [] and (root / "a.txt").exists()


# --- configuration --------------------------------------------------------------------------


def test_settings_add_and_remove_entries(root: Path) -> None:
    settings = settings_for(
        root,
        protected_paths=["deploy/*.sh"],
        protect_build_files=True,
        unprotect_paths=["**/.vscode/**", "**/nonsense/**"],
    )
    tools = {t.name: t for t in builtin_tools(settings)}
    policy = Policy.from_dict(ALLOW_ALL)

    def action(path: str) -> str:
        return policy.evaluate(tools["write_file"], {"path": path, "content": ""}).action

    assert action("deploy/release.sh") == "ask"
    assert action("deploy/sub/release.sh") == "allow"  # `*` stays in one directory
    assert action("Makefile") == "ask" and action("sub/package.json") == "ask"
    assert action(".github/workflows/ci.yml") == "ask"
    assert action(".vscode/tasks.json") == "allow"  # removed on purpose
    assert action(".idea/x.xml") == "ask"
    warnings = security_warnings(settings)
    assert any("**/.vscode/**" in w and "without asking" in w for w in warnings)
    assert any("'**/nonsense/**' is not a built-in protected path" in w for w in warnings)
    assert security_warnings(settings_for(root)) == []


def test_build_files_are_an_extension() -> None:
    assert not set(BUILD_FILES) & set(protected_patterns())
    assert set(BUILD_FILES) <= set(protected_patterns(build_files=True))


def test_policy_file_inside_the_workspace_is_protected(root: Path) -> None:
    policy_file = root / "conf" / "rules.toml"
    policy_file.parent.mkdir()
    policy_file.write_text("")
    ws = Workspace.from_settings(settings_for(root, policy_file=policy_file))
    assert ws.target("conf/rules.toml", write=True).protected


def test_docs_list_every_protected_path() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "security.md").read_text()
    missing = [
        p
        for p in [*PROTECTED_PATHS, *BUILD_FILES]
        if f"`{p.removeprefix('**/')}`" not in doc and f"`{p}`" not in doc
    ]
    assert missing == []
