"""User-facing errors.

An :class:`AgentkitError` is something the *user* can fix (a missing model
file, a bad config value, a locked store). Front ends print ``str(err)`` as one
line and exit non-zero; they never show a traceback for it. Programming errors
are ordinary exceptions and do propagate.
"""

from __future__ import annotations

from pydantic import ValidationError


class AgentkitError(Exception):
    """An error with a one-line message that says what to do."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


class ConfigError(AgentkitError):
    """The configuration (TOML file, environment, arguments) is invalid."""


class ModelError(AgentkitError):
    """A model spec cannot be resolved or loaded."""


class StoreError(AgentkitError):
    """The vector store or checkpoint database cannot be used."""


def describe_invalid(err: ValidationError) -> str:
    """The first problem pydantic found in a file the user wrote, as one line
    that names where it is (``rules[2].action``) and what is wrong."""
    problem = err.errors()[0]
    kind = problem["type"]
    loc = tuple(part for part in problem["loc"] if part != "[key]")  # a bad dict key
    if kind in ("extra_forbidden", "missing") and loc:
        parent, name = _dotted(loc[:-1]), loc[-1]
        text = f"unknown key {name!r}" if kind == "extra_forbidden" else f"needs `{name}`"
        return f"{parent}: {text}" if parent else text
    message = problem["msg"].removeprefix("Value error, ")  # a validator's own words
    got = problem.get("input")
    if kind != "value_error" and isinstance(got, str | int | float):
        message += f", got {got!r}"
    return f"{_dotted(loc) or 'file'}: {message}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
