"""How the loop narrows and guides the model at each act step.

A 270M base model cannot weigh a dozen tools or invent a path, but it can
continue a pattern among a few choices. :class:`Steering` holds the
techniques that make it useful, each switchable (``agentkit eval`` measures
them one by one; docs/evals.md has the figures):

- **routing**: only the tools that fit the task are offered (:mod:`.routing`);
- **worked examples** of those tools before the task (:mod:`.exemplars`);
- **grounded arguments**: path arguments may only name real files
  (``agentkit.tools.grounding``), through the grammar;
- **observation cue**: after each tool result, a line that makes answering
  from it the likely next move;
- **answer on repeat**: a call that repeats the previous step's successful
  call means the model is done; it is asked for the final answer instead.

The act prompt is built here too. It only ever grows at its end (plan notes
and cues sit where they were first shown), so each step evaluates just its
new tokens.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.graphs import prompts as P
from agentkit.graphs.exemplars import (
    ExampleChooser,
    choice_examples,
    example_values,
    exemplar_messages,
    first_example,
)
from agentkit.graphs.routing import ToolRouter
from agentkit.graphs.state import AgentState, PlanNote
from agentkit.tools.base import ArgChoices, ToolExample, choices_of, mentions_of, side_effects_of
from agentkit.tools.memory import PASSAGES_HEADER

RECENT_OBSERVATIONS = 3  # observations whose text may name a path to write
# A task that names something a tool acts on (an existing file for
# read_file, a new one for write_file, a URL) is about that tool: its routing
# score gets this much.
MENTION_BOOST = 0.15
# Routing scores become a logit bias on the first act step's tool name:
# the model still chooses, with the router's view as a prior.
BIAS_SCALE = 20.0
# Against answering before a change the task asks for was made (routed runs).
CHANGE_PENDING_BIAS = 5.0
# How far below the best tool routing may rank a writing tool for a task
# asking for a change to be made with it after a read (0.1 of similarity).
WRITE_NEAR = 2.0
MAX_CHOSEN = 512  # (task, tool) worked-example picks kept
# Words that ask for a change. A task without one only asks something, and a
# small model offered write_file for "What's the first line of poem.txt?"
# overwrites poem.txt: routing does not offer tools that write for it.
CHANGE_INTENT = re.compile(
    r"\b(?:(?:re|over)?writ|creat|sav|append|add(?:s|ed|ing)?\b|edit(?!or)|chang|updat|replac"
    r"|delet|remov|renam|cop(?:y|ies|ied)|move|make|put|fix|insert|touch|record|rememb"
    r"|stor(?:e|es|ing)\b|memori[sz]|bump|increment|modif|correct|sort|fill|clear|empty"
    r"|erase|duplicat|dedup|alphabeti[sz]|cp\b|mv\b|back ?up|keep|jot|note (?:that|down|this)"
    r"|(?:take|make) a note"
    r"|turn|switch|set\b.*\bto\b)",
    re.IGNORECASE,
)


def asks_for_change(task: str) -> bool:
    """Whether ``task`` asks for something to be written or changed."""
    return CHANGE_INTENT.search(task) is not None


# Where a task joins two requests ("Read numbers.txt and multiply the two
# numbers", "count the lines, then write the count to count.txt").
CLAUSE_BREAK = re.compile(
    r"\s*(?:,\s*and then|,\s*then|\band then|\bthen|;|,\s*and|\band)\s+", re.I
)
MAX_CLAUSES = 3


# A clause that asks for the answer, not for another action ("..., then tell
# me my locker code", "and nothing else").
ANSWER_CLAUSE = re.compile(
    r"^(?:tell|report|say|show|give|let me know|print|explain|answer|reply|cite|nothing|just)\b",
    re.IGNORECASE,
)


def requests_of(task: str) -> list[str]:
    """The clauses of ``task`` that ask for an action (the first always)."""
    parts = clauses(task)
    return parts[:1] + [p for p in parts[1:] if not ANSWER_CLAUSE.match(p)]


def clauses(task: str) -> list[str]:
    """``task`` split where it joins requests; a side of fewer than two words
    ("add 1250 and 3775") is not a request of its own."""
    for match in CLAUSE_BREAK.finditer(task):
        head, rest = task[: match.start()].strip(), task[match.end() :].strip()
        if len(head.split()) >= 2 and len(rest.split()) >= 2:
            return [head, *clauses(rest)][:MAX_CLAUSES]
    return [task.strip()]


@dataclass(frozen=True)
class Route:
    offered: list[str]  # tool names, in the tools' order
    bias: dict[str, float]  # per offered name (final_answer included), <= 0
    # The prior for each step after the first, when the task is several
    # requests that want different tools (one entry per later request).
    later: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Steering:
    """The techniques, and what they need. The defaults suit any model; the
    :class:`~agentkit.agent.Agent` turns routing and worked examples on for
    small models (settings ``tool_routing``, ``worked_examples``)."""

    router: ToolRouter | Callable[[], ToolRouter] | None = None
    """Ranks tools for a task; a factory is called on first use (it loads the
    embedder)."""
    top_k: int = 4
    worked_examples: bool = False
    example_style: Literal["episodes", "choices"] = "episodes"
    grounded_arguments: bool = True
    small_model: bool = False
    """Also apply the choices that only a small model needs (numbers in
    calculator expressions, URLs from the text)."""
    observation_cue: bool = True
    answer_on_repeat: bool = True
    answer_max_chars: int = 800
    _chosen: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    def route(self, task: str, tools: Sequence[BaseTool]) -> Route:
        """The tools to offer for ``task`` (all of them without routing) and
        the routing prior over them. The router also ranks ``final_answer``
        (by requests answered without a tool); it is always offered. A task
        of several requests that want different tools gets a prior per step:
        after reading numbers.txt, "multiply them" wants the calculator, not
        an answer."""
        names = [t.name for t in tools]
        if self.router is None or not task:
            return Route(names, {})
        if not asks_for_change(task):
            tools = [t for t in tools if "write" not in side_effects_of(t)]
            names = [t.name for t in tools]
        scores = self._scores(task, tools)
        ranked = sorted((n for n in names if n in scores), key=lambda n: -scores[n])
        kept = set(ranked[: self.top_k])
        later: list[dict[str, float]] = []
        parts = requests_of(task)
        if len(parts) > 1:
            part_scores = [self._scores(part, tools) for part in parts]
            tops = [max(ps, key=ps.__getitem__) for ps in part_scores]
            if len(set(tops)) > 1:
                kept |= {top for top in tops if top in names}
                later = [self._bias(ps, kept, pending=True) for ps in part_scores[1:]]
        offered = [n for n in names if n in kept]
        return Route(offered, self._bias(scores, kept), later)

    def _scores(self, text: str, tools: Sequence[BaseTool]) -> dict[str, float]:
        if not isinstance(self.router, ToolRouter):
            assert self.router is not None
            self.router = self.router()
        scores = self.router.scores(text)
        for tool in tools:
            if mentions_of(tool, text):
                scores[tool.name] = scores.get(tool.name, 0.0) + MENTION_BOOST
        return scores

    @staticmethod
    def _bias(
        scores: dict[str, float], offered: set[str], pending: bool = False
    ) -> dict[str, float]:
        """The routing prior: 0 for the best tool, less for the others. For
        a request still to do (``pending``) that wants a tool, answering
        costs at least :data:`CHANGE_PENDING_BIAS` (after reading prices.json
        the model answered "Double it." instead of doubling)."""
        priced = [*offered, P.FINAL_ANSWER_TOOL]
        best = max(scores.get(n, 0.0) for n in priced)
        bias = {n: BIAS_SCALE * (scores.get(n, best) - best) for n in sorted(priced)}
        if pending and bias[P.FINAL_ANSWER_TOOL] < 0:
            bias[P.FINAL_ANSWER_TOOL] = min(bias[P.FINAL_ANSWER_TOOL], -CHANGE_PENDING_BIAS)
        return bias

    def step_bias(self, state: AgentState, offered: Sequence[BaseTool]) -> dict[str, float]:
        """The prior on this step's tool name: routing's for the first step
        and for each later request of the task ("…, then multiply them"),
        and against answering while a change the task asks for is not made."""
        step = state.get("steps", 0)
        later = state.get("later_tool_bias", [])
        first = state.get("tool_bias", {})
        if step == 0:
            return first
        if step <= len(later):
            return later[step - 1]
        if first and change_pending(state, offered):
            return {P.FINAL_ANSWER_TOOL: -CHANGE_PENDING_BIAS}
        return {}

    def example_chooser(self, task: str) -> ExampleChooser:
        """Picks, of a tool's worked examples, the one whose request is most
        like ``task`` (the first one without routing)."""
        router = self.router
        if router is None or not task:
            return first_example

        def choose(tool: BaseTool, worked: list[ToolExample]) -> ToolExample:
            if len(worked) == 1 or not isinstance(router, ToolRouter):
                return worked[0]
            key = (task, tool.name)
            if key not in self._chosen:
                if len(self._chosen) > MAX_CHOSEN:
                    self._chosen.clear()
                self._chosen[key] = router.closest(task, [e["request"] for e in worked])
            return worked[self._chosen[key]]

        return choose

    def example_words(self, task: str, tools: Sequence[BaseTool]) -> str:
        """What the worked examples shown for ``task`` hold (not to be copied)."""
        return example_values(tools, self.example_chooser(task))

    def arg_choices(
        self, tools: Sequence[BaseTool], state: AgentState
    ) -> dict[str, dict[str, ArgChoices]]:
        """For each offered tool, the values its grounded arguments may take now."""
        if not self.grounded_arguments:
            return {}
        text = grounding_text(state)
        out: dict[str, dict[str, ArgChoices]] = {}
        for tool in tools:
            args = tool.args if isinstance(tool.args, dict) else {}
            narrowed = {
                a: v for a in args if (v := choices_of(tool, a, text, self.small_model)) is not None
            }
            if narrowed:
                out[tool.name] = narrowed
        return out

    def act_prompt(
        self,
        system: str,
        state: AgentState,
        offered: Sequence[BaseTool],
        note: PlanNote | None = None,
    ) -> list[AnyMessage]:
        """System text, worked examples, then the transcript with the plan
        notes where the plan changed and a cue after each observation."""
        if self.worked_examples and self.example_style == "choices":
            system = f"{system}\n\n{choice_examples(offered)}"
        prompt: list[AnyMessage] = [SystemMessage(system)]
        if self.worked_examples and self.example_style == "episodes":
            chooser = self.example_chooser(state.get("task", ""))
            prompt += self._with_cues(exemplar_messages(offered, chooser))
        notes: dict[int, list[str]] = defaultdict(list)
        for n in [*state.get("plan_notes", []), *([note] if note else [])]:
            notes[n["after"]].append(n["text"])
        prompt.extend(SystemMessage(text) for text in notes[0])
        messages = state.get("messages", [])
        task = state.get("task", "")
        # A task of several requests routed to different tools: after each
        # step of this run, the cue names the request still to do.
        requests = requests_of(task)[1:] if state.get("later_tool_bias") else []
        start = run_start(messages, task)
        # A task that asks for a change is not done when a read succeeds:
        # after reading config.json the 270M model answered "config.json".
        writers = writer_names(offered)
        unchanged = bool(writers) and asks_for_change(task)
        done = 0
        for position, message in enumerate(messages, start=1):
            cue = P.OBSERVATION_CUE
            if position > start:
                unchanged = unchanged and not _changed(message, writers)
                if done < len(requests):
                    cue = P.NEXT_REQUEST_CUE.format(request=requests[done])
                elif unchanged:
                    cue = P.NEXT_REQUEST_CUE.format(request=task)
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
        cue: str = P.OBSERVATION_CUE,
    ) -> list[AnyMessage]:
        """``messages`` with the observation cue after each last tool result
        of a step (not after ``final_answer``'s)."""
        if not self.observation_cue:
            return list(messages)
        out: list[AnyMessage] = []
        sequence = [*messages, *following]
        for index, message in enumerate(messages):
            out.append(message)
            after = sequence[index + 1] if index + 1 < len(sequence) else None
            if (
                isinstance(message, ToolMessage)
                and message.name != P.FINAL_ANSWER_TOOL
                and not isinstance(after, ToolMessage)
            ):
                out.append(SystemMessage(cue))
        return out


def must_call(state: AgentState, offered: Sequence[BaseTool]) -> str | None:
    """The tool this step must call, if it may not answer yet: the previous
    step succeeded and the task still asks for an action, a request routed to
    a tool ("..., and double it": the calculator) or a change, when routing
    ranked a tool that writes near the top (within :data:`WRITE_NEAR` of the
    best). In such steps the 270M model answered "Double it." and "Next:
    Change the port in config.json to 9090", or repeated the read. Only right
    after a success, so a model that cannot make the call still gets to
    answer."""
    step = state.get("steps", 0)
    later = state.get("later_tool_bias", [])
    if step == 0 or not state.get("last_succeeded"):
        return None
    if step <= len(later):
        pending = later[step - 1]
        tool = max(pending, key=pending.__getitem__)
        return None if tool == P.FINAL_ANSWER_TOOL else tool
    first = state.get("tool_bias", {})
    writing = writer_names(offered)
    writers = [t.name for t in offered if t.name in writing and t.name in first]  # tool order
    if step != 1 or not writers or not change_pending(state, offered):
        return None
    writer = max(writers, key=first.__getitem__)
    return writer if first[writer] >= -WRITE_NEAR else None


def run_start(messages: Sequence[AnyMessage], task: str) -> int:
    """How many messages precede this run's (1-based position of its task)."""
    return max(
        (i for i, m in enumerate(messages, 1) if isinstance(m, HumanMessage) and m.content == task),
        default=len(messages) + 1,
    )


def writer_names(offered: Sequence[BaseTool]) -> set[str]:
    """The offered tools that write (whose call makes a change)."""
    return {t.name for t in offered if "write" in side_effects_of(t)}


def _changed(message: AnyMessage, writers: set[str]) -> bool:
    return (
        isinstance(message, ToolMessage) and message.name in writers and message.status != "error"
    )


def change_pending(state: AgentState, offered: Sequence[BaseTool]) -> bool:
    """Whether the task asks for a change that no call of this run made yet."""
    task = state.get("task", "")
    writers = writer_names(offered)
    if not writers or not asks_for_change(task):
        return False
    messages = state.get("messages", [])
    return not any(_changed(m, writers) for m in messages[run_start(messages, task) :])


# Trailing markup a small model wrote into its answer string.
ANSWER_JUNK = re.compile(r"\s*</?(?:tool_call|h\d|p|br|div|span)\b.*$", re.DOTALL)
MAX_REPEAT_WORDS = 12


def _first_repeat(words: list[str]) -> int | None:
    """Where the first run of words said again right after itself ends (its
    first saying): three times for one or two words, twice for longer runs."""
    for start in range(len(words)):
        for size in range(1, MAX_REPEAT_WORDS + 1):
            unit = words[start : start + size]
            if len(unit) < size:
                break
            times = 1
            while words[start + times * size : start + (times + 1) * size] == unit:
                times += 1
            if times >= (3 if size < 3 else 2):
                return start + size
    return None


def tidy_answer(answer: str) -> str:
    """``answer`` without markup after the text and cut after a phrase that
    the model then says again and again ("created a.txt (1 lines) (1 lines)
    (1 lines)" is "created a.txt (1 lines)"): what follows a repeat is where
    it lost the thread."""
    cleaned = ANSWER_JUNK.sub("", answer)
    words = cleaned.split()
    end = _first_repeat(words)
    if end is not None:
        cleaned = " ".join(words[:end])
    return cleaned.strip() or answer.strip()


def grounding_text(state: AgentState, observations: int = RECENT_OBSERVATIONS) -> str:
    """The task and the latest ``observations`` tool results: where a path to
    write may be named, and what arguments are copied from."""
    return "\n".join([state.get("task", ""), *recent_results(state, observations)])


def recent_results(state: AgentState, observations: int) -> list[str]:
    """The texts of the latest ``observations`` tool results, oldest first."""
    recent = [
        str(m.content)
        for m in state.get("messages", [])[-2 * observations :]
        if isinstance(m, ToolMessage) and m.name != P.FINAL_ANSWER_TOOL
    ]
    return recent[-observations:]


# A tool result's own header ("server.ini (lines 1-4 of 4)") and a listing's
# sizes are about the result, not its content: a small model answering from
# the result copied them instead of the line it was asked about.
RESULT_HEADER = re.compile(r"^\S+ \(lines \d+-\d+ of [^)]*\)$")
COUNT_QUESTION = re.compile(
    r"\b(?:how many|number of|count(?: the)?) (?:lines|files|entries|items|matches|folders)\b",
    re.IGNORECASE,
)
# Lines that state a count: read_file's header, list_dir's and glob's summary.
COUNT_LINE = re.compile(r"^(?:\S+ \(lines \d+-\d+ of \d+\)|\d+ (?:files|entries|matches): .*)$")
CITATION = re.compile(r"^\[[^\]\s]+:p?\d+(?:-\d+)?\]$")
WORD = re.compile(r"[a-z0-9]{3,}")
PATH_LIKE = re.compile(r"\w[./]\w")
STOP_WORDS = frozenset(
    "the and for what which does did how many much who whom whose with from this that "
    "into use used tell please just give show file files line lines say says".split()
)


def focus_text(task: str, observation: str) -> str:
    """The lines of ``observation`` that share the most words with ``task``
    (all its lines when none does), without result headers, each after the
    citation of the passage it is in: what an answer or an argument should
    copy."""
    content = [line for line in observation.splitlines() if line.strip()]
    if COUNT_QUESTION.search(task):
        # "How many lines / files?" is answered by the line that counts them.
        counts = [line for line in content if COUNT_LINE.match(line.strip())]
        if counts:
            return "\n".join(counts)
    # Otherwise a header is not what to copy: the model copied "(lines 1-4 of
    # 4)", and search_docs' instruction shares "cite" with "cite your source".
    content = [
        line
        for line in content
        if not RESULT_HEADER.match(line.strip()) and line.strip() != PASSAGES_HEADER
    ]
    # A path in the task names where to look, not what: "server.ini" would
    # pick the "[server]" line over "port = 8443".
    asked = " ".join(w for w in task.lower().split() if not PATH_LIKE.search(w))
    wanted = {w for w in WORD.findall(asked) if w not in STOP_WORDS}
    scores = [len(wanted & set(WORD.findall(line.lower()))) for line in content]
    best = max(scores, default=0)
    if best == 0:
        return "\n".join(content)
    kept: list[str] = []
    citation = ""
    for line, score in zip(content, scores, strict=True):
        if CITATION.match(line.strip()):
            citation = line.strip()
        elif score == best:
            # A passage's answer is cited by the "[path:lines]" line above it.
            if citation and citation not in kept:
                kept.append(citation)
            kept.append(line)
    return "\n".join(kept)


def copy_text(state: AgentState) -> str:
    """What the next call should copy from (ChatLlama's copy bias): the part
    of the latest result the task asks about, else the task. With the task's
    words in it too, the 270M model answered "Who is the owner listed in
    team/roster.txt?" with the question."""
    recent = recent_results(state, 1)
    task = state.get("task", "")
    return focus_text(task, recent[-1]) if recent else task
