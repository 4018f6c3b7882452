"""agentkit: local-first agents that use tools and ask a human before they act."""

from __future__ import annotations

import os

# llama.cpp's OpenMP threads busy-spin between parallel regions by default; on
# a loaded 2-core machine that made decoding ~6x slower. libgomp reads this
# variable once, when it is loaded, so it must be set before llama_cpp is
# imported anywhere in the process. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from agentkit import _llama_compat  # noqa: E402
from agentkit.errors import AgentkitError  # noqa: E402

_llama_compat.install()

__version__ = "0.1.0"

__all__ = ["AgentkitError", "__version__"]
