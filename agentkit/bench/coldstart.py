"""Cold start: a fresh ``python`` process that imports agentkit, builds
``ChatLlama.from_settings()`` and streams until the first token.

Measured as the front ends start (``agentkit run``/``chat`` call
:func:`agentkit.prewarm` right after reading settings, so the model loads
while LangChain and LangGraph import), and, for comparison, without it.

Wall time is taken by this process from just before the child is spawned to
the moment the child reports its first token on stdout; the child reports
when its import and model load finished (against the same wall clock) and
its own peak RSS (``ru_maxrss``) at that moment. The GGUF file is usually in
the OS page cache already (the first run warms it), as it is for a user who
starts agentkit a second time.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

from agentkit.bench.core import BenchContext, Row, Target

CHILD = r"""
import json, resource, sys, time
spawned = float(sys.argv[1])
import agentkit
from agentkit.config import load_settings
settings = load_settings(temperature=0.0)
if sys.argv[2] == "prewarm":
    agentkit.prewarm(settings)
from agentkit.models import ChatLlama
imported = time.time()
model = ChatLlama.from_settings(settings)
model.engine
loaded = time.time()
text = ""
for chunk in model.stream("Write one sentence about cats.", max_tokens=8):
    if chunk.content:
        text = str(chunk.content)
        break
first = time.time()
print(json.dumps({
    "import_s": imported - spawned, "load_s": loaded - spawned, "first_s": first - spawned,
    "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "text": text,
}), flush=True)
"""


def cold_start_once(mode: str = "prewarm") -> dict[str, float]:
    spawned = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, repr(spawned), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    wall = time.perf_counter() - start
    proc.wait(timeout=60)
    if proc.returncode != 0 or not line.strip():
        raise RuntimeError(f"cold-start child failed (exit {proc.returncode})")
    report = json.loads(line)
    report["wall_s"] = wall
    report["children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return report


def run(ctx: BenchContext) -> list[Row]:
    runs, plain = [], []
    for i in range(2):
        ctx.say(f"[coldstart] run {i + 1}/2")
        runs.append(cold_start_once("prewarm"))
        plain.append(cold_start_once("plain"))
    best = min(runs, key=lambda r: r["wall_s"])
    best_plain = min(r["wall_s"] for r in plain)
    rss_mb = max(r["rss_kb"] for r in runs) / 1024
    return [
        Row(
            "coldstart",
            "cold start to first token",
            best["wall_s"],
            "s",
            Target("<=", 1.5),
            note=f"with agentkit.prewarm (as agentkit run/chat): imports done {best['import_s']:.2f} s, "
            f"model ready {best['load_s']:.2f} s; runs: "
            + ", ".join(f"{r['wall_s']:.2f}" for r in runs)
            + f" s; without prewarm {best_plain:.2f} s",
        ),
        Row(
            "coldstart",
            "peak RSS to first token",
            rss_mb,
            "MB",
            note=f"child's ru_maxrss (bundled chat model, n_ctx {ctx.settings.n_ctx}, swa_full)",
        ),
    ]
