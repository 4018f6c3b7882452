"""Facts about files, each stated in one line a small model can copy into
its answer: count (lines, words and characters of a file, how often a text
occurs, the files of a folder by extension) and read_field (one value of a
JSON, YAML, TOML, INI or ``.env`` file). Both read only."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import ClassVar

from langchain_core.tools import ArgsSchema, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.base import ToolExample
from agentkit.tools.fields import FieldsError, find_field, is_leaf, parse_fields, shown_value
from agentkit.tools.file_ops import TextLines, plural
from agentkit.tools.files import GREP_MAX_FILE_BYTES, FileTool
from agentkit.tools.grounding import SKIPPED_DIRS, Grounding
from agentkit.tools.limits import Deadline, cap_text

MAX_COUNT_BYTES = 50_000_000
MAX_FIELD_BYTES = 5_000_000
SHOWN_KEYS = 10
SHOWN_LINE_NUMBERS = 20


class CountArgs(BaseModel):
    path: str = Field(description="A file or a folder, relative to the workspace root.")
    text: str = Field(
        "",
        description="Count how often this text occurs (ignoring case) instead; "
        "empty: count lines, words and characters (files per extension for a folder).",
    )


class Count(FileTool):
    name: str = "count"
    description: str = (
        "Count a file's lines, words and characters, or how often a text occurs "
        "in it (case-insensitive), or the files in a folder by extension."
    )
    args_schema: ArgsSchema | None = CountArgs
    grounding: ClassVar[Mapping[str, Grounding]] = {
        "path": "existing_path",
        "text": "occurrence_phrase",
    }
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="how many chars does bio.txt have",
            args={"path": "bio.txt"},
            result="bio.txt has 14 lines\nbio.txt has 212 words\nbio.txt has 1180 characters",
            answer="bio.txt has 1180 characters",
        ),
        ToolExample(request="how big is story.txt in lines, words and characters?"),
        ToolExample(request="how often does the word refund appear in emails.log?"),
        ToolExample(request="line count of data.tsv"),
        ToolExample(request="I need the number of files in downloads/"),
    )

    def execute(self, path: str, text: str = "") -> str:
        text = text.strip()
        real = self.ws.resolve(path)
        if not real.exists():
            raise ToolException(f"count: '{path}' does not exist")
        shown = "the workspace" if self.ws.relative(real) == "." else path.strip().rstrip("/")
        if real.is_dir():
            return self._occurrences_in_dir(path, shown, text) if text else self._files(path, shown)
        content, size = self.ws.read_text(path, MAX_COUNT_BYTES)
        if size > MAX_COUNT_BYTES:
            raise ToolException(f"count: '{path}' is too large to count ({size} bytes)")
        if text:
            times, lines, numbers = occurrences(content, text)
            return self._said(text, times, lines, shown, numbers)
        lines = len(TextLines.parse(content).lines)
        characters = len(content.replace("\r\n", "\n"))  # a line break is one character
        return "\n".join(
            [
                f"{shown} has {plural(lines, 'line')}",
                f"{shown} has {plural(len(content.split()), 'word')}",
                f"{shown} has {plural(characters, 'character')}",
            ]
        )

    @staticmethod
    def _said(text: str, times: int, lines: int, where: str, numbers: list[int]) -> str:
        if times == 0:
            return f'"{text}" does not occur in {where}'
        out = f'"{text}" occurs {plural(times, "time")} in {plural(lines, "line")} of {where}'
        if numbers:
            listed = ", ".join(map(str, numbers[:SHOWN_LINE_NUMBERS]))
            more = ", ..." if len(numbers) > SHOWN_LINE_NUMBERS else ""
            out += f"\nline numbers: {listed}{more}"
        return out

    def _walk(self, path: str) -> Iterator[tuple[str, list[str], list[str], int]]:
        deadline = Deadline(self.limits.timeout_s, "count")
        for rel_dir, dirnames, filenames, dir_fd in self.ws.walk(path):
            deadline.check()
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            yield rel_dir, dirnames, sorted(filenames), dir_fd

    def _files(self, path: str, shown: str) -> str:
        extensions: Counter[str] = Counter()
        folders = 0
        for _rel, dirnames, filenames, _fd in self._walk(path):
            folders += len(dirnames)
            extensions.update(os.path.splitext(name)[1].lower() for name in filenames)
        total = sum(extensions.values())
        rows = [f"{shown} has {plural(total, 'file')}"]
        for ext, number in sorted(
            extensions.items(), key=lambda item: (-item[1], not item[0], item[0])
        ):
            files = plural(number, "file")
            rows.append(
                f"{number} {ext} {files.split()[1]}" if ext else f"{files} without an extension"
            )
        if folders:
            rows.append(f"{shown} has {plural(folders, 'subfolder')}")
        return cap_text("\n".join(rows), self.limits, hint="count a subfolder")

    def _occurrences_in_dir(self, path: str, shown: str, text: str) -> str:
        times = lines = 0
        per_file: list[str] = []
        for rel, _dirnames, filenames, dir_fd in self._walk(path):
            for name in filenames:
                data = self.ws.read_in_dir(dir_fd, name, GREP_MAX_FILE_BYTES)
                if data is None or b"\x00" in data[:8192]:
                    continue
                found, in_lines, _numbers = occurrences(data.decode("utf-8", "replace"), text)
                if found:
                    times, lines = times + found, lines + in_lines
                    file = name if rel == "." else f"{rel}/{name}"
                    per_file.append(f"{file}: {plural(found, 'time')}")
        if not times:
            return f'"{text}" does not occur in any file under {shown}'
        where = f"{plural(len(per_file), 'file')} under {shown}"
        head = f'"{text}" occurs {plural(times, "time")} in {plural(lines, "line")} of {where}'
        return cap_text("\n".join([head, *per_file]), self.limits, hint="count in a subfolder")


def occurrences(content: str, text: str) -> tuple[int, int, list[int]]:
    """(times ``text`` occurs, in how many lines, which line numbers),
    ignoring case."""
    needle = text.casefold()
    times, numbers = 0, []
    for number, line in enumerate(TextLines.parse(content).lines, 1):
        found = line.casefold().count(needle)
        if found:
            times += found
            numbers.append(number)
    return times, len(numbers), numbers


class ReadFieldArgs(BaseModel):
    path: str = Field(description="A JSON, YAML, TOML, INI or .env file.")
    key: str = Field(
        description="The field: a dotted key like 'server.port' or 'items[0].name', "
        "an INI 'section.key', or the last part alone when it is unique ('port')."
    )


class ReadField(FileTool):
    name: str = "read_field"
    shows_content: ClassVar[bool] = True
    description: str = (
        "Read one setting or field from a structured file (JSON, YAML, TOML, INI, .env, "
        "key=value lines) by its key; prints 'key = value'."
    )
    args_schema: ArgsSchema | None = ReadFieldArgs
    grounding: ClassVar[Mapping[str, Grounding]] = {"path": "existing_file", "key": "file_key"}
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="what database host does app.yaml use?",
            args={"path": "app.yaml", "key": "database.host"},
            result="database.host = db.internal",
            answer="database.host = db.internal",
        ),
        ToolExample(request="Which host does db.toml connect to?"),
        ToolExample(request="What's the value of max_retries in service.json?"),
        ToolExample(request="I need the API_URL from .env"),
        ToolExample(request="look up cache_ttl in app.yaml"),
    )

    def execute(self, path: str, key: str) -> str:
        text, size = self.ws.read_text(path, MAX_FIELD_BYTES)
        if size > MAX_FIELD_BYTES:
            raise ToolException(f"read_field: '{path}' is too large ({size} bytes)")
        try:
            fields = parse_fields(path, text)
        except FieldsError as err:
            raise ToolException(f"read_field: '{path}' is {err}; read it with read_file") from None
        if not fields:
            raise ToolException(f"read_field: no fields found in '{path}'; read it with read_file")
        found = find_field(fields, key)
        if not found:
            leaves = [k for k, v in fields.items() if is_leaf(v)] or list(fields)
            listed = ", ".join(leaves[:SHOWN_KEYS])
            more = f" ({len(leaves)} in all)" if len(leaves) > SHOWN_KEYS else ""
            raise ToolException(f"read_field: no key '{key}' in {path}; keys: {listed}{more}")
        if len(found) > 1:
            listed = ", ".join(found[:SHOWN_KEYS])
            raise ToolException(
                f"read_field: '{key}' is more than one key in {path} ({listed}); give the full key"
            )
        return f"{found[0]} = {shown_value(fields[found[0]])}"


READ_FACTS: tuple[type[FileTool], ...] = (Count, ReadField)
