"""The bench plumbing (targets, runner, table, JSON, plot, CLI) with fake
measurements. The real benchmark is never run here: it needs minutes and a
quiet machine, and speed targets do not belong in tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit.bench import BenchContext, Row, Target, run_bench
from agentkit.bench.core import BenchResult, percentile
from agentkit.bench.report import format_value, markdown, plot, render_table, write_json


def fake_groups(monkeypatch: pytest.MonkeyPatch, broken: str | None = None) -> None:
    """Replace every group's ``run`` with instant fake measurements."""
    from agentkit.bench import agent, checkpoint, coldstart, decoding, model, rag, tasks

    def model_run(ctx: BenchContext) -> list[Row]:
        ctx.shared["raw_decode"] = 50.0
        return [
            Row("model", "ChatLlama ÷ raw decode", 0.99, "", Target(">=", 0.97)),
            Row("model", "constrained ÷ unconstrained decode", 0.5, "", Target(">=", 0.8)),
        ]

    def tasks_run(ctx: BenchContext) -> list[Row]:
        return [Row("tasks", "time per task, median", 4.2, "s")]

    def decoding_run(ctx: BenchContext) -> list[Row]:
        return [
            Row("decoding", "prompt lookup ÷ plain, copy-heavy call", 3.1, "", Target(">=", 2.0))
        ]

    def agent_run(ctx: BenchContext) -> list[Row]:
        ctx.series["tokens_per_turn"] = [
            {"turn": t, "prompt_tokens": 200 + 90 * t, "evaluated_tokens": 200 if t == 1 else 60}
            for t in range(1, 11)
        ]
        seen = ctx.shared["raw_decode"]  # groups run in order and share numbers
        return [
            Row("agent", "warm turns identical to cold replay", True, "", Target("==", True)),
            Row("agent", "agent step ÷ raw decode (chained)", 40.0 / seen, ""),
        ]

    def checkpoint_run(ctx: BenchContext) -> list[Row]:
        ctx.series["checkpoint_vs_steps"] = [
            {"step": s, "bytes_per_step": 1000 * s, "total_bytes": 500 * s * s, "file_bytes": 0}
            for s in range(1, 201)
        ]
        return [Row("checkpoint", "bytes per step at 200 ÷ at 10", 20.0, "", Target("<=", 2.0))]

    def rag_run(ctx: BenchContext) -> list[Row]:
        ctx.series["latency_vs_corpus"] = [
            {"chunks": 1000, "p50_ms": 12.0, "p95_ms": 20.0},
            {"chunks": 10000, "p50_ms": 14.0, "p95_ms": 25.0},
        ]
        return [Row("rag", "RAG query p50 @ 10k chunks", 14.0, "ms", Target("<=", 30.0))]

    def coldstart_run(ctx: BenchContext) -> list[Row]:
        return [Row("coldstart", "cold start to first token", 1.2, "s", Target("<=", 1.5))]

    fakes = {
        model: model_run,
        decoding: decoding_run,
        tasks: tasks_run,
        agent: agent_run,
        checkpoint: checkpoint_run,
        rag: rag_run,
        coldstart: coldstart_run,
    }
    for module, fake in fakes.items():
        if broken and module.__name__.endswith("." + broken):

            def explode(ctx: BenchContext) -> list[Row]:
                raise RuntimeError("no model here")

            fake = explode
        monkeypatch.setattr(module, "run", fake)


def test_targets_decide_pass_and_fail() -> None:
    assert Row("model", "r", 0.97, target=Target(">=", 0.97)).passed is True
    assert Row("model", "r", 0.96, target=Target(">=", 0.97)).passed is False
    assert Row("rag", "p50", 31.0, "ms", Target("<=", 30.0)).passed is False
    assert Row("agent", "same", False, target=Target("==", True)).passed is False
    assert Row("model", "info", 12.0, "tok/s").passed is None  # no target, no verdict
    assert Row("model", "missing", None, target=Target(">=", 1)).passed is False
    assert str(Target("<=", 0.1)) == "<= 0.1"
    assert str(Target("==", True)) == "yes"


def test_format_and_percentile() -> None:
    assert format_value(Row("checkpoint", "b", 49658.0, "B")) == "49,658 B"
    assert format_value(Row("model", "ratio", 0.9678, "")) == "0.968"
    assert format_value(Row("model", "rate", 74.25, "tok/s")) == "74.2 tok/s"
    assert format_value(Row("agent", "same", True)) == "yes"
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([float(i) for i in range(101)], 0.95) == 95.0


def test_runner_keeps_going_when_a_group_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_groups(monkeypatch, broken="rag")
    result = run_bench(quick=True)
    assert set(result.errors) == {"rag"}
    assert "no model here" in result.errors["rag"]
    groups = [r.group for r in result.rows]
    # run order: cold start first, before any model is loaded in-process
    assert groups[0] == "coldstart"
    assert "rag" not in groups
    assert [r.metric for r in result.failed] == [
        "constrained ÷ unconstrained decode",
        "bytes per step at 200 ÷ at 10",
    ]
    assert result.machine["cpus"] >= 1
    assert len(result.load_before) == 3


def test_json_plot_and_markdown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_groups(monkeypatch)
    result = run_bench(quick=True, groups=["model", "agent", "checkpoint", "rag"])
    assert isinstance(result, BenchResult)

    out = tmp_path / "bench.json"
    write_json(result, out)
    data = json.loads(out.read_text())
    assert data["quick"] is True
    by_metric = {r["metric"]: r for r in data["rows"]}
    assert by_metric["ChatLlama ÷ raw decode"]["passed"] is True
    assert by_metric["ChatLlama ÷ raw decode"]["target"] == {
        "op": ">=",
        "threshold": 0.97,
        "text": ">= 0.97",
    }
    assert by_metric["agent step ÷ raw decode (chained)"]["value"] == pytest.approx(0.8)
    assert len(data["series"]["checkpoint_vs_steps"]) == 200
    assert "load_before" in data and "machine" in data

    png = tmp_path / "bench.png"
    plot(result, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    text = markdown(result, "bench.png")
    assert "| model | constrained ÷ unconstrained decode | 0.500 | >= 0.8 | FAIL |" in text
    assert "![scaling curves](bench.png)" in text
    assert "load average" in text


def test_plot_without_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_groups(monkeypatch)
    result = run_bench(quick=True, groups=["coldstart"])
    png = tmp_path / "empty.png"
    plot(result, png)  # panels say "not measured" instead of failing
    assert png.stat().st_size > 0


def test_table_shows_value_target_and_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    fake_groups(monkeypatch)
    console = Console(record=True, width=200)
    console.print(render_table(run_bench(quick=True)))
    text = console.export_text()
    assert "cold start to first token" in text and "<= 1.5" in text
    assert "PASS" in text and "FAIL" in text


def test_cli_writes_files_and_rejects_unknown_groups(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from agentkit.cli import app

    fake_groups(monkeypatch)
    runner = CliRunner()
    args = [
        "bench",
        "--quick",
        "--json",
        str(tmp_path / "b.json"),
        "--plot",
        str(tmp_path / "b.png"),
        "--markdown",
        str(tmp_path / "b.md"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "targets met" in result.output
    assert json.loads((tmp_path / "b.json").read_text())["rows"]
    assert (tmp_path / "b.png").exists() and "| group |" in (tmp_path / "b.md").read_text()

    bad = runner.invoke(app, ["bench", "--only", "model,gpu"])
    assert bad.exit_code != 0
    assert "gpu" in str(bad.exception)
