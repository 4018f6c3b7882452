"""User-facing errors.

An :class:`AgentkitError` is something the *user* can fix (a missing model
file, a bad config value, a locked store). Front ends print ``str(err)`` as one
line and exit non-zero; they never show a traceback for it. Programming errors
are ordinary exceptions and do propagate.
"""

from __future__ import annotations


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
