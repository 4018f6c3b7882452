"""``agentkit chat``: the Textual chat app (also ``make chat``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from agentkit.agent import Agent
    from agentkit.assembly import AgentSetup


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        thread: str | None = typer.Option(
            None, "--thread", "-t", help="Open this thread (e.g. one waiting for approval)."
        ),
        model: str | None = typer.Option(
            None, "--model", "-m", help="GGUF path or bundled:gemma3-270m."
        ),
        workspace: Path | None = typer.Option(
            None, "--workspace", "-w", help="Directory the file and shell tools may touch."
        ),
        policy: Path | None = typer.Option(None, "--policy", help="Approval policy TOML."),
        data_dir: Path | None = typer.Option(
            None, "--data-dir", help="Where threads, memory and policies live."
        ),
        n_gpu_layers: int | None = typer.Option(
            None, "--n-gpu-layers", help="Layers offloaded to the GPU (-1 = all)."
        ),
        config: Path | None = typer.Option(None, "--config", "-c", help="TOML file to read."),
        only_tools: str | None = typer.Option(
            None,
            "--tools",
            help="Offer only these tools, comma-separated (e.g. read_file,write_file).",
        ),
        memory: bool = typer.Option(
            True, "--memory/--no-memory", help="Retrieve memories and documents for each task."
        ),
        plan: bool = typer.Option(
            False,
            "--plan/--no-plan",
            help="Plan before acting (off by default: one model call more per run, slow on the bundled 270M model).",
        ),
        theme: str | None = typer.Option(
            None, "--theme", help="Textual theme, e.g. textual-light, textual-dark, nord."
        ),
        mode: str | None = typer.Option(
            None,
            "--mode",
            help="Permission mode of new threads: default, accept-edits, plan, dont-ask.",
        ),
    ) -> None:
        """Chat with the agent; approve its tool calls as they come."""
        from agentkit.config import Settings, load_settings
        from agentkit.errors import AgentkitError

        settings: Settings | None
        startup_error: str | None = None
        try:
            settings = load_settings(
                config_file=config,
                model=model,
                workspace=workspace,
                policy_file=policy,
                data_dir=data_dir,
                n_gpu_layers=n_gpu_layers,
                mode=mode,
            )
        except AgentkitError as err:
            # Show it inside the app, with what to do, rather than failing to open.
            settings, startup_error = None, str(err)
        else:
            from agentkit import prewarm

            prewarm(settings)  # the model loads while Textual starts
        from agentkit.tui.app import AgentkitApp

        opened: list[AgentSetup] = []  # closed when the app exits

        def build_agent() -> Agent:
            # Runs in a worker thread of the app: errors become notifications,
            # warnings (memory off: the store is locked) warning notifications.
            from agentkit.assembly import build_agent as assemble
            from agentkit.models import ensure_loaded

            assert settings is not None
            # Chat is interactive: writes and commands are offered (the policy
            # still asks before each), unlike the read-only API default.
            wanted = [n.strip() for n in (only_tools or "").split(",") if n.strip()]
            setup = assemble(
                settings if memory else settings.model_copy(update={"memory": False}),
                tool_names=wanted or None,
                planning=plan,
            )
            opened.append(setup)
            agent = setup.agent
            # Load the model now, in the background, so a missing model is
            # reported at startup and the first reply does not wait for it.
            ensure_loaded(agent.model)
            return agent

        chat_app = AgentkitApp(
            agent_factory=build_agent if settings is not None else None,
            settings=settings,
            thread_id=thread,
            startup_error=startup_error,
        )
        if theme:
            if theme not in chat_app.available_themes:
                raise typer.BadParameter(
                    f"unknown theme {theme!r}; one of: {', '.join(sorted(chat_app.available_themes))}"
                )
            chat_app.theme = theme
        try:
            chat_app.run()
        finally:
            for setup in opened:
                setup.close()
        if chat_app.return_code:  # e.g. 129: the terminal was closed under the app
            raise typer.Exit(chat_app.return_code)
