"""Fault injection for the fault suite (tests/faults/).

Modelled on how SQLite and LangGraph test durability: run a short task,
inject one fault somewhere (a signal at a node boundary or mid-decode, a
failing write at the Nth write, a lock, damaged pages), then let the user's
next commands (``resume``, ``resume --approve-all``, or the same ``run``
again) carry the thread to its end. Every command must end with an exit
code and at most one ``error:`` line, never a traceback, and the end must be
the same workspace as a run without faults, every side effect once.

The ``agentkit`` command runs in this process (``agentkit.cli.main`` with
its own argv) over a scripted model whose reply depends only on the
transcript, so any "process" continues the same run; SQLite connections are
closed after each command, as a process exit would. Subprocess tests
(test_signals_subprocess.py) check the same with real processes.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from agent_support import make_tools
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.outputs import ChatGenerationChunk

from agentkit.cli import run as run_cli
from agentkit.graphs.agent_graph import AgentNodes
from agentkit.testing import ScriptedChatModel, call, final

TASK = "Read notes.txt, then write a one-line summary to summary.md, then log it"
THREAD = "t1"
NOTES = "The Rhine is 1,230 km long.\n"
SUMMARY = "The Rhine: 1,230 km."
# The run: read (allowed), write (asks), shell (asks), answer.
CALLS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("read_file", {"path": "notes.txt"}, "r1"),
    ("write_file", {"path": "summary.md", "content": SUMMARY}, "w1"),
    ("shell", {"command": "echo logged"}, "s1"),
)
PLAN = {"steps": ["Read notes.txt", "Write summary.md", "Log it"]}
EXPECTED_EFFECTS = ["write_file summary.md", "shell echo logged"]
NODES = ("plan", "act", "approve", "execute", "observe", "finish")
Position = Literal["start", "end"]


class StepModel(ScriptedChatModel):
    """Replies from the transcript alone: the first of :data:`CALLS` without
    a result, then the answer. ``on_chunk(call, chunk)`` runs after each
    streamed chunk (a fault can fire mid-decode)."""

    repeat_last: bool = True
    on_chunk: Callable[[int, int], None] | None = None

    def _next_item(self, structured: bool) -> Any:
        return lambda messages: self.reply_for(messages, structured)

    @staticmethod
    def reply_for(messages: list[BaseMessage], structured: bool) -> Any:
        if structured:
            return PLAN
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        for name, args, call_id in CALLS:
            if call_id not in answered:
                return call(name, args, call_id)
        return final("Summarised notes.txt into summary.md and logged it.")

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        index = self.calls_made
        for n, chunk in enumerate(super()._stream(messages, stop, run_manager, **kwargs)):
            yield chunk
            if self.on_chunk is not None:
                self.on_chunk(index, n)


# --- outcomes -----------------------------------------------------------------------


@dataclass
class Outcome:
    """One ``agentkit`` command: exit code and what it printed."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def error_lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.startswith("error:")]


@dataclass
class Tally:
    """What the suite counts across its cases (printed at the end of a run)."""

    faults: int = 0
    commands: int = 0
    strands: int = 0
    tracebacks: int = 0
    doubled: int = 0


TALLY = Tally()


def assert_clean(outcome: Outcome, codes: set[int]) -> None:
    """An exit code the user can act on, and at most one ``error:`` line of
    one line (no traceback)."""
    TALLY.commands += 1
    if "Traceback" in outcome.text:
        TALLY.tracebacks += 1
    assert "Traceback" not in outcome.text, outcome
    assert outcome.code in codes, outcome
    assert len(outcome.error_lines()) <= 1, outcome


# --- the agentkit command, in this process ------------------------------------------


@dataclass
class WriteFaults:
    """Every SQLite connection opened while installed counts its writes
    (INSERT, UPDATE, DELETE, REPLACE, CREATE: ``counted``); the ``fail_at``-th raises
    ``message``, and with ``sticky`` every later one too (a full disk stays
    full until the command ends)."""

    counted: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE")
    count: int = 0
    fail_at: int | None = None
    sticky: bool = False
    message: str = "database or disk is full"
    fired: int = 0
    connections: list[sqlite3.Connection] = field(default_factory=list)

    def check(self, sql: str) -> None:
        keyword = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if keyword not in self.counted:
            return
        self.count += 1
        if self.fail_at is None:
            return
        if self.count == self.fail_at or (self.sticky and self.count > self.fail_at):
            self.fired += 1
            raise sqlite3.OperationalError(self.message)


def faulty_connection_class(faults: WriteFaults) -> type[sqlite3.Connection]:
    class FaultyCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            faults.check(sql)
            return super().execute(sql, parameters)

        def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:
            faults.check(sql)
            return super().executemany(sql, seq)

    class FaultyConnection(sqlite3.Connection):
        def cursor(self, factory: Any = FaultyCursor) -> sqlite3.Cursor:  # type: ignore[override]
            return super().cursor(factory)

        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            return self.cursor().execute(sql, parameters)

        def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:
            return self.cursor().executemany(sql, seq)

    return FaultyConnection


class Harness:
    """A workspace, a data dir, and the ``agentkit`` command over them."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.work = root / "work"
        self.data = root / "data"
        self.work.mkdir()
        (self.work / "notes.txt").write_text(NOTES)
        self.log = root / "side_effects.log"
        self.monkeypatch = monkeypatch
        self.writes = WriteFaults()
        self.model_setup: Callable[[StepModel], None] = lambda model: None
        monkeypatch.setenv("AGENTKIT_DATA_DIR", str(self.data))
        monkeypatch.setenv("AGENTKIT_WORKSPACE", str(self.work))
        monkeypatch.setenv("AGENTKIT_PLANNING", "on")
        monkeypatch.setenv("AGENTKIT_DB_BUSY_TIMEOUT_S", "0.2")
        monkeypatch.delenv("AGENTKIT_CONFIG", raising=False)
        monkeypatch.chdir(self.work)
        monkeypatch.setattr(run_cli, "build_model", self._model)
        monkeypatch.setattr(run_cli, "build_tools", lambda s, ro: make_tools(self.work, self.log))
        monkeypatch.setattr(run_cli, "prewarm", lambda settings: None)
        # The thread database's faults: the knowledge base (its own suite,
        # test_vector_store.py) stays closed.
        monkeypatch.setenv("AGENTKIT_MEMORY", "false")
        connection = faulty_connection_class(self.writes)
        real_connect = sqlite3.connect
        self.real_connect = real_connect  # for a test's own connections (another "process")

        def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            kwargs.setdefault("factory", connection)
            conn = real_connect(database, *args, **kwargs)
            self.writes.connections.append(conn)
            return conn

        monkeypatch.setattr(sqlite3, "connect", connect)

    def _model(self, settings: object) -> StepModel:
        model = StepModel()
        self.model_setup(model)
        return model

    def cli(self, *args: str) -> Outcome:
        """``agentkit ARGS`` as a process would run it: SystemExit is its exit
        code; any other exception escapes (and fails the test)."""
        out, err = io.StringIO(), io.StringIO()
        self.monkeypatch.setattr(sys, "argv", ["agentkit", *args])
        from agentkit.cli import main

        code = 0
        try:
            with redirect_stdout(out), redirect_stderr(err):
                main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            self.exit_process()
        return Outcome(tuple(args), code, out.getvalue(), err.getvalue())

    def exit_process(self) -> None:
        """What a process exit does to its databases: connections close, and
        a full disk is somebody else's problem from now on."""
        for conn in self.writes.connections:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self.writes.connections.clear()
        self.writes.fail_at = None
        shared = sys.modules.get("chromadb.api.shared_system_client")
        if shared is not None:  # Chroma keeps one system per path for the process's life
            shared.SharedSystemClient.clear_system_cache()

    # --- the thread ---------------------------------------------------------------
    def status(self, thread: str = THREAD) -> str:
        """The thread's status as ``agentkit threads list --json`` shows it;
        ``missing`` when the thread was never recorded."""
        outcome = self.cli("threads", "list", "--json")
        assert_clean(outcome, {0})
        for info in json.loads(outcome.out):
            if info["thread_id"] == thread:
                return str(info["status"])
        return "missing"

    def run(self, *extra: str) -> Outcome:
        return self.cli("run", TASK, "--thread", THREAD, *extra)

    def drive_to_end(self, first: Outcome | None = None, limit: int = 10) -> list[Outcome]:
        """What a user does after ``first``: answer approvals, resume an
        interrupted run, run the task again when it never started, until
        the thread finishes. Each command must be clean. The status comes
        from ``threads list`` except after an exit code that says it."""
        outcomes = [first] if first is not None else []
        status = self.status()
        for _ in range(limit):
            if status == "finished":
                assert self.status() == "finished"
                return outcomes
            if status == "needs_approval":
                outcome = self.cli("resume", THREAD, "--approve-all")
                rerun = RERUN.search(outcome.text) if outcome.code == 2 else None
                if rerun:  # a call that may have partly run: the user checks, and says no
                    assert_clean(outcome, {2})
                    outcome = self.cli("resume", THREAD, "--reject", rerun["call_id"])
            elif status in ("interrupted", "empty"):
                outcome = self.cli("resume", THREAD)
            elif status == "missing":
                outcome = self.run()
            else:
                TALLY.strands += 1
                raise AssertionError(f"thread {THREAD} is {status}: nothing a user can do")
            assert_clean(outcome, {0, 3, 130, 143})  # a signal may hit a resume too
            outcomes.append(outcome)
            known = {0: "finished", 3: "needs_approval"}
            status = known[outcome.code] if outcome.code in known else self.status()
        TALLY.strands += 1
        raise AssertionError(f"thread {THREAD} never finished: {outcomes[-3:]}")

    def assert_same_end(self) -> None:
        """The workspace of a run without faults, every side effect once."""
        effects = self.log.read_text().splitlines() if self.log.exists() else []
        doubled = len(effects) - len(set(effects))
        TALLY.doubled += max(doubled, 0)
        assert sorted(effects) == sorted(EXPECTED_EFFECTS), effects
        assert (self.work / "summary.md").read_text() == SUMMARY
        assert sorted(p.name for p in self.work.iterdir()) == ["notes.txt", "summary.md"]


# --- signals inside this process ------------------------------------------------------


@contextmanager
def signal_at_node(
    monkeypatch: pytest.MonkeyPatch, node: str, position: Position, occurrence: int, signum: int
) -> Iterator[list[int]]:
    """Send ``signum`` to this process the ``occurrence``-th time a run of
    ``node`` reaches ``position`` (counted over every command: an approve
    node that stops for a question never reaches its end); yields a list
    that records the fire."""
    fired: list[int] = []
    with count_boundaries(monkeypatch, node) as seen:

        def boundary(at: Position) -> None:
            if at == position and seen[at] == occurrence and not fired:
                fired.append(signum)
                os.kill(os.getpid(), signum)
                time.sleep(0.05)  # the main thread runs the handler meanwhile

        HOOKS[node] = boundary
        try:
            yield fired
        finally:
            HOOKS.pop(node, None)


HOOKS: dict[str, Callable[[Position], None]] = {}


@contextmanager
def count_boundaries(monkeypatch: pytest.MonkeyPatch, *nodes: str) -> Iterator[dict[str, int]]:
    """Count the starts and ends the runs of ``nodes`` reach (``HOOKS`` run at each)."""
    seen = {"start": 0, "end": 0}
    for node in nodes:
        original = getattr(AgentNodes, node)

        def wrapped(self: AgentNodes, state: Any, _node: str = node, _run: Any = original) -> Any:
            seen["start"] += 1
            HOOKS.get(_node, lambda at: None)("start")
            result = _run(self, state)
            seen["end"] += 1
            HOOKS.get(_node, lambda at: None)("end")
            return result

        monkeypatch.setattr(AgentNodes, node, wrapped)
    yield seen


def signal_mid_decode(harness: Harness, occurrence: int, signum: int) -> list[int]:
    """Send ``signum`` after the first streamed chunk of the
    ``occurrence``-th model call of one command; the model streams slowly."""
    fired: list[int] = []

    def setup(model: StepModel) -> None:
        model.token_delay_s = 0.01

        def on_chunk(index: int, chunk: int) -> None:
            if index + 1 == occurrence and chunk == 0 and not fired:
                fired.append(signum)
                os.kill(os.getpid(), signum)
                time.sleep(0.05)

        model.on_chunk = on_chunk

    harness.model_setup = setup
    return fired


ONE_LINE_RESUME = re.compile(r"agentkit resume \S+")
RERUN = re.compile(r"--reject (?P<call_id>\S+)\)")
