"""File names and URLs a user writes in a task: what the groundings call
*named*. A path is named by its form (an extension, a dotfile, a capitals
name in a folder), or by a tool's naming convention (Makefile, LICENSE)."""

from __future__ import annotations

import re
from collections.abc import Sequence

# A path a user writes: segments of word characters, dots and dashes joined by
# '/', ending in a name with an extension (notes.txt, docs/a-b.md, .env.local)
# or in a dotfile's name (.env, app/.gitignore: without it "make a .env file"
# left the name free and the model wrote env.toml).
_MENTIONED = re.compile(
    r"(?<![\w/.-])((?:[\w-]+/)*(?:\.?[\w-]+(?:\.[\w-]+)*\.[A-Za-z0-9]{1,8}"
    r"|\.[a-z][a-z0-9_-]{1,30}))(?![\w/-])"
)
# A file without an extension is named only in capitals inside a lowercase
# folder (release/VERSION, docs/LICENSE): "and/or", "docs/notes" and
# "PASS/FAIL" are not files.
_CAPITAL_NAME = re.compile(
    r"(?<![\w/.-])((?:[a-z0-9_.][\w.-]*/)+[A-Z][A-Z0-9_]{2,})(?![\w/-]|\.\w)"
)
# Files a tool's convention names without an extension: a user writes
# "Makefile" or "LICENSE" as the whole name. Unnamed, the name was free and
# the model wrote docker.Dockerfile for "write FROM python:3.12 to Dockerfile".
CONVENTIONAL_NAMES = frozenset(
    "Makefile GNUmakefile Dockerfile Containerfile Procfile Gemfile Rakefile Jenkinsfile "
    "Vagrantfile Brewfile Justfile Pipfile Caddyfile LICENSE README CHANGELOG AUTHORS "
    "CONTRIBUTING NOTICE VERSION COPYING CODEOWNERS".split()
)
_CONVENTIONAL = re.compile(
    r"(?<![\w/.-])((?:[\w.-]+/)*(?:" + "|".join(sorted(CONVENTIONAL_NAMES)) + r"))(?![\w/-]|\.\w)"
)
# A version or a decimal is not a file name: "put v1.2.0 into release/VERSION"
# created a file named v1.2.0.
_NUMBERISH = re.compile(r"[vV]?\d+(?:\.\d+)+")
URLISH = re.compile(r"\w+://\S+")


_URL = re.compile(r"https?://[^\s\"'<>`]+")


def mentioned_urls(text: str) -> list[str]:
    """http(s) URLs in ``text``, trailing punctuation dropped, in order."""
    return list(dict.fromkeys(m.group(0).rstrip(".,;:!?)]}") for m in _URL.finditer(text)))


# A quoted file name with spaces in it ("my notes.txt"): the whole name, not
# the part after its last space.
_QUOTED_SPACED_PATH = re.compile(
    r"(?<!\w)([\"'`])((?:[\w .-]+/)*[\w.-][\w .-]* [\w .-]*\.[A-Za-z0-9]{1,8})\1(?!\w)"
)


def mentioned_paths(text: str) -> list[str]:
    """File names in ``text`` (URLs, versions and decimals left out), in
    order: with an extension, a dotfile, a capitals name in a folder, or a
    conventional name (:data:`CONVENTIONAL_NAMES`); a quoted name may hold
    spaces."""
    text = URLISH.sub(" ", text)
    found: list[tuple[int, str]] = []
    for m in _QUOTED_SPACED_PATH.finditer(text):
        found.append((m.start(), m.group(2).strip()))
        text = text[: m.start()] + " " * len(m.group(0)) + text[m.end() :]
    found += [(m.start(), m.group(1).rstrip(".")) for m in _MENTIONED.finditer(text)]
    found += [(m.start(), m.group(1)) for m in _CAPITAL_NAME.finditer(text)]
    found += [(m.start(), m.group(1)) for m in _CONVENTIONAL.finditer(text)]
    paths = [p for _, p in sorted(found)]
    return list(dict.fromkeys(p for p in paths if not _NUMBERISH.fullmatch(p)))


_DESTINATION = re.compile(
    r"\b(?:to|into|as|called|named)\s+(?:the\s+|a\s+|new\s+)*(?:file\s+)?[`'\"]?"
    + _MENTIONED.pattern,
    re.IGNORECASE,
)


def destination_paths(text: str) -> list[str]:
    """Paths ``text`` names as where to write ("... and write the count to
    count.txt", "into backup.txt", "save it as out.md"). When a task names
    one, a write goes there and nowhere else: the 270M model otherwise
    overwrote names.txt, the file it was asked to count."""
    text = URLISH.sub(" ", text)
    found = [m.group(1).rstrip(".") for m in _DESTINATION.finditer(text)]
    return list(dict.fromkeys(p for p in found if not _NUMBERISH.fullmatch(p)))


_SLASHED = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)+[\w-]+)(?![\w/.-])")


def in_existing_folders(text: str, dirs: Sequence[str]) -> list[str]:
    """Names without an extension written inside a folder that exists
    ("save hi to notes/todo" with a notes folder): the model wrote
    notes/todo/todo.txt. "and/or" names no folder, so it is no file."""
    known = set(dirs)
    found = [m.group(1) for m in _SLASHED.finditer(URLISH.sub(" ", text))]
    return [p for p in found if p.rsplit("/", 1)[0] in known and p not in known]
