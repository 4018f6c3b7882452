"""agentkit: local-first agents that use tools and ask a human before they act."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# llama.cpp's OpenMP threads busy-spin between parallel regions by default; on
# a loaded 2-core machine that made decoding ~6x slower. libgomp reads this
# variable once, when it is loaded, so it must be set before llama_cpp is
# imported anywhere in the process. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
# Passive alone means a futex sleep at every one of the ~300 barriers in a
# token's graph: decode ran ~18% slower than with a short spin first. A
# spin of ~0.1 ms catches the next op on an idle machine and still yields
# the core on a loaded one (decode under two CPU hogs: 18.7 tok/s passive,
# 19.1 with the spin). libgomp honours GOMP_SPINCOUNT over the policy.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
# llama.cpp's "tiled" K-quant matmul takes batches of 8 or more tokens and the
# plain dot-product kernel smaller ones; their float sums differ, so a token's
# logits would depend on how many tokens shared its batch and prefix reuse
# could not give exactly the cold result. Off, every batch size runs the same
# per-row kernel (prefill ~23% slower on AVX-512, ~8% on AVX2: docs/kernels.md).
# ggml reads it once, at the first matmul.
os.environ.setdefault("GGML_CPU_TILED_MM", "0")

from agentkit import _llama_compat  # noqa: E402
from agentkit.errors import AgentkitError  # noqa: E402

_llama_compat.install()

if TYPE_CHECKING:
    from threading import Thread

    from agentkit.config import Settings

__version__ = "0.1.0"

__all__ = ["AgentkitError", "__version__", "prewarm"]


def prewarm(settings: Settings | None = None) -> Thread | None:
    """Start loading the chat model in the background (see
    :mod:`agentkit.models.warm`); returns the loading thread, or ``None``
    when the model runs on servers."""
    from agentkit.config import load_settings
    from agentkit.models.warm import prewarm as start

    return start(settings or load_settings())
