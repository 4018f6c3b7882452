"""Make llama.cpp's CPU kernels safe and batch-invariant for agentkit.

llama-cpp-python builds llama.cpp with ``-march=native``. On x86 CPUs ggml
then moves quantized weights into "extra buffer types" at load: repacked
Q4_0/Q4_K/... layouts on AVX2 and AVX-512, AMX tiles on Sapphire Rapids and
later. Two problems follow:

- The repacked matmul computes a batch's rows in groups of four with a
  ``gemm`` kernel and the remainder with a ``gemv`` kernel whose float
  accumulation differs, so a token's logits depend on how many tokens shared
  its batch (measured on an AVX2 build: up to 1.1 between cached and cold
  runs; see docs/kernels.md). That breaks prefix reuse's promise that a
  cached run gives exactly the cold result.
- The AMX matmul segfaulted here on the first decode.

So extra buffer types are off for every model load (``llama_model_params``
has the switch; llama-cpp-python does not expose it, so we wrap
``llama_model_default_params`` as soon as ``llama_cpp.llama_cpp`` is
imported, by anyone). ``AGENTKIT_LLAMA_EXTRA_BUFTS=1`` keeps llama.cpp's
default (and gives up the batch-invariance guarantee, which
:func:`agentkit.models.kernels.reuse_rules` then reports).

Models whose matrices are all F16/F32 (the bundled embedder) have no
quantized kernels to split by batch, and on AMX CPUs ggml's AMX buffer runs
their F16 matmuls with AVX-512 code ~10% faster than the plain path: such
loads opt back in with :func:`extra_bufts_for`.

Two more fixes apply everywhere, because agentkit loads models in background
threads (``agentkit.prewarm``, the TUI's worker) while other threads print:

- llama-cpp-python silences a load with ``verbose=False`` by pointing file
  descriptors 1 and 2 (and ``sys.stdout``/``sys.stderr``) at /dev/null for
  the whole process; an error line printed by the main thread during the
  0.6 s load vanished, and so would a TUI frame. The redirect is turned off.
- Its log callback maps ggml's log levels from an older enum, so llama.cpp's
  warnings got through to stderr anyway. llama.cpp's log now goes to the
  ``llama.cpp`` Python logger at the right levels (silent unless logging is
  configured); ``Llama(verbose=True)`` still prints everything to stderr.
"""

from __future__ import annotations

import ctypes
import importlib.abc
import importlib.machinery
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

TARGET = "llama_cpp.llama_cpp"
OVERRIDE_ENV = "AGENTKIT_LLAMA_EXTRA_BUFTS"


def extra_bufts_disabled() -> bool:
    """Whether agentkit turns llama.cpp's extra buffer types off for quantized
    models in this process (the default, on every CPU)."""
    override = os.environ.get(OVERRIDE_ENV)
    if override is not None:
        return override.strip() in ("0", "false", "no")
    return True


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


# ggml_log_level: 0 none, 1 debug, 2 info, 3 warn, 4 error, 5 continuation.
_GGML_LEVELS = {
    0: logging.DEBUG,
    1: logging.DEBUG,
    2: logging.INFO,
    3: logging.WARNING,
    4: logging.ERROR,
}
llama_log = logging.getLogger("llama.cpp")
llama_log.addHandler(logging.NullHandler())  # no "last resort" printing to stderr
_log_state = {"level": logging.DEBUG}


def _route_logs(module: ModuleType) -> None:
    if getattr(module, "_agentkit_patched", False):
        return
    import llama_cpp

    verbose_logger = module.logger  # llama-cpp-python's; DEBUG after Llama(verbose=True)

    def forward(level: int, text: bytes, user_data: object) -> None:
        python_level = _log_state["level"] if level == 5 else _GGML_LEVELS.get(level, logging.INFO)
        _log_state["level"] = python_level
        if verbose_logger.level and verbose_logger.level <= logging.DEBUG:
            print(text.decode("utf-8", errors="replace"), end="", flush=True, file=sys.stderr)
        elif llama_log.isEnabledFor(python_level):
            llama_log.log(python_level, "%s", text.decode("utf-8", errors="replace").rstrip())

    callback = llama_cpp.llama_log_callback(forward)
    module._agentkit_callback = callback  # ctypes callbacks must stay referenced
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    module._agentkit_patched = True


def _no_fd_redirect(module: ModuleType) -> None:
    cls = module.suppress_stdout_stderr
    if getattr(cls, "_agentkit_patched", False):
        return
    original = cls.__init__

    def __init__(self: object, disable: bool = True) -> None:  # noqa: N807
        original(self, disable=True)

    cls.__init__ = __init__
    cls._agentkit_patched = True


PATCHES: dict[str, Callable[[ModuleType], None]] = {
    TARGET: _patch,
    "llama_cpp._logger": _route_logs,
    "llama_cpp._utils": _no_fd_redirect,
}


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        PATCHES[module.__name__](module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Patch the llama_cpp modules already imported, the others when they are."""
    for name, patch in PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not all(name in sys.modules for name in PATCHES) and not any(
        isinstance(f, _Finder) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _Finder())
