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
import math
from dataclasses import dataclass
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


# llama.cpp's JSON string character: any but a quote, a backslash or a
# control character, or an escape (\n, \u00e9).
_PLAIN_EXCLUDED = r'"\\\x7F\x00-\x1F'
_ESCAPE_CLASS = r'"\\/bfnrt'
_HEX4 = "[0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F]"
_ESCAPE = f'"\\\\" ([{_ESCAPE_CLASS}] | "u" {_HEX4})'
JSON_CHAR_RULE = f"[^{_PLAIN_EXCLUDED}] | {_ESCAPE}"
# Digits of an integer the schema does not bound. llama.cpp's converter
# allows 16, and the 270M model filled them (`end_line: 100000000000000`);
# nine still admit any count, size or line number a tool takes.
MAX_DIGITS = 9
MAX_NESTED_STRING = 64  # longer maxLength bounds become a chain of rules


def _same_length(low: str, high: str) -> list[list[str]]:
    """Digit patterns (each a list of GBNF atoms) covering low..high, two
    numerals with the same number of digits."""
    if low == high:
        return [[f'"{d}"' for d in low]]
    if len(low) == 1:
        return [[f"[{low}-{high}]"]]
    prefix: list[str] = []
    while low[0] == high[0]:
        prefix.append(f'"{low[0]}"')
        low, high = low[1:], high[1:]
        if len(low) == 1:
            return [[*prefix, f"[{low}-{high}]"]]
    rest = len(low) - 1
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        return [[*prefix, f"[{low[0]}-{high[0]}]", *["[0-9]"] * rest]]
    out = [[*prefix, f'"{low[0]}"', *p] for p in _same_length(low[1:], "9" * rest)]
    if int(high[0]) - int(low[0]) > 1:
        out.append([*prefix, f"[{int(low[0]) + 1}-{int(high[0]) - 1}]", *["[0-9]"] * rest])
    out += [[*prefix, f'"{high[0]}"', *p] for p in _same_length("0" * rest, high[1:])]
    return out


def _non_negative(low: int, high: int) -> list[list[str]]:
    patterns: list[list[str]] = []
    start = low
    while start <= high:
        digits = len(str(start))
        end = min(high, 10**digits - 1)
        patterns += _same_length(str(start), str(end))
        start = end + 1
    return patterns


def integer_range_rule(low: int | None, high: int | None) -> str:
    """GBNF for the integers in [low, high] (an open bound is limited to
    ``MAX_DIGITS`` digits)."""
    limit = 10**MAX_DIGITS - 1
    # An open bound spans MAX_DIGITS digits from the other (explicit) bound.
    if low is None:
        low = -limit if high is None or high >= -limit else high - limit
    if high is None:
        high = limit if low <= limit else low + limit
    if low > high:
        raise ValueError(f"empty integer range [{low}, {high}]")
    alternatives: list[str] = []
    if low < 0:
        neg_low, neg_high = max(1, -high) if high < 0 else 1, -low
        alternatives += ['"-" ' + " ".join(p) for p in _non_negative(neg_low, neg_high)]
    if high >= 0:
        alternatives += [" ".join(p) for p in _non_negative(max(low, 0), high)]
    return "(" + " | ".join(alternatives) + ") space"


def _bounds(schema: dict[str, Any]) -> tuple[int | None, int | None]:
    low = high = None
    if "minimum" in schema:
        low = math.ceil(schema["minimum"])
    if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
        low = max(
            low if low is not None else -(10**MAX_DIGITS),
            math.floor(schema["exclusiveMinimum"]) + 1,
        )
    if "maximum" in schema:
        high = math.floor(schema["maximum"])
    if "exclusiveMaximum" in schema and not isinstance(schema["exclusiveMaximum"], bool):
        high = min(
            high if high is not None else 10**MAX_DIGITS, math.ceil(schema["exclusiveMaximum"]) - 1
        )
    return low, high


_JSON_ESCAPES = '"\\/bfnrt'  # the letters after a backslash, as _ESCAPE_CLASS allows
MAX_DIFFERING_CHARS = 400  # one rule per character of the value to differ from


def _json_units(value: str) -> list[str]:
    """``value`` as the JSON text a model writes for it, one character (or
    escape, ``\\n``) at a time."""
    text = json.dumps(value, ensure_ascii=False)[1:-1]
    units: list[str] = []
    index = 0
    while index < len(text):
        size = (6 if text[index + 1] == "u" else 2) if text[index] == "\\" else 1
        units.append(text[index : index + size])
        index += size
    return units


def _code(char: str) -> str:
    return f"\\u{ord(char):04X}" if ord(char) < 0x10000 else f"\\U{ord(char):08X}"


def _other_than(unit: str) -> str:
    """A GBNF alternative for any one JSON string character except ``unit``
    (:data:`JSON_CHAR_RULE` less that one)."""
    if len(unit) == 1:
        return f"[^{_PLAIN_EXCLUDED}{_code(unit)}] | {_ESCAPE}"
    if unit[1] == "u":
        return JSON_CHAR_RULE  # a rare escape: differing by spelling is enough
    others = "".join(_code(c) for c in _JSON_ESCAPES if c != unit[1])
    return f'[^{_PLAIN_EXCLUDED}] | "\\\\" ([{others}] | "u" {_HEX4})'


def _converter() -> Any:
    from llama_cpp.llama_grammar import PRIMITIVE_RULES, SchemaConverter

    class BoundedSchemaConverter(SchemaConverter):
        """Adds integer bounds (minimum/maximum, exclusive or not), which
        llama-cpp-python's port of the converter leaves as a TODO, uses
        llama.cpp's string-character rule, and writes long string bounds as
        rule chains llama.cpp accepts."""

        def _bounded_string(self, schema: dict[str, Any], name: str) -> str:
            """A string of minLength..maxLength characters as a chain of
            named rules. The port writes the bound as nested optional groups,
            which llama.cpp's parser turns into rules with a repetition count
            that grows with every rule before them: two long bounds in one
            grammar (remember: 2000, final_answer: 800) made llama.cpp refuse
            it. A chain of plain alternatives has no repetition at all."""
            char = self._add_primitive("char", PRIMITIVE_RULES["char"])
            low, high = int(schema.get("minLength", 0)), int(schema["maxLength"])
            # Position k is required below minLength, else "" ends the string.
            following = self._add_rule(
                f"{name}-c{high - 1}", f'{char} | ""' if high - 1 >= low else char
            )
            for index in range(high - 2, -1, -1):
                body = f"{char} {following}"
                following = self._add_rule(
                    f"{name}-c{index}", body if index < low else f'{body} | ""'
                )
            return self._add_rule(name, f'"\\"" {following} "\\"" space')

        def _format_literal(self, literal: str) -> str:
            # The port leaves backslashes as they are, so an enum value with a
            # quote in it ('"port": 8080,' is '\\"port\\"...' in JSON) ended
            # the GBNF literal early and llama.cpp rejected the grammar.
            escaped = literal.replace("\\", "\\\\")
            for char, escape in (("\r", "\\r"), ("\n", "\\n"), ('"', '\\"')):
                escaped = escaped.replace(char, escape)
            return f'"{escaped}"'

        def _add_primitive(self, name: str, rule: Any) -> str:
            if name == "char":
                # llama.cpp's own rule: no raw control characters inside
                # strings (the port allows them, and json.loads rejects a raw
                # newline the model writes into a string).
                rule = type(rule)(JSON_CHAR_RULE, [])
            return super()._add_primitive(name, rule)

        def _differing_string(self, value: str, name: str) -> str:
            """A JSON string whose value is not ``value``: a prefix of it, a
            first character that differs followed by anything, or all of it
            and more (one rule per character)."""
            char = self._add_primitive("char", PRIMITIVE_RULES["char"])
            units = _json_units(value)
            following = self._add_rule(f"{name}-d{len(units)}", f"{char} {char}*")
            for index in range(len(units) - 1, -1, -1):
                unit = units[index]
                same = self._format_literal(unit)  # as JSON text: \\n is two characters
                following = self._add_rule(
                    f"{name}-d{index}",
                    f'"" | {same} {following} | ({_other_than(unit)}) {char}*',
                )
            return self._add_rule(name, f'"\\"" {following} "\\"" space')

        def visit(self, schema: Any, name: str) -> str:
            negated = schema.get("not") if isinstance(schema, dict) else None
            differs = negated.get("const") if isinstance(negated, dict) else None
            if (
                isinstance(differs, str)
                and schema.get("type") == "string"
                and 0 < len(differs) <= MAX_DIFFERING_CHARS
            ):
                return self._differing_string(differs, name or "root")
            if (
                isinstance(schema, dict)
                and schema.get("type") == "string"
                and schema.get("maxLength", 0) > MAX_NESTED_STRING
                and not schema.get("pattern")
                and not schema.get("format")
            ):
                return self._bounded_string(schema, name or "root")
            if (
                isinstance(schema, dict)
                and schema.get("type") == "integer"
                and "enum" not in schema
                and "const" not in schema
            ):
                low, high = _bounds(schema)
                rule_name = name or "root"
                return self._add_rule(rule_name, integer_range_rule(low, high))
            return super().visit(schema, name)

    converter = BoundedSchemaConverter(
        prop_order={"name": 0, "arguments": 1}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    # No free whitespace: the default allows a newline plus 20 indent
    # characters, which a weak model fills until it runs out of tokens. The
    # separators get their one space back in :func:`_canonical`.
    converter._rules["space"] = '""'
    return converter


def _canonical(gbnf: str) -> str:
    """Separators as ``json.dumps`` writes them (``", "`` and ``": "``), the
    only whitespace allowed. The prompt shows every call in this form, and
    with no whitespace choice the text between values is forced, so the
    engine can jump over it (:mod:`agentkit.models.forced`)."""
    return gbnf.replace('":" space', '": "').replace('"," space', '", "')


def json_grammar(schema: dict[str, Any]) -> str:
    """Grammar for one JSON value matching ``schema``."""
    converter = _converter()
    schema = converter.resolve_refs(tighten(schema), "schema")
    converter.visit(schema, "")
    return _canonical(converter.format_grammar())


class RequiredChoices(list[str]):
    """Allowed values of an argument that must be given even where the schema
    has a default: a small model otherwise closed ``edit_file``'s call after
    its path. (Other narrowed arguments keep their schema's default: made to
    name a path, ``grep`` searched one file instead of the workspace.)"""


class Omitted(list[str]):
    """An optional argument the call may not give now: it keeps its schema's
    default. The 270M model read only the first line of a file when the task
    asked about another one ("Who leads the work in plan.txt?")."""


@dataclass(frozen=True)
class Differs:
    """A string argument that may be anything but ``value`` (the grammar
    enforces it): a small model wrote ``edit_file``'s new_string equal to its
    old_string, a call that can only fail."""

    value: str


@dataclass(frozen=True)
class Fixed:
    """An argument of any type that must be given as ``value``: a call the
    steering layer repeats with one argument changed (``edit_file`` with
    ``replace_all`` after its text was found more than once)."""

    value: bool | int | str


ArgChoices = list[str] | str | Differs | Fixed
"""What a string argument may be now: a list of the allowed values, or a
regular expression (``str``) the whole value must match, or anything but
one value (:class:`Differs`), or one value of any type (:class:`Fixed`). A
pattern, a :class:`Differs` or a :class:`Fixed`, like
:class:`RequiredChoices`, must be given. :class:`Omitted`: an optional
argument (of any type) left out."""


def with_choices(
    tools: list[dict[str, Any]], arg_choices: dict[str, dict[str, ArgChoices]]
) -> list[dict[str, Any]]:
    """Copies of ``tools`` whose listed string arguments may only take the
    given values (an ``enum`` in their schema) or match the given pattern.

    A tool with no value left for a narrowed argument cannot be called now
    (``read_file`` or ``grep`` in an empty workspace, ``calculator`` before
    there is a number to compute with, ``write_file`` when the task names no
    file it may write): it is left out, even when that leaves no tool at all
    (the caller decides what then; never the unnarrowed tool)."""
    out = []
    for tool in tools:
        choices = arg_choices.get(tool["function"]["name"]) or {}
        parameters = tool["function"].get("parameters") or {}
        properties = parameters.get("properties") or {}
        required = set(parameters.get("required") or [])
        if any(
            isinstance(v, list) and not v and not isinstance(v, Omitted)
            for arg, v in choices.items()
            if arg in properties
        ):
            continue
        omitted = [
            a
            for a, v in choices.items()
            if isinstance(v, Omitted) and a in properties and a not in required
        ]
        narrowed = {arg: v for arg, v in choices.items() if arg in properties and v}
        if not narrowed and not omitted:
            out.append(tool)
            continue
        tool = copy.deepcopy(tool)
        params = tool["function"]["parameters"]
        props = params["properties"]
        for arg in omitted:
            del props[arg]
        given = list(params.get("required", []))
        for arg, values in narrowed.items():
            if isinstance(values, list):
                props[arg] = {"type": "string", "enum": list(dict.fromkeys(values))}
            elif isinstance(values, Differs):
                props[arg] = {"type": "string", "not": {"const": values.value}}
            elif isinstance(values, Fixed):
                props[arg] = {"const": values.value}
            else:
                props[arg] = {"type": "string", "pattern": f"^({values})$"}
            if not isinstance(values, list) or isinstance(values, RequiredChoices):
                given += [] if arg in given else [arg]
        # In the schema's order: llama.cpp's converter writes required
        # properties first, and old_string must come before new_string.
        params["required"] = [a for a in props if a in given]
        out.append(tool)
    return out


@dataclass(frozen=True)
class ToolCallGrammar:
    """A tool-call grammar and the text every match starts with. The prefix
    goes into the prompt instead of being decoded token by token (for a forced
    call to one tool that is ~15 tokens of fixed JSON)."""

    gbnf: str
    prefix: str


def tool_call_grammar(
    tools: list[dict[str, Any]],
    mode: ToolMode,
    max_calls: int = 1,
    open_tag: str = TOOL_CALL_OPEN,
    close_tag: str = TOOL_CALL_CLOSE,
) -> ToolCallGrammar:
    """Grammar for one or more canonical blocks
    ``<tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>``; in
    ``auto`` mode also plain text, which may not start with ``<`` (so the first
    character decides between the branches)."""
    if not tools:
        raise ValueError("tool_call_grammar needs at least one tool")
    converter = _converter()
    bodies: list[str] = []
    for index, tool in enumerate(tools):
        fn = tool["function"]
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        params = converter.resolve_refs(tighten(params), f"tool-{index}")
        args_rule = converter.visit(params, f"args-{index}")
        name = converter._format_literal(fn["name"] + '", "arguments": ')
        bodies.append(converter._add_rule(f"call-{index}", f"{name} {args_rule}"))
    body = converter._add_rule("call-body", " | ".join(bodies))
    opening = open_tag + '{"name": "'
    closing = converter._format_literal("}" + close_tag)
    block = converter._add_rule("block", f"{converter._format_literal(opening)} {body} {closing}")
    more = f' ("\n" {block}){{0,{max_calls - 1}}}' if max_calls > 1 else ""
    if mode == "auto":
        converter._add_rule("plain-text", "[^<] [^\\x00]*")
        converter._add_rule("root", f"{block}{more} | plain-text")
        prefix = ""
    elif len(tools) == 1:
        prefix = opening + tools[0]["function"]["name"] + '", "arguments": '
        args_only = converter.visit(
            converter.resolve_refs(
                tighten(
                    tools[0]["function"].get("parameters") or {"type": "object", "properties": {}}
                ),
                "tool-0",
            ),
            "args-0",
        )
        converter._add_rule("root", f"{args_only} {closing}{more}")
    else:
        prefix = opening
        converter._add_rule("root", f"{body} {closing}{more}")
    return ToolCallGrammar(gbnf=_canonical(converter.format_grammar()), prefix=prefix)


def unenforced_keywords(schema: dict[str, Any]) -> set[str]:
    """Keywords in ``schema`` the grammar does not enforce (for diagnostics)."""
    found: set[str] = set()
    text = json.dumps(schema)
    for keyword in _UNENFORCED:
        if f'"{keyword}"' in text:
            found.add(keyword)
    return found
