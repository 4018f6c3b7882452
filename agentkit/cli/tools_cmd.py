"""``agentkit tools list`` and ``agentkit tools call``.

``tools call`` is for the human at the keyboard: no approval, but the same
workspace confinement, output caps and timeouts as the agent gets. It prints
the result, or ``error: ...`` on one line and exits 1 when the tool failed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

MEMORY_TOOL_NAMES = ("search_docs", "remember", "recall")
tools_app = typer.Typer(help="List and run tools.", no_args_is_help=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Directory the file and shell tools are confined to (default: cwd).",
    ),
]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="TOML file to read.")]

if TYPE_CHECKING:
    from langchain_core.messages import ToolMessage
    from langchain_core.tools import BaseTool


@tools_app.command("list")
def list_tools(
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON lines instead of a table.")
    ] = False,
) -> None:
    """Every available tool (built-in, user, MCP) with its side effects and policy."""
    from agentkit.approvals.policy import Policy
    from agentkit.assembly import shared_knowledge, user_tools
    from agentkit.config import load_settings
    from agentkit.tools.base import side_effects_of
    from agentkit.tools.registry import tool_source

    settings = load_settings(config_file=config, workspace=workspace)
    # What the agent gets: the memory tools too, when memory is on.
    tools = user_tools(settings, knowledge=shared_knowledge(settings))
    policy = Policy.from_settings(settings)
    rows = []
    for tool in tools:
        rows.append(
            {
                "name": tool.name,
                "source": tool_source(tool),
                "side_effects": sorted(side_effects_of(tool)),
                "policy": policy.label(tool, workspace=str(settings.resolved_workspace())),
                "description": (tool.description or "").splitlines()[0] if tool.description else "",
            }
        )
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("tool", "source", "side effects", "policy", "description")
    for row in rows:
        table.add_row(
            row["name"],
            row["source"],
            ", ".join(row["side_effects"]),
            row["policy"],
            row["description"],
        )
    Console().print(table)


@tools_app.command("call")
def call_tool(
    name: Annotated[str, typer.Argument(help="Tool name, as `agentkit tools list` shows it.")],
    args: Annotated[str, typer.Option("--args", "-a", help="Arguments as a JSON object.")] = "{}",
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Run one tool directly (no approval; same confinement and limits)."""
    from agentkit.assembly import shared_knowledge, user_tools
    from agentkit.config import load_settings
    from agentkit.errors import AgentkitError

    try:
        parsed: Any = json.loads(args)
    except json.JSONDecodeError as err:
        raise AgentkitError(f"--args is not valid JSON: {err.msg} at column {err.colno}") from None
    if not isinstance(parsed, dict):
        raise AgentkitError('--args must be a JSON object, e.g. \'{"path": "README.md"}\'')
    settings = load_settings(config_file=config, workspace=workspace)
    available = user_tools(settings)  # the memory tools only when asked for (opens the store)
    if name in MEMORY_TOOL_NAMES:
        available = user_tools(settings, knowledge=shared_knowledge(settings))
    tools = {tool.name: tool for tool in available}
    tool = tools.get(name)
    if tool is None:
        raise AgentkitError(f"no tool named '{name}'", hint="`agentkit tools list` shows them")
    message = run_tool_call(tool, parsed)
    text = message.content if isinstance(message.content, str) else json.dumps(message.content)
    if message.status == "error":
        typer.secho("error: " + " ".join(text.split()), err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(text)


def run_tool_call(tool: BaseTool, args: dict[str, Any]) -> ToolMessage:
    """The ToolMessage for one call; tool errors come back with status=error."""
    import asyncio

    from langchain_core.messages import ToolMessage
    from langchain_core.tools import ToolException

    call = {"type": "tool_call", "name": tool.name, "args": args, "id": "cli"}
    try:
        if getattr(tool, "func", True) is None and getattr(tool, "coroutine", None) is not None:
            result = asyncio.run(tool.ainvoke(call))
        else:
            result = tool.invoke(call)
    except ToolException as err:
        return ToolMessage(content=str(err), tool_call_id="cli", status="error")
    except Exception as err:  # noqa: BLE001 - a failing tool is reported, not a traceback
        if type(err).__name__ == "ValidationError":
            return ToolMessage(
                content=f"invalid arguments: {err}", tool_call_id="cli", status="error"
            )
        return ToolMessage(
            content=f"{type(err).__name__}: {err}", tool_call_id="cli", status="error"
        )
    if isinstance(result, ToolMessage):
        return result
    return ToolMessage(content=str(result), tool_call_id="cli")


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")
