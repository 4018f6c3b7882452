"""Per-step framework overhead of the agent loop: graph + checkpoint time
with a model that takes no time (a scripted one), so everything measured is
agentkit + LangGraph + SQLite. Compare with the model's own time per step
(seconds, on the bundled model) to see what the framework costs.

    .venv/bin/python examples/agent_overhead.py [--steps 30] [--runs 3]
    .venv/bin/python examples/agent_overhead.py --real   # + the bundled model, 3 forced steps
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from langchain_core.tools import StructuredTool
from langgraph.checkpoint.memory import InMemorySaver

from agentkit.agent import Agent
from agentkit.config import load_settings
from agentkit.graphs.agent_graph import Limits, tool_order
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools.base import declare


def lookup(key: str) -> str:
    return f"value of {key}"


def measure(steps: int, durability: str, store: str, workdir: Path) -> float:
    """Seconds of framework time per agent step (act → approve → execute → observe)."""
    tool = declare(
        StructuredTool.from_function(lookup, name="lookup", description="Look up a key."), ["read"]
    )
    script = [call("lookup", {"key": f"k{i}"}) for i in range(steps)] + [final("done")]
    settings = load_settings(data_dir=workdir, workspace=workdir)
    agent = Agent(
        model=ScriptedChatModel(script=script),
        tools=[tool],
        settings=settings,
        checkpointer=InMemorySaver() if store == "memory" else None,
        planning=False,
        durability=durability,  # type: ignore[arg-type]
        limits=Limits(max_steps=steps + 2),
    )
    start = time.perf_counter()
    result = agent.run("look everything up")
    elapsed = time.perf_counter() - start
    assert result.status == "finished", result
    model_s = result.usage["model_seconds"]  # the scripted model's own (tiny) time
    return (elapsed - model_s) / (steps + 1)


def measure_real(workdir: Path) -> None:
    """Three forced steps on the bundled model: lookup, lookup, final_answer."""
    tool = declare(
        StructuredTool.from_function(lookup, name="lookup", description="Look up a key."), ["read"]
    )
    settings = load_settings(data_dir=workdir, workspace=workdir, temperature=0.0, max_tokens=96)
    agent = Agent(
        tools=[tool],
        settings=settings,
        planning=False,
        tool_choice=tool_order("lookup", "lookup", "final_answer"),
        limits=Limits(max_steps=3, max_repeats=5),
    )
    _ = agent.model  # load the GGUF outside the measurement
    start = time.perf_counter()
    result = agent.run("Look up the key alpha, then the key beta, then answer.")
    elapsed = time.perf_counter() - start
    steps = max(1, len(result.tool_calls) + (result.status == "finished"))
    model_s = result.usage["model_seconds"]
    print(f"bundled model: {result.status}, {steps} steps, {elapsed:.1f} s wall")
    print(f"  model    {model_s / steps:8.2f} s/step")
    print(
        f"  framework{(elapsed - model_s) / steps * 1000:8.1f} ms/step "
        f"({(elapsed - model_s) / elapsed * 100:.2f}% of the run)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--real", action="store_true", help="also time the bundled model")
    args = parser.parse_args()
    print(f"framework time per agent step ({args.steps} steps, median of {args.runs} runs)")
    for store, modes in (("memory", ["sync"]), ("sqlite", ["sync", "async", "exit"])):
        for mode in modes:
            samples = []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    samples.append(measure(args.steps, mode, store, Path(tmp)))
            print(
                f"  {store:6} durability={mode:5}  {statistics.median(samples) * 1000:7.2f} ms/step"
            )
    if args.real:
        with tempfile.TemporaryDirectory() as tmp:
            measure_real(Path(tmp))


if __name__ == "__main__":
    main()
