"""Tool calls as text and as LangChain calls: which tools the grammar
allows once decoding hints narrowed them, the model's ``<tool_call>``
blocks parsed and validated, and the reply's final chunk."""

from __future__ import annotations

import json
import uuid
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk

from agentkit.errors import ModelError
from agentkit.models import grammar as grammars
from agentkit.models.engine import GenerationStats
from agentkit.models.hints import DecodeHints, HintKind
from agentkit.models.prompt import TOOL_CALL_CLOSE, TOOL_CALL_OPEN


def normalise_choice(choice: Any, tool_names: list[str]) -> str:
    if choice is None or choice == "auto":
        return "auto"
    if choice is True or choice in ("any", "required"):
        return "required"
    if choice is False or choice == "none":
        return "none"
    if isinstance(choice, dict):
        choice = (choice.get("function") or {}).get("name") or choice.get("name")
    if isinstance(choice, str):
        if choice not in tool_names:
            raise ValueError(f"tool_choice '{choice}' is not one of the bound tools {tool_names}")
        return choice
    raise ValueError(f"unsupported tool_choice {choice!r}")


def narrow_tools(
    tools: list[dict[str, Any]], choice: str, hints: DecodeHints | None
) -> tuple[list[dict[str, Any]], str]:
    """The tools the grammar allows for ``choice`` once ``hints`` narrowed
    their arguments, and the choice (the required tool, when it is callable).

    A tool left with no valid value is not callable: it is never offered
    unnarrowed (a forced write_file with no path left would write anywhere).
    """
    hints = hints or DecodeHints()
    narrowed = grammars.with_choices(tools, dict(hints.arg_choices))
    callable_names = [t["function"]["name"] for t in narrowed]
    required = hints.required_tool
    if required is not None and required in callable_names and choice == "required":
        choice = required
    if choice not in ("auto", "required"):
        narrowed = [t for t in narrowed if t["function"]["name"] == choice]
    if not narrowed:
        raise ModelError(
            f"no bound tool can be called with tool_choice {choice!r} and these argument "
            "choices (each has an argument with no valid value)",
            hint="bind a tool that needs no grounded argument, e.g. a final-answer tool",
        )
    return narrowed, choice


def without_hints(hints: DecodeHints, kinds: frozenset[HintKind]) -> DecodeHints:
    """``hints`` without the guidance of ``kinds`` (what an engine cannot apply)."""
    return DecodeHints(
        arg_choices={} if "arg_choices" in kinds else hints.arg_choices,
        required_tool=None if "required_tool" in kinds else hints.required_tool,
        tool_bias={} if "tool_bias" in kinds else hints.tool_bias,
        copy_from="" if "copy" in kinds else hints.copy_from,
        copy_bias=0.0 if "copy" in kinds else hints.copy_bias,
        avoid_from="" if "avoid" in kinds else hints.avoid_from,
        avoid_bias=0.0 if "avoid" in kinds else hints.avoid_bias,
    )


def final_chunk(
    stats: GenerationStats,
    tools: list[dict[str, Any]] | None,
    metadata: dict[str, Any],
    prefix: str = "",
) -> ChatGenerationChunk:
    """The reply's last chunk: usage, ``metadata`` with the generation's
    stats, and the tool calls parsed from the text (``prefix``: the forced
    start of the reply that was put into the prompt)."""
    text = prefix + stats.text
    usage = UsageMetadata(
        input_tokens=stats.prompt_tokens,
        output_tokens=stats.completion_tokens,
        total_tokens=stats.prompt_tokens + stats.completion_tokens,
        input_token_details={"cache_read": stats.prompt_tokens_reused},
    )
    metadata = {
        **metadata,
        "finish_reason": stats.finish_reason,
        "prompt_tokens_evaluated": stats.prompt_tokens_evaluated,
        "prompt_tokens_reused": stats.prompt_tokens_reused,
        "grammar_rejections": stats.grammar_rejections,
        "draft_tokens": stats.draft_tokens,
        "draft_accepted": stats.draft_accepted,
        "decode_batches": stats.decode_batches,
        "jumped_tokens": stats.jumped_tokens,
        "closed_early": stats.closed_early,
        "timings": stats.timings(),
    }
    chunks: list[Any] = []
    if tools and text.startswith(TOOL_CALL_OPEN):
        valid, invalid = parse_tool_calls(text, tools)
        for index, call in enumerate(valid):
            chunks.append(
                tool_call_chunk(
                    name=call["name"],
                    args=json.dumps(call["args"], ensure_ascii=False),
                    id=call["id"],
                    index=index,
                )
            )
        if valid:
            metadata["finish_reason"] = "tool_calls"
        if invalid:
            metadata["invalid_tool_calls"] = invalid
    message = AIMessageChunk(
        content="",
        tool_call_chunks=chunks,
        usage_metadata=usage,
        response_metadata=metadata,
        chunk_position="last",
    )
    return ChatGenerationChunk(
        message=message, generation_info={"finish_reason": metadata["finish_reason"]}
    )


def to_generation(chunk: ChatGenerationChunk) -> ChatGeneration:
    message = chunk.message
    invalid = message.response_metadata.pop("invalid_tool_calls", [])
    ai = AIMessage(
        content=message.content,
        tool_calls=[
            tool_call(name=c["name"], args=c["args"], id=c["id"])
            for c in getattr(message, "tool_calls", [])
        ],
        invalid_tool_calls=invalid,
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
        id=message.id,
    )
    return ChatGeneration(message=ai, generation_info=chunk.generation_info)


_DECODER = json.JSONDecoder()


def _call_blocks(text: str) -> list[tuple[str, bool]]:
    """(JSON body, closed) of each ``<tool_call>...</tool_call>`` block. The
    body is read as JSON first, so a string value that contains
    ``<tool_call>`` or ``</tool_call>`` (a model quoting markup) stays inside
    its call; text that is not JSON falls back to the plain markers."""
    blocks: list[tuple[str, bool]] = []
    position = text.find(TOOL_CALL_OPEN)
    while position >= 0:
        start = position + len(TOOL_CALL_OPEN)
        begin = len(text) - len(text[start:].lstrip())  # Hermes puts the JSON on its own line
        try:
            _value, end = _DECODER.raw_decode(text, begin)
        except ValueError:
            end = -1
        close = len(text) - len(text[end:].lstrip()) if end >= 0 else -1
        if close >= 0 and text.startswith(TOOL_CALL_CLOSE, close):
            blocks.append((text[begin:end], True))
            position = text.find(TOOL_CALL_OPEN, close + len(TOOL_CALL_CLOSE))
            continue
        body, closed, _rest = text[start:].partition(TOOL_CALL_CLOSE)
        nxt = body.find(TOOL_CALL_OPEN)
        if nxt >= 0:  # cut off, and another block starts: keep that one apart
            body, closed = body[:nxt], ""
        blocks.append((body, bool(closed)))
        position = text.find(TOOL_CALL_OPEN, start + len(body))
    return blocks


def parse_tool_calls(
    text: str, tools: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Split the model's tool-call blocks into valid calls (parsed and
    validated against the tool's JSON schema) and invalid ones (e.g. cut off by
    max_tokens)."""
    import jsonschema

    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    valid: list[dict[str, Any]] = []
    invalid: list[Any] = []
    seen: set[str] = set()
    for body, closed in _call_blocks(text):
        call_id = f"call_{uuid.uuid4().hex[:24]}"
        try:
            payload = json.loads(body)
            name = payload["name"]
            args = payload["arguments"]
            if not closed:
                raise ValueError("tool call was cut off")
            if name not in schemas:
                raise ValueError(f"unknown tool {name}")
            jsonschema.validate(args, schemas[name])
        except Exception as err:  # noqa: BLE001 - any failure makes the call invalid
            invalid.append(
                invalid_tool_call(
                    name=None, args=body, id=call_id, error=f"{type(err).__name__}: {err}"
                )
            )
            continue
        key = json.dumps([name, args], sort_keys=True)
        if key in seen:  # weak models repeat a call verbatim; run it once
            continue
        seen.add(key)
        valid.append({"name": name, "args": args, "id": call_id})
    return valid, invalid
