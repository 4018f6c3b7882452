"""File tools, confined to a :class:`~agentkit.tools.workspace.Workspace`:
read_file, list_dir, glob, grep (read) and write_file, edit_file (write, with
a unified-diff approval preview). Operations on files (count, read_field;
copy_file, move_file, sort_lines, dedupe_lines) are in file_facts.py and
file_ops.py.

Each tool is one :class:`~agentkit.tools.declared.DeclaredTool` subclass
that carries everything about it: name, description, argument schema, side
effects, the approval preview (write tools) and what it does (``execute``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from langchain_core.tools import ArgsSchema, BaseTool, ToolException
from pydantic import BaseModel, Field, field_validator, model_validator

from agentkit.tools.base import SideEffect, ToolPreview
from agentkit.tools.declared import DeclaredTool
from agentkit.tools.fields import broken_structure, declared_format
from agentkit.tools.globs import SKIPPED_DIRS, glob_regex
from agentkit.tools.limits import Deadline, ToolLimits, cap_text
from agentkit.tools.patching import apply_patch, diff_stats, replace_exact, unified_diff
from agentkit.tools.protected import PathTarget, named_in
from agentkit.tools.workspace import Workspace

MAX_READ_BYTES = 10_000_000
GREP_MAX_FILE_BYTES = 5_000_000
GREP_LINE_CHARS = 300


SUMMARY_NAMES = 20


def summary_line(names: list[str], kind: str) -> str:
    """One line with the count and (up to :data:`SUMMARY_NAMES`) the names: a
    small model answers "what files are in reports?" and "how many?" by
    copying one line, and dropped or repeated entries copying several."""
    shown = ", ".join(names[:SUMMARY_NAMES]) + (", ..." if len(names) > SUMMARY_NAMES else "")
    return f"{len(names)} {kind}: {shown}"


class FileTool(DeclaredTool):
    """What the file tools share: the workspace, the output caps, and where a
    call's path leads (``targets``) and whether its result is trusted."""

    ws: Workspace = Field(exclude=True)
    limits: ToolLimits = Field(exclude=True)

    def targets(self, args: Mapping[str, Any]) -> list[PathTarget]:
        """Where the call's path leads (policy path rules, protected paths)."""
        value = args.get("path", ".")
        if not isinstance(value, str):
            return []
        return [self.ws.target(value, write="write" in self.side_effects)]

    def untrusted(self, args: Mapping[str, Any], trusted_text: str) -> bool:
        """File contents are untrusted content: a file may carry instructions
        planted by whoever wrote it. With ``trust_named_files``, a file the
        user named is trusted. Names (list_dir, glob) and write receipts are
        trusted."""
        if not self.shows_content:
            return False
        if not self.ws.trust_named_files:
            return True
        found = self.targets(args)
        return not found or not any(
            named_in(p, trusted_text)
            for p in (found[0].written, found[0].lexical, found[0].resolved)
        )


# --- read ------------------------------------------------------------------------------


class ReadFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root.")
    start_line: int = Field(
        1,
        description="First line to show (1-based); negative counts from the end: "
        "-1 is the last line, -3 the last three lines.",
    )
    end_line: int | None = Field(
        None, ge=1, description="Last line to show (inclusive); default: end of file."
    )

    @field_validator("start_line")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("line numbers start at 1 (or -1 for the last line)")
        return value


class ReadFile(FileTool):
    name: str = "read_file"
    shows_content: ClassVar[bool] = True
    description: str = (
        "Read a text file in the workspace, optionally only lines start_line..end_line "
        "(a negative start_line counts from the end: -1 is the last line)."
    )
    args_schema: ArgsSchema | None = ReadFileArgs

    def execute(self, path: str, start_line: int = 1, end_line: int | None = None) -> str:
        text, size = self.ws.read_text(path, MAX_READ_BYTES)
        lines = text.splitlines()
        total = len(lines)
        total_note = f"first {MAX_READ_BYTES} bytes of {size}" if size > MAX_READ_BYTES else total
        if total == 0:
            return f"{path}: empty file"
        if start_line < 0:  # from the end: "the last line", "the last three lines"
            # ... of text: blank lines after it are not what "the last line" means.
            end = max((i + 1 for i, line in enumerate(lines) if line.strip()), default=total)
            start_line = max(1, end + start_line + 1)
            end_line = end_line or end
        if start_line > total:
            raise ToolException(
                f"read_file: '{path}' has {total} lines; start_line {start_line} is past the end"
            )
        last = min(end_line or total, total)
        if last < start_line:
            raise ToolException("read_file: end_line is before start_line")
        body = "\n".join(lines[start_line - 1 : last])
        header = f"{path} (lines {start_line}-{last} of {total_note})\n"
        return cap_text(header + body, self.limits, hint="read a smaller line range")


class ListDirArgs(BaseModel):
    path: str = Field(".", description="Directory relative to the workspace root.")


class ListDir(FileTool):
    name: str = "list_dir"
    description: str = "List a directory in the workspace (dirs end with '/')."
    args_schema: ArgsSchema | None = ListDirArgs

    SHOWN: ClassVar[dict[str, str]] = {
        "dir": "{name}/",
        "symlink": "{name}@ (symlink)",
        "file": "{name} ({size} bytes)",
    }

    def execute(self, path: str = ".") -> str:
        entries = self.ws.list_dir(path)
        if not entries:
            return f"{path}: empty directory"
        rows = [
            self.SHOWN.get(e.kind, "{name} (special file)").format(name=e.name, size=e.size)
            for e in entries
        ]
        names = [e.name + ("/" if e.kind == "dir" else "") for e in entries]
        kind = "files" if all(e.kind == "file" for e in entries) else "entries"
        summary = [summary_line(names, kind)] if len(entries) > 1 else []
        return cap_text("\n".join([*summary, *rows]), self.limits, hint="list a subdirectory")


class GlobArgs(BaseModel):
    pattern: str = Field(
        description="Glob pattern, e.g. '*.py' (this directory) or '**/*.py' (recursive)."
    )
    path: str = Field(".", description="Directory to search from.")


class Glob(FileTool):
    name: str = "glob"
    description: str = "Find workspace paths matching a glob pattern ('**' recurses)."
    args_schema: ArgsSchema | None = GlobArgs

    def execute(self, pattern: str, path: str = ".") -> str:
        deadline = Deadline(self.limits.timeout_s, "glob")
        # Patterns are relative to the search directory, even with a leading '/'.
        regex = glob_regex(pattern.lstrip("/"))
        matches: list[str] = []
        with self.ws.open_dir(path) as (_fd, real):
            base = self.ws.relative(real)
        for rel_dir, dirnames, filenames, _dir_fd in self.ws.walk(path):
            deadline.check()
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            inner = (
                "" if rel_dir == base else (rel_dir if base == "." else rel_dir[len(base) + 1 :])
            )
            for name in [*dirnames, *filenames]:
                candidate = f"{inner}/{name}" if inner else name
                if regex.match(candidate):
                    shown = candidate if base == "." else f"{base}/{candidate}"
                    matches.append(shown + ("/" if name in dirnames else ""))
        if not matches:
            return f"no paths match {pattern!r} under {path}"
        matches.sort()
        summary = [summary_line(matches, "matches")] if len(matches) > 1 else []
        return cap_text("\n".join([*summary, *matches]), self.limits, hint="use a narrower pattern")


class GrepArgs(BaseModel):
    pattern: str = Field(description="Regular expression (Python syntax) to search for.")
    path: str = Field(".", description="File or directory to search.")
    include: str | None = Field(
        None, description="Only files whose name matches this glob, e.g. '*.py'."
    )
    ignore_case: bool = Field(False, description="Case-insensitive match.")
    max_results: int = Field(100, ge=1, le=1000, description="Stop after this many matching lines.")


class Grep(FileTool):
    name: str = "grep"
    shows_content: ClassVar[bool] = True
    description: str = "Search workspace files for a regular expression; prints path:line: text."
    args_schema: ArgsSchema | None = GrepArgs

    def execute(
        self,
        pattern: str,
        path: str = ".",
        include: str | None = None,
        ignore_case: bool = False,
        max_results: int = 100,
    ) -> str:
        deadline = Deadline(self.limits.timeout_s, "grep")
        try:
            regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as err:
            raise ToolException(f"grep: invalid regular expression: {err}") from None
        results: list[str] = []
        # A file *named* by the pattern: grep reads text, so "does old.log
        # exist?" searched for "old.log" and was answered "no".
        named: list[str] = []

        def scan(rel_path: str, data: bytes | None) -> bool:
            if data is None or b"\x00" in data[:8192]:
                return True
            for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                if regex.search(line):
                    results.append(f"{rel_path}:{number}: {line[:GREP_LINE_CHARS]}")
                    if len(results) >= max_results:
                        return False
            return True

        real = self.ws.resolve(path)
        if real.is_file():
            data, _size = self.ws.read_bytes(path, GREP_MAX_FILE_BYTES)
            scan(self.ws.relative(real), data)
        else:
            for rel_dir, dirnames, filenames, dir_fd in self.ws.walk(path):
                deadline.check()
                dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
                for name in sorted(filenames):
                    if include and not fnmatch.fnmatch(name, include):
                        continue
                    rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                    if regex.fullmatch(name) or regex.fullmatch(rel):
                        named.append(rel)
                    if not scan(rel, self.ws.read_in_dir(dir_fd, name, GREP_MAX_FILE_BYTES)):
                        break
                if len(results) >= max_results:
                    break
        if not results and named:
            shown = ", ".join(named[:SUMMARY_NAMES]) + (
                ", ..." if len(named) > SUMMARY_NAMES else ""
            )
            return (
                f"a file named {pattern!r} exists: {shown} "
                f"(grep searched the text inside the files under {path}, which does not hold it)"
            )
        if not results:
            return f"no matches for {pattern!r} under {path}"
        more = f"\n[stopped at max_results={max_results}]" if len(results) >= max_results else ""
        return cap_text(
            "\n".join([*grep_summary(results), *results]) + more,
            self.limits,
            hint="narrow the pattern or path",
        )


def grep_summary(results: list[str]) -> list[str]:
    """A first line that counts the matching lines and names their files,
    when there are several: "How many lines mention ERROR?" and "which
    files mention it?" are answered by copying one line (like glob's and
    list_dir's summaries), not by counting."""
    if len(results) < 2:
        return []
    files = list(dict.fromkeys(r.split(":", 1)[0] for r in results))
    where = files[0] if len(files) == 1 else summary_line(files, "files")
    return [f"{len(results)} matching lines in {where}"]


# --- write -----------------------------------------------------------------------------


class WriteFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root (created or replaced).")
    content: str = Field(description="The complete new content of the file.")


class WriteFile(FileTool):
    name: str = "write_file"
    description: str = "Create or overwrite a file in the workspace with the given content."
    args_schema: ArgsSchema | None = WriteFileArgs
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("write",)

    def execute(self, path: str, content: str) -> str:
        existed = self.ws.exists(path)
        if existed:
            self._keeps_structure(path, content)
        real = self.ws.write_text(path, content)
        verb = "overwrote" if existed else "created"
        size = f"{len(content.splitlines())} lines, {len(content.encode())} bytes"
        return f"{verb} {self.ws.relative(real)} ({size})"

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        path, content = str(args.get("path", "")), str(args.get("content", ""))
        self.ws.resolve(path, for_write=True)
        shown = self.ws.target(path).shown()
        new_file = not self.ws.exists(path)
        before = "" if new_file else self.ws.read_text(path, MAX_READ_BYTES)[0]
        if not new_file:
            self._keeps_structure(path, content, before)
        diff = unified_diff(path, before, content, new_file=new_file)
        added, removed = diff_stats(diff)
        summary = (
            f"create {shown} ({len(content.splitlines())} lines)"
            if new_file
            else f"overwrite {shown} (+{added} -{removed} lines)"
        )
        return ToolPreview(kind="diff", summary=summary, body=diff)

    def _keeps_structure(self, path: str, content: str, before: str | None = None) -> None:
        if declared_format(path) in (None, "lines"):
            return  # nothing to keep: the file is not read (it may be refused as a read)
        if before is None:
            try:
                before = self.ws.read_text(path, MAX_READ_BYTES)[0]
            except (ToolException, OSError):
                return  # unreadable (a hard link, binary): written as before
        broken = broken_structure(path, before, content)
        if broken:
            raise ToolException(
                f"write_file: the new content of '{path}' is {broken}; "
                "write it in the file's format, or use edit_file to change one value"
            )


class EditFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root.")
    old_string: str = Field(
        "",
        description="Exact text to replace (must occur once unless replace_all); "
        "empty: new_string is added as new lines at the end of the file.",
    )
    new_string: str = Field("", description="Replacement text.")
    replace_all: bool = Field(False, description="Replace every occurrence of old_string.")
    patch: str | None = Field(
        None, description="Instead of old/new: a unified diff (@@ hunks) to apply."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> EditFileArgs:
        # An edit that cannot change the file is the model's mistake (it
        # copied old_string into new_string): said before approval, so the
        # model tries again instead of reporting a change that never happened.
        if not self.patch and self.old_string and self.old_string == self.new_string:
            raise ValueError(
                "old_string and new_string are the same, so nothing would change; "
                "new_string is the text as it should read after the edit"
            )
        return self


class EditFile(FileTool):
    name: str = "edit_file"
    description: str = (
        "Edit a workspace file: replace old_string (exact, unique) with new_string, "
        "add new_string at the end (old_string empty), or apply a unified diff patch."
    )
    args_schema: ArgsSchema | None = EditFileArgs
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("write",)

    def execute(self, **args: object) -> str:
        edit = EditFileArgs.model_validate(args)  # the schema's defaults for what was left out
        before, after = self._edited(edit)
        if after == before:
            return f"{edit.path}: no change"
        self.ws.write_text(edit.path, after)
        added, removed = diff_stats(unified_diff(edit.path, before, after))
        return f"edited {edit.path} (+{added} -{removed} lines)"

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        edit = EditFileArgs.model_validate(args)
        self.ws.resolve(edit.path, for_write=True)
        before, after = self._edited(edit)
        diff = unified_diff(edit.path, before, after)
        added, removed = diff_stats(diff)
        summary = f"edit {self.ws.target(edit.path).shown()} (+{added} -{removed} lines)"
        return ToolPreview(kind="diff", summary=summary, body=diff)

    def _edited(self, edit: EditFileArgs) -> tuple[str, str]:
        """The file's text before and after the edit."""
        before, size = self.ws.read_text(edit.path, MAX_READ_BYTES)
        if size > MAX_READ_BYTES:
            raise ToolException(f"edit_file: '{edit.path}' is too large to edit ({size} bytes)")
        if edit.patch:
            after = apply_patch(before, edit.patch)
        elif edit.old_string == "" and edit.new_string:
            # Appending needs no copy of the file's text: what a model that has
            # not read the file (or cannot copy it exactly) can still do right.
            gap = "\n" if before and not before.endswith("\n") else ""
            tail = "" if edit.new_string.endswith("\n") else "\n"
            after = before + gap + edit.new_string + tail
        else:
            after = replace_exact(
                before,
                edit.old_string,
                edit.new_string,
                replace_all=edit.replace_all,
                path=edit.path,
            )
        broken = broken_structure(edit.path, before, after)
        if broken:
            raise ToolException(
                f"edit_file: the edit would leave '{edit.path}' {broken}; "
                "change only the value, keeping quotes, commas and brackets"
            )
        return before, after


READ_TOOLS: tuple[type[FileTool], ...] = (ReadFile, ListDir, Glob, Grep)
WRITE_TOOLS: tuple[type[FileTool], ...] = (WriteFile, EditFile)


def file_tools(ws: Workspace, limits: ToolLimits, *, read_only: bool = False) -> list[BaseTool]:
    """The file tools bound to ``ws``: these and the operations of
    tools/file_facts.py (read), tools/file_ops.py and tools/field_ops.py (write)."""
    # Those modules build on FileTool: imported here, not at the top.
    from agentkit.tools.field_ops import SetField
    from agentkit.tools.file_facts import READ_FACTS
    from agentkit.tools.file_ops import WRITE_OPS

    kinds = READ_TOOLS + READ_FACTS
    if not read_only:
        kinds += WRITE_TOOLS + WRITE_OPS + (SetField,)
    return [kind(ws=ws, limits=limits) for kind in kinds]
