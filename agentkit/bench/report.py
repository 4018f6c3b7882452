"""A :class:`~agentkit.bench.core.BenchResult` as a table, JSON, a plot and
Markdown."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from agentkit.bench.core import BenchResult, Row


def format_value(row: Row) -> str:
    value = row.value
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if math.isnan(value):
        return "nan"
    if row.unit == "B":
        return f"{value:,.0f} B"
    if row.unit == "" and abs(value) < 10:
        return f"{value:.3f}"
    magnitude = abs(value)
    digits = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2
    return f"{value:,.{digits}f} {row.unit}".strip()


def verdict(row: Row) -> str:
    if row.passed is None:
        return ""
    return "PASS" if row.passed else "FAIL"


def header_lines(result: BenchResult) -> list[str]:
    m, s = result.machine, result.settings
    return [
        f"agentkit bench{' --quick' if result.quick else ''} — {result.started}, {result.seconds:.0f} s",
        f"machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['os']}, Python {m['python']}; "
        f"llama.cpp built for {m.get('llama_build', '?')}",
        f"llama-cpp-python {m['llama_cpp_python']}, langgraph {m['langgraph']}, chromadb {m['chromadb']}; "
        f"OMP_WAIT_POLICY={m['omp_wait_policy'] or 'unset'}, "
        f"GOMP_SPINCOUNT={m.get('gomp_spincount') or 'unset'}, llama.cpp extra buffer types "
        f"{'off (on for F16/F32 models: the embedder)' if m['llama_extra_bufts_disabled'] else 'on'}, "
        f"tiled matmul {'on' if m.get('llama_tiled_matmul') else 'off'}",
        f"settings: {s['model']}, n_threads {s['n_threads']}, n_ctx {s['n_ctx']}, n_batch {s['n_batch']}, "
        f"flash_attn {s['flash_attn']}, temperature {s['temperature']}, durability {s['durability']}",
        "load average (1/5/15 min): before "
        + "/".join(f"{x:.2f}" for x in result.load_before)
        + ", after "
        + "/".join(f"{x:.2f}" for x in result.load_after),
    ]


def render_table(result: BenchResult) -> Any:
    """A rich Table (print it with a rich Console)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="agentkit bench", show_lines=False)
    for name, justify in (
        ("group", "left"),
        ("metric", "left"),
        ("value", "right"),
        ("target", "right"),
        ("", "center"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in result.rows:
        mark = verdict(row)
        style = {"PASS": "green", "FAIL": "red"}.get(mark, "")
        table.add_row(
            row.group,
            escape(row.metric),
            format_value(row),
            str(row.target) if row.target else "",
            f"[{style}]{mark}[/{style}]" if style else "",
            escape(row.note),
        )
    return table


def markdown_table(result: BenchResult) -> str:
    lines = [
        "| group | metric | value | target | result | note |",
        "| --- | --- | ---: | ---: | :---: | --- |",
    ]
    for row in result.rows:
        note = row.note.replace("|", "\\|")
        lines.append(
            f"| {row.group} | {row.metric} | {format_value(row)} | "
            f"{row.target or ''} | {verdict(row)} | {note} |"
        )
    return "\n".join(lines)


def markdown(result: BenchResult, plot_path: str | None = None) -> str:
    parts = ["```", *header_lines(result), "```", "", markdown_table(result)]
    if result.errors:
        parts += ["", "Groups that failed to run:", ""]
        parts += [f"- {name}: {error}" for name, error in result.errors.items()]
    if plot_path:
        parts += ["", f"![scaling curves]({plot_path})"]
    return "\n".join(parts) + "\n"


def write_json(result: BenchResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=2, default=str) + "\n", encoding="utf-8")


def plot(result: BenchResult, path: Path) -> None:
    """Three panels: tokens per turn, RAG latency vs corpus size, checkpoint
    bytes vs steps. A panel without data says so instead of failing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    series = result.series

    ax = axes[0]
    turns = series.get("tokens_per_turn", [])
    if turns:
        x = [t["turn"] for t in turns]
        ax.plot(x, [t["prompt_tokens"] for t in turns], "o-", label="prompt tokens")
        ax.plot(x, [t["evaluated_tokens"] for t in turns], "s-", label="tokens evaluated")
        ax.legend()
    _frame(ax, turns, "Agent loop: tokens per turn", "turn", "tokens")

    ax = axes[1]
    latency = series.get("latency_vs_corpus", [])
    if latency:
        x = [p["chunks"] for p in latency]
        ax.plot(x, [p["p50_ms"] for p in latency], "o-", label="p50")
        ax.plot(x, [p["p95_ms"] for p in latency], "s-", label="p95")
        ax.axhline(30, color="grey", linestyle="--", linewidth=1, label="target p50 (100k)")
        ax.set_xscale("log")
        ax.legend()
    _frame(ax, latency, "RAG query latency (embed + search)", "chunks in store", "ms")

    ax = axes[2]
    growth = series.get("checkpoint_vs_steps", [])
    if growth:
        x = [p["step"] for p in growth]
        ax.plot(x, [p["bytes_per_step"] / 1e3 for p in growth], "-", label="KB written per step")
        ax.set_ylabel("KB per step")
        twin = ax.twinx()
        twin.plot(
            x,
            [p["total_bytes"] / 1e6 for p in growth],
            "--",
            color="tab:red",
            label="thread total (MB)",
        )
        twin.set_ylabel("MB total", color="tab:red")
        ax.legend(loc="upper left")
    _frame(ax, growth, "Checkpoint bytes vs thread length", "agent step", None)

    load = "/".join(f"{x:.1f}" for x in result.load_before)
    fig.suptitle(
        f"agentkit bench{' --quick' if result.quick else ''} — {result.started} — load {load}"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _frame(ax: Any, data: list[Any], title: str, xlabel: str, ylabel: str | None) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if not data:
        ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
