"""What a task asks for: a change, and which requests it joins.

These are English patterns, the last rules of their kind: each one must win
held-out eval cases to stay (docs/evals.md).
"""

from __future__ import annotations

import re

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


# A sentence that asks for information: it ends with "?" or opens like a
# question. A verb of change inside one is about the file, not a request
# ("Which name is written in names.txt?" overwrote names.txt), unless it is
# a request put as a question ("Can you add milk to list.txt?").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# File names and URLs say where, not what ("Check backup.cfg" asks nothing
# to be backed up).
_NAMES = re.compile(r"\S+\.[A-Za-z0-9]{1,8}\b|\w+://\S+")
_QUESTION_START = re.compile(
    r"^\s*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|does|do|did"
    r"|has|have|had)\b",
    re.IGNORECASE,
)
_REQUEST_QUESTION = re.compile(
    r"^\s*(?:(?:can|could|would|will)\s+(?:you|u)|please|(?:do|would)\s+you\s+mind)\b",
    re.IGNORECASE,
)


def is_question(sentence: str) -> bool:
    """Whether ``sentence`` asks for information (not a request put as a question)."""
    if _REQUEST_QUESTION.match(sentence):
        return False
    return sentence.rstrip().endswith("?") or _QUESTION_START.match(sentence) is not None


# A verb form that describes a state, not a request: a past participle
# ("the date it was saved with", "is Lima written in plan.txt") or a
# gerund. A request uses the verb's base form ("save", "write it").
_DESCRIBING = re.compile(r"(?:ed|en|ing)$|^(?:made|kept)$", re.IGNORECASE)


def _requests_a_change(sentence: str) -> bool:
    text = _NAMES.sub(" ", sentence)
    for match in CHANGE_INTENT.finditer(text):
        word = re.search(r"\w+", text[match.start() :])
        if word is None or not _DESCRIBING.search(word.group(0)):
            return True
    return False


def asks_for_change(task: str) -> bool:
    """Whether ``task`` asks for something to be written or changed: a
    sentence that is not a question names a change with a verb in the form
    of a request."""
    return any(
        _requests_a_change(sentence) and not is_question(sentence)
        for sentence in _SENTENCE_END.split(task)
        if sentence.strip()
    )


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


def only_asks(task: str) -> bool:
    """Whether every sentence of ``task`` is a question asking for
    information (a request put as a question, "can you add ...?", is not):
    such a task changes nothing, whatever verbs its questions hold."""
    sentences = [s for s in _SENTENCE_END.split(task) if s.strip()]
    return bool(sentences) and all(is_question(s) for s in sentences)
