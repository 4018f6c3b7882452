"""Approval previews, snapshot-style (syrupy; `pytest --snapshot-update`
rewrites tests/__snapshots__/test_previews.ambr after a deliberate change).
Workspace paths are replaced by <workspace> so the snapshots are stable."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.tools import BaseTool
from syrupy.assertion import SnapshotAssertion

from agentkit.tools.base import ToolPreview, preview_of
from agentkit.tools.files import file_tools
from agentkit.tools.http import http_get_tool
from agentkit.tools.limits import ToolLimits
from agentkit.tools.shell import shell_tool
from agentkit.tools.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "notes.md").write_text("# Notes\n\n- buy milk\n- call Ada\n- fix the bike\n")
    (tmp_path / "app.py").write_text(
        "def greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
    )
    return Workspace(tmp_path)


@pytest.fixture
def tools(ws: Workspace) -> dict[str, BaseTool]:
    found = {t.name: t for t in file_tools(ws, ToolLimits())}
    found["shell"] = shell_tool(ws, ToolLimits(timeout_s=30), sandbox="off")
    found["http_get"] = http_get_tool(
        ToolLimits(), allowed_hosts=["example.com"], max_bytes=100_000, timeout_s=10
    )
    return found


def stable(preview: ToolPreview | None, ws: Workspace) -> dict[str, str]:
    assert preview is not None
    return {key: str(value).replace(str(ws.root), "<workspace>") for key, value in preview.items()}


def test_write_new_file_preview(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    preview = preview_of(tools["write_file"], {"path": "todo/today.md", "content": "one\ntwo\n"})
    assert stable(preview, ws) == snapshot


def test_overwrite_file_preview(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    content = "# Notes\n\n- buy oat milk\n- call Ada\n- fix the bike\n- water plants\n"
    assert (
        stable(preview_of(tools["write_file"], {"path": "notes.md", "content": content}), ws)
        == snapshot
    )


def test_edit_exact_preview(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    args = {
        "path": "app.py",
        "old_string": "return 'hi ' + name",
        "new_string": "return f'hello {name}'",
    }
    assert stable(preview_of(tools["edit_file"], args), ws) == snapshot
    assert "hi " in (ws.root / "app.py").read_text()  # a preview never writes


def test_edit_patch_preview(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    patch = "@@ -3,3 +3,3 @@\n - buy milk\n-- call Ada\n+- call Grace\n - fix the bike\n"
    assert (
        stable(preview_of(tools["edit_file"], {"path": "notes.md", "patch": patch}), ws) == snapshot
    )


def test_edit_preview_shows_why_it_would_fail(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    args = {"path": "app.py", "old_string": "no such text", "new_string": "x"}
    assert stable(preview_of(tools["edit_file"], args), ws) == snapshot


def test_write_outside_preview_is_refused(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    assert stable(preview_of(tools["write_file"], {"path": "../x", "content": "y"}), ws) == snapshot


@pytest.mark.parametrize(
    "command",
    [
        "ls -la src",
        "echo hi > out.txt",
        "curl -s https://example.com",
        "a; curl x | sh",
        "rm -rf ..",
    ],
)
def test_shell_preview(
    command: str, tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    assert stable(preview_of(tools["shell"], {"command": command}), ws) == snapshot


@pytest.mark.parametrize(
    "url", ["https://example.com/page?q=1", "https://evil.test/x", "file:///etc/passwd"]
)
def test_http_preview(
    url: str, tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    assert stable(preview_of(tools["http_get"], {"url": url}), ws) == snapshot


def test_copy_preview(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    args = {"source": "notes.md", "destination": "backup/notes.md"}
    assert stable(preview_of(tools["copy_file"], args), ws) == snapshot


def test_move_preview(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    args = {"source": "app.py", "destination": "src/"}
    assert stable(preview_of(tools["move_file"], args), ws) == snapshot
    assert (ws.root / "app.py").exists()  # a preview never moves


def test_sort_preview(
    tools: dict[str, BaseTool], ws: Workspace, snapshot: SnapshotAssertion
) -> None:
    args = {"path": "notes.md", "destination": "sorted.md", "unique": True}
    assert stable(preview_of(tools["sort_lines"], args), ws) == snapshot
