"""End to end on the real bundled model (Gemma 3 270M via llama.cpp): read a
file, write a summary file (the write allowed through the policy API), finish.

The model is weak, so the run is scripted the way a user scripts one: the act
step's ``tool_choice`` is forced per step (read, then write, then answer).
The model writes every argument (the read tool's schema lists the one file
it may read, the way a scripted run narrows a weak model's action space);
constrained decoding must make each call schema-valid, and the framework must
carry it through policy, execution, checkpoints and the final answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field
from tests_support import summary_tools

from agentkit.agent import Agent
from agentkit.approvals.decisions import validate_args
from agentkit.approvals.policy import Policy
from agentkit.config import load_settings
from agentkit.graphs import tool_order

pytestmark = [pytest.mark.model, pytest.mark.slow]

NOTES = (
    "The Rhine is a river in Europe. It starts in the Swiss Alps and flows north to the North Sea.\n"
    "It is about 1230 km long.\n"
)


class ReadArgs(BaseModel):
    # the action space of a scripted run: the files it may read
    path: Literal["notes.txt"]


class SummaryArgs(BaseModel):
    # bounded, so a small model closes the string instead of rambling
    content: str = Field(min_length=1, max_length=200)


def test_read_then_write_summary_with_policy_approval(tmp_path: Path) -> None:
    from agentkit.tools import builtin_tools

    (tmp_path / "notes.txt").write_text(NOTES)
    settings = load_settings(
        data_dir=tmp_path / "data", workspace=tmp_path, temperature=0.0, seed=7, max_tokens=160
    )
    builtin_read = next(t for t in builtin_tools(settings, read_only=True) if t.name == "read_file")
    read_file, write = summary_tools(
        tmp_path,
        lambda path: builtin_read.invoke({"path": path}),
        builtin_read.description,
        ReadArgs,
        SummaryArgs,
        "wrote {n} characters to summary.md",
    )
    policy = Policy.default()
    thread_id = "e2e"
    # the write is approved through the policy API, not by a prompt
    assert policy.evaluate(write, {"content": "x"}, thread_id).action == "ask"
    rule = policy.add_always_allow("write_summary", scope="thread", thread_id=thread_id)
    assert policy.evaluate(write, {"content": "x"}, thread_id).action == "allow"

    agent = Agent(
        tools=[read_file, write],
        settings=settings,
        policy=policy,
        planning=False,
        tool_choice=tool_order("read_file", "write_summary", "final_answer"),
    )
    events = list(
        agent.stream("Read the file notes.txt, then write a one-line summary of it.", thread_id)
    )
    result = agent.result(thread_id)

    proposed = [(e.tool, e.args) for e in events if e.kind == "tool_call"]
    assert len(proposed) == 2, (proposed, result.tool_calls)
    assert result.status == "finished", (result.stop_reason, result.tool_calls)
    tools_used = [c["tool"] for c in result.tool_calls]
    assert tools_used[:2] == ["read_file", "write_summary"], result.tool_calls
    for record in result.tool_calls:  # every call the model made was schema-valid
        tool = read_file if record["tool"] == "read_file" else write
        assert validate_args(tool, record["args"]) is None
        assert record["status"] == "ok", record
    assert "1230 km" in result.tool_calls[0]["output"]  # the file was read
    summary = (tmp_path / "summary.md").read_text()
    assert summary == result.tool_calls[1]["args"]["content"] and summary.strip()
    assert result.answer.strip()
    assert result.usage["output_tokens"] > 0 and result.usage["model_seconds"] > 0
    assert rule.id in {r.id for r in agent.policy.list_rules()}
    # the finished thread is in the store with its transcript
    assert agent.threads.get(thread_id).status == "finished"
