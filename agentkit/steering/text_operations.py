"""Answers computed from the task's own text: the operations a small model
cannot do token by token.

The 270M model answered "falcon" to "Write falcon in capital letters",
"5" to "how many words are in: red green blue" and "stop" to "reverse the
word stop": letters and counts are below what it sees (tokens). These are
not tool calls (nothing is read or changed), so the agent computes them:

- an embedding classifier (nearest example request over the bundled MiniLM
  embedder, :data:`EXAMPLES`) says which operation a task asks for, if any;
- the operation is applied to every operand the task holds (each word, a
  quoted or after-colon span, the list in it, its numbers), which gives a
  few candidate answers;
- the final answer is decoded again (through the grammar) as one of them,
  unless the model's own answer already is one. The model still chooses the
  operand ("FALCON", not "WRITE").

Only a task that names no file or URL and whose run read nothing: an answer
that comes from a file or a page is grounded in what was read
(:mod:`.answer_spans`). Off with ``[steering] computed_answers = false``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AnyMessage, ToolMessage

from agentkit.models.grammar import RequiredChoices
from agentkit.steering.grounding import mentioned_paths, mentioned_urls
from agentkit.steering.routing import embedded_rows, unit
from agentkit.steering.step import run_start

Operation = Literal[
    "upper",
    "lower",
    "capitalize",
    "reverse",
    "sort",
    "smallest",
    "largest",
    "count_words",
    "count_items",
    "count_letters",
    "first_word",
    "last_word",
]
Label = Operation | Literal["none"]

# Example requests: frames of how a request is put, each filled with the
# phrase of every operation it fits, so that an operation is told by its
# phrase and not by the frame. What an operation applies to is in
# [brackets] (it varies, so a neighbour is not found by it); the other
# words are how it is asked, never an operand ("Write", "capital").
_WORD_FRAMES = (
    "Write [{x}] {p}.",
    "Give me the word [{x}] {p}.",
    "[{x}] {p} please",
    "how is [{x}] written {p}?",
    "can you make '[{x}]' {p}?",
    "I need the word [{x}] {p}",
)
_WORD_PHRASES: dict[Operation, tuple[str, ...]] = {
    "upper": ("in capital letters", "in uppercase", "in all caps", "in upper case"),
    "lower": ("in lowercase", "in lower case", "in small letters", "without capitals"),
    "capitalize": (
        "with a capital first letter",
        "capitalized",
        "starting with a capital letter",
        "with its first letter in upper case",
    ),
    "reverse": ("backwards", "reversed", "in reverse order", "spelled backwards"),
}
_NUMBER_FRAMES = (
    "Which is the {p}: [310, 72 or 455]?",
    "Tell me the {p} of [12, 90 and 41].",
    "{p} of [5 17 3]?",
    "Out of [66, 203 and 18], which number is the {p}?",
    "pick the {p} one: [83] or [38]",
)
_NUMBER_PHRASES: dict[Operation, tuple[str, ...]] = {
    "smallest": ("smallest", "lowest", "least", "minimum", "smaller"),
    "largest": ("largest", "biggest", "highest", "maximum", "bigger"),
}
_COUNT_FRAMES = (
    "how many {p} are in: [{x}]",
    "count the {p} in [{x}]",
    "number of {p} in '[{x}]'?",
    "How many {p} does '[{x}]' have?",
)
_COUNT_PHRASES: dict[Operation, tuple[tuple[str, str], ...]] = {
    "count_words": (("words", "the dog ran home"), ("words", "see you soon")),
    "count_items": (("items", "pens, cups, keys"), ("things", "soap, rice and tea")),
    "count_letters": (("letters", "elephant"), ("characters", "apple")),
}
_END_FRAMES = (
    "What's the {p} word of this sentence: [Birds fly south in winter]",
    'Reply with only the {p} word of "[Someone left the gate open]"',
    "{p} word of: [the lunch is ready]",
    "Which word {v} the sentence '[Rain fell all night]'?",
)
_END_PHRASES: dict[Operation, tuple[tuple[str, str], ...]] = {
    "first_word": (("first", "opens"), ("opening", "starts")),
    "last_word": (("last", "ends"), ("final", "closes")),
}
_OPERANDS = ("falcon", "harbor", "quartz", "orchid", "tiger", "river", "lemon", "garden")


def _examples() -> dict[Label, tuple[str, ...]]:
    found: dict[Label, list[str]] = {}
    for op, phrases in _WORD_PHRASES.items():
        found[op] = [
            frame.format(x=_OPERANDS[(i + j) % len(_OPERANDS)], p=phrase)
            for i, frame in enumerate(_WORD_FRAMES)
            for j, phrase in enumerate(phrases)
        ]
    for op, phrases in _NUMBER_PHRASES.items():
        found[op] = [frame.format(p=p) for frame in _NUMBER_FRAMES for p in phrases]
    for op, pairs in _COUNT_PHRASES.items():
        found[op] = [frame.format(p=p, x=x) for frame in _COUNT_FRAMES for p, x in pairs]
    for op, pairs in _END_PHRASES.items():
        found[op] = [frame.format(p=p, v=v) for frame in _END_FRAMES for p, v in pairs]
    found["sort"] = [
        "Put these in alphabetical order - [pear, apple, mango]",
        "sort these words: [zebra, ant, moose]",
        "alphabetize [kiwi, fig and date]",
        "arrange [red, blue, green] alphabetically",
        "can you order these names from A to Z: [Tom, Ann, Bob]",
    ]
    found["count_items"] += ["I wrote down [soap, rice and tea]. How many things is that?"]
    found["none"] = list(_NONE)
    return {label: tuple(texts) for label, texts in found.items()}


# Requests that name no operation (answered in words, or by a tool).
_NONE = (
    "Say hello to Ann.",
    "Repeat after me: the sky is blue.",
    "My name is Ann. What is my name?",
    "What colour is mentioned in this sentence: 'she opened the red door'?",
    "what's 7 plus 5?",
    "what is 12 times 9",
    "What is 15% of 80?",
    "What time is it?",
    "What day of the week is it today?",
    "What is the capital of France?",
    "Remember that my email is ann@example.com.",
    "what's my favourite colour?",
    "Thank Olu for the help.",
    "Reply with the word ready.",
    "just say OK",
    "search the docs for how to reset the widget",
    "How many files are in the logs folder?",
    "count the lines of the notes file",
    "How many times does ERROR appear in the log?",
    "sort the lines of the list file",
    "what is the first line of the poem file?",
    "Write a short greeting to the team.",
    "translate hello into French",
    "How much bigger is [50] than [20]?",
    "What's the average of [3, 5 and 7]?",
    "What is the sum of [4, 8 and 15]?",
    "What's the difference between [90] and [35]?",
    "multiply [6] by [7]",
    "What is [100] divided by [4]?",
    "[10]^[3]?",
    "[48]*[18]=?",
    "[7] + [5]",
    "[90] - [35]?",
)
EXAMPLES: dict[Label, tuple[str, ...]] = _examples()
# Counts are told apart by what they apply to (:func:`_count_by_shape`).
COUNTS: tuple[Operation, ...] = ("count_words", "count_items", "count_letters")
GROUPS: tuple[tuple[Operation, ...], ...] = (
    ("upper", "lower", "capitalize"),
    ("smallest", "largest"),
    ("first_word", "last_word"),
    COUNTS,
    ("reverse",),
    ("sort",),
)
# Operations that differ only in a direction: the embedder told their
# groups apart but not "in caps" from "in lowercase" (the frames weigh more
# than the phrase). Inside a group, the phrase of the task nearest one of
# these names the operation.
DIRECTIONS: dict[Operation, tuple[str, ...]] = {
    "upper": ("uppercase", "upper case", "capital letters", "all caps", "capitals"),
    "lower": ("lowercase", "lower case", "small letters", "without capitals"),
    "capitalize": ("capitalize", "capital first letter", "start with a capital", "title case"),
    "smallest": ("smallest", "lowest", "least", "minimum", "smaller"),
    "largest": ("largest", "biggest", "highest", "greatest", "maximum", "bigger"),
    "first_word": ("first", "opening", "starts", "begins"),
    "last_word": ("last", "final", "ends", "closing"),
}
# The nearest example must be at least this alike (cosine) and this much
# closer than the nearest example outside its group.
MIN_SIMILARITY = 0.45
MIN_MARGIN = 0.1
MAX_CANDIDATES = 40
_OPERAND = re.compile(r"\[([^\]]*)\]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’")
_ITEM_BREAK = re.compile(r"\s*(?:,\s*(?:and|or)\s+|,|;|\s+and\s+|\s+or\s+)\s*")


def _quoted(task: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in _QUOTED.finditer(task)]


def operand_spans(task: str) -> list[str]:
    """Texts the operation may apply to: quoted spans, what follows the
    last colon or dash, and the task itself, each without end punctuation."""
    spans = _quoted(task)
    for mark in (":", " - "):
        head, found, tail = task.rpartition(mark)
        if found and head.strip():
            spans.append(tail)
    spans.append(task)
    cleaned = [s.strip().strip("\"'“”‘’").rstrip("?.!").strip() for s in spans]
    return [s for s in dict.fromkeys(cleaned) if s]


def _items(span: str) -> list[str]:
    parts = [p.strip() for p in _ITEM_BREAK.split(span) if p.strip()]
    if len(parts) < 2:
        parts = span.split()
    return parts


def _numbers(task: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(task)]


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def candidates(operation: Operation, task: str, instruction_words: set[str]) -> list[str]:
    """The answers ``operation`` gives over each operand of ``task``. A
    quoted word is the operand; otherwise each word that is not how an
    operation is asked (``instruction_words``: "Write", "capital", "word")."""
    spans = operand_spans(task)
    words = [w for q in _quoted(task) for w in _WORD.findall(q)] or [
        w for w in _WORD.findall(task) if w.lower() not in instruction_words
    ]
    # A list is the quoted or after-colon part when there is one.
    parts = spans[:-1] or spans
    found: list[str] = []
    if operation in ("upper", "lower", "capitalize", "reverse", "count_letters"):
        apply: dict[str, Callable[[str], str]] = {
            "upper": str.upper,
            "lower": str.lower,
            "capitalize": lambda w: w[:1].upper() + w[1:],
            "reverse": lambda w: w[::-1],
            "count_letters": lambda w: str(len(w)),
        }
        found = [apply[operation](w) for w in words]
        if operation != "count_letters":
            found += [apply[operation](s) for s in spans[:-1] if " " in s]
    elif operation in ("smallest", "largest"):
        numbers = _numbers(task)
        if len(numbers) >= 2:
            found = [_number_text(min(numbers) if operation == "smallest" else max(numbers))]
    elif operation == "sort":
        found = [", ".join(sorted(_items(s), key=str.lower)) for s in parts if len(_items(s)) > 1]
    elif operation == "count_words":
        found = [str(len(s.split())) for s in spans[:-1]]
    elif operation == "count_items":
        found = [str(len(_items(s))) for s in parts if len(_items(s)) > 1]
    elif operation in ("first_word", "last_word"):
        index = 0 if operation == "first_word" else -1
        found = [_WORD.findall(s)[index] for s in spans[:-1] if _WORD.findall(s)]
    return list(dict.fromkeys(c for c in found if c))[:MAX_CANDIDATES]


def masked(text: str) -> str:
    """``text`` with each number written as one placeholder: the embedder
    weighed digits over wording ("How much bigger is 2783 than 184?" was
    nearer "Which is the largest: 310, 72 or 455?" than "How much bigger is
    50 than 20?")."""
    return _NUMBER.sub("N", text)


# What is embedded of each example: its operands unmarked, numbers masked.
_EMBEDDED: dict[Label, list[str]] = {
    label: [masked(_OPERAND.sub(r"\1", t)) for t in texts] for label, texts in EXAMPLES.items()
}


def _group(label: Label) -> tuple[Label, ...]:
    return next((g for g in GROUPS if label in g), (label,))


def _count_by_shape(task: str) -> Operation:
    """What a count counts, by what it applies to: a list (commas), a
    phrase (several words quoted or after a colon), else a word's letters."""
    spans = operand_spans(task)[:-1]
    if any(len(_items(s)) > 1 and ("," in s or ";" in s) for s in spans):
        return "count_items"
    if any(len(s.split()) > 1 for s in spans):
        return "count_words"
    return "count_items" if "," in task else "count_letters"


class TextOperations:
    """Which operation a task asks for, over ``embeddings``; the examples
    are embedded on first use, once per process (:func:`.routing.embedded_rows`)."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        # How any operation is asked: every example's words but its operands.
        self._instruction_words = {
            w.lower()
            for label, texts in EXAMPLES.items()
            if label != "none"
            for text in texts
            for w in _WORD.findall(_OPERAND.sub(" ", text))
        }

    def _query(self, text: str) -> np.ndarray:
        return unit(np.asarray(self.embeddings.embed_query(text), dtype=np.float32))

    def classify(self, task: str) -> tuple[Label, float, float]:
        """The nearest example's label, its similarity, and its margin over
        the nearest example outside its group."""
        query = self._query(masked(task))
        best: dict[Label, float] = {
            label: float((embedded_rows(self.embeddings, _EMBEDDED[label]) @ query).max())
            for label in EXAMPLES
        }
        label, top = max(best.items(), key=lambda item: item[1])
        group = _group(label)
        other = max(v for lab, v in best.items() if lab not in group)
        return label, top, top - other

    def _direction(self, task: str, group: tuple[Operation, ...]) -> Operation:
        """The operation of ``group`` whose phrase is nearest a phrase of
        ``task`` (one to three words)."""
        words = _WORD.findall(task.lower())
        grams = list(
            dict.fromkeys(" ".join(words[i : i + n]) for n in (1, 2, 3) for i in range(len(words)))
        )
        if not grams:
            return group[0]
        # A task's own phrases are not cached: they differ from task to task.
        vectors = np.stack(
            [unit(np.asarray(v, dtype=np.float32)) for v in self.embeddings.embed_documents(grams)]
        )
        scores = {
            op: float((vectors @ embedded_rows(self.embeddings, DIRECTIONS[op]).T).max())
            for op in group
        }
        return max(group, key=scores.__getitem__)

    def operation(self, task: str) -> Operation | None:
        """The operation ``task`` asks for, or None (it names a file or a
        URL, or no example is near enough)."""
        if mentioned_paths(task) or mentioned_urls(task):
            return None
        label, similarity, margin = self.classify(task)
        if label == "none" or similarity < MIN_SIMILARITY or margin < MIN_MARGIN:
            return None
        group = _group(label)
        if label in DIRECTIONS:
            return self._direction(task, group)
        if group == COUNTS:
            return _count_by_shape(task)
        return label

    def answers(self, task: str) -> list[str]:
        """The answers the operation ``task`` asks for gives, or []."""
        operation = self.operation(task)
        if operation is None:
            return []
        return candidates(operation, task, self._instruction_words)


def computed_answer(
    operations: TextOperations, task: str, messages: Sequence[AnyMessage], answer: str
) -> dict[str, RequiredChoices] | None:
    """The final answer's choices when ``task`` asks for a text operation,
    this run called no tool and ``answer`` is none of the operation's
    results; else None."""
    run = messages[run_start(messages, task) :]
    if any(isinstance(m, ToolMessage) for m in run):
        return None
    results = operations.answers(task)
    if not results or answer.strip().rstrip(".!").strip() in results:
        return None
    return {"answer": RequiredChoices(results)}
