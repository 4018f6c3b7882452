"""The one style every built-in tool is written in: a :class:`DeclaredTool`
subclass that carries everything about the tool in one place.

- What LangChain needs: ``name``, ``description``, ``args_schema``.
- What the tool works with, as typed fields (the workspace, limits, a
  knowledge base...), set by the builder function that makes it.
- Its contract with the approval layer (tools/base.py), attached once by
  :func:`~agentkit.tools.base.declare` when the tool is made: the class
  variables ``side_effects`` and ``shows_content`` (its results quote words
  from a source the user does not control: untrusted content), and, where
  the tool has them, the methods ``preview(args)``, ``danger(args)`` and
  ``targets(args)``; ``untrusted(args, trusted_text)`` where trust depends on
  the call.
- What it does: ``execute(**args)``. Errors the model caused are raised as
  ``ToolException`` and come back as observations, as do bad arguments and
  an ``OSError`` (one line: the file system changed under the tool).

Tools are sync; LangChain runs ``_run`` in a worker thread for ``ainvoke``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from langchain_core.tools import BaseTool, ToolException
from pydantic import ValidationError, model_validator

from agentkit.tools.base import SideEffect, declare
from agentkit.tools.limits import describe_validation_error

# The optional methods a subclass may define; declare() reads each one it has.
CONTRACT_METHODS = ("preview", "danger", "targets")


class DeclaredTool(BaseTool):
    """A built-in tool: its declaration and its work in one class (see the
    module docstring)."""

    side_effects: ClassVar[tuple[SideEffect, ...]] = ("read",)
    shows_content: ClassVar[bool] = False  # results are untrusted content
    handle_tool_error: bool | str | Callable[[ToolException], str] | None = True
    handle_validation_error: bool | str | Callable[[ValidationError], str] | None = (
        describe_validation_error
    )

    @model_validator(mode="after")
    def _declared(self) -> Self:
        found = {name: getattr(self, name, None) for name in CONTRACT_METHODS}
        return declare(self, self.side_effects, untrusted=self.untrusted, **found)

    def untrusted(self, args: Mapping[str, Any], trusted_text: str) -> bool:
        """Whether this call's result is untrusted content."""
        return self.shows_content

    def execute(self, *args: Any, **kwargs: Any) -> str:
        raise NotImplementedError

    def _run(self, *args: Any, **kwargs: Any) -> str:
        try:
            return self.execute(*args, **kwargs)
        except OSError as err:  # the file system changed under us: tell the model
            name = getattr(err, "filename", None) or ""
            detail = err.strerror or err
            raise ToolException(f"{self.name}: {name + ': ' if name else ''}{detail}") from None
