"""Whether the chat still has a terminal: a closed one must end the app."""

from __future__ import annotations

import os
import sys

# Exit status of a chat whose terminal went away (128 + SIGHUP, as a shell reports it).
TERMINAL_GONE = 129


def stdin_is_terminal() -> bool:
    """Whether the app's input is still an open terminal (a hung-up one answers EIO)."""
    stream = sys.__stdin__
    try:
        return stream is not None and os.isatty(stream.fileno())
    except (OSError, ValueError):
        return False
