"""Small-model steering: what makes a 270M base model do the task.

A 270M base model cannot weigh a dozen tools or invent a path, but it can
continue a pattern among a few choices. :class:`SmallModelSteering` holds
the techniques, each switchable in ``[steering]`` (``agentkit eval``
measures them one by one; docs/evals.md has the figures):

- **routing**: only the tools that fit the task are offered (:mod:`.routing`);
- **worked examples** of those tools before the task (:mod:`.exemplars`);
- **grounded arguments**: arguments may only take grounded values, through
  the grammar (:mod:`.arguments`);
- **step routing**: the request still to do leans the next step to its tool
  or requires it (:mod:`.step`); copy and avoid biases (:mod:`.focus`);
- **observation cue**: after each tool result, a line that makes answering
  from it the likely next move (or names the request still to do);
- **answer on repeat** and a tidy, bounded answer (:mod:`.answers`);
- **grounded answers**: an answer that miscopies the result it read is
  decoded again as a span of it (:mod:`.answer_spans`);
- **named file first**: a task that names an existing file starts with a
  tool that acts on it;
- **typed retries**: an edit refused only because its text is not unique
  is proposed again with ``replace_all`` (:mod:`.retries`);
- **computed answers**: a task that asks for a text operation and reads
  nothing is answered with one of the operation's results
  (:mod:`.text_operations`).

The act prompt only ever grows at its end (plan notes and cues sit where
they were first shown), so each step evaluates just its new tokens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AnyMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentkit.config import SteeringSettings
from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.models.grammar import ArgChoices, Omitted
from agentkit.models.hints import DecodeHints
from agentkit.models.profile import ModelProfile
from agentkit.models.prompt import tools_instruction
from agentkit.steering.answer_spans import regrounded_answer
from agentkit.steering.answers import tidy_answer
from agentkit.steering.appends import unnamed_replacement
from agentkit.steering.arguments import (
    arg_choices,
    differing_call,
    echoed_overwrite,
    mentions,
    names_existing_file,
    names_only_new_files,
    reads_only_files,
    uncallable,
    unfounded_overwrite,
    unnamed_overwrite,
    works_on_task,
    writes_over_a_file,
)
from agentkit.steering.echoes import echoed_name
from agentkit.steering.examples import ToolExample
from agentkit.steering.exemplars import (
    ExampleChooser,
    choice_examples,
    example_values,
    exemplar_messages,
    first_example,
)
from agentkit.steering.field_edits import FIELD_TOOL, field_bias, key_edit
from agentkit.steering.focus import copy_text, grounding_text
from agentkit.steering.grounding import one_listing
from agentkit.steering.insert_places import InsertPlaces, pinned_args, placed_insertion
from agentkit.steering.intent import asks_for_change, only_asks, requests_of
from agentkit.steering.line_places import LinePlaces, last_line_read
from agentkit.steering.question_gate import QuestionGate
from agentkit.steering.retries import EDIT_TOOL, replace_all_retry
from agentkit.steering.routing import ToolRouter
from agentkit.steering.sources import sources_first
from agentkit.steering.step import (
    CHANGE_PENDING_BIAS,
    changed,
    must_call,
    run_start,
    step_bias,
    writer_names,
)
from agentkit.steering.text_operations import TextOperations, computed_answer
from agentkit.steering.view import RouteRecord, StepView
from agentkit.tools.base import side_effects_of

# A task that names something a tool acts on (an existing file for
# read_file, a new one for write_file, a URL) is about that tool: its routing
# score gets this much.
MENTION_BOOST = 0.15
# Against a first step that cannot act on the existing file a task names
# (a logit bias on the tool's name).
NAMED_FILE_PENALTY = 5.0
# Routing scores become a logit bias on the first act step's tool name:
# the model still chooses, with the router's view as a prior.
BIAS_SCALE = 20.0
MAX_CHOSEN = 512  # (task, tool) worked-example picks kept
# After each observation: a small model's likeliest next move should be to
# answer from it, not to repeat the call.
OBSERVATION_CUE = "If this result answers the task, call final_answer with the answer now."
# Instead, when the task asks for more than this step did ("Read numbers.txt
# and multiply the two numbers"): the request still to do.
NEXT_REQUEST_CUE = "Next: {request}"


@dataclass
class SmallModelSteering:
    """The techniques for a small model, and what they need."""

    profile: ModelProfile
    settings: SteeringSettings = field(default_factory=SteeringSettings)
    router: ToolRouter | Callable[[], ToolRouter] | None = None
    """Ranks tools for a task; a factory is called on first use (it loads
    the embedder). None: no routing."""
    gate: QuestionGate | Callable[[], QuestionGate | None] | None = None
    """Tells questions from requests for a change (:mod:`.question_gate`); a
    factory is called on first use. None: the English patterns alone."""
    operations: TextOperations | Callable[[], TextOperations] | None = None
    """Says which text operation a task asks for (:mod:`.text_operations`);
    a factory is called on first use. None: answers are not computed."""
    places: LinePlaces | Callable[[], LinePlaces] | None = None
    """Says whether a question asks for a file's last line
    (:mod:`.line_places`); a factory is called on first use. None: reads
    keep the range the model gives."""
    insertions: InsertPlaces | Callable[[], InsertPlaces] | None = None
    """Says where a change puts the lines it adds (:mod:`.insert_places`); a
    factory is called on first use. None: added lines stay where the model
    put them."""
    _chosen: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    @property
    def answer_max_chars(self) -> int | None:
        return self.settings.answer_max_chars

    @property
    def answer_on_repeat(self) -> bool:
        return self.settings.answer_on_repeat

    def tidy(self, answer: str) -> str:
        return tidy_answer(answer)

    def vet(self, tool: BaseTool, args: Mapping[str, Any], task: str) -> str | None:
        if not self.settings.grounded_arguments:
            return None
        return (
            unnamed_overwrite(tool, args, task)
            or echoed_overwrite(tool, args, task)
            or unfounded_overwrite(tool, args, task)
        )

    # --- intent ------------------------------------------------------------------
    def _question_gate(self) -> QuestionGate | None:
        if self.gate is not None and not isinstance(self.gate, QuestionGate):
            self.gate = self.gate()
        return self.gate

    def only_asks(self, task: str) -> bool:
        """Whether ``task`` only asks: the classifier is sure of it; or its
        sentences are all questions and the classifier does not read it as
        a request put as a question ("Could we add eggs to list.txt?": the
        patterns know only "can you ..." and made that task impossible); or
        no verb of change is requested and the classifier leans to a
        question ("I wonder what is written in notes.txt")."""
        gate = self._question_gate()
        if gate is None:
            return only_asks(task)
        if gate.only_asks(task):
            return True
        if only_asks(task):
            return not gate.requests(task)
        return not asks_for_change(task) and gate.leans_question(task)

    def asks_for_change(self, task: str) -> bool:
        """Whether ``task`` asks for a change: a verb of change in a request,
        or the classifier is sure of it."""
        gate = self._question_gate()
        return asks_for_change(task) or (gate is not None and gate.asks_change(task))

    # --- routing -----------------------------------------------------------------
    def route(self, task: str, tools: Sequence[BaseTool]) -> RouteRecord:
        """The tools to offer for ``task`` (all of them without routing) and
        the routing prior over them. The router also ranks ``final_answer``
        (by requests answered without a tool); it is always offered. A task
        of several requests that want different tools gets a prior per step:
        after reading numbers.txt, "multiply them" wants the calculator, not
        an answer."""
        names = [t.name for t in tools]
        if self.router is None or not self.settings.tool_routing or not task:
            return RouteRecord(offered=names, bias={}, later=[])
        if not self.asks_for_change(task):
            tools = [t for t in tools if "write" not in side_effects_of(t)]
            names = [t.name for t in tools]
        scores = self._scores(task, tools)
        ranked = sorted((n for n in names if n in scores), key=lambda n: -scores[n])
        kept = set(ranked[: self.settings.routing_top_k])
        later: list[dict[str, float]] = []
        parts = requests_of(task)
        if len(parts) > 1:
            part_scores = [self._scores(part, tools) for part in parts]
            tops = [max(ps, key=ps.__getitem__) for ps in part_scores]
            if len(set(tops)) > 1:
                kept |= {top for top in tops if top in names}
                later = [_bias(ps, kept, pending=True) for ps in part_scores[1:]]
        offered = [n for n in names if n in kept]
        return RouteRecord(offered=offered, bias=_bias(scores, kept), later=later)

    def _router(self) -> ToolRouter:
        if not isinstance(self.router, ToolRouter):
            assert self.router is not None
            self.router = self.router()
        return self.router

    def _scores(self, text: str, tools: Sequence[BaseTool]) -> dict[str, float]:
        scores = self._router().scores(text)
        for tool in tools:
            if mentions(tool, text):
                scores[tool.name] = scores.get(tool.name, 0.0) + MENTION_BOOST
        return scores

    # --- decoding hints -------------------------------------------------------------
    # Each walks the workspace once however many groundings it asks (a
    # step had walked the workspace 24 times).
    @one_listing()
    def hints(self, view: StepView, offered: Sequence[BaseTool]) -> DecodeHints:
        """Grounded argument values, the tool the step must call, the prior
        on its tool name, and what to copy and not to copy."""
        # Words a small model should not copy into a call: the worked
        # examples' values, or without them the tool instructions it echoes.
        avoid = ""
        if self.settings.avoid_bias:
            avoid = (
                self.example_words(view.task, offered)
                if self.settings.worked_examples
                else tools_instruction([convert_to_openai_tool(t) for t in offered], "required")
            )
        settings = self.settings
        # A whole file is replaced only on a request for a change: "I wonder
        # what is written in notes.txt" is neither a plain question nor one.
        change = self.asks_for_change(view.task)
        rewrite = settings.rewrite_named_files and change
        choices = (
            arg_choices(
                offered,
                grounding_text(view),
                settings.content_grounding,
                view.task,
                rewrite,
                # Only a question reads a whole file for the line it points to.
                whole_reads=not change,
                change=change,
            )
            if settings.grounded_arguments
            else {}
        )
        if settings.grounded_arguments and settings.sources_first:
            choices = sources_first(offered, view.task, view.messages, choices)
        if settings.grounded_arguments and settings.line_places and not change:
            choices = self._last_line_read(view.task, offered, choices)
        if settings.question_gate and self.only_asks(view.task):
            # A question changes nothing, whatever verbs it holds: the tools
            # that write stay described but cannot be called.
            writers = [t for t in offered if "write" in side_effects_of(t)]
            choices = {**choices, **uncallable(writers)}
        required = must_call(view, offered) if settings.step_routing else None
        retry = (
            replace_all_retry(view.messages, offered)
            if settings.grounded_arguments and settings.typed_retries
            else None
        )
        if retry is not None:
            choices, required = {**choices, EDIT_TOOL: retry}, EDIT_TOOL
        bias = step_bias(view, offered) if settings.step_routing else {}
        if settings.grounded_arguments and settings.named_file_first and view.steps == 0:
            bias = self._named_file_bias(view.task, offered, bias)
        if settings.grounded_arguments and settings.new_file_first and view.steps == 0:
            bias = self._new_file_bias(view.task, offered, bias)
        if settings.grounded_arguments and settings.set_fields and view.steps == 0 and change:
            bias = field_bias(offered, view.task, bias)
        return DecodeHints(
            arg_choices=choices,
            required_tool=required,
            tool_bias=bias,
            copy_from=copy_text(view),
            # An instruct model copies by itself; the bonus made SmolLM2-135M
            # Instruct write '}}</tool_call>' into its arguments.
            copy_bias=self.settings.copy_bias if self.profile.base else 0.0,
            avoid_from=avoid,
            avoid_bias=self.settings.avoid_bias if avoid else 0.0,
        )

    def _last_line_read(
        self,
        task: str,
        offered: Sequence[BaseTool],
        choices: dict[str, dict[str, ArgChoices]],
    ) -> dict[str, dict[str, ArgChoices]]:
        if self.places is None:
            return choices
        if not isinstance(self.places, LinePlaces):
            self.places = self.places()
        return last_line_read(self.places, task, offered, choices)

    def _named_file_bias(
        self, task: str, offered: Sequence[BaseTool], bias: dict[str, float]
    ) -> dict[str, float]:
        """``bias`` less :data:`NAMED_FILE_PENALTY` for each tool that cannot
        act on the existing file ``task`` names (and for answering without
        reading it): "due date? (notes.txt)" called current_time, and "who
        is the owner in LICENSE?" searched the ingested documents."""
        if not names_existing_file(offered, task):
            return bias
        working = {t.name for t in offered if works_on_task(t, task)}
        names = [*(t.name for t in offered), FINAL_ANSWER_TOOL]
        return {
            name: bias.get(name, 0.0) - (0.0 if name in working else NAMED_FILE_PENALTY)
            for name in names
        }

    def _new_file_bias(
        self, task: str, offered: Sequence[BaseTool], bias: dict[str, float]
    ) -> dict[str, float]:
        """``bias`` less :data:`NAMED_FILE_PENALTY` for each tool that only
        reads an existing file, when the task asks for a change and names
        only files to make: beside three unrelated files, the 270M model read
        todo.txt for "pets.txt: cat, dog, parrot (one per line)" and answered
        with its text. A question ("what is in pets.txt?") may still read."""
        if not names_only_new_files(offered, task) or self.only_asks(task):
            return bias
        readers = {t.name for t in offered if reads_only_files(t)}
        return {**bias, **{name: bias.get(name, 0.0) - NAMED_FILE_PENALTY for name in readers}}

    @one_listing()
    def reanswer(
        self, view: StepView, offered: Sequence[BaseTool], answer: str
    ) -> DecodeHints | None:
        """Hints to decode the final ``answer`` again with, when a word of
        it miscopies the result it answers from (:mod:`.answer_spans`), else
        None."""
        settings = self.settings
        if not settings.grounded_arguments:
            return None
        if settings.computed_answers and self.operations is not None:
            if not isinstance(self.operations, TextOperations):
                self.operations = self.operations()
            computed = computed_answer(self.operations, view.task, view.messages, answer)
            if computed is not None:
                return DecodeHints(arg_choices={FINAL_ANSWER_TOOL: computed})
        if not settings.answer_grounding:
            return None
        choices = regrounded_answer(view.task, view.messages, offered, answer)
        if choices is None:
            return None
        return DecodeHints(arg_choices={FINAL_ANSWER_TOOL: choices})

    @one_listing()
    def redecode(
        self, view: StepView, offered: Sequence[BaseTool], call: ToolCall
    ) -> DecodeHints | None:
        """Hints to decode ``call`` again with when it sets an argument to
        the value it must differ from (:data:`DIFFERING_ARGS`): the others
        are kept and the grammar rules the value out; or when it replaces a
        word the task never names with the task's words
        (:func:`~agentkit.steering.appends.unnamed_replacement`): then as an
        append; or when a new file's text names the file it writes
        (:func:`~agentkit.steering.echoes.echoed_name`): then without those
        words."""
        if not self.settings.grounded_arguments:
            return None
        # Only for a change the classifier is sure of, as the lean: a question
        # that edits a key is better refused than turned into a setting.
        if self.settings.set_fields and self.asks_for_change(view.task):
            setting = key_edit(call["name"], call["args"], offered, view.task)
            if setting is not None:
                return DecodeHints(arg_choices={FIELD_TOOL: setting}, required_tool=FIELD_TOOL)
        if self.settings.echoed_names:
            exists = writes_over_a_file(offered, call["name"], call["args"])
            echo = echoed_name(call["name"], call["args"], view.task, exists)
            if echo is not None:
                return echo
        choices = differing_call(call["name"], call["args"])
        if choices is None and self.settings.append_unnamed_replacements:
            choices = unnamed_replacement(call["name"], call["args"], view.task, offered)
        if self.settings.insert_places:
            # Where the added lines go, for the call as the model made it or
            # as it is about to be made again (an unnamed word's replacement
            # becomes an append, which the task may want at the top).
            fixed = pinned_args(choices) if choices is not None else call["args"]
            choices = self._placed_insertion(view.task, offered, call["name"], fixed) or choices
        if choices is None:
            return None
        # What the call left out stays out: decoded again, the 270M model
        # added edit_file's replace_all; in a re-decode tried with replace_all
        # pinned it wrote patch as "dog_patch_patch_…", which the tool applies
        # instead of the two texts.
        tool = next((t for t in offered if t.name == call["name"]), None)
        names = list(tool.args) if tool is not None else []
        left_out = {name: Omitted() for name in names if name not in call["args"]}
        return DecodeHints(arg_choices={call["name"]: {**left_out, **choices}})

    def _placed_insertion(
        self, task: str, offered: Sequence[BaseTool], tool: str, args: Mapping[str, Any] | None
    ) -> dict[str, ArgChoices] | None:
        """None for a call whose arguments are not all known (``args`` None:
        a re-decode that leaves one free)."""
        # The model chose to add lines; where they go is asked of any task
        # that is not only a question (whose writers are not callable).
        if args is None or self.insertions is None or self.only_asks(task):
            return None
        if not isinstance(self.insertions, InsertPlaces):
            self.insertions = self.insertions()
        return placed_insertion(self.insertions, task, tool, args, offered)

    # --- worked examples ----------------------------------------------------------------
    def example_chooser(self, task: str) -> ExampleChooser:
        """Picks, of a tool's worked examples, the one whose request is most
        like ``task`` (the first one without routing)."""
        if self.router is None or not self.settings.tool_routing or not task:
            return first_example

        def choose(tool: BaseTool, worked: list[ToolExample]) -> ToolExample:
            if len(worked) == 1:
                return worked[0]
            key = (task, tool.name)
            if key not in self._chosen:
                if len(self._chosen) > MAX_CHOSEN:
                    self._chosen.clear()
                self._chosen[key] = self._router().closest(task, [e["request"] for e in worked])
            return worked[self._chosen[key]]

        return choose

    def example_words(self, task: str, tools: Sequence[BaseTool]) -> str:
        """What the worked examples shown for ``task`` hold (not to be copied)."""
        return example_values(tools, self.example_chooser(task))

    # --- the act prompt ---------------------------------------------------------------
    def prompt(self, system: str, view: StepView, offered: Sequence[BaseTool]) -> list[AnyMessage]:
        """System text, worked examples, then the transcript with the plan
        notes where the plan changed and a cue after each observation."""
        examples = self.settings.worked_examples
        if examples and self.settings.example_style == "choices":
            system = f"{system}\n\n{choice_examples(offered)}"
        prompt: list[AnyMessage] = [SystemMessage(system)]
        if examples and self.settings.example_style == "episodes":
            chooser = self.example_chooser(view.task)
            prompt += self._with_cues(exemplar_messages(offered, chooser))
        notes: dict[int, list[str]] = defaultdict(list)
        for after, text in view.notes:
            notes[after].append(text)
        prompt.extend(SystemMessage(text) for text in notes[0])
        messages = view.messages
        # A task of several requests routed to different tools: after each
        # step of this run, the cue names the request still to do.
        stepping = self.settings.step_routing
        routed_later = stepping and bool(view.route and view.route["later"])
        requests = requests_of(view.task)[1:] if routed_later else []
        start = run_start(messages, view.task)
        # A task that asks for a change is not done when a read succeeds:
        # after reading config.json the 270M model answered "config.json".
        writers = writer_names(offered)
        unchanged = stepping and bool(writers) and self.asks_for_change(view.task)
        done = 0
        for position, message in enumerate(messages, start=1):
            cue = OBSERVATION_CUE
            if position > start:
                unchanged = unchanged and not changed(message, writers)
                if done < len(requests):
                    cue = NEXT_REQUEST_CUE.format(request=requests[done])
                elif unchanged:
                    cue = NEXT_REQUEST_CUE.format(request=view.task)
            following = messages[position : position + 1]
            cued = self._with_cues([message], following=following, cue=cue)
            done += position > start and len(cued) > 1
            prompt += cued
            prompt.extend(SystemMessage(text) for text in notes[position])
        return prompt

    def _with_cues(
        self,
        messages: Sequence[AnyMessage],
        following: Sequence[AnyMessage] = (),
        cue: str = OBSERVATION_CUE,
    ) -> list[AnyMessage]:
        """``messages`` with the cue after each last tool result of a step
        (not after ``final_answer``'s)."""
        if not self.settings.observation_cue:
            return list(messages)
        out: list[AnyMessage] = []
        sequence = [*messages, *following]
        for index, message in enumerate(messages):
            out.append(message)
            after = sequence[index + 1] if index + 1 < len(sequence) else None
            if (
                isinstance(message, ToolMessage)
                and message.name != FINAL_ANSWER_TOOL
                and not isinstance(after, ToolMessage)
            ):
                out.append(SystemMessage(cue))
        return out


def _bias(scores: dict[str, float], offered: set[str], pending: bool = False) -> dict[str, float]:
    """The routing prior: 0 for the best tool, less for the others. For a
    request still to do (``pending``) that wants a tool, answering costs at
    least :data:`CHANGE_PENDING_BIAS` (after reading prices.json the model
    answered "Double it." instead of doubling)."""
    priced = [*offered, FINAL_ANSWER_TOOL]
    best = max(scores.get(n, 0.0) for n in priced)
    bias = {n: BIAS_SCALE * (scores.get(n, best) - best) for n in sorted(priced)}
    if pending and bias[FINAL_ANSWER_TOOL] < 0:
        bias[FINAL_ANSWER_TOOL] = min(bias[FINAL_ANSWER_TOOL], -CHANGE_PENDING_BIAS)
    return bias
