"""File operations users ask for by name: copy_file, move_file, sort_lines
and dedupe_lines (write, each with a unified-diff approval preview).

A small model cannot be trusted to compose a file's new content (the 270M
model wrote its own instruction text into a "copy"): these tools do the
work, and the model only picks the operation and paths the task names.
Each result states what happened in one line the answer can copy.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from langchain_core.tools import ArgsSchema, ToolException
from pydantic import BaseModel, Field, model_validator

from agentkit.tools.base import SideEffect, ToolPreview
from agentkit.tools.files import MAX_READ_BYTES, FileTool
from agentkit.tools.patching import diff_stats, unified_diff
from agentkit.tools.protected import PathTarget

MAX_COPY_BYTES = 50_000_000
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class TextLines:
    """A text file's lines, and how to write them back the way they were
    (CRLF or LF, with or without a final newline)."""

    lines: list[str]
    newline: str
    trailing: bool

    @classmethod
    def parse(cls, text: str) -> TextLines:
        newline = "\r\n" if "\r\n" in text else "\n"
        body = text.replace("\r\n", "\n")
        lines = body.split("\n") if body else []
        trailing = body.endswith("\n")
        if trailing:
            lines.pop()
        return cls(lines, newline, trailing or not body)

    def text(self, lines: list[str]) -> str:
        body = self.newline.join(lines)
        return body + self.newline if lines and self.trailing else body


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def size_note(data: bytes) -> str:
    return plural(len(data), "byte") if is_binary(data) else plural(line_count(data), "line")


# --- copy and move ------------------------------------------------------------------


def destination_file(source: str, destination: str, is_dir: bool = False) -> str:
    """The file path a copy or move of ``source`` writes: ``destination``,
    or the source's name inside it when it is a folder (ends in '/', is
    the root, or ``is_dir``)."""
    dest = destination.strip()
    if dest in ("", ".", "./") or dest.endswith("/") or is_dir:
        folder = dest.rstrip("/")
        name = posixpath.basename(source.strip().rstrip("/"))
        return name if folder in ("", ".") else f"{folder}/{name}"
    return dest


class RelocateArgs(BaseModel):
    source: str = Field(description="The file to copy or move, relative to the workspace root.")
    destination: str = Field(
        description="The new path (parent folders are created), or a folder ending in '/'."
    )
    overwrite: bool = Field(False, description="Replace the destination if it exists.")

    @model_validator(mode="after")
    def _goes_somewhere(self) -> RelocateArgs:
        # A copy or move onto the source itself changes nothing: refused
        # here, before approval, so nobody is asked to approve it and the
        # model is told what destination means. (A destination that is the
        # source's folder without a trailing '/' is caught at execution.)
        source = posixpath.normpath(self.source.strip())
        destination = destination_file(self.source, self.destination)
        if posixpath.normpath(destination) == source:
            raise ValueError(
                "source and destination are the same file, so nothing would change; "
                "destination is the new path"
            )
        return self


class RelocateTool(FileTool):
    """What copy_file and move_file share: where the file ends up, the
    checks before it goes there, and the preview."""

    args_schema: ArgsSchema | None = RelocateArgs
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("write",)
    writes_source: ClassVar[bool] = False
    verb: ClassVar[str] = ""

    def final_destination(self, source: str, destination: str) -> str:
        """The file path the call writes: ``destination``, or the source's
        name inside it when it is a folder (ends in '/' or exists as one)."""
        return destination_file(source, destination, self._is_dir(destination.strip()))

    def _is_dir(self, path: str) -> bool:
        try:
            return self.ws.resolve(path).is_dir()
        except ToolException:
            return False

    def targets(self, args: Mapping[str, Any]) -> list[PathTarget]:
        source, destination = args.get("source"), args.get("destination")
        found = []
        if isinstance(source, str):
            found.append(self.ws.target(source, arg="source", write=self.writes_source))
            if isinstance(destination, str):
                final = self.final_destination(source, destination)
                found.append(self.ws.target(final, arg="destination", write=True))
        return found

    def checked(self, source: str, destination: str, overwrite: bool) -> str:
        """The destination file, once the call may go ahead; a one-line
        error for the model otherwise."""
        final = self.final_destination(source, destination)
        src = self.ws.resolve(source, for_write=self.writes_source)
        if not src.exists():
            raise ToolException(f"{self.name}: '{source}' does not exist")
        if src.is_dir():
            raise ToolException(f"{self.name}: '{source}' is a folder; give a file")
        dst = self.ws.resolve(final, for_write=True)
        if dst == src:
            raise ToolException(f"{self.name}: '{source}' and '{final}' are the same file")
        if dst.is_dir():
            raise ToolException(f"{self.name}: '{final}' is a folder; give a file path")
        if dst.exists() and not overwrite:
            raise ToolException(
                f"{self.name}: '{final}' already exists; set overwrite to true to replace it, "
                "or choose another destination"
            )
        return final

    def source_bytes(self, source: str) -> bytes:
        data, size = self.ws.read_bytes(source, MAX_COPY_BYTES)
        if size > MAX_COPY_BYTES:
            raise ToolException(f"{self.name}: '{source}' is too large ({size} bytes)")
        return data

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        edit = RelocateArgs.model_validate(args)
        final = self.checked(edit.source, edit.destination, edit.overwrite)
        data = self.source_bytes(edit.source)
        shown_src = self.ws.target(edit.source).shown()
        shown_dst = self.ws.target(final).shown()
        summary = f"{self.verb} {shown_src} to {shown_dst} ({size_note(data)})"
        if is_binary(data):
            return ToolPreview(kind="text", summary=summary, body=f"{summary}\n")
        text = data.decode("utf-8", errors="replace")
        new_file = not self.ws.exists(final)
        before = "" if new_file else self.ws.read_text(final, MAX_READ_BYTES)[0]
        body = unified_diff(final, before, text, new_file=new_file)
        if not new_file:
            added, removed = diff_stats(body)
            summary += f", replacing {shown_dst} (+{added} -{removed} lines)"
        if self.writes_source:
            body = unified_diff(edit.source, text, "", deleted=True) + body
        return ToolPreview(kind="diff", summary=summary, body=body)


class CopyFile(RelocateTool):
    name: str = "copy_file"
    verb: ClassVar[str] = "copy"
    description: str = (
        "Copy a workspace file to a new path (or into a folder), byte for byte; "
        "an existing destination is replaced only with overwrite=true."
    )

    def execute(self, source: str, destination: str, overwrite: bool = False) -> str:
        final = self.checked(source, destination, overwrite)
        data = self.source_bytes(source)
        real = self.ws.write_bytes(final, data)
        return f"copied {source} to {self.ws.relative(real)} ({size_note(data)})"


class MoveFile(RelocateTool):
    name: str = "move_file"
    verb: ClassVar[str] = "move"
    writes_source: ClassVar[bool] = True
    description: str = (
        "Move or rename a workspace file (to a new path, or into a folder); "
        "an existing destination is replaced only with overwrite=true."
    )

    def execute(self, source: str, destination: str, overwrite: bool = False) -> str:
        written = self.ws.target(source)
        if written.redirected and written.resolved is not None:
            raise ToolException(
                f"move_file: '{source}' is a symlink to '{written.resolved}'; "
                "move that file by its own path"
            )
        final = self.checked(source, destination, overwrite)
        real = self.ws.rename(source, final)
        return f"moved {source} to {self.ws.relative(real)}"


# --- sort and dedupe ------------------------------------------------------------------


class LinesTool(FileTool):
    """A tool that rewrites a text file's lines, in place or into a
    destination: the read, the write, the targets and the preview."""

    side_effects: ClassVar[tuple[SideEffect, ...]] = ("write",)

    def targets(self, args: Mapping[str, Any]) -> list[PathTarget]:
        path, destination = args.get("path"), args.get("destination") or ""
        if not isinstance(path, str) or not isinstance(destination, str):
            return []
        if not destination.strip():
            return [self.ws.target(path, write=True)]
        return [
            self.ws.target(path),
            self.ws.target(destination, arg="destination", write=True),
        ]

    def rewritten(self, args: Mapping[str, Any]) -> tuple[str, str, str]:
        """(the file's text, its new text, a one-line summary for the preview)."""
        raise NotImplementedError

    def read_lines(self, path: str) -> tuple[str, TextLines]:
        text, size = self.ws.read_text(path, MAX_READ_BYTES)
        if size > MAX_READ_BYTES:
            raise ToolException(f"{self.name}: '{path}' is too large ({size} bytes)")
        return text, TextLines.parse(text)

    def write_result(self, path: str, destination: str, before: str, after: str) -> str:
        """Write ``after`` where it goes; the path written (as shown)."""
        where = destination.strip() or path
        if destination.strip() or after != before:
            return self.ws.relative(self.ws.write_text(where, after))
        return where

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        path = str(args.get("path", ""))
        destination = str(args.get("destination") or "").strip()
        where = destination or path
        self.ws.resolve(where, for_write=True)
        _text, after, summary = self.rewritten(args)
        new_file = not self.ws.exists(where)
        before = "" if new_file else self.ws.read_text(where, MAX_READ_BYTES)[0]
        diff = unified_diff(where, before, after, new_file=new_file)
        added, removed = diff_stats(diff)
        shown = self.ws.target(where).shown()
        change = f"create {shown}" if new_file else f"rewrite {shown} (+{added} -{removed} lines)"
        return ToolPreview(kind="diff", summary=f"{summary}: {change}", body=diff)


def duplicate_key(line: str) -> str | None:
    """What makes two lines the same (trailing spaces do not count); None
    for a blank line, which is never a duplicate (it separates paragraphs)."""
    key = line.rstrip()
    return key or None


def without_duplicates(lines: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = duplicate_key(line)
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        kept.append(line)
    return kept


def sorted_lines(lines: list[str], *, descending: bool) -> tuple[list[str], bool]:
    """``lines`` sorted, and whether numerically (every non-blank line a
    number), else case-insensitively; blank lines go last."""
    filled = [line for line in lines if line.strip()]
    blank = [line for line in lines if not line.strip()]
    numeric = bool(filled) and all(_NUMBER.fullmatch(line.strip()) for line in filled)
    if numeric:
        ordered = sorted(filled, key=lambda line: (float(line), line), reverse=descending)
    else:
        ordered = sorted(filled, key=lambda line: (line.casefold(), line), reverse=descending)
    return ordered + blank, numeric


class SortLinesArgs(BaseModel):
    path: str = Field(description="The text file whose lines to sort.")
    destination: str = Field(
        "", description="Where to write the sorted lines; empty: sort the file in place."
    )
    descending: bool = Field(False, description="Largest (or Z) first.")
    unique: bool = Field(False, description="Also remove duplicate lines.")


class SortLines(LinesTool):
    name: str = "sort_lines"
    description: str = (
        "Sort the lines of a text file (numerically when every line is a number, "
        "else alphabetically, ignoring case), in place or into a destination file."
    )
    args_schema: ArgsSchema | None = SortLinesArgs

    def rewritten(self, args: Mapping[str, Any]) -> tuple[str, str, str]:
        edit = SortLinesArgs.model_validate(args)
        text, parsed = self.read_lines(edit.path)
        lines = without_duplicates(parsed.lines) if edit.unique else parsed.lines
        ordered, numeric = sorted_lines(lines, descending=edit.descending)
        how = ("numerically" if numeric else "alphabetically") + (
            ", descending" if edit.descending else ""
        )
        summary = f"sort {plural(len(parsed.lines), 'line')} of {edit.path} {how}"
        return text, parsed.text(ordered), summary

    def execute(self, **args: object) -> str:
        edit = SortLinesArgs.model_validate(args)
        text, after, _summary = self.rewritten(edit.model_dump())
        parsed = TextLines.parse(text)
        if not parsed.lines and not edit.destination.strip():
            return f"{edit.path} has no lines; nothing to sort"
        if after == text and not edit.destination.strip():
            return f"{edit.path} is already sorted ({plural(len(parsed.lines), 'line')})"
        written = self.write_result(edit.path, edit.destination, text, after)
        into = f" into {written}" if edit.destination.strip() else ""
        out = f"sorted {plural(len(parsed.lines), 'line')} of {edit.path}{into}"
        if edit.unique:
            left = len(TextLines.parse(after).lines)
            removed = len(parsed.lines) - left
            out += f", {plural(removed, 'duplicate')} removed ({left} left)"
        return out


class DedupeLinesArgs(BaseModel):
    path: str = Field(description="The text file to remove repeated lines from.")
    destination: str = Field(
        "", description="Where to write the result; empty: change the file in place."
    )


class DedupeLines(LinesTool):
    name: str = "dedupe_lines"
    description: str = (
        "Remove repeated lines from a text file, keeping each line's first occurrence "
        "and the order (blank lines are kept), in place or into a destination file."
    )
    args_schema: ArgsSchema | None = DedupeLinesArgs

    def rewritten(self, args: Mapping[str, Any]) -> tuple[str, str, str]:
        edit = DedupeLinesArgs.model_validate(args)
        text, parsed = self.read_lines(edit.path)
        kept = without_duplicates(parsed.lines)
        removed = len(parsed.lines) - len(kept)
        summary = f"remove {plural(removed, 'duplicate line')} from {edit.path}"
        return text, parsed.text(kept), summary

    def execute(self, **args: object) -> str:
        edit = DedupeLinesArgs.model_validate(args)
        text, after, _summary = self.rewritten(edit.model_dump())
        before_count = len(TextLines.parse(text).lines)
        left = len(TextLines.parse(after).lines)
        removed = before_count - left
        if removed == 0 and not edit.destination.strip():
            return f"{edit.path} has no duplicate lines ({plural(left, 'line')})"
        written = self.write_result(edit.path, edit.destination, text, after)
        into = f", wrote the rest to {written}" if edit.destination.strip() else ""
        return f"removed {plural(removed, 'duplicate line')} from {edit.path} ({left} left){into}"


WRITE_OPS: tuple[type[FileTool], ...] = (CopyFile, MoveFile, SortLines, DedupeLines)
