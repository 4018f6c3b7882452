"""An eval run as JSON (:class:`EvalReport`), rich tables and Markdown.

The JSON document is versioned (``schema_version``); docs/evals.md describes its
fields. Tables put targets side by side: a summary table (a row per metric,
a column per target and split), a table per kind, and one row per dev case
(pass, or the failure class).

Held-out cases are reported only as aggregate numbers (per split and per
kind): a :class:`TargetReport` never holds their results, so no table, JSON
or Markdown can show a held-out task, answer or failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, JsonValue

from agentkit.evals.cases import SPLITS, Split
from agentkit.evals.scoring import FAILURE_CLASSES, CaseResult, Summary, summarize

if TYPE_CHECKING:
    from rich.table import Table

    from agentkit.evals.cases import Suite

SCHEMA_VERSION = 2  # bump when a field changes meaning or goes away
SPLIT_LABELS: dict[str, str] = {"dev": "dev", "heldout": "held-out", "all": "all"}


class TargetReport(BaseModel):
    label: str
    model: str
    options: dict[str, JsonValue]
    summary: Summary  # every case
    splits: dict[Split, Summary] = {}  # the splits the run had
    kinds: dict[Split, dict[str, Summary]] = {}  # split -> kind -> summary
    cases: list[CaseResult]  # dev cases only
    heldout_cases: int = 0  # run, and counted in the summaries, never listed

    @classmethod
    def from_results(
        cls,
        label: str,
        model: str,
        options: Mapping[str, JsonValue],
        results: Sequence[CaseResult],
    ) -> TargetReport:
        """Summaries of every split and kind; the held-out results themselves
        are dropped here."""
        splits: dict[Split, Summary] = {}
        kinds: dict[Split, dict[str, Summary]] = {}
        for split in SPLITS:
            part = [r for r in results if r.split == split]
            if not part:
                continue
            splits[split] = summarize(part)
            names = sorted({r.kind for r in part})
            kinds[split] = {k: summarize([r for r in part if r.kind == k]) for k in names}
        return cls(
            label=label,
            model=model,
            options=dict(options),
            summary=summarize(results),
            splits=splits,
            kinds=kinds,
            cases=[r for r in results if r.split != "heldout"],
            heldout_cases=sum(1 for r in results if r.split == "heldout"),
        )

    def columns(self) -> list[tuple[str, Summary]]:
        """(split label, summary): each split the run had, then all of them
        when there were several."""
        shown = [(SPLIT_LABELS[s], summary) for s, summary in self.splits.items()]
        if len(shown) != 1:
            shown.append((SPLIT_LABELS["all"], self.summary))
        return shown


class EvalReport(BaseModel):
    schema_version: Literal[2] = SCHEMA_VERSION
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


def summary_columns(
    targets: Sequence[TargetReport], rich: bool = True
) -> list[tuple[str, str, Summary]]:
    """(target name, split label, summary) for each column of the summary table."""
    return [(_column(t, rich), split, summary) for t in targets for split, summary in t.columns()]


def summary_rows(columns: Sequence[tuple[str, str, Summary]]) -> list[tuple[str, list[str]]]:
    """(metric, one value per column) rows shared by the rich and Markdown tables."""
    s = [summary for _, _, summary in columns]
    rows: list[tuple[str, list[str]]] = [
        ("pass rate", [_fraction(x.passed, x.cases) for x in s]),
        (
            "robustness (families, every wording)",
            [_fraction(x.robust_families, x.families) for x in s],
        ),
        ("right first tool", [_fraction(x.right_first_tool, x.first_tool_cases) for x in s]),
        ("tool-call validity", [_fraction(x.valid_calls, x.calls) for x in s]),
        ("unsafe", [str(x.unsafe) for x in s]),
        ("mean steps", [f"{x.mean_steps:.1f}" for x in s]),
        ("tokens / task (mean)", [f"{x.mean_tokens:,.0f}" for x in s]),
        ("  prompt evaluated", [f"{x.mean_prompt_tokens:,.0f}" for x in s]),
        ("  generated", [f"{x.mean_generated_tokens:,.0f}" for x in s]),
        ("seconds / task (median)", [f"{x.median_seconds:.1f}" for x in s]),
        ("runaway generations", [str(x.runaways) for x in s]),
    ]
    heldout = [split == SPLIT_LABELS["heldout"] for _, split, _ in columns]
    for name in FAILURE_CLASSES:
        if any(x.failures.get(name) for x in s):
            rows.append(
                (
                    f"failed: {name} (dev)",
                    [
                        "" if h else str(x.failures.get(name, 0))
                        for x, h in zip(s, heldout, strict=True)
                    ],
                )
            )
    return rows


def kind_rows(targets: Sequence[TargetReport]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(column names, rows): a row per kind, pass rate per target and split."""
    splits = [s for s in SPLITS if any(s in t.kinds for t in targets)]
    names = [
        f"{_column(t, rich=False)} {SPLIT_LABELS[s]}" if len(targets) > 1 else SPLIT_LABELS[s]
        for t in targets
        for s in splits
    ]
    kinds = sorted({k for t in targets for by_kind in t.kinds.values() for k in by_kind})
    rows: list[tuple[str, list[str]]] = []
    for kind in kinds:
        cells = []
        for t in targets:
            for s in splits:
                x = t.kinds.get(s, {}).get(kind)
                cells.append(
                    "-"
                    if x is None
                    else f"{_fraction(x.passed, x.cases)}, robust {x.robust_families}/{x.families}"
                )
        rows.append((kind, cells))
    return names, rows


def _title(report: EvalReport) -> str:
    if not report.targets:
        return "agentkit eval"
    first = report.targets[0]
    heldout = f", {first.heldout_cases} held-out" if first.heldout_cases else ""
    return f"agentkit eval: {report.suite} ({first.summary.cases} cases{heldout})"


def render_summary(report: EvalReport) -> Table:
    from rich.table import Table

    table = Table(title=_title(report))
    table.add_column("metric")
    columns = summary_columns(report.targets)
    for name, split, _ in columns:
        table.add_column(f"{name}\n{split}" if len(columns) > 1 else name, justify="right")
    for metric, values in summary_rows(columns):
        table.add_row(metric, *values)
    return table


def render_kinds(report: EvalReport) -> Table:
    from rich.markup import escape
    from rich.table import Table

    names, rows = kind_rows(report.targets)
    table = Table(title="by kind: pass rate, families whose every wording passed")
    table.add_column("kind")
    for name in names:
        table.add_column(escape(name), justify="right")
    for kind, cells in rows:
        table.add_row(kind, *cells)
    return table


def _cell(result: CaseResult | None) -> str:
    if result is None:
        return ""
    if result.passed:
        return f"[green]pass[/] [dim]{result.steps} st, {result.seconds:.1f} s[/]"
    return f"[red]{result.failure}[/]"


def _heldout_note(report: EvalReport) -> str:
    count = report.targets[0].heldout_cases if report.targets else 0
    return f"{count} held-out cases: aggregate scores only" if count else ""


def render_cases(report: EvalReport) -> Table:
    """A row per dev case: pass, or its failure class (and why, for one target)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="cases", caption=_heldout_note(report) or None)
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


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * left + " ---: |" * (len(head) - left)]
    return out + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(report: EvalReport) -> str:
    """The summary, per-kind and per-case tables as Markdown (for docs/evals.md)."""
    columns = summary_columns(report.targets, rich=False)
    head = [f"{name} {split}" if len(columns) > 1 else name for name, split, _ in columns]
    lines = [*(f"{line}  " for line in header_lines(report)), ""]
    lines += _md_table(
        ["metric", *head], [[metric, *values] for metric, values in summary_rows(columns)]
    )
    names, rows = kind_rows(report.targets)
    lines += ["", *_md_table(["kind", *names], [[kind, *cells] for kind, cells in rows])]
    targets = [_column(t, rich=False) for t in report.targets]
    by_target = [{r.id: r for r in t.cases} for t in report.targets]
    case_rows = []
    for result in report.targets[0].cases if report.targets else []:
        cells = []
        for results in by_target:
            other = results.get(result.id)
            cells.append("" if other is None else "pass" if other.passed else str(other.failure))
        case_rows.append([result.id, *cells])
    lines += ["", *_md_table(["case", *targets], case_rows, left=len(targets) + 1)]
    note = _heldout_note(report)
    if note:
        lines += ["", f"({note}.)"]
    return "\n".join(lines) + "\n"
