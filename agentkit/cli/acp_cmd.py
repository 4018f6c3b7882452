"""``agentkit acp``: serve agentkit over the Agent Client Protocol on
stdin/stdout, for Toad, Zed and other ACP clients (docs/acp.md)."""

from __future__ import annotations

import importlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


class Always(StrEnum):
    thread = "thread"
    project = "project"


def load_factory(spec: str) -> BaseChatModel:
    """``package.module:name``: a LangChain chat model, or a callable returning one."""
    from langchain_core.language_models import BaseChatModel

    from agentkit.errors import ConfigError

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"--model-factory {spec!r}: expected package.module:name")
    try:
        found: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"--model-factory {spec!r}: {err}") from None
    model = found if isinstance(found, BaseChatModel) else found()
    if not isinstance(model, BaseChatModel):
        raise ConfigError(f"--model-factory {spec!r} did not give a LangChain chat model")
    return model


def register(app: typer.Typer) -> None:
    @app.command()
    def acp(
        model: str | None = typer.Option(
            None, "--model", "-m", help="GGUF path or bundled:gemma3-270m."
        ),
        model_factory: str | None = typer.Option(
            None,
            "--model-factory",
            help="Any LangChain chat model instead: package.module:name, a model or a "
            "function returning one (called once).",
        ),
        config: Path | None = typer.Option(None, "--config", "-c", help="TOML file to read."),
        policy: Path | None = typer.Option(None, "--policy", help="Approval policy TOML."),
        data_dir: Path | None = typer.Option(
            None, "--data-dir", help="Where threads (sessions) and policies live."
        ),
        only_tools: str | None = typer.Option(
            None, "--tools", help="Offer only these tools, comma-separated."
        ),
        plan: bool = typer.Option(False, "--plan/--no-plan", help="Plan before acting."),
        always: Always = typer.Option(
            Always.thread,
            "--always",
            help="What the client's 'always allow' records: a rule for this session's thread, "
            "or for the project (the policy file).",
        ),
    ) -> None:
        """Serve agentkit over the Agent Client Protocol on stdin/stdout."""
        from agentkit.acp import serve
        from agentkit.agent import Agent
        from agentkit.assembly import shared_knowledge, user_tools
        from agentkit.cli.run import build_model
        from agentkit.config import load_settings

        base = load_settings(config_file=config, model=model, policy_file=policy, data_dir=data_dir)
        shared: list[BaseChatModel] = []

        def chat_model() -> BaseChatModel:
            if not shared:  # one model for every session, loaded on first use
                shared.append(load_factory(model_factory) if model_factory else build_model(base))
            return shared[0]

        wanted = {n.strip() for n in (only_tools or "").split(",") if n.strip()}

        def make_agent(cwd: Path) -> Agent:
            settings = base.model_copy(update={"workspace": cwd})
            knowledge = shared_knowledge(settings)
            tools = user_tools(settings, knowledge=knowledge)
            tools = [t for t in tools if t.name in wanted] if wanted else tools
            return Agent(
                model=chat_model(), tools=tools, memory=knowledge, settings=settings, planning=plan
            )

        serve(make_agent, always=always.value)
