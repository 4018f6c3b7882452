"""The same faults with real processes: Ctrl-C and SIGTERM sent from outside
mid-decode, a second Ctrl-C during a tool (the process ends at once), and two
processes resuming one thread. Each command ends with an exit code and at
most a line or two on stderr (never a traceback); the thread then ends as a
run without faults does, every side effect once (or as the user decided)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_support import TALLY, TASK, THREAD, Harness, assert_clean
from tests_support import wait_for

CHILD = Path(__file__).parent / "cli_child.py"
pytestmark = pytest.mark.slow


class Processes:
    """The ``agentkit`` command in child processes, over the workspace and data
    dir of a :class:`Harness` (which runs the commands around the fault, in
    this process, to keep the test short)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "work"
        self.env = {
            **os.environ,
            "AGENTKIT_DATA_DIR": str(root / "data"),
            "AGENTKIT_WORKSPACE": str(self.work),
            "AGENTKIT_PLANNING": "on",
            "FAULT_WORK": str(self.work),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("AGENTKIT_CONFIG", None)

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(CHILD), *args],
            cwd=self.work,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        child = self.start(*args, **env)
        out, err = child.communicate(timeout=120)
        return subprocess.CompletedProcess(child.args, child.returncode, out, err)

    def status(self) -> str:
        listed = self.run("threads", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        return next(t["status"] for t in json.loads(listed.stdout) if t["thread_id"] == THREAD)


def clean(done: subprocess.CompletedProcess[str] | tuple[int, str, str], codes: set[int]) -> None:
    code, out, err = (
        done if isinstance(done, tuple) else (done.returncode, done.stdout, done.stderr)
    )
    TALLY.commands += 1
    if "Traceback" in out + err:
        TALLY.tracebacks += 1
    assert "Traceback" not in out + err, err
    assert code in codes, (code, out, err)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(tmp_path, monkeypatch)


@pytest.fixture
def procs(harness: Harness) -> Processes:
    return Processes(harness.root)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_from_outside_mid_decode(harness: Harness, procs: Processes, signum: int) -> None:
    child = procs.start("run", TASK, "--thread", THREAD, FAULT_TOKEN_DELAY="0.2")
    wait_for(lambda: (procs.root / "decoding").exists(), child, timeout=60)
    child.send_signal(signum)
    out, err = child.communicate(timeout=30)
    TALLY.faults += 1
    clean((child.returncode, out, err), {128 + signum})
    assert f"continue with: agentkit resume {THREAD}" in out
    assert len(err.strip().splitlines()) == 1, err  # "stopping after the current step"
    assert procs.status() == "interrupted"
    harness.drive_to_end()
    harness.assert_same_end()


def test_second_ctrl_c_stops_at_once_and_the_call_is_asked_about(
    harness: Harness, procs: Processes
) -> None:
    assert_clean(harness.run(), {3})
    assert_clean(harness.cli("resume", THREAD, "--approve-all"), {3})  # the write; the shell asks
    child = procs.start("resume", THREAD, "--approve-all", FAULT_SHELL_SLEEP="60")
    wait_for(lambda: (procs.root / "in-shell").exists(), child, timeout=60)
    child.send_signal(signal.SIGINT)  # drains after the step: the tool is still running
    time.sleep(0.5)
    assert child.poll() is None
    child.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, err = child.communicate(timeout=30)
    TALLY.faults += 2
    assert time.monotonic() - started < 5, "the second Ctrl-C did not stop it at once"
    clean((child.returncode, out, err), {130})
    assert f"agentkit resume {THREAD}" in err.splitlines()[-1]
    assert harness.status() == "interrupted"
    # Resuming asks before running the interrupted call again; the user says no.
    asked = harness.cli("resume", THREAD, "--json")
    assert_clean(asked, {3})
    result = json.loads(asked.out.splitlines()[-1])
    assert [(p["call_id"], "may have partly run" in p["reason"]) for p in result["pending"]] == [
        ("s1", True)
    ]
    assert_clean(harness.cli("resume", THREAD, "--reject", "s1"), {0})
    harness.assert_same_end()  # the shell ran once


def test_two_resumes_of_one_thread_one_wins(harness: Harness, procs: Processes) -> None:
    assert_clean(harness.run(), {3})
    assert_clean(harness.cli("resume", THREAD, "--approve-all"), {3})
    # The first holds the thread long enough for a second process to start
    # even on a loaded machine.
    first = procs.start("resume", THREAD, "--approve-all", FAULT_SHELL_SLEEP="15")
    wait_for(lambda: (procs.root / "in-shell").exists(), first, timeout=60)
    second = procs.run("resume", THREAD, "--approve-all")
    TALLY.faults += 1
    clean(second, {2})
    (line,) = second.stderr.strip().splitlines()
    assert "being run or resumed by another process" in line
    out, err = first.communicate(timeout=60)
    clean((first.returncode, out, err), {0})
    assert harness.status() == "finished"
    harness.assert_same_end()
    history = harness.cli("threads", "history", THREAD, "--json", "--limit", "0")
    steps = [c["step"] for c in json.loads(history.out)]
    assert len(steps) == len(set(steps)), "a step was written twice"
