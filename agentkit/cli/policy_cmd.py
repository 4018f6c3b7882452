"""``agentkit policy rules|revoke``: the approval policy's rules, "always
allow" records included, with their exact scope; revoke one by id."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from agentkit.errors import ConfigError

policy_app = typer.Typer(help="The approval policy: list rules, revoke always-allows.")

ConfigOption = typer.Option(None, "--config", "-c", help="Settings TOML.")
PolicyOption = typer.Option(None, "--policy", "-p", help="Approval policy TOML.")


def _policy(config: Path | None, policy_file: Path | None):  # type: ignore[no-untyped-def]
    from agentkit.approvals.policy import Policy
    from agentkit.config import load_settings

    settings = load_settings(config_file=config)
    if policy_file is not None:
        records = settings.resolved_data_dir() / "always_allow.json"
        return Policy.from_toml(policy_file, records_path=records)
    return Policy.from_settings(settings)


@policy_app.command("rules")
def rules(
    config: Path | None = ConfigOption,
    policy_file: Path | None = PolicyOption,
    always_only: bool = typer.Option(
        False, "--always", help="Only the rules recorded by 'always allow'."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every rule, first match first: id, what it does, its scope (thread,
    project and workspace) and where it comes from."""
    listed = [
        r
        for r in _policy(config, policy_file).list_rules()
        if not always_only or r.source == "always"
    ]
    if as_json:
        rows = [
            {
                "id": r.id,
                "rule": r.describe(),
                "source": r.source,
                "scope": r.scope,
                "thread_id": r.thread_id,
                "workspace": r.workspace,
            }
            for r in listed
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "rule", "source", "scope")
    for r in listed:
        scope = r.scope or ""
        if r.thread_id:
            scope += f" {r.thread_id}"
        if r.workspace:
            scope += f" in {r.workspace}"
        table.add_row(r.id, r.describe(), r.source, scope.strip())
    console = Console()
    console.print(table if listed else "no rules (the side-effect defaults decide)")


@policy_app.command("revoke")
def revoke(
    rule_id: str = typer.Argument(..., help="The rule's id (see `agentkit policy rules`)."),
    config: Path | None = ConfigOption,
    policy_file: Path | None = PolicyOption,
) -> None:
    """Remove a rule (an always-allow record, or a rule of the policy file)."""
    try:
        rule = _policy(config, policy_file).revoke(rule_id)
    except KeyError:
        raise ConfigError(
            f"no policy rule with id {rule_id!r}", hint="`agentkit policy rules` lists them"
        ) from None
    typer.echo(f"revoked {rule.id}: {rule.describe()}")


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
