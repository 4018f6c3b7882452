"""Text edits for edit_file: exact-string replacement and unified-diff patches,
plus the unified diff that approval previews show."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from langchain_core.tools import ToolException

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def unified_diff(
    path: str, before: str, after: str, *, new_file: bool = False, deleted: bool = False
) -> str:
    """``diff -u`` style text between two versions of ``path`` (``deleted``:
    the file is removed, as a move removes its source)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile="/dev/null" if new_file else f"a/{path}",
        tofile="/dev/null" if deleted else f"b/{path}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def diff_stats(diff: str) -> tuple[int, int]:
    """(added, removed) line counts of a unified diff."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def replace_exact(text: str, old: str, new: str, *, replace_all: bool, path: str) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must occur exactly
    once unless ``replace_all``."""
    if old == "":
        raise ToolException("edit_file: old_string is empty; give the exact text to replace")
    count = text.count(old)
    if count == 0:
        hint = ""
        if old.strip() and old.strip() in text:
            hint = " (it does occur with different surrounding whitespace)"
        raise ToolException(
            f"edit_file: old_string not found in '{path}'{hint}; read the file and copy the text exactly"
        )
    if count > 1 and not replace_all:
        raise ToolException(
            f"edit_file: old_string occurs {count} times in '{path}'; "
            "include more surrounding text to make it unique, or set replace_all"
        )
    return text.replace(old, new) if replace_all else text.replace(old, new, 1)


@dataclass
class _Hunk:
    old_start: int
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" "|"-"|"+", text)


def _parse_hunks(patch: str) -> list[_Hunk]:
    hunks: list[_Hunk] = []
    current: _Hunk | None = None
    for line in patch.splitlines():
        match = _HUNK.match(line)
        if match:
            current = _Hunk(old_start=int(match.group(1)))
            hunks.append(current)
        elif current is None or line.startswith(("---", "+++", "diff ", "index ")):
            continue
        elif line.startswith("\\"):
            continue  # "\ No newline at end of file"
        elif line[:1] in (" ", "-", "+"):
            current.lines.append((line[0], line[1:]))
        elif line == "":
            current.lines.append((" ", ""))
        else:
            raise ToolException(f"edit_file: patch line not understood: {line[:80]!r}")
    if not hunks:
        raise ToolException("edit_file: patch has no hunks (@@ -a,b +c,d @@)")
    return hunks


def _find_block(lines: list[str], block: list[str], start: int, hint: int) -> int:
    def matches_at(i: int) -> bool:
        return i + len(block) <= len(lines) and all(
            lines[i + k].rstrip("\r\n") == block[k] for k in range(len(block))
        )

    if hint >= start and matches_at(hint):
        return hint
    found = [i for i in range(start, len(lines) - len(block) + 1) if matches_at(i)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ToolException(
            "edit_file: a patch hunk's context does not match the file; read it again"
        )
    raise ToolException("edit_file: a patch hunk's context matches several places; add context")


def apply_patch(text: str, patch: str) -> str:
    """Apply a unified diff to ``text``: every hunk's context and removed lines
    must match (at the stated line or one unique place after the last hunk)."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for hunk in _parse_hunks(patch):
        old_block = [t for kind, t in hunk.lines if kind in (" ", "-")]
        new_block = [t + "\n" for kind, t in hunk.lines if kind in (" ", "+")]
        if not old_block:  # pure insertion at old_start
            at = max(hunk.old_start, pos)
            out += lines[pos:at]
            out += new_block
            pos = at
            continue
        at = _find_block(lines, old_block, pos, hunk.old_start - 1)
        out += lines[pos:at]
        out += new_block
        pos = at + len(old_block)
    out += lines[pos:]
    result = "".join(out)
    if not text.endswith("\n") and pos >= len(lines) and result.endswith("\n") and text:
        result = result[:-1]
    return result
