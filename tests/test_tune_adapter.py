"""GGUF LoRA adapters: the file format (names, shapes, metadata), PEFT's
matrices mapped to llama.cpp's tensors (Gemma 3 as is, Llama's q/k rows
permuted), the ``model_adapter`` setting, and one-line errors for a
missing file, a file that is no adapter and an adapter for another base.
Nothing here runs the model (it reads the bundled GGUF's header)."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from adapter_support import TARGETS, random_adapter
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.config import load_settings
from agentkit.errors import ModelError
from agentkit.models import adapter as adapters
from agentkit.models.adapter import (
    BaseModelId,
    HeadLayout,
    Provenance,
    check_adapter,
    gguf_lora_tensors,
    read_adapter,
    resolve_adapter,
    verify_applied,
    write_adapter,
)
from agentkit.models.engine import LlamaEngine, LoadParams


@pytest.fixture(scope="module")
def base() -> Path:
    from agentkit.models.resolve import resolve_model_path

    settings = load_settings()
    return resolve_model_path("bundled:gemma3-270m", settings.resolved_cache_dir())


@pytest.fixture(scope="module")
def small_adapter(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("adapter") / "small.gguf"
    return random_adapter(base, out, rank=4, seed=3, layers=range(2))


def test_round_trip_names_shapes_and_metadata(base: Path, small_adapter: Path) -> None:
    from agentkit.models.resolve import read_gguf_info

    info = read_adapter(small_adapter)
    model = read_gguf_info(base)
    assert info.rank == 4 and info.alpha == 4.0
    assert info.base == BaseModelId.of_file(base)
    assert info.provenance == Provenance(examples=0, seed=3, steps=0, recipe="random")
    assert info.targets == sorted(TARGETS)
    assert len(info.tensor_shapes) == 2 * 2 * len(TARGETS)
    for layer in range(2):
        for target in TARGETS:
            weight = f"blk.{layer}.{target}.weight"
            n_in, n_out = model.tensor_shapes[weight]
            assert info.tensor_shapes[weight + ".lora_a"] == (n_in, 4)  # ne = [n_in, r]
            assert info.tensor_shapes[weight + ".lora_b"] == (4, n_out)  # ne = [r, n_out]
    # The keys llama.cpp reads, as written (gguf-py's own reader).
    reader = gguf.GGUFReader(small_adapter)
    fields = {name: field.contents() for name, field in reader.fields.items()}
    assert fields["general.type"] == "adapter"
    assert fields["general.architecture"] == "gemma3"
    assert fields["adapter.type"] == "lora"
    assert fields["adapter.lora.alpha"] == pytest.approx(4.0)
    assert fields["agentkit.base.sha256"] == info.base.sha256
    tensor = next(t for t in reader.tensors if t.name == "blk.1.ffn_down.weight.lora_b")
    assert tensor.tensor_type == gguf.GGMLQuantizationType.F32


def test_peft_pairs_map_to_llama_cpp_names_and_layouts() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 640)), rng.normal(size=(1024, 2))
    tensors = gguf_lora_tensors(
        "gemma3", 18, {"base_model.model.model.layers.5.self_attn.q_proj": (a, b)}
    )
    assert set(tensors) == {"blk.5.attn_q.weight.lora_a", "blk.5.attn_q.weight.lora_b"}
    assert np.array_equal(tensors["blk.5.attn_q.weight.lora_a"], a.astype(np.float16))
    assert np.array_equal(tensors["blk.5.attn_q.weight.lora_b"], b.astype(np.float16))
    names = {
        "model.layers.0.mlp.down_proj": "blk.0.ffn_down",
        "model.layers.0.mlp.gate_proj": "blk.0.ffn_gate",
        "model.layers.0.self_attn.o_proj": "blk.0.attn_output",
    }
    for module, expected in names.items():
        assert adapters.gguf_weight_name("gemma3", 18, module) == expected + ".weight"


def test_llama_q_and_k_rows_get_llama_cpps_permutation() -> None:
    """convert_hf_to_gguf.py writes q/k with each head's two rotary halves
    interleaved: row (h, i, j) of the HF weight goes to (h, j, i)."""
    n_head, n_head_kv, head_dim, rank = 4, 2, 8, 2
    b_q = np.arange(n_head * head_dim * rank, dtype=np.float32).reshape(-1, rank)
    b_k = np.arange(n_head_kv * head_dim * rank, dtype=np.float32).reshape(-1, rank)
    b_v = b_k.copy()
    a = np.ones((rank, 16), dtype=np.float32)
    tensors = gguf_lora_tensors(
        "llama",
        2,
        {
            "model.layers.1.self_attn.q_proj": (a, b_q),
            "model.layers.1.self_attn.k_proj": (a, b_k),
            "model.layers.1.self_attn.v_proj": (a, b_v),
        },
        HeadLayout(n_head, n_head_kv),
    )

    def expected(rows: np.ndarray, heads: int) -> np.ndarray:
        half = rows.shape[0] // heads // 2
        out = np.empty_like(rows)
        for h in range(heads):
            for i in range(2):
                for j in range(half):
                    out[h * 2 * half + j * 2 + i] = rows[h * 2 * half + i * half + j]
        return out

    assert np.array_equal(tensors["blk.1.attn_q.weight.lora_b"], expected(b_q, n_head))
    assert np.array_equal(tensors["blk.1.attn_k.weight.lora_b"], expected(b_k, n_head_kv))
    assert np.array_equal(tensors["blk.1.attn_v.weight.lora_b"], b_v)  # v is not permuted
    assert np.array_equal(tensors["blk.1.attn_q.weight.lora_a"], a)


@pytest.mark.parametrize("architecture", ["gemma3", "llama"])
def test_an_adapter_reads_back_as_the_peft_pairs_it_was_written_from(
    architecture: str, tmp_path: Path
) -> None:
    """What --start-from loads is what was exported (Llama's q/k rows
    permuted back), so training continues from the same adapter."""
    rng = np.random.default_rng(1)
    heads = HeadLayout(4, 2)
    shapes = {"q_proj": 32, "k_proj": 16, "v_proj": 16}
    pairs = {
        f"model.layers.1.self_attn.{name}": (
            rng.normal(size=(2, 12)).astype(np.float16).astype(np.float32),
            rng.normal(size=(rows, 2)).astype(np.float16).astype(np.float32),
        )
        for name, rows in shapes.items()
    }
    tensors = gguf_lora_tensors(architecture, 2, pairs, heads)
    identity = BaseModelId(architecture=architecture, name="", parameters=0, sha256="")
    path = write_adapter(
        tmp_path / "a.gguf", tensors, alpha=4.0, base=identity, provenance=Provenance()
    )
    back = adapters.adapter_pairs(path, architecture, 2, list(pairs), heads)
    for module, (lora_a, lora_b) in pairs.items():
        assert np.array_equal(back[module][0], lora_a) and np.array_equal(back[module][1], lora_b)
    with pytest.raises(ModelError, match="has no blk.0.attn_q.weight LoRA"):
        adapters.adapter_pairs(path, architecture, 2, ["model.layers.0.self_attn.q_proj"], heads)


def test_an_unsupported_architecture_is_one_line() -> None:
    with pytest.raises(ModelError) as err:
        gguf_lora_tensors("qwen2", 2, {"model.layers.0.self_attn.q_proj": (np.ones((1, 2)),) * 2})
    assert "supports gemma3, llama models, not qwen2" in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_and_non_adapter_are_one_line(base: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        check_adapter(tmp_path / "nope.gguf", base)
    assert "adapter file" in str(err.value) and "does not exist" in str(err.value)
    with pytest.raises(ModelError) as err:
        check_adapter(base, base)  # a model, not an adapter
    assert "is not a GGUF LoRA adapter" in str(err.value)
    (tmp_path / "text.gguf").write_text("hello")
    with pytest.raises(ModelError) as err:
        read_adapter(tmp_path / "text.gguf")
    assert "is not a GGUF file" in str(err.value)
    for message in (str(err.value),):
        assert "\n" not in message


def test_an_adapter_for_another_base_is_refused_in_one_line(base: Path, tmp_path: Path) -> None:
    other = BaseModelId("gemma3", "Some other Gemma", 268098176, "ab" * 32)
    made = random_adapter(base, tmp_path / "other.gguf", layers=range(1), base=other)
    with pytest.raises(ModelError) as err:
        check_adapter(made, base)
    message = str(err.value)
    assert "was trained on Some other Gemma" in message and "not gemma-3-270m" in message
    assert "model_adapter = none" in message and "\n" not in message
    # Refused before llama.cpp is asked to load anything.
    with pytest.raises(ModelError, match="was trained on"):
        LlamaEngine(LoadParams(path=str(base), n_ctx=256, lora_path=str(made)))


def test_a_tensor_that_does_not_fit_the_model_is_one_line(base: Path, tmp_path: Path) -> None:
    identity = BaseModelId.of_file(base)
    tensors = {
        "blk.0.attn_q.weight.lora_a": np.zeros((2, 999), dtype=np.float32),
        "blk.0.attn_q.weight.lora_b": np.zeros((1024, 2), dtype=np.float32),
    }
    made = write_adapter(
        tmp_path / "bad.gguf", tensors, alpha=2.0, base=identity, provenance=Provenance()
    )
    with pytest.raises(ModelError) as err:
        check_adapter(made, base)
    assert "blk.0.attn_q.weight.lora_a [999, 2] does not fit" in str(err.value)


def test_model_adapter_setting_none_auto_and_path(
    small_adapter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().model_adapter == "auto"
    assert resolve_adapter("none", "bundled:gemma3-270m") is None
    monkeypatch.setattr(adapters, "ADAPTERS_DIR", tmp_path / "shipped")
    assert resolve_adapter("auto", "bundled:gemma3-270m") is None  # none shipped: no-op
    (tmp_path / "shipped").mkdir()
    shipped = tmp_path / "shipped" / "gemma3-270m.gguf"
    shipped.write_bytes(small_adapter.read_bytes())
    assert resolve_adapter("auto", "bundled:gemma3-270m") == shipped
    assert resolve_adapter("auto", "/models/other.gguf") is None  # only bundled models
    assert resolve_adapter(str(small_adapter), "bundled:gemma3-270m") == small_adapter
    with pytest.raises(ModelError, match="does not exist"):
        resolve_adapter(str(tmp_path / "missing.gguf"), "bundled:gemma3-270m")


def test_the_adapter_is_part_of_the_shared_engine_key(base: Path, small_adapter: Path) -> None:
    from agentkit.models import ChatLlama

    plain = ChatLlama(model_path=str(base), n_ctx=512)
    adapted = ChatLlama(model_path=str(base), n_ctx=512, adapter_path=str(small_adapter))
    assert plain.load_params != adapted.load_params
    assert adapted.load_params.llama_kwargs()["lora_path"] == str(small_adapter)
    assert "lora_path" not in plain.load_params.llama_kwargs()
    settings = load_settings(model_adapter=str(small_adapter))
    assert LoadParams.from_settings(settings, base).lora_path == str(small_adapter)


def test_an_adapter_llama_cpp_did_not_record_is_an_error(small_adapter: Path) -> None:
    class Unapplied:
        lora_path = None
        _lora_adapter = None

    with pytest.raises(ModelError, match="not the adapter"):
        verify_applied(Unapplied(), small_adapter)


def test_doctor_shows_the_adapter_and_refuses_a_mismatch(
    base: Path, small_adapter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTKIT_MODEL_ADAPTER", str(small_adapter))
    out = CliRunner().invoke(app, ["doctor"], catch_exceptions=False, terminal_width=200)
    assert "rank 4, alpha 4" in out.output and "matches the model file" in out.output
    assert "Gemma 3 270m" in out.output
    other = BaseModelId("gemma3", "Another", 1, "cd" * 32)
    monkeypatch.setenv(
        "AGENTKIT_MODEL_ADAPTER",
        str(random_adapter(base, tmp_path / "o.gguf", layers=range(1), base=other)),
    )
    out = CliRunner().invoke(app, ["doctor"], catch_exceptions=False, terminal_width=200)
    assert out.exit_code == 1
    assert "error: adapter o.gguf was trained on Another" in out.output


@pytest.mark.model
def test_every_shipped_adapter_fits_its_bundled_model_and_says_how_it_was_made() -> None:
    from agentkit.models.resolve import resolve_model_path

    cache = load_settings().resolved_cache_dir()
    provenance = adapters.ADAPTERS_DIR / "PROVENANCE.md"
    for path in sorted(adapters.ADAPTERS_DIR.glob("*.gguf")):
        model = f"bundled:{path.stem}"
        info = check_adapter(path, resolve_model_path(model, cache))
        assert info.provenance.examples > 0 and info.provenance.steps > 0
        # Loading it renders prompts the way its training examples were rendered.
        assert (info.prompt.tool_prompt, info.prompt.steering) == ("compact", "tuned")
        assert f"`{path.name}`" in provenance.read_text(encoding="utf-8")
