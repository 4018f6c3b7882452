"""builtin_tools(), user tools and their declarations."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage

from agentkit.approvals.policy import Policy
from agentkit.config import load_settings
from agentkit.errors import ConfigError
from agentkit.tools import BUILTIN_NAMES, builtin_tools, load_user_tools
from agentkit.tools.base import danger_of, default_policy_of, preview_of, side_effects_of
from agentkit.tools.registry import all_tools, tool_source

EXPECTED_EFFECTS = {
    "read_file": {"read"},
    "list_dir": {"read"},
    "glob": {"read"},
    "grep": {"read"},
    "count": {"read"},
    "read_field": {"read"},
    "write_file": {"write"},
    "edit_file": {"write"},
    "copy_file": {"write"},
    "move_file": {"write"},
    "sort_lines": {"write"},
    "dedupe_lines": {"write"},
    "set_field": {"write"},
    "shell": {"exec"},
    "calculator": {"read"},
    "http_get": {"network"},
    "current_time": {"read"},
    "think": {"read"},
}


def test_builtin_names_and_effects(tmp_path: Path) -> None:
    tools = builtin_tools(load_settings(), workspace=tmp_path)
    assert [t.name for t in tools] == list(BUILTIN_NAMES)
    for t in tools:
        assert side_effects_of(t) == EXPECTED_EFFECTS[t.name], t.name
        assert t.description and tool_source(t) == "builtin"
    with_preview = {
        t.name
        for t in tools
        if preview_of(
            t,
            {
                "path": "x",
                "content": "",
                "command": "ls",
                "url": "http://x",
                "key": "k",
                "value": "v",
            },
        )
    }
    writers = {
        "write_file",
        "edit_file",
        "copy_file",
        "move_file",
        "sort_lines",
        "dedupe_lines",
        "set_field",
    }
    assert with_preview == writers | {"shell", "http_get"}
    assert {t.name for t in tools if "write" in side_effects_of(t)} == writers
    shell = next(t for t in tools if t.name == "shell")
    assert danger_of(shell, {"command": "rm -rf /"}) == "destructive"


def test_read_only_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTKIT_CONFIG", raising=False)
    tools = builtin_tools(read_only=True)  # the agent core's zero-argument default
    assert [t.name for t in tools] == [
        "read_file",
        "list_dir",
        "glob",
        "grep",
        "count",
        "read_field",
        "calculator",
        "current_time",
        "think",
    ]
    assert all(side_effects_of(t) == {"read"} for t in tools)


def test_workspace_from_settings(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    tools = {t.name: t for t in builtin_tools(load_settings(workspace=tmp_path))}
    assert tools["list_dir"].invoke({"path": "."}) == "f.txt (1 bytes)"


def test_missing_workspace_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        builtin_tools(load_settings(workspace=tmp_path / "missing"))


@pytest.fixture
def fixtures_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent / "fixtures"))


def test_user_tools_module_and_attr(fixtures_on_path: None, tmp_path: Path) -> None:
    settings = load_settings(user_tools=["user_tools_example"], workspace=tmp_path)
    tools = {t.name: t for t in load_user_tools(settings)}
    assert set(tools) == {"shout", "word_count"}
    assert side_effects_of(tools["shout"]) == {"exec"}  # undeclared: exec (ask)
    assert side_effects_of(tools["word_count"]) == {"read"}
    assert tool_source(tools["shout"]) == "user"
    message = tools["shout"].invoke(
        {"type": "tool_call", "name": "shout", "args": {"text": "hi"}, "id": "t"}
    )
    assert isinstance(message, ToolMessage) and message.content == "HI"
    policy = Policy.default()
    assert policy.label(tools["shout"]) == "ask (exec: ask (default))"
    assert policy.label(tools["word_count"]) == "allow (read: allow (default))"
    only = load_user_tools(load_settings(user_tools=["user_tools_example:word_count"]))
    assert [t.name for t in only] == ["word_count"]
    assert len(all_tools(settings)) == len(BUILTIN_NAMES) + 2


def test_user_tools_errors(fixtures_on_path: None) -> None:
    with pytest.raises(ConfigError, match="cannot import"):
        load_user_tools(load_settings(user_tools=["no_such_module_xyz"]))
    with pytest.raises(ConfigError, match="not a LangChain tool"):
        load_user_tools(load_settings(user_tools=["user_tools_example:declare"]))


def test_duplicate_names_refused(
    fixtures_on_path: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = type(sys)("dup_tools")
    from langchain_core.tools import tool

    @tool
    def read_file(path: str) -> str:
        """Shadow the built-in."""
        return path

    module.read_file = read_file  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dup_tools", module)
    with pytest.raises(ConfigError, match="two tools are named 'read_file'"):
        all_tools(load_settings(user_tools=["dup_tools"], workspace=tmp_path))


def test_default_policy_metadata_roundtrip(tmp_path: Path) -> None:
    for t in builtin_tools(load_settings(), workspace=tmp_path):
        assert default_policy_of(t) is None  # built-ins leave the decision to the policy
