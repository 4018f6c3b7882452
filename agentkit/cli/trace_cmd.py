"""``agentkit trace THREAD``: a thread's runs as a timeline tree, with the
time in the model, in tools and waiting for a human side by side."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer


class Source(StrEnum):
    auto = "auto"
    file = "file"
    checkpoints = "checkpoints"


def register(app: typer.Typer) -> None:
    @app.command()
    def trace(
        thread: str,
        source: Source = typer.Option(
            Source.auto,
            "--source",
            help='file: the trace file (tracing = "file"); checkpoints: rebuilt from the '
            "thread's checkpoints; auto: the file when it has the thread.",
        ),
        trace_file: Path | None = typer.Option(
            None, "--file", help="OTLP JSON lines to read (default: the tracing_file setting)."
        ),
        last: int = typer.Option(0, "--last", min=0, help="Only the newest N tasks (0: all)."),
        config: Path | None = typer.Option(None, "--config", "-c", help="Settings TOML."),
    ) -> None:
        """Print THREAD's runs as a tree: nodes, model calls, tool calls and
        approval waits, with where the time went."""
        from rich.console import Console

        from agentkit.cli.threads import open_store
        from agentkit.config import load_settings
        from agentkit.tracing import trace_file as default_trace_file
        from agentkit.tracing.files import read_spans
        from agentkit.tracing.timeline import from_checkpoints, from_spans, render

        settings = load_settings(config_file=config)
        store = open_store(config)
        store.get(thread)  # one line for an unknown thread
        roots, used = [], "checkpoints"
        if source != Source.checkpoints:
            path = trace_file or default_trace_file(settings)
            roots, used = from_spans(read_spans(path), thread), f"trace file {path}"
            if not roots and source == Source.file:
                raise typer.BadParameter(f"no spans for thread {thread} in {path}")
        if not roots:
            roots, used = from_checkpoints(store.graph, thread, store.ledger), "checkpoints"
        if last:
            roots = roots[-last:]
        console = Console()
        for renderable in render(roots, used):
            console.print(renderable)
