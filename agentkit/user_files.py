"""Reading files the user writes (policy TOML, tasks YAML): every problem is
one line that names the file and the key, never a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from agentkit.errors import ConfigError, describe_invalid

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def read_user_file(
    path: Path, what: str, parse: Callable[[str], T], syntax_error: type[Exception], syntax: str
) -> T:
    """``parse`` of the file's text. A missing, unreadable or non-UTF-8 file,
    a directory, or bad syntax is a one-line ConfigError naming the file
    (and the line and column of a syntax error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {path} is a directory", hint=f"give the {what} itself") from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{what} {path} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start})",
            hint="save it as UTF-8",
        ) from None
    except OSError as err:
        raise ConfigError(f"cannot read {what} {path}: {err.strerror or err}") from None
    try:
        return parse(text)
    except syntax_error as err:
        raise ConfigError(
            f"{path}{syntax_position(err)}: invalid {syntax}: {syntax_problem(err)}"
        ) from None


def syntax_position(err: Exception) -> str:
    """``:line:column`` of a YAML or TOML syntax error ("" when unknown)."""
    mark = getattr(err, "problem_mark", None)  # PyYAML's MarkedYAMLError
    if "end" in str(getattr(err, "problem", "")) and getattr(err, "context_mark", None):
        mark = err.context_mark  # ran off the end: where the unclosed thing began
    if mark is not None:
        return f":{mark.line + 1}:{mark.column + 1}"
    found = _AT_LINE.search(str(err))  # tomllib: "... (at line 3, column 7)"
    return f":{found['line']}:{found['column']}" if found else ""


def syntax_problem(err: Exception) -> str:
    """The parser's complaint in one line, without its position or excerpt."""
    problem = getattr(err, "problem", None)
    context = getattr(err, "context", None)
    if problem:
        return f"{context}, {problem}" if context else str(problem)
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return _AT_LINE.sub("", first).strip()


_AT_LINE = re.compile(r"\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)")


def validate_user_data(model: type[M], data: object, where: str) -> M:
    """``data`` as ``model`` (whose ``extra="forbid"`` catches misspelt keys)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{where}: {describe_invalid(err)}") from None
