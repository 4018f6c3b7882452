"""``agentkit threads list|show|history|fork|rename|delete``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from agentkit.threads import ThreadStore

threads_app = typer.Typer(
    help="List, inspect, fork and delete agent threads.", no_args_is_help=True
)

ConfigOption = typer.Option(None, "--config", "-c", help="Settings TOML.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def open_store(config: Path | None) -> ThreadStore:
    """The thread store of the configured checkpointer (no model is loaded)."""
    from agentkit.agent import Agent
    from agentkit.config import load_settings

    settings = load_settings(config_file=config)

    def no_model() -> None:
        raise RuntimeError("thread commands never call the model")

    return Agent(model=no_model, tools=[], settings=settings).threads  # type: ignore[arg-type]


@threads_app.command("list")
def list_threads(config: Path | None = ConfigOption, as_json: bool = JsonOption) -> None:
    """Threads, most recent first."""
    infos = open_store(config).list()
    if as_json:
        typer.echo(
            json.dumps(
                [json.loads(i.model_dump_json(exclude={"pending"})) for i in infos], indent=2
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("thread", "status", "updated", "title")
    for info in infos:
        updated = info.updated_at.strftime("%Y-%m-%d %H:%M") if info.updated_at else ""
        table.add_row(info.thread_id, info.status, updated, info.title)
    Console().print(table)


@threads_app.command("show")
def show(thread: str, config: Path | None = ConfigOption, as_json: bool = JsonOption) -> None:
    """A thread's status, pending approvals and transcript."""
    store = open_store(config)
    info = store.get(thread)
    messages = store.messages(thread)
    if as_json:
        payload = json.loads(info.model_dump_json())
        payload["messages"] = [
            {"type": m.type, "content": m.content, "tool_calls": getattr(m, "tool_calls", [])}
            for m in messages
        ]
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    typer.echo(f"thread {info.thread_id}: {info.status}  {info.title}")
    if info.stop_reason:
        typer.echo(f"stopped: {info.stop_reason}")
    for m in messages:
        calls = getattr(m, "tool_calls", None)
        text = str(m.content)
        if calls:
            text += " " + "; ".join(f"{c['name']}({json.dumps(c['args'])})" for c in calls)
        typer.echo(f"[{m.type}] {text[:500]}")
    for p in info.pending:
        typer.echo(f"pending {p.call_id}: {p.tool} {json.dumps(p.args)} ({p.reason})")
    if info.answer and info.status == "finished":
        typer.echo(f"answer: {info.answer}")


@threads_app.command("history")
def history(
    thread: str,
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    limit: int = typer.Option(
        50, "--limit", min=0, help="Newest N checkpoints; 0 for all (slow on long threads)."
    ),
) -> None:
    """Checkpoints of a thread, newest first (fork from any of them)."""
    items = open_store(config).history(thread, limit=limit or None)
    if as_json:
        typer.echo(json.dumps([i.model_dump() for i in items], indent=2))
        return
    for i in items:
        typer.echo(
            f"{i.checkpoint_id}  step {i.step:>3}  next={','.join(i.next) or '-'}  {i.last_message[:60]}"
        )


@threads_app.command("fork")
def fork(thread: str, checkpoint: str, config: Path | None = ConfigOption) -> None:
    """Copy a thread as of CHECKPOINT into a new thread; prints the new id."""
    typer.echo(open_store(config).fork(thread, checkpoint))


@threads_app.command("rename")
def rename(thread: str, title: str, config: Path | None = ConfigOption) -> None:
    open_store(config).rename(thread, title)


@threads_app.command("delete")
def delete(
    thread: str,
    config: Path | None = ConfigOption,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
) -> None:
    """Delete a thread's checkpoints, ledger entries and thread-scoped rules."""
    store = open_store(config)
    store.get(thread)
    if not yes and not typer.confirm(f"delete thread {thread}?"):
        raise typer.Abort()
    store.delete(thread)
    typer.echo(f"deleted {thread}")


def register(app: typer.Typer) -> None:
    app.add_typer(threads_app, name="threads")
