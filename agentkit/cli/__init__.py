"""The ``agentkit`` command.

Each area registers its commands from its own module (``register(app)``), so
this file stays a table of contents. Heavy imports (llama.cpp, Chroma,
LangGraph) happen inside commands, keeping ``agentkit --help`` instant.
"""

from __future__ import annotations

import importlib
import sqlite3
import sys
from typing import TextIO

import typer

from agentkit.errors import AgentkitError

app = typer.Typer(
    name="agentkit",
    help="Local-first agents that use tools and ask a human before they act.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules under agentkit.cli that define `register(app: typer.Typer) -> None`.
COMMAND_MODULES = (
    "config_cmd",  # agentkit config show
    "doctor",  # agentkit doctor
    "chat",  # agentkit chat
    "run",  # agentkit run / resume
    "threads",  # agentkit threads ...
    "tools_cmd",  # agentkit tools list|call
    "memory_cmd",  # agentkit ingest / docs / memory
    "bench",  # agentkit bench
    "eval_cmd",  # agentkit eval
    "export_cmd",  # agentkit threads export
    "trace_cmd",  # agentkit trace
    "acp_cmd",  # agentkit acp
    "policy_cmd",  # agentkit policy rules|revoke
    "tune_cmd",  # agentkit tune
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        qualified = f"agentkit.cli.{name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as err:
            if err.name == qualified:  # area not built yet
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point: user errors, storage faults and interrupts
    become one line (never a traceback) and a non-zero exit."""
    import warnings

    warnings.showwarning = _one_line_warning
    try:
        exit_code = app(standalone_mode=False)
        # click returns (not raises) a typer.Exit's code in non-standalone mode
        if isinstance(exit_code, int) and exit_code:
            sys.exit(exit_code)
    except AgentkitError as err:
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        sys.exit(err.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt as err:  # typer turns one inside a command into exit 130
        thread_id = getattr(err, "thread_id", None)
        resume = f": continue with: agentkit resume {thread_id}" if thread_id else ""
        typer.echo(f"interrupted{resume}", err=True)
        sys.exit(getattr(err, "exit_code", 130))
    except _usage_errors() as err:  # bad option values, unknown options, missing arguments
        err.show()
        sys.exit(err.exit_code)
    except (OSError, sqlite3.Error) as err:  # file and storage faults no command translated
        from agentkit.errors import storage_fault

        fault = storage_fault(err, getattr(err, "filename", None) or "the data dir")
        if fault is not None:
            typer.secho(f"error: {fault}", err=True, fg=typer.colors.RED)
            sys.exit(fault.exit_code)
        if isinstance(err, OSError) and err.filename:  # e.g. a directory given for a file
            typer.secho(f"error: {err.filename}: {err.strerror}", err=True, fg=typer.colors.RED)
            sys.exit(2)
        raise


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage-error base class, and typer's: typer >= 0.20 vendors click
    as ``typer._click``, so its errors (e.g. ``--limit -1``) are not
    ``click.ClickException`` and would otherwise end in a traceback."""
    import click

    vendored = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    return (click.ClickException, vendored)
