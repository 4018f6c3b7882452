"""``agentkit threads export THREAD --format md|json|jsonl``: a thread's
audit record (see :mod:`agentkit.audit`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from agentkit.cli.threads import ConfigOption, open_store, threads_app


class Format(StrEnum):
    md = "md"
    json = "json"
    jsonl = "jsonl"


@threads_app.command("export")
def export_thread(
    thread: str,
    fmt: Format = typer.Option(Format.md, "--format", "-f", help="md, json or jsonl."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here instead of standard output."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """The transcript, every tool call with its policy verdict, decision, who
    decided and when, outputs, usage and forks."""
    from agentkit.export import export

    text = export(open_store(config).audit(thread), fmt.value)  # type: ignore[arg-type]
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


def register(app: typer.Typer) -> None:
    """The command is on ``threads_app``, which ``agentkit.cli.threads`` registers."""
