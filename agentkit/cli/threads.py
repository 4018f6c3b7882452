"""``agentkit threads list|show|history|fork|rewind|compact|rename|delete``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from agentkit.agent import Agent
    from agentkit.threads import ThreadStore

threads_app = typer.Typer(
    help="List, inspect, fork and delete agent threads.", no_args_is_help=True
)

ConfigOption = typer.Option(None, "--config", "-c", help="Settings TOML.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def open_agent(config: Path | None) -> Agent:
    """An agent over the configured checkpointer that never loads a model:
    its ``threads`` store and its ``workspace`` (the current one)."""
    from agentkit.agent import Agent
    from agentkit.config import load_settings

    settings = load_settings(config_file=config)

    def no_model() -> None:
        raise RuntimeError("thread commands never call the model")

    return Agent(model=no_model, tools=[], settings=settings)  # type: ignore[arg-type]


def open_store(config: Path | None) -> ThreadStore:
    """The thread store of the configured checkpointer (no model is loaded)."""
    return open_agent(config).threads


@threads_app.command("list")
def list_threads(
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
    every: bool = typer.Option(
        False, "--all", "-a", help="Threads of every workspace, with a workspace column."
    ),
) -> None:
    """This workspace's threads (--all: every thread), most recent first."""
    agent = open_agent(config)
    here = str(agent.workspace)
    everything = agent.threads.list()
    infos = everything if every else [i for i in everything if i.workspace == here]
    if as_json:
        typer.echo(
            json.dumps(
                [json.loads(i.model_dump_json(exclude={"pending"})) for i in infos], indent=2
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("thread", "status", "updated", "title", *(["workspace"] if every else []))
    for info in infos:
        updated = info.updated_at.strftime("%Y-%m-%d %H:%M") if info.updated_at else ""
        row = [info.thread_id, info.status, updated, info.title]
        table.add_row(*row, *([info.workspace or "?"] if every else []))
    console = Console()
    if infos:
        console.print(table)
    else:
        console.print(f"no threads in {here}")
    elsewhere = len(everything) - len(infos)
    if elsewhere:
        console.print(
            f"[dim]{elsewhere} more thread(s) in other workspaces: agentkit threads list --all[/]"
        )


@threads_app.command("show")
def show(thread: str, config: Path | None = ConfigOption, as_json: bool = JsonOption) -> None:
    """A thread's status, permission mode, pending approvals and transcript."""
    agent = open_agent(config)
    store = agent.threads
    info = store.get(thread)
    messages = store.messages(thread)
    if as_json:
        payload = json.loads(info.model_dump_json())
        origin = store.origin(thread)
        payload["origin"] = json.loads(origin.model_dump_json()) if origin else None
        payload["mode"] = agent.mode(thread)
        payload["messages"] = [
            {"type": m.type, "content": m.content, "tool_calls": getattr(m, "tool_calls", [])}
            for m in messages
        ]
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    typer.echo(f"thread {info.thread_id}: {info.status}  {info.title}")
    origin = store.origin(thread)
    if origin is not None:
        gone = "" if Path(origin.workspace).is_dir() else "  (no longer exists)"
        typer.echo(f"workspace: {origin.workspace}{gone}")
        for move in origin.moves:
            when = move.at.astimezone().strftime("%Y-%m-%d %H:%M")
            typer.echo(f"  moved {when}: {move.from_workspace or '?'} -> {move.to_workspace}")
        if origin.tools:
            typer.echo(f"tools: {', '.join(origin.tools)} (tool set {origin.toolset})")
        if origin.policy_file:
            digest = f"sha256 {origin.policy_sha256[:12]}" if origin.policy_sha256 else "no file"
            typer.echo(f"policy: {origin.policy_file} ({digest} at the start)")
    typer.echo(f"mode: {agent.mode(thread)}")
    if info.stop_reason:
        typer.echo(f"stopped: {info.stop_reason}")
    for m in messages:
        calls = getattr(m, "tool_calls", None)
        text = str(m.content)
        if calls:
            text += " " + "; ".join(f"{c['name']}({json.dumps(c['args'])})" for c in calls)
        typer.echo(f"[{m.type}] {text[:500]}")
    from agentkit.cli.run import request_line

    for p in info.pending:
        typer.echo(f"pending {p.call_id}: {request_line(p)}")
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
    # Where each step ran: named where it changes (its first step, a --workspace move).
    older = [*items[1:], None]
    for i, before in zip(items, older, strict=True):
        moved = i.workspace and (before is None or before.workspace != i.workspace)
        typer.echo(
            f"{i.checkpoint_id}  step {i.step:>3}  next={','.join(i.next) or '-'}  {i.last_message[:60]}"
            + (f"  [in {i.workspace}]" if moved else "")
        )


@threads_app.command("fork")
def fork(
    thread: str,
    checkpoint: str,
    config: Path | None = ConfigOption,
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="The fork works in this directory instead of the thread's (recorded).",
    ),
) -> None:
    """Copy a thread as of CHECKPOINT into a new thread (same workspace); prints the new id."""
    typer.echo(open_store(config).fork(thread, checkpoint, workspace=workspace))


@threads_app.command("rewind")
def rewind_command(
    thread: str,
    to: int | None = typer.Option(
        None, "--to", help="Go back to this step (`threads history`); omit to list the steps."
    ),
    files: bool = typer.Option(False, "--files", help="Restore the files (the default)."),
    conversation: bool = typer.Option(
        False, "--conversation", help="Fork the conversation at the step (files untouched)."
    ),
    both: bool = typer.Option(False, "--both", help="Restore the files and fork."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Say what would change only."),
    git: bool = typer.Option(
        False, "--git", help="Also restore the git snapshot taken before the first shell command."
    ),
    force: bool = typer.Option(
        False, "--force", help="Overwrite files changed since by someone else."
    ),
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Undo the file changes agentkit's tools made after a step, in the
    thread's workspace, and/or fork the conversation there. Files changed
    since by someone else are reported, never overwritten (unless --force);
    what shell commands changed cannot be undone (except with --git)."""
    agent = open_agent(config)
    agent.threads.get(thread)  # one line for an unknown thread
    if to is None:
        points = agent.rewind_points(thread)
        if as_json:
            typer.echo(json.dumps([json.loads(p.model_dump_json()) for p in points], indent=2))
            return
        if not points:
            typer.echo(f"agentkit's tools changed no file in thread {thread}")
        for p in points:
            typer.echo(
                f"step {p.step:>3}  {p.at:%Y-%m-%d %H:%M:%S}  {p.tool}: {', '.join(p.paths)}"
                f"  (undo with --to {p.step - 1})"
            )
        return
    restore_files = both or files or not conversation
    report = agent.rewind(
        thread,
        to,
        files=restore_files,
        conversation=both or conversation,
        git=git,
        force=force,
        dry_run=dry_run,
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        verb = "would" if dry_run else "did"
        for f in report.files:
            mark = "x" if f.done else ("!" if f.action in ("conflict", "not_kept") else " ")
            typer.echo(f"[{mark}] {f.action:<9} {f.path}  ({f.detail})")
        for sh in report.shell:
            snap = f" snapshot {sh.commit[:12]}" if sh.commit else ""
            typer.echo(f"    shell at step {sh.step} ({sh.call_id}){snap}: {sh.detail}")
        for note in report.notes:
            typer.echo(f"note: {note}")
        if report.new_thread_id:
            typer.echo(f"conversation forked: {report.new_thread_id}")
        elif report.checkpoint_id:
            typer.echo(f"{verb} fork at checkpoint {report.checkpoint_id}")
    if report.conflicts:
        raise typer.Exit(1)


@threads_app.command("compact")
def compact_command(
    thread: str,
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Summarise the thread's older turns now (runs also do it on their own
    near the context size); the full history stays in the checkpoints."""
    from agentkit.cli.run import make_agent
    from agentkit.config import load_settings

    agent = make_agent(load_settings(config_file=config), tool_names=[])
    event = agent.compact(thread)
    if as_json:
        typer.echo(event.model_dump_json() if event else "null")
    elif event is None:
        typer.echo(f"nothing to compact in {thread} yet")
    else:
        typer.echo(
            f"compacted {event.summarized} message(s), kept {event.kept}: "
            f"~{event.tokens_before} -> ~{event.tokens_after} tokens ({event.seconds:.1f}s)"
        )


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
