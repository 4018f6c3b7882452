"""The fault suite's tally, printed after a run that included it: how many
faults were injected and how many commands ran, and the counts that must be
zero (threads stranded, tracebacks shown, side effects run twice)."""

from __future__ import annotations

import signal

import pytest
from fault_support import TALLY

# A run started in the background of a non-interactive shell inherits
# SIGINT ignored, and so would every child: a Ctrl-C test would then test
# nothing and fail. What a user's terminal does is what is tested.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.commands:
        return
    terminalreporter.write_line(
        f"fault suite: {TALLY.faults} faults injected, {TALLY.commands} commands checked; "
        f"stranded threads {TALLY.strands}, tracebacks {TALLY.tracebacks}, "
        f"side effects run twice {TALLY.doubled}"
    )
