"""Which llama.cpp settings make evaluation batch invariant, and what each costs.

For every combination of llama.cpp's CPU switches (extra buffer types, the
tiled K-quant matmul, flash attention) this evaluates the same 400 prompt
tokens of the bundled model split in different ways and prints how far the
last token's logits move from a one-batch (cold) evaluation: 0 means bit
identical. Then it times prefill and decode (one token per batch, and in
pairs as agentkit's engine decodes) for the settings that matter.

    .venv/bin/python benchmarks/bench_kernels.py            # this build
    .venv-avx2/bin/python benchmarks/bench_kernels.py       # the AVX2-only build (make venv-avx2)

Each configuration runs in its own process: ggml reads its switches once per
process, and on AMX CPUs llama.cpp's extra buffer types crash (reported as
such). Results and their interpretation: docs/kernels.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

CONFIGS = [  # (extra buffer types, tiled matmul, flash attention)
    (True, True, False),  # llama.cpp's defaults
    (False, True, False),
    (True, False, False),
    (False, False, False),  # agentkit's settings
    (False, False, True),
]
PLANS = {
    "300 + 100": [(0, 300), (300, 400)],
    "392 + 8": [(0, 392), (392, 400)],
    "383 + 17": [(0, 383), (383, 400)],
    "397 + 3": [(0, 397), (397, 400)],
    "398 + 2": [(0, 398), (398, 400)],
    "399 + 1": [(0, 399), (399, 400)],
    "300, then one token per batch": [(0, 300), *[(i, i + 1) for i in range(300, 400)]],
    "300, then pairs (agentkit decode)": [(0, 300), *[(i - 1, i + 1) for i in range(300, 400)]],
}


def child(extra: bool, tiled: bool, flash: bool, timing: bool) -> dict[str, object]:
    os.environ["AGENTKIT_LLAMA_EXTRA_BUFTS"] = "1" if extra else "0"
    os.environ["GGML_CPU_TILED_MM"] = "1" if tiled else "0"
    import llama_cpp
    import numpy as np

    import agentkit  # noqa: F401 - installs the llama.cpp patches
    from agentkit.config import load_settings
    from agentkit.models.resolve import resolve_model_path

    settings = load_settings()
    path = resolve_model_path("bundled:gemma3-270m", settings.resolved_cache_dir())
    llm = llama_cpp.Llama(
        model_path=str(path),
        n_ctx=2048,
        n_batch=512,
        n_ubatch=512,
        n_threads=2,
        n_threads_batch=2,
        swa_full=True,
        flash_attn=flash,
        verbose=False,
    )
    text = " ".join(
        f"item {i}: the {w} report"
        for i, w in enumerate(["harbour", "orchard", "glacier", "violin"] * 60)
    )
    tokens = llm.tokenize(text.encode(), add_bos=True, special=True)[:400]
    n_vocab = llm.n_vocab()

    def evaluate(plan: list[tuple[int, int]]) -> np.ndarray:
        llm.reset()
        llm._ctx.kv_cache_clear()
        for start, stop in plan:
            llm.n_tokens = start
            llm.eval(tokens[start:stop])
        ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(n_vocab,)).copy()

    cold = evaluate([(0, 400)])
    drift = {name: float(np.abs(evaluate(plan) - cold).max()) for name, plan in PLANS.items()}
    result: dict[str, object] = {"drift": drift}
    if timing:
        best = min(_timed(lambda: evaluate([(0, 400)])) for _ in range(3))
        result["prefill_tok_s"] = 400 / best
        for name, step in (("decode_single", 1), ("decode_pairs", 2)):
            rates = []
            for _ in range(2):
                evaluate([(0, 256)])
                start = time.perf_counter()
                for i in range(256, 384):
                    llm.n_tokens = i + 1 - step
                    llm.eval(tokens[i + 1 - step : i + 1])
                rates.append(128 / (time.perf_counter() - start))
            result[name] = max(rates)
    return result


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    import agentkit  # noqa: F401
    from agentkit.models.kernels import describe_build

    print(f"llama.cpp built for: {describe_build()}")
    header = f"{'extra bufts':>11} {'tiled':>5} {'flash':>5} | " + " | ".join(
        f"{name[:14]:>14}" for name in PLANS
    )
    print(header)
    rows = []
    for extra, tiled, flash in CONFIGS:
        timing = not flash
        proc = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps([extra, tiled, flash, timing])],
            capture_output=True,
            text=True,
            timeout=900,
        )
        label = f"{'on' if extra else 'off':>11} {'on' if tiled else 'off':>5} {'on' if flash else 'off':>5}"
        if proc.returncode != 0:
            print(f"{label} | crashed (exit {proc.returncode})")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        drift = result["drift"]
        print(f"{label} | " + " | ".join(f"{drift[name]:>14.4f}" for name in PLANS))
        rows.append((label, result))
    print("\nspeed (2 threads): prefill 400 tokens, decode 128 tokens after 256")
    for label, result in rows:
        if "prefill_tok_s" in result:
            single, pairs = result["decode_single"], result["decode_pairs"]
            print(
                f"{label} | prefill {result['prefill_tok_s']:6.0f} tok/s | decode {single:5.1f} tok/s "
                f"one per batch, {pairs:5.1f} in pairs ({pairs / single - 1:+.0%})"
            )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        extra, tiled, flash, timing = json.loads(sys.argv[2])
        print(json.dumps(child(extra, tiled, flash, timing)))
    else:
        main()
