"""Ctrl-C mid-decode over the real bundled model (greedy, so two runs agree):
``agentkit run`` exits 130 with one line saying how to resume, and the
resumed thread leaves the workspace a run without Ctrl-C leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]
TASK = "Write the text hello to the file hello.txt"
MID_DECODE_TRIES = 3


def agentkit(root: Path, *args: str) -> subprocess.Popen[str]:
    work = root / "work"
    work.mkdir(parents=True, exist_ok=True)
    (root / "policy.toml").write_text('[tools]\nwrite_file = "allow"\n')
    env = {
        **os.environ,
        "AGENTKIT_DATA_DIR": str(root / "data"),
        "AGENTKIT_WORKSPACE": str(work),
        "AGENTKIT_TEMPERATURE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AGENTKIT_CONFIG", None)
    command = [str(Path(sys.executable).parent / "agentkit"), *args]
    return subprocess.Popen(
        command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = child.communicate(timeout=300)
    return child.returncode, out, err


def lines_until(child: subprocess.Popen[str], kind: str) -> float:
    """Read the child's JSON lines up to the first event of ``kind``; when it came."""
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("{") and json.loads(line).get("kind") == kind:
            return time.monotonic()
    raise AssertionError(f"no {kind} event")


def workspace(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "work").iterdir()) if p.is_file()}


def test_ctrl_c_mid_decode_then_resume(tmp_path: Path) -> None:
    # Without Ctrl-C, and how long the act step's generation takes.
    reference = agentkit(tmp_path / "a", "run", TASK, "--thread", "r", *options(tmp_path / "a"))
    planned = lines_until(reference, "plan")
    decoding = lines_until(reference, "tool_call") - planned
    code_a, out_a, err_a = finished(reference)
    assert code_a in (0, 4), (out_a, err_a)

    # Halfway through the generation; a run that decodes faster than the
    # reference (its caches warm) may finish first: then sooner, in a new
    # workspace, a few times.
    for attempt in range(MID_DECODE_TRIES):
        root = tmp_path / f"b{attempt}"
        child = agentkit(root, "run", TASK, "--thread", "t", *options(root))
        lines_until(child, "plan")
        time.sleep(decoding / 2 ** (attempt + 1))
        child.send_signal(signal.SIGINT)
        code, out, err = finished(child)
        assert code == 130, (out, err)
        assert "Traceback" not in out + err
        assert len(err.strip().splitlines()) == 1, err  # "stopping after the current step"
        result = json.loads(out.strip().splitlines()[-1])
        assert result["status"] == "interrupted", result
        if '"tool_call"' not in out:
            break
    assert '"tool_call"' not in out, "the generation was never cut short, always finished"

    code_b, out_b, err_b = finished(agentkit(root, "resume", "t", "--json"))
    assert "Traceback" not in out_b + err_b
    assert code_b == code_a, (out_b, err_b)
    assert workspace(root) == workspace(tmp_path / "a")


def options(root: Path) -> tuple[str, ...]:
    return ("--policy", str(root / "policy.toml"), "--no-plan", "--json")
