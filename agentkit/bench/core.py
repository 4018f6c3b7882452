"""Rows, targets, results and the runner shared by every benchmark group."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from agentkit.config import Settings, load_settings

GroupName = Literal["coldstart", "tasks", "model", "decoding", "agent", "checkpoint", "rag"]
GROUPS: tuple[GroupName, ...] = (
    "coldstart",
    "tasks",
    "model",
    "decoding",
    "agent",
    "checkpoint",
    "rag",
)
"""Run order. Cold start goes first, before this process loads any model, so
the child competes with as little of our own memory as possible."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    """``value op threshold`` must hold; ``op`` is ``>=``, ``<=`` or ``==``."""

    op: Literal[">=", "<=", "=="]
    threshold: float | bool

    def check(self, value: float | bool) -> bool:
        if self.op == ">=":
            return float(value) >= float(self.threshold)
        if self.op == "<=":
            return float(value) <= float(self.threshold)
        return value == self.threshold

    def __str__(self) -> str:
        if isinstance(self.threshold, bool):
            return "yes" if self.threshold else "no"
        return f"{self.op} {self.threshold:g}"


@dataclass
class Row:
    """One measured number. ``passed`` is None for rows without a target
    (the two sides of a ratio, context numbers)."""

    group: GroupName
    metric: str
    value: float | bool | None
    unit: str = ""
    target: Target | None = None
    note: str = ""
    passed: bool | None = None

    def __post_init__(self) -> None:
        if self.target is not None and self.passed is None:
            self.passed = self.value is not None and self.target.check(self.value)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = (
            None
            if self.target is None
            else {
                "op": self.target.op,
                "threshold": self.target.threshold,
                "text": str(self.target),
            }
        )
        return data


@dataclass
class BenchContext:
    """What every group gets: the settings (same for all sides of a ratio),
    quick mode, a progress printer, and a place to leave numbers for later
    groups and series for the plot."""

    settings: Settings
    quick: bool = False
    progress: Progress = lambda message: None
    shared: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def say(self, message: str) -> None:
        self.progress(message)


@dataclass
class BenchResult:
    rows: list[Row]
    series: dict[str, list[dict[str, float]]]
    machine: dict[str, Any]
    settings: dict[str, Any]
    quick: bool
    started: str
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.passed is False]

    def to_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "seconds": round(self.seconds, 1),
            "quick": self.quick,
            "machine": self.machine,
            "settings": self.settings,
            "load_before": list(self.load_before),
            "load_after": list(self.load_after),
            "rows": [r.to_json() for r in self.rows],
            "series": self.series,
            "errors": self.errors,
        }


def loadavg() -> tuple[float, float, float]:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)
    return (round(one, 2), round(five, 2), round(fifteen, 2))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0.0
    return round(pages / 2**30, 1)


def machine_info() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    from agentkit._llama_compat import extra_bufts_disabled
    from agentkit.models.kernels import TILED_ENV, describe_build

    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count() or 0,
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "llama_cpp_python": pkg("llama-cpp-python"),
        "langgraph": pkg("langgraph"),
        "chromadb": pkg("chromadb"),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT", ""),
        "llama_extra_bufts_disabled": extra_bufts_disabled(),
        "llama_build": describe_build(),
        "llama_tiled_matmul": os.environ.get(TILED_ENV, "1") != "0",
    }


def bench_settings(**overrides: Any) -> Settings:
    """The settings every side of every ratio shares: the user's settings with
    temperature 0 (deterministic, comparable runs)."""
    return load_settings(temperature=0.0, **overrides)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_bench(
    quick: bool = False,
    groups: Sequence[GroupName] = GROUPS,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> BenchResult:
    """Run ``groups`` in order and collect their rows. A group that fails
    becomes an error entry (and its rows are missing), not a crash: the
    other groups' numbers are still worth having."""
    from agentkit.bench import agent, checkpoint, coldstart, decoding, model, rag, tasks

    runners: dict[GroupName, Callable[[BenchContext], list[Row]]] = {
        "coldstart": coldstart.run,
        "tasks": tasks.run,
        "model": model.run,
        "decoding": decoding.run,
        "agent": agent.run,
        "checkpoint": checkpoint.run,
        "rag": rag.run,
    }
    settings = settings or bench_settings()
    ctx = BenchContext(settings=settings, quick=quick, progress=progress or (lambda _m: None))
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    load_before = loadavg()
    t0 = time.perf_counter()
    rows: list[Row] = []
    errors: dict[str, str] = {}
    for name in GROUPS:
        if name not in groups:
            continue
        ctx.say(f"[{name}] load average {loadavg()[0]:.2f}")
        group_start = time.perf_counter()
        try:
            rows.extend(runners[name](ctx))
        except Exception as err:  # noqa: BLE001 - report it, keep the other groups
            errors[name] = f"{type(err).__name__}: {err}"
            ctx.say(f"[{name}] failed: {errors[name]}")
        ctx.say(f"[{name}] done in {time.perf_counter() - group_start:.1f} s")
    return BenchResult(
        rows=rows,
        series=ctx.series,
        machine=machine_info(),
        settings={
            "model": settings.model,
            "n_ctx": settings.n_ctx,
            "n_threads": settings.resolved_threads(),
            "n_batch": settings.n_batch,
            "flash_attn": settings.flash_attn,
            "temperature": settings.temperature,
            "durability": settings.durability,
            "embed_model": settings.embed_model,
        },
        quick=quick,
        started=started,
        seconds=time.perf_counter() - t0,
        load_before=load_before,
        load_after=loadavg(),
        errors=errors,
    )
