"""Checkpoint growth: bytes the SQLite checkpointer writes per agent step as
one thread grows to 200 steps.

The loop is the agent benchmark's loop (same tools, ``max_steps`` ends it)
with a scripted model, so it is fast and the same every time. Before
each model call we read, through a second connection, how many bytes of
checkpoint and pending-write blobs the thread's rows hold (new rows only, so
the probe stays cheap) and the file size (database + WAL).
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from agentkit.bench.core import BenchContext, Row, Target

STEPS = 200
PROBES = (10, 200)
# The transcript and tool log are LangGraph DeltaChannels: each step stores its
# new items, and every SNAPSHOT_EVERY updates (2 per step here: the model's
# message and the tool results) one step also stores a full snapshot. Per-step
# cost is therefore compared as a mean over one snapshot period.
WINDOW = 50


class BlobCounter:
    """Running total of checkpoint bytes in a LangGraph SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.total = 0
        self.last = {"checkpoints": 0, "writes": 0}

    def read(self) -> int:
        if self.conn is None:
            self.conn = sqlite3.connect(str(self.path), check_same_thread=False)
        for table, expr in (
            ("checkpoints", "length(checkpoint) + length(metadata)"),
            ("writes", "length(value)"),
        ):
            row = self.conn.execute(
                f"SELECT max(rowid), coalesce(sum({expr}), 0) FROM {table} WHERE rowid > ?",
                (self.last[table],),
            ).fetchone()
            if row[0] is not None:
                self.last[table] = row[0]
                self.total += int(row[1])
        return self.total

    def file_bytes(self) -> int:
        return sum(
            p.stat().st_size
            for p in (self.path, self.path.with_name(self.path.name + "-wal"))
            if p.exists()
        )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def grow_thread(ctx: BenchContext, steps: int) -> list[dict[str, float]]:
    """Cumulative checkpoint bytes before each model call, and once at the end."""
    from langchain_core.messages import BaseMessage

    from agentkit.bench.agent import TASK, Animal, _agent, bench_tools
    from agentkit.testing import ScriptedChatModel, call

    animals = list(Animal.__args__)
    samples: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        root = Path(tmp)
        counter = BlobCounter(root / "threads.sqlite")

        def reply(step: int) -> Any:
            def make(_messages: list[BaseMessage]) -> Any:
                samples.append(
                    {"step": step, "bytes": counter.read(), "file_bytes": counter.file_bytes()}
                )
                return call("lookup", {"topic": animals[step % len(animals)]})

            return make

        model = ScriptedChatModel(script=[reply(i) for i in range(steps)])
        # Compaction off: its summary call would take a scripted reply, and
        # the row measures how an uncompacted thread's checkpoints grow.
        uncompacted = replace(ctx, settings=ctx.settings.model_copy(update={"compact_at": 0.0}))
        agent = _agent(model, bench_tools(ctx), root, uncompacted, steps)
        agent.run(TASK)
        samples.append({"step": steps, "bytes": counter.read(), "file_bytes": counter.file_bytes()})
        counter.close()
    if len(samples) != steps + 1:
        raise RuntimeError(f"the scripted thread stopped after {len(samples) - 1} of {steps} steps")
    return samples


def run(ctx: BenchContext) -> list[Row]:
    ctx.say(f"[checkpoint] growing one thread to {STEPS} steps (scripted model, SQLite)")
    # One call more than measured: step k's bytes are those written between
    # the k-th and (k+1)-th model call, so step 200 needs a 201st call.
    samples = grow_thread(ctx, STEPS + 1)
    per_step = [
        {
            "step": i + 1,
            "bytes_per_step": samples[i + 1]["bytes"] - samples[i]["bytes"],
            "total_bytes": samples[i + 1]["bytes"],
            "file_bytes": samples[i + 1]["file_bytes"],
        }
        for i in range(STEPS)
    ]
    ctx.series["checkpoint_vs_steps"] = per_step
    at = {k: per_step[k - 1]["bytes_per_step"] for k in PROBES}
    early = sum(r["bytes_per_step"] for r in per_step[:10]) / 10
    late = sum(r["bytes_per_step"] for r in per_step[-WINDOW:]) / WINDOW
    final = per_step[-1]
    snapshots = [r["step"] for r in per_step if r["bytes_per_step"] > 2 * early]
    return [
        Row("checkpoint", "checkpoint bytes written, step 10", at[10], "B"),
        Row(
            "checkpoint",
            "checkpoint bytes written, step 200",
            at[200],
            "B",
            note="steps with a transcript snapshot: " + (", ".join(map(str, snapshots)) or "none"),
        ),
        Row(
            "checkpoint",
            f"bytes per step at 200 ÷ at 10 (mean of steps {STEPS - WINDOW + 1}-{STEPS} ÷ of 1-10)",
            late / max(1.0, early),
            "",
            Target("<=", 2.0),
            note=f"{late:,.0f} vs {early:,.0f} B/step; thread total "
            f"{final['total_bytes'] / 1e6:.1f} MB of blobs, file {final['file_bytes'] / 1e6:.1f} MB",
        ),
    ]
