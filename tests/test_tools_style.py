"""Every built-in tool is written one way: a DeclaredTool subclass whose
contract is declared when it is made, sync, and callable with ainvoke."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.config import Settings, load_settings
from agentkit.memory import KnowledgeBase
from agentkit.tools.base import contract_of
from agentkit.tools.declared import DeclaredTool
from agentkit.tools.http import http_get_tool
from agentkit.tools.limits import ToolLimits
from agentkit.tools.memory import memory_tools
from agentkit.tools.registry import builtin_tools

# One harmless call per tool that must succeed (http_get: a mock transport).
SAMPLE_ARGS: dict[str, dict[str, object]] = {
    "read_file": {"path": "notes.txt"},
    "list_dir": {},
    "glob": {"pattern": "*.txt"},
    "grep": {"pattern": "apples"},
    "count": {"path": "notes.txt"},
    "read_field": {"path": "config.json", "key": "port"},
    "write_file": {"path": "new.txt", "content": "hello\n"},
    "edit_file": {"path": "notes.txt", "old_string": "apples", "new_string": "pears"},
    "copy_file": {"source": "notes.txt", "destination": "copy.txt"},
    "move_file": {"source": "old.txt", "destination": "moved.txt"},
    "sort_lines": {"path": "list.txt"},
    "dedupe_lines": {"path": "list.txt"},
    "set_field": {"path": "config.json", "key": "port", "value": "9090"},
    "shell": {"command": "echo hi"},
    "calculator": {"expression": "6 * 7"},
    "http_get": {"url": "http://example.com/"},
    "current_time": {"timezone": "UTC"},
    "think": {"thought": "a plan"},
    "search_docs": {"query": "apples"},
    "remember": {"text": "The user likes pears."},
    "recall": {"query": "fruit"},
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("apples\n")
    (root / "list.txt").write_text("b\na\nb\n")
    (root / "old.txt").write_text("old\n")
    (root / "config.json").write_text('{"port": 8443}\n')
    return load_settings(workspace=root, data_dir=tmp_path / "data", shell_sandbox="off")


@pytest.fixture
def kb(settings: Settings) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase.open(settings, embeddings=DeterministicFakeEmbedding(size=16))
    yield base
    base.close()


def every_tool(settings: Settings, kb: KnowledgeBase) -> list[BaseTool]:
    return (
        builtin_tools(settings, read_only=False)
        + builtin_tools(settings, read_only=True)
        + memory_tools(kb)
    )


def test_every_builtin_tool_is_a_declared_tool(settings: Settings, kb: KnowledgeBase) -> None:
    tools = every_tool(settings, kb)
    assert {t.name for t in tools} == set(SAMPLE_ARGS)
    for tool in tools:
        assert isinstance(tool, DeclaredTool), tool.name
        assert contract_of(tool) is not None, tool.name


async def test_every_builtin_tool_runs_with_ainvoke(settings: Settings, kb: KnowledgeBase) -> None:
    page = httpx.MockTransport(lambda _request: httpx.Response(200, text="a page"))
    tools = {t.name: t for t in builtin_tools(settings) + memory_tools(kb)}
    tools["http_get"] = http_get_tool(ToolLimits(), transport=page)
    for name, args in SAMPLE_ARGS.items():
        call = {"type": "tool_call", "name": name, "args": args, "id": f"call-{name}"}
        message = await tools[name].ainvoke(call)
        assert isinstance(message, ToolMessage), name
        assert message.status == "success", f"{name}: {message.content}"


async def test_remember_records_its_call_with_ainvoke(kb: KnowledgeBase) -> None:
    remember = {t.name: t for t in memory_tools(kb)}["remember"]
    call = {"type": "tool_call", "name": "remember", "args": {"text": "Dog: Biscuit."}, "id": "c7"}
    await remember.ainvoke(call, config={"configurable": {"thread_id": "thread-7"}})
    [record] = kb.memories.list()
    assert (record.thread_id, record.message_id) == ("thread-7", "c7")
