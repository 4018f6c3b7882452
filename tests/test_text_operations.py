"""Computed answers: a task that asks for a text operation and reads
nothing is answered with one of the operation's results
(agentkit.steering.text_operations).

The operations and their candidates are pure functions; the classifier is
checked with the real bundled MiniLM embedder on the dev families (it must
fire on the operation families and on no other dev task), and the hook in
the steering is driven with a fake embedder.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agentkit.config import SteeringSettings
from agentkit.evals.families import builtin_cases
from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.memory import LlamaEmbedder
from agentkit.models.grammar import RequiredChoices
from agentkit.models.profile import ModelProfile
from agentkit.steering import StepView
from agentkit.steering.small import SmallModelSteering
from agentkit.steering.text_operations import (
    EXAMPLES,
    TextOperations,
    candidates,
    computed_answer,
    operand_spans,
)

SMALL = ModelProfile(n_params=270_000_000, base=True)
# The dev families whose tasks ask for an operation, and what it is.
OPERATION_FAMILIES = {
    "breadth-uppercase-word": "upper",
    "breadth-largest-number": "largest",
    "breadth-first-word": "first_word",
    "breadth3-count-listed-items": "count_items",
}


def test_operand_spans_are_quoted_and_after_colon_parts() -> None:
    spans = operand_spans("How many words does 'see you soon' have? count: a b")
    assert spans[:2] == ["see you soon", "a b"]
    assert spans[-1].startswith("How many words")


def test_candidates_apply_the_operation_to_each_operand() -> None:
    asked = {"write", "in", "capital", "letters"}
    assert candidates("upper", "Write falcon in capital letters.", asked) == ["FALCON"]
    assert candidates("smallest", "Which is smallest: 48, 12 or 30?", set()) == ["12"]
    assert candidates("sort", "sort these: pear, apple, mango", set()) == ["apple, mango, pear"]
    assert candidates("count_words", "how many words in: red green blue", set()) == ["3"]
    assert candidates("count_items", "count these: a, b and c", set()) == ["3"]
    assert candidates("last_word", "last word of 'we go home now'", set()) == ["now"]
    assert "pots" in candidates("reverse", "reverse the word stop", {"reverse", "the", "word"})
    # Two numbers at least: one number has no smallest.
    assert candidates("largest", "what is the largest of 7?", set()) == []


class FixedOperations(TextOperations):
    """Says every task asks for ``upper``; embeds nothing."""

    def __init__(self) -> None:
        super().__init__(embeddings=_NoEmbeddings())

    def operation(self, task: str) -> str | None:  # type: ignore[override]
        return "upper"


class _NoEmbeddings(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("nothing is embedded")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("nothing is embedded")


def _view(task: str, messages: Sequence[AnyMessage]) -> StepView:
    return StepView(task=task, messages=list(messages))


def test_answer_is_decoded_again_as_an_operation_result() -> None:
    task = "Write falcon in capital letters."
    steering = SmallModelSteering(SMALL, SteeringSettings(), operations=FixedOperations())
    hints = steering.reanswer(_view(task, [HumanMessage(task)]), [], "falcon")
    assert hints is not None
    choices = hints.arg_choices[FINAL_ANSWER_TOOL]["answer"]
    assert isinstance(choices, RequiredChoices)
    assert "FALCON" in choices and "falcon" not in choices
    # An answer that already is a result stays.
    assert steering.reanswer(_view(task, [HumanMessage(task)]), [], "FALCON.") is None


def test_no_computed_answer_after_a_tool_result_or_when_off() -> None:
    task = "Write falcon in capital letters."
    read = [
        HumanMessage(task),
        AIMessage("", tool_calls=[{"name": "calculator", "args": {}, "id": "1"}]),
        ToolMessage("7", tool_call_id="1"),
    ]
    assert computed_answer(FixedOperations(), task, read, "falcon") is None
    off = SteeringSettings(computed_answers=False, answer_grounding=False)
    steering = SmallModelSteering(SMALL, off, operations=FixedOperations())
    assert steering.reanswer(_view(task, [HumanMessage(task)]), [], "falcon") is None


def test_examples_mark_operands() -> None:
    # Every operation example but sort's says what it applies to in [brackets].
    for label, texts in EXAMPLES.items():
        if label in ("none", "sort"):
            continue
        assert all("[" in t for t in texts), label


def test_classifier_fires_only_on_the_operation_families(embedder: LlamaEmbedder) -> None:
    operations = TextOperations(embedder)
    fired: dict[str, list[str | None]] = {}
    wrongly: list[str] = []
    for case in builtin_cases():
        if case.split != "dev":
            continue
        operation = operations.operation(case.task)
        if case.family in OPERATION_FAMILIES:
            fired.setdefault(case.family, []).append(operation)
        elif operation is not None:
            wrongly.append(f"{case.id}: {operation}")
    assert wrongly == []
    for family, expected in OPERATION_FAMILIES.items():
        # The classifier may abstain (the model answers freely) but never
        # names another operation.
        assert set(fired[family]) <= {expected, None}, family
        assert fired[family].count(expected) >= 2, family


def test_classifier_tells_directions_apart(embedder: LlamaEmbedder) -> None:
    operations = TextOperations(embedder)
    assert operations.operation("i need the word MARKET in lower case") == "lower"
    assert operations.operation("can you make 'lantern' uppercase?") == "upper"
    assert operations.operation("pick the smaller one: 83 or 38") == "smallest"
    assert operations.operation("Which number is biggest here: 9, 4, 11?") == "largest"
    # Arithmetic and requests that name a file are not operations.
    assert operations.operation("How much smaller is 40 than 100?") is None
    assert operations.operation("10^3?") is None
    assert operations.operation("sort the lines of names.txt") is None
