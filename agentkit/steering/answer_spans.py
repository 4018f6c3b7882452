"""Grounded answers: a small model's answer that miscopies the result it
read, or that holds nothing of it, is decoded again as a span of that
result.

The 270M model read ``queue.user = tomas`` and answered ``masu``; it read
``"region": "porto"`` and answered ``portado``. Forcing every answer to be a
span lost 31 dev cases and won 5: the model composes good answers ("6
carrots" from "- 6 carrots") that no span holds. So the answer stays free
unless a word of it is a miscopy (:func:`miscopied`: not in the task or the
result, yet alike a word there, three letters or more in a row, that it
is not an inflection of) or no word of it comes from the task or the result
(:func:`ungrounded`: it answered "enabled" to "is debug on?" after reading
``DEBUG = false``), or it lacks the value a field's read found
(:func:`field_values`) or the JSON leaf the task points to
(:func:`pointed_values`). Then it is decoded once more, with ``final_answer``
limited (through the grammar) to:

- a line of the latest result, as it stands or without a ``path:N:`` prefix;
- the value of a ``key: value`` or ``key = value`` line, or a JSON leaf;
- a passage's line with its citation (``... [notes.md:1-3]``);
- "yes" or "no", when the task asks a yes/no question.

An answer made of copies of lines of the result is decoded again, as a
span of one line, when it copied a line other than (or besides) the one the
task points to (:func:`misplaced_answer`): "2 .py files" for "How many .log
files are in notes?".

Only after a step whose tools all only read and succeeded: a write's result
is reported in the model's words, and after an error it retries or explains.
A page's status line and headers are where it came from, not what it says:
of a network tool's result only the body is answered from (the model
answered "HTTP 200 OK." to "what does /status say?").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.models.grammar import RequiredChoices
from agentkit.steering.focus import RESULT_HEADER
from agentkit.tools.base import side_effects_of

MAX_ANSWER_SPANS = 300
MAX_SPAN_CHARS = 240
# grep's "notes/a.txt:12: text": the text is the answer, not where it is.
_LOCATED = re.compile(r"^[^\s:]+:\d+:\s?(.+)$")
# A passage's citation line in search_docs' and recall's results.
_CITATION = re.compile(r"^\[([^\]\s]+)\]$")
_KEY_VALUE = re.compile(r"^[^:=]{1,60}?\s*(?::|=)\s*(.+)$")
YES_NO = ("yes", "no")
# A closed class of English auxiliaries: a sentence opening with one, or
# "whether", asks for yes or no. Offered always, "no" was the span chosen
# for "How many lines mention ERROR?".
_YES_NO_QUESTION = re.compile(
    r"(?:^|[.?!;:,]\s*|\n)(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|"
    r"should|shall|may|might|must)\b|\bwhether\b|\byes\b",
    re.IGNORECASE,
)


def asks_yes_no(task: str) -> bool:
    """Whether ``task`` asks a yes/no question (see :data:`_YES_NO_QUESTION`)."""
    return _YES_NO_QUESTION.search(task.strip()) is not None


def _json_leaves(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _json_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_leaves(item)
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif value is not None:
        yield str(value)


def answer_spans(result: str) -> list[str]:
    """What an answer drawn from ``result`` may be (see the module's doc;
    yes/no are added by :func:`grounded_answer`)."""
    spans: list[str] = []
    citation = ""
    for raw in result.splitlines():
        line = raw.strip()
        if not line:
            continue
        cited = _CITATION.match(line)
        if cited:
            citation = line
            continue
        located = _LOCATED.match(line)
        text = located.group(1).strip() if located else line
        spans += [line, text]
        if citation:
            spans.append(f"{text} {citation}")
        if text[:1] in "{[":
            try:
                spans += _json_leaves(json.loads(text))
                continue
            except ValueError:
                pass
        value = _KEY_VALUE.match(text)
        if value:
            spans.append(value.group(1).strip().strip("\"'`,"))
    return [s for s in dict.fromkeys(spans) if s and len(s) <= MAX_SPAN_CHARS]


def answerable(message: ToolMessage, tool: BaseTool | None) -> tuple[str, str]:
    """What of a result an answer comes from, and what is only about it: a
    network tool's headers, up to the first blank line, when a body follows."""
    content = str(message.content)
    if tool is not None and "network" in side_effects_of(tool):
        head, blank, body = content.partition("\n\n")
        if blank and body.strip():
            return body, head
    return content, ""


def latest_results(messages: Sequence[AnyMessage]) -> list[ToolMessage]:
    """The tool results after the last call the model made (its latest step)."""
    found: list[ToolMessage] = []
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            break
        if isinstance(message, ToolMessage):
            found.append(message)
    return found[::-1]


def grounded_answer(
    task: str, messages: Sequence[AnyMessage], tools: Sequence[BaseTool]
) -> dict[str, RequiredChoices] | None:
    """The choices for ``final_answer``'s answer after the latest step, or
    None (free) when that step wrote, failed, or gave nothing to copy."""
    results = latest_results(messages)
    if not results:
        return None
    # final_answer is not among ``tools``: after it, too, the answer is free.
    by_name = {t.name: t for t in tools}
    for message in results:
        tool = by_name.get(message.name or "")
        if tool is None or message.status == "error" or "write" in side_effects_of(tool):
            return None
    yes_no = asks_yes_no(task)
    spans = [s for m in results for s in answer_spans(answerable(m, by_name.get(m.name or ""))[0])]
    if not spans:
        return None
    spans = list(dict.fromkeys([*spans, *(YES_NO if yes_no else ())]))
    if len(spans) > MAX_ANSWER_SPANS:
        return None
    return {"answer": RequiredChoices(spans)}


_WORD = re.compile(r"\w(?:[\w.@/-]*\w)?")
MIN_SHARED = 3
MIN_LIKENESS = 0.6


def _near(word: str, other: str) -> bool:
    """Whether ``other`` holds a run of :data:`MIN_SHARED` letters of ``word``
    and the two are alike overall (:data:`MIN_LIKENESS`): "committee" shares
    "itte" with "written" but is no copy of it (0.5); "porto" and "portado"
    are (0.83)."""
    shared = SequenceMatcher(None, word, other, autojunk=False)
    size = shared.find_longest_match(0, len(word), 0, len(other)).size
    return size >= MIN_SHARED and shared.ratio() >= MIN_LIKENESS


def miscopied(answer: str, source: str) -> list[str]:
    """The words of ``answer`` that look like a miscopy of ``source``: not in
    it, not a number (a count is computed, not copied), and near a word of
    it (:func:`_near`) that it is not an inflection of (:func:`_inflected`:
    "appears" of "appear"; "portado" of "porto" and "db.host" of "host" are
    miscopies)."""
    text = source.lower()
    # Short words are too alike by chance: "there" is no miscopy of "the".
    words = {w for w in _WORD.findall(text) if len(w) > MIN_SHARED}
    found: list[str] = []
    for word in _WORD.findall(answer.lower()):
        if len(word) < MIN_SHARED + 1 or word in text or word.replace(".", "").isdigit():
            continue
        near = [w for w in words if _near(word, w)]
        if near and not any(_inflected(word, w) for w in near):
            found.append(word)
    return found


# English inflections: the ends two forms of one word may differ by.
_ENDINGS = frozenset({"", "s", "es", "d", "ed", "ing", "e", "er", "ers", "ly"})


def _inflected(word: str, other: str) -> bool:
    """Whether the two are forms of one word ("lists" and "listed", "appears"
    and "appear"; not "portado" and "porto")."""
    stem = 0
    while stem < min(len(word), len(other)) and word[stem] == other[stem]:
        stem += 1
    return word[stem:] in _ENDINGS and other[stem:] in _ENDINGS


_URLS = re.compile(r"\w+://\S+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def ungrounded(answer: str, source: str, about: str = "") -> bool:
    """Whether no word of ``answer`` (three letters or more) is a word of
    ``source`` or a form of one, and it holds no number but those only
    ``about`` has (a number is computed, not copied: "3 files" after a
    listing stands; the 200 of a status line is no answer to what a page
    says). URLs say where, not what; an answer of short words only ("x")
    is not judged."""
    source_words = set(_WORD.findall(_URLS.sub(" ", source).lower()))
    about_numbers = set(_NUMBER.findall(about)) - set(_NUMBER.findall(source))
    words = _WORD.findall(answer.lower())
    if not any(len(w) >= MIN_SHARED or _NUMBER.fullmatch(w) for w in words):
        return False  # only short words ("x", "ok"): nothing to tell a copy by
    for word in words:
        if _NUMBER.fullmatch(word):
            if word not in about_numbers:
                return False
        elif len(word) >= MIN_SHARED and (
            word in source_words or any(_inflected(word, w) for w in source_words)
        ):
            return False
    return True


# A file type in a task (".md", ".py"): a word however short.
_EXTENSION = re.compile(r"(?<!\w)\.(\w+)")


def _word_set(text: str) -> set[str]:
    """The words of ``text``, and the parts of a dotted, slashed or
    snake-cased one ("summary.log" also gives "log", "banana_bread.md"
    "banana")."""
    found: set[str] = set()
    for word in _WORD.findall(text.lower()):
        found.add(word)
        found.update(part for part in re.split(r"[./@_-]", word) if part)
    return found


def _tokens(text: str) -> list[str]:
    return re.sub(r"[^\w ]+", " ", text.lower()).split()


def _copies(answer: list[str], line: list[str]) -> bool:
    """Whether the words ``answer`` are a run of the words ``line``."""
    size = len(answer)
    return any(line[i : i + size] == answer for i in range(len(line) - size + 1))


def pointed_line(task: str, lines: Sequence[str], acted_on: str = "") -> int | None:
    """The line of a result that ``task`` points to: the one line holding
    most of the task's words that no other line holds (or a form of them:
    "words" for "word"), or None when no line or several do. Words of
    ``acted_on`` (the call's arguments: the file read, the folder counted)
    are in every line's context, so they point nowhere."""
    known = _word_set(acted_on)
    # Words of four letters or more, and a file type however short: three
    # letters let "the" point to the one line that held it.
    asked = {w for w in _word_set(task) if len(w) > MIN_SHARED and not w.isdigit()}
    asked = (asked | set(_EXTENSION.findall(task.lower()))) - known
    held = [_word_set(line) for line in lines]
    score = [0] * len(lines)
    for word in asked:
        where = [i for i, words in enumerate(held) if any(_inflected(word, w) for w in words)]
        if len(where) == 1:
            score[where[0]] += 1
    best = max(score, default=0)
    return score.index(best) if best and score.count(best) == 1 else None


def misplaced_answer(
    task: str, lines: Sequence[str], answer: str, acted_on: str = ""
) -> str | None:
    """The line ``answer`` should have come from, when it is made of copies
    of lines of a result (each part, split at ";", a copy of one line) other
    than, or besides, the line the task points to (:func:`pointed_line`):
    the model answered "4 .png files" to "How many files are in scans?"
    after reading "scans has 6 files / 4 .png files / 2 .jpg files", and
    "Sponsor: Dmitri Kowalski; Reviewer: Sienna Haddad" to "team.txt
    reviewer?". An answer of the model's own words stands."""
    if len(lines) < 2:
        return None
    held = [_tokens(line) for line in lines]
    copied: set[int] = set()
    for part in re.split(r"[;\n]", answer):
        said = _tokens(part)
        if not said:
            continue
        hits = [i for i, words in enumerate(held) if _copies(said, words)]
        if len(hits) != 1:
            return None
        copied.add(hits[0])
    pointed = pointed_line(task, lines, acted_on)
    if not copied or pointed is None or copied == {pointed}:
        return None
    return lines[pointed]


FIELD_TOOL = "read_field"


def field_values(results: Sequence[ToolMessage]) -> list[str]:
    """The values ``read_field`` found in ``results`` (its result is one
    ``key = value`` line). An answer to a field's question holds its value:
    the 270M model answered "cache.host" (the key) after reading
    ``cache.host = cache.internal``, and "quill.log" for
    ``/var/log/quill.log``."""
    values: list[str] = []
    for message in results:
        if message.name != FIELD_TOOL or message.status == "error":
            continue
        _key, sep, value = str(message.content).partition(" = ")
        if sep and value.strip():
            values.append(value.strip())
    return values


def _json_leaf_items(
    value: object, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    """(key path, value as text) of each leaf of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _json_leaf_items(item, (*path, str(key)))
    elif isinstance(value, list):
        for item in value:
            yield from _json_leaf_items(item, path)
    elif isinstance(value, bool):
        yield path, "true" if value else "false"
    elif value is not None:
        yield path, str(value)


MIN_KEY_PREFIX = 4


def _names_key(word: str, part: str) -> bool:
    """Whether a task's ``word`` names a key's ``part``: a form of it, or one
    starts the other, four letters or more ("temperature" for ``temp_c``)."""
    if _inflected(word, part):
        return True
    short, long = sorted((word, part), key=len)
    return len(short) >= MIN_KEY_PREFIX and long.startswith(short)


def pointed_values(task: str, bodies: Sequence[str]) -> list[str]:
    """The values of the JSON leaves ``task`` points to in ``bodies``: the
    one leaf whose key's words (split at ``_ . -``) the task names most,
    when no other leaf's key is named as much; [] when none is or several
    are. A JSON document is one line to :func:`pointed_line`: the 270M
    model answered "Bergen", the first value, to "temperature at
    /weather?" after reading ``{"city": "Bergen", "temp_c": 11}``."""
    asked = {w for w in _word_set(task) if len(w) > MIN_SHARED and not w.isdigit()}
    scored: list[tuple[int, str]] = []
    for body in bodies:
        text = body.strip()
        if text[:1] not in "{[":
            continue
        try:
            document = json.loads(text)
        except ValueError:
            continue
        for path, value in _json_leaf_items(document):
            parts = {p for key in path for p in re.split(r"[._\-\d]+", key.lower()) if p}
            score = sum(any(_names_key(word, part) for part in parts) for word in asked)
            if score and len(value) <= MAX_SPAN_CHARS:
                scored.append((score, value))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    values = [value for score, value in scored if score == best]
    return values if len(values) == 1 else []


def _latest_arguments(messages: Sequence[AnyMessage]) -> str:
    """The arguments of the model's latest calls, as text."""
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return " ".join(json.dumps(c["args"]) for c in message.tool_calls)
    return ""


def _lacks(values: Sequence[str], answer: str) -> bool:
    """Whether there are ``values`` and ``answer`` holds none of them."""
    said = answer.lower()
    return bool(values) and not any(v.lower() in said for v in values)


def _pointed_or_grounded(
    task: str, messages: Sequence[AnyMessage], tools: Sequence[BaseTool], pointed: list[str]
) -> dict[str, RequiredChoices] | None:
    """The pointed JSON values as the answer's choices (with yes/no for a
    yes/no question), else any span of the latest results; None after a
    write or an error."""
    grounded = grounded_answer(task, messages, tools)
    if grounded is None or not pointed:
        return grounded
    return {"answer": RequiredChoices([*pointed, *(YES_NO if asks_yes_no(task) else ())])}


def regrounded_answer(
    task: str, messages: Sequence[AnyMessage], tools: Sequence[BaseTool], answer: str
) -> dict[str, RequiredChoices] | None:
    """The choices to decode ``answer`` again with, when a word of it is a
    miscopy of the task or the latest results, or it holds nothing of them
    (then: any span of the results), or it lacks the value a field's read
    found (the same), or the value of the JSON leaf the task points to (then:
    that value), or it copies a line other than the one the task points to,
    or only echoes the task's words (then: a span of that line); else None
    (it stands)."""
    by_name = {t.name: t for t in tools}
    results = latest_results(messages)
    parts = [answerable(m, by_name.get(m.name or "")) for m in results]
    source = "\n".join([task, *(body for body, _ in parts)])
    about = "\n".join(head for _, head in parts)
    # A JSON leaf the task points to is the answer's span, once it is decoded again.
    pointed = pointed_values(task, [body for body, _ in parts])
    if miscopied(answer, source):
        return _pointed_or_grounded(task, messages, tools, pointed)
    # "No." to a yes/no question holds no word of the result, yet answers it.
    first = _WORD.findall(answer.lower())[:1]
    yes_no = asks_yes_no(task) and first in (["yes"], ["no"])
    if not yes_no and _lacks(field_values(results), answer):
        return grounded_answer(task, messages, tools)
    if not yes_no and _lacks(pointed, answer):
        return _pointed_or_grounded(task, messages, tools, pointed)
    if yes_no or not ungrounded(answer, source, about):
        if grounded_answer(task, messages, tools) is None:
            return None  # a write, an error: the answer is the model's own
        lines = [
            line.strip()
            for body, _ in parts
            for line in body.splitlines()
            if line.strip() and not RESULT_HEADER.match(line.strip())
        ]
        acted_on = _latest_arguments(messages)
        pointed = misplaced_answer(task, lines, answer, acted_on)
        if pointed is None and not yes_no and echoes(answer, task):
            index = pointed_line(task, lines, acted_on)
            pointed = None if index is None else lines[index]
        return None if pointed is None else {"answer": RequiredChoices(answer_spans(pointed))}
    return grounded_answer(task, messages, tools)


def echoes(answer: str, task: str) -> bool:
    """Whether ``answer`` says nothing the task did not: every word of it is
    the task's. The 270M model answered "full" to "how full was the disk
    per app.log" after reading "disk at 91%"."""
    said = set(_tokens(answer))
    return bool(said) and said <= set(_tokens(task))
