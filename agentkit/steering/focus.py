"""What the next call should copy from: the part of the latest result that
the task asks about (the copy bias of ChatLlama leans the decoder to it)."""

from __future__ import annotations

import re

from langchain_core.messages import ToolMessage

from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.steering.view import StepView
from agentkit.tools.memory import PASSAGES_HEADER

RECENT_OBSERVATIONS = 3  # observations whose text may name a path to write


def grounding_text(view: StepView, observations: int = RECENT_OBSERVATIONS) -> str:
    """The task and the latest ``observations`` tool results: where a path to
    write may be named, and what arguments are copied from."""
    return "\n".join([view.task, *recent_results(view, observations)])


def recent_results(view: StepView, observations: int) -> list[str]:
    """The texts of the latest ``observations`` tool results, oldest first."""
    recent = [
        str(m.content)
        for m in view.messages[-2 * observations :]
        if isinstance(m, ToolMessage) and m.name != FINAL_ANSWER_TOOL
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


def copy_text(view: StepView) -> str:
    """What the next call should copy from (ChatLlama's copy bias): the part
    of the latest result the task asks about, else the task. With the task's
    words in it too, the 270M model answered "Who is the owner listed in
    team/roster.txt?" with the question."""
    recent = recent_results(view, 1)
    task = view.task
    return focus_text(task, recent[-1]) if recent else task
