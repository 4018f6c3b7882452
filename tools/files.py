"""File tools, confined to a :class:`~agentkit.tools.workspace.Workspace`:
read_file, list_dir, glob, grep (read) and write_file, edit_file (write, with
a unified-diff approval preview). Operations on files (count, read_field;
copy_file, move_file, sort_lines, dedupe_lines) are in file_facts.py and
file_ops.py.

Each tool is one LangChain ``BaseTool`` subclass that carries everything
about it: name, description, argument schema, side effects, the approval
preview (write tools) and what it does (``execute``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from langchain_core.tools import ArgsSchema, BaseTool, ToolException
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from agentkit.tools.base import SideEffect, ToolExample, ToolPreview, declare
from agentkit.tools.globs import glob_regex
from agentkit.tools.grounding import (
    SKIPPED_DIRS,
    SMALL_MODEL_GROUNDINGS,
    Grounding,
    path_choices,
    path_mentions,
)
from agentkit.tools.limits import Deadline, ToolLimits, cap_text, describe_validation_error
from agentkit.tools.patching import apply_patch, diff_stats, replace_exact, unified_diff
from agentkit.tools.protected import PathTarget
from agentkit.tools.workspace import Workspace

MAX_READ_BYTES = 10_000_000
GREP_MAX_FILE_BYTES = 5_000_000
GREP_LINE_CHARS = 300


def named_in(path: str | None, text: str) -> bool:
    """Whether ``text`` names ``path`` (as a whole word; ``.`` never counts)."""
    if not path:
        return False
    path = path.strip().removeprefix("./").rstrip("/")
    if path in ("", ".", ".."):
        return False
    return re.search(rf"(?<![\w./-]){re.escape(path)}(?![\w/-]|\.\w)", text) is not None


SUMMARY_NAMES = 20


def summary_line(names: list[str], kind: str) -> str:
    """One line with the count and (up to :data:`SUMMARY_NAMES`) the names: a
    small model answers "what files are in reports?" and "how many?" by
    copying one line, and dropped or repeated entries copying several."""
    shown = ", ".join(names[:SUMMARY_NAMES]) + (", ..." if len(names) > SUMMARY_NAMES else "")
    return f"{len(names)} {kind}: {shown}"


class FileTool(BaseTool):
    """What the file tools share: the workspace, the output caps, errors as
    observations, and their declaration (side effects; a ``preview`` method,
    where a tool has one)."""

    ws: Workspace = Field(exclude=True)
    limits: ToolLimits = Field(exclude=True)
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("read",)
    examples: ClassVar[tuple[ToolExample, ...]] = ()
    grounding: ClassVar[Mapping[str, Grounding]] = {}  # path arguments (tools/grounding.py)
    shows_content: ClassVar[bool] = False  # results quote file contents (untrusted content)
    handle_tool_error: bool = True
    handle_validation_error: Callable[[ValidationError], str] = describe_validation_error

    @model_validator(mode="after")
    def _declared(self) -> Self:
        return declare(
            self,
            self.side_effects,
            preview=getattr(self, "preview", None),
            examples=self.examples,
            choices=path_choices(self.ws, self.grounding) if self.grounding else None,
            mentions=path_mentions(self.ws, self.grounding) if self.grounding else None,
            targets=self.targets,
            untrusted=self.untrusted,
            choices_small_only=[
                arg for arg, kind in self.grounding.items() if kind in SMALL_MODEL_GROUNDINGS
            ],
        )

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

    def execute(self, **kwargs: object) -> str:
        raise NotImplementedError

    def _run(self, **kwargs: object) -> str:
        try:
            return self.execute(**kwargs)
        except OSError as err:  # the file system changed under us: tell the model
            name = getattr(err, "filename", None) or ""
            detail = err.strerror or err
            raise ToolException(f"{self.name}: {name + ': ' if name else ''}{detail}") from None


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
    grounding: ClassVar[Mapping[str, Grounding]] = {"path": "existing_file"}
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="What is the deadline in plan.txt?",
            args={"path": "plan.txt"},
            result="plan.txt (lines 1-3 of 3)\nProject: Kite\nDeadline: 14 March\nOwner: Sam",
            answer="Deadline: 14 March",
        ),
        # Not a worked example: "What's the first line of poem.txt?" would
        # pick it and copy its start_line of -2.
        ToolExample(request="What are the last two lines of diary.txt?"),
        ToolExample(request="Show me what config.yaml contains"),
        ToolExample(request="Who is listed as the author in about.md?"),
        ToolExample(request="How many lines does data.csv have?"),
        ToolExample(request="Read setup.cfg and tell me the version"),
    )

    def execute(self, path: str, start_line: int = 1, end_line: int | None = None) -> str:
        text, size = self.ws.read_text(path, MAX_READ_BYTES)
        lines = text.splitlines()
        total = len(lines)
        total_note = f"first {MAX_READ_BYTES} bytes of {size}" if size > MAX_READ_BYTES else total
        if total == 0:
            return f"{path}: empty file"
        if start_line < 0:  # from the end: "the last line", "the last three lines"
            start_line = max(1, total + start_line + 1)
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
    grounding: ClassVar[Mapping[str, Grounding]] = {"path": "existing_dir"}
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="What is in the photos folder?",
            args={"path": "photos"},
            result="3 entries: old/, beach.jpg, city.jpg\nold/\nbeach.jpg (81234 bytes)\ncity.jpg (90112 bytes)",
            answer="3 entries: old/, beach.jpg, city.jpg",
        ),
        ToolExample(request="List the files in src"),
        ToolExample(request="How many files are in the uploads directory?"),
    )

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
    grounding: ClassVar[Mapping[str, Grounding]] = {"path": "existing_dir"}
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="Find all the CSV files",
            args={"pattern": "**/*.csv"},
            result="2 matches: reports/q1.csv, sales.csv\nreports/q1.csv\nsales.csv",
            answer="2 matches: reports/q1.csv, sales.csv",
        ),
        ToolExample(request="List every JSON file in the project"),
        ToolExample(request="Which markdown files are under notes/?"),
    )

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
    grounding: ClassVar[Mapping[str, Grounding]] = {
        "path": "existing_path",
        "pattern": "task_phrase",
    }
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="Which file mentions the word budget?",
            args={"pattern": "budget"},
            result="finance/plan.md:3: The budget is 400 euros.",
            answer="finance/plan.md:3: The budget is 400 euros.",
        ),
        ToolExample(request="Search the code for FIXME"),
        ToolExample(request="On which line of server.log does WARNING appear?"),
    )

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
                    if not scan(rel, self.ws.read_in_dir(dir_fd, name, GREP_MAX_FILE_BYTES)):
                        break
                if len(results) >= max_results:
                    break
        if not results:
            return f"no matches for {pattern!r} under {path}"
        more = f"\n[stopped at max_results={max_results}]" if len(results) >= max_results else ""
        return cap_text("\n".join(results) + more, self.limits, hint="narrow the pattern or path")


# --- write -----------------------------------------------------------------------------


class WriteFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root (created or replaced).")
    content: str = Field(description="The complete new content of the file.")


class WriteFile(FileTool):
    name: str = "write_file"
    description: str = "Create or overwrite a file in the workspace with the given content."
    args_schema: ArgsSchema | None = WriteFileArgs
    grounding: ClassVar[Mapping[str, Grounding]] = {"path": "named_path"}
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="Write the text see you soon to the file bye.txt",
            args={"path": "bye.txt", "content": "see you soon"},
            result="created bye.txt (1 lines, 12 bytes)",
            answer="created bye.txt (1 lines, 12 bytes)",
        ),
        ToolExample(request="Create a file called todo.md with the text buy milk"),
        ToolExample(request="Save the number 7 in result.txt"),
    )
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("write",)

    def execute(self, path: str, content: str) -> str:
        existed = self.ws.exists(path)
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
        diff = unified_diff(path, before, content, new_file=new_file)
        added, removed = diff_stats(diff)
        summary = (
            f"create {shown} ({len(content.splitlines())} lines)"
            if new_file
            else f"overwrite {shown} (+{added} -{removed} lines)"
        )
        return ToolPreview(kind="diff", summary=summary, body=diff)


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


class EditFile(FileTool):
    name: str = "edit_file"
    description: str = (
        "Edit a workspace file: replace old_string (exact, unique) with new_string, "
        "add new_string at the end (old_string empty), or apply a unified diff patch."
    )
    args_schema: ArgsSchema | None = EditFileArgs
    grounding: ClassVar[Mapping[str, Grounding]] = {
        "path": "existing_file",
        "old_string": "file_fragment",
        "new_string": "task_phrase",
    }
    examples: ClassVar[tuple[ToolExample, ...]] = (
        ToolExample(
            request="In app.ini, change the colour from blue to green.",
            args={"path": "app.ini", "old_string": "blue", "new_string": "green"},
            result="edited app.ini (+1 -1 lines)",
            answer="edited app.ini (+1 -1 lines)",
        ),
        ToolExample(request="Replace foo with bar in main.py"),
        ToolExample(
            request="Append the line 'the end' to story.txt",
            args={"path": "story.txt", "old_string": "", "new_string": "the end"},
            result="edited story.txt (+1 -0 lines)",
            answer="edited story.txt (+1 -0 lines)",
        ),
        ToolExample(request="set debug to true in settings.toml"),
        ToolExample(request="fix the typo 'teh' in notes.md"),
    )
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
            return before, apply_patch(before, edit.patch)
        if edit.old_string == "" and edit.new_string:
            # Appending needs no copy of the file's text: what a model that has
            # not read the file (or cannot copy it exactly) can still do right.
            gap = "\n" if before and not before.endswith("\n") else ""
            tail = "" if edit.new_string.endswith("\n") else "\n"
            return before, before + gap + edit.new_string + tail
        after = replace_exact(
            before, edit.old_string, edit.new_string, replace_all=edit.replace_all, path=edit.path
        )
        return before, after


READ_TOOLS: tuple[type[FileTool], ...] = (ReadFile, ListDir, Glob, Grep)
WRITE_TOOLS: tuple[type[FileTool], ...] = (WriteFile, EditFile)


def file_tools(ws: Workspace, limits: ToolLimits, *, read_only: bool = False) -> list[BaseTool]:
    """The file tools bound to ``ws``: these and the operations of
    tools/file_facts.py (read) and tools/file_ops.py (write)."""
    # Those modules build on FileTool: imported here, not at the top.
    from agentkit.tools.file_facts import READ_FACTS
    from agentkit.tools.file_ops import WRITE_OPS

    kinds = READ_TOOLS + READ_FACTS
    if not read_only:
        kinds += WRITE_TOOLS + WRITE_OPS
    return [kind(ws=ws, limits=limits) for kind in kinds]
