"""A tuned model is prompted the way it was trained: the adapter records how
its training prompts were rendered (compact tool prompt, the tuned-model
steering preset), loading it renders the same way, and the preset offers
every tool, keeps the groundings of where the model may act and drops the
rules that read English. Training shares a batch's prompt prefix exactly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from adapter_support import random_adapter
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agentkit.config import SteeringSettings, load_settings
from agentkit.models.adapter import AdapterPrompt, BaseModelId, Provenance, read_adapter
from agentkit.models.adapter import write_adapter as write
from agentkit.models.chat import ChatLlama
from agentkit.steering import StepView, steering_for, tuned_preset
from agentkit.steering.small import SmallModelSteering
from agentkit.testing import ScriptedChatModel
from agentkit.tools import builtin_tools
from agentkit.tune.episodes import episodes_from_families, vary_wording
from agentkit.tune.examples import TrainingExample
from agentkit.tune.forms import framed, terse, vary_form, with_typo
from agentkit.tune.train import prompt_of


@pytest.fixture(scope="module")
def base() -> Path:
    from agentkit.models.resolve import resolve_model_path

    return resolve_model_path("bundled:gemma3-270m", load_settings().resolved_cache_dir())


@pytest.fixture(scope="module")
def tuned_adapter(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    plain = random_adapter(base, tmp_path_factory.mktemp("a") / "plain.gguf", layers=range(1))
    info = read_adapter(plain)
    tensors = {name: _zeros(shape) for name, shape in info.tensor_shapes.items()}
    return write(
        tmp_path_factory.mktemp("b") / "tuned.gguf",
        tensors,
        alpha=info.alpha,
        base=BaseModelId.of_file(base),
        provenance=Provenance(examples=2, seed=0, steps=1, recipe="test"),
        prompt=AdapterPrompt(tool_prompt="compact", steering="tuned"),
    )


def _zeros(shape: tuple[int, ...]) -> object:
    import numpy as np

    return np.zeros(tuple(reversed(shape)), dtype=np.float16)


def test_the_adapter_records_and_the_model_follows_how_it_was_prompted(
    base: Path, tuned_adapter: Path, tmp_path: Path
) -> None:
    assert read_adapter(tuned_adapter).prompt == AdapterPrompt("compact", "tuned")
    model = ChatLlama(model_path=str(base), adapter_path=str(tuned_adapter))
    assert model.agentkit_profile().tuned and model.agentkit_profile().small
    settings = load_settings(model_adapter=str(tuned_adapter), data_dir=tmp_path)
    assert ChatLlama.from_settings(settings).tool_prompt == "compact"  # tool_prompt = "auto"
    explicit = load_settings(model_adapter=str(tuned_adapter), tool_prompt="signatures")
    assert ChatLlama.from_settings(explicit).tool_prompt == "signatures"
    plain = ChatLlama(model_path=str(base))
    assert not plain.agentkit_profile().tuned


def test_the_tuned_preset_offers_every_tool_and_grounds_only_where_it_acts(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("alpha\nbeta\n")
    tools = builtin_tools(workspace=tmp_path)
    model = ScriptedChatModel(small=True, tuned=True)
    steering = steering_for(model, SteeringSettings(), tools=tools)
    assert isinstance(steering, SmallModelSteering)
    assert steering.settings == tuned_preset(SteeringSettings())
    task = "In notes.txt, change alpha to gamma"
    route = steering.route(task, tools)
    assert route["offered"] == [t.name for t in tools] and route["bias"] == {}
    call = AIMessage(
        "", tool_calls=[{"name": "read_file", "args": {"path": "notes.txt"}, "id": "c"}]
    )
    view = StepView(
        task=task,
        messages=[HumanMessage(task), call, ToolMessage("alpha\nbeta", tool_call_id="c")],
        steps=1,
        last_succeeded=True,
        route=route,
    )
    hints = steering.hints(view, tools)
    # where it acts: the file, and the lines and words of it an edit may replace
    assert hints.arg_choices["edit_file"]["path"] == ["notes.txt"]
    assert "alpha" in hints.arg_choices["edit_file"]["old_string"]
    assert "new_string" not in hints.arg_choices["edit_file"]  # what it writes stays free
    assert hints.required_tool is None and hints.tool_bias == {}
    assert hints.copy_bias == hints.avoid_bias == 0.0
    prompt = steering.prompt("system", view, tools)
    assert [type(m).__name__ for m in prompt[:2]] == [
        "SystemMessage",
        "HumanMessage",
    ]  # no examples
    # mode "on" puts every technique back over the adapter
    full = steering_for(model, SteeringSettings(mode="on"), tools=tools)
    assert isinstance(full, SmallModelSteering) and full.settings.worked_examples


def test_the_tuned_preset_rewrites_a_named_file_only_on_a_request_for_a_change(
    tmp_path: Path,
) -> None:
    """ "Overwrite memo.txt so that it reads ..." may replace memo.txt whole;
    a task that does not ask for a change may not, whatever it names."""
    (tmp_path / "memo.txt").write_text("old\nlines\n")
    tools = builtin_tools(workspace=tmp_path)
    steering = steering_for(ScriptedChatModel(small=True, tuned=True), SteeringSettings())
    assert isinstance(steering, SmallModelSteering)

    def write_paths(task: str) -> object:
        view = StepView(task=task, messages=[HumanMessage(task)], steps=0, last_succeeded=False)
        return steering.hints(view, tools).arg_choices["write_file"]["path"]

    assert write_paths("Overwrite memo.txt so that it reads email the landlord.") == ["memo.txt"]
    assert write_paths("I wonder what is written in memo.txt") == []
    assert write_paths("what does memo.txt say?") == []
    # without the adapter's preset a whole-file write never replaces a named file
    plain = steering_for(ScriptedChatModel(small=True), SteeringSettings(), tools=tools)
    assert isinstance(plain, SmallModelSteering) and not plain.settings.rewrite_named_files


def test_training_examples_say_how_they_were_rendered() -> None:
    def example(style: str) -> TrainingExample:
        return TrainingExample(
            prompt="p", completion="c", source="s", tool_prompt=style, steering="tuned"
        )

    assert prompt_of([example("compact"), example("compact")]) == AdapterPrompt("compact", "tuned")
    assert prompt_of([example("compact"), example("signatures")]).tool_prompt == ""


def test_a_varied_wording_keeps_the_requests_words() -> None:
    rng = random.Random(0)
    task = "What is the port in config.ini?"
    varied = [vary_wording(task, rng) for _ in range(200)]
    assert len(set(varied)) > 3  # openers, closers, no final "?"
    for text in varied:
        assert "the port in config.ini" in text
    assert [vary_wording(task, random.Random(5)) for _ in range(3)] == [
        vary_wording(task, random.Random(5)) for _ in range(3)
    ]


def test_a_form_never_changes_what_the_gold_solution_copies() -> None:
    task = "Save the note 'call the bank' in notes/todo.txt and please tell me the total."
    keep = '[{"path": "notes/todo.txt", "content": "call the bank"}]\ntotal'
    rng = random.Random(3)
    forms = {vary_form(task, keep, rng) for _ in range(300)}
    assert len(forms) > 10  # frames, typos, terse
    for text in forms:
        assert "'call the bank'" in text and "notes/todo.txt" in text and "total" in text
    assert "I need you to save the note 'call the bank' in notes/todo.txt" in " ".join(
        framed(task, random.Random(k)) for k in range(40)
    )
    # "the" is in what the gold copies ("call the bank"): it stays everywhere.
    assert (
        terse(task, keep)
        == "Save the note 'call the bank' in notes/todo.txt and tell me the total."
    )
    assert terse("Sort the list in a.txt", "") == "Sort list in a.txt"
    assert with_typo("Remember this", "", random.Random(0)) != "Remember this"
    # A question gets a question's frame; a greeting or "I ..." gets none.
    assert framed("What is in a.txt?", random.Random(1)).endswith("what is in a.txt?")
    assert framed("Hi, Amara here", random.Random(1)) == "Hi, Amara here"
    assert framed("I need a list", random.Random(1)) == "I need a list"


def test_episodes_in_other_forms_are_drawn_only_when_asked() -> None:
    plain = episodes_from_families("dev", 30, 4, vary=True)
    assert [e.case.task for e in plain] == [
        e.case.task for e in episodes_from_families("dev", 30, 4, vary=True)
    ]
    formed = episodes_from_families("dev", 30, 4, vary=True, forms=True)
    assert len(formed) == 30 and all(e.calls or e.answer for e in formed)


def test_a_shared_prompt_prefix_gives_the_whole_examples_loss_and_gradients() -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from agentkit.tune.batches import Tokenized, batch_loss, shared_prefix

    config = transformers.Gemma3TextConfig(
        vocab_size=97,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=24,  # shorter than the examples: the window matters
        max_position_embeddings=256,
    )
    torch.manual_seed(0)
    model = transformers.Gemma3ForCausalLM(config).eval()
    rng = random.Random(1)
    prefix = [rng.randrange(1, 97) for _ in range(30)]
    batch = [
        Tokenized(prefix + [rng.randrange(1, 97) for _ in range(n)], completion=c)
        for n, c in ((12, 4), (20, 6), (8, 3))
    ]
    assert shared_prefix(batch) == 30
    device = torch.device("cpu")

    def loss_and_grads(share: bool) -> tuple[float, list[object]]:
        model.zero_grad()
        loss, _ = batch_loss(model, batch, device, bf16=False, share=share)
        loss.backward()
        return float(loss.detach()), [
            p.grad.clone() for p in model.parameters() if p.grad is not None
        ]

    shared_loss, shared_grads = loss_and_grads(True)
    whole_loss, whole_grads = loss_and_grads(False)
    assert shared_loss == pytest.approx(whole_loss, rel=1e-5)
    for a, b in zip(shared_grads, whole_grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
