"""``calculator``: arithmetic evaluated from the AST, never with eval().

Allowed: numbers, + - * / // % ** (bounded), unary +/-, parentheses, and the
math module's functions and constants (sqrt, sin, log, pi, e, ...) plus abs,
round, min, max. Any other name, attribute, call, subscript, string or
comprehension is refused.

Arithmetic written in words is read too (``37 times 12``, ``15% of 240``,
``square root of 1764``, ``add 1250 and 3775``, ``divide 1000 by 8``): small
models copy the user's wording into the expression, and refusing it only
costs them a step. The words are rewritten into an expression first; what
is evaluated is still only the AST above.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.base import ToolExample, declare
from agentkit.tools.limits import describe_validation_error

MAX_EXPRESSION_CHARS = 500
MAX_POWER_RESULT_BITS = 4096
MAX_FACTORIAL = 1000

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(math, name)
    for name in dir(math)
    if not name.startswith("_") and callable(getattr(math, name))
}
_FUNCTIONS.update({"abs": abs, "round": round, "min": min, "max": max})
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan}


class CalculatorError(ToolException):
    pass


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent * max(1, abs(base).bit_length()) > MAX_POWER_RESULT_BITS:
            raise CalculatorError("calculator: result too large")
    if (
        isinstance(exponent, int | float)
        and abs(exponent) > 10_000
        and isinstance(base, int)
        and abs(base) > 1
    ):
        raise CalculatorError("calculator: exponent too large")
    return operator.pow(base, exponent)


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        if isinstance(node.op, ast.Mult) and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_POWER_RESULT_BITS:
                raise CalculatorError("calculator: result too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculatorError(
            f"calculator: unknown name '{node.id}' (only math functions and pi, e, tau, inf)"
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name not in _FUNCTIONS:
            raise CalculatorError(f"calculator: unknown function '{name}'")
        args = [_eval(a) for a in node.args]
        if name == "factorial" and args and isinstance(args[0], int) and args[0] > MAX_FACTORIAL:
            raise CalculatorError(f"calculator: factorial argument above {MAX_FACTORIAL}")
        if name in ("comb", "perm") and any(
            isinstance(a, int) and a > 10 * MAX_FACTORIAL for a in args
        ):
            raise CalculatorError("calculator: argument too large")
        return _FUNCTIONS[name](*args)
    raise CalculatorError(
        f"calculator: '{type(node).__name__}' is not allowed; use numbers, operators and math functions"
    )


_NUMBER = r"-?\d+(?:\.\d+)?"
# (pattern, replacement), applied in order to the lower-cased text.
_WORDS: tuple[tuple[str, str], ...] = (
    (r"[?!]+$|^\s*(?:what(?:'s| is)|compute|calculate|evaluate)\s+", ""),
    (rf"({_NUMBER})\s*%\s*of\s*", r"\1 / 100 * "),
    (rf"({_NUMBER})\s+percent\s+of\s+", r"\1 / 100 * "),
    (r"(?:the\s+)?square\s+root\s+of\s+(" + _NUMBER + ")", r"sqrt(\1)"),
    (rf"\badd\s+({_NUMBER})\s+(?:and|to)\s+({_NUMBER})", r"\1 + \2"),
    (rf"\bsubtract\s+({_NUMBER})\s+from\s+({_NUMBER})", r"\2 - \1"),
    (rf"\bmultiply\s+({_NUMBER})\s+(?:and|by|with)\s+({_NUMBER})", r"\1 * \2"),
    (rf"\bdivide\s+({_NUMBER})\s+by\s+({_NUMBER})", r"\1 / \2"),
    (r"\b(?:times|multiplied\s+by|x)\b", "*"),
    (r"\b(?:divided\s+by|over)\b", "/"),
    (r"\b(?:plus|and)\b", "+"),
    (r"\bminus\b", "-"),
    (r"\b(?:to\s+the\s+power\s+of|raised\s+to)\b", "**"),
    (r"(?<=\d),(?=\d{3}\b)", ""),  # 1,250 -> 1250
)


def from_words(expression: str) -> str:
    """``expression`` with arithmetic words replaced by operators; returned
    unchanged when it already parses."""
    try:
        ast.parse(expression.strip(), mode="eval")
        return expression
    except SyntaxError:
        pass
    text = expression.strip().lower()
    for pattern, replacement in _WORDS:
        text = re.sub(pattern, replacement, text)
    return text


def evaluate(expression: str) -> int | float:
    """The value of an arithmetic expression, or :class:`CalculatorError`."""
    text = from_words(expression.strip().replace("^", "**"))
    if not text:
        raise CalculatorError("calculator: empty expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(
            f"calculator: expression longer than {MAX_EXPRESSION_CHARS} characters"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise CalculatorError(f"calculator: not an arithmetic expression ({err.msg})") from None
    try:
        return _eval(tree)
    except CalculatorError:
        raise
    except (ArithmeticError, ValueError, TypeError) as err:
        raise CalculatorError(f"calculator: {err}") from None


# Grounded expressions. A 270M model wrote "12 * 7" (its worked example's
# numbers) for "how many eggs are in pancakes.md?" and "1250 * 3775" for
# "add 1250 and 3775". An expression may only be a span of the text that
# computes (the calculator reads words), or numbers from the text joined by
# operators; with no number in the text there is nothing to compute yet, and
# the calculator is not offered (read the file first).
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


def expression_choices(arg: str, text: str) -> list[str] | str | None:
    """What ``calculator``'s expression may be, given the task and results
    in ``text``: a regex over the spans that compute and the numbers written
    in it, or ``[]`` (not callable) when it holds no number."""
    if arg != "expression":
        return None
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


class CalculatorArgs(BaseModel):
    expression: str = Field(description="Arithmetic, e.g. '2 * (3 + 4) ** 2' or 'sqrt(2) * pi'.")


def calculator_tool() -> BaseTool:
    def calculator(expression: str) -> str:
        value = evaluate(expression)
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return str(value)

    tool = StructuredTool.from_function(
        func=calculator,
        name="calculator",
        description="Evaluate an arithmetic expression (+ - * / // % **, math functions like sqrt, sin, log; constants pi, e).",
        args_schema=CalculatorArgs,
        handle_tool_error=True,
        handle_validation_error=describe_validation_error,
    )
    return declare(
        tool,
        ["read"],
        examples=CALCULATOR_EXAMPLES,
        choices=expression_choices,
        choices_small_only=True,
    )


CALCULATOR_EXAMPLES = (
    ToolExample(
        request="What is 12 times 7?",
        args={"expression": "12 times 7"},
        result="84",
        answer="84",
    ),
    ToolExample(request="add 17 and 25"),
    ToolExample(request="What's 20% of 150?"),
    ToolExample(request="square root of 81"),
    ToolExample(request="divide 90 by 4"),
)
