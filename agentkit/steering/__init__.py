"""Small-model steering, behind one typed interface.

The agent graph asks its :class:`Steering` four things at each run and step:
which tools to offer for a task (:meth:`~Steering.route`), the act prompt
(:meth:`~Steering.prompt`), the decoding hints for a step
(:meth:`~Steering.hints`: argument choices, a required tool, biases), whether
a final answer or a call is decoded again (:meth:`~Steering.reanswer`,
:meth:`~Steering.redecode`) and the final
answer as the user should see it (:meth:`~Steering.tidy`).

:func:`steering_for` picks the implementation once, from the model actually
built: :class:`~agentkit.steering.small.SmallModelSteering` for a small
in-process model (agentkit.models.profile decides "small"), and
:class:`NoSteering` for every other model, which gets the framework without
the 270M workarounds (all tools, no examples or cues, free arguments, its
answer byte for byte). The ``[steering]`` settings switch each technique.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from langchain_core.embeddings import Embeddings
from langchain_core.messages import AnyMessage, SystemMessage, ToolCall
from langchain_core.tools import BaseTool

from agentkit.config import SteeringSettings
from agentkit.models.hints import DecodeHints
from agentkit.models.profile import ModelProfile, model_profile
from agentkit.steering.view import RouteRecord, StepView

__all__ = [
    "DecodeHints",
    "NoSteering",
    "RouteRecord",
    "StepView",
    "Steering",
    "steering_for",
    "uses_steering",
]


class Steering(Protocol):
    """What the agent graph asks of steering."""

    @property
    def answer_max_chars(self) -> int | None:
        """A bound on the final answer's length (None: unbounded)."""
        ...

    @property
    def answer_on_repeat(self) -> bool:
        """Whether a call repeating the previous step's successful one means
        the model is done (it is asked for the answer instead)."""
        ...

    def route(self, task: str, tools: Sequence[BaseTool]) -> RouteRecord: ...

    def prompt(
        self, system: str, view: StepView, offered: Sequence[BaseTool]
    ) -> list[AnyMessage]: ...

    def hints(self, view: StepView, offered: Sequence[BaseTool]) -> DecodeHints: ...

    def tidy(self, answer: str) -> str: ...

    def reanswer(
        self, view: StepView, offered: Sequence[BaseTool], answer: str
    ) -> DecodeHints | None:
        """Hints to decode a final ``answer`` once more with (it miscopied
        what it answers from), or None: it stands."""
        ...

    def redecode(
        self, view: StepView, offered: Sequence[BaseTool], call: ToolCall
    ) -> DecodeHints | None:
        """Hints to decode ``call`` once more with (as it stands it can only
        fail, or do harm), or None: it stands. The same tool is decoded
        again unless the hints' ``required_tool`` names another."""
        ...

    def vet(self, tool: BaseTool, args: Mapping[str, Any], task: str) -> str | None:
        """Why this call may not run (the error the model is shown, and the
        loop goes on), or None."""
        ...


class NoSteering:
    """For capable models: every tool, the transcript as it is, no hints,
    the answer untouched."""

    answer_max_chars: int | None = None
    answer_on_repeat = False

    def route(self, task: str, tools: Sequence[BaseTool]) -> RouteRecord:
        return RouteRecord(offered=[t.name for t in tools], bias={}, later=[])

    def prompt(self, system: str, view: StepView, offered: Sequence[BaseTool]) -> list[AnyMessage]:
        notes: dict[int, list[str]] = {}
        for after, text in view.notes:
            notes.setdefault(after, []).append(text)
        prompt: list[AnyMessage] = [SystemMessage(system)]
        prompt.extend(SystemMessage(text) for text in notes.get(0, ()))
        for position, message in enumerate(view.messages, start=1):
            prompt.append(message)
            prompt.extend(SystemMessage(text) for text in notes.get(position, ()))
        return prompt

    def hints(self, view: StepView, offered: Sequence[BaseTool]) -> DecodeHints:
        return DecodeHints()

    def tidy(self, answer: str) -> str:
        return answer

    def reanswer(
        self, view: StepView, offered: Sequence[BaseTool], answer: str
    ) -> DecodeHints | None:
        return None

    def redecode(
        self, view: StepView, offered: Sequence[BaseTool], call: ToolCall
    ) -> DecodeHints | None:
        return None

    def vet(self, tool: BaseTool, args: Mapping[str, Any], task: str) -> str | None:
        return None


def uses_steering(profile: ModelProfile, settings: SteeringSettings) -> bool:
    """Whether small-model steering applies: ``mode`` on or tuned, or auto
    and small."""
    return settings.mode in ("on", "tuned") or (settings.mode == "auto" and profile.small)


def uses_tuned_preset(profile: ModelProfile, settings: SteeringSettings) -> bool:
    """Whether the preset for tuned models applies: ``mode = "tuned"``, or
    auto with an adapter trained on agentkit's episodes."""
    return settings.mode == "tuned" or (settings.mode == "auto" and profile.tuned)


def describe_steering(profile: ModelProfile, settings: SteeringSettings) -> str:
    """One line for ``agentkit doctor``: which steering a run gets, and why."""
    if not uses_steering(profile, settings):
        which = "off"
    elif uses_tuned_preset(profile, settings):
        which = "small-model steering, the preset for tuned models"
    else:
        which = "small-model steering on"
    return f"{which} ({profile.describe()}; steering.mode={settings.mode})"


def tuned_preset(settings: SteeringSettings) -> SteeringSettings:
    """Steering for a small model tuned on agentkit's episodes (its adapter
    says so, or ``mode = "tuned"``): it learnt which tool fits and when to
    answer, so every tool is offered (routing's top 4 left out the right
    first tool of 24% of held-out tasks), without worked examples, step rules
    or copy biases; the groundings of where it may act stay (existing paths,
    named destinations, keys, the lines and words an edit may replace, URLs
    and commands the task writes), and the answer is still bounded and
    tidied. A request for a change may rewrite a file it names whole: the
    tuned model then chose a whole-file write for "Overwrite F so that it
    reads ..." and still edited for every other change of the dev families.
    The prompts it was trained on were rendered with this preset."""
    return settings.model_copy(
        update={
            "tool_routing": False,
            "worked_examples": False,
            "step_routing": False,
            "content_grounding": False,
            "rewrite_named_files": True,
            "copy_bias": 0.0,
            "avoid_bias": 0.0,
        }
    )


def steering_for(
    model: object,
    settings: SteeringSettings,
    embeddings: Callable[[], Embeddings] | None = None,
    tools: Sequence[BaseTool] = (),
) -> Steering:
    """The steering for ``model`` (decided from the model itself).
    ``embeddings`` (called on first use) and ``tools`` feed tool routing."""
    profile = model_profile(model)
    if not uses_steering(profile, settings):
        return NoSteering()
    if uses_tuned_preset(profile, settings):
        settings = tuned_preset(settings)
    from agentkit.steering.insert_places import InsertPlaces
    from agentkit.steering.line_places import LinePlaces
    from agentkit.steering.question_gate import QuestionGate
    from agentkit.steering.routing import ToolRouter
    from agentkit.steering.small import SmallModelSteering
    from agentkit.steering.text_operations import TextOperations

    router: Callable[[], ToolRouter] | None = None
    gate: Callable[[], QuestionGate | None] | None = None
    operations: Callable[[], TextOperations] | None = None
    if embeddings is not None and settings.tool_routing:
        make_embeddings = embeddings

        def router() -> ToolRouter:
            return ToolRouter(make_embeddings(), tools)

    if embeddings is not None and settings.intent_classifier:
        embedder = embeddings

        def gate() -> QuestionGate | None:
            return QuestionGate.bundled(embedder())

    if embeddings is not None and settings.computed_answers:
        operation_embedder = embeddings

        def operations() -> TextOperations:
            return TextOperations(operation_embedder())

    places: Callable[[], LinePlaces] | None = None
    if embeddings is not None and settings.line_places:
        places_embedder = embeddings

        def places() -> LinePlaces:
            return LinePlaces(places_embedder())

    insertions: Callable[[], InsertPlaces] | None = None
    if embeddings is not None and settings.insert_places:
        insertions_embedder = embeddings

        def insertions() -> InsertPlaces:
            return InsertPlaces(insertions_embedder())

    return SmallModelSteering(
        profile=profile,
        settings=settings,
        router=router,
        gate=gate,
        operations=operations,
        places=places,
        insertions=insertions,
    )
