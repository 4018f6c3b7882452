"""Small random LoRA adapters for the bundled model's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agentkit.models.adapter import BaseModelId, Provenance, write_adapter
from agentkit.models.resolve import read_gguf_info

TARGETS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def random_adapter(
    base_path: Path,
    out: Path,
    *,
    rank: int = 4,
    scale: float = 0.02,
    seed: int = 0,
    layers: range | None = None,
    base: BaseModelId | None = None,
) -> Path:
    """An adapter of random A and B for every target weight of ``base_path``
    (in ``layers``, default all): it changes the model's output."""
    info = read_gguf_info(base_path)
    rng = np.random.default_rng(seed)
    n_layer = int(info.metadata[f"{info.architecture}.block_count"])
    tensors: dict[str, np.ndarray] = {}
    for layer in layers or range(n_layer):
        for target in TARGETS:
            weight = f"blk.{layer}.{target}.weight"
            n_in, n_out = info.tensor_shapes[weight][:2]
            tensors[weight + ".lora_a"] = rng.normal(0, scale, (rank, n_in)).astype(np.float32)
            tensors[weight + ".lora_b"] = rng.normal(0, scale, (n_out, rank)).astype(np.float32)
    return write_adapter(
        out,
        tensors,
        alpha=float(rank),
        base=base or BaseModelId.of_file(base_path, info),
        provenance=Provenance(examples=0, seed=seed, steps=0, recipe="random"),
    )
