"""Session control from the command line, with a scripted model, the real
built-in tools in a temporary workspace and SQLite threads: ``--mode`` on
``run``/``resume``, ``resume --approve-plan``, ``threads rewind``, ``policy
rules|revoke``, ``[[hooks]]`` in the ``--json`` stream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.cli import run as run_cli
from agentkit.errors import AgentkitError
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTKIT_WORKSPACE", str(ws))
    monkeypatch.chdir(ws)
    model = ScriptedChatModel()
    monkeypatch.setattr(run_cli, "build_model", lambda settings: model)
    monkeypatch.setattr(run_cli, "build_tools", lambda settings, read_only: builtin_tools(settings))
    return {"model": model, "ws": ws, "dir": tmp_path}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def write(path: str, content: str, call_id: str) -> Any:
    return call("write_file", {"path": path, "content": content}, call_id)


def test_dont_ask_denies_instead_of_waiting(env: dict[str, Any]) -> None:
    env["model"].script[:] = [write("a.txt", "x", "w1"), final("gave up")]
    out = invoke("run", "write", "--json", "--no-plan", "--thread", "t", "--mode", "dont-ask")
    assert out.exit_code == 0, out.output
    events = lines(out.output)
    denied = next(e for e in events if e["kind"] == "tool_result")
    assert denied["status"] == "denied" and "mode dont-ask" in denied["output"]
    assert events[-1]["mode"] == "dont-ask" and not (env["ws"] / "a.txt").exists()


def test_accept_edits_then_rewind_from_the_cli(env: dict[str, Any]) -> None:
    (env["ws"] / "a.txt").write_text("zero\n")
    env["model"].script[:] = [
        write("a.txt", "one\n", "w1"),
        write("b.txt", "new\n", "w2"),
        final("done"),
    ]
    out = invoke("run", "edit", "--no-plan", "--thread", "t", "--mode", "accept-edits")
    assert out.exit_code == 0, out.output
    assert (env["ws"] / "a.txt").read_text() == "one\n"
    points = json.loads(invoke("threads", "rewind", "t", "--json").output)
    assert [p["paths"] for p in points] == [["b.txt"], ["a.txt"]]
    listed = invoke("threads", "rewind", "t")
    assert "a.txt" in listed.output and "--to" in listed.output
    first = points[-1]["step"]
    dry = invoke("threads", "rewind", "t", "--to", str(first - 1), "--dry-run")
    assert dry.exit_code == 0 and "restore" in dry.output and "delete" in dry.output
    assert (env["ws"] / "b.txt").exists(), "a dry run changes nothing"
    (env["ws"] / "a.txt").write_text("a human's edit\n")
    done = invoke("threads", "rewind", "t", "--to", str(first - 1), "--json")
    assert done.exit_code == 1, "a conflict is reported with exit code 1"
    report = json.loads(done.output)
    assert {f["path"]: f["action"] for f in report["files"]} == {
        "a.txt": "conflict",
        "b.txt": "delete",
    }
    assert (env["ws"] / "a.txt").read_text() == "a human's edit\n"
    assert not (env["ws"] / "b.txt").exists()
    forked = invoke("threads", "rewind", "t", "--to", str(first - 1), "--conversation")
    assert "conversation forked:" in forked.output


def test_rewind_a_copy_and_a_move_from_the_cli(env: dict[str, Any]) -> None:
    ws = env["ws"]
    (ws / "plan.md").write_text("# plan\n")
    env["model"].script[:] = [
        call("copy_file", {"source": "plan.md", "destination": "backup/plan.md"}, "c1"),
        call("move_file", {"source": "plan.md", "destination": "done/plan.md"}, "m1"),
        final("done"),
    ]
    out = invoke("run", "tidy", "--no-plan", "--thread", "t", "--mode", "accept-edits")
    assert out.exit_code == 0, out.output
    assert not (ws / "plan.md").exists() and (ws / "done/plan.md").exists()
    points = json.loads(invoke("threads", "rewind", "t", "--json").output)
    assert [p["paths"] for p in points] == [["plan.md", "done/plan.md"], ["backup/plan.md"]]
    done = invoke("threads", "rewind", "t", "--to", str(points[-1]["step"] - 1), "--json")
    assert done.exit_code == 0, done.output
    assert {f["path"]: f["action"] for f in json.loads(done.output)["files"]} == {
        "plan.md": "restore",
        "done/plan.md": "delete",
        "backup/plan.md": "delete",
    }
    assert (ws / "plan.md").read_text() == "# plan\n"
    assert not (ws / "done/plan.md").exists() and not (ws / "backup/plan.md").exists()


def test_rewind_of_an_unknown_thread_is_one_line(env: dict[str, Any]) -> None:
    for args in (("threads", "rewind", "nope"), ("threads", "rewind", "nope", "--to", "1")):
        out = invoke(*args)
        assert isinstance(out.exception, AgentkitError), out.output
        assert "no thread 'nope'" in str(out.exception)


def test_plan_mode_then_approve_the_plan(env: dict[str, Any]) -> None:
    env["model"].script[:] = [
        write("a.txt", "x", "w1"),  # refused in plan mode, never asked
        final("1. write a.txt"),
        write("a.txt", "x", "w2"),  # after the plan is approved: asks (default mode)
        final("wrote it"),
    ]
    out = invoke("run", "plan it", "--no-plan", "--thread", "t", "--mode", "plan")
    assert out.exit_code == 0, out.output
    assert "--approve-plan" in out.output and not (env["ws"] / "a.txt").exists()
    approved = invoke("resume", "t", "--approve-plan", "--json")
    assert approved.exit_code == run_cli.EXIT_NEEDS_APPROVAL, approved.output
    result = lines(approved.output)[-1]
    assert result["mode"] == "default" and result["pending"][0]["mode"] == "default"


def test_resume_mode_switch_and_bad_mode(env: dict[str, Any]) -> None:
    env["model"].script[:] = [write("a.txt", "x", "w1"), final("done")]
    assert invoke("run", "w", "--no-plan", "--thread", "t").exit_code == 3
    bad = invoke("run", "w", "--no-plan", "--mode", "yolo")
    assert isinstance(bad.exception, AgentkitError) and "unknown mode 'yolo'" in str(bad.exception)
    out = invoke("resume", "t", "--approve", "w1", "--mode", "accept-edits", "--json")
    assert out.exit_code == 0 and lines(out.output)[-1]["mode"] == "accept-edits"
    assert "mode: accept-edits" in invoke("threads", "show", "t").output
    assert json.loads(invoke("threads", "show", "t", "--json").output)["mode"] == "accept-edits"


def test_policy_rules_lists_and_revokes_always_allows(env: dict[str, Any]) -> None:
    env["model"].script[:] = [write("notes/a.md", "x", "w1"), final("done")]
    assert invoke("run", "w", "--no-plan", "--thread", "t").exit_code == 3
    assert invoke("resume", "t", "--approve", "w1", "--always", "project").exit_code == 0
    rules = json.loads(invoke("policy", "rules", "--always", "--json").output)
    assert len(rules) == 1 and rules[0]["scope"] == "project"
    assert "notes/a.md" in rules[0]["rule"] and rules[0]["workspace"] == str(env["ws"].resolve())
    table = invoke("policy", "rules")
    assert rules[0]["id"] in table.output
    assert invoke("policy", "revoke", rules[0]["id"]).exit_code == 0
    assert json.loads(invoke("policy", "rules", "--always", "--json").output) == []
    missing = invoke("policy", "revoke", "nope")
    assert isinstance(missing.exception, AgentkitError)


def test_command_hooks_show_in_the_json_stream(env: dict[str, Any]) -> None:
    config = env["dir"] / "agentkit.toml"
    config.write_text(
        '[[hooks]]\nevent = "before_tool"\ntools = ["write_file"]\nname = "no-locks"\n'
        "command = \"grep -q '\\\\.lock\\\"' && { echo 'lock files are generated' >&2; exit 2; }"
        ' || exit 0"\n'
    )
    env["model"].script[:] = [write("poetry.lock", "x", "w1"), final("ok")]
    out = invoke(
        "run",
        "w",
        "--json",
        "--no-plan",
        "--thread",
        "t",
        "--mode",
        "accept-edits",
        "-c",
        str(config),
    )
    assert out.exit_code == 0, out.output
    hooks = [e for e in lines(out.output) if e["kind"] == "hook"]
    assert hooks and hooks[0]["hook"] == "no-locks" and hooks[0]["outcome"] == "deny"
    assert "lock files are generated" in hooks[0]["reason"]
    assert not (env["ws"] / "poetry.lock").exists()


def test_threads_compact(env: dict[str, Any]) -> None:
    from langchain_core.messages import AIMessage

    env["model"].script[:] = [final(f"answer {i}") for i in range(5)]
    for i in range(5):
        assert invoke("run", f"question {i}", "--no-plan", "--thread", "t").exit_code == 0
    env["model"].script.append(AIMessage(content="Five questions were answered."))
    out = invoke("threads", "compact", "t", "--json")
    assert out.exit_code == 0, out.output
    event = json.loads(out.output)
    assert event["kind"] == "compaction" and event["trigger"] == "manual"
    assert event["summarized"] >= 2 and "Five questions were answered." in event["summary"]
    assert len(invoke("threads", "show", "t", "--json").output) > 0
    again = invoke("threads", "compact", "nope")
    assert isinstance(again.exception, AgentkitError)
