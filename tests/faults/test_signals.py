"""Ctrl-C (SIGINT) and SIGTERM at every node boundary and mid-decode, in the
``agentkit`` command: it exits 130 / 143 with one line saying how to resume,
the thread is ``interrupted`` (or waits for its approval), and resuming it
ends where a run without the signal ends, every side effect once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from fault_support import (
    NODES,
    ONE_LINE_RESUME,
    TALLY,
    Harness,
    assert_clean,
    count_boundaries,
    signal_at_node,
    signal_mid_decode,
)

# How often each node starts and ends in the task: approve runs after every
# act that proposes calls; it stops at its question (no end) and runs again
# when the question is answered.
BOUNDARY_COUNTS = {
    "plan": (1, 1),
    "act": (4, 4),
    "approve": (5, 3),
    "execute": (3, 3),
    "observe": (3, 3),
    "finish": (1, 1),
}
BOUNDARIES = [
    (node, position, n)
    for node in NODES
    for position, total in zip(("start", "end"), BOUNDARY_COUNTS[node], strict=True)
    for n in range(1, total + 1)
]


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return Harness(tmp_path, monkeypatch)


def test_without_faults_the_run_needs_two_approvals(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = {}
    for node in NODES:
        with count_boundaries(monkeypatch, node) as seen:
            counts[node] = seen
    first = harness.run()
    assert_clean(first, {3})
    outcomes = harness.drive_to_end(first)
    assert [o.code for o in outcomes] == [3, 3, 0]
    harness.assert_same_end()
    # BOUNDARIES covers every boundary the run has
    assert {n: (c["start"], c["end"]) for n, c in counts.items()} == BOUNDARY_COUNTS


def check_interrupted(harness: Harness, signum: int) -> None:
    """The command the signal hit, then the user's way to the end."""
    hit = harness.run()
    assert_clean(hit, {128 + signum, 3, 0})
    if hit.code == 128 + signum:
        status = harness.status()
        assert status in ("interrupted", "needs_approval", "finished"), status
        if status != "finished":
            assert len(ONE_LINE_RESUME.findall(hit.out)) == 1, hit
    harness.drive_to_end(hit)
    harness.assert_same_end()


@pytest.mark.parametrize(("node", "position", "occurrence"), BOUNDARIES)
def test_sigint_at_every_node_boundary(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    node: str,
    position: str,
    occurrence: int,
) -> None:
    with signal_at_node(monkeypatch, node, position, occurrence, signal.SIGINT) as fired:  # type: ignore[arg-type]
        hit = harness.run()
        assert_clean(hit, {130, 3, 0})
        harness.drive_to_end(hit)
    assert fired == [signal.SIGINT], "the signal never fired"
    TALLY.faults += 1
    harness.assert_same_end()


@pytest.mark.parametrize("node", NODES)
@pytest.mark.parametrize("position", ["start", "end"])
def test_sigterm_at_each_node(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, node: str, position: str
) -> None:
    with signal_at_node(monkeypatch, node, position, 1, signal.SIGTERM) as fired:  # type: ignore[arg-type]
        check_interrupted(harness, signal.SIGTERM)
    assert fired == [signal.SIGTERM]
    TALLY.faults += 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("occurrence", [1, 2, 3])
def test_signal_mid_decode(harness: Harness, signum: int, occurrence: int) -> None:
    """The generation is cut short; resuming asks the model again."""
    fired = signal_mid_decode(harness, occurrence, signum)
    hit = harness.run()
    assert fired == [signum]
    TALLY.faults += 1
    assert_clean(hit, {128 + signum})
    assert harness.status() == "interrupted"
    assert len(ONE_LINE_RESUME.findall(hit.out)) == 1, hit
    harness.model_setup = lambda model: None
    harness.drive_to_end(hit)
    harness.assert_same_end()
