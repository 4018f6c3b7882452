"""The benchmark suite behind ``agentkit bench``.

One run measures every group on the same settings (bundled model, threads,
n_ctx, temperature 0) and returns a :class:`BenchResult`: rows of measured
value + target + pass/fail, the series for the scaling plots, and the machine
it ran on (load average included: a busy machine makes every number noisy).

    from agentkit.bench import run_bench
    result = run_bench(quick=True)

Groups live in their own modules (``model``, ``agent``, ``checkpoint``,
``rag``, ``coldstart``); ``report`` turns a result into a table, JSON and a
plot. Heavy imports happen inside the group functions.
"""

from __future__ import annotations

from agentkit.bench.core import (
    GROUPS,
    BenchContext,
    BenchResult,
    Row,
    Target,
    machine_info,
    run_bench,
)

__all__ = [
    "GROUPS",
    "BenchContext",
    "BenchResult",
    "Row",
    "Target",
    "machine_info",
    "run_bench",
]
