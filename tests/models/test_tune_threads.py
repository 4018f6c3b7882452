"""A user's thread → training examples: approved calls are positives, a
human's edited arguments are the label, rejected calls are left out, and
each prompt is rebuilt from the thread's checkpoint by the agent's own
rendering (the bundled model's prompt format, steering, forced prefix)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.agent import Agent
from agentkit.cli import app
from agentkit.config import load_settings
from agentkit.events import Approve, Edit, Reject
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools
from agentkit.tune.examples import read_jsonl
from agentkit.tune.threads import LabelRules, thread_examples

pytestmark = pytest.mark.model

TASK = "Read notes.txt and write its colour to out.txt"


@pytest.fixture
def thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A thread on SQLite: a read the policy allowed, a write the human
    edited, a write rejected, a write approved, a final answer."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "notes.txt").write_text("colour: green\n")
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTKIT_WORKSPACE", str(ws))
    monkeypatch.chdir(ws)
    settings = load_settings()
    model = ScriptedChatModel(
        small=True,
        script=[
            call("read_file", {"path": "notes.txt"}),
            call("write_file", {"path": "out.txt", "content": "grene"}),
            call("write_file", {"path": "notes.txt", "content": "colour"}),
            call("write_file", {"path": "out.txt", "content": "green"}),
            final("Wrote green to out.txt."),
        ],
    )
    agent = Agent(model=model, tools=builtin_tools(settings, workspace=ws), settings=settings)
    result = agent.run(TASK)
    edited = {"path": "out.txt", "content": "green"}
    result = agent.resume(result.thread_id, [Edit(call_id=result.pending[0].call_id, args=edited)])
    result = agent.resume(
        result.thread_id, [Reject(call_id=result.pending[0].call_id, feedback="not notes.txt")]
    )
    result = agent.resume(result.thread_id, [Approve(call_id=result.pending[0].call_id)])
    assert result.status == "finished"
    store = Agent(model=lambda: None, tools=[], settings=settings)  # type: ignore[arg-type,return-value]
    return {"id": result.thread_id, "store": store, "settings": settings}


def test_approved_edited_and_rejected_calls(thread: dict[str, Any]) -> None:
    found = thread_examples(thread["store"], thread["id"], thread["settings"])
    by_step = {e.step: e for e in found.examples}
    assert sorted(by_step) == [1, 2, 4, 5]  # step 3, the rejected write, is left out
    assert found.skipped == ["step 3: no call kept (write_file: reject)"]
    assert [by_step[s].label for s in (1, 2, 4, 5)] == ["allowed", "edited", "approved", "answer"]
    assert by_step[1].completion == 'read_file", "arguments": {"path": "notes.txt"}}</tool_call>'
    # The human's edit is the label, not what the model wrote ("grene").
    assert by_step[2].completion.endswith('"content": "green"}}</tool_call>')
    assert by_step[5].tools == ["final_answer"]
    for example in found.examples:
        assert example.source == f"thread:{thread['id']}"
        assert example.prompt.startswith("<start_of_turn>user\n")  # the bundled model's format
        assert TASK in example.prompt
    # Each step's prompt is the transcript as the model saw it then: its own
    # earlier call (as it wrote it) and the human's feedback on the rejected one.
    assert '"content": "grene"' in by_step[4].prompt and "not notes.txt" in by_step[4].prompt
    only = thread_examples(
        thread["store"], thread["id"], thread["settings"], LabelRules(allowed=False, answers=False)
    )
    assert [e.label for e in only.examples] == ["edited", "approved"]


def test_threads_export_format_training(thread: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    result = CliRunner().invoke(
        app, ["threads", "export", thread["id"], "--format", "training", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    examples = read_jsonl([out])
    assert [e.label for e in examples] == ["allowed", "edited", "approved", "answer"]
    line = json.loads(out.read_text().splitlines()[0])
    assert {"prompt", "completion", "source", "step", "tools", "label"} <= set(line)
    assert "left out: step 3" in result.output


def test_tune_from_threads_trains_on_them(
    thread: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.tune import train as training

    seen: dict[str, Any] = {}

    def fake_train(examples, gguf, out, config, **kwargs) -> training.TrainResult:
        seen["examples"] = examples
        return training.TrainResult(out, len(examples), 0, 1, 10, 1.0, 10.0, "fp32", "cpu", 0.1)

    monkeypatch.setattr(training, "train", fake_train)
    result = CliRunner().invoke(app, ["tune", "--from-threads", "--only-approved"])
    assert result.exit_code == 0, result.output
    assert [e.label for e in seen["examples"]] == ["edited", "approved"]
    assert f"thread {thread['id']}: 2 examples, 3 steps left out" in result.output
