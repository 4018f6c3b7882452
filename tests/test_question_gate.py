"""The question gate: a classifier over MiniLM embeddings tells a task that
only asks from one that asks for a change (agentkit.steering.question_gate).

Unit tests drive the steering with a two-dimensional fake embedder; the
shipped weights are checked with the real bundled embedder on the dev
families they were fitted on, and the fit is checked never to read a
held-out case.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings

from agentkit.config import SteeringSettings, load_settings
from agentkit.evals.cases import EvalCase
from agentkit.evals.families import builtin_cases
from agentkit.evals.question_training import only_asks as case_only_asks
from agentkit.evals.question_training import train, writing_tools
from agentkit.memory import LlamaEmbedder
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView, steering_for
from agentkit.steering.intent import asks_for_change, only_asks
from agentkit.steering.question_gate import GateWeights, QuestionGate, load_weights, masked
from agentkit.steering.routing import ToolRouter
from agentkit.steering.small import SmallModelSteering
from agentkit.tools import builtin_tools

SMALL = ModelProfile(n_params=270_000_000, base=True)


class TwoWordEmbeddings(Embeddings):
    """[1, 0] for a text that holds "ask", [0, 1] otherwise; records what it embeds."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.seen += texts
        return [[1.0, 0.1] if "ask" in t else [0.1, 1.0] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def two_word_gate(
    request_below: float | None = None, plain_question_above: float | None = None
) -> QuestionGate:
    weights = GateWeights(
        embedder="two-word",
        question_above=1.0,
        change_below=-1.0,
        request_below=request_below,
        plain_question_above=plain_question_above,
        bias=0.0,
        weights=[3.0, -3.0],
        fitted_on="test",
    )
    return QuestionGate(TwoWordEmbeddings(), weights)


def test_file_names_are_masked_they_say_where_not_what() -> None:
    assert masked("Copy notes/a.md to b.md and see http://x.io/p") == (
        "Copy the file to the file and see the file"
    )


def test_a_task_the_gate_is_sure_only_asks_cannot_call_a_writer(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text("Ada\n")
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    tools = {t.name: t for t in builtin_tools(settings, workspace=tmp_path)}
    offered = [tools["read_file"], tools["write_file"]]
    task = "ask: the names written to names.txt"  # no "?" and no question word
    assert not only_asks(task)
    view = StepView(task=task, messages=[], steps=0, last_succeeded=False, route=None)
    gated = SmallModelSteering(SMALL, SteeringSettings(), gate=two_word_gate)
    assert gated.hints(view, offered).arg_choices["write_file"]["path"] == []
    ungated = SmallModelSteering(SMALL, SteeringSettings())
    assert ungated.hints(view, offered).arg_choices.get("write_file", {}).get("path") != []


def test_a_request_put_as_a_question_the_gate_reads_as_one_may_write(tmp_path: Path) -> None:
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    tools = {t.name: t for t in builtin_tools(settings, workspace=tmp_path)}
    offered = [tools["read_file"], tools["write_file"]]
    task = "Could we put eggs in list.txt?"  # the patterns know only "can you ..."
    assert only_asks(task)
    view = StepView(task=task, messages=[], steps=0, last_succeeded=False, route=None)

    def path_choices(gate: QuestionGate) -> object:
        steering = SmallModelSteering(SMALL, SteeringSettings(), gate=gate)
        return steering.hints(view, offered).arg_choices["write_file"]["path"]

    assert path_choices(two_word_gate(request_below=-2.0)) == ["list.txt"]
    # Without the threshold (or above the task's score) the question mark decides.
    assert path_choices(two_word_gate()) == []
    assert path_choices(two_word_gate(request_below=-3.0)) == []
    # A question the gate reads as one stays gated whatever the threshold.
    asked = StepView(task="ask: list.txt?", messages=[], steps=0, last_succeeded=False, route=None)
    steering = SmallModelSteering(SMALL, SteeringSettings(), gate=two_word_gate(-2.0))
    assert steering.hints(asked, offered).arg_choices["write_file"]["path"] == []


class ThreeWayEmbeddings(TwoWordEmbeddings):
    """Scores 2.7 with "ask", 0.8 with "show", -2.7 otherwise (two_word_gate's weights)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.seen += texts
        return [
            [1.0, 0.1] if "ask" in t else [0.6, 0.4] if "show" in t else [0.1, 1.0] for t in texts
        ]


def test_a_task_without_a_verb_of_change_that_leans_to_a_question_cannot_write(
    tmp_path: Path,
) -> None:
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    tools = {t.name: t for t in builtin_tools(settings, workspace=tmp_path)}
    offered = [tools["read_file"], tools["write_file"]]

    def path_choices(task: str, plain_question_above: float | None) -> object:
        gate = two_word_gate(plain_question_above=plain_question_above)
        gate.embeddings = ThreeWayEmbeddings()
        view = StepView(task=task, messages=[], steps=0, last_succeeded=False, route=None)
        steering = SmallModelSteering(SMALL, SteeringSettings(), gate=gate)
        return steering.hints(view, offered).arg_choices["write_file"]["path"]

    task = "show me what is written in out.txt"  # neither a question nor a change to the patterns
    assert not only_asks(task) and not asks_for_change(task)
    assert path_choices(task, plain_question_above=0.5) == []
    assert path_choices(task, plain_question_above=None) == ["out.txt"]
    # A verb of change in a request keeps the writers, however the task leans.
    assert path_choices("show it, then save it to out.txt", 0.5) == ["out.txt"]


def test_routing_offers_writers_when_the_gate_is_sure_of_a_change(tmp_path: Path) -> None:
    settings = load_settings(workspace=tmp_path, data_dir=tmp_path / ".data")
    tools = builtin_tools(settings, workspace=tmp_path)
    router = ToolRouter(TwoWordEmbeddings(), tools)
    task = "get rid of the word draft in essay.txt"  # no verb of change the patterns know
    assert not asks_for_change(task)
    every = SteeringSettings(routing_top_k=len(tools))
    gated = SmallModelSteering(SMALL, every, router, gate=two_word_gate())
    assert {"write_file", "edit_file"} <= set(gated.route(task, tools)["offered"])
    ungated = SmallModelSteering(SMALL, every, router)
    assert {"write_file", "edit_file"}.isdisjoint(ungated.route(task, tools)["offered"])


def test_steering_builds_the_gate_only_when_switched_on() -> None:
    from agentkit.testing import ScriptedChatModel

    model = ScriptedChatModel(script=[])
    on = steering_for(model, SteeringSettings(mode="on"), TwoWordEmbeddings)
    off = steering_for(
        model, SteeringSettings(mode="on", intent_classifier=False), TwoWordEmbeddings
    )
    assert isinstance(on, SmallModelSteering) and on.gate is not None
    assert isinstance(off, SmallModelSteering) and off.gate is None
    # Weights belong to one embedder: another gets no gate, the patterns alone.
    assert on._question_gate() is None


def test_the_fit_reads_only_dev_cases() -> None:
    def case(id: str, task: str, read_only: bool, split: str) -> EvalCase:
        return EvalCase(id=id, task=task, read_only=read_only, family=id, split=split)  # type: ignore[arg-type]

    cases = [
        *(case(f"q{i}", f"ask about file {i}", True, "dev") for i in range(6)),
        *(case(f"c{i}", f"change file {i}", False, "dev") for i in range(6)),
        case("h", "held out wording", True, "heldout"),
    ]
    embeddings = TwoWordEmbeddings()
    gate = train(cases, embeddings, "two-word")
    assert not any("held out" in text for text in embeddings.seen)
    scored = QuestionGate(TwoWordEmbeddings(), gate)
    assert scored.only_asks("ask about file 9") and scored.asks_change("change file 9")
    # No dev question the patterns catch: nothing to keep clear of, they decide.
    assert gate.request_below is None


def test_the_shipped_gate_misjudges_no_dev_case_and_adds_to_the_patterns(
    embedder: LlamaEmbedder,
) -> None:
    gate = QuestionGate.bundled(embedder)
    assert gate is not None and load_weights().embedder == "all-minilm-l6-v2"
    dev = [c for c in builtin_cases() if c.split == "dev"]
    writers = writing_tools()
    assert {"write_file", "edit_file", "move_file", "remember"} <= writers
    asks = [c.task for c in dev if case_only_asks(c, writers)]
    changes = [c.task for c in dev if not case_only_asks(c, writers)]
    assert not [t for t in changes if gate.only_asks(t)]
    assert not [t for t in asks if gate.asks_change(t)]
    # It catches questions the patterns miss (59 and 65 of 197 alone, 98 together, when fitted).
    either = sum(gate.only_asks(t) or only_asks(t) for t in asks)
    assert either >= sum(only_asks(t) for t in asks) + 20
    # Stated as a request with no verb of change the patterns know.
    assert gate.asks_change("get rid of the word draft in essay.txt")
    # Requests put as questions the patterns read as questions; no dev
    # question the patterns catch is read as a request.
    steering = SmallModelSteering(SMALL, SteeringSettings(), gate=gate)
    assert gate.weights.request_below is not None
    for request in (
        "How about writing done into status.txt?",
        "any chance you could rename a.txt?",
    ):
        assert only_asks(request) and not steering.only_asks(request)
    # Overriding the question mark takes the certainty of a change: in doubt a
    # question stays one. The tuned model edited notes.txt for both of these
    # (scores -2.30 and -2.28) when the override began at -2.0; "Could we add
    # eggs to list.txt?" (-2.34) is gated with them.
    assert gate.weights.request_below <= gate.weights.change_below
    for question in ("how do I rename notes.txt?", "can notes.txt be written to?"):
        assert only_asks(question) and steering.only_asks(question)
    assert steering.only_asks("Is the file saved as UTF-8?")
    # No verb of change, not worded as a question, yet only asking.
    assert gate.weights.plain_question_above is not None
    assert steering.only_asks("I wonder what is written in notes.txt")
    # ... and it gates no dev change the patterns do not already gate.
    assert not [t for t in changes if steering.only_asks(t) and not only_asks(t)]
    assert not [t for t in asks if only_asks(t) and not steering.only_asks(t)]
