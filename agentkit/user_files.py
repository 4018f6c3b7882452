"""Reading files the user writes (policy TOML, tasks YAML): every problem is
one line that names the file and the key, never a traceback."""

from __future__ import annotations

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
    """``parse`` of the file's text; a missing file or bad syntax is a ConfigError."""
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except syntax_error as err:
        raise ConfigError(f"{path}: invalid {syntax}: {err}") from None


def validate_user_data(model: type[M], data: object, where: str) -> M:
    """``data`` as ``model`` (whose ``extra="forbid"`` catches misspelt keys)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{where}: {describe_invalid(err)}") from None
