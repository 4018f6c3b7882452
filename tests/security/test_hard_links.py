"""Attack surface: hard links. A hard link inside the workspace can be a
file outside it (the workspace checks paths, and a hard link has no path
to the outside to check). File tools refuse to read regular files with more
than one link unless ``read_hard_links`` is set; writes replace the link
itself and never touch the other name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agentkit.config import load_settings
from agentkit.tools import builtin_tools

SECRET = "TOP-SECRET-OUTSIDE"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text(SECRET + "\n")
    try:
        os.link(outside, ws / "linked.txt")
    except OSError as err:  # pragma: no cover - file systems without hard links
        pytest.skip(f"no hard links here: {err}")
    (ws / "plain.txt").write_text("plain\n")
    return ws


def tools_for(root: Path, **extra: object) -> dict[str, BaseTool]:
    settings = load_settings(workspace=root, data_dir=root.parent / "data", **extra)
    return {t.name: t for t in builtin_tools(settings)}


def run(tool: BaseTool, args: dict[str, object]) -> ToolMessage:
    out = tool.invoke({"type": "tool_call", "name": tool.name, "args": args, "id": "1"})
    assert isinstance(out, ToolMessage)
    return out


def test_reading_a_hard_linked_file_is_refused(root: Path) -> None:
    tools = tools_for(root)
    out = run(tools["read_file"], {"path": "linked.txt"})
    assert out.status == "error" and "2 hard links" in out.content
    assert "read_hard_links" in out.content and SECRET not in out.content
    assert "plain" in run(tools["read_file"], {"path": "plain.txt"}).content
    grep = run(tools["grep"], {"pattern": "SECRET|plain"})
    assert SECRET not in grep.content and "plain.txt" in grep.content
    direct = run(tools["grep"], {"pattern": "SECRET", "path": "linked.txt"})
    assert direct.status == "error" and SECRET not in direct.content
    edit = run(tools["edit_file"], {"path": "linked.txt", "old_string": "TOP", "new_string": "x"})
    assert edit.status == "error"
    assert (root.parent / "outside.txt").read_text() == SECRET + "\n"


def test_the_setting_allows_it(root: Path) -> None:
    tools = tools_for(root, read_hard_links=True)
    assert SECRET in run(tools["read_file"], {"path": "linked.txt"}).content


def test_a_write_replaces_the_link_not_the_other_file(root: Path) -> None:
    tools = tools_for(root)
    assert run(tools["write_file"], {"path": "linked.txt", "content": "new"}).status == "success"
    assert (root / "linked.txt").read_text() == "new"
    assert (root.parent / "outside.txt").read_text() == SECRET + "\n"
