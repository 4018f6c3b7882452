"""``agentkit doctor``: what agentkit will run on, and what is wrong with it."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from agentkit.errors import AgentkitError

if TYPE_CHECKING:
    from agentkit.config import Settings


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{n} B"
        size /= 1024
    return f"{n} B"


def doctor(
    config: Path | None = typer.Option(None, "--config", "-c", help="TOML file to read."),
    model: str | None = typer.Option(None, "--model", "-m", help="Model spec to inspect."),
    repair: bool = typer.Option(
        False,
        "--repair",
        help="Back up and rebuild a damaged thread database or vector store (only the data dir).",
    ),
) -> None:
    """Print the model file, llama.cpp build, threads and data locations, and
    check the data dir (writable, free space, databases intact)."""
    from agentkit import _llama_compat
    from agentkit.config import load_settings
    from agentkit.models.prompt import choose_format, native_tool_style
    from agentkit.models.resolve import read_gguf_info, resolve_model_path

    console = Console()
    settings = load_settings(config_file=config, model=model)
    if repair:
        raise typer.Exit(_repair(console, settings))
    problems: list[str] = []

    table = Table(title="model", show_header=False, title_justify="left")
    table.add_row("spec", settings.model)
    try:
        path = resolve_model_path(settings.model, settings.resolved_cache_dir())
        info = read_gguf_info(path)
        table.add_row("file", str(path))
        table.add_row("size", _human(info.file_size))
        table.add_row("architecture", info.architecture)
        table.add_row("name", info.name or "-")
        table.add_row("quantization", info.file_type)
        table.add_row("parameters", f"{info.n_params / 1e6:.0f} M")
        from agentkit.models.profile import file_profile
        from agentkit.steering import describe_steering

        profile = file_profile(path)
        adapter_spec = settings.model_adapter.strip().lower()
        if adapter_spec not in ("", "none"):
            from agentkit.models.adapter import read_adapter, resolve_adapter

            try:
                adapter = resolve_adapter(settings.model_adapter, settings.model)
            except AgentkitError:
                adapter = None  # the adapter rows below say why
            if adapter is not None:
                tuned = read_adapter(adapter).prompt.steering == "tuned"
                profile = dataclasses.replace(profile, tuned=tuned)
        table.add_row("steering", describe_steering(profile, settings.steering))
        table.add_row("trained context", str(info.context_length or "?"))
        table.add_row("n_ctx (configured)", str(settings.n_ctx))
        fmt = "gguf chat template" if info.chat_template else "none in GGUF"
        try:
            chosen = choose_format(
                settings.chat_format,
                architecture=info.architecture,
                chat_template=info.chat_template,
                bos_token="",
                eos_token="",
            ).name
        except (ValueError, ImportError) as err:
            chosen = f"error: {err}"
            problems.append(str(err))
        table.add_row("chat template", fmt)
        table.add_row("prompt format", f"{chosen} (chat_format={settings.chat_format})")
        style, why = native_tool_style(info.chat_template)
        if chosen == "gguf-template" and style == "hermes":
            mode = f"native Hermes template ({why})"
        else:
            mode = "agentkit's <tool_call> format" + (f" ({why})" if info.chat_template else "")
        table.add_row("tool calls", f"{mode}; grammar-constrained, so every call validates")
        problems += _adapter(table, settings, path)
    except AgentkitError as err:
        table.add_row("status", "[red]unusable (see the error below)[/red]")
        problems.append(str(err))
    console.print(table)

    build = Table(title="llama.cpp", show_header=False, title_justify="left")
    try:
        import llama_cpp

        build.add_row("llama-cpp-python", llama_cpp.__version__)
        system_info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
        build.add_row("system info", system_info)
        gpu = bool(llama_cpp.llama_supports_gpu_offload())
        build.add_row("GPU offload compiled in", "yes" if gpu else "no (CPU only)")
        build.add_row("n_gpu_layers", str(settings.n_gpu_layers))
        if settings.n_gpu_layers and not gpu:
            problems.append("n_gpu_layers is set but this build has no GPU offload")
        from agentkit.models.kernels import TILED_ENV, cpu_flags, describe_build, reuse_rules

        build.add_row("built for", describe_build())
        flags = cpu_flags()
        if flags:
            have = [
                name
                for flag, name in (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("amx_int8", "AMX"))
                if flag in flags
            ]
            build.add_row("this CPU has", ", ".join(have) or "no AVX2")
        build.add_row(
            "extra buffer types",
            "off (batch-invariant kernels)" if _llama_compat.extra_bufts_disabled() else "on",
        )
        build.add_row("tiled matmul", f"{TILED_ENV}={os.environ.get(TILED_ENV, '(unset: on)')}")
        rules = reuse_rules(n_gpu_layers=settings.n_gpu_layers, flash_attn=settings.flash_attn)
        build.add_row("cold-identical prefix reuse", rules.reason)
    except ImportError as err:
        build.add_row("error", f"[red]llama-cpp-python not importable: {err}[/red]")
        problems.append("llama-cpp-python is not installed")
    build.add_row(
        "threads",
        f"{settings.resolved_threads()} (n_threads={settings.n_threads or 'auto: physical cores'})",
    )
    build.add_row("OMP_WAIT_POLICY", os.environ.get("OMP_WAIT_POLICY", "(unset)"))
    console.print(build)

    where = Table(title="data", show_header=False, title_justify="left")
    data_dir = settings.resolved_data_dir()
    where.add_row("data dir", str(data_dir))
    where.add_row("threads db", settings.checkpointer or str(data_dir / "threads.sqlite"))
    where.add_row("vector store", settings.chroma_url or str(data_dir / "chroma"))
    where.add_row("embedder", settings.embed_model)
    where.add_row("model cache", str(settings.resolved_cache_dir()))
    where.add_row("workspace", str(settings.resolved_workspace()))
    console.print(where)
    problems += _data_health(console, settings)
    _instructions(console, settings)
    problems += _model_servers(console, settings)
    _security(console, settings)

    if problems:
        for problem in problems:
            typer.secho(f"error: {problem}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    console.print("[green]ok[/green]")


def _data_health(console: Console, settings: Settings) -> list[str]:
    """The data dir's checks as a table; the problems (warnings go to stderr)."""
    from agentkit.repair import check_data_dir

    colours = {"ok": "green", "warning": "yellow", "problem": "red"}
    table = Table(title="data health", show_header=False, title_justify="left")
    checks = check_data_dir(settings)
    for check in checks:
        table.add_row(check.name, f"[{colours[check.status]}]{check.status}[/]: {check.detail}")
    console.print(table)
    for check in checks:
        if check.status == "warning":
            typer.secho(f"warning: {check.name}: {check.detail}", err=True, fg=typer.colors.YELLOW)
    return [
        f"{c.name}: {c.detail}" + (" (`agentkit doctor --repair` rebuilds it)" if c.damaged else "")
        for c in checks
        if c.status == "problem"
    ]


def _repair(console: Console, settings: Settings) -> int:
    """``--repair``: rebuild what is damaged; 0 when the data dir is healthy after."""
    from agentkit.repair import check_data_dir, repair_data_dir

    checks = check_data_dir(settings)
    if not any(c.damaged for c in checks):
        typer.echo("nothing to repair: " + "; ".join(f"{c.name} {c.status}" for c in checks))
    else:
        for line in repair_data_dir(settings, checks).lines:
            typer.echo(line)
        checks = check_data_dir(settings)
    left = [c for c in checks if c.status == "problem"]
    for check in left:
        typer.secho(f"error: {check.name}: {check.detail}", err=True, fg=typer.colors.RED)
    return 1 if left else 0


def _adapter(table: Table, settings: Settings, model_path: Path) -> list[str]:
    """The LoRA adapter rows of the model table (file, size, rank, alpha,
    the base it was trained for); the problems."""
    from agentkit.models.adapter import check_adapter, resolve_adapter

    spec = settings.model_adapter
    try:
        adapter = resolve_adapter(spec, settings.model)
        if adapter is None:
            none = "none shipped for this model" if spec.strip().lower() == "auto" else "none"
            table.add_row("adapter", f"{none} (model_adapter={spec})")
            return []
        info = check_adapter(adapter, model_path)
    except AgentkitError as err:
        table.add_row("adapter", f"[red]unusable (model_adapter={spec})[/red]")
        return [str(err)]
    trained = info.provenance
    table.add_row("adapter", f"{info.path} (model_adapter={spec})")
    table.add_row(
        "adapter LoRA",
        f"{_human(info.size)}, rank {info.rank}, alpha {info.alpha:g}, "
        f"on {', '.join(info.targets)}",
    )
    table.add_row("adapter base", f"{info.base.describe()}: matches the model file")
    table.add_row(
        "adapter training",
        f"{trained.examples} examples, {trained.steps} steps, seed {trained.seed}"
        + (f", recipe {trained.recipe}" if trained.recipe else ""),
    )
    return []


def _instructions(console: Console, settings: Settings) -> None:
    """The project instructions (AGENTS.md) the agent would read, and their size."""
    from agentkit.instructions import from_settings

    found = from_settings(settings)
    table = Table(title="project instructions", show_header=False, title_justify="left")
    if not settings.project_instructions:
        table.add_row("status", "off (project_instructions = false)")
    elif not found.files:
        table.add_row("status", "none (no AGENTS.md or .agentkit/instructions.md)")
    for f in found.files:
        cut = f"  [yellow]cut: {f.used} used[/yellow]" if f.used < f.chars else ""
        table.add_row(str(f.path), f"{f.chars} chars{cut}")
    if found.files:
        table.add_row("cap", f"{settings.instructions_max_chars} chars in all")
    console.print(table)


def _model_servers(console: Console, settings: Settings) -> list[str]:
    """Each configured model server's ``/v1/models`` answer; the problems."""
    from agentkit.models.remote import ServerPool, model_server_urls

    urls = model_server_urls(settings)
    if not urls:
        return []
    table = Table(title="model servers", show_header=False, title_justify="left")
    pool = ServerPool(urls)
    try:
        health = pool.health()
    finally:
        pool.close()
    for url, state in health.items():
        table.add_row(url, "ok" if state == "ok" else f"[red]{state}[/red]")
    console.print(table)
    return [f"model server {url}: {state}" for url, state in health.items() if state != "ok"]


def _security(console: Console, settings: Settings) -> None:
    """Protected paths, untrusted-content tracking and hard links; a warning
    for each built-in protection switched off (docs/security.md)."""
    from agentkit.tools.protected import protected_patterns, security_warnings

    globs = protected_patterns(
        settings.protected_paths,
        build_files=settings.protect_build_files,
        removed=settings.unprotect_paths,
    )
    table = Table(title="security", show_header=False, title_justify="left")
    table.add_row("protected paths", f"{len(globs)} globs (ask before any write)")
    table.add_row("build files protected", "yes" if settings.protect_build_files else "no")
    table.add_row("untrusted content", settings.untrusted_content)
    table.add_row("hard-linked files", "read" if settings.read_hard_links else "refused")
    console.print(table)
    for warning in security_warnings(settings):
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
