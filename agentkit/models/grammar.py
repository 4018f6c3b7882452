"""JSON schemas → GBNF grammars that make a model's output valid by construction.

Tool calls are ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
blocks; the grammar pins ``name`` to a bound tool and ``arguments`` to that
tool's schema, so every call the model emits parses and validates. Schemas are
tightened first: objects without ``additionalProperties`` get ``false`` (a
weak model otherwise invents extra keys, which pydantic would drop silently).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from agentkit.models.prompt import TOOL_CALL_CLOSE, TOOL_CALL_OPEN

ToolMode = Literal["auto", "required"]

# Keywords llama.cpp's converter cannot enforce; calls that depend on them are
# validated after decoding (and reported as invalid_tool_calls if they fail).
_UNENFORCED = ("not", "if", "then", "else", "dependentSchemas", "multipleOf")


def tighten(schema: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``schema`` with closed objects and no title noise."""
    schema = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            # Close objects that declare their properties; an object with
            # none declared is free-form (json_mode) and stays open.
            if node.get("properties"):
                node.setdefault("additionalProperties", False)
            for key, value in list(node.items()):
                if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                    for sub in value.values():
                        visit(sub)
                elif key != "const" and key != "enum" and key != "default":
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return schema


def _converter() -> Any:
    from llama_cpp.llama_grammar import SchemaConverter

    converter = SchemaConverter(
        prop_order={"name": 0, "arguments": 1}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    # Compact JSON: at most one space between tokens. The default allows a
    # newline plus 20 indent characters, which a weak model fills with
    # whitespace until it runs out of tokens.
    converter._rules["space"] = '" "?'
    return converter


def json_grammar(schema: dict[str, Any]) -> str:
    """Grammar for one JSON value matching ``schema``."""
    converter = _converter()
    schema = converter.resolve_refs(tighten(schema), "schema")
    converter.visit(schema, "")
    return converter.format_grammar()


def call_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """One schema accepting ``{"name": <tool>, "arguments": <its args>}`` for any tool."""
    options = []
    for tool in tools:
        fn = tool["function"]
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        options.append(
            {
                "type": "object",
                "properties": {"name": {"const": fn["name"]}, "arguments": params},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    return options[0] if len(options) == 1 else {"anyOf": options}


def tool_call_grammar(tools: list[dict[str, Any]], mode: ToolMode, max_calls: int = 4) -> str:
    """Grammar for one or more tool-call blocks; in ``auto`` mode also plain
    text (which may not start with ``<``, so the two branches never overlap)."""
    if not tools:
        raise ValueError("tool_call_grammar needs at least one tool")
    converter = _converter()
    schema = converter.resolve_refs(tighten(call_schema(tools)), "tools")
    call_rule = converter.visit(schema, "call")
    block = f'"{TOOL_CALL_OPEN}" {call_rule} "{TOOL_CALL_CLOSE}"'
    repeat = f' ("\\n" {block}){{0,{max_calls - 1}}}' if max_calls > 1 else ""
    converter._add_rule("tool-calls", f"{block}{repeat}")
    if mode == "auto":
        converter._add_rule("plain-text", "[^<] [^\\x00]*")
        converter._add_rule("root", "tool-calls | plain-text")
    else:
        converter._add_rule("root", "tool-calls")
    return converter.format_grammar()


def unenforced_keywords(schema: dict[str, Any]) -> set[str]:
    """Keywords in ``schema`` the grammar does not enforce (for diagnostics)."""
    found: set[str] = set()
    text = json.dumps(schema)
    for keyword in _UNENFORCED:
        if f'"{keyword}"' in text:
            found.add(keyword)
    return found
