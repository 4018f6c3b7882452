"""One optimizer step's loss, with the batch's shared prompt computed once.

Every example the agent renders starts with the same system text and tool
list (about three quarters of its tokens with the compact tool prompt), so a
batch's common prefix is run through the model once, with gradients, and
each example runs only its own suffix against that prefix's KV cache. The
loss and its gradients are the same as running each example whole (checked
on the first batch of a run: a mismatch falls back to whole examples).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_SHARED = 16  # a shorter common prefix is not worth the cache copies
CHECK_TOLERANCE = 2e-2  # relative difference of a batch's loss, shared vs whole


@dataclass(frozen=True)
class Tokenized:
    ids: list[int]
    completion: int  # the last ``completion`` ids are the completion


def shared_prefix(batch: Sequence[Tokenized]) -> int:
    """How many leading ids every example of ``batch`` shares, leaving each
    at least its last prompt token (the one that predicts the completion)."""
    first = batch[0].ids
    limit = min(len(item.ids) - item.completion for item in batch) - 1
    length = 0
    while length < limit and all(item.ids[length] == first[length] for item in batch):
        length += 1
    return length


def batch_loss(
    model: Any, batch: Sequence[Tokenized], device: Any, bf16: bool, share: bool
) -> tuple[Any, int]:
    """The summed cross-entropy of ``batch``'s completions (a tensor with
    gradients) and the number of tokens the model ran."""
    import torch

    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)
    length = shared_prefix(batch) if share and len(batch) > 1 else 0
    if length < MIN_SHARED:
        total = sum(_whole(model, item, device, autocast) for item in batch)
        return total, sum(len(item.ids) for item in batch)
    with autocast:
        prefix = torch.tensor([batch[0].ids[:length]], device=device)
        past = model(input_ids=prefix, use_cache=True, logits_to_keep=1).past_key_values
        cache_arg = _cache_argument(model)
    total = 0
    for item in batch:
        suffix = torch.tensor([item.ids[length:]], device=device)
        with autocast:
            logits = model(
                input_ids=suffix,
                use_cache=True,
                logits_to_keep=item.completion + 1,
                **{cache_arg: _copy_cache(past)},
            ).logits
        total = total + _completion_loss(logits, item, device)
    return total, length + sum(len(item.ids) - length for item in batch)


def _whole(model: Any, item: Tokenized, device: Any, autocast: Any) -> Any:
    import torch

    ids = torch.tensor([item.ids], device=device)
    with autocast:
        logits = model(input_ids=ids, logits_to_keep=item.completion + 1).logits
    return _completion_loss(logits, item, device)


def _completion_loss(logits: Any, item: Tokenized, device: Any) -> Any:
    import torch

    targets = torch.tensor(item.ids[-item.completion :], device=device)
    return torch.nn.functional.cross_entropy(logits[0, :-1].float(), targets, reduction="sum")


def _cache_argument(model: Any) -> str:
    """The forward argument a cache goes in: ``cache`` from transformers 5.25
    (``past_key_values`` is deprecated there), ``past_key_values`` before."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    forward = inspect.signature(base.forward).parameters
    return "cache" if "cache" in forward else "past_key_values"


def _copy_cache(past: Any) -> Any:
    """A cache each suffix may extend: the layers' tensors are shared (an
    update concatenates into new ones), their bookkeeping is not."""
    cache = copy.copy(past)
    cache.layers = [copy.copy(layer) for layer in past.layers]
    return cache


def sharing_matches(model: Any, batch: Sequence[Tokenized], device: Any, bf16: bool) -> bool:
    """Whether the shared-prefix loss equals the whole examples' on ``batch``
    (no gradients; the model's cache layout is what makes it hold). In
    eval mode: with dropout on, a trained LoRA (--start-from) gave two
    different losses and the check turned sharing off."""
    import torch

    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            shared, _ = batch_loss(model, batch, device, bf16, share=True)
            whole, _ = batch_loss(model, batch, device, bf16, share=False)
    finally:
        model.train(training)
    shared_value, whole_value = float(shared), float(whole)
    return abs(shared_value - whole_value) <= CHECK_TOLERANCE * max(1.0, abs(whole_value))
