"""``agentkit eval``: task evals per model (see :mod:`agentkit.evals`).

A benchmark, not a test: it exits 0 whatever the pass rate, unless
``--min-pass-rate`` is given (then 1 below it); 2 for usage errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import typer

from agentkit.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from agentkit.config import Settings
    from agentkit.evals.cases import Suite
    from agentkit.evals.runner import EvalTarget, OptionValue
    from agentkit.evals.scoring import CaseResult

EXIT_BELOW_THRESHOLD = 1
SplitChoice = Literal["dev", "heldout", "all"]


def parse_option(text: str, where: str) -> tuple[str, OptionValue]:
    """``KEY=VALUE``, the value read as YAML (``true``, ``0.2``, ``[a, b]``),
    else as a string (``on``, ``off``, ``yes`` and ``no`` too)."""
    import yaml

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"{where}: expected KEY=VALUE, got {text!r}")
    if key == "model":
        raise ConfigError(f"{where}: choose models with --model, not an option")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, bool) and raw.strip().lower() not in ("true", "false"):
        value = raw.strip()  # YAML 1.1 reads on/off/yes/no as booleans: steering.mode=on
    if not isinstance(value, str | int | float | bool | list) or (
        isinstance(value, list) and not all(isinstance(v, str) for v in value)
    ):
        value = raw
    return key, value  # type: ignore[return-value]


def parse_split(text: str) -> SplitChoice:
    for choice in get_args(SplitChoice):
        if text == choice:
            return choice  # type: ignore[no-any-return]
    raise ConfigError(f"--split must be dev, heldout or all, not {text!r}")


def parse_variant(text: str) -> tuple[str, dict[str, OptionValue]]:
    """``NAME`` or ``NAME:KEY=VALUE,KEY=VALUE``."""
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise ConfigError(f"--variant {text!r}: give a name, e.g. base or plan:planning=false")
    options = dict(
        parse_option(part, f"--variant {name}") for part in rest.split(",") if part.strip()
    )
    return name, options


def build_targets(models: list[str], variants: list[str], options: list[str]) -> list[EvalTarget]:
    """One target per model and variant, in that order."""
    from agentkit.evals.runner import EvalTarget, model_label

    shared = dict(parse_option(o, "--set") for o in options)
    parsed = [parse_variant(v) for v in variants] or [("", {})]
    targets: list[EvalTarget] = []
    seen: dict[str, int] = {}
    for spec in models:
        for name, extra in parsed:
            label = model_label(spec) + (f" · {name}" if name else "")
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label += f" #{seen[label]}"
            targets.append(EvalTarget(label=label, model=spec, options={**shared, **extra}))
    return targets


class RichProgress:
    """A progress bar on stderr and a line per finished case above it."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task: TaskID = progress.add_task("starting", total=total)

    def case_started(self, target: EvalTarget, label: str, index: int, total: int) -> None:
        from rich.markup import escape

        self.progress.update(self.task, description=escape(f"{target.label}: {label}"))

    def case_finished(self, target: EvalTarget, label: str, result: CaseResult | None) -> None:
        from rich.markup import escape

        self.progress.advance(self.task)
        if result is None:  # a held-out case only moves the bar
            return
        if result.passed:
            line = f"[green]pass[/] {escape(target.label)} {label} [dim]({result.steps} steps, {result.seconds:.1f} s)[/]"
        else:
            line = (
                f"[red]{result.failure}[/] {escape(target.label)} {label}: "
                f"[dim]{escape(result.failure_detail[:120])}[/]"
            )
        self.progress.console.print(line, highlight=False)


def _list(suite: Suite, out: Console) -> None:
    """The dev cases; held-out ones only as counts per kind."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{suite.name}: {len(suite.cases)} cases ({suite.path})")
    for column in ("case", "kind", "task", "first tool"):
        table.add_column(column)
    heldout: dict[str, int] = {}
    for case in suite.cases:
        if case.split == "heldout":
            heldout[case.kind_name] = heldout.get(case.kind_name, 0) + 1
            continue
        table.add_row(
            case.id, case.kind_name, escape(case.task), ", ".join(case.expected_first_tools())
        )
    out.print(table)
    if heldout:
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(heldout.items()))
        out.print(f"held-out cases (not shown): {sum(heldout.values())}: {counts}", highlight=False)


def eval_command(
    suite: str | None = typer.Argument(
        None, help="Cases: 'builtin' (default), a directory of *.yaml, or one YAML file."
    ),
    models: list[str] | None = typer.Option(
        None,
        "--model",
        "-m",
        help="A model as the `model` setting takes it (bundled:gemma3-270m or a .gguf path); "
        "repeat to compare side by side. Default: the configured model.",
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Write the full results as JSON here."
    ),
    markdown_path: Path | None = typer.Option(
        None, "--markdown", help="Write the tables as Markdown here."
    ),
    cases: list[str] | None = typer.Option(
        None,
        "--case",
        "-k",
        help="Only cases whose id matches (glob, or a word in the id); repeatable.",
    ),
    max_steps: int | None = typer.Option(
        None,
        "--max-steps",
        min=1,
        help="Step limit per case (default 6; a case's own max_steps check applies when lower).",
    ),
    variants: list[str] | None = typer.Option(
        None,
        "--variant",
        help="NAME:KEY=VALUE,... run every model again with these options (settings, or planning / "
        "tool_choice); repeatable, e.g. --variant base --variant noplan:planning=false.",
    ),
    options: list[str] | None = typer.Option(
        None, "--set", help="KEY=VALUE option for every run, e.g. --set n_ctx=4096; repeatable."
    ),
    min_pass_rate: float | None = typer.Option(
        None,
        "--min-pass-rate",
        min=0.0,
        max=1.0,
        help="Exit 1 if a model's pass rate is below this (0-1).",
    ),
    split: str = typer.Option(
        "all",
        "--split",
        help="Which cases to run: dev, heldout or all. Held-out cases are only ever "
        "reported as aggregate scores.",
    ),
    draw: int = typer.Option(
        0,
        "--draw",
        min=0,
        help="Built-in suite only: draw every case again (other files, names and values, the "
        "same wordings) by this number; 0 is the fixed built-in draw. Compare two setups over "
        "several draws: one draw moves by a few cases by chance.",
    ),
    list_only: bool = typer.Option(False, "--list", help="List the suite's cases and exit."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Settings TOML."),
) -> None:
    """Run task cases through the agent on each model and print pass rate,
    robustness, tool-call validity, right first tool, unsafe changes, cost per
    task, and why dev cases failed (held-out cases: aggregate scores only)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agentkit.config import load_settings
    from agentkit.evals.cases import load_suite
    from agentkit.evals.report import (
        header_lines,
        markdown,
        render_cases,
        render_kinds,
        render_summary,
    )
    from agentkit.evals.runner import DEFAULT_MAX_STEPS, run_suite

    chosen = parse_split(split)
    settings = load_settings(config_file=config)
    if draw:
        loaded = _drawn(suite, draw, chosen, settings).select(cases or [])
    else:
        loaded = load_suite(suite).only_split(chosen).select(cases or [])
    out = Console(width=None if sys.stdout.isatty() else 160)
    if list_only:
        _list(loaded, out)
        return
    targets = build_targets(
        list(models or [settings.model]), list(variants or []), list(options or [])
    )
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        report = run_suite(
            loaded,
            targets,
            settings=settings,
            max_steps=max_steps or DEFAULT_MAX_STEPS,
            progress=RichProgress(bar, len(loaded.cases) * len(targets)),
        )
    for line in header_lines(report):
        out.print(line, highlight=False)
    if any(t.cases for t in report.targets):
        out.print(render_cases(report))
    else:
        out.print(f"{report.targets[0].heldout_cases} held-out cases: aggregate scores only")
    out.print(render_kinds(report))
    out.print(render_summary(report))
    if json_path is not None:
        report.write(json_path)
        out.print(f"wrote {json_path}")
    if markdown_path is not None:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(markdown(report), encoding="utf-8")
        out.print(f"wrote {markdown_path}")
    if min_pass_rate is not None:
        below = [t.label for t in report.targets if t.summary.pass_rate < min_pass_rate]
        if below:
            err.print(f"[red]pass rate below {min_pass_rate:.0%}: {', '.join(below)}[/]")
            raise typer.Exit(EXIT_BELOW_THRESHOLD)


def _drawn(suite: str | None, draw: int, split: SplitChoice, settings: Settings) -> Suite:
    """The built-in suite drawn again by ``draw``, each instance checked by
    playing its gold solution (one whose gold fails is drawn again)."""
    from agentkit.evals.cases import BUILTIN_SUITE
    from agentkit.evals.families import drawn_suite
    from agentkit.evals.gold import run_gold

    if suite not in (None, BUILTIN_SUITE):
        raise ConfigError(f"--draw draws the built-in suite's families again, not {suite!r}")
    return drawn_suite(draw, lambda case: run_gold(case, settings).passed, split)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
