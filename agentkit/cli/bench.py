"""``agentkit bench``: the benchmark suite (see :mod:`agentkit.bench`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from agentkit.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        quick: bool = typer.Option(
            False, "--quick", help="Smaller runs (RAG at 1k and 10k chunks only); a few minutes."
        ),
        json_path: Path | None = typer.Option(
            None, "--json", help="Write the results as JSON here."
        ),
        plot_path: Path | None = typer.Option(
            None, "--plot", help="Draw the scaling curves into this PNG (needs matplotlib)."
        ),
        markdown_path: Path | None = typer.Option(
            None, "--markdown", help="Write the table as Markdown here."
        ),
        only: str | None = typer.Option(
            None,
            "--only",
            help="Comma-separated groups to run: coldstart, tasks, model, decoding, agent, checkpoint, rag.",
        ),
    ) -> None:
        """Measure throughput, prefix reuse, framework overhead, checkpoint
        growth, RAG latency and cold start on the bundled model; print each
        number with its target."""
        from rich.console import Console
        from rich.markup import escape

        from agentkit.bench import GROUPS, run_bench
        from agentkit.bench.report import header_lines, markdown, plot, render_table, write_json

        groups = list(GROUPS)
        if only:
            groups = [g.strip() for g in only.split(",") if g.strip()]
            unknown = [g for g in groups if g not in GROUPS]
            if unknown:
                raise ConfigError(f"unknown bench group(s) {unknown}; choose from {list(GROUPS)}")
        if plot_path is not None:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                raise ConfigError(
                    "--plot needs matplotlib", hint="pip install 'agentkit[bench]'"
                ) from None
        err = Console(stderr=True)
        result = run_bench(
            quick=quick,
            groups=groups,  # type: ignore[arg-type]
            progress=lambda message: err.print(f"[dim]{escape(message)}[/dim]"),
        )
        # Piped output (docs, CI logs) gets a wide table instead of 80 columns.
        out = Console(width=None if sys.stdout.isatty() else 190)
        for line in header_lines(result):
            out.print(line, highlight=False)
        out.print(render_table(result))
        for name, error in result.errors.items():
            out.print(f"[red]group {name} failed:[/red] {escape(error)}")
        passed = sum(1 for r in result.rows if r.passed)
        judged = sum(1 for r in result.rows if r.passed is not None)
        out.print(f"{passed}/{judged} targets met")
        if json_path is not None:
            write_json(result, json_path)
            out.print(f"wrote {json_path}")
        if plot_path is not None:
            plot(result, plot_path)
            out.print(f"wrote {plot_path}")
        if markdown_path is not None:
            markdown_path.parent.mkdir(parents=True, exist_ok=True)
            markdown_path.write_text(
                markdown(result, str(plot_path) if plot_path else None), encoding="utf-8"
            )
            out.print(f"wrote {markdown_path}")
