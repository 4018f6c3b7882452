"""Running an agent with no human at hand: every call that asks is
rejected, and the requests are kept for the test to look at."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import load_settings
from agentkit.events import ApprovalRequest, Reject
from agentkit.testing import ScriptedChatModel


class NoHuman:
    """An approver that says no to everything and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[ApprovalRequest] = []

    def __call__(self, requests: list[ApprovalRequest]) -> list[Reject]:
        self.asked.extend(requests)
        return [
            Reject(call_id=r.call_id, feedback="no one is here to approve this") for r in requests
        ]


def unattended(
    root: Path, tools: Iterable[BaseTool], policy: Policy, script: list[Any]
) -> tuple[Agent, NoHuman]:
    """An agent over ``tools`` in workspace ``root`` that replays ``script``."""
    approver = NoHuman()
    agent = Agent(
        model=ScriptedChatModel(script=script),
        tools=list(tools),
        policy=policy,
        checkpointer=InMemorySaver(),
        settings=load_settings(workspace=root, data_dir=root.parent / "data"),
        approver=approver,
        planning=False,
    )
    return agent, approver
