"""Does a task only ask, or ask for a change? A classifier, not a word list.

A logistic regression over the bundled MiniLM embedding of the task (file
names masked: they say where, not what), fitted on the dev families of the
eval suite: a case that only asks is a question, every other case is not.
Its score reads four ways, each with a threshold chosen where leave-family-out
cross-validation on dev misjudged no case:

- :meth:`QuestionGate.only_asks` (score above ``question_above``): the tools
  that write cannot be called (the question gate of :mod:`.small`);
- :meth:`QuestionGate.asks_change` (score below ``change_below``): routing
  offers the tools that write even when no verb of change matched;
- :meth:`QuestionGate.requests` (score below ``request_below``): a task the
  patterns read as a question is a request put as one ("Could we add eggs
  to list.txt?", "How about writing done into status.txt?"), so its tools
  that write stay callable. The threshold is chosen on the dev questions the
  patterns catch, with a margin (embeddings differ a little by CPU);
- :meth:`QuestionGate.leans_question` (score above ``plain_question_above``):
  a task with no verb of change in a request only asks ("I wonder what is
  written in notes.txt"). Chosen on the dev changes without such a verb, with
  the same margin.

Otherwise it says nothing, and the English patterns of :mod:`.intent`
decide alone. The weights (``question_gate.json``) belong to one embedder;
with another (``embed_model``), there is no gate. Refit them with
``python -m agentkit.evals.question_training`` (docs/evals.md).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field

from agentkit.steering.grounding import mentioned_paths, mentioned_urls

GATE_FILE = Path(__file__).with_name("question_gate.json")
MAX_SCORED = 512  # tasks whose score is kept


class GateWeights(BaseModel):
    """The fitted classifier and where it came from."""

    model_config = ConfigDict(extra="forbid")
    embedder: str = Field(description="The embedder the weights belong to (embed_model).")
    question_above: float
    change_below: float
    request_below: float | None = Field(
        None,
        description="Below it, a task the English patterns read as a question is a request "
        "put as one; None: the patterns decide.",
    )
    plain_question_above: float | None = Field(
        None,
        description="Above it, a task with no verb of change in a request only asks; "
        "None: only question_above gates.",
    )
    bias: float
    weights: list[float]
    fitted_on: str = Field(description="Which cases, how many, and the cross-validation figures.")


def masked(task: str) -> str:
    """``task`` with its file names and URLs replaced by "the file"."""
    for name in sorted({*mentioned_urls(task), *mentioned_paths(task)}, key=len, reverse=True):
        task = task.replace(name, "the file")
    return task


def load_weights(path: Path = GATE_FILE) -> GateWeights:
    return GateWeights.model_validate(json.loads(path.read_text(encoding="utf-8")))


class QuestionGate:
    """Scores tasks with :class:`GateWeights` over ``embeddings``."""

    def __init__(self, embeddings: Embeddings, weights: GateWeights) -> None:
        self.embeddings = embeddings
        self.weights = weights
        self._scores: dict[str, float] = {}

    @classmethod
    def bundled(cls, embeddings: Embeddings) -> QuestionGate | None:
        """The shipped gate, or None when ``embeddings`` is not its embedder."""
        from agentkit.models.embedder import embedder_info

        weights = load_weights()
        if embedder_info(embeddings).name != weights.embedder:
            return None
        return cls(embeddings, weights)

    def score(self, task: str) -> float:
        """Above 0: more like a question; below: more like a request for a change."""
        if task not in self._scores:
            if len(self._scores) >= MAX_SCORED:
                self._scores.clear()
            vector = self.embeddings.embed_query(masked(task))
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            dot = sum(w * v for w, v in zip(self.weights.weights, vector, strict=True))
            self._scores[task] = dot / norm + self.weights.bias
        return self._scores[task]

    def only_asks(self, task: str) -> bool:
        return self.score(task) > self.weights.question_above

    def asks_change(self, task: str) -> bool:
        return self.score(task) < self.weights.change_below

    def leans_question(self, task: str) -> bool:
        above = self.weights.plain_question_above
        return above is not None and self.score(task) > above

    def requests(self, task: str) -> bool:
        below = self.weights.request_below
        return below is not None and self.score(task) < below
