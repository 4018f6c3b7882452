"""Context compaction: a long thread with and without it.

    .venv/bin/python benchmarks/bench_compaction.py [--steps 200] [--n-ctx 2048]
    .venv/bin/python benchmarks/bench_compaction.py --bundled [--threads 1]

A scripted model calls a read tool ``steps - 1`` times (each result ~40
words) and then answers; summary requests get a fixed short summary. The
same thread runs twice on SQLite checkpoints: with compaction at 0.75 of
``n_ctx``, and without (a context size nothing reaches). Prompt sizes are
counted with LangChain's ``count_tokens_approximately`` on what the model was
actually sent. Prints numbers; asserts nothing (tests/test_compaction.py
does). ``--bundled`` also times one compaction of a 40-step thread (the
summary written by the bundled model, ``summary_tokens`` at most), the cost
each compaction adds to a run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agentkit.agent import Agent
from agentkit.config import Settings
from agentkit.events import CompactionEvent
from agentkit.graphs.agent_graph import Limits
from agentkit.graphs.compaction import SUMMARY_INSTRUCTIONS
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools.base import declare


class Summariser(ScriptedChatModel):
    """The script, a fixed summary for summary requests, and the prompt's
    size reported as LangChain's approximate token count (a real model
    reports its tokenizer's; the scripted model alone reports words)."""

    def _reply(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        if messages and str(messages[0].content) == SUMMARY_INSTRUCTIONS:
            return AIMessage(content="The assistant read pages in order; nothing failed.")
        reply = super()._reply(messages, **kwargs)
        if reply.usage_metadata is not None:
            tokens = count_tokens_approximately(messages)
            reply.usage_metadata = {**reply.usage_metadata, "input_tokens": tokens}
        return reply


class PageArgs(BaseModel):
    page: int


def probe(page: int) -> str:
    return f"page {page}: " + " ".join(f"word{page}-{i}" for i in range(40))


def run(steps: int, n_ctx: int, compact_at: float, data: Path) -> dict[str, float]:
    script: list[Any] = [call("probe", {"page": i}, f"p{i}") for i in range(steps - 1)]
    model = Summariser(script=[*script, final("read every page")])
    tool = declare(
        StructuredTool.from_function(
            probe, name="probe", description="Read a page.", args_schema=PageArgs
        ),
        ["read"],
    )
    settings = Settings(data_dir=data, workspace=data, n_ctx=n_ctx, compact_at=compact_at)
    agent = Agent(
        model=model,
        tools=[tool],
        settings=settings,
        planning=False,
        limits=Limits(max_steps=steps + 5, max_tokens=10**7, max_repeats=10**6),
    )
    start = time.perf_counter()
    events = list(agent.stream("read all the pages", "t"))
    wall = time.perf_counter() - start
    acts = [p for p in model.prompts if str(p[0].content) != SUMMARY_INSTRUCTIONS]
    sizes = [count_tokens_approximately(p) for p in acts]
    compactions = [e for e in events if isinstance(e, CompactionEvent)]
    return {
        "status_finished": float(agent.result("t").status == "finished"),
        "act_prompts": len(acts),
        "max_prompt_tokens": max(sizes),
        "total_prompt_tokens": sum(sizes),
        "compactions": len(compactions),
        "compaction_seconds": sum(e.seconds for e in compactions),
        "wall_seconds": wall,
        "checkpointed_messages": len(agent.threads.messages("t")),
    }


def time_bundled(threads: int, data: Path) -> None:
    """One compaction of a 40-step thread, summarised by the bundled model."""
    from agentkit.graphs.compaction import Compaction
    from agentkit.models.factory import make_chat_model

    steps = 40
    script: list[Any] = [call("probe", {"page": i}, f"p{i}") for i in range(steps - 1)]
    model = Summariser(script=[*script, final("read every page")])
    tool = declare(
        StructuredTool.from_function(
            probe, name="probe", description="Read a page.", args_schema=PageArgs
        ),
        ["read"],
    )
    settings = Settings(data_dir=data, workspace=data, n_ctx=10**7, compact_at=0.0)
    agent = Agent(
        model=model,
        tools=[tool],
        settings=settings,
        planning=False,
        limits=Limits(max_steps=steps + 5, max_tokens=10**7, max_repeats=10**6),
    )
    agent.run("read all the pages", "t")
    values = agent.graph.get_state({"configurable": {"thread_id": "t"}}).values
    real = make_chat_model(Settings(n_threads=threads, n_ctx=2048))
    real.invoke("hi", max_tokens=1)  # load the model first: not part of the figure
    compaction = Compaction(n_ctx=2048)
    start = time.perf_counter()
    note = compaction.compact(real, values, "manual")
    seconds = time.perf_counter() - start
    assert note is not None
    summarised = sum(len(str(m.content)) for m in values["messages"][: note["upto"]])
    print(
        f"bundled model, {threads} thread(s): one compaction of {note['upto']} messages "
        f"({summarised:,} chars) took {seconds:.1f}s"
    )
    print(note["summary"][-400:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--bundled", action="store_true", help="Time one real compaction.")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.bundled:
        with tempfile.TemporaryDirectory() as tmp:
            time_bundled(args.threads, Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        on = run(args.steps, args.n_ctx, 0.75, Path(tmp) / "on")
        off = run(args.steps, 10**7, 0.0, Path(tmp) / "off")
    print(f"{'':28}{'compaction':>14}{'none':>14}")
    for key in on:
        print(f"{key:28}{on[key]:>14,.2f}{off[key]:>14,.2f}")
    limit = int(args.n_ctx * 0.75)
    print(f"limit (0.75 x n_ctx {args.n_ctx}): {limit} tokens")
    saved = 1 - on["total_prompt_tokens"] / off["total_prompt_tokens"]
    print(f"prompt tokens sent over the thread: {saved:.0%} fewer with compaction")


if __name__ == "__main__":
    main()
