"""Context compaction with SQLite threads and a scripted model: a 200-step
thread runs to completion with every prompt under the limit, the prompt
only grows at its end between compactions, the full history stays in the
checkpoints, and /compact works by hand. (The same on the bundled model:
benchmarks/bench_compaction.py, figures in docs/control.md.)"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from control_support import control_agent, control_settings
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agentkit.agent import Agent
from agentkit.events import CompactionEvent, Reject
from agentkit.graphs.agent_graph import Limits
from agentkit.graphs.compaction import SUMMARY_INSTRUCTIONS, Compaction
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools.base import declare


class SummarisingModel(ScriptedChatModel):
    """Answers summary requests itself; everything else comes from the script."""

    def _reply(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        if messages and str(messages[0].content) == SUMMARY_INSTRUCTIONS:
            self._prompts.append(list(messages))
            return AIMessage(content="The assistant probed page after page; nothing failed.")
        return super()._reply(messages, **kwargs)


class ProbeArgs(BaseModel):
    page: int


def probe_tool() -> StructuredTool:
    def probe(page: int) -> str:
        return f"page {page}: " + " ".join(f"word{page}-{i}" for i in range(45))

    tool = StructuredTool.from_function(
        probe, name="probe", description="Read a page.", args_schema=ProbeArgs
    )
    return declare(tool, ["read"])


def act_prompts(model: ScriptedChatModel) -> list[list[BaseMessage]]:
    return [p for p in model.prompts if str(p[0].content) != SUMMARY_INSTRUCTIONS]


def words(prompt: list[BaseMessage]) -> int:
    return sum(len(str(m.content).split()) for m in prompt)


def long_agent(tmp_path: Path, steps: int, n_ctx: int = 2048) -> tuple[Agent, SummarisingModel]:
    script: list[Any] = [call("probe", {"page": i}, f"p{i}") for i in range(steps - 1)]
    script.append(final("read every page"))
    model = SummarisingModel(script=script)
    settings = control_settings(tmp_path, compact_at=0.75, compact_keep=6)
    agent = Agent(
        model=model,
        tools=[probe_tool()],
        settings=settings.model_copy(update={"n_ctx": n_ctx}),
        planning=False,
        limits=Limits(max_steps=steps + 5, max_tokens=10**6, max_repeats=10**6),
        durability="async",
    )
    return agent, model


def test_a_200_step_thread_stays_under_the_limit(tmp_path: Path) -> None:
    agent, model = long_agent(tmp_path, 200)
    events = list(agent.stream("read all the pages", "t"))
    result = agent.result("t")
    assert result.status == "finished", result.stop_reason
    assert len(result.tool_calls) == 199
    compactions = [e for e in events if isinstance(e, CompactionEvent)]
    assert len(compactions) >= 5
    limit = int(2048 * 0.75)
    prompts = act_prompts(model)
    assert len(prompts) == 200
    assert max(words(p) for p in prompts) <= limit
    assert all(e.tokens_after < e.tokens_before for e in compactions)
    # the full history stays in the checkpoints (time travel and export see it)
    messages = agent.threads.messages("t")
    assert len(messages) > 400
    assert messages[0].content == "read all the pages"
    assert messages[1].tool_calls[0]["id"] == "p0"  # type: ignore[attr-defined]
    # the summary keeps the task verbatim and is in the system text
    system = str(prompts[-1][0].content)
    assert "Task: read all the pages" in system and "Summary of the earlier conversation" in system


def test_the_prompt_only_grows_at_its_end_between_compactions(tmp_path: Path) -> None:
    agent, model = long_agent(tmp_path, 60)
    list(agent.stream("read all the pages", "t"))
    prompts = [[(m.type, str(m.content)) for m in p] for p in act_prompts(model)]
    new_prefixes = 0
    for before, after in itertools.pairwise(prompts):
        if after[: len(before)] != before:
            new_prefixes += 1
            assert after[0] != before[0], "only a compaction starts a new prefix"
    summaries = agent.graph.get_state({"configurable": {"thread_id": "t"}}).values["summaries"]
    assert new_prefixes == len(summaries) >= 1


def test_compaction_keeps_open_calls_and_decisions(tmp_path: Path) -> None:
    script: list[Any] = [call("probe", {"page": i}, f"p{i}") for i in range(12)]
    agent, _, _ = control_agent(
        tmp_path,
        [call("write_file", {"path": "x.txt", "content": "x"}, "w1"), *script, final("ok")],
        limits=Limits(max_steps=30),
    )
    agent.tools.append(probe_tool())
    agent.nodes.tools_by_name["probe"] = agent.tools[-1]
    agent.run("x", "t")
    agent.resume("t", [Reject(call_id="w1", feedback="never write x.txt")])
    values = agent.graph.get_state({"configurable": {"thread_id": "t"}}).values
    note = Compaction(n_ctx=4096, keep_last=3).compact(SummarisingModel(script=[]), values)
    assert note is not None
    assert "never write x.txt" in note["summary"], "the human's decision is kept verbatim"
    kept = values["messages"][note["upto"] :]
    assert kept[0].type in ("ai", "human"), "the cut never separates a call from its result"


def test_compact_by_hand(tmp_path: Path) -> None:
    agent, model = long_agent(tmp_path, 12, n_ctx=100_000)
    list(agent.stream("read all the pages", "t"))
    assert not any(str(p[0].content) == SUMMARY_INSTRUCTIONS for p in model.prompts)
    event = agent.compact("t")
    assert isinstance(event, CompactionEvent) and event.trigger == "manual"
    assert event.tokens_after < event.tokens_before
    values = agent.graph.get_state({"configurable": {"thread_id": "t"}}).values
    assert values["summaries"][-1]["upto"] == event.summarized
    assert agent.result("t").status == "finished", "compacting does not reopen the run"
    # the next run continues on the summary
    model.script.append(final("again"))
    agent.run("and now?", "t")
    last = act_prompts(model)[-1]
    assert isinstance(last[0], SystemMessage) and "Summary:" in str(last[0].content)
    assert len(last) < len(values["messages"])


class EchoingModel(ScriptedChatModel):
    """What the bundled 270M model does when asked for a summary: copies its input."""

    def _reply(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        return AIMessage(content="\n".join(str(m.content) for m in messages))


def test_a_summary_that_copies_the_input_is_not_used(tmp_path: Path) -> None:
    agent, _ = long_agent(tmp_path, 12, n_ctx=100_000)
    list(agent.stream("read all the pages", "t"))
    values = agent.graph.get_state({"configurable": {"thread_id": "t"}}).values
    note = Compaction(n_ctx=2048, keep_last=3).compact(EchoingModel(script=[]), values)
    assert note is not None
    assert "(no model summary)" in note["summary"]
    assert SUMMARY_INSTRUCTIONS not in note["summary"]
    assert len(note["summary"]) < 1500


class DumpArgs(BaseModel):
    what: str


def dump_tool(chars: int) -> StructuredTool:
    def dump(what: str) -> str:
        # two characters a word: the scripted model counts words as tokens
        return f"{what}: " + "x " * (chars // 2)

    tool = StructuredTool.from_function(
        dump, name="dump", description="Print everything.", args_schema=DumpArgs
    )
    return declare(tool, ["read"])


def test_a_result_larger_than_the_context_is_cut_and_the_prompt_never_grows(
    tmp_path: Path,
) -> None:
    """The issue's case: a 20k-character result with an 8k context. It enters
    the transcript cut to its share of the budget (with a note); every
    compaction shrinks the prompt; the run never meets the context size."""
    script: list[Any] = [call("dump", {"what": "log"}, "d1")]
    script += [call("probe", {"page": i}, f"p{i}") for i in range(40)]
    script.append(final("done"))
    model = SummarisingModel(script=script)
    settings = control_settings(tmp_path, compact_at=0.75, compact_keep=6)
    agent = Agent(
        model=model,
        tools=[dump_tool(20_000), probe_tool()],
        settings=settings.model_copy(update={"n_ctx": 8192}),
        planning=False,
        limits=Limits(max_steps=60, max_tokens=10**6, max_repeats=10**6),
    )
    events = list(agent.stream("dump the log, then read the pages", "t"))
    result = agent.result("t")
    assert result.status == "finished", result.stop_reason
    budget = agent.nodes.compaction.result_budget()  # type: ignore[union-attr]
    dumped = next(m for m in agent.threads.messages("t") if getattr(m, "tool_call_id", "") == "d1")
    assert budget < 20_000 and len(str(dumped.content)) <= budget + 300
    assert "[output truncated:" in str(dumped.content) and "8192 tokens" in str(dumped.content)
    assert len(result.tool_calls[0]["output"]) >= 19_000  # the tool log keeps it whole
    compactions = [e for e in events if isinstance(e, CompactionEvent)]
    assert compactions and all(e.tokens_after < e.tokens_before for e in compactions)


class LongSummaryModel(ScriptedChatModel):
    """A summary longer than what it summarises (small models ramble)."""

    def _reply(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        return AIMessage(content="The assistant did many things. " * 60)


def test_a_summary_that_would_grow_the_prompt_falls_back_to_leaving_turns_out(
    tmp_path: Path,
) -> None:
    agent, _ = long_agent(tmp_path, 4, n_ctx=100_000)
    list(agent.stream("read all the pages", "t"))
    agent.nodes.model = LongSummaryModel(script=[])
    agent.nodes.compaction = Compaction(n_ctx=100_000, keep_last=2)
    event = agent.compact("t")
    assert event is not None
    assert event.tokens_after < event.tokens_before
    assert "left out to fit the context" in event.summary
    assert "did many things" not in event.summary
