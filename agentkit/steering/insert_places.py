"""Where does an added line go? An embedding classifier, and the edit it
decides.

The tuned 270M model adds a line with ``edit_file`` well at the end of a
file, and nowhere else. Asked to "put X at the top of F", "make F start
with X" or "prepend X to F" it appended X (``old_string`` empty); asked
to "add X right after Y" or "put X below Y" it wrote ``old_string=Y``,
``new_string="X\\nY"``: the line went in above its anchor.

So the agent tells where the task puts its line with the bundled MiniLM
embedder: a softmax regression over the embeddings of example requests
(:data:`EXAMPLES`, with the file names, the added text and the line beside
it masked) says the place: the top, after a line, before a line, the end,
or no place (a replacement, a removal, a setting), when its probability is
at least :data:`MIN_PROBABILITY`. Then an ``edit_file`` call that
*inserts* (its new text is its old text, whole lines of the file, with
lines added above or below, or an append) is put where the task says (:func:`placed_insertion`): the same added lines, the
same file. So is a call that replaced a whole line with the task's own
words, when the task asks to add them somewhere ("put step 3 right after
step 2" replaced "step 2"): the line it dropped is kept. A call that
replaces text inside a line, or removes text, is never moved. Off with
``[steering] insert_places = false``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Literal, get_args

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.tools import BaseTool

from agentkit.models.grammar import ArgChoices, RequiredChoices
from agentkit.steering.question_gate import masked
from agentkit.steering.retries import EDIT_TOOL, edited_text
from agentkit.steering.routing import embedded_rows, unit

Place = Literal["top", "after", "before", "end", "none"]

# Requests that add a line, with the added text as X and the line it goes
# beside as Y (what :func:`masked_request` makes of a task): the place is
# told by what is left, not by the words added.
_FRAMES = (
    "add X {p} the file",
    "Put the line X {p} the file.",
    "can you insert X {p} the file?",
    "I need X {p} the file",
    "write X {p} the file",
)
_PHRASES: dict[Place, tuple[str, ...]] = {
    "top": (
        "at the top of",
        "as the first line of",
        "at the start of",
        "at the very beginning of",
        "before everything else in",
        "above all the other lines of",
        "as the opening line of",
        "on line 1 of",
        "as a heading of",
    ),
    "after": (
        "right after the line Y in",
        "below the line Y in",
        "beneath the line Y in",
        "below Y in",
        "under the Y line of",
        "just beneath Y in",
        "on the line following Y in",
        "after Y in",
    ),
    "before": (
        "right before the line Y in",
        "above the line Y in",
        "over the line Y in",
        "above Y in",
        "just ahead of the Y line in",
        "on the line preceding Y in",
        "before Y in",
    ),
    "end": (
        "at the end of",
        "at the bottom of",
        "as the last line of",
        "to the end of",
        "after everything in",
        "as a new line in",
        "to",
    ),
}
EXAMPLES: dict[Place, tuple[str, ...]] = {
    "top": (
        *(f.format(p=p) for f in _FRAMES for p in _PHRASES["top"]),
        "prepend X to the file",
        "the file should start with X",
        "begin the file with X",
        "Add the title X to the file",
        "give the file a heading X",
        "make X the opening line of the file",
        "Can the file open with X?",
        "add a header row X to the file",
    ),
    "after": (
        *(f.format(p=p) for f in _FRAMES for p in _PHRASES["after"]),
        "the file needs X after Y",
        "In the file, X goes after Y",
        "follow the line Y in the file with X",
    ),
    "before": (
        *(f.format(p=p) for f in _FRAMES for p in _PHRASES["before"]),
        "the file needs X before Y",
        "In the file, X goes before Y",
    ),
    "end": (
        *(f.format(p=p) for f in _FRAMES for p in _PHRASES["end"]),
        "append X to the file",
        "add X to my list in the file",
        "the file should end with X",
        "add another item, X, to the file",
    ),
    "none": (
        "replace Y with X in the file",
        "change the first line of the file to X",
        "remove Y from the file",
        "delete the first line of the file",
        "rename Y to X in the file",
        "set the port to X in the file",
        "fix the typo Y in the file",
        "sort the lines of the file",
        "create the file containing X",
        "mark Y as done in the file",
        "the file should say X instead of Y",
        "what is the first line of the file?",
        "copy the file to the file",
        "replace every Y with X in the file",
        "overwrite the file with X",
        "make the title in the file say X",
        "change the heading of the file to X",
        "rename the title of the file to X",
        "update the first line of the file to X",
        "make the last line of the file read X",
        "Y should be X in the file",
        "swap Y for X in the file",
        "turn Y into X in the file",
        "correct Y to X in the file",
        "the file has Y, make it X",
        "in the file, change Y to X",
        "set Y to X in the file",
        "update Y in the file to X",
        "Y is wrong in the file, it should read X",
        "edit the file so that Y becomes X",
        "replace the line Y in the file with X",
        "replace the first line of the file with X",
        "delete Y from the file",
        "take the line Y out of the file",
        "get rid of Y in the file",
        "strip Y from the file",
        "clear the file",
        "uncomment Y in the file",
        "comment out Y in the file",
        "move Y to the top of the file",
        "move the line Y to the end of the file",
        "tick off Y in the file",
    ),
}
PLACES: tuple[Place, ...] = get_args(Place)
# A multinomial logistic regression over the examples' embeddings: nearest
# example alone could not tell "at the top of" from "at the end of" (the
# frames around them are alike); the regression weighs what differs.
L2 = 1e-4
FIT_STEPS = 2000
FIT_RATE = 2.0
MIN_PROBABILITY = 0.6
MAX_ASKED = 512  # tasks whose answer is kept
# A line the model copied back with a character or two changed is the line
# it keeps ("The river rose after the storm" for "... storm.").
SAME_LINE = 0.9
_FITTED: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def masked_request(task: str, added: str, anchor: str) -> str:
    """``task`` with its file names as "the file", the call's added text as
    X and the line it keeps as Y (each where the task holds it, in any case)."""
    text = masked(task)
    for value, mark in sorted(((added, "X"), (anchor, "Y")), key=lambda vm: -len(vm[0])):
        value = value.strip().strip("'\"")
        if value:
            text = re.sub(rf"['\"]?{re.escape(value)}['\"]?", mark, text, flags=re.I)
    return text


def _fit(rows: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases of a softmax regression of ``labels`` on ``rows``
    (plain gradient descent from zero: the same weights every run)."""
    onehot = np.eye(len(PLACES), dtype=np.float32)[labels]
    weights = np.zeros((rows.shape[1], len(PLACES)), dtype=np.float32)
    biases = np.zeros(len(PLACES), dtype=np.float32)
    for _ in range(FIT_STEPS):
        error = _softmax(rows @ weights + biases) - onehot
        weights -= FIT_RATE * (rows.T @ error / len(rows) + L2 * weights)
        biases -= FIT_RATE * error.mean(axis=0)
    return weights, biases


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class InsertPlaces:
    """Where a task puts the line it adds, over ``embeddings`` (the examples
    are embedded and the regression fitted once per process and embedder)."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        self._asked: dict[str, Place] = {}

    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        key = id(self.embeddings)
        if key not in _FITTED:
            texts = [text for label in PLACES for text in EXAMPLES[label]]
            labels = np.array([i for i, label in enumerate(PLACES) for _ in EXAMPLES[label]])
            _FITTED[key] = _fit(embedded_rows(self.embeddings, texts), labels)
        return _FITTED[key]

    def probabilities(self, request: str) -> dict[Place, float]:
        """How likely each place is for a masked ``request``."""
        query = unit(np.asarray(self.embeddings.embed_query(request), dtype=np.float32))
        weights, biases = self._weights()
        return dict(zip(PLACES, map(float, _softmax(query @ weights + biases)), strict=True))

    def place(self, task: str, added: str = "", anchor: str = "") -> Place:
        """The place ``task`` asks for the text ``added`` beside the line
        ``anchor``; "none" when no place is likely enough."""
        request = masked_request(task, added, anchor)
        if request not in self._asked:
            if len(self._asked) >= MAX_ASKED:
                self._asked.clear()
            label, p = max(self.probabilities(request).items(), key=lambda kv: kv[1])
            self._asked[request] = label if p >= MIN_PROBABILITY else "none"
        return self._asked[request]


def _inserted(old: str, new: str, content: str) -> tuple[str, str, bool] | None:
    """The lines an edit of ``old`` into ``new`` adds, the whole lines of
    ``content`` beside them, and whether the edit drops those lines (a whole
    line replaced); None when it replaces inside a line or removes."""
    if old == "":
        return (new.strip("\n"), "", False) if new.strip() else None
    anchor = old.strip("\n")
    if not anchor or f"\n{anchor}\n" not in f"\n{content}\n":
        return None  # not whole lines of the file: a replacement inside a line
    lines = new.strip("\n").split("\n")
    # The kept line as the model copied it back (a dropped full stop too).
    if len(lines) > 1 and _same_line(lines[0], anchor):
        return "\n".join(lines[1:]).strip("\n"), anchor, False
    if len(lines) > 1 and _same_line(lines[-1], anchor):
        return "\n".join(lines[:-1]).strip("\n"), anchor, False
    if new.strip() and not any(_same_line(line, anchor) for line in lines):
        return new.strip("\n"), anchor, True
    return None


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _same_line(copied: str, line: str) -> bool:
    return copied == line or SequenceMatcher(None, copied, line).ratio() >= SAME_LINE


def _unique_head(content: str) -> str:
    """The fewest first lines of ``content`` that occur once in it."""
    lines = content.splitlines(keepends=True)
    for n in range(1, len(lines) + 1):
        head = "".join(lines[:n])
        if content.count(head) == 1:
            return head
    return content


def placed_insertion(
    places: InsertPlaces,
    task: str,
    tool: str,
    args: Mapping[str, object],
    offered: Sequence[BaseTool],
) -> dict[str, ArgChoices] | None:
    """Choices that decode ``args`` again with its added lines where
    ``task`` puts them, or None when the call is no insertion, is there
    already, or the task names no place."""
    old, new, path = args.get("old_string", ""), args.get("new_string"), args.get("path")
    if tool != EDIT_TOOL or args.get("patch") or args.get("replace_all"):
        return None
    if not isinstance(old, str) or not isinstance(new, str) or not isinstance(path, str):
        return None
    content = edited_text(offered, args)
    if not content or not content.strip():
        return None  # an empty file has one place
    found = _inserted(old, new, content)
    if found is None or not found[0]:
        return None
    added, anchor, replaced = found
    if replaced and not _words(added) <= _words(task):
        return None  # new text of the model's own: a replacement, not the task's line
    place = places.place(task, added, anchor)
    if place == "top":
        head = _unique_head(content)
        old_string, new_string = head, f"{added}\n{head}"
    elif place == "end":
        old_string, new_string = "", added
    elif place == "none" or not anchor:
        return None  # no place, or after or before a line the model did not give
    else:
        tail = "\n" if old.endswith("\n") else ""
        pair = (anchor, added) if place == "after" else (added, anchor)
        old_string, new_string = old, "\n".join(pair) + tail
    if (old_string, new_string.strip("\n")) == (old, new.strip("\n")):
        return None  # already where the task puts it (an append asked for the end, too)
    return {
        "path": RequiredChoices([path]),
        "old_string": RequiredChoices([old_string]),
        "new_string": RequiredChoices([new_string]),
    }


def pinned_args(choices: Mapping[str, ArgChoices]) -> dict[str, object] | None:
    """The arguments a re-decode's ``choices`` pin (one required value each),
    or None when some argument is left free."""
    pinned: dict[str, object] = {}
    for name, choice in choices.items():
        if not isinstance(choice, RequiredChoices) or len(choice) != 1:
            return None
        pinned[name] = choice[0]
    return pinned
