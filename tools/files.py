"""File tools, confined to a :class:`~agentkit.tools.workspace.Workspace`:
read_file, list_dir, glob, grep (read) and write_file, edit_file (write, with
a unified-diff approval preview)."""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.base import ToolPreview, declare
from agentkit.tools.limits import Deadline, ToolLimits, cap_text, describe_validation_error
from agentkit.tools.patching import apply_patch, diff_stats, replace_exact, unified_diff
from agentkit.tools.workspace import Workspace

# Directories glob and grep do not descend into (list_dir still shows them).
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "node_modules",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
MAX_READ_BYTES = 10_000_000
GREP_MAX_FILE_BYTES = 5_000_000
GREP_LINE_CHARS = 300


class ReadFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root.")
    start_line: int = Field(1, ge=1, description="First line to show (1-based).")
    end_line: int | None = Field(
        None, ge=1, description="Last line to show (inclusive); default: end of file."
    )


class ListDirArgs(BaseModel):
    path: str = Field(".", description="Directory relative to the workspace root.")


class GlobArgs(BaseModel):
    pattern: str = Field(
        description="Glob pattern, e.g. '*.py' (this directory) or '**/*.py' (recursive)."
    )
    path: str = Field(".", description="Directory to search from.")


class GrepArgs(BaseModel):
    pattern: str = Field(description="Regular expression (Python syntax) to search for.")
    path: str = Field(".", description="File or directory to search.")
    include: str | None = Field(
        None, description="Only files whose name matches this glob, e.g. '*.py'."
    )
    ignore_case: bool = Field(False, description="Case-insensitive match.")
    max_results: int = Field(100, ge=1, le=1000, description="Stop after this many matching lines.")


class WriteFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root (created or replaced).")
    content: str = Field(description="The complete new content of the file.")


class EditFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root.")
    old_string: str = Field(
        "", description="Exact text to replace (must occur once unless replace_all)."
    )
    new_string: str = Field("", description="Replacement text.")
    replace_all: bool = Field(False, description="Replace every occurrence of old_string.")
    patch: str | None = Field(
        None, description="Instead of old/new: a unified diff (@@ hunks) to apply."
    )


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex over '/'-separated relative paths: '*' and '?' stay
    inside one component, a '**' component matches any number of them."""
    parts = [p for p in pattern.strip("/").split("/") if p not in ("", ".")]
    regex = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
            continue
        regex += _component(part) + ("" if last else "/")
    return re.compile(regex + r"\Z", re.DOTALL)


def _component(part: str) -> str:
    out, i = "", 0
    while i < len(part):
        ch = part[i]
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = part.find("]", i + 2 if part[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                inner = part[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out += "[" + inner.replace("\\", "\\\\") + "]"
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return out


def file_tools(ws: Workspace, limits: ToolLimits, *, read_only: bool = False) -> list[BaseTool]:
    """The file tools bound to ``ws``."""

    def read_file(path: str, start_line: int = 1, end_line: int | None = None) -> str:
        text, size = ws.read_text(path, MAX_READ_BYTES)
        lines = text.splitlines()
        total = len(lines)
        if size > MAX_READ_BYTES:
            total_note = f"first {MAX_READ_BYTES} bytes of {size}"
        else:
            total_note = f"{total}"
        if total == 0:
            return f"{path}: empty file"
        if start_line > total:
            raise ToolException(
                f"read_file: '{path}' has {total} lines; start_line {start_line} is past the end"
            )
        last = min(end_line or total, total)
        if last < start_line:
            raise ToolException("read_file: end_line is before start_line")
        body = "\n".join(lines[start_line - 1 : last])
        header = f"{path} (lines {start_line}-{last} of {total_note})\n"
        return cap_text(header + body, limits, hint="read a smaller line range")

    def list_dir(path: str = ".") -> str:
        entries = ws.list_dir(path)
        if not entries:
            return f"{path}: empty directory"
        rows = []
        for e in entries:
            if e.kind == "dir":
                rows.append(f"{e.name}/")
            elif e.kind == "symlink":
                rows.append(f"{e.name}@ (symlink)")
            elif e.kind == "file":
                rows.append(f"{e.name} ({e.size} bytes)")
            else:
                rows.append(f"{e.name} (special file)")
        return cap_text("\n".join(rows), limits, hint="list a subdirectory")

    def glob(pattern: str, path: str = ".") -> str:
        deadline = Deadline(limits.timeout_s, "glob")
        regex = glob_regex(pattern)
        matches: list[str] = []
        with ws.open_dir(path) as (_fd, real):
            base = ws.relative(real)
        for rel_dir, dirnames, filenames, _dir_fd in ws.walk(path):
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
        return cap_text("\n".join(sorted(matches)), limits, hint="use a narrower pattern")

    def grep(
        pattern: str,
        path: str = ".",
        include: str | None = None,
        ignore_case: bool = False,
        max_results: int = 100,
    ) -> str:
        deadline = Deadline(limits.timeout_s, "grep")
        try:
            regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as err:
            raise ToolException(f"grep: invalid regular expression: {err}") from None
        results: list[str] = []
        real = ws.resolve(path)

        def scan(rel_path: str, data: bytes | None) -> bool:
            if data is None or b"\x00" in data[:8192]:
                return True
            for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                if regex.search(line):
                    results.append(f"{rel_path}:{number}: {line[:GREP_LINE_CHARS]}")
                    if len(results) >= max_results:
                        return False
            return True

        if real.is_file():
            data, _size = ws.read_bytes(path, GREP_MAX_FILE_BYTES)
            scan(ws.relative(real), data)
        else:
            for rel_dir, dirnames, filenames, dir_fd in ws.walk(path):
                deadline.check()
                dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
                for name in sorted(filenames):
                    if include and not fnmatch.fnmatch(name, include):
                        continue
                    rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                    if not scan(rel, ws.read_in_dir(dir_fd, name, GREP_MAX_FILE_BYTES)):
                        break
                if len(results) >= max_results:
                    break
        if not results:
            return f"no matches for {pattern!r} under {path}"
        more = f"\n[stopped at max_results={max_results}]" if len(results) >= max_results else ""
        return cap_text("\n".join(results) + more, limits, hint="narrow the pattern or path")

    def write_file(path: str, content: str) -> str:
        existed = ws.exists(path)
        real = ws.write_text(path, content)
        lines = len(content.splitlines())
        verb = "overwrote" if existed else "created"
        return f"{verb} {ws.relative(real)} ({lines} lines, {len(content.encode())} bytes)"

    def _edited(
        path: str, old_string: str, new_string: str, replace_all: bool, patch: str | None
    ) -> tuple[str, str]:
        before, size = ws.read_text(path, MAX_READ_BYTES)
        if size > MAX_READ_BYTES:
            raise ToolException(f"edit_file: '{path}' is too large to edit ({size} bytes)")
        if patch:
            return before, apply_patch(before, patch)
        return before, replace_exact(
            before, old_string, new_string, replace_all=replace_all, path=path
        )

    def edit_file(
        path: str,
        old_string: str = "",
        new_string: str = "",
        replace_all: bool = False,
        patch: str | None = None,
    ) -> str:
        before, after = _edited(path, old_string, new_string, replace_all, patch)
        if after == before:
            return f"{path}: no change"
        ws.write_text(path, after)
        added, removed = diff_stats(unified_diff(path, before, after))
        return f"edited {path} (+{added} -{removed} lines)"

    def preview_write(args: Mapping[str, Any]) -> ToolPreview:
        path = str(args.get("path", ""))
        content = str(args.get("content", ""))
        ws.resolve(path, for_write=True)
        new_file = not ws.exists(path)
        before = "" if new_file else ws.read_text(path, MAX_READ_BYTES)[0]
        diff = unified_diff(path, before, content, new_file=new_file)
        added, removed = diff_stats(diff)
        summary = (
            f"create {path} ({len(content.splitlines())} lines)"
            if new_file
            else f"overwrite {path} (+{added} -{removed} lines)"
        )
        return ToolPreview(kind="diff", summary=summary, body=diff)

    def preview_edit(args: Mapping[str, Any]) -> ToolPreview:
        path = str(args.get("path", ""))
        ws.resolve(path, for_write=True)
        before, after = _edited(
            path,
            str(args.get("old_string", "")),
            str(args.get("new_string", "")),
            bool(args.get("replace_all", False)),
            args.get("patch"),
        )
        diff = unified_diff(path, before, after)
        added, removed = diff_stats(diff)
        return ToolPreview(
            kind="diff", summary=f"edit {path} (+{added} -{removed} lines)", body=diff
        )

    def make(func: Any, schema: type[BaseModel], description: str) -> StructuredTool:
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> str:
            try:
                return func(*args, **kwargs)
            except OSError as err:  # the file system changed under us: tell the model
                name = getattr(err, "filename", None) or ""
                raise ToolException(
                    f"{func.__name__}: {name + ': ' if name else ''}{err.strerror or err}"
                ) from None

        return StructuredTool.from_function(
            func=guarded,
            name=func.__name__,
            description=description,
            args_schema=schema,
            handle_tool_error=True,
            handle_validation_error=describe_validation_error,
        )

    tools: list[BaseTool] = [
        declare(
            make(
                read_file,
                ReadFileArgs,
                "Read a text file in the workspace, optionally only lines start_line..end_line.",
            ),
            ["read"],
        ),
        declare(
            make(list_dir, ListDirArgs, "List a directory in the workspace (dirs end with '/')."),
            ["read"],
        ),
        declare(
            make(glob, GlobArgs, "Find workspace paths matching a glob pattern ('**' recurses)."),
            ["read"],
        ),
        declare(
            make(
                grep,
                GrepArgs,
                "Search workspace files for a regular expression; prints path:line: text.",
            ),
            ["read"],
        ),
    ]
    if not read_only:
        tools += [
            declare(
                make(
                    write_file,
                    WriteFileArgs,
                    "Create or overwrite a file in the workspace with the given content.",
                ),
                ["write"],
                preview=preview_write,
            ),
            declare(
                make(
                    edit_file,
                    EditFileArgs,
                    "Edit a workspace file: replace old_string (exact, unique) with new_string, or apply a unified diff patch.",
                ),
                ["write"],
                preview=preview_edit,
            ),
        ]
    return tools
