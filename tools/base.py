"""The tool contract: side effects declared as data, plus approval previews.

Any LangChain tool works unchanged. agentkit reads two optional keys from the
tool's ``metadata``:

- ``"agentkit_side_effects"``: a list of :data:`SideEffect`. A tool without it
  is treated as ``exec`` (so the default policy asks before running it).
- ``"agentkit_preview"``: a callable ``(args: dict) -> ToolPreview`` that shows
  the human what the call would do (a diff, a command, a URL) before approval.
- ``"agentkit_danger"``: a callable ``(args: dict) -> DangerLevel`` (shell uses
  it). The policy layer never auto-allows a ``destructive`` call through a
  pattern rule.
- ``"agentkit_policy"``: a default :data:`PolicyAction` for this tool, used when
  the policy file has no rule naming the tool (MCP server config sets it).

Approval wraps tools; tools never ask for approval themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langchain_core.tools import BaseTool

# The vocabulary lives in the bottom layer (events and approvals use it too).
from agentkit.events import SIDE_EFFECTS, DangerLevel, PolicyAction, SideEffect, ToolPreview

__all__ = [
    "SIDE_EFFECTS",
    "DangerLevel",
    "DangerFn",
    "PolicyAction",
    "PreviewFn",
    "SideEffect",
    "ToolPreview",
    "danger_of",
    "declare",
    "default_policy_of",
    "preview_of",
    "side_effects_of",
]

SIDE_EFFECTS_KEY = "agentkit_side_effects"
PREVIEW_KEY = "agentkit_preview"
DANGER_KEY = "agentkit_danger"
POLICY_KEY = "agentkit_policy"


PreviewFn = Callable[[Mapping[str, Any]], ToolPreview]
DangerFn = Callable[[Mapping[str, Any]], DangerLevel]


def declare(
    tool: BaseTool,
    side_effects: Iterable[SideEffect],
    preview: PreviewFn | None = None,
    danger: DangerFn | None = None,
    policy: PolicyAction | None = None,
) -> BaseTool:
    """Attach side effects (and optionally a preview, a danger classifier and a
    default policy) to any LangChain tool. Returns the same tool."""
    effects = list(dict.fromkeys(side_effects))
    unknown = [e for e in effects if e not in SIDE_EFFECTS]
    if unknown:
        raise ValueError(f"unknown side effect(s) {unknown}; use {SIDE_EFFECTS}")
    metadata = dict(tool.metadata or {})
    metadata[SIDE_EFFECTS_KEY] = effects
    if preview is not None:
        metadata[PREVIEW_KEY] = preview
    if danger is not None:
        metadata[DANGER_KEY] = danger
    if policy is not None:
        metadata[POLICY_KEY] = policy
    tool.metadata = metadata
    return tool


def side_effects_of(tool: BaseTool) -> frozenset[SideEffect]:
    """Declared side effects; undeclared tools count as ``exec``."""
    declared = (tool.metadata or {}).get(SIDE_EFFECTS_KEY)
    if not declared:
        return frozenset({"exec"})
    return frozenset(declared)


def preview_of(tool: BaseTool, args: Mapping[str, Any]) -> ToolPreview | None:
    """The tool's approval preview for ``args``, or None if it has none.

    A preview that fails (e.g. the file to diff is unreadable) degrades to a
    text preview with the error rather than blocking the approval.
    """
    fn = (tool.metadata or {}).get(PREVIEW_KEY)
    if fn is None:
        return None
    try:
        return fn(args)
    except Exception as err:  # noqa: BLE001 - a preview must never block approval
        return ToolPreview(kind="text", summary=f"(no preview: {err})", body="")


def danger_of(tool: BaseTool, args: Mapping[str, Any]) -> DangerLevel | None:
    """The tool's danger classification for ``args``; None if it has none.
    A classifier that fails counts as ``unknown``."""
    fn = (tool.metadata or {}).get(DANGER_KEY)
    if fn is None:
        return None
    try:
        return fn(args)
    except Exception:  # noqa: BLE001 - unclassifiable means we do not know
        return "unknown"


def default_policy_of(tool: BaseTool) -> PolicyAction | None:
    """A per-tool default action from the tool's declaration (e.g. MCP config)."""
    return (tool.metadata or {}).get(POLICY_KEY)
