"""Which CPU kernels llama.cpp runs, and whether prefix reuse is exact.

Prefix reuse keeps KV-cache entries computed in earlier calls. It gives
exactly the cold result only if a token's keys, values and logits do not
depend on how many tokens shared its batch ("batch invariance"). Measured on
llama-cpp-python 0.3.36 with an AVX-512/AMX build and an AVX2-only build
(evidence and figures: docs/kernels.md), llama.cpp's CPU backend is batch
invariant when:

- the model's weights stay in plain CPU buffers (no repacked "extra buffer
  types": their gemm/gemv split by rows of four broke it on AVX2);
- the tiled K-quant matmul is off (``GGML_CPU_TILED_MM=0``; it takes batches
  of 8+ tokens, the dot-product kernel smaller ones);
- flash attention is off (its tiled and split-KV paths are chosen by batch
  shape);
- and no batch has a single token: llamafile's sgemm (attention, Q5_0/Q8_0
  weights) only runs for two or more rows, and a lone token takes ggml's
  vec_dot instead. So the engine decodes each new token together with the one
  before it (re-evaluating that one costs ~8% of decode speed).

Under those rules a cached run, a cold run and a run that reuses the tokens
the model itself generated are bit-identical, on both CPU families. Anything
else (a GPU build, flash attention, a non-x86 CPU, the switches turned back
on) falls back to the conservative rules the engine used before: prompt
batches of at least 16 tokens and generated tokens never reused, which is
close but not proven identical.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TILED_ENV = "GGML_CPU_TILED_MM"
BATCH_INVARIANT_MIN_BATCH = 2
CONSERVATIVE_MIN_BATCH = 16
# The x86 features that select different llama.cpp kernels, as
# llama_print_system_info() names them.
X86_FEATURES = (
    "AVX",
    "AVX2",
    "AVX_VNNI",
    "FMA",
    "F16C",
    "AVX512",
    "AVX512_VNNI",
    "AVX512_BF16",
    "AMX_INT8",
    "LLAMAFILE",
    "REPACK",
)


@dataclass(frozen=True)
class ReuseRules:
    """How the engine may reuse the KV cache for one loaded model."""

    batch_invariant: bool
    min_batch: int  # no evaluated batch (but a one-token prompt) is smaller
    reuse_generated: bool  # generated tokens stay in the cache for the next prompt
    decode_pairs: bool  # each new token is evaluated with the previous one
    reason: str  # one line: why the guarantee holds or not


@cache
def build_features() -> dict[str, bool]:
    """The CPU features llama.cpp was compiled for (from its system info)."""
    try:
        import llama_cpp
    except ImportError:
        return {}
    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    found = dict(re.findall(r"(\w+) = (\d)", info))
    return {name: found.get(name) == "1" for name in X86_FEATURES if name in found}


def describe_build() -> str:
    """E.g. ``AVX2, AVX-512, AMX`` (what the kernels were compiled for)."""
    features = build_features()
    if not features:
        return "unknown"
    names = []
    if features.get("AVX2"):
        names.append("AVX2")
    if features.get("AVX512"):
        names.append("AVX-512")
    if features.get("AMX_INT8"):
        names.append("AMX")
    return ", ".join(names) or "no AVX2"


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def gpu_build() -> bool:
    try:
        import llama_cpp
    except ImportError:
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def reuse_rules(*, n_gpu_layers: int = 0, flash_attn: bool = False) -> ReuseRules:
    """The reuse rules for a model loaded with these settings in this process."""
    from agentkit._llama_compat import extra_bufts_disabled

    problems = []
    if platform.machine().lower() not in ("x86_64", "amd64"):
        problems.append(f"only verified on x86-64 (this is {platform.machine()})")
    if gpu_build() or n_gpu_layers:
        problems.append("a GPU build may send batches to other kernels")
    if flash_attn:
        problems.append("flash attention picks kernels by batch shape")
    if not extra_bufts_disabled():
        problems.append("extra buffer types are on (AGENTKIT_LLAMA_EXTRA_BUFTS)")
    if os.environ.get(TILED_ENV, "1").strip() != "0":
        problems.append(f"the tiled matmul is on ({TILED_ENV}={os.environ.get(TILED_ENV)})")
    if problems:
        return ReuseRules(
            batch_invariant=False,
            min_batch=CONSERVATIVE_MIN_BATCH,
            reuse_generated=False,
            decode_pairs=False,
            reason="not guaranteed: " + "; ".join(problems),
        )
    return ReuseRules(
        batch_invariant=True,
        min_batch=BATCH_INVARIANT_MIN_BATCH,
        reuse_generated=True,
        decode_pairs=True,
        reason="holds: batch-invariant CPU kernels (no extra buffers, no tiled matmul, "
        "no flash attention, no one-token batches)",
    )
