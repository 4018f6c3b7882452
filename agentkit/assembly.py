"""The agent a user runs, built one way for every front end.

``agentkit run``, ``agentkit chat``, ``agentkit acp``, ``agentkit tools
list`` and ``agentkit eval`` all build their agent here: the built-in, user
and MCP tools (or the read-only built-ins), the knowledge base's tools and
retrieval (documents and memories) unless memory is off, the settings'
policy, model and steering. What the eval measures is what users get; a
difference is an option a target names (``--variant``).
"""

from __future__ import annotations

import atexit
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agentkit.config import Settings
from agentkit.errors import AgentkitError, ConfigError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel
    from langchain_core.tools import BaseTool

    from agentkit.agent import Agent, Approver
    from agentkit.approvals.policy import Policy
    from agentkit.memory.knowledge import KnowledgeBase


@dataclass
class AgentSetup:
    """An agent and the knowledge base it holds open (closed by :meth:`close`)."""

    agent: Agent
    knowledge: KnowledgeBase | None = None

    def close(self) -> None:
        if self.knowledge is not None:
            self.knowledge.close()
            self.knowledge = None

    def __enter__(self) -> AgentSetup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def user_tools(
    settings: Settings, *, read_only: bool = False, knowledge: KnowledgeBase | None = None
) -> list[BaseTool]:
    """The tools a user's agent gets: built-in, user and MCP tools (only the
    read-only built-ins with ``read_only``), then the memory tools of
    ``knowledge``."""
    from agentkit.tools import all_tools, builtin_tools

    tools = builtin_tools(settings, read_only=True) if read_only else all_tools(settings)
    return [*tools, *_memory_tools(knowledge)]


def _memory_tools(knowledge: KnowledgeBase | None) -> list[BaseTool]:
    from agentkit.tools.memory import memory_tools
    from agentkit.tools.registry import SOURCE_KEY

    if knowledge is None:
        return []
    tools = memory_tools(knowledge)
    for tool in tools:
        tool.metadata = {**(tool.metadata or {}), SOURCE_KEY: "memory"}
    return tools


def select_tools(tools: Sequence[BaseTool], names: Sequence[str] | None) -> list[BaseTool]:
    """``tools``, or only those named (in that order); an unknown name is one line."""
    if names is None:
        return list(tools)
    by_name = {t.name: t for t in tools}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(
            f"unknown tool(s) {', '.join(unknown)}", hint=f"available: {', '.join(sorted(by_name))}"
        )
    return [by_name[n] for n in names]


def open_knowledge(
    settings: Settings, embeddings: Embeddings | None = None, data_dir: Path | None = None
) -> KnowledgeBase | None:
    """The knowledge base, or None when memory is off or the store cannot be
    opened now (locked by another process, say: a warning says why)."""
    if not settings.memory:
        return None
    from agentkit.memory.knowledge import KnowledgeBase
    from agentkit.models.factory import shared_embeddings

    try:
        return KnowledgeBase.open(
            settings, embeddings=embeddings or shared_embeddings(settings), data_dir=data_dir
        )
    except AgentkitError as err:
        warnings.warn(f"memory and documents are off: {err}", UserWarning, stacklevel=2)
        return None


_SHARED: dict[tuple[str, str], KnowledgeBase | None] = {}


def shared_knowledge(settings: Settings) -> KnowledgeBase | None:
    """One knowledge base per data dir (or server) for the whole process: a
    command that builds several agents (a tasks file, ACP sessions) opens
    the store once; it closes when the process ends."""
    key = (str(settings.resolved_data_dir()), settings.chroma_url or "")
    if key not in _SHARED:
        if not _SHARED:
            atexit.register(_close_shared)
        _SHARED[key] = open_knowledge(settings)
    return _SHARED[key]


def _close_shared() -> None:
    for knowledge in _SHARED.values():
        if knowledge is not None:
            knowledge.close()
    _SHARED.clear()


def build_agent(
    settings: Settings,
    *,
    model: BaseChatModel | Callable[[], BaseChatModel] | None = None,
    tools: Sequence[BaseTool] | None = None,
    tool_names: Sequence[str] | None = None,
    read_only: bool = False,
    knowledge: KnowledgeBase | None = None,
    policy: Policy | None = None,
    approver: Approver | None = None,
    planning: bool | None = None,
    embeddings: Embeddings | None = None,
) -> AgentSetup:
    """The agent for ``settings``. ``knowledge``: an open knowledge base to
    use (else one is opened when the ``memory`` setting is on, and closed
    with the setup). ``tools`` replaces the user's built-in, user and MCP
    tools (the knowledge base's are added); ``tool_names`` keeps only those."""
    from agentkit.agent import Agent

    opened = None
    if knowledge is None:
        knowledge = opened = open_knowledge(settings, embeddings)
    try:
        if tools is None:
            available = user_tools(settings, read_only=read_only, knowledge=knowledge)
        else:
            available = [*tools, *_memory_tools(knowledge)]
        chosen = select_tools(available, tool_names)
        agent = Agent(
            model=model,
            tools=chosen,
            memory=knowledge,
            settings=settings,
            policy=policy,
            approver=approver,
            planning=planning,
        )
    except BaseException:
        if opened is not None:
            opened.close()
        raise
    return AgentSetup(agent, opened)
