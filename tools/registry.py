"""Which tools exist: the built-in set, user tools from ``user_tools`` and MCP
tools, with the policy each one gets."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool

from agentkit.errors import ConfigError
from agentkit.tools.base import targets_of
from agentkit.tools.calculator import calculator_tool
from agentkit.tools.files import file_tools
from agentkit.tools.http import http_get_tool
from agentkit.tools.limits import ToolLimits, with_limits
from agentkit.tools.misc import current_time_tool, think_tool
from agentkit.tools.shell import shell_tool
from agentkit.tools.workspace import Workspace

if TYPE_CHECKING:
    from agentkit.config import Settings

BUILTIN_NAMES = (
    "read_file",
    "list_dir",
    "glob",
    "grep",
    "count",
    "read_field",
    "write_file",
    "edit_file",
    "copy_file",
    "move_file",
    "sort_lines",
    "dedupe_lines",
    "set_field",
    "shell",
    "calculator",
    "http_get",
    "current_time",
    "think",
)
SOURCE_KEY = "agentkit_source"
BOUND_WORKSPACE_KEY = "agentkit_bound_workspace"  # metadata: the root a built-in acts in


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from agentkit.config import load_settings

    return load_settings()


def builtin_tools(
    settings: Settings | None = None, *, workspace: Path | None = None, read_only: bool = False
) -> list[BaseTool]:
    """The built-in tools, confined to ``workspace`` (default: the settings'
    workspace, else the current directory). ``read_only`` leaves out the
    tools that write (write_file, edit_file, copy_file, move_file,
    sort_lines, dedupe_lines), shell and http_get."""
    settings = _settings(settings)
    limits = ToolLimits.from_settings(settings)
    try:
        ws = Workspace.from_settings(settings, workspace)
    except ValueError as err:
        raise ConfigError(str(err), hint="set workspace to an existing directory") from None
    tools = file_tools(ws, limits, read_only=read_only)
    if not read_only:
        tools.append(
            shell_tool(
                ws,
                limits,
                sandbox=settings.shell_sandbox,
                passthrough=settings.shell_env_passthrough,
            )
        )
    for tool in tools:  # the ones so far act in the workspace
        tool.metadata = {**(tool.metadata or {}), BOUND_WORKSPACE_KEY: str(ws.root)}
    tools.append(calculator_tool())
    if not read_only:
        tools.append(
            http_get_tool(
                limits,
                allowed_hosts=settings.http_allowed_hosts,
                max_bytes=settings.http_max_bytes,
                timeout_s=settings.http_timeout_s,
                html_as_text=settings.http_html_as_text,
            )
        )
    tools += [current_time_tool(), think_tool()]
    for tool in tools:
        tool.metadata = {**(tool.metadata or {}), SOURCE_KEY: "builtin"}
    order = {name: i for i, name in enumerate(BUILTIN_NAMES)}
    return sorted(tools, key=lambda t: order[t.name])


def load_user_tools(settings: Settings | None = None) -> list[BaseTool]:
    """Tools named by ``user_tools`` ('pkg.mod:name' or 'pkg.mod' for every
    BaseTool in the module), with output caps and timeouts applied."""
    settings = _settings(settings)
    limits = ToolLimits.from_settings(settings)
    found: list[BaseTool] = []
    for spec in settings.user_tools:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ConfigError(f"user_tools: cannot import '{module_name}': {err}") from None
        if attr:
            obj = getattr(module, attr, None)
            if not isinstance(obj, BaseTool):
                raise ConfigError(f"user_tools: '{spec}' is not a LangChain tool")
            found.append(obj)
        else:
            found += [v for v in vars(module).values() if isinstance(v, BaseTool)]
    limited = [with_limits(tool, limits) for tool in found]
    for tool in limited:
        tool.metadata = {**(tool.metadata or {}), SOURCE_KEY: "user"}
    return limited


def all_tools(settings: Settings | None = None, *, workspace: Path | None = None) -> list[BaseTool]:
    """Built-in, user and MCP tools; a name defined twice is a config error."""
    from agentkit.tools.mcp import load_mcp_tools

    settings = _settings(settings)
    tools = (
        builtin_tools(settings, workspace=workspace)
        + load_user_tools(settings)
        + load_mcp_tools(settings)
    )
    seen: set[str] = set()
    for tool in tools:
        if tool.name in seen:
            raise ConfigError(
                f"two tools are named '{tool.name}'", hint="rename one (MCP: keep prefix = true)"
            )
        seen.add(tool.name)
    return tools


def tool_source(tool: BaseTool) -> str:
    """builtin, user, mcp:<server>, or other (passed in from Python)."""
    from agentkit.tools.mcp import MCP_SERVER_KEY

    metadata = tool.metadata or {}
    if metadata.get(MCP_SERVER_KEY):
        return f"mcp:{metadata[MCP_SERVER_KEY]}"
    return str(metadata.get(SOURCE_KEY, "other"))


# --- tools bound to a workspace ------------------------------------------------------


def bound_workspace_of(tool: BaseTool) -> str | None:
    """The workspace root a built-in file or shell tool acts in (None for
    tools that are not bound to one)."""
    root = (tool.metadata or {}).get(BOUND_WORKSPACE_KEY)
    return str(root) if root else None


def bound_workspace(tools: Sequence[BaseTool]) -> Path | None:
    """The workspace the built-ins among ``tools`` act in, if any does."""
    return next((Path(root) for t in tools if (root := bound_workspace_of(t))), None)


def rebind_tools(
    tools: Sequence[BaseTool], workspace: Path, settings: Settings | None = None
) -> list[BaseTool]:
    """The same tools, in the same order, with every built-in that acts in a
    workspace bound to ``workspace`` instead (e.g. to resume a thread where it
    started). Other tools are returned as they are."""
    root = str(workspace)
    stale = {id(t) for t in tools if bound_workspace_of(t) not in (None, root)}
    if not stale:
        return list(tools)
    fresh = {t.name: t for t in builtin_tools(settings, workspace=workspace)}
    return [fresh.get(t.name, t) if id(t) in stale else t for t in tools]


def call_target(tool: BaseTool, args: Mapping[str, Any]) -> str | None:
    """The absolute path a call of a workspace-bound built-in acts on: the
    path it writes (a copy's or a move's destination first), else its ``path`` argument
    inside the workspace, else the workspace itself (a shell command's
    directory). None for tools not bound to a workspace. A path that leads
    elsewhere through a symlink names where it really leads."""
    root = bound_workspace_of(tool)
    if root is None:
        return None
    found = targets_of(tool, args) or []
    writes = sorted((t for t in found if t.write), key=lambda t: t.arg != "destination")
    target = writes[0] if writes else found[0] if found else None
    if target is not None and target.redirected and target.resolved is not None:
        return os.path.normpath(os.path.join(root, target.resolved))
    path = target.written if target is not None and target.arg != "command" else args.get("path")
    if isinstance(path, str) and path.strip() and not path.strip().startswith("~"):
        return os.path.normpath(os.path.join(root, path.strip()))
    return root


def toolset_identity(tools: Sequence[BaseTool]) -> str:
    """A short hash of the tools' names, sources and argument schemas: two
    tool sets with the same identity offer the model the same calls."""
    described = sorted(
        (t.name, tool_source(t), json.dumps(t.args, sort_keys=True, default=str)) for t in tools
    )
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()[:16]
