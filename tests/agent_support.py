"""Shared helpers for the agent-core tests: tools whose side effects are
counted in a file (so counts survive a SIGKILLed process), and agents over
real SQLite in a temporary data dir."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import Settings, load_settings
from agentkit.events import SideEffect
from agentkit.graphs.agent_graph import Limits
from agentkit.testing import ScriptedChatModel
from agentkit.tools.base import declare


class PathArgs(BaseModel):
    path: str = Field(description="File path.")


class WriteArgs(BaseModel):
    path: str
    content: str


class ShellArgs(BaseModel):
    command: str


class SlowArgs(BaseModel):
    name: str
    seconds: float = 0.0


def side_effects(log: Path) -> list[str]:
    """Lines appended by side-effecting tools, one per execution."""
    return log.read_text().splitlines() if log.exists() else []


def make_tools(workdir: Path, log: Path) -> list[BaseTool]:
    """read_file (read), write_file (write), shell (exec, `rm` is destructive),
    boom (read, always raises), slow_write (write: logs, then sleeps)."""

    def read_file(path: str) -> str:
        return (workdir / path).read_text()

    def write_file(path: str, content: str) -> str:
        (workdir / path).write_text(content)
        with log.open("a") as f:
            f.write(f"write_file {path}\n")
        return f"wrote {len(content)} chars to {path}"

    def shell(command: str) -> str:
        with log.open("a") as f:
            f.write(f"shell {command}\n")
        return f"ran {command}"

    def boom(path: str) -> str:
        raise RuntimeError(f"disk on fire reading {path}")

    def slow_write(name: str, seconds: float = 0.0) -> str:
        with log.open("a") as f:
            f.write(f"slow_write {name}\n")
            f.flush()
        time.sleep(seconds)
        return f"slow_write {name} done"

    return [
        _tool(read_file, "Read a file.", PathArgs, ["read"]),
        _tool(
            write_file,
            "Write a file.",
            WriteArgs,
            ["write"],
            preview=lambda a: {"kind": "text", "summary": f"write {a.get('path')}"},
        ),
        _tool(
            shell,
            "Run a command.",
            ShellArgs,
            ["exec"],
            danger=lambda a: (
                "destructive" if str(a.get("command", "")).startswith("rm ") else "safe"
            ),
        ),
        _tool(boom, "Fails.", PathArgs, ["read"]),
        _tool(slow_write, "Slow write.", SlowArgs, ["write"]),
    ]


def _tool(
    func: Callable[..., str],
    description: str,
    schema: type[BaseModel],
    side_effects: list[SideEffect],
    **declaration: Any,
) -> BaseTool:
    tool = StructuredTool.from_function(
        func, name=func.__name__, description=description, args_schema=schema
    )
    return declare(tool, side_effects, **declaration)


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(data_dir=data_dir, workspace=data_dir, **overrides)


def make_agent(
    tmp_path: Path,
    script: Sequence[Any],
    *,
    structured: Sequence[Any] = (),
    planning: bool = False,
    policy: Policy | None = None,
    limits: Limits | None = None,
    durability: str = "sync",
    settings: Settings | None = None,
    small: bool = False,
    **kwargs: Any,
) -> tuple[Agent, ScriptedChatModel, Path]:
    """An agent over SQLite in ``tmp_path/data`` with the counting tools;
    returns (agent, model, side-effect log). ``small``: the model reports
    itself as a small one, so small-model steering applies (without tool
    routing, which would load the embedder)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    log = tmp_path / "side_effects.log"
    model = ScriptedChatModel(script=list(script), structured=list(structured), small=small)
    if small and settings is None:
        settings = settings_for(data, steering={"tool_routing": False})
    agent = Agent(
        model=model,
        tools=make_tools(tmp_path, log),
        settings=settings or settings_for(data),
        policy=policy,
        planning=planning,
        limits=limits,
        durability=durability,  # type: ignore[arg-type]
        **kwargs,
    )
    return agent, model, log


def prompt_text(model: ScriptedChatModel, call: int = -1) -> str:
    """Everything the model saw in one call, as one string."""
    return "\n".join(str(m.content) for m in model.prompts[call])
