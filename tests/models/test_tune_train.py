"""``agentkit tune`` end to end on CPU: a few LoRA steps over eight short
examples (interrupted, then resumed from its checkpoint), exported as a
GGUF adapter that llama.cpp loads, make the trained call the greedy output
where it was not before. And ``--precision auto``'s measured choice."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from agentkit.models.adapter import read_adapter
from agentkit.models.engine import LlamaEngine, LoadParams, SamplingParams
from agentkit.tune.base import TuneError
from agentkit.tune.examples import TrainingExample

pytestmark = pytest.mark.model
torch = pytest.importorskip("torch")
pytest.importorskip("peft")

NAMES = ["alpha.log", "beta.cfg", "gamma.txt", "delta.md", "omega.csv", "kappa.ini", "sigma.json"]
NAMES += ["theta.yaml"]


def _example(name: str) -> TrainingExample:
    # The bundled model's turn format and the grammar's forced prefix; a
    # tool and argument the base model never writes here.
    return TrainingExample(
        prompt=f"<start_of_turn>user\nLook inside {name} please.<end_of_turn>\n"
        f'<start_of_turn>model\n<tool_call>{{"name": "',
        completion=f'inspect_blob", "arguments": {{"target": "{name}"}}}}</tool_call>',
        source="test",
    )


def _greedy_hits(base: Path, adapter: Path | None, examples: list[TrainingExample]) -> int:
    engine = LlamaEngine.shared(
        LoadParams(path=str(base), n_ctx=256, lora_path=str(adapter) if adapter else None)
    )
    hits = 0
    for example in examples:
        generation = engine.generate(
            engine.tokenize(example.prompt),
            SamplingParams(temperature=0.0, max_tokens=24, prompt_lookup=False),
        )
        hits += "".join(generation).startswith(example.completion)
    return hits


class Interrupted(Exception):
    pass


def test_tuned_adapter_makes_the_trained_calls_greedy(
    bundled_model_path: Path, tmp_path: Path
) -> None:
    from agentkit.config import load_settings
    from agentkit.tune.train import StepReport, TrainConfig, checkpoint_path, train

    examples = [_example(n) for n in NAMES]
    assert _greedy_hits(bundled_model_path, None, examples) == 0
    config = TrainConfig(
        rank=8, alpha=16.0, dropout=0.0, lr=3e-3, epochs=5, batch_size=4, warmup=0.0,
        precision="fp32", checkpoint_every=2, seed=0,
    )  # fmt: skip
    out = tmp_path / "adapter.gguf"
    cache_dir = load_settings().resolved_cache_dir()  # the float base is kept there once
    said: list[str] = []

    def stop_at_five(report: StepReport) -> None:
        assert report.total_steps == 10 and report.tokens_per_s > 0
        if report.step == 5:
            raise Interrupted

    with pytest.raises(Interrupted):
        train(examples, bundled_model_path, out, config, cache_dir=cache_dir, on_step=stop_at_five)
    assert checkpoint_path(out).is_file() and not out.exists()
    steps: list[int] = []
    result = train(
        examples,
        bundled_model_path,
        out,
        config,
        cache_dir=cache_dir,
        resume=True,
        on_step=lambda r: steps.append(r.step),
        say=said.append,
    )
    assert any("resumed from" in s and "at step 4 of 10" in s for s in said), said
    assert steps == list(range(5, 11))
    assert result.adapter == out and not checkpoint_path(out).exists()
    info = read_adapter(out)
    assert (info.rank, info.alpha) == (8, 16.0)
    assert (info.provenance.examples, info.provenance.steps, info.provenance.seed) == (8, 10, 0)
    assert info.base.sha256 and info.base.architecture == "gemma3"
    assert len(info.tensor_shapes) == 18 * 7 * 2  # every layer, q/k/v/o/gate/up/down

    assert _greedy_hits(bundled_model_path, out, examples) >= 7

    # --stop-after: the 10-step schedule, cut (and written) at step 3.
    seen: list[tuple[int, int]] = []
    cut = train(
        examples,
        bundled_model_path,
        tmp_path / "cut.gguf",
        replace(config, stop_after=3),
        cache_dir=cache_dir,
        on_step=lambda r: seen.append((r.step, r.total_steps)),
    )
    assert seen == [(1, 10), (2, 10), (3, 10)] and cut.steps == 3
    assert read_adapter(cut.adapter).provenance.steps == 3

    # --start-from: a step at learning rate 0 from the trained adapter (under
    # another alpha) writes an adapter that still makes the trained calls.
    kept = train(
        examples,
        bundled_model_path,
        tmp_path / "kept.gguf",
        replace(config, lr=0.0, alpha=8.0, epochs=1, stop_after=1, start_adapter=str(out)),
        cache_dir=cache_dir,
        say=said.append,
    )
    assert any("starting from the adapter" in s for s in said)
    assert _greedy_hits(bundled_model_path, kept.adapter, examples) >= 7
    with pytest.raises(TuneError, match="has rank 8, not 4") as err:
        train(
            examples,
            bundled_model_path,
            tmp_path / "no.gguf",
            replace(config, rank=4, start_adapter=str(out)),
            cache_dir=cache_dir,
        )
    assert "--rank 8" in (err.value.hint or "")


def test_auto_precision_is_measured_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.tune import precision

    calls: list[int] = []

    def fake_measure(model, device, sample) -> dict[str, float]:
        calls.append(1)
        return {"fp32": 90.0, "bf16": 120.0}

    monkeypatch.setattr(precision, "measure", fake_measure)
    monkeypatch.setattr(precision, "cpu_may_gain_from_bf16", lambda: True)
    said: list[str] = []
    cpu = torch.device("cpu")
    data = [([1, 2, 3], 1)]
    assert precision.choose_precision("auto", None, cpu, data, tmp_path, said.append) == "bf16"
    assert precision.choose_precision("auto", None, cpu, data, tmp_path, said.append) == "bf16"
    assert calls == [1]  # the second run read the measurement
    assert "fp32 90 tokens/s, bf16 120 tokens/s" in said[-1]
    stored = json.loads((tmp_path / "tune" / "precision.json").read_text())
    assert list(stored.values()) == [{"fp32": 90.0, "bf16": 120.0}]
    assert precision.choose_precision("fp32", None, cpu, data, tmp_path, said.append) == "fp32"


def test_a_cpu_without_avx512_trains_in_fp32_without_measuring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.tune import precision

    def no_measure(model, device, sample) -> dict[str, float]:
        raise AssertionError("bf16 measured on a CPU that emulates it")

    monkeypatch.setattr(precision, "measure", no_measure)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    said: list[str] = []
    data = [([1, 2, 3], 1)]
    cpu = torch.device("cpu")
    assert precision.choose_precision("auto", None, cpu, data, tmp_path, said.append) == "fp32"
    assert "no AVX-512" in said[-1]
    assert not (tmp_path / "tune" / "precision.json").exists()


def test_the_prefix_sharing_check_holds_with_a_trained_lora_and_dropout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check runs without dropout: with a LoRA that is not zero (what
    --start-from loads) dropout made the two losses differ by 5% and the
    check turned sharing off, doubling the step time."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from agentkit.tune import batches
    from agentkit.tune.batches import Tokenized, sharing_matches

    # A random tiny model is unsure of every token, so its loss barely moves
    # with dropout: the tolerance is tightened to see the difference.
    monkeypatch.setattr(batches, "CHECK_TOLERANCE", 1e-4)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2,
    )  # fmt: skip
    lora = LoraConfig(
        r=4, lora_alpha=8, lora_dropout=0.9, target_modules=["q_proj", "v_proj", "down_proj"]
    )
    model = get_peft_model(LlamaForCausalLM(config), lora)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.normal_(0, 3.0)
    model.train()
    prefix = list(range(1, 21))
    batch = [Tokenized(prefix + [30 + i, 40 + i, 50 + i], 2) for i in range(4)]
    assert sharing_matches(model, batch, torch.device("cpu"), False)
    assert model.training  # left as it was
