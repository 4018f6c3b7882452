"""set_field: change one setting of a structured file by its key.

"Set the timeout in config.json to 30" asks for a value, not for new file
text: the 270M model replaced the key's name with "timeout 652" (the key
renamed, the value kept) and, once, wrote a newline inside a JSON string.
Here the model names the key (grounded in the file's own keys, as for
read_field) and the value; the tool finds the line and keeps the rest of
the file as it was: JSON is written back with its own indent, the other
formats are changed on the key's line only, so their comments stay. The
result is parsed again and must hold the new value, or nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import yaml
from langchain_core.tools import ArgsSchema, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.base import SideEffect, ToolPreview
from agentkit.tools.fields import FieldsError, file_format, find_field, is_leaf, parse_fields
from agentkit.tools.files import MAX_READ_BYTES, FileTool
from agentkit.tools.patching import diff_stats, unified_diff

_MISSING = object()
# YAML 1.1's booleans: what a boolean setting may be set to as text.
_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
_INDEX = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SECTION = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*$")
_YAML_KEY = re.compile(r"^(\s*)([^\s#:\-][^:#]*?)\s*:(?:\s+|$)(.*)$")


class SetFieldArgs(BaseModel):
    path: str = Field(
        description="The structured file (JSON, YAML, TOML, INI, .env or key = value "
        "lines); created when missing."
    )
    key: str = Field(
        description="The setting's key: dotted for nesting (server.port), or its last "
        "part when no other key ends the same way."
    )
    value: str = Field(
        description="The new value as text (8080, true, a name): a number or true/false "
        "stays a number or boolean when the old value was one."
    )


def typed_value(text: str, old: Any) -> Any:
    """``text`` as the type the setting had (a JSON literal when it is new)."""
    stripped = text.strip()
    if isinstance(old, bool) and stripped.lower() in _BOOLEANS:
        return _BOOLEANS[stripped.lower()]
    if isinstance(old, int | float) and not isinstance(old, bool) and _NUMBER.fullmatch(stripped):
        number = float(stripped)
        return int(number) if number.is_integer() and "." not in stripped else number
    if isinstance(old, str):
        return text
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return text
    return parsed if is_leaf(parsed) else text


def _segments(key: str) -> list[str | int]:
    """``a.items[0].b`` -> ["a", "items", 0, "b"]."""
    out: list[str | int] = []
    for part in key.split("."):
        head, *indexes = _INDEX.split(part)
        if head:
            out.append(head)
        out.extend(int(i) for i in indexes if i)
    return out


def _json_indent(text: str) -> int | str | None:
    """The indent the file uses: spaces, a tab, or None (it is one line)."""
    for line in text.splitlines()[1:]:
        if line.startswith("\t"):
            return "\t"
        spaces = len(line) - len(line.lstrip(" "))
        if spaces:
            return spaces
    return None


def _set_json(before: str, key: str, value: Any) -> str:
    data: Any = json.loads(before) if before.strip() else {}
    node = data
    parts = _segments(key)
    for part in parts[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            raise ToolException(f"set_field: '{key}' does not lead to a setting of the file")
    if not isinstance(node, dict | list):
        raise ToolException(f"set_field: '{key}' does not lead to a setting of the file")
    last = parts[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        raise ToolException(f"set_field: '{key}' is past the end of its list")
    node[last] = value  # type: ignore[index]
    indent = _json_indent(before) if before.strip() else 2
    out = json.dumps(data, indent=indent, ensure_ascii=False)
    return out + ("\n" if before.endswith("\n") or not before.strip() else "")


def _shown(value: Any, kind: str, old_raw: str | None) -> str:
    """``value`` written the way the file writes such values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    quote = old_raw[0] if old_raw and old_raw[0] in "\"'" and old_raw[-1] == old_raw[0] else ""
    if kind == "toml" or (kind == "yaml" and not _plain_yaml_string(text)):
        quote = quote or '"'
    if quote == '"':
        return json.dumps(text, ensure_ascii=False)
    return f"{quote}{text}{quote}"


def _plain_yaml_string(text: str) -> bool:
    """Whether ``text`` reads back as this string in YAML without quotes
    (``yes``, ``8080`` and ``a: b`` do not)."""
    try:
        return text == text.strip() and yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def _set_lines(before: str, kind: str, key: str, value: Any) -> str:
    """``key`` set on its own line of a YAML, TOML, INI or key = value file;
    a missing top-level key (or a missing key of an existing TOML/INI
    section) is added."""
    lines = before.splitlines(keepends=True)
    parents, leaf = key.rsplit(".", 1) if "." in key else ("", key)
    section, stack = "", []  # the TOML/INI section, the YAML parents (indent, key)
    section_end: int | None = None  # where a missing key of ``parents`` goes
    first_section: int | None = None
    separator = ":" if kind == "yaml" else "="
    for number, line in enumerate(lines):
        header = _SECTION.match(line) if kind in ("toml", "ini") else None
        if header:
            section = header.group(1).strip("\"'")
            first_section = number if first_section is None else first_section
            if section == parents and parents:
                section_end = number + 1
            continue
        if kind == "yaml":
            found = _YAML_KEY.match(line)
            if not found:
                continue
            indent, name, raw = len(found.group(1)), found.group(2).strip("\"'"), found.group(3)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            here = ".".join([k for _, k in stack] + [name])
            stack.append((indent, name))
            start = found.start(3)
        else:
            found = re.match(r"^(\s*(?:export\s+)?)([A-Za-z_][\w.\-]*)\s*([=:])\s*(.*?)\s*$", line)
            if not found:
                continue
            name, raw, start = found.group(2), found.group(4), found.start(4)
            here = f"{section}.{name}" if section else name
            separator = found.group(3)
            if section == parents and parents:
                section_end = number + 1
        if here != key:
            continue
        comment = re.search(r"\s+#.*$", raw) if kind in ("yaml", "toml") else None
        old_raw = raw[: comment.start()] if comment else raw
        ending = line[len(line.rstrip("\r\n")) :]
        tail = comment.group(0) if comment else ""
        lines[number] = line[:start] + _shown(value, kind, old_raw.strip()) + tail + ending
        return "".join(lines)
    spaced = " " if kind != "lines" or separator == ":" else ""
    pad = " " if separator == "=" and spaced else ""
    new_line = f"{leaf}{pad}{separator}{spaced}{_shown(value, kind, None)}\n"
    if not parents:
        at = first_section if first_section is not None else len(lines)
        while 0 < at < len(lines) and not lines[at - 1].strip():
            at -= 1  # above the blank lines that set the first section apart
    elif section_end is not None:
        at = section_end
    elif kind in ("toml", "ini"):
        lines.append(
            f"{'' if not lines or lines[-1].endswith(chr(10)) else chr(10)}\n[{parents}]\n"
        )
        at = len(lines)
    else:
        raise ToolException(
            f"set_field: '{key}' is not in the file and its parent is not a section; "
            "add it with edit_file"
        )
    if at == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.insert(at, new_line)
    return "".join(lines)


class SetField(FileTool):
    name: str = "set_field"
    description: str = (
        "Set one setting or field of a structured file (JSON, YAML, TOML, INI, .env, "
        "key=value lines) by its key, keeping the rest of the file; a missing key is added."
    )
    args_schema: ArgsSchema | None = SetFieldArgs
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("write",)

    def rewritten(self, args: Mapping[str, Any]) -> tuple[str, str, str, Any]:
        """(the text before, after, the full key, the old value or None)."""
        edit = SetFieldArgs.model_validate(args)
        before = ""
        if self.ws.exists(edit.path):
            before, size = self.ws.read_text(edit.path, MAX_READ_BYTES)
            if size > MAX_READ_BYTES:
                raise ToolException(f"set_field: '{edit.path}' is too large ({size} bytes)")
        try:
            fields = parse_fields(edit.path, before) if before.strip() else {}
        except FieldsError as err:
            raise ToolException(f"set_field: '{edit.path}' is {err}; fix it first") from None
        found = find_field(fields, edit.key) if edit.key.strip() else []
        if len(found) > 1:
            raise ToolException(
                f"set_field: '{edit.key}' names {len(found)} keys ({', '.join(found[:5])}); "
                "give the full key"
            )
        key = found[0] if found else edit.key.strip().strip(".")
        if not key:
            raise ToolException("set_field: key is empty; give the setting's key")
        old = fields.get(key)
        if found and not is_leaf(old):
            raise ToolException(
                f"set_field: '{key}' holds a section, not a value; name one of its keys"
            )
        value = typed_value(edit.value, old)
        kind = file_format(edit.path, before)
        if kind == "json":
            after = _set_json(before, key, value)
        else:
            after = _set_lines(before, kind, key, value)
        self._check(edit.path, after, key, value)
        return before, after, key, old

    @staticmethod
    def _check(path: str, after: str, key: str, value: Any) -> None:
        """The new text parses and holds the value (else nothing is written)."""
        try:
            got = parse_fields(path, after)
        except FieldsError as err:
            raise ToolException(f"set_field: the result would be {err}; use edit_file") from None
        held = got.get(key, _MISSING)
        if isinstance(held, str) and len(held) >= 2 and held[0] == held[-1] and held[0] in "\"'":
            held = held[1:-1]  # an INI value keeps its quotes
        if held is _MISSING or str(held).lower() != str(value).lower():
            raise ToolException(f"set_field: could not set '{key}' in '{path}'; use edit_file")

    def execute(self, path: str, key: str, value: str) -> str:
        before, after, full_key, old = self.rewritten({"path": path, "key": key, "value": value})
        if after == before:
            return f"{full_key} in {path} is already {value}"
        self.ws.write_text(path, after)
        was = "new key" if old is None else f"was {old}"
        return f"set {full_key} = {value} in {path} ({was})"

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        path = str(args.get("path", ""))
        self.ws.resolve(path, for_write=True)
        before, after, key, _old = self.rewritten(args)
        new_file = not self.ws.exists(path)
        diff = unified_diff(path, before, after, new_file=new_file)
        added, removed = diff_stats(diff)
        shown = self.ws.target(path).shown()
        where = f"create {shown}" if new_file else f"{shown} (+{added} -{removed} lines)"
        return ToolPreview(kind="diff", summary=f"set {key} in {where}", body=diff)
