"""LangChain messages → one prompt string, per chat format.

Rendering is append-only: the prompt for a conversation is a prefix of the
prompt for the same conversation plus new messages, so the engine reuses the
KV cache for everything already seen. Tool calls and tool results are written
as text (``<tool_call>{json}</tool_call>``, ``<tool_response>``) because the
formats we support by default (Gemma, ChatML) have no tool role; the grammar
in :mod:`agentkit.models.grammar` makes the model's calls parse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

Role = Literal["system", "user", "assistant"]

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"


@dataclass
class Turn:
    role: Role
    text: str


class PromptFormat(Protocol):
    name: str

    def render(self, turns: Sequence[Turn]) -> str:
        """The prompt text, ending where the assistant's reply starts."""
        ...


def _merge(turns: Sequence[Turn]) -> list[Turn]:
    """Merge consecutive turns of the same role (strict templates such as
    Gemma's require user/assistant alternation)."""
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].role == turn.role:
            merged[-1] = Turn(turn.role, merged[-1].text + "\n\n" + turn.text)
        else:
            merged.append(Turn(turn.role, turn.text))
    return merged


class GemmaFormat:
    """Gemma's turn format. Gemma has no system role: leading system text opens
    the first user turn (what Gemma's own template does)."""

    name = "gemma"

    def render(self, turns: Sequence[Turn]) -> str:
        parts: list[str] = []
        leading = 0
        while leading < len(turns) and turns[leading].role == "system":
            leading += 1
        system = "\n\n".join(t.text for t in turns[:leading])
        # A later system message stays where it is, as user text: moving it to
        # the front would change the prompt's prefix (and the KV cache reuse).
        rest = _merge([Turn("user", t.text) if t.role == "system" else t for t in turns[leading:]])
        if system:
            if rest and rest[0].role == "user":
                rest[0] = Turn("user", system + "\n\n" + rest[0].text)
            else:
                rest.insert(0, Turn("user", system))
        for turn in rest:
            role = "model" if turn.role == "assistant" else "user"
            parts.append(f"<start_of_turn>{role}\n{turn.text}<end_of_turn>\n")
        parts.append("<start_of_turn>model\n")
        return "".join(parts)


class ChatMLFormat:
    name = "chatml"

    def render(self, turns: Sequence[Turn]) -> str:
        parts = [f"<|im_start|>{t.role}\n{t.text}<|im_end|>\n" for t in _merge(turns)]
        parts.append("<|im_start|>assistant\n")
        return "".join(parts)


class JinjaFormat:
    """The model's own chat template from its GGUF metadata."""

    name = "gguf-template"

    def __init__(self, template: str, bos_token: str, eos_token: str) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.bos_token = bos_token
        self.native_tools, self.native_reason = native_tool_style(template)
        self._formatter = Jinja2ChatFormatter(
            template=template, bos_token=bos_token, eos_token=eos_token
        )

    def render(self, turns: Sequence[Turn]) -> str:
        messages: list[Any] = [{"role": t.role, "content": t.text} for t in _merge(turns)]
        return self._formatter(messages=messages).prompt

    def render_with_tools(
        self, messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]]
    ) -> str:
        """The template's own rendering of ``tools`` and the conversation."""
        return self._formatter(messages=template_messages(messages), tools=list(tools)).prompt


NativeToolStyle = Literal["hermes"]
# How a Hermes-style template (Qwen 2.5/3, Hermes, many fine-tunes) writes a
# call: the JSON on its own line between the tags.
HERMES_OPEN = TOOL_CALL_OPEN + "\n"
HERMES_CLOSE = "\n" + TOOL_CALL_CLOSE


def native_tool_style(template: str | None) -> tuple[NativeToolStyle | None, str]:
    """Whether a GGUF chat template declares native tool calling that agentkit
    renders and constrains (and why not, when it does not)."""
    if not template:
        return None, "no chat template in the GGUF"
    if "tools" not in template:
        return None, "the chat template takes no tools"
    if TOOL_CALL_OPEN in template:
        return "hermes", "the chat template renders tools and <tool_call> blocks (Hermes/Qwen)"
    if "[TOOL_CALLS]" in template:
        return None, "Mistral [TOOL_CALLS] templates are not rendered natively yet"
    if "<|python_tag|>" in template or "ipython" in template:
        return None, "Llama 3.x JSON tool templates are not rendered natively yet"
    return None, "the chat template takes tools in a format agentkit does not know"


def template_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Messages as a Hugging Face chat template expects them, tool calls and
    tool results included (for templates that render tools natively)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, ToolMessage):
            out.append(
                {"role": "tool", "content": _text_of(message.content), "name": message.name or ""}
            )
        elif isinstance(message, AIMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": _text_of(message.content)}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {"type": "function", "function": {"name": c["name"], "arguments": c["args"]}}
                    for c in message.tool_calls
                ]
            out.append(entry)
        else:
            (turn,) = messages_to_turns([message])
            out.append({"role": turn.role, "content": turn.text})
    return out


FORMATS: dict[str, type[GemmaFormat] | type[ChatMLFormat]] = {
    "gemma": GemmaFormat,
    "chatml": ChatMLFormat,
}


def choose_format(
    requested: str,
    *,
    architecture: str,
    chat_template: str | None,
    bos_token: str,
    eos_token: str,
) -> PromptFormat:
    """``auto``: the GGUF's own template when it has one, else by architecture
    (Gemma's format for gemma*), else ChatML."""
    if requested != "auto":
        if requested in ("gguf", "gguf-template", "jinja"):
            if not chat_template:
                raise ValueError("chat_format=gguf but the model has no chat template")
            return JinjaFormat(chat_template, bos_token, eos_token)
        if requested not in FORMATS:
            known = ", ".join(["auto", "gguf", *FORMATS])
            raise ValueError(f"unknown chat_format '{requested}' (known: {known})")
        return FORMATS[requested]()
    if chat_template:
        return JinjaFormat(chat_template, bos_token, eos_token)
    if architecture.startswith("gemma"):
        return GemmaFormat()
    return ChatMLFormat()


# --- messages → turns ------------------------------------------------------------------


def _text_of(content: str | list[str | dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") in ("tool_use", "tool_call"):
            continue  # rendered from .tool_calls
        else:
            raise ValueError(
                f"content blocks of type '{block.get('type')}' are not supported by this model"
            )
    return "".join(parts)


def render_tool_call(name: str, args: dict[str, Any]) -> str:
    payload = json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
    return f"{TOOL_CALL_OPEN}{payload}{TOOL_CALL_CLOSE}"


def messages_to_turns(messages: Sequence[BaseMessage]) -> list[Turn]:
    turns: list[Turn] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            turns.append(Turn("system", _text_of(message.content)))
        elif isinstance(message, HumanMessage):
            turns.append(Turn("user", _text_of(message.content)))
        elif isinstance(message, AIMessage):
            text = _text_of(message.content)
            calls = "\n".join(render_tool_call(c["name"], c["args"]) for c in message.tool_calls)
            turns.append(Turn("assistant", "\n".join(p for p in (text, calls) if p)))
        elif isinstance(message, ToolMessage):
            name = message.name or "tool"
            body = _text_of(message.content)
            turns.append(Turn("user", f'<tool_response name="{name}">\n{body}\n</tool_response>'))
        elif isinstance(message, ChatMessage):
            role: Role = (
                "assistant"
                if message.role in ("assistant", "ai", "model")
                else ("system" if message.role == "system" else "user")
            )
            turns.append(Turn(role, _text_of(message.content)))
        else:
            raise ValueError(f"unsupported message type {type(message).__name__}")
    return turns


# --- instructions for tools and structured output ---------------------------------------


ToolPromptStyle = Literal["signatures", "compact", "schemas"]


def _signature(fn: dict[str, Any]) -> str:
    """``read_file(path, start_line?, end_line?)``: argument names, ``?`` for
    optional ones, the choices of a closed one (``unit=c|f``). No schema text:
    a base model copies its words (``file_path``) into arguments."""
    params = fn.get("parameters") or {}
    required = set(params.get("required", []))
    shown = []
    for name, schema in (params.get("properties") or {}).items():
        choices = schema.get("enum") if isinstance(schema, dict) else None
        text = name + ("=" + "|".join(str(c) for c in choices) if choices else "")
        shown.append(text if name in required else text + "?")
    return f"{fn['name']}({', '.join(shown)})"


def tools_instruction(
    tools: Sequence[dict[str, Any]], choice: str, style: ToolPromptStyle = "signatures"
) -> str:
    """System text that tells the model how to call tools. The grammar enforces
    the format; this text makes the right tool and arguments likelier.
    ``signatures`` (default): one line per tool, its signature and what it
    does; ``compact``: the signatures only (for a model tuned on these
    tools, which knows what they do: a third of the prompt); ``schemas``:
    each tool's JSON-schema properties (what strong models are used to)."""
    lines = [
        "You can call tools. To call a tool, reply with exactly:",
        f'{TOOL_CALL_OPEN}{{"name": "<tool name>", "arguments": {{...}}}}{TOOL_CALL_CLOSE}',
        "Tool results come back in <tool_response> blocks.",
    ]
    if choice == "auto":
        lines.append("If no tool is needed, answer in plain text instead.")
    lines.append("Tools:")
    for tool in tools:
        fn = tool["function"]
        description = fn.get("description", "").strip()
        if style == "signatures":
            lines.append(f"- {_signature(fn)}: {description}")
            continue
        if style == "compact":
            lines.append(f"- {_signature(fn)}")
            continue
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        lines.append(f"- {fn['name']}: {description}")
        lines.append(
            f"  arguments: {json.dumps(params.get('properties', {}), separators=(',', ':'))}"
        )
    return "\n".join(lines)


def json_instruction(schema: dict[str, Any]) -> str:
    return "Reply with a JSON object that matches this JSON schema:\n" + json.dumps(
        schema, separators=(",", ":")
    )
