"""Ctrl-C and SIGTERM during a run: stop between two steps, never inside one.

Python turns SIGINT into a ``KeyboardInterrupt`` wherever the main thread
happens to be. During a run that is LangGraph waiting for a node running in a
worker thread: the node goes on, writes its results, and the checkpoint that
would apply them is never written. While :class:`SignalDrain` is active the
first SIGINT or SIGTERM instead asks the run to drain (stop after the current
step, cutting a generation in progress short), and the run ends with a
consistent, resumable thread; the driver then raises :class:`RunInterrupted`
(a ``KeyboardInterrupt``, so scripts still stop on Ctrl-C). A second signal
ends the process at once, as a kill would: the thread keeps its last saved
step, and no side effect runs twice (see :mod:`agentkit.graphs.ledger`).

Handlers are installed only in the main thread and only over Python's
defaults, so an application with its own handlers keeps them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_DEFAULTS: dict[int, object] = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
}


def signal_label(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM at a step boundary (or while it
    waited for an approval): its thread is saved and ``resume`` continues it."""

    def __init__(self, thread_id: str, signum: int = signal.SIGINT) -> None:
        self.thread_id = thread_id
        self.signum = signum
        super().__init__(f"thread {thread_id} interrupted by {signal_label(signum)}")

    @property
    def exit_code(self) -> int:
        """What a shell reports for a process ended by this signal (130, 143)."""
        return 128 + self.signum


class SignalDrain:
    """While active (``with``), the first SIGINT/SIGTERM calls ``drain`` (from
    the main thread, between bytecodes: it must only set flags) and is
    remembered in :attr:`signum`; a second one ends the process at once."""

    def __init__(self, drain: Callable[[int], None], thread_id: str) -> None:
        self._drain = drain
        self._thread_id = thread_id
        self._previous: dict[int, object] = {}
        self.signum: int | None = None

    def __enter__(self) -> SignalDrain:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only; its owner decides
        for signum in HANDLED_SIGNALS:
            current = signal.getsignal(signum)
            if current is _DEFAULTS[signum]:
                self._previous[signum] = current
                signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._restore()

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            _say(
                f"{signal_label(signum)}: stopping thread {self._thread_id} after the current "
                f"step (press Ctrl-C again to stop at once)"
            )
            self._drain(signum)
            return
        self._restore()
        _say(
            f"stopped at once; thread {self._thread_id} keeps its last saved step: "
            f"agentkit resume {self._thread_id}"
        )
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, RuntimeError):  # closed, or mid-write when signalled
                pass
        os._exit(128 + signum)


def _say(line: str) -> None:
    try:
        os.write(2, (line + "\n").encode())
    except OSError:
        pass
