"""Shared helpers for the TUI tests."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit.config import Settings
from agentkit.events import ApprovalRequest

WRITE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
    "required": ["path", "content"],
    "additionalProperties": False,
}


def write_request(
    call_id: str = "call_w1", path: str = "notes.md", content: str = "hello\n"
) -> ApprovalRequest:
    lines = content.splitlines() or [""]
    body = (
        "--- /dev/null\n+++ b/"
        + path
        + f"\n@@ -0,0 +1,{len(lines)} @@\n"
        + "".join(f"+{line}\n" for line in lines)
    )
    return ApprovalRequest(
        call_id=call_id,
        tool="write_file",
        args={"path": path, "content": content},
        side_effects=["write"],
        danger="safe",
        preview={"kind": "diff", "summary": f"create {path} ({len(lines)} lines)", "body": body},
        args_schema=WRITE_SCHEMA,
        reason="write: ask (default)",
    )


def shell_request(call_id: str = "call_s1") -> ApprovalRequest:
    return ApprovalRequest(
        call_id=call_id,
        tool="shell",
        args={"command": "rm -rf build"},
        side_effects=["exec", "write"],
        danger="destructive",
        preview={
            "kind": "command",
            "summary": "run a shell command",
            "body": "rm -rf build",
            "cwd": "/work/project",
        },
        args_schema={
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
        reason="exec: ask (default)",
    )


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", workspace=tmp_path / "ws")
