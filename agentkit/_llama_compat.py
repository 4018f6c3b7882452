"""Work around llama.cpp's AMX matmul crashing on CPUs that advertise AMX.

llama-cpp-python builds llama.cpp with ``-march=native``; on a CPU with AMX
tiles (Sapphire Rapids and later) ggml then routes quantized matmuls through
its AMX "extra buffer type", which segfaulted here on the first decode (seen
in ``ggml_backend_amx_mul_mat``, also through plain ``create_completion``).
Turning off extra buffer types at model load avoids it. The switch lives in
``llama_model_params``; llama-cpp-python does not expose it, so we wrap
``llama_model_default_params`` as soon as ``llama_cpp.llama_cpp`` is imported,
by anyone (our chat model, the embedder, user code that imports agentkit).

``AGENTKIT_LLAMA_EXTRA_BUFTS=1`` keeps llama.cpp's default.

Models whose matrices are all F16/F32 (the bundled embedder) never reach the
AMX integer kernels: ggml's AMX buffer runs F16 matmuls with AVX-512 code,
which was ~10% faster here than the plain CPU path. Such loads can opt back
in with :func:`extra_bufts_for`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

TARGET = "llama_cpp.llama_cpp"
OVERRIDE_ENV = "AGENTKIT_LLAMA_EXTRA_BUFTS"


def cpu_has_amx() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " amx_int8" in text or " amx_tile" in text


def extra_bufts_disabled() -> bool:
    """Whether agentkit turns llama.cpp's extra buffer types off in this process."""
    override = os.environ.get(OVERRIDE_ENV)
    if override is not None:
        return override.strip() in ("0", "false", "no")
    return cpu_has_amx()


_float_load = threading.local()
FLOAT_FILE_TYPES = frozenset({"ALL_F32", "F16"})


@contextmanager
def extra_bufts_for(file_type: str) -> Iterator[None]:
    """Keep llama.cpp's extra buffer types for a model load in this block
    when the model's weights are all floating point (``file_type`` as
    :class:`~agentkit.models.resolve.GGUFInfo` names it)."""
    previous = getattr(_float_load, "active", False)
    # An explicit AGENTKIT_LLAMA_EXTRA_BUFTS decides for every load.
    _float_load.active = file_type in FLOAT_FILE_TYPES and OVERRIDE_ENV not in os.environ
    try:
        yield
    finally:
        _float_load.active = previous


def _patch(module: ModuleType) -> None:
    if getattr(module, "_agentkit_patched", False) or not extra_bufts_disabled():
        return
    original = module.llama_model_default_params

    def llama_model_default_params():  # type: ignore[no-untyped-def]
        params = original()
        if hasattr(params, "use_extra_bufts") and not getattr(_float_load, "active", False):
            params.use_extra_bufts = False
        return params

    module.llama_model_default_params = llama_model_default_params
    module._agentkit_patched = True


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        _patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Patch now if llama_cpp is already imported, else when it is."""
    if TARGET in sys.modules:
        _patch(sys.modules[TARGET])
        return
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
