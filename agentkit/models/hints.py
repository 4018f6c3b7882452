"""What a caller may ask of the decoder besides the prompt: the contract
between steering (agentkit.steering) and a chat model.

A chat model that takes ``hints=`` in ``bind_tools`` (:class:`HintedModel`)
applies what its engine supports and names the rest in the reply's
``response_metadata["hints_ignored"]``; the in-process engine supports every
kind, a llama.cpp server only the ones that travel in its grammar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from agentkit.models.grammar import ArgChoices

HintKind = Literal["arg_choices", "required_tool", "tool_bias", "copy", "avoid"]
ALL_HINTS: frozenset[HintKind] = frozenset(
    {"arg_choices", "required_tool", "tool_bias", "copy", "avoid"}
)
# What a prompt and a grammar can carry to a server: no per-token biases.
GRAMMAR_HINTS: frozenset[HintKind] = frozenset({"arg_choices", "required_tool"})


@dataclass(frozen=True)
class DecodeHints:
    """Per-call guidance for the decoder. Empty hints change nothing.

    - ``arg_choices``: per tool, per string argument, the values it may take
      now (or a regex it must match). A tool left with no value for an
      argument is not callable this call: it is never offered unnarrowed.
    - ``required_tool``: the call must be to this tool when it is callable
      (the prompt stays the same, so its KV cache is reused).
    - ``tool_bias``: a logit bias on each tool name's first token.
    - ``copy_from``/``copy_bias``: a bonus inside calls and JSON for tokens
      of that text; ``avoid_from``/``avoid_bias``: a penalty for its words
      that ``copy_from`` does not contain.
    """

    arg_choices: Mapping[str, Mapping[str, ArgChoices]] = field(default_factory=dict)
    required_tool: str | None = None
    tool_bias: Mapping[str, float] = field(default_factory=dict)
    copy_from: str = ""
    copy_bias: float = 0.0
    avoid_from: str = ""
    avoid_bias: float = 0.0

    def kinds(self) -> frozenset[HintKind]:
        """The kinds of guidance these hints actually carry."""
        given: set[HintKind] = set()
        if self.arg_choices:
            given.add("arg_choices")
        if self.required_tool:
            given.add("required_tool")
        if self.tool_bias:
            given.add("tool_bias")
        if self.copy_from and self.copy_bias:
            given.add("copy")
        if self.avoid_from and self.avoid_bias:
            given.add("avoid")
        return frozenset(given)


@runtime_checkable
class HintedModel(Protocol):
    """A chat model whose ``bind_tools`` takes ``hints: DecodeHints``."""

    @property
    def supported_hints(self) -> frozenset[HintKind]: ...
