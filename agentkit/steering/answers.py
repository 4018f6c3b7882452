"""A small model's final answer, tidied: markup it wrote after the text and
phrases it then repeated are cut."""

from __future__ import annotations

import re

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
