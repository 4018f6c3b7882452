"""Glob patterns over '/'-separated paths: one meaning for the ``glob`` tool
and for the ``paths`` of policy rules.

``*`` and ``?`` match inside one path component and ``[...]`` is a character
class (``[!...]`` negated), as in :mod:`fnmatch`. A ``**`` component matches
any number of components: ``**/*.md`` matches ``a.md`` and ``x/y/a.md``, and
``notes/**`` everything below ``notes``; inside a component ``**`` crosses
directories too (``**.md`` matches ``x/y/a.md``), as policy rules always
did. A pattern that starts with ``/`` matches absolute paths. ``.``
components and repeated slashes are ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Directories the glob and grep tools skip (and grounding never offers).
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


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` as a regex that matches a whole path."""
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    regex = "/" if pattern.startswith("/") else ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
            continue
        regex += _component(part) + ("" if last else "/")
    return re.compile(regex + r"\Z", re.DOTALL)


def glob_match(pattern: str, path: str) -> bool:
    return glob_regex(pattern).match(path) is not None


def _component(part: str) -> str:
    out, i = "", 0
    while i < len(part):
        ch = part[i]
        if part.startswith("**", i):
            out += ".*"
            i += 1
        elif ch == "*":
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
