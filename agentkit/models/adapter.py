"""LoRA adapters in GGUF: the file llama.cpp applies on top of a base model.

The format is llama.cpp's (``convert_lora_to_gguf.py`` writes the same):
per adapted weight ``W`` of the base (``blk.N.attn_q.weight``) two tensors,
``blk.N.attn_q.weight.lora_a`` with ``ne = [n_in, r]`` and ``.lora_b`` with
``ne = [r, n_out]``, so ``W' = W + (alpha / r) · B·A``; the metadata
``general.type = adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``,
and the base's ``general.architecture``. agentkit adds ``agentkit.*`` keys:
the base model the adapter was trained on (architecture, name, parameter
count, the file's sha256) and how it was trained (examples, seed, steps),
so a mismatched base is refused in one line before llama.cpp sees it.

Weights come in PEFT's layout (``lora_A``: r × n_in, ``lora_B``: n_out × r,
keyed by Hugging Face module names), which is GGUF's for Gemma 3. Llama
models' GGUF q/k weights are permuted (llama.cpp's rotary layout), so their
``lora_B`` rows get the same permutation.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.errors import ModelError
from agentkit.models.resolve import (
    BUNDLED_PREFIX,
    GGUFInfo,
    check_gguf_header,
    file_sha256,
    read_gguf_info,
)

ADAPTERS_DIR = Path(__file__).parent / "adapters"
"""Adapters shipped with agentkit: ``<bundled model name>.gguf``."""
ADAPTER_NONE = "none"
ADAPTER_AUTO = "auto"
# Architectures whose Hugging Face and GGUF weights are laid out alike.
DIRECT_ARCHITECTURES = frozenset({"gemma3"})
# Llama-family architectures: q/k rows are permuted on the way to GGUF.
PERMUTED_ARCHITECTURES = frozenset({"llama"})
SUPPORTED_ARCHITECTURES = DIRECT_ARCHITECTURES | PERMUTED_ARCHITECTURES
_HF_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.(.+)$")
_SHA_SHOWN = 12


@dataclass(frozen=True)
class BaseModelId:
    """The model an adapter was trained on."""

    architecture: str
    name: str
    parameters: int
    sha256: str

    @classmethod
    def of_file(cls, path: Path, info: GGUFInfo | None = None) -> BaseModelId:
        info = info or read_gguf_info(path)
        return cls(info.architecture, info.name, info.n_params, file_sha256(path))

    def describe(self) -> str:
        return (
            f"{self.name or '?'} ({self.architecture}, {self.parameters / 1e6:.0f} M parameters, "
            f"sha256 {self.sha256[:_SHA_SHOWN]}…)"
        )


@dataclass(frozen=True)
class Provenance:
    """How an adapter was trained (recorded in its metadata)."""

    examples: int = 0
    seed: int = 0
    steps: int = 0
    epochs: int = 0
    recipe: str = ""


@dataclass(frozen=True)
class AdapterPrompt:
    """How the prompts the adapter was trained on were rendered: the run
    renders them the same way (a tuned model needs no worked examples, and
    it knows its tools by their signatures)."""

    tool_prompt: str = ""  # a ToolPromptStyle; "" = the settings' choice
    steering: str = ""  # "tuned": small-model steering's preset for tuned models


@dataclass(frozen=True)
class AdapterInfo:
    """What ``agentkit doctor`` shows about an adapter file."""

    path: Path
    size: int
    rank: int
    alpha: float
    base: BaseModelId
    provenance: Provenance
    tensor_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    prompt: AdapterPrompt = field(default_factory=AdapterPrompt)

    @property
    def targets(self) -> list[str]:
        """The base weights it adapts (``attn_q``, ``ffn_down``, ...), once each."""
        names = {n.split(".")[2] for n in self.tensor_shapes if n.endswith(".lora_a")}
        return sorted(names)


LoraPair = tuple[np.ndarray, np.ndarray]
"""PEFT's ``(lora_A, lora_B)`` of one module: (r × n_in, n_out × r)."""


@dataclass(frozen=True)
class HeadLayout:
    """What llama.cpp's q/k permutation needs (llama architectures only)."""

    n_head: int
    n_head_kv: int


def gguf_weight_name(architecture: str, n_layer: int, module: str) -> str:
    """The GGUF name of a Hugging Face linear module's weight
    (``model.layers.3.self_attn.q_proj`` → ``blk.3.attn_q.weight``)."""
    import gguf

    arch = _gguf_arch(architecture)
    match = _HF_LAYER.search(module)
    # PEFT prefixes module names (base_model.model.model.layers...): keep
    # the part the name map knows.
    key = f"model.layers.{match.group(1)}.{match.group(2)}" if match else module
    name = gguf.get_tensor_name_map(arch, n_layer).get_name(key)
    if name is None:
        raise ModelError(f"no GGUF tensor for the module {module} of a {architecture} model")
    return name + ".weight"


def _gguf_arch(architecture: str) -> Any:
    import gguf

    if architecture not in SUPPORTED_ARCHITECTURES:
        known = ", ".join(sorted(SUPPORTED_ARCHITECTURES))
        raise ModelError(
            f"LoRA export supports {known} models, not {architecture}",
            hint="train on the bundled model or another supported architecture",
        )
    return gguf.MODEL_ARCH[architecture.upper()]


def _permute_rows(rows: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's ``permute`` (convert_hf_to_gguf.py) on the output rows:
    each head's two rotary halves interleaved."""
    return (
        rows.reshape(n_head, 2, rows.shape[0] // n_head // 2, *rows.shape[1:])
        .swapaxes(1, 2)
        .reshape(rows.shape)
    )


def _rotary_heads(architecture: str, name: str, heads: HeadLayout) -> int | None:
    """How many heads the rows of ``name``'s lora_B are permuted over in
    GGUF (llama.cpp's q/k permutation), or None when they are not."""
    if architecture not in PERMUTED_ARCHITECTURES:
        return None
    if ".attn_q." in name:
        return heads.n_head
    if ".attn_k." in name:
        return heads.n_head_kv
    return None


def _unpermute_rows(rows: np.ndarray, n_head: int) -> np.ndarray:
    """The inverse of :func:`_permute_rows` (GGUF rows → Hugging Face rows)."""
    return (
        rows.reshape(n_head, rows.shape[0] // n_head // 2, 2, *rows.shape[1:])
        .swapaxes(1, 2)
        .reshape(rows.shape)
    )


def adapter_pairs(
    path: Path, architecture: str, n_layer: int, modules: Sequence[str], heads: HeadLayout
) -> dict[str, LoraPair]:
    """The (lora_A, lora_B) pair of each of ``modules`` (PEFT names) in the
    GGUF adapter at ``path``, in PEFT's layout: the inverse of
    :func:`gguf_lora_tensors`. A module the adapter lacks is a
    :class:`ModelError` (it was trained on other targets)."""
    import gguf

    stored = {t.name: np.asarray(t.data, dtype=np.float32) for t in gguf.GGUFReader(path).tensors}
    out: dict[str, LoraPair] = {}
    for module in modules:
        name = gguf_weight_name(architecture, n_layer, module)
        if name + ".lora_a" not in stored or name + ".lora_b" not in stored:
            raise ModelError(
                f"adapter {path.name} has no {name} LoRA (it adapts other layers)",
                hint="train without --start-from, or with the adapter's own targets",
            )
        lora_b = stored[name + ".lora_b"]
        rotary = _rotary_heads(architecture, name, heads)
        if rotary is not None:
            lora_b = _unpermute_rows(lora_b, rotary)
        out[module] = (stored[name + ".lora_a"], lora_b)
    return out


def gguf_lora_tensors(
    architecture: str,
    n_layer: int,
    pairs: Mapping[str, LoraPair],
    heads: HeadLayout | None = None,
) -> dict[str, np.ndarray]:
    """PEFT pairs keyed by module name → the adapter's GGUF tensors (numpy
    shapes (r, n_in) and (n_out, r): GGUF's ne is the reverse)."""
    if architecture in PERMUTED_ARCHITECTURES and heads is None:
        raise ValueError(f"{architecture} adapters need the head layout for q/k")
    out: dict[str, np.ndarray] = {}
    for module, (lora_a, lora_b) in pairs.items():
        name = gguf_weight_name(architecture, n_layer, module)
        if lora_a.ndim != 2 or lora_b.ndim != 2 or lora_a.shape[0] != lora_b.shape[1]:
            raise ValueError(f"{module}: lora_A {lora_a.shape} and lora_B {lora_b.shape} differ")
        rotary = _rotary_heads(architecture, name, heads) if heads is not None else None
        if rotary is not None:
            lora_b = _permute_rows(lora_b, rotary)
        # f16: half the size (a shipped adapter stays under 10 MB), and what
        # llama.cpp computes LoRA products in on the CPU anyway.
        out[name + ".lora_a"] = np.ascontiguousarray(lora_a, dtype=np.float16)
        out[name + ".lora_b"] = np.ascontiguousarray(lora_b, dtype=np.float16)
    return out


def write_adapter(
    path: Path,
    tensors: Mapping[str, np.ndarray],
    *,
    alpha: float,
    base: BaseModelId,
    provenance: Provenance,
    prompt: AdapterPrompt | None = None,
) -> Path:
    """Write a GGUF LoRA adapter (tensors from :func:`gguf_lora_tensors`)."""
    import gguf

    ranks = {t.shape[0] for n, t in tensors.items() if n.endswith(".lora_a")}
    if len(ranks) != 1:
        raise ValueError(f"an adapter has one rank, got {sorted(ranks)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    writer = gguf.GGUFWriter(tmp, arch=base.architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_name(f"{base.name} LoRA" if base.name else "LoRA adapter")
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    writer.add_uint32("agentkit.adapter.rank", ranks.pop())
    writer.add_string("agentkit.base.architecture", base.architecture)
    writer.add_string("agentkit.base.name", base.name)
    writer.add_uint64("agentkit.base.parameters", base.parameters)
    writer.add_string("agentkit.base.sha256", base.sha256)
    for key, value in asdict(provenance).items():
        if isinstance(value, str):
            writer.add_string(f"agentkit.train.{key}", value)
        else:
            writer.add_uint64(f"agentkit.train.{key}", int(value))
    for key, text in asdict(prompt or AdapterPrompt()).items():
        if text:
            writer.add_string(f"agentkit.prompt.{key}", text)
    for name in sorted(tensors, key=_tensor_order):
        writer.add_tensor(name, tensors[name])
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    tmp.replace(path)
    return path


def _tensor_order(name: str) -> tuple[int, str]:
    match = re.match(r"blk\.(\d+)\.", name)
    return (int(match.group(1)) if match else -1, name)


def read_adapter(path: Path) -> AdapterInfo:
    """An adapter file's metadata, or a one-line :class:`ModelError`."""
    check_gguf_header(
        path,
        "adapter",
        hint="set model_adapter to a GGUF LoRA adapter (agentkit tune writes one), none or auto",
        not_gguf_hint="agentkit tune --out writes one",
    )
    info = read_gguf_info(path)
    meta = info.metadata
    if meta.get("general.type") != "adapter" or meta.get("adapter.type") != "lora":
        raise ModelError(
            f"{path} is not a GGUF LoRA adapter (general.type={meta.get('general.type', '?')})",
            hint="model_adapter takes an adapter; set a full model with `model`",
        )
    ranks = {dims[1] for n, dims in info.tensor_shapes.items() if n.endswith(".lora_a")}
    if len(ranks) != 1:
        raise ModelError(f"{path} holds no LoRA tensors of one rank", hint="export it again")
    base = BaseModelId(
        architecture=str(meta.get("agentkit.base.architecture", info.architecture)),
        name=str(meta.get("agentkit.base.name", "")),
        parameters=int(meta.get("agentkit.base.parameters", 0)),
        sha256=str(meta.get("agentkit.base.sha256", "")),
    )
    provenance = Provenance(
        examples=int(meta.get("agentkit.train.examples", 0)),
        seed=int(meta.get("agentkit.train.seed", 0)),
        steps=int(meta.get("agentkit.train.steps", 0)),
        epochs=int(meta.get("agentkit.train.epochs", 0)),
        recipe=str(meta.get("agentkit.train.recipe", "")),
    )
    return AdapterInfo(
        path=path,
        size=info.file_size,
        rank=ranks.pop(),
        alpha=float(meta.get("adapter.lora.alpha", 0.0)),
        base=base,
        provenance=provenance,
        tensor_shapes=dict(info.tensor_shapes),
        prompt=AdapterPrompt(
            tool_prompt=str(meta.get("agentkit.prompt.tool_prompt", "")),
            steering=str(meta.get("agentkit.prompt.steering", "")),
        ),
    )


def check_adapter(adapter: Path, base_path: Path) -> AdapterInfo:
    """The adapter's info once it is known to fit the model at ``base_path``:
    trained on that very file (sha256), and every tensor shaped for it."""
    info = read_adapter(adapter)
    base_info = read_gguf_info(base_path)
    if info.base.architecture != base_info.architecture:
        raise ModelError(
            f"adapter {adapter.name} is for a {info.base.architecture} model, "
            f"not {base_path.name} ({base_info.architecture})",
            hint="set model_adapter = none, or train one for this model with `agentkit tune`",
        )
    if info.base.sha256:
        actual = file_sha256(base_path)
        if actual != info.base.sha256:
            raise ModelError(
                f"adapter {adapter.name} was trained on {info.base.describe()}, "
                f"not {base_path.name} (sha256 {actual[:_SHA_SHOWN]}…)",
                hint="set model_adapter = none, or train one for this model with `agentkit tune`",
            )
    for name, dims in info.tensor_shapes.items():
        weight, _, kind = name.rpartition(".")
        base_dims = base_info.tensor_shapes.get(weight)
        n_in, n_out = (dims[0], None) if kind == "lora_a" else (None, dims[1])
        if (
            base_dims is None
            or (n_in is not None and n_in != base_dims[0])
            or (n_out is not None and n_out != base_dims[1])
        ):
            raise ModelError(
                f"adapter {adapter.name}: {name} {list(dims)} does not fit the model's "
                f"{weight} {list(base_dims or [])}",
                hint="the adapter was made for another model; train one with `agentkit tune`",
            )
    return info


def bundled_adapter(model_spec: str) -> Path | None:
    """The adapter shipped for ``bundled:<name>``, if agentkit ships one."""
    if not model_spec.startswith(BUNDLED_PREFIX):
        return None
    path = ADAPTERS_DIR / f"{model_spec[len(BUNDLED_PREFIX) :]}.gguf"
    return path if path.is_file() else None


def resolve_adapter(spec: str, model_spec: str) -> Path | None:
    """``model_adapter`` → the adapter file to load, or None. ``auto``: the
    one shipped for the bundled model (none when none is shipped); ``none``:
    no adapter; anything else is a path, checked here (missing: one line)."""
    value = spec.strip()
    if value.lower() == ADAPTER_NONE or not value:
        return None
    if value.lower() == ADAPTER_AUTO:
        return bundled_adapter(model_spec.strip())
    path = Path(value).expanduser()
    read_adapter(path)
    return path


def check_lora_support() -> None:
    """llama-cpp-python's ``Llama`` takes unknown keyword arguments without
    a word, so an adapter it does not know would silently not apply."""
    from llama_cpp import Llama

    if "lora_path" not in inspect.signature(Llama.__init__).parameters:
        raise ModelError(
            "this llama-cpp-python has no lora_path: the adapter cannot be applied",
            hint="reinstall agentkit's pinned llama-cpp-python, or set model_adapter = none",
        )


def verify_applied(llm: Any, adapter: Path) -> None:
    """After load: llama-cpp-python recorded the adapter it set on the context."""
    if getattr(llm, "lora_path", None) != str(adapter) or not getattr(llm, "_lora_adapter", None):
        raise ModelError(
            f"llama.cpp loaded the model but not the adapter {adapter}",
            hint="set model_adapter = none, or reinstall agentkit's pinned llama-cpp-python",
        )
