"""`agentkit tools list` and `agentkit tools call`, through the real entry point."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentkit.cli import main
from agentkit.tools.registry import BUILTIN_NAMES


def run_cli(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["agentkit", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "hello.txt").write_text("hello\nworld\n")
    (tmp_path / "secret.txt").write_text("secret")
    monkeypatch.chdir(proj)
    monkeypatch.delenv("AGENTKIT_CONFIG", raising=False)
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    return proj


def test_list_json_has_every_builtin(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["tools", "list", "--json"], monkeypatch, capsys)
    assert code == 0
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    # what the agent gets: the built-ins, then the knowledge base's tools
    assert list(rows) == [*BUILTIN_NAMES, "search_docs", "remember", "recall"]
    assert rows["remember"]["source"] == "memory" and rows["remember"]["side_effects"] == ["write"]
    assert rows["read_file"]["side_effects"] == ["read"] and rows["read_file"]["policy"].startswith(
        "allow"
    )
    assert rows["write_file"]["policy"].startswith("ask")
    assert rows["shell"]["side_effects"] == ["exec"]
    assert rows["http_get"]["side_effects"] == ["network"]
    for name in ("count", "read_field"):
        assert rows[name]["side_effects"] == ["read"] and rows[name]["policy"].startswith("allow")
    for name in ("copy_file", "move_file", "sort_lines", "dedupe_lines"):
        assert rows[name]["side_effects"] == ["write"] and rows[name]["policy"].startswith("ask")


def test_list_uses_policy_file(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("agentkit.approvals.policy")
    policy = tmp_path / "policy.toml"
    policy.write_text('[tools]\nshell = "deny"\n')
    monkeypatch.setenv("AGENTKIT_POLICY_FILE", str(policy))
    code, out, _ = run_cli(["tools", "list", "--json"], monkeypatch, capsys)
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    assert rows["shell"]["policy"].startswith("deny")


def test_list_table(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["tools", "list"], monkeypatch, capsys)
    assert code == 0 and "read_file" in out and "side effects" in out
    row = {
        name: next(line for line in out.splitlines() if f" {name} " in line)
        for name in BUILTIN_NAMES
    }
    for name in ("copy_file", "move_file", "sort_lines", "dedupe_lines"):
        assert "write" in row[name], row[name]
    assert "read" in row["read_field"] and "read" in row["count"]


def test_call_copy_and_count(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = '{"source": "hello.txt", "destination": "backup/hello.txt"}'
    code, out, _ = run_cli(["tools", "call", "copy_file", "--args", args], monkeypatch, capsys)
    assert code == 0 and out == "copied hello.txt to backup/hello.txt (2 lines)\n"
    assert (project / "backup" / "hello.txt").read_text() == "hello\nworld\n"
    code, out, _ = run_cli(
        ["tools", "call", "count", "--args", '{"path": "hello.txt"}'], monkeypatch, capsys
    )
    assert code == 0 and out.splitlines()[1] == "hello.txt has 2 words"


def test_call_prints_result(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        ["tools", "call", "read_file", "--args", '{"path": "hello.txt", "start_line": 2}'],
        monkeypatch,
        capsys,
    )
    assert code == 0 and out == "hello.txt (lines 2-2 of 2)\nworld\n"


def test_call_writes_without_approval(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        ["tools", "call", "write_file", "--args", '{"path": "n.md", "content": "x"}'],
        monkeypatch,
        capsys,
    )
    assert code == 0 and (project / "n.md").read_text() == "x"


def test_call_tool_error_is_one_line_exit_1(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["tools", "call", "read_file", "--args", '{"path": "../secret.txt"}'], monkeypatch, capsys
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(
        "error: '../secret.txt' is outside the workspace"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["threads", "history", "t", "--limit", "-1"], "Invalid value for '--limit'"),
        (["run", "x", "--max-steps", "abc"], "Invalid value for '--max-steps'"),
        (["tools", "--nope"], "No such option: --nope"),
    ],
)
def test_usage_errors_are_click_messages_not_tracebacks(
    args: list[str],
    message: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and out == ""
    assert f"Error: {message}" in err and "--help" in err
    assert "Traceback" not in err


def test_call_shell_timeout_exit_1(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENTKIT_TOOL_TIMEOUT_S", "0.5")
    monkeypatch.setenv("AGENTKIT_SHELL_SANDBOX", "off")
    code, _, err = run_cli(
        ["tools", "call", "shell", "--args", '{"command": "echo a; sleep 5"}'], monkeypatch, capsys
    )
    assert code == 1 and err.startswith("error: timed out after 0.5s") and err.count("\n") == 1


def test_call_with_workspace_option(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "o.txt").write_text("other")
    code, out, _ = run_cli(
        ["tools", "call", "list_dir", "--workspace", str(other)], monkeypatch, capsys
    )
    assert code == 0 and out.strip() == "o.txt (5 bytes)"


@pytest.mark.parametrize(
    "args,message",
    [
        (["tools", "call", "nope"], "no tool named 'nope'"),
        (["tools", "call", "read_file", "--args", "{bad"], "--args is not valid JSON"),
        (["tools", "call", "read_file", "--args", "[1]"], "--args must be a JSON object"),
    ],
)
def test_call_usage_errors_exit_2(
    args: list[str],
    message: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and message in err


def test_call_bad_arguments(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["tools", "call", "read_file", "--args", "{}"], monkeypatch, capsys)
    assert code == 1 and "invalid arguments: path: Field required" in err
