"""``python -m agentkit.models.llama_server [llama_cpp.server flags]``.

Starts llama-cpp-python's OpenAI-compatible server (``python -m
llama_cpp.server``) with agentkit's llama.cpp workaround applied first: on
CPUs with AMX the stock server segfaults on its first completion (see
:mod:`agentkit._llama_compat`). Flags and behaviour are otherwise the
server's own; see docs/deploy.md for the ones agentkit needs.
"""

from __future__ import annotations

import os
import runpy
import sys


def main() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    from agentkit import _llama_compat

    _llama_compat.install()
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
