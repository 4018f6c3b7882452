"""Typed retries: a call that failed only for want of one argument is
proposed again, that argument set, when the small model gives up instead.

The 270M model asked edit_file to replace "recieve" in a letter that has it
twice; the tool refused (the text is not unique, "set replace_all") and the
model answered "Replace all four." with the file unchanged. A capable model
reads the error and retries; a small one gets the retry as the next step's
only call: the same path and texts, with ``replace_all`` set (through the
grammar, so the model decodes only what is forced). The retry is an
ordinary call: it is previewed and approved like any other edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.tools import BaseTool, ToolException

from agentkit.models.grammar import ArgChoices, Fixed, Omitted, RequiredChoices
from agentkit.steering.arguments import workspace_of

EDIT_TOOL = "edit_file"
MAX_RETRY_FILE_BYTES = 200_000


def _failed_call(messages: Sequence[AnyMessage]) -> tuple[dict[str, object], str] | None:
    """The args of the latest step's only call and its tool, when that step
    was one call that failed."""
    if len(messages) < 2:
        return None
    result, step = messages[-1], messages[-2]
    if not isinstance(result, ToolMessage) or not isinstance(step, AIMessage):
        return None
    if len(step.tool_calls) != 1 or result.status != "error":
        return None
    call = step.tool_calls[0]
    return dict(call["args"]), call["name"]


def edited_text(offered: Sequence[BaseTool], args: Mapping[str, object]) -> str | None:
    """The text of the file an ``edit_file`` call of ``args`` edits; None
    when edit_file is not offered or the file is unreadable or large."""
    tool = next((t for t in offered if t.name == EDIT_TOOL), None)
    ws = workspace_of(tool) if tool is not None else None
    path = args.get("path")
    if ws is None or not isinstance(path, str):
        return None
    try:
        text, size = ws.read_text(path, MAX_RETRY_FILE_BYTES)
    except (ToolException, OSError, ValueError):
        return None
    return text if size <= MAX_RETRY_FILE_BYTES else None


def replace_all_retry(
    messages: Sequence[AnyMessage], offered: Sequence[BaseTool]
) -> dict[str, ArgChoices] | None:
    """The choices of an ``edit_file`` call that repeats the latest step's
    failed one with ``replace_all`` set, when that call failed because its
    old text occurs more than once in the file (counted here, not read from
    the error's words); else None."""
    failed = _failed_call(messages)
    if failed is None or failed[1] != EDIT_TOOL:
        return None
    args = failed[0]
    path, old, new = args.get("path"), args.get("old_string"), args.get("new_string")
    if not (isinstance(path, str) and isinstance(old, str) and isinstance(new, str)):
        return None
    if not old or old == new or args.get("replace_all") or args.get("patch"):
        return None
    text = edited_text(offered, args)
    if text is None or text.count(old) < 2:
        return None
    return {
        "path": RequiredChoices([path]),
        "old_string": RequiredChoices([old]),
        "new_string": RequiredChoices([new]),
        "replace_all": Fixed(True),
        "patch": Omitted(),
    }
