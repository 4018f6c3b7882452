"""LoRA training on training examples, exported as a GGUF adapter.

transformers + peft over the float copy of the GGUF (:mod:`.base`). The
loss is on the completion tokens only, and logits are computed only there
(``logits_to_keep``): with Gemma's 262k-token vocabulary the output head
dominates the cost of full logits. Steps accumulate ``batch_size``
examples (no padding: each example is its own forward pass). A checkpoint
(LoRA weights, optimizer, scheduler, step) is written every
``checkpoint_every`` steps next to the output, and ``resume`` continues
from it; the data order is fixed by the seed, so a resumed run sees the
examples a whole run would have.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from agentkit.models.adapter import (
    AdapterPrompt,
    HeadLayout,
    Provenance,
    adapter_pairs,
    check_adapter,
    gguf_lora_tensors,
    write_adapter,
)
from agentkit.tune.base import (
    TrainingBase,
    TuneError,
    check_tokenizer,
    completion_ids,
    load_base,
    prompt_ids,
    require_training_packages,
)
from agentkit.tune.batches import Tokenized, batch_loss, shared_prefix, sharing_matches
from agentkit.tune.examples import TrainingExample
from agentkit.tune.precision import DeviceChoice, Precision, choose_precision, pick_device

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
TOKENIZER_CHECKS = 4  # examples whose ids are compared with llama.cpp's


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and run options of one training."""

    rank: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    targets: tuple[str, ...] = LORA_TARGETS
    lr: float = 2e-4
    epochs: int = 1
    batch_size: int = 4
    """Examples per optimizer step (gradients accumulated)."""
    warmup: float = 0.05
    """Fraction of the steps the learning rate ramps up over (then it decays linearly)."""
    max_examples: int | None = None
    max_tokens: int = 8192
    """Examples longer than this (prompt and completion) are left out."""
    seed: int = 0
    checkpoint_every: int = 50
    precision: Precision = "auto"
    device: DeviceChoice = "auto"
    recipe: str = ""
    share_prefix: bool = True
    """Run a batch's common prompt prefix once (agentkit.tune.batches)."""
    stop_after: int | None = None
    """Write the adapter after this many steps; the learning-rate schedule
    still spans every epoch (how the shipped adapter was cut)."""
    start_adapter: str = ""
    """A GGUF adapter to continue from (its rank; trained on this base)
    instead of a fresh LoRA: learning from your threads keeps what the
    shipped adapter taught."""


@dataclass(frozen=True)
class StepReport:
    """Sent after every optimizer step."""

    step: int
    total_steps: int
    tokens: int
    """Tokens trained on so far in this session (prompt and completion)."""
    tokens_per_s: float
    loss: float


@dataclass(frozen=True)
class TrainResult:
    adapter: Path
    examples: int
    skipped_long: int
    steps: int
    tokens: int
    seconds: float
    tokens_per_s: float
    precision: Literal["fp32", "bf16"]
    device: str
    final_loss: float


def checkpoint_path(out: Path) -> Path:
    return out.with_name(out.name + ".ckpt")


def _fingerprint(data: Sequence[Tokenized], config: TrainConfig) -> str:
    """What a checkpoint must have been trained on to be resumed."""
    digest = hashlib.sha256()
    for item in data:
        digest.update(json.dumps([item.ids, item.completion]).encode())
    kept = {
        k: v
        for k, v in asdict(config).items()
        if k not in ("checkpoint_every", "device", "stop_after")
    }
    digest.update(json.dumps(kept, sort_keys=True, default=list).encode())
    if config.start_adapter:  # the same path may hold another adapter by now
        digest.update(Path(config.start_adapter).read_bytes())
    return digest.hexdigest()


def tokenize(
    base: TrainingBase, examples: Sequence[TrainingExample], max_tokens: int
) -> tuple[list[Tokenized], int]:
    """The examples as ids (prompt with BOS, completion apart), and how many
    were too long."""
    out: list[Tokenized] = []
    long = 0
    for example in examples:
        prompt = prompt_ids(base.tokenizer, example.prompt)
        completion = completion_ids(base.tokenizer, example.completion)
        if len(prompt) + len(completion) > max_tokens:
            long += 1
            continue
        out.append(Tokenized(prompt + completion, len(completion)))
    return out, long


def train(
    examples: Sequence[TrainingExample],
    gguf_path: Path,
    out: Path,
    config: TrainConfig,
    *,
    cache_dir: Path,
    resume: bool = False,
    on_step: Callable[[StepReport], None] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> TrainResult:
    """Train a LoRA adapter on ``examples`` and write it to ``out`` (GGUF)."""
    require_training_packages()
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import get_linear_schedule_with_warmup

    if not examples:
        raise TuneError("no training examples", hint="pass --data FILE.jsonl or --from-threads")
    chosen = list(examples)
    random.Random(config.seed).shuffle(chosen)
    if config.max_examples is not None:
        chosen = chosen[: config.max_examples]
    base = load_base(gguf_path, cache_dir, say=say)
    sample = chosen[:TOKENIZER_CHECKS]
    check_tokenizer(
        base.tokenizer, gguf_path, [e.prompt for e in sample], [e.completion for e in sample]
    )
    data, long = tokenize(base, chosen, config.max_tokens)
    if not data:
        raise TuneError(
            f"every example is longer than {config.max_tokens} tokens", hint="raise --max-tokens"
        )
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.targets),
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # peft asks transformers a question transformers 5 renamed (FutureWarning).
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        model = get_peft_model(base.model, lora).to(device)
    if config.start_adapter:
        start_from(model, Path(config.start_adapter), base, config)
        say(f"starting from the adapter {config.start_adapter}")
    # The batch's shared prompt once, when that gives the same loss here;
    # the precision is then measured on the (short) suffixes it leaves.
    share = config.share_prefix and sharing_matches(model, data[: config.batch_size], device, False)
    say(f"shared prompt prefixes: {'on' if share else 'off'}")
    cut = shared_prefix(data[: config.batch_size]) if share else 0
    precision = choose_precision(
        config.precision,
        model,
        device,
        [(d.ids[cut:], d.completion) for d in data],
        cache_dir,
        say,
        shape="suffix" if share else "whole",
    )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    per_epoch = math.ceil(len(data) / config.batch_size)
    total = per_epoch * config.epochs
    end = total if config.stop_after is None else min(total, config.stop_after)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, max(1, round(total * config.warmup)), total
    )
    fingerprint = _fingerprint(data, config)
    step = 0
    saved = checkpoint_path(out)
    if resume and not saved.is_file():
        say(f"no checkpoint {saved}: starting from step 0")
    if resume and saved.is_file():
        state = torch.load(saved, map_location=device, weights_only=False)
        if state.get("fingerprint") != fingerprint:
            raise TuneError(
                f"the checkpoint {saved} was made with other data or settings",
                hint="run without --resume to start over (the checkpoint is replaced)",
            )
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, state["lora"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
        say(f"resumed from {saved} at step {step} of {total}")
    model.train()
    bf16 = precision == "bf16"
    started = time.perf_counter()
    tokens = 0
    loss_value = float("nan")
    while step < end:
        epoch, index = divmod(step, per_epoch)
        order = list(range(len(data)))
        random.Random(config.seed * 1_000_003 + epoch).shuffle(order)
        batch = [
            data[i] for i in order[index * config.batch_size : (index + 1) * config.batch_size]
        ]
        targets = sum(item.completion for item in batch)
        loss, ran = batch_loss(model, batch, device, bf16, share)
        (loss / targets).backward()
        total_loss = float(loss.detach())
        tokens += ran
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        loss_value = total_loss / targets
        elapsed = time.perf_counter() - started
        if on_step is not None:
            on_step(StepReport(step, total, tokens, tokens / elapsed, loss_value))
        if step % config.checkpoint_every == 0 and step < end:
            _save_checkpoint(saved, model, optimizer, scheduler, step, fingerprint)
    seconds = time.perf_counter() - started
    adapter = export_adapter(
        model,
        base,
        out,
        config,
        Provenance(
            examples=len(data),
            seed=config.seed,
            steps=end,
            epochs=config.epochs,
            recipe=config.recipe,
        ),
        prompt_of(chosen),
    )
    saved.unlink(missing_ok=True)
    return TrainResult(
        adapter=adapter,
        examples=len(data),
        skipped_long=long,
        steps=end,
        tokens=tokens,
        seconds=seconds,
        tokens_per_s=tokens / seconds if seconds > 0 else 0.0,
        precision=precision,
        device=str(device),
        final_loss=loss_value,
    )


def _save_checkpoint(
    path: Path, model: Any, optimizer: Any, scheduler: Any, step: int, fingerprint: str
) -> None:
    import torch
    from peft import get_peft_model_state_dict

    tmp = path.with_name(f".{path.name}.part")
    torch.save(
        {
            "lora": get_peft_model_state_dict(model),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "fingerprint": fingerprint,
        },
        tmp,
    )
    tmp.replace(path)


def start_from(model: Any, adapter: Path, base: TrainingBase, config: TrainConfig) -> None:
    """Load a GGUF adapter's weights into ``model``'s fresh LoRA, checked
    first: trained on this base, of this rank. Its alpha may differ: lora_B
    is rescaled so the adapter's effect is the same under ``config.alpha``."""
    import torch

    info = check_adapter(adapter, base.gguf_path)
    if info.rank != config.rank:
        raise TuneError(
            f"{adapter.name} has rank {info.rank}, not {config.rank}",
            hint=f"train with --rank {info.rank} to continue from it",
        )
    layers = lora_layers(model)
    heads = HeadLayout(base.n_head, base.n_head_kv)
    pairs = adapter_pairs(adapter, base.identity.architecture, base.n_layer, list(layers), heads)
    scale = info.alpha / config.alpha if info.alpha and config.alpha else 1.0
    with torch.no_grad():
        for module, (lora_a, lora_b) in pairs.items():
            layer = layers[module]
            for weight, value in (
                (layer.lora_A["default"].weight, lora_a),
                (layer.lora_B["default"].weight, lora_b * scale),
            ):
                if tuple(weight.shape) != value.shape:
                    raise TuneError(
                        f"{adapter.name}: {module} is {value.shape}, the model wants "
                        f"{tuple(weight.shape)}",
                        hint="the adapter was made for another model; train without --start-from",
                    )
                weight.copy_(torch.from_numpy(value).to(weight.dtype))


def lora_layers(model: Any) -> dict[str, Any]:
    """PEFT's adapted modules by name (those holding a default LoRA)."""
    layers: dict[str, Any] = {}
    for name, module in model.named_modules():
        lora_a = getattr(module, "lora_A", None)
        if lora_a is not None and getattr(module, "lora_B", None) is not None:
            if "default" in lora_a:
                layers[name] = module
    return layers


def lora_pairs(model: Any) -> dict[str, tuple[Any, Any]]:
    """PEFT's (lora_A, lora_B) weights per adapted module, as float32 numpy."""
    return {
        name: (
            module.lora_A["default"].weight.detach().float().cpu().numpy(),
            module.lora_B["default"].weight.detach().float().cpu().numpy(),
        )
        for name, module in lora_layers(model).items()
    }


def prompt_of(data: Sequence[TrainingExample]) -> AdapterPrompt:
    """How the examples' prompts were rendered, when they all agree: the
    adapter records it, and a run that loads it renders the same way."""
    styles = {e.tool_prompt for e in data}
    steering = {e.steering for e in data}
    return AdapterPrompt(
        tool_prompt=styles.pop() if len(styles) == 1 else "",
        steering=steering.pop() if len(steering) == 1 else "",
    )


def export_adapter(
    model: Any,
    base: TrainingBase,
    out: Path,
    config: TrainConfig,
    provenance: Provenance,
    prompt: AdapterPrompt | None = None,
) -> Path:
    """The trained LoRA as a GGUF adapter at ``out``."""
    tensors = gguf_lora_tensors(
        base.identity.architecture,
        base.n_layer,
        lora_pairs(model),
        HeadLayout(base.n_head, base.n_head_kv),
    )
    return write_adapter(
        out, tensors, alpha=config.alpha, base=base.identity, provenance=provenance, prompt=prompt
    )
