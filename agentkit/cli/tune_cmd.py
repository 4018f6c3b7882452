"""``agentkit tune``: LoRA fine-tuning of the chat model on training examples
(JSONL files, a user's threads, or a recipe), written as a GGUF adapter
that ``model_adapter`` loads. See docs/tune.md."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from agentkit.config import Settings
    from agentkit.tune.episodes import EpisodeRun
    from agentkit.tune.examples import TrainingExample
    from agentkit.tune.train import StepReport, TrainConfig


class PrecisionChoice(StrEnum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"


class DeviceOption(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def tune(
    threads: list[str] | None = typer.Argument(
        None, help="With --from-threads: these threads (default: every thread of this workspace)."
    ),
    data: list[Path] | None = typer.Option(
        None, "--data", "-d", help="Training examples (JSONL; repeatable)."
    ),
    from_threads: bool = typer.Option(
        False, "--from-threads", help="Learn from your threads: approved and edited calls."
    ),
    only_approved: bool = typer.Option(
        False, "--only-approved", help="Threads: leave out policy-allowed calls and final answers."
    ),
    recipe: str | None = typer.Option(
        None, "--recipe", help="A recipe (bundled): its episodes and fixed hyper-parameters."
    ),
    out: Path = typer.Option(
        Path("adapter.gguf"), "--out", "-o", help="The GGUF adapter to write."
    ),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Passes over the data [1]."),
    lr: float | None = typer.Option(None, "--lr", min=0.0, help="Learning rate [2e-4]."),
    rank: int | None = typer.Option(None, "--rank", min=1, help="LoRA rank [16] (alpha: 2×rank)."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Examples per optimizer step [4]."
    ),
    max_examples: int | None = typer.Option(
        None, "--max-examples", min=1, help="Train on at most this many (drawn by the seed)."
    ),
    max_tokens: int = typer.Option(
        8192, "--max-tokens", min=16, help="Leave out examples longer than this (tokens)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Data order and LoRA init [0]."),
    precision: PrecisionChoice = typer.Option(
        PrecisionChoice.auto, "--precision", help="auto (measured here), fp32 or bf16."
    ),
    device: DeviceOption = typer.Option(
        DeviceOption.auto, "--device", help="auto (CUDA when torch sees one), cpu or cuda."
    ),
    checkpoint_every: int = typer.Option(
        50, "--checkpoint-every", min=1, help="Steps between checkpoints (OUT.ckpt)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT.ckpt."),
    stop_after: int | None = typer.Option(
        None,
        "--stop-after",
        min=1,
        help="Write the adapter after this many steps (the schedule still spans every epoch).",
    ),
    start_from: str | None = typer.Option(
        None,
        "--start-from",
        help=(
            "Continue from this GGUF adapter instead of a fresh LoRA: a path, auto (the one "
            "shipped for the bundled model) or none. Default: with --from-threads the "
            "model's adapter (model_adapter), else none."
        ),
    ),
    save_data: Path | None = typer.Option(
        None, "--save-data", help="Also write the examples gathered (JSONL)."
    ),
    config: Path | None = typer.Option(None, "--config", "-c", help="Settings TOML."),
) -> None:
    """Fine-tune the chat model with LoRA and write a GGUF adapter."""
    from dataclasses import replace

    from rich.console import Console

    from agentkit.config import load_settings
    from agentkit.errors import ConfigError
    from agentkit.models.resolve import resolve_model_path
    from agentkit.tune.base import require_training_packages
    from agentkit.tune.examples import read_jsonl, write_jsonl
    from agentkit.tune.train import TrainConfig

    console = Console(stderr=True, highlight=False)
    if threads and not from_threads:
        raise ConfigError("thread ids are read with --from-threads", hint="add --from-threads")
    if not (data or from_threads or recipe):
        raise ConfigError(
            "nothing to train on", hint="give --data FILE.jsonl, --from-threads or --recipe bundled"
        )
    given = {
        "epochs": epochs,
        "lr": lr,
        "rank": rank,
        "batch_size": batch_size,
        "seed": seed,
    }
    settings = load_settings(config_file=config)
    gguf = resolve_model_path(settings.model, settings.resolved_cache_dir())
    run = {
        "precision": precision.value,
        "device": device.value,
        "checkpoint_every": checkpoint_every,
        "max_examples": max_examples,
        "max_tokens": max_tokens,
    }
    if stop_after is not None:
        run["stop_after"] = stop_after
    if recipe is not None:
        from agentkit.tune.recipe import get_recipe, recipe_examples

        chosen = get_recipe(recipe)
        fixed = [f"--{k.replace('_', '-')}" for k, v in given.items() if v is not None]
        fixed += ["--start-from"] if start_from is not None else []
        if fixed or data or from_threads:
            raise ConfigError(
                f"--recipe {recipe} fixes its data and hyper-parameters",
                hint=f"drop {', '.join(fixed) or '--data/--from-threads'}, or train without --recipe",
            )
        if settings.model != chosen.model:
            raise ConfigError(
                f"the {recipe} recipe trains {chosen.model}, not {settings.model}",
                hint=f"set model = {chosen.model}",
            )
        train_config: TrainConfig = replace(chosen.train, **run)
        require_training_packages()  # before the episodes take their minutes
        played: list[bool] = []

        def on_episode(run: EpisodeRun) -> None:
            played.append(run.passed)
            mark = "kept" if run.passed else "left out: " + "; ".join(run.problems)[:160]
            console.print(f"[dim]episode {run.episode_id}: {len(run.examples)} steps, {mark}[/]")

        examples = recipe_examples(chosen, settings, on_episode)
        console.print(
            f"{sum(played)} of {len(played)} episodes reached their outcome with every step "
            f"reachable: {len(examples)} examples"
        )
    else:
        values = {k: v for k, v in given.items() if v is not None}
        if rank is not None:
            values["alpha"] = 2.0 * rank
        start = _start_adapter(start_from, settings, from_threads)
        train_config = TrainConfig(**values, **run, start_adapter=start)  # type: ignore[arg-type]
        examples = read_jsonl(list(data or []))
        if from_threads:
            examples += _thread_examples(console, config, settings, threads or [], only_approved)
        require_training_packages()
    if save_data is not None:
        write_jsonl(examples, save_data)
        console.print(f"wrote {len(examples)} examples to {save_data}")
    _train(console, examples, gguf, out, train_config, settings, resume)


def _start_adapter(choice: str | None, settings: Settings, from_threads: bool) -> str:
    """The adapter to continue from ("" for a fresh LoRA). Learning from
    threads continues the model's own adapter by default: starting over
    would drop what the shipped adapter taught."""
    from agentkit.models.adapter import resolve_adapter

    if choice is None:
        choice = settings.model_adapter if from_threads else "none"
    found = resolve_adapter(choice, settings.model)
    return "" if found is None else str(found)


def _thread_examples(
    console: Console,
    config: Path | None,
    settings: Settings,
    thread_ids: list[str],
    only_approved: bool,
) -> list[TrainingExample]:
    from agentkit.cli.threads import open_agent
    from agentkit.tune.threads import LabelRules, thread_examples

    agent = open_agent(config)
    if not thread_ids:
        here = str(agent.workspace)
        thread_ids = [i.thread_id for i in agent.threads.list() if i.workspace == here]
    rules = LabelRules(allowed=not only_approved, answers=not only_approved)
    examples: list[TrainingExample] = []
    for thread_id in thread_ids:
        found = thread_examples(agent, thread_id, settings, rules)
        examples += found.examples
        left = f", {len(found.skipped)} steps left out" if found.skipped else ""
        console.print(f"thread {thread_id}: {len(found.examples)} examples{left}")
    return examples


def _train(
    console: Console,
    examples: list[TrainingExample],
    gguf: Path,
    out: Path,
    config: TrainConfig,
    settings: Settings,
    resume: bool,
) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from agentkit.tune.train import train

    progress = Progress(
        TextColumn("training"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps · {task.fields[speed]} tokens/s · loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("train", total=None, speed="-", loss="-")

    def on_step(report: StepReport) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(
            task,
            total=report.total_steps,
            completed=report.step,
            speed=f"{report.tokens_per_s:.0f}",
            loss=f"{report.loss:.3f}",
        )

    console.print(f"training on {len(examples)} examples ({gguf.name})")
    try:
        result = train(
            examples,
            gguf,
            out,
            config,
            cache_dir=settings.resolved_cache_dir(),
            resume=resume,
            on_step=on_step,
            say=console.print,
        )
    finally:
        progress.stop()
    long = f" ({result.skipped_long} too long, left out)" if result.skipped_long else ""
    # A run resumed at its last step trains nothing: no speed or loss to report.
    speed = (
        f"{result.tokens_per_s:.0f} tokens/s ({result.precision} on {result.device}), "
        f"final loss {result.final_loss:.3f}"
        if result.tokens
        else "no step left to train: exported the checkpoint as it was"
    )
    console.print(
        f"wrote {result.adapter}: {result.examples} examples{long}, {result.steps} steps, {speed}"
    )
    console.print(f'use it: model_adapter = "{result.adapter.resolve()}" in agentkit.toml')


def register(app: typer.Typer) -> None:
    app.command("tune")(tune)
