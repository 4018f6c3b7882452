"""Decoding hints as logit biases over a model's tokens: the prior on a
tool name's first token, and the copy and avoid biases inside calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agentkit.models.engine import LlamaEngine
from agentkit.models.hints import DecodeHints
from agentkit.models.profile import ModelProfile
from agentkit.models.prompt import TOOL_CALL_OPEN, ToolPromptStyle, tools_instruction

# A chat model's own defaults for a small model called without hints (the
# agent always passes its steering's hints), measured on agentkit eval: copy
# from the request and results, avoid the tool instructions' words, lean to
# a call after a request and to text after a result.
SMALL_COPY_BIAS = 2.0
SMALL_AVOID_BIAS = 4.0
SMALL_AUTO_CALL_BIAS = 8.0


def steer(
    value: float | None, small_default: float, profile: ModelProfile, *, base_only: bool = False
) -> float:
    """``value`` when set; else ``small_default`` for a small model (a small
    base model with ``base_only``), 0 for others."""
    if value is not None:
        return value
    if not profile.small or (base_only and not profile.base):
        return 0.0
    return small_default


def default_hints(
    profile: ModelProfile,
    copy_value: float | None,
    avoid_value: float | None,
    messages: Sequence[BaseMessage],
    tools: list[dict[str, Any]] | None,
    choice: str,
    tool_prompt: ToolPromptStyle,
) -> DecodeHints:
    """Hints for a call made without any: a small model copies from the
    conversation's latest request and results and does not echo the tool
    instructions."""
    avoid = tools_instruction(tools, choice, tool_prompt) if tools else ""
    # An instruct model copies by itself; the bonus made SmolLM2-135M
    # Instruct write '}}</tool_call>' into its arguments.
    return DecodeHints(
        copy_from=latest_exchange(messages),
        copy_bias=steer(copy_value, SMALL_COPY_BIAS, profile, base_only=True),
        avoid_from=avoid,
        avoid_bias=steer(avoid_value, SMALL_AVOID_BIAS, profile),
    )


def turn_bias(
    engine: LlamaEngine, profile: ModelProfile, value: float | None, last: BaseMessage
) -> dict[int, float]:
    """In ``auto`` mode, lean towards a call after a user message and towards
    a text answer after a tool result: the request → call → result → answer
    rhythm a small model does not find on its own (it echoed the tool
    instructions as text)."""
    bias = steer(value, SMALL_AUTO_CALL_BIAS, profile)
    if not bias or isinstance(last, AIMessage):
        return {}
    opening = engine.tokenize(TOOL_CALL_OPEN, add_special=False)[:1]
    sign = -1.0 if isinstance(last, ToolMessage) else 1.0
    return {opening[0]: sign * bias} if opening else {}


def latest_exchange(messages: Sequence[BaseMessage]) -> str:
    """The last user message and the tool results after it."""
    parts: list[str] = []
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            parts.append(str(message.content))
        elif isinstance(message, HumanMessage):
            parts.append(str(message.content))
            break
    return "\n".join(reversed(parts))


def name_bias(engine: LlamaEngine, tool_bias: Mapping[str, float]) -> dict[int, float]:
    """``tool_bias`` (per tool name) as a logit bias on each name's first
    token: the first token generated after ``{"name": "`` picks the tool.
    Names sharing a first token share the larger bias."""
    out: dict[int, float] = {}
    for name, bias in tool_bias.items():
        tokens = engine.tokenize(name, add_special=False)
        if tokens:
            out[tokens[0]] = max(out.get(tokens[0], bias), bias)
    return out


def text_tokens(engine: LlamaEngine, text: str) -> set[int]:
    """The tokens of ``text`` (and of its words with a leading space, as they
    appear mid-sentence), control tokens left out."""
    ids = set(engine.tokenize(text, add_special=False))
    ids |= set(engine.tokenize(" " + " ".join(text.split()), add_special=False))
    return {i for i in ids if not engine.is_control(i)}


def copy_bias(engine: LlamaEngine, hints: DecodeHints) -> dict[int, float] | None:
    """``copy_bias`` for the tokens of ``copy_from`` (the task, the latest
    result) and ``-avoid_bias`` for the words of ``avoid_from`` (worked
    examples' values) that ``copy_from`` does not have: a small model's
    induction copies from the nearest example unless told otherwise."""
    bias: dict[int, float] = {}
    kinds = hints.kinds()
    copied = text_tokens(engine, hints.copy_from) if "copy" in kinds else set()
    if "avoid" in kinds:
        avoid = hints.avoid_from
        # The same words capitalised too: penalising "see you soon" alone
        # made the model write "See You Soon".
        variants = "\n".join((avoid, avoid.title(), avoid.upper()))
        for token in text_tokens(engine, variants) - copied:
            piece = engine.token_text(token).replace("\u2581", " ").strip()
            if len(piece) > 2 and any(ch.isalnum() for ch in piece):
                bias[token] = -hints.avoid_bias
    for token in copied:
        bias[token] = hints.copy_bias
    return bias or None
