"""A full disk (ENOSPC) and an I/O error (EIO) at the Nth write, for every N
over the writes of a short run: the run, then each ``resume --approve-all``
(EIO: the run's).
The command that hits it prints one ``error:`` line naming the thread
database and the fix (never a traceback); once the disk is fine again, the
user's next commands finish the thread as if nothing happened, every side
effect once, no approval lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_support import TALLY, THREAD, Harness, Outcome, assert_clean

PHASES = ("run", "approve write", "approve shell")
# Writes (INSERT/UPDATE/DELETE/REPLACE) of each phase without faults;
# test_write_counts keeps these honest.
WRITES = {"run": 24, "approve write": 13, "approve shell": 15}
FAULTS = {
    "ENOSPC": ("database or disk is full", True, "the disk is full"),
    "EIO": ("disk I/O error", False, "I/O error"),
}
# A full disk at every write of every phase; an I/O error that happens once
# at every write of the run (the approvals' writes are of the same kinds).
CASES = [
    (fault, phase, n)
    for fault in FAULTS
    for phase in (PHASES if fault == "ENOSPC" else PHASES[:1])
    for n in range(1, WRITES[phase] + 1)
]


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    h = Harness(tmp_path, monkeypatch)
    h.writes.counted = ("INSERT", "UPDATE", "DELETE", "REPLACE")
    return h


def phase_command(harness: Harness, phase: str) -> Outcome:
    return harness.run() if phase == "run" else harness.cli("resume", THREAD, "--approve-all")


def test_write_counts(harness: Harness) -> None:
    for phase in PHASES:
        before = harness.writes.count
        outcome = phase_command(harness, phase)
        assert_clean(outcome, {0, 3})
        assert harness.writes.count - before == WRITES[phase], phase
    harness.assert_same_end()


@pytest.mark.parametrize(("fault", "phase", "nth"), CASES)
def test_failed_write_then_resume(harness: Harness, fault: str, phase: str, nth: int) -> None:
    message, sticky, said = FAULTS[fault]
    for earlier in PHASES[: PHASES.index(phase)]:
        assert_clean(phase_command(harness, earlier), {3})
    harness.writes.message, harness.writes.sticky = message, sticky
    harness.writes.fail_at = harness.writes.count + nth
    hit = phase_command(harness, phase)
    assert harness.writes.fired, "the fault never fired"
    TALLY.faults += 1
    assert_clean(hit, {2})
    (line,) = hit.error_lines()
    assert str(harness.data / "threads.sqlite") in line and said in line, line
    harness.drive_to_end(hit)
    harness.assert_same_end()
