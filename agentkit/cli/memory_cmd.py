"""``agentkit ingest``, ``agentkit docs list|search|remove`` and
``agentkit memory list|search|add|forget``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from agentkit.memory.knowledge import KnowledgeBase

docs_app = typer.Typer(help="Ingested documents (RAG): list, search, remove.", no_args_is_help=True)
memory_app = typer.Typer(
    help="Long-term memories: list, search, add, forget.", no_args_is_help=True
)

ConfigOption = typer.Option(None, "--config", "-c", help="Settings TOML.")
DataDirOption = typer.Option(None, "--data-dir", help="Where the vector store lives.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
RemovePathArgument = typer.Argument(..., help="A file or directory that was ingested.")
PathsArgument = typer.Argument(..., help="Files and directories to index.")
MemoryIdArgument = typer.Argument(..., metavar="ID", help="A memory id from `memory list`.")


@contextmanager
def open_kb(config: Path | None, data_dir: Path | None) -> Iterator[KnowledgeBase]:
    """The knowledge base, open for the ``with`` block. A full disk, a
    read-only data dir, a locked or damaged store, while opening it or
    using it, is one line naming the store and the fix."""
    from agentkit.config import load_settings
    from agentkit.errors import AgentkitError, storage_fault
    from agentkit.memory.knowledge import KnowledgeBase
    from agentkit.memory.store import CHROMA_SUBDIR

    settings = load_settings(config_file=config, data_dir=data_dir)
    location = settings.chroma_url or settings.resolved_data_dir() / CHROMA_SUBDIR
    try:
        with KnowledgeBase.open(settings) as kb:
            yield kb
    except AgentkitError:
        raise
    except Exception as err:  # noqa: BLE001 - Chroma wraps SQLite's errors in its own
        fault = storage_fault(err, location)
        if fault is None:
            raise
        raise fault from None


def _data_dir(config: Path | None, data_dir: Path | None) -> Path:
    from agentkit.config import load_settings

    return load_settings(config_file=config, data_dir=data_dir).resolved_data_dir()


def ingest(
    paths: list[Path] = PathsArgument,
    prune: bool = typer.Option(
        False, "--prune", help="Also drop indexed files under PATHS that no longer exist."
    ),
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Index documents for search_docs: text, Markdown, code, HTML, PDF.

    Re-running is incremental: unchanged files are skipped, changed ones
    replaced. An interrupted run resumes where it stopped.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from agentkit.errors import AgentkitError
    from agentkit.repair import record_ingest

    missing = [str(p) for p in paths if not p.expanduser().exists()]
    if missing and not prune:
        # A typo must not look like a successful ingest of nothing.
        raise AgentkitError(
            f"{', '.join(missing)}: no such file or directory",
            hint="check the path, or add --prune to drop a deleted folder from the index",
        )
    console = Console(stderr=True)
    with open_kb(config, data_dir) as kb:
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=as_json) as bar:
            tasks: dict[str, int] = {}

            def on_progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    label = "scanning files" if phase == "scan" else "embedding chunks"
                    tasks[phase] = bar.add_task(label, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            try:
                report = kb.documents.ingest(paths, prune=prune, progress=on_progress)
            except KeyboardInterrupt:
                console.print("interrupted: files written so far are kept; run again to resume")
                raise typer.Exit(130) from None
        # What was indexed, kept outside the store: `doctor --repair` rebuilds from it.
        record_ingest(_data_dir(config, data_dir), [p for p in paths if p.expanduser().exists()])
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "added": report.added,
                    "updated": report.updated,
                    "unchanged": len(report.unchanged),
                    "removed": report.removed,
                    "missing": report.missing,
                    "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
                    "chunks_written": report.chunks_written,
                    "seconds": round(report.seconds, 2),
                },
                indent=2,
            )
        )
        return
    rate = report.chunks_written / report.seconds if report.seconds else 0.0
    speed = f" ({rate:.1f} chunks/s)" if report.chunks_written else ""
    console.print(
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
        f"{report.chunks_written} chunks in {report.seconds:.1f}s{speed}"
    )
    _print_skipped(console, report.skipped)
    if report.missing:
        console.print(
            f"{len(report.missing)} indexed file(s) no longer exist; run with --prune to drop them"
        )


@docs_app.command("list")
def docs_list(
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Indexed files with their chunk counts."""
    from agentkit.memory.documents import display_path

    with open_kb(config, data_dir) as kb:
        files = sorted(kb.documents.files().values(), key=lambda f: f.source)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"path": f.source, "kind": f.kind, "chunks": f.n_chunks, "complete": f.complete}
                    for f in files
                ],
                indent=2,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("path", "kind", "chunks")
    for f in files:
        chunks = str(f.n_chunks) if f.complete else f"{f.n_chunks} (incomplete: re-run ingest)"
        table.add_row(display_path(f.source), f.kind, chunks)
    Console().print(table)
    Console().print(f"{len(files)} files, {sum(f.n_chunks for f in files)} chunks")


@docs_app.command("search")
def docs_search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", min=1, max=100, help="How many chunks."),
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """The chunks most similar to QUERY, with citations."""
    with open_kb(config, data_dir) as kb:
        hits = kb.documents.search(query, k)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"citation": h.citation, "score": round(h.score, 4), "text": h.text}
                    for h in hits
                ],
                indent=2,
            )
        )
        return
    if not hits:
        typer.echo("no matches (ingest documents with `agentkit ingest PATH`)")
    for hit in hits:
        typer.secho(f"{hit.citation}  (score {hit.score:.3f})", bold=True)
        typer.echo(_indent(hit.text.strip()[:600]))


@docs_app.command("remove")
def docs_remove(
    path: Path = RemovePathArgument,
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Forget a file (or every file under a directory)."""
    from agentkit.errors import AgentkitError
    from agentkit.repair import record_ingest

    with open_kb(config, data_dir) as kb:
        removed = kb.documents.remove(path)
        if removed:
            record_ingest(_data_dir(config, data_dir), [path], removed=True)
    if not removed:
        raise AgentkitError(f"{path} is not indexed", hint="`agentkit docs list` shows what is")
    typer.echo(f"removed {len(removed)} file(s)")


@memory_app.command("list")
def memory_list(
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many."),
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Memories, newest first, with where they came from."""
    with open_kb(config, data_dir) as kb:
        records = kb.memories.list(limit=limit)
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in records], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "stored", "thread", "text")
    for r in records:
        table.add_row(r.id, r.created_at, r.thread_id or "", r.text)
    Console().print(table)


@memory_app.command("search")
def memory_search(
    query: str = typer.Argument(..., help="What to recall."),
    k: int = typer.Option(5, "-k", min=1, max=100, help="How many memories."),
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """The memories most similar to QUERY."""
    with open_kb(config, data_dir) as kb:
        hits = kb.memories.recall(query, k)
    if as_json:
        typer.echo(
            json.dumps(
                [{"score": round(h.score, 4), **h.memory.model_dump()} for h in hits], indent=2
            )
        )
        return
    if not hits:
        typer.echo("no memories yet")
    for h in hits:
        typer.echo(f"{h.memory.id}  {h.score:.3f}  {h.memory.text}")


@memory_app.command("add")
def memory_add(
    text: str = typer.Argument(..., help="The fact to keep."),
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Store a memory by hand."""
    with open_kb(config, data_dir) as kb:
        record = kb.memories.remember(text, message_id="cli")
    typer.echo(f"stored memory {record.id}")


@memory_app.command("forget")
def memory_forget(
    memory_id: str = MemoryIdArgument,
    config: Path | None = ConfigOption,
    data_dir: Path | None = DataDirOption,
) -> None:
    """Delete one memory."""
    from agentkit.errors import AgentkitError

    with open_kb(config, data_dir) as kb:
        forgotten = kb.memories.forget(memory_id)
    if not forgotten:
        raise AgentkitError(
            f"no memory with id {memory_id}", hint="`agentkit memory list` shows ids"
        )
    typer.echo(f"forgot {memory_id}")


def _print_skipped(console: Console, skipped: list[tuple[str, str]], shown: int = 10) -> None:
    """Binary and empty files are expected in any tree: count them; name the
    files that failed for another reason (unreadable, too large, bad PDF)."""
    from collections import Counter

    quiet = {"binary", "no text"}
    counts = Counter(reason for _, reason in skipped if reason in quiet)
    if counts:
        summary = ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))
        console.print(f"skipped {sum(counts.values())} file(s): {summary}")
    others = [(p, r) for p, r in skipped if r not in quiet]
    for path, reason in others[:shown]:
        console.print(f"skipped {path}: {reason}")
    if len(others) > shown:
        console.print(f"... and {len(others) - shown} more (see --json)")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.add_typer(docs_app, name="docs")
    app.add_typer(memory_app, name="memory")
