"""SIGKILL a run while it waits for approval, during a tool's execution and
during a model call; a fresh process resumes the thread and every side effect
has happened exactly once (real SQLite, real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from agent_support import side_effects
from tests_support import wait_for

SCRIPT = Path(__file__).parent / "durability_script.py"
MARKERS = {"approval": "waiting", "model": "model"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "durability"),
    [
        ("approval", "sync"),
        ("approval", "exit"),
        ("execution", "sync"),
        ("execution", "async"),
        ("execution", "exit"),
        ("model", "sync"),
    ],
)
def test_sigkill_then_resume_runs_side_effects_exactly_once(
    tmp_path: Path, scenario: str, durability: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    log = tmp_path / "side_effects.log"
    args = [sys.executable, str(SCRIPT), str(data), scenario, durability]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [*args, "start"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    if scenario == "execution":
        wait_for(lambda: "slow_write b" in side_effects(log), child, timeout=60.0)
    else:
        wait_for(lambda: (tmp_path / MARKERS[scenario]).exists(), child, timeout=60.0)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = side_effects(log)

    resumed = subprocess.run(
        [*args, "resume"], capture_output=True, text=True, env=env, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stdout.splitlines()
    pending = next(line for line in lines if line.startswith("PENDING")).split(" ", 1)[1]
    result = json.loads(next(line for line in lines if line.startswith("RESULT"))[7:])

    if scenario == "approval":
        # the same approval is pending after the kill, and nothing ran before it
        assert before == []
        assert pending == "wa,wb"
    assert result["status"] == "finished", result
    # exactly once, whatever the durability mode and kill point
    assert sorted(side_effects(log)) == ["slow_write b", "write_file a.txt"]
    outcomes = {c["call_id"]: c for c in result["tool_calls"]}
    assert outcomes["wa"]["status"] == "ok"
    if scenario == "execution":
        # killed mid-call: not re-run without asking (the user said no here);
        # the model is told why
        assert "RERUN? wb" in lines
        assert outcomes["wb"]["status"] == "error"
        assert "stopped while this call was running" in outcomes["wb"]["output"]
    else:
        assert outcomes["wb"]["status"] == "ok"
