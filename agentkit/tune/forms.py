"""The forms a user's wording takes, applied to a training task.

Two passes over the dev families' own wordings (stages 4 and 5) raised dev,
not held-out: the model learnt the templates' frames. Users type requests
as indirect asks ("I need you to ..."), with a typo, without articles, as a
question put in passing. :func:`vary_form` rewrites a task into one of
those forms without touching what the episode's gold solution copies from
it (paths, values, quoted text): only the request's frame and its function
words change, so the same gold call still answers it.
"""

from __future__ import annotations

import random
import re

# Frames for a request put as an instruction, and for a question.
REQUEST_FRAMES = (
    "I need you to {t}",
    "I'd like you to {t}",
    "go ahead and {t}",
    "would you {t}?",
    "help me {t}",
    "{t} for me",
    "can you quickly {t}",
    "task: {t}",
)
QUESTION_FRAMES = (
    "quick question: {t}",
    "I was wondering, {t}",
    "do you know {t}",
    "{t} just curious",
    "one thing: {t}",
)
# Words a terse user leaves out.
DROPPED_WORDS = frozenset({"the", "a", "an", "please"})
_WORD = re.compile(r"[A-Za-z]+")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^'\s][^']*'|`[^`]*`")
MIN_TYPO_LETTERS = 5


def _protected_spans(task: str) -> list[tuple[int, int]]:
    return [m.span() for m in _QUOTED.finditer(task)]


def _editable_words(task: str, keep: str) -> list[re.Match[str]]:
    """The words of ``task`` a form may change: outside quotes, not part of
    a path or a value (not followed or preceded by '.', '/', '_', '-', '@'
    or a digit), and not found in ``keep`` (what the gold solution copies)."""
    spans = _protected_spans(task)
    kept = set(re.findall(r"\w+", keep.lower()))
    found = []
    for m in _WORD.finditer(task):
        start, end = m.span()
        if any(a <= start < b for a, b in spans):
            continue
        before = task[start - 1] if start else " "
        after = task[end] if end < len(task) else " "
        if before in "./_-@" or after in "/_-@" or (after == "." and end + 1 < len(task)):
            continue
        if before.isdigit() or after.isdigit() or m.group(0).lower() in kept:
            continue
        found.append(m)
    return found


def with_typo(task: str, keep: str, rng: random.Random) -> str:
    """``task`` with two neighbouring letters of one longer word swapped."""
    words = [m for m in _editable_words(task, keep) if len(m.group(0)) >= MIN_TYPO_LETTERS]
    if not words:
        return task
    m = rng.choice(words)
    word = m.group(0)
    i = rng.randrange(1, len(word) - 2)
    typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return task[: m.start()] + typo + task[m.end() :]


def terse(task: str, keep: str) -> str:
    """``task`` without articles and "please" (where the gold copies none)."""
    dropped = [m for m in _editable_words(task, keep) if m.group(0).lower() in DROPPED_WORDS]
    for m in reversed(dropped):
        task = task[: m.start()] + task[m.end() :].lstrip(" ")
    return task.strip() or task


def framed(task: str, rng: random.Random) -> str:
    """``task`` inside an indirect frame: a question frame for a question, a
    request frame for a sentence that starts with a capitalised word and
    does not start with "I" (an instruction, as the families write them)."""
    body = task.strip()
    if body.endswith("?"):
        frame = rng.choice(QUESTION_FRAMES)
        body = body[:1].lower() + body[1:] if body[:2] != "I " else body
        return frame.format(t=body)
    first = body.split(" ", 1)[0]
    # "Hi, Amara here" or "I need ..." is no instruction to frame.
    if not first[:1].isupper() or first in ("I", "I'd", "I'm") or not first.isalpha():
        return task
    frame = rng.choice(REQUEST_FRAMES)
    body = body[:1].lower() + body[1:]
    if frame.endswith("?") or frame.endswith("for me"):
        body = body.rstrip(".!")
    return frame.format(t=body)


def vary_form(task: str, keep: str, rng: random.Random) -> str:
    """``task`` in another user's form: an indirect frame, a typo, or terse,
    at random (none some of the time); ``keep``: the text the gold solution
    copies (its arguments and answer), which no form changes."""
    if rng.random() < 0.3:
        task = framed(task, rng)
    if rng.random() < 0.2:
        task = with_typo(task, keep, rng)
    if rng.random() < 0.15:
        task = terse(task, keep)
    return task
