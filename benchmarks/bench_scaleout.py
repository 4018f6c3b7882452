"""Load check: concurrent agent threads against model server replicas.

    .venv/bin/python benchmarks/bench_scaleout.py                 # 8 threads, 2 replicas
    .venv/bin/python benchmarks/bench_scaleout.py --threads 4 --replicas 1

Starts on loopback (like tests/scaleout): a Postgres cluster for checkpoints
and the ledger, and N replicas of llama-cpp-python's server with the bundled
model. Then T agent threads, each its own ``Agent`` (as separate processes or
machines would be), run the same task at once: a grammar-constrained
``write_note`` call that needs approval, the approval, the write, and a
grammar-constrained ``final_answer``. The act step's tool choice is scripted
(as in tests/test_e2e_agent.py) so every thread has a known shape and the
accounting is exact; the model writes every argument.

Prints throughput (runs, model calls and generated tokens per second, and the
requests each replica served) and checks that no thread lost a step or an
approval: every thread finished, asked for exactly one approval, executed
exactly the approved call once (side-effect files and the Postgres ledger
agree), and its checkpointed state counts both act steps. Asserts nothing;
exits 1 if the accounting finds a loss.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "scaleout"))
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from services import Service, start_llama_server, start_postgres  # noqa: E402

from agentkit.config import load_settings  # noqa: E402


class NoteArgs(BaseModel):
    # bounded, so a small model closes the string
    text: str = Field(min_length=1, max_length=60)


@dataclass
class ThreadReport:
    thread_id: str
    status: str = ""
    seconds: float = 0.0
    approvals: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    steps: int = 0
    output_tokens: int = 0
    error: str = ""


def run_thread(
    index: int, settings_kwargs: dict, workdir: Path, report: ThreadReport, start: threading.Barrier
) -> None:
    from langchain_core.tools import StructuredTool

    from agentkit.agent import Agent
    from agentkit.events import ApprovalRequest, Approve
    from agentkit.graphs import tool_order
    from agentkit.tools.base import declare

    notes = workdir / "notes"

    def write_note(text: str) -> str:
        path = notes / f"{report.thread_id}.{len(list(notes.glob(report.thread_id + '.*')))}"
        path.write_text(text)
        return f"saved note {path.name}"

    tool = declare(
        StructuredTool.from_function(
            write_note, name="write_note", description="Save a short note.", args_schema=NoteArgs
        ),
        ["write"],
    )

    def approve(requests: list[ApprovalRequest]) -> list[Approve]:
        report.approvals.extend(r.call_id for r in requests)
        return [Approve(call_id=r.call_id) for r in requests]

    settings = load_settings(
        data_dir=workdir / f"host-{index}", workspace=workdir, **settings_kwargs
    )
    agent = Agent(
        tools=[tool],
        settings=settings,
        planning=False,
        approver=approve,
        tool_choice=tool_order("write_note", "final_answer"),
    )
    start.wait()
    began = time.perf_counter()
    try:
        result = agent.run(
            f"Save a note that says which number comes after {index}.", report.thread_id
        )
    except Exception as err:  # noqa: BLE001 - reported, counted as a loss
        report.error = f"{type(err).__name__}: {err}"
        return
    finally:
        report.seconds = time.perf_counter() - began
    report.status = result.status
    report.executed = [c["call_id"] for c in result.tool_calls if c["status"] == "ok"]
    report.output_tokens = result.usage["output_tokens"]
    state = agent.graph.get_state({"configurable": {"thread_id": report.thread_id}})
    report.steps = int(state.values.get("steps", 0))
    ledger = agent.storage.ledger
    done = [e for e in ledger.thread_calls(report.thread_id) if e.state == "done"]  # type: ignore[attr-defined]
    if len(done) != len(report.executed):
        report.error = f"ledger has {len(done)} done calls, run reports {len(report.executed)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument(
        "--server-threads", type=int, default=1, help="llama.cpp threads per replica"
    )
    args = parser.parse_args()

    from agentkit.models.remote import ServerPool
    from agentkit.models.resolve import resolve_model_path

    model_path = resolve_model_path("bundled:gemma3-270m", load_settings().resolved_cache_dir())
    services: list[Service] = []
    workdir = Path(tempfile.mkdtemp(prefix="agentkit-bench-scaleout-"))
    try:
        t0 = time.perf_counter()
        postgres = start_postgres()
        services.append(postgres)
        replicas = [
            start_llama_server(model_path, n_ctx=2048, threads=args.server_threads)
            for _ in range(args.replicas)
        ]
        services += replicas
        print(
            f"services up in {time.perf_counter() - t0:.1f} s: postgres + {args.replicas} llama_cpp.server replicas "
            f"({args.server_threads} thread(s) each), {os.cpu_count()} CPUs"
        )
        urls = [r.url for r in replicas]
        settings_kwargs = {
            "checkpointer": postgres.url,
            "model_urls": urls,
            "temperature": 0.0,
            "max_tokens": 64,
        }
        (workdir / "notes").mkdir()
        reports = [ThreadReport(thread_id=f"load-{i}") for i in range(args.threads)]
        barrier = threading.Barrier(args.threads + 1)
        workers = [
            threading.Thread(
                target=run_thread, args=(i, settings_kwargs, workdir, reports[i], barrier)
            )
            for i in range(args.threads)
        ]
        for worker in workers:
            worker.start()
        barrier.wait()
        began = time.perf_counter()
        for worker in workers:
            worker.join()
        wall = time.perf_counter() - began

        pool = ServerPool.shared(
            urls, load_settings().remote_timeout_s, load_settings().remote_retry_s
        )
        lost: list[str] = []
        for r in reports:
            notes = sorted(p.name for p in (workdir / "notes").glob(r.thread_id + ".*"))
            problems = []
            if r.error:
                problems.append(r.error)
            if r.status != "finished":
                problems.append(f"status {r.status}")
            if len(r.approvals) != 1:
                problems.append(f"{len(r.approvals)} approvals asked")
            if r.executed != r.approvals:
                problems.append(f"executed {r.executed} but approved {r.approvals}")
            if len(notes) != 1:
                problems.append(f"{len(notes)} side effects")
            if r.steps != 2:
                problems.append(f"{r.steps} act steps checkpointed")
            if problems:
                lost.append(f"{r.thread_id}: " + "; ".join(problems))

        finished = sum(r.status == "finished" for r in reports)
        calls = 2 * finished
        tokens = sum(r.output_tokens for r in reports)
        latencies = sorted(r.seconds for r in reports)
        print(f"\n{args.threads} concurrent threads, {args.replicas} replicas, wall {wall:.1f} s")
        print(
            f"  runs finished        {finished}/{args.threads}  ({finished / wall * 60:.1f} runs/min)"
        )
        print(
            f"  model calls          {calls}  ({calls / wall:.2f} calls/s, all grammar-constrained)"
        )
        print(f"  generated tokens     {tokens}  ({tokens / wall:.1f} tokens/s aggregate)")
        print(
            f"  run latency          median {statistics.median(latencies):.1f} s, max {latencies[-1]:.1f} s"
        )
        print(f"  requests per replica {[pool.served[u] for u in pool.urls]}")
        print(
            f"  approvals asked      {sum(len(r.approvals) for r in reports)} (expected {args.threads})"
        )
        print(
            f"  side effects         {len(list((workdir / 'notes').iterdir()))} (expected {args.threads})"
        )
        if lost:
            print("LOST:\n  " + "\n  ".join(lost))
            return 1
        print(
            "  accounting           every thread: 2 act steps checkpointed, 1 approval, 1 execution (ledger agrees)"
        )
        return 0
    finally:
        for service in services:
            service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
