"""The fault suite's tally, printed after a run that included it: how many
faults were injected and how many commands ran, and the counts that must be
zero (threads stranded, tracebacks shown, side effects run twice)."""

from __future__ import annotations

import pytest
from fault_support import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.commands:
        return
    terminalreporter.write_line(
        f"fault suite: {TALLY.faults} faults injected, {TALLY.commands} commands checked; "
        f"stranded threads {TALLY.strands}, tracebacks {TALLY.tracebacks}, "
        f"side effects run twice {TALLY.doubled}"
    )
