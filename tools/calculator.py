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

from langchain_core.tools import ArgsSchema, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.declared import DeclaredTool

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


class CalculatorArgs(BaseModel):
    expression: str = Field(description="Arithmetic, e.g. '2 * (3 + 4) ** 2' or 'sqrt(2) * pi'.")


class Calculator(DeclaredTool):
    name: str = "calculator"
    description: str = "Evaluate an arithmetic expression (+ - * / // % **, math functions like sqrt, sin, log; constants pi, e)."
    args_schema: ArgsSchema | None = CalculatorArgs

    def execute(self, expression: str) -> str:
        value = evaluate(expression)
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return str(value)


def calculator_tool() -> Calculator:
    return Calculator()
