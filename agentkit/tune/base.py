"""The base model for training: the GGUF llama.cpp runs, as a torch model.

transformers loads a GGUF directly (``from_pretrained(folder,
gguf_file=name)``) and dequantises its weights to float, so training sees
the very weights llama.cpp runs. Dequantising the bundled model (and
converting its 262k-token vocabulary) takes about a minute on two cores,
so the float model and its tokenizer are kept once per GGUF file (by
sha256) under ``<cache_dir>/tune/`` (~1 GB for the bundled model).

Token ids must be llama.cpp's: :func:`check_tokenizer` compares the two
tokenizers on sample texts and the first examples before any training.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.errors import AgentkitError
from agentkit.models.adapter import SUPPORTED_ARCHITECTURES, BaseModelId
from agentkit.models.resolve import read_gguf_info

SAMPLE_TEXTS = (
    "<start_of_turn>user\nRead notes.txt<end_of_turn>\n<start_of_turn>model\n",
    '<tool_call>{"name": "write_file", "arguments": {"path": "a b.txt", "content": "x\\ny"}}'
    "</tool_call>",
    '  two spaces, tabs\tand newlines\n\nüñí 日本語 emoji 🙂 <tool_response name="grep">',
)


class TuneError(AgentkitError):
    """Training cannot start or go on (a user can fix it)."""


def require_training_packages() -> None:
    """torch, transformers and peft, or one line saying how to get them."""
    missing = []
    for module in ("torch", "transformers", "peft"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise TuneError(
            f"agentkit tune needs {', '.join(missing)}",
            hint="run `make install`, or see docs/tune.md: torch's CPU wheel, then '.[tune]'",
        )


@dataclass(frozen=True)
class TrainingBase:
    """The torch model and tokenizer of one GGUF, and what identifies it."""

    model: Any
    tokenizer: Any
    gguf_path: Path
    identity: BaseModelId
    n_layer: int
    n_head: int
    n_head_kv: int


def cached_base_dir(cache_dir: Path, identity: BaseModelId) -> Path:
    return cache_dir / "tune" / f"base-{identity.sha256[:16]}"


def load_base(
    gguf_path: Path,
    cache_dir: Path,
    *,
    say: Callable[[str], None] = lambda _: None,
) -> TrainingBase:
    """The float model of ``gguf_path`` (from the cache, or dequantised once)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    info = read_gguf_info(gguf_path)
    if info.architecture not in SUPPORTED_ARCHITECTURES:
        known = ", ".join(sorted(SUPPORTED_ARCHITECTURES))
        raise TuneError(
            f"agentkit tune trains {known} models, not {info.architecture} ({gguf_path.name})",
            hint="set model = bundled:gemma3-270m",
        )
    identity = BaseModelId.of_file(gguf_path, info)
    folder = cached_base_dir(cache_dir, identity)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    if not (folder / "config.json").is_file():
        say(f"dequantising {gguf_path.name} for training (once; kept in {folder})")
        model = AutoModelForCausalLM.from_pretrained(
            gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
        )
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        # The GGUF "quantizer" only names the source format (the weights are
        # float now) and would refuse to save.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
        try:
            model.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
            shutil.rmtree(folder, ignore_errors=True)
            staging.replace(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    meta = info.metadata
    arch = info.architecture
    return TrainingBase(
        model=model,
        tokenizer=tokenizer,
        gguf_path=gguf_path,
        identity=identity,
        n_layer=int(meta[f"{arch}.block_count"]),
        n_head=int(meta[f"{arch}.attention.head_count"]),
        n_head_kv=int(
            meta.get(f"{arch}.attention.head_count_kv", meta[f"{arch}.attention.head_count"])
        ),
    )


def prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    """The prompt's ids as the engine makes them (ChatLlama._tokens): BOS
    added unless the text spells it out."""
    bos = tokenizer.bos_token or ""
    add = not (bos and prompt.startswith(bos))
    return list(tokenizer(prompt, add_special_tokens=add)["input_ids"])


def completion_ids(tokenizer: Any, completion: str) -> list[int]:
    """The completion's ids: generated after the prompt, so tokenised on its own."""
    return list(tokenizer(completion, add_special_tokens=False)["input_ids"])


def check_tokenizer(
    tokenizer: Any, gguf_path: Path, prompts: Sequence[str], completions: Sequence[str]
) -> None:
    """The torch tokenizer gives llama.cpp's ids on sample texts and on
    these prompts and completions, or one line says where it does not."""
    from llama_cpp import Llama

    vocab = Llama(model_path=str(gguf_path), vocab_only=True, verbose=False)
    bos = vocab.detokenize([vocab.token_bos()], special=True).decode("utf-8", "replace")
    cases = [(t, True) for t in (*SAMPLE_TEXTS, *prompts)]
    cases += [(t, False) for t in (*SAMPLE_TEXTS, *completions)]
    for text, as_prompt in cases:
        ours = prompt_ids(tokenizer, text) if as_prompt else completion_ids(tokenizer, text)
        theirs = vocab.tokenize(
            text.encode("utf-8"),
            add_bos=as_prompt and not (bos and text.startswith(bos)),
            special=True,
        )
        if ours != theirs:
            at = next(
                (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                min(len(ours), len(theirs)),
            )
            raise TuneError(
                f"the training tokenizer and llama.cpp disagree on {text[:40]!r}… at token {at}",
                hint="train a model whose GGUF tokenizer transformers converts exactly",
            )
