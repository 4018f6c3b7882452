"""agentkit's events and records as ACP session updates.

Tool calls get an ACP *kind* (read, edit, search, execute, fetch, think,
other), the files they touch as *locations*, and for writes and edits a
*diff* (the whole old and new text, as ACP clients render it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from acp import (
    plan_entry,
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_plan,
    update_tool_call,
)
from acp.schema import (
    AgentPlanUpdate,
    FileEditToolCallContent,
    PermissionOption,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    ToolCallStatus,
    ToolCallUpdate,
    ToolKind,
)
from langchain_core.tools import BaseTool

from agentkit.events import ApprovalRequest, PlanStep, ToolOutcome

TOOL_KINDS: dict[str, ToolKind] = {
    "read_file": "read",
    "list_dir": "search",
    "glob": "search",
    "grep": "search",
    "count": "read",
    "read_field": "read",
    "write_file": "edit",
    "edit_file": "edit",
    "copy_file": "edit",
    "move_file": "move",
    "sort_lines": "edit",
    "dedupe_lines": "edit",
    "set_field": "edit",
    "shell": "execute",
    "http_get": "fetch",
    "think": "think",
    "search_docs": "search",
    "recall": "search",
}
SIDE_EFFECT_KINDS: dict[str, ToolKind] = {
    "read": "read",
    "write": "edit",
    "exec": "execute",
    "network": "fetch",
}
PATH_ARGS = ("path", "file", "file_path", "filename", "source")
OUTPUT_CHARS = 20000

# Permission options: ids the client sends back in its outcome.
ALLOW_ONCE, ALLOW_ALWAYS, REJECT = "allow_once", "allow_always", "reject_once"
PERMISSION_OPTIONS = [
    PermissionOption(option_id=ALLOW_ONCE, name="Allow", kind="allow_once"),
    PermissionOption(option_id=ALLOW_ALWAYS, name="Always allow", kind="allow_always"),
    PermissionOption(option_id=REJECT, name="Reject", kind="reject_once"),
]


def tool_kind(name: str, side_effects: Sequence[str]) -> ToolKind:
    if name in TOOL_KINDS:
        return TOOL_KINDS[name]
    for effect in ("exec", "network", "write", "read"):  # the strongest effect names it
        if effect in side_effects:
            return SIDE_EFFECT_KINDS[effect]
    return "other"


def title(name: str, args: Mapping[str, Any]) -> str:
    """``write_file summary.md``, ``shell git status``: the tool and its main argument."""
    for key in (*PATH_ARGS, "command", "url", "pattern", "query", "expression"):
        value = args.get(key)
        if isinstance(value, str) and value:
            short = value if len(value) <= 60 else value[:57] + "..."
            return f"{name} {short}"
    return name


def locations(args: Mapping[str, Any], cwd: Path) -> list[ToolCallLocation]:
    """The file a call touches, as an absolute path (and line, when given)."""
    for key in PATH_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value:
            line = args.get("start_line")
            return [
                ToolCallLocation(
                    path=str((cwd / value).resolve()),
                    line=line if isinstance(line, int) and line >= 0 else None,
                )
            ]
    return []


def diff(tool: BaseTool | None, args: Mapping[str, Any]) -> list[FileEditToolCallContent]:
    """The old and new text of a write or an edit (empty when not one, or
    when it cannot be computed, e.g. the edit does not apply)."""
    ws = getattr(tool, "ws", None)
    path = args.get("path")
    if tool is None or ws is None or not isinstance(path, str):
        return []
    try:
        full = str(ws.resolve(path, for_write=True))
        if tool.name == "write_file":
            old = ws.read_text(path, 10_000_000)[0] if ws.exists(path) else None
            return [tool_diff_content(full, str(args.get("content", "")), old)]
        if tool.name == "edit_file":
            from agentkit.tools.files import EditFileArgs

            old, new = tool._edited(EditFileArgs.model_validate(dict(args)))  # type: ignore[attr-defined]
            return [tool_diff_content(full, new, old)]
    except Exception:  # noqa: BLE001 - the tool itself reports why it cannot run
        return []
    return []


def proposed(
    call_id: str,
    name: str,
    args: Mapping[str, Any],
    side_effects: Sequence[str],
    tool: BaseTool | None,
    cwd: Path,
) -> ToolCallStart:
    return start_tool_call(
        call_id,
        title(name, args),
        kind=tool_kind(name, side_effects),
        status="pending",
        content=diff(tool, args) or None,
        locations=locations(args, cwd) or None,
        raw_input=dict(args),
    )


STATUS: dict[str, ToolCallStatus] = {
    "ok": "completed",
    "responded": "completed",
    "error": "failed",
    "rejected": "failed",
    "denied": "failed",
}


def finished(call_id: str, status: ToolOutcome | str, output: str) -> ToolCallProgress:
    text = output if len(output) <= OUTPUT_CHARS else output[:OUTPUT_CHARS] + "\n… (truncated)"
    return update_tool_call(
        call_id,
        status=STATUS.get(status, "failed"),
        content=[tool_content(text_block(text))] if text else None,
        raw_output={"status": status, "output": text},
    )


def running(call_id: str) -> ToolCallProgress:
    return update_tool_call(call_id, status="in_progress")


def permission_call(request: ApprovalRequest, tool: BaseTool | None, cwd: Path) -> ToolCallUpdate:
    """What the client shows when asking: title, kind, diff, files, arguments."""
    content: list[Any] = list(diff(tool, request.args))
    preview = request.preview or {}
    if not content and preview.get("body"):
        content.append(tool_content(text_block(str(preview["body"]))))
    why = f" ({request.reason})" if request.reason else ""
    return ToolCallUpdate(
        tool_call_id=request.call_id,
        title=f"{title(request.tool, request.args)}{why}",
        kind=tool_kind(request.tool, request.side_effects),
        status="pending",
        content=content or None,
        locations=locations(request.args, cwd) or None,
        raw_input=request.args,
    )


PLAN_STATUS = {
    "pending": "pending",
    "running": "in_progress",
    "done": "completed",
    "failed": "completed",
}


def plan(steps: Sequence[PlanStep]) -> AgentPlanUpdate:
    return update_plan(
        plan_entry(s["text"], status=PLAN_STATUS.get(s["status"], "pending"))  # type: ignore[arg-type]
        for s in steps
    )


def prompt_text(blocks: Sequence[Any]) -> str:
    """A prompt's blocks as one task: text, links, and embedded files inline."""
    parts: list[str] = []
    for block in blocks:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource_link":
            parts.append(f"[{block.name}]({block.uri})")
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            if text is not None:
                parts.append(f"<file uri={json.dumps(resource.uri)}>\n{text}\n</file>")
    return "\n".join(p for p in parts if p)
