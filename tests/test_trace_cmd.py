"""``agentkit trace THREAD``: the timeline tree and the time split, from the
trace file and from the checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_support import make_agent, settings_for
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.events import Approve
from agentkit.testing import call, final
from agentkit.tracing.files import read_spans
from agentkit.tracing.timeline import from_checkpoints, from_spans, split


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(data))
    script = [call("write_file", {"path": "a.txt", "content": "hi"}, "w1"), final("done")]
    agent, _, _ = make_agent(tmp_path, script, settings=settings_for(data, tracing="file"))
    agent.run("write a.txt", thread_id="t1")
    agent.resume("t1", [Approve(call_id="w1")])
    return data


def test_tree_from_the_trace_file(traced: Path) -> None:
    (root,) = from_spans(read_spans(traced / "traces.jsonl"), "t1")
    names = [s.name for s in root.walk()]
    assert names[0] == "invoke_agent agentkit"
    assert names.count("invoke_agent agentkit") == 2  # the resume hangs under the task
    assert "wait for approval" in names and "execute_tool write_file" in names
    times = split(root)
    assert times["human"] > 0 and times["model"] > 0 and times["tools"] > 0
    assert abs(sum(times[k] for k in ("model", "tools", "human", "other")) - times["total"]) < 1e-6


def test_tree_from_the_checkpoints(traced: Path) -> None:
    agent, _, _ = make_agent(traced.parent, [], settings=settings_for(traced))
    (root,) = from_checkpoints(agent.graph, "t1", agent.storage.ledger)
    names = [s.name for s in root.walk()]
    assert names[:3] == ["invoke_agent agentkit", "plan", "act"]
    assert "wait for approval" in names and "execute_tool write_file" in names
    assert root.attributes["agentkit.run.status"] == "finished"


def test_cli_prints_tree_and_split(traced: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["trace", "t1"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "invoke_agent agentkit" in result.output and "wait for approval" in result.output
    assert "waiting for a human" in result.output and "trace file" in result.output
    cps = runner.invoke(app, ["trace", "t1", "--source", "checkpoints"], env={"COLUMNS": "160"})
    assert cps.exit_code == 0, cps.output
    assert "(checkpoints)" in cps.output and "execute_tool write_file" in cps.output


def test_spans_of_a_killed_process_hang_under_a_stand_in(tmp_path: Path) -> None:
    from agentkit.tracing.files import SpanRecord

    spans = [
        SpanRecord("t" * 32, "a" * 16, "dead" * 4, "act", 1.0, 2.0),
        SpanRecord(
            "t" * 32,
            "b" * 16,
            "dead" * 4,
            "invoke_agent agentkit",
            5.0,
            6.0,
            {"gen_ai.conversation.id": "x"},
        ),
    ]
    (root,) = from_spans(spans, "x")
    assert root.attributes["agentkit.run.status"] == "did not finish"
    assert [c.name for c in root.children] == ["act", "invoke_agent agentkit"]
