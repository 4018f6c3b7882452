"""``agentkit tune`` options and input errors (training itself is in
tests/models/test_tune_train.py): bad input is one line, never a
traceback; options reach the training configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.errors import AgentkitError
from agentkit.tune.examples import DataError, TrainingExample, read_jsonl, write_jsonl

EXAMPLE = TrainingExample(
    prompt='<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n<tool_call>{"name": "',
    completion='final_answer", "arguments": {"answer": "hi"}}</tool_call>',
    source="test",
    step=1,
    tools=["final_answer"],
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["tune", *args], catch_exceptions=True)


def one_line_error(result: Any, text: str) -> None:
    assert isinstance(result.exception, AgentkitError), result.output
    message = str(result.exception)
    assert text in message and "\n" not in message, message


def test_jsonl_round_trip_and_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    write_jsonl([EXAMPLE, EXAMPLE], path)
    assert read_jsonl([path]) == [EXAMPLE, EXAMPLE]
    path.write_text(path.read_text() + '{"prompt": "x"}\n')
    with pytest.raises(DataError) as err:
        read_jsonl([path])
    assert f"{path}:3 is not a training example" in str(err.value)
    assert "\n" not in str(err.value)


def test_input_errors_are_one_line(tmp_path: Path) -> None:
    one_line_error(invoke(), "nothing to train on")
    one_line_error(invoke("t1"), "thread ids are read with --from-threads")
    one_line_error(invoke("--data", "missing.jsonl"), "cannot read training data missing.jsonl")
    (tmp_path / "bad.jsonl").write_text("not json\n")
    one_line_error(invoke("--data", "bad.jsonl"), "bad.jsonl:1 is not a training example")
    one_line_error(invoke("--recipe", "nope"), "no recipe 'nope'")
    one_line_error(invoke("--recipe", "bundled", "--epochs", "3"), "fixes its data and hyper")
    assert invoke("--epochs", "0", "--data", "x.jsonl").exit_code == 2  # typer's own check


def test_options_reach_the_training_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.tune import train as training

    write_jsonl([EXAMPLE], tmp_path / "a.jsonl")
    write_jsonl([EXAMPLE, EXAMPLE], tmp_path / "b.jsonl")
    seen: dict[str, Any] = {}

    def fake_train(examples, gguf, out, config, **kwargs) -> training.TrainResult:
        seen.update(examples=examples, gguf=gguf, out=out, config=config, resume=kwargs["resume"])
        kwargs["on_step"](training.StepReport(1, 1, 100, 50.0, 0.5))
        return training.TrainResult(out, 3, 0, 1, 100, 2.0, 50.0, "fp32", "cpu", 0.5)

    monkeypatch.setattr(training, "train", fake_train)
    monkeypatch.setattr("agentkit.tune.base.require_training_packages", lambda: None)
    result = invoke(
        "--data", "a.jsonl", "--data", "b.jsonl", "--rank", "8", "--lr", "1e-3",
        "--epochs", "2", "--seed", "7", "--max-examples", "2", "--precision", "bf16",
        "--device", "cpu", "--out", "my.gguf", "--resume", "--save-data", "used.jsonl",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert (config.rank, config.alpha, config.lr, config.epochs, config.seed) == (
        8,
        16.0,
        1e-3,
        2,
        7,
    )
    assert (config.max_examples, config.precision, config.device) == (2, "bf16", "cpu")
    assert len(seen["examples"]) == 3 and seen["out"] == Path("my.gguf") and seen["resume"]
    assert seen["gguf"].name == "gemma-3-270m-q4_k_m.gguf"
    assert len(read_jsonl([tmp_path / "used.jsonl"])) == 3
    assert "wrote my.gguf" in result.output and "model_adapter" in result.output


def test_a_run_resumed_at_its_last_step_reports_no_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.tune import train as training

    write_jsonl([EXAMPLE], tmp_path / "a.jsonl")

    def fake_train(examples, gguf, out, config, **kwargs) -> training.TrainResult:
        return training.TrainResult(out, 1, 0, 100, 0, 0.0, 0.0, "fp32", "cpu", float("nan"))

    monkeypatch.setattr(training, "train", fake_train)
    monkeypatch.setattr("agentkit.tune.base.require_training_packages", lambda: None)
    result = invoke("--data", "a.jsonl", "--resume", "--stop-after", "100", "--out", "s.gguf")
    assert result.exit_code == 0, result.output
    assert "no step left to train" in result.output
    assert "nan" not in result.output and "0 tokens/s" not in result.output


def test_episodes_come_from_dev_families_only_and_the_seed_fixes_them() -> None:
    from agentkit.evals.families import training_families
    from agentkit.tune.episodes import FamiliesUnavailable, episodes_from_families

    drawn = episodes_from_families("dev", 12, seed=3)
    assert [e.id for e in drawn] == [e.id for e in episodes_from_families("dev", 12, seed=3)]
    assert [e.id for e in drawn] != [e.id for e in episodes_from_families("dev", 12, seed=4)]
    dev = {f.name for f in training_families() if f.split == "dev"}
    for episode in drawn:
        assert episode.case.split == "dev" and episode.case.family in dev
        assert episode.case.gold is not None and episode.answer == episode.case.gold.answer
        assert [c.tool for c in episode.calls] == [c.tool for c in episode.case.gold.calls]
    assert len({e.id for e in drawn}) == 12
    with pytest.raises(FamiliesUnavailable, match="dev families only"):
        episodes_from_families("heldout", 2)  # type: ignore[arg-type]


def test_start_from_picks_the_adapter_to_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--start-from: auto is the shipped adapter, none a fresh LoRA, a path
    is checked (missing: one line); a recipe fixes it."""
    from agentkit.models.adapter import bundled_adapter
    from agentkit.tune import train as training

    write_jsonl([EXAMPLE], tmp_path / "a.jsonl")
    seen: list[str] = []

    def fake_train(examples, gguf, out, config, **kwargs) -> training.TrainResult:
        seen.append(config.start_adapter)
        return training.TrainResult(out, 1, 0, 1, 10, 1.0, 10.0, "fp32", "cpu", 0.5)

    monkeypatch.setattr(training, "train", fake_train)
    monkeypatch.setattr("agentkit.tune.base.require_training_packages", lambda: None)
    assert invoke("--data", "a.jsonl").exit_code == 0
    assert invoke("--data", "a.jsonl", "--start-from", "auto").exit_code == 0
    assert invoke("--data", "a.jsonl", "--start-from", "none").exit_code == 0
    shipped = bundled_adapter("bundled:gemma3-270m")
    assert seen == ["", str(shipped) if shipped else "", ""]
    one_line_error(invoke("--data", "a.jsonl", "--start-from", "gone.gguf"), "gone.gguf")
    one_line_error(
        invoke("--recipe", "bundled", "--start-from", "auto"), "fixes its data and hyper"
    )


def test_episodes_of_one_wave_in_turn_and_a_prefix_that_names_none() -> None:
    from agentkit.evals.families import training_families
    from agentkit.tune.episodes import FamiliesUnavailable, episodes_from_families
    from agentkit.tune.render import main as render_main

    wave = [f.name for f in training_families() if f.name.startswith("breadth3-")]
    drawn = episodes_from_families("dev", len(wave) + 1, seed=5, prefix="breadth3-", balanced=True)
    assert [e.case.family for e in drawn] == [*wave, wave[0]]
    with pytest.raises(FamiliesUnavailable, match="nope"):
        episodes_from_families("dev", 2, prefix="nope")
    assert render_main(["2", "1", "out.jsonl", "--prefix", "nope"]) == 2  # one line, no traceback
    with pytest.raises(SystemExit) as usage:
        render_main(["0", "1", "out.jsonl"])  # argparse's one-line error
    assert usage.value.code == 2
