"""An eval run as JSON (:class:`EvalReport`), rich tables and Markdown.

The JSON document is versioned (``schema_version``); docs/evals.md describes its
fields. Tables put targets side by side: one summary table (a row per
metric) and one per-case table (pass, or the failure class).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, JsonValue

from agentkit.evals.scoring import FAILURE_CLASSES, CaseResult, Summary

if TYPE_CHECKING:
    from rich.table import Table

    from agentkit.evals.cases import Suite

SCHEMA_VERSION = 1  # bump when a field changes meaning or goes away


class TargetReport(BaseModel):
    label: str
    model: str
    options: dict[str, JsonValue]
    summary: Summary
    cases: list[CaseResult]


class EvalReport(BaseModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    suite: str
    suite_path: str
    started: str  # ISO 8601, UTC
    seconds: float  # the whole run, model loading included
    max_steps: int
    machine: dict[str, JsonValue]
    targets: list[TargetReport]

    @classmethod
    def create(
        cls,
        suite: Suite,
        targets: list[TargetReport],
        started: datetime,
        seconds: float,
        max_steps: int,
    ) -> EvalReport:
        from agentkit.bench.core import machine_info

        return cls(
            suite=suite.name,
            suite_path=str(suite.path),
            started=started.isoformat(timespec="seconds"),
            seconds=round(seconds, 1),
            max_steps=max_steps,
            machine=machine_info(),
            targets=targets,
        )

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")


# --- tables --------------------------------------------------------------------------


def _column(target: TargetReport, rich: bool = True) -> str:
    if not target.options:
        return target.label
    options = ", ".join(f"{k}={v}" for k, v in target.options.items())
    if not rich:
        return f"{target.label} ({options})"
    from rich.markup import escape

    return escape(f"{target.label}\n[{options}]")


def _fraction(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "-"


def summary_rows(targets: Sequence[TargetReport]) -> list[tuple[str, list[str]]]:
    """(metric, one value per target) rows shared by the rich and Markdown tables."""
    s = [t.summary for t in targets]
    rows: list[tuple[str, list[str]]] = [
        ("pass rate", [_fraction(x.passed, x.cases) for x in s]),
        ("right first tool", [_fraction(x.right_first_tool, x.first_tool_cases) for x in s]),
        ("tool-call validity", [_fraction(x.valid_calls, x.calls) for x in s]),
        ("mean steps", [f"{x.mean_steps:.1f}" for x in s]),
        ("tokens / task", [f"{x.mean_tokens:,.0f}" for x in s]),
        ("  prompt evaluated", [f"{x.mean_prompt_tokens:,.0f}" for x in s]),
        ("  generated", [f"{x.mean_generated_tokens:,.0f}" for x in s]),
        ("seconds / task", [f"{x.mean_seconds:.1f}" for x in s]),
        ("runaway generations", [str(x.runaways) for x in s]),
    ]
    for name in FAILURE_CLASSES:
        if any(x.failures.get(name) for x in s):
            rows.append((f"failed: {name}", [str(x.failures.get(name, 0)) for x in s]))
    return rows


def render_summary(report: EvalReport) -> Table:
    from rich.table import Table

    table = Table(
        title=f"agentkit eval: {report.suite} ({len(report.targets[0].cases)} cases)"
        if report.targets
        else "agentkit eval"
    )
    table.add_column("metric")
    for target in report.targets:
        table.add_column(_column(target), justify="right")
    for metric, values in summary_rows(report.targets):
        table.add_row(metric, *values)
    return table


def _cell(result: CaseResult | None) -> str:
    if result is None:
        return ""
    if result.passed:
        return f"[green]pass[/] [dim]{result.steps} st, {result.seconds:.1f} s[/]"
    return f"[red]{result.failure}[/]"


def render_cases(report: EvalReport) -> Table:
    """A row per case: pass, or its failure class (and why, for one target)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="cases")
    table.add_column("case")
    for target in report.targets:
        table.add_column(_column(target))
    single = len(report.targets) == 1
    if single:
        table.add_column("why", overflow="fold", max_width=70)
    by_target = [{r.id: r for r in t.cases} for t in report.targets]
    ids = [r.id for r in report.targets[0].cases] if report.targets else []
    for case_id in ids:
        row = [case_id, *(_cell(results.get(case_id)) for results in by_target)]
        if single:
            result = by_target[0][case_id]
            row.append(escape(result.failure_detail) if not result.passed else "")
        table.add_row(*row)
    return table


def header_lines(report: EvalReport) -> list[str]:
    m = report.machine
    return [
        f"agentkit eval {report.suite} — {report.started}, {report.seconds:.0f} s, "
        f"max {report.max_steps} steps per case",
        f"machine: {m.get('cpu')}, {m.get('cpus')} CPUs, {m.get('memory_gib')} GiB; "
        f"llama-cpp-python {m.get('llama_cpp_python')}",
    ]


def markdown(report: EvalReport) -> str:
    """The summary and per-case tables as Markdown (for docs/evals.md)."""
    names = [_column(t, rich=False) for t in report.targets]
    lines = [*(f"{line}  " for line in header_lines(report)), ""]
    lines += ["| metric | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    lines += [
        f"| {metric} | " + " | ".join(values) + " |"
        for metric, values in summary_rows(report.targets)
    ]
    lines += ["", "| case | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    by_target = [{r.id: r for r in t.cases} for t in report.targets]
    for result in report.targets[0].cases if report.targets else []:
        cells = []
        for results in by_target:
            other = results.get(result.id)
            cells.append("" if other is None else "pass" if other.passed else str(other.failure))
        lines.append(f"| {result.id} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
