"""agentkit's tools: the built-in set, user tools and MCP tools.

Any LangChain tool works; :func:`agentkit.tools.base.declare` adds the side
effects, preview and danger classifier the approval layer reads.
"""

from __future__ import annotations

from agentkit.tools.base import (
    DangerLevel,
    PolicyAction,
    SideEffect,
    ToolPreview,
    danger_of,
    declare,
    default_policy_of,
    preview_of,
    side_effects_of,
)
from agentkit.tools.limits import ToolLimits, cap_text, with_limits
from agentkit.tools.mcp import aload_mcp_tools, load_mcp_tools
from agentkit.tools.registry import (
    BUILTIN_NAMES,
    all_tools,
    builtin_tools,
    load_user_tools,
)
from agentkit.tools.workspace import PathRefused, Workspace

__all__ = [
    "BUILTIN_NAMES",
    "DangerLevel",
    "PathRefused",
    "PolicyAction",
    "SideEffect",
    "ToolLimits",
    "ToolPreview",
    "Workspace",
    "all_tools",
    "aload_mcp_tools",
    "builtin_tools",
    "cap_text",
    "danger_of",
    "declare",
    "default_policy_of",
    "load_mcp_tools",
    "load_user_tools",
    "preview_of",
    "side_effects_of",
    "with_limits",
]
