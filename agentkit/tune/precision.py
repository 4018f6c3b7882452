"""Where training runs and in which precision.

On a CPU, bf16 autocast is faster only where the CPU has bf16 units (AMX,
AVX512-BF16) and the work is large enough to use them; elsewhere it is
slower than fp32. ``auto`` measures both on this machine (forward and
backward passes over a training example, no weight update) the first time
and keeps the answer in ``<cache_dir>/tune/precision.json``, per CPU, torch
version, thread count and device. On CUDA, ``auto`` is bf16 where the GPU
supports it.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from agentkit.tune.base import TuneError

Precision = Literal["auto", "fp32", "bf16"]
DeviceChoice = Literal["auto", "cpu", "cuda"]
# bf16's matrix units pay off on long sequences only (measured here: slower
# than fp32 at 256 tokens, faster at 1,100), so the probe takes an example
# of the data's median length, up to this many tokens.
MEASURE_TOKENS = 1024
MEASURE_ROUNDS = 2  # timed passes per precision, alternating (the best counts)


def pick_device(choice: DeviceChoice) -> Any:
    """``auto``: CUDA when torch sees a GPU, else the CPU."""
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise TuneError(
            "--device cuda but torch sees no CUDA GPU",
            hint="use --device cpu, or install a CUDA build of torch",
        )
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_may_gain_from_bf16() -> bool:
    """False when torch's CPU kernels stop short of AVX-512 (bf16 has no
    native instructions below it, so fp32 is the faster choice)."""
    import torch

    return torch.backends.cpu.get_cpu_capability() not in ("DEFAULT", "NO AVX", "AVX2")


def measurement_key(device: Any) -> str:
    import torch

    return f"{_cpu_name()} | torch {torch.__version__} | {torch.get_num_threads()} threads | {device.type}"


def measure(model: Any, device: Any, sample: tuple[list[int], int]) -> dict[str, float]:
    """Training tokens/s in fp32 and in bf16 autocast on ``sample`` (ids,
    completion length; its last ``MEASURE_TOKENS``), forward and backward,
    gradients dropped after."""
    import torch

    ids, completion = sample
    ids = ids[-MEASURE_TOKENS:]
    completion = min(completion, len(ids) - 1)
    tensor = torch.tensor([ids], device=device)
    best: dict[str, float] = {"fp32": 0.0, "bf16": 0.0}

    def one(bf16: bool) -> float:
        started = time.perf_counter()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=tensor, logits_to_keep=completion + 1).logits
        loss = torch.nn.functional.cross_entropy(
            logits[0, :-1].float(), tensor[0, -completion:], reduction="mean"
        )
        loss.backward()
        model.zero_grad(set_to_none=True)
        return len(ids) / (time.perf_counter() - started)

    one(False)  # warm-up: first passes allocate and pick kernels
    one(True)
    for _ in range(MEASURE_ROUNDS):
        for name in ("fp32", "bf16"):
            best[name] = max(best[name], one(name == "bf16"))
    return best


def choose_precision(
    requested: Precision,
    model: Any,
    device: Any,
    data: Sequence[tuple[list[int], int]],
    cache_dir: Path,
    say: Callable[[str], None],
    shape: str = "whole",
) -> Literal["fp32", "bf16"]:
    """The precision to train in: the one asked for, or ``auto``'s pick
    (measured once per machine and per ``shape`` of the sequences: whole
    examples, or the suffixes after a shared prefix, which are short)."""
    import torch

    if requested != "auto":
        say(f"precision: {requested} (as asked)")
        return requested
    if device.type == "cuda":
        chosen: Literal["fp32", "bf16"] = "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        say(f"precision: {chosen} (CUDA {'supports' if chosen == 'bf16' else 'lacks'} bf16)")
        return chosen
    if not cpu_may_gain_from_bf16():
        # Without AVX-512 torch emulates bf16: measuring it took minutes on an
        # AVX2-only EPYC here, to learn what cannot differ.
        say("precision: fp32 (this CPU has no AVX-512, so bf16 cannot be faster)")
        return "fp32"
    store = cache_dir / "tune" / "precision.json"
    key = measurement_key(device) + ("" if shape == "whole" else f"/{shape}")
    try:
        known: dict[str, dict[str, float]] = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    speeds = known.get(key)
    if speeds is None:
        say("measuring fp32 and bf16 training speed on this CPU (once)")
        by_length = sorted(data, key=lambda item: len(item[0]))
        speeds = measure(model, device, by_length[len(by_length) // 2])
        known[key] = speeds
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(known, indent=2))
    chosen = "bf16" if speeds["bf16"] > speeds["fp32"] else "fp32"
    say(
        f"precision: {chosen} (measured here: fp32 {speeds['fp32']:.0f} tokens/s, "
        f"bf16 {speeds['bf16']:.0f} tokens/s; --precision to choose)"
    )
    return chosen
