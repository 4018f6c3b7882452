"""``agentkit threads export THREAD --format md|json|jsonl``: a thread's
audit record (see :mod:`agentkit.audit`); ``--format training``: its act
steps as training examples for ``agentkit tune`` (see docs/tune.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from agentkit.cli.threads import ConfigOption, open_store, threads_app


class Format(StrEnum):
    md = "md"
    json = "json"
    jsonl = "jsonl"
    training = "training"


@threads_app.command("export")
def export_thread(
    thread: str,
    fmt: Format = typer.Option(
        Format.md, "--format", "-f", help="md, json, jsonl, or training (examples for tune)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here instead of standard output."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """The transcript, every tool call with its policy verdict, decision, who
    decided and when, outputs, usage and forks; or (training) each act step's
    prompt and the call the human approved or corrected, as JSON lines."""
    if fmt is Format.training:
        text = _training_jsonl(thread, config)
    else:
        from agentkit.export import export

        text = export(open_store(config).audit(thread), fmt.value)  # type: ignore[arg-type]
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


def _training_jsonl(thread: str, config: Path | None) -> str:
    """The thread's act steps as training examples (the steps left out are
    named on standard error)."""
    from agentkit.cli.threads import open_agent
    from agentkit.tune.examples import write_jsonl
    from agentkit.tune.threads import thread_examples

    agent = open_agent(config)
    found = thread_examples(agent, thread, agent.settings)
    for reason in found.skipped:
        typer.echo(f"left out: {reason}", err=True)
    typer.echo(f"{len(found.examples)} training examples from {thread}", err=True)
    return write_jsonl(found.examples)


def register(app: typer.Typer) -> None:
    """The command is on ``threads_app``, which ``agentkit.cli.threads`` registers."""
