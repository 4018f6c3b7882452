"""Grounded calculator expressions.

A 270M model wrote "12 * 7" (its worked example's numbers) for "how many
eggs are in pancakes.md?" and "1250 * 3775" for "add 1250 and 3775". An
expression may only be a span of the text that computes (the calculator
reads words), or numbers from the text joined by operators; with no number
in the text there is nothing to compute yet, and the calculator is not
callable (read the file first).
"""

from __future__ import annotations

import re

from agentkit.models.grammar import ArgChoices
from agentkit.tools.calculator import CalculatorError, evaluate

_DIGITS = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "double": "2", "twice": "2", "half": "2", "triple": "3", "dozen": "12",
    "percent": "100", "%": "100",
}  # fmt: skip
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(w for w in _NUMBER_WORDS if w != "%") + r")\b|%")
_SPAN_CHARS = re.compile(r"[A-Za-z0-9 .%+*/()-]+")
# Notes tools add about their output ("(lines 1-2 of 2)", "(17 bytes)") hold
# numbers that are not the user's.
_OUTPUT_NOTE = re.compile(r"\((?:lines \d+-\d+ of [^)]*|\d+ lines?, \d+ bytes|\d+ bytes)\)")
# What llama.cpp's pattern converter unescapes in a literal; "." becomes [.].
_REGEX_SPECIAL = re.compile(r"([+*()?|\[\]{}])")
# Words that name an operation: when the text has some, the numbers are
# joined only by those operators ("add" wrote "1250 * 3775" otherwise).
_OPERATOR_WORDS = (
    (re.compile(r"\b(?:add\w*|plus|sum|total|more)\b", re.I), "\\+"),
    (re.compile(r"\b(?:minus|subtract\w*|less|difference|fewer)\b", re.I), "-"),
    (re.compile(r"\b(?:times|multipl\w*|product|double|twice|triple)\b", re.I), "\\*"),
    (re.compile(r"\b(?:divide\w*|over|per|split|half|average|ratio)\b", re.I), "/"),
)
_FUNCTION_WORD = re.compile(r"\d\s*%|\b(?:root|sqrt|percent)\b", re.I)
MAX_GROUNDED_NUMBERS = 24
MAX_SPAN_WORDS = 10
MAX_OPERATORS = 3


def _computing_spans(text: str) -> list[str]:
    """The longest runs of words in ``text`` that the calculator evaluates
    and that hold a digit and something to do with it."""
    found: list[str] = []
    for line in text.splitlines():
        words = [w.strip("?!,;:\"'") for w in line.split()]
        for start in range(len(words)):
            for end in range(start + 2, min(len(words), start + MAX_SPAN_WORDS) + 1):
                span = " ".join(w for w in words[start:end] if w).rstrip(".")
                if _computes(span):
                    found.append(span)
                    break
    # The shortest: "square root of 1764", not "Compute the square root of 1764".
    return [s for s in found if not any(o != s and o in s for o in found)]


def _computes(span: str) -> bool:
    """Whether ``span`` is arithmetic: two numbers and what to do with them,
    or a function of one ("square root of 81", "15% of 240"), that evaluates."""
    if not _SPAN_CHARS.fullmatch(span):
        return False
    if len(_DIGITS.findall(span)) < 2 and not _FUNCTION_WORD.search(span):
        return False
    try:
        evaluate(span)
    except (CalculatorError, RecursionError):
        return False
    return True


def _literal(text: str) -> str:
    return _REGEX_SPECIAL.sub(r"\\\1", text).replace(".", "[.]")


def expression_choices(text: str) -> ArgChoices:
    """What ``calculator``'s expression may be, given the task and results
    in ``text``: a regex over the spans that compute and the numbers written
    in it, or ``[]`` (not callable) when it holds no number."""
    text = _OUTPUT_NOTE.sub(" ", text)
    digits = list(dict.fromkeys(_DIGITS.findall(text)))
    words = [_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text)]
    if not digits and len(words) < 2:
        return []
    numbers = list(dict.fromkeys([*digits, *words]))[:MAX_GROUNDED_NUMBERS]
    number = "(" + "|".join(_literal(n) for n in numbers) + ")"
    functions = [f"sqrt\\({number}\\)"] if re.search(r"root|sqrt", text, re.I) else []
    term = "(" + "|".join([number, *functions]) + ")"
    named = [op for pattern, op in _OPERATOR_WORDS if pattern.search(text)]
    operators = "|".join(named or [op for _, op in _OPERATOR_WORDS])
    # At least one operation: a lone number computes nothing. A task that
    # names a function uses it ("square root of 1764" was "1764 * 1764").
    first = f"({'|'.join(functions)})" if functions else term
    composed = f"{first}( ({operators}) {term}){{{0 if functions else 1},{MAX_OPERATORS}}}"
    spans = [_literal(s) for s in _computing_spans(text)]
    return "|".join([*spans, composed])
