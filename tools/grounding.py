"""Grounded path arguments: which values a path argument may take right now.

A 270M model copies the most visible words into a path (``file_path``,
``path/to/file``, ``e_path``) instead of the file the task names. A file
tool declares, per path argument, what the path must name; the act node
then offers the model only those values through the grammar:

- ``existing_file`` / ``existing_dir`` / ``existing_path``: what is in the
  workspace now (read_file, edit_file; list_dir, glob; grep);
- ``named_path``: a file that exists or that the task names (write_file may
  create one; ``Write hello to hello.txt`` offers ``hello.txt``).

When the workspace holds more than :data:`MAX_CHOICES` entries, or the
candidates are empty, the argument stays free (the tool's own checks and the
loop's error feedback then apply).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from agentkit.tools.base import ChoicesFn, MentionsFn
    from agentkit.tools.workspace import Workspace

Grounding = Literal["existing_file", "existing_dir", "existing_path", "named_path"]
MAX_CHOICES = 300
# Directories never offered (glob and grep skip them too).
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
# A path a user writes: segments of word characters, dots and dashes joined by
# '/', ending in a name with an extension (notes.txt, docs/a-b.md, .env.local).
_MENTIONED = re.compile(
    r"(?<![\w/.-])((?:[\w-]+/)*\.?[\w-]+(?:\.[\w-]+)*\.[A-Za-z0-9]{1,8})(?![\w/-])"
)
_URLISH = re.compile(r"\w+://\S+")


_URL = re.compile(r"https?://[^\s\"'<>`]+")


def mentioned_urls(text: str) -> list[str]:
    """http(s) URLs in ``text``, trailing punctuation dropped, in order."""
    return list(dict.fromkeys(m.group(0).rstrip(".,;:!?)]}") for m in _URL.finditer(text)))


def mentioned_paths(text: str) -> list[str]:
    """File names with an extension in ``text`` (URLs left out), in order."""
    text = _URLISH.sub(" ", text)
    found = [m.group(1).rstrip(".") for m in _MENTIONED.finditer(text)]
    return list(dict.fromkeys(p for p in found if not p.replace(".", "").isdigit()))


def inventory(ws: Workspace, limit: int = MAX_CHOICES) -> tuple[list[str], list[str]] | None:
    """(files, directories) in the workspace, relative, sorted; None when
    there are more than ``limit`` entries."""
    files: list[str] = []
    dirs: list[str] = []
    for rel_dir, dirnames, filenames, _fd in ws.walk("."):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        dirs += [prefix + d for d in dirnames]
        files += [prefix + f for f in filenames]
        if len(files) + len(dirs) > limit:
            return None
    return sorted(files), sorted(dirs)


def path_mentions(ws: Workspace, grounding: Mapping[str, Grounding]) -> MentionsFn:
    """Whether a task names what a tool with these path arguments acts on: a
    file or directory that exists (``existing_*``), or a file that does not
    exist yet (``named_path``: a file to create)."""
    kinds = set(grounding.values())

    def mentions(text: str) -> bool:
        found = inventory(ws)
        if found is None:
            return False
        files, dirs = found
        named = mentioned_paths(text)
        names = {f for f in files} | {f.rsplit("/", 1)[-1] for f in files}
        words = set(re.findall(r"[\w.-]+", text))
        if kinds & {"existing_file", "existing_path"} and any(p in names for p in named):
            return True
        if kinds & {"existing_dir", "existing_path"} and any(
            d in words or d.rsplit("/", 1)[-1] in words for d in dirs
        ):
            return True
        return "named_path" in kinds and any(p not in names for p in named)

    return mentions


def path_choices(ws: Workspace, grounding: Mapping[str, Grounding]) -> ChoicesFn:
    """A choices function for a tool whose path arguments are ``grounding``."""

    def choices(arg: str, text: str) -> list[str] | None:
        kind = grounding.get(arg)
        if kind is None:
            return None
        found = inventory(ws)
        if found is None:
            return None
        files, dirs = found
        if kind == "existing_file":
            values = files
        elif kind == "existing_dir":
            values = [".", *dirs]
        elif kind == "existing_path":
            values = [".", *dirs, *files]
        else:
            named = mentioned_paths(text)
            values = sorted({*files, *named}) if named else []
        return values or None

    return choices
