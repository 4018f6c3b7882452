"""Fields of structured files (JSON, YAML, TOML, INI, ``.env`` and
``key = value`` / ``key: value`` lines) as one flat mapping of dotted keys:
``server.port``, ``items[0].name``, ``database.host`` (an INI section and its
key). read_field looks values up in it and the ``file_key`` grounding offers
its keys, so a small model picks a key instead of copying the right line."""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

MAX_FIELDS = 5_000
_INDEX = re.compile(r"\.(\d+)(?=\.|$)")
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][\w.\-]*)\s*(?:=|:\s)\s*(.*?)\s*$")
_SECTION = re.compile(r"^\s*\[[^\]\n]+\]\s*$", re.MULTILINE)
_TOP = "agentkit-top-level"


class FieldsError(ValueError):
    """The file does not parse as the format its name says."""


_BY_SUFFIX = {
    "json": "json",
    "yaml": "yaml",
    "yml": "yaml",
    "toml": "toml",
    "ini": "ini",
    "cfg": "ini",
    "conf": "ini",
}


def declared_format(path: str) -> str | None:
    """The format ``path``'s name declares (``json``, ``yaml``, ``toml``,
    ``ini``, ``lines`` for .env and .properties), None for any other name."""
    name = path.rsplit("/", 1)[-1].lower()
    suffix = name.rsplit(".", 1)[-1] if "." in name.lstrip(".") else ""
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if name.startswith(".env") or suffix in ("env", "properties"):
        return "lines"
    return None


def file_format(path: str, text: str) -> str:
    """``json``, ``yaml``, ``toml``, ``ini`` or ``lines``, by the file's name,
    else by a look at the text."""
    declared = declared_format(path)
    if declared is not None:
        return declared
    head = text.lstrip()
    if head.startswith(("{", "[")) and not _SECTION.match(head.splitlines()[0]):
        return "json"
    return "ini" if _SECTION.search(text) else "lines"


def broken_structure(path: str, before: str, after: str) -> str | None:
    """Why ``after`` no longer parses as the format of ``path`` when ``before``
    did (None when it still parses, or when there was nothing that parsed):
    an edit that breaks a working config is refused rather than saved."""
    # Only a format the name declares: a sniffed guess (a .txt that starts
    # with "{") is no promise to keep, and key = value lines always parse.
    if declared_format(path) in (None, "lines") or not before.strip() or after == before:
        return None
    try:
        was = parsed(path, before)
    except FieldsError:
        return None
    try:
        now = parsed(path, after)
    except FieldsError as err:
        return str(err)
    if isinstance(was, Mapping) and was and not isinstance(now, Mapping) and now is not None:
        # "make the port 9090" written over app.yaml parses, as one string
        return f"no longer a table of settings (it reads as one {type(now).__name__})"
    return None


def parse_fields(path: str, text: str) -> dict[str, Any]:
    """Every key of the file (containers too) -> its value; raises
    :class:`FieldsError` when the file does not parse."""
    flat: dict[str, Any] = {}
    for key, value in _flatten(parsed(path, text), ""):
        flat[key] = value
        if len(flat) >= MAX_FIELDS:
            break
    return flat


def parsed(path: str, text: str) -> Any:
    """The file's data as its format reads it; raises :class:`FieldsError`
    when it does not parse."""
    kind = file_format(path, text)
    try:
        if kind == "json":
            data: Any = json.loads(text)
        elif kind == "yaml":
            data = yaml.safe_load(text)
        elif kind == "toml":
            data = tomllib.loads(text)
        elif kind == "ini":
            try:
                data = _ini(text)
            except configparser.Error:
                data = _lines(text)  # a .conf of plain "key = value" lines with no sections
                if not data:
                    raise
        else:
            data = _lines(text)
    except (ValueError, yaml.YAMLError, configparser.Error) as err:
        raise FieldsError(f"not valid {kind.upper()}: {str(err).splitlines()[0][:120]}") from None
    return data


def _ini(text: str) -> dict[str, Any]:
    """Sections -> keys; keys above the first section are top-level keys."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the key's case
    try:
        parser.read_string(text)
    except configparser.MissingSectionHeaderError:
        parser.read_string(f"[{_TOP}]\n{text}")
    data: dict[str, Any] = dict(parser.defaults())
    for section in parser.sections():
        values = {k: v for k, v in parser.items(section, raw=True) if k not in parser.defaults()}
        if section == _TOP:
            data.update(values)
        else:
            data[section] = values
    return data


def _lines(text: str) -> dict[str, str]:
    """``KEY=value`` and ``key: value`` lines (``.env``, properties, simple
    configs); comments and other lines are skipped, quotes removed."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith(("#", ";", "//")):
            continue
        match = _LINE.match(line)
        if match is None:
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[match.group(1)] = value
    return found


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if prefix:
        yield prefix, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")


def is_leaf(value: Any) -> bool:
    return not isinstance(value, Mapping | list)


def shown_value(value: Any, limit: int = 300) -> str:
    """A value as one line: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normal_key(key: str) -> str:
    """``items.0.name`` and ``items[0].name`` are the same key."""
    key = key.strip().strip(".")
    return _INDEX.sub(r"[\1]", key)


def find_field(fields: Mapping[str, Any], key: str) -> list[str]:
    """The keys of ``fields`` that ``key`` names: itself, else the keys it
    ends (``port`` names ``server.port``), matched case-insensitively when
    nothing matches as written."""
    wanted = normal_key(key)
    if wanted in fields:
        return [wanted]
    for fold in (False, True):
        norm = wanted.casefold() if fold else wanted
        found = [
            k
            for k in fields
            if (k.casefold() if fold else k) == norm
            or (k.casefold() if fold else k).endswith("." + norm)
        ]
        if found:
            return found
    return []


def key_choices(fields: Mapping[str, Any]) -> list[str]:
    """What a small model may name: each value's full key, and its last
    segment when no other key ends the same way."""
    leaves = [k for k, v in fields.items() if is_leaf(v)]
    short: dict[str, int] = {}
    for key in leaves:
        last = key.rsplit(".", 1)[-1]
        short[last] = short.get(last, 0) + 1
    unique = [s for s, n in short.items() if n == 1 and s not in fields]
    return list(dict.fromkeys([*leaves, *unique]))
