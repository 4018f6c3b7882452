"""``agentkit config show``: the effective settings and where each came from."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agentkit.config import Settings, find_config_file, load_settings, setting_sources

config_app = typer.Typer(help="Inspect configuration.", no_args_is_help=True)


@config_app.command("show")
def show(
    config: Path | None = typer.Option(None, "--config", "-c", help="TOML file to read."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    describe: bool = typer.Option(
        False, "--describe", "-d", help="Add each setting's description."
    ),
) -> None:
    """Print every setting, its effective value and its source."""
    settings = load_settings(config_file=config)
    sources = setting_sources(config_file=config)
    if as_json:
        import json

        payload = {
            name: {
                "value": getattr(settings, name),
                "source": sources[name][0],
                "detail": sources[name][1],
            }
            for name in Settings.model_fields
        }
        typer.echo(json.dumps(payload, default=str, indent=2))
        return
    console = Console()
    file = config or find_config_file()
    console.print(f"config file: {file if file else '(none)'}")
    table = Table("setting", "value", "source", *(["description"] if describe else []))
    for name, field in Settings.model_fields.items():
        source, detail = sources[name]
        label = f"{source} ({detail})" if detail else source
        extra = [field.description or ""] if describe else []
        table.add_row(name, repr(getattr(settings, name)), label, *extra)
    console.print(table)
    console.print(
        f"data dir: {settings.resolved_data_dir()}   cache dir: {settings.resolved_cache_dir()}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
