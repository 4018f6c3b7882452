"""Command patterns of always-allow rules, matched word by word.

A pattern matches a whole command: the same number of words (after shell
quoting), each word equal, except glob words (``*``, ``?``, ``[...]``), which
match a relative path that stays where the glob says after ``.`` and ``..``
are collapsed (never an option, an absolute path or ``~``). A command that
chains, pipes, redirects or substitutes never matches. So ``cat notes/*``
matches ``cat notes/a.md`` and never ``cat notes/../../x``, ``cat notes/a.md
/etc/passwd`` or ``cat a; rm b``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from agentkit.tools.globs import glob_match

SHELL_CONTROL = re.compile(r"[;&|`<>\n\r]|\$\(")
GLOB = re.compile(r"[*?\[]")


def collapse(path: str) -> str | None:
    """``path``'s parts (``\\`` read as ``/``) with ``.`` and ``..`` collapsed,
    joined without a leading ``/``; None when ``..`` climbs above the start."""
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def normalise(path: str) -> str | None:
    """``path`` with ``.`` and ``..`` collapsed; None when it climbs out of
    where it starts (or is absolute, or starts at the home directory)."""
    if not path or path.startswith(("/", "~")) or "\x00" in path:
        return None
    collapsed = collapse(path)
    return None if collapsed is None else collapsed or "."


def split_words(line: str) -> list[str] | None:
    try:
        return shlex.split(line)
    except ValueError:
        return None


def command_matches(command: str, patterns: Sequence[str]) -> bool:
    """Whether ``command`` is one of ``patterns``, word by word (see the
    module docstring)."""
    command = command.strip()
    if SHELL_CONTROL.search(command):
        return False
    words = split_words(command)
    if not words:
        return False
    return any(_words_match(words, split_words(p) or []) for p in patterns)


def _words_match(words: list[str], pattern: list[str]) -> bool:
    if len(words) != len(pattern):
        return False
    for word, expected in zip(words, pattern, strict=True):
        if not GLOB.search(expected):
            if word != expected:
                return False
            continue
        if word.startswith("-"):
            return False
        path = normalise(word)
        if path is None or not glob_match(expected, path):
            return False
    return True
