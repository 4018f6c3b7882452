"""Does a question ask for the end of a file? An embedding classifier.

The tuned 270M model reads line 1 for every question put by a line's
place: "How does poem.txt end?", "what does the final line of log.txt
read" and "show me the last line of notes.txt" each read lines 1-1 and
answered with the first line. ``read_file`` already reads from the end
(``start_line=-1``), but the model never chose it.

So the agent tells a question about a file's end from other questions with
the bundled MiniLM embedder: the nearest example request (:data:`EXAMPLES`,
file names masked) must be one that asks for the end, by
:data:`MIN_SIMILARITY`, and by :data:`MIN_MARGIN` over the nearest other
example. Then a read of the one file the task names is fixed to its last
line (:meth:`.small.SmallModelSteering.hints`).

The other examples ask for a line by another place (first, n-th), for a
value by its label, or whether a file says something. A question about
when something ends ("when does the shift end in roster.txt?") is asked
by what a line says, not by its place, and stays free. Off with
``[steering] line_places = false``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.tools import BaseTool

from agentkit.models.grammar import ArgChoices, Fixed, Omitted
from agentkit.steering.arguments import one_named_file, workspace_of
from agentkit.steering.question_gate import masked
from agentkit.steering.routing import embedded_rows, unit

READ_TOOL = "read_file"
# "the last 5 lines": a count of lines the task writes in digits (words are
# left to the model: "the final two lines" is not read as the end).
_COUNT = re.compile(r"(?<![\w.])\d{1,3}(?![\w.])")
MAX_LINES_FROM_END = 100

# Frames of a request for one line, each filled with every phrase of a
# place: a place is told by its phrase, not by the frame.
_FRAMES = (
    "What is the {p} of notes.txt?",
    "show me the {p} in log.txt",
    "{p} of poem.txt?",
    "what does the {p} of list.txt say",
    "I need the {p} of data.txt",
    "read me the {p} of todo.md",
)
_END_PHRASES = (
    "last line",
    "final line",
    "bottom line",
    "closing line",
    "line at the end",
    "most recent line",
    "latest entry",
    "end",
)
_OTHER_PHRASES = (
    "first line",
    "opening line",
    "top line",
    "second line",
    "line 3",
    "title",
    "owner",
    "status",
    "due date",
    "word count",
    "text",
    "author",
)
EXAMPLES: dict[str, tuple[str, ...]] = {
    "end": (
        *(f.format(p=p) for f in _FRAMES for p in _END_PHRASES),
        "How does poem.txt end?",
        "what does notes.txt end with?",
        "What was the last thing added to app.log?",
        "what's at the very bottom of todo.md?",
    ),
    "other": (
        *(f.format(p=p) for f in _FRAMES for p in _OTHER_PHRASES),
        "How does poem.txt start?",
        "what does notes.txt begin with?",
        "is there an error in app.log?",
        "what is the port in config.yaml?",
        "does notes.txt mention Lars?",
        "how many lines does notes.txt have?",
        "What is written in notes.txt?",
        "when is the meeting according to notes.txt?",
        "when does the event end according to plan.txt?",
        "what time does the shift end in roster.txt?",
        "Does the story in tale.txt end well?",
        "what is the newest version listed in CHANGES.md?",
        "what's the last name of the manager in staff.csv?",
    ),
}
MIN_SIMILARITY = 0.75
MIN_MARGIN = 0.08
MAX_ASKED = 512  # tasks whose answer is kept
_EMBEDDED: dict[str, list[str]] = {
    label: [masked(text) for text in texts] for label, texts in EXAMPLES.items()
}


class LinePlaces:
    """Whether a task asks for a file's last line, over ``embeddings`` (the
    examples are embedded once per process: :func:`.routing.embedded_rows`)."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        self._asked: dict[str, bool] = {}

    def similarities(self, task: str) -> tuple[float, float]:
        """The nearest example asking for the end, and the nearest other."""
        query = unit(np.asarray(self.embeddings.embed_query(masked(task)), dtype=np.float32))
        end, other = (
            float((embedded_rows(self.embeddings, _EMBEDDED[label]) @ query).max())
            for label in ("end", "other")
        )
        return end, other

    def asks_last_line(self, task: str) -> bool:
        if task not in self._asked:
            if len(self._asked) >= MAX_ASKED:
                self._asked.clear()
            end, other = self.similarities(task)
            self._asked[task] = end >= MIN_SIMILARITY and end - other >= MIN_MARGIN
        return self._asked[task]


def last_line_read(
    places: LinePlaces,
    task: str,
    offered: Sequence[BaseTool],
    choices: Mapping[str, Mapping[str, ArgChoices]],
) -> dict[str, dict[str, ArgChoices]]:
    """``choices`` with a read of the one existing file ``task`` names fixed
    to its last line (its last N lines, for a task that writes one number
    N), when the task asks for that file's end."""
    out = {tool: dict(args) for tool, args in choices.items()}
    reader = next((t for t in offered if t.name == READ_TOOL), None)
    ws = workspace_of(reader) if reader is not None else None
    if ws is None:
        return out
    try:
        named = one_named_file(ws, task)
    except Exception:  # noqa: BLE001 - a grounding helps a call, it never fails one
        return out
    if named is None or not places.asks_last_line(task):
        return out
    counts = [int(n) for n in _COUNT.findall(task.replace(named, " "))]
    lines = counts[0] if len(counts) == 1 and 1 <= counts[0] <= MAX_LINES_FROM_END else 1
    out[READ_TOOL] = {**out.get(READ_TOOL, {}), "start_line": Fixed(-lines), "end_line": Omitted()}
    return out
