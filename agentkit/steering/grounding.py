"""Grounded values: which values an argument may take right now.

A 270M model copies the most visible words into a path (``file_path``,
``path/to/file``, ``e_path``) instead of the file the task names. Each
grounding kind says what an argument must name, and the decoder is then
offered only those values through the grammar (see :mod:`.arguments` for
which argument of which tool has which kind):

- ``existing_file`` / ``existing_dir`` / ``existing_path``: what is in the
  workspace now;
- ``named_file``: an existing file the task names, for what a write changes
  or removes (an edit, a sort in place, a move's source); every existing
  file only when the task names no path at all;
- ``named_path``: a file the task names as where to write, or a new one it
  names (:func:`write_paths`); with ``rewrite`` (a tuned model, a task
  that asks for a change) also an existing file the task names;
- ``task_phrase`` / ``fact_phrase``: a phrase of the task or of a recent
  result (:func:`task_phrases`);
- ``file_fragment``: a line or a word of the file(s) the task names, for the
  text an edit replaces (:func:`file_fragments`);
- ``computing_span``: arithmetic the text spells out (:func:`expression_choices`);
- ``mentioned_url`` / ``written_command``: a URL or a command the text writes.
- ``destination``: where a copy or a move goes: a ``named_path``, or a
  directory the task names (:func:`destinations`);
- ``optional_destination``: for tools that write their result in place
  unless told where (sort_lines, dedupe_lines): the new files the task names
  when it names one, else "" (the file itself) or a ``named_path``;
- ``occurrence_phrase``: "" or, when the task asks how often something
  occurs, a phrase of it (:func:`occurrence_phrases`);
- ``file_key``: a key of the structured file(s) the task names, its full
  dotted path or its last part (:func:`file_keys`).
- ``settable_key``: a key of those files that the task writes, else free
  (:func:`settable_keys`: set_field may add a key).
- ``setting_value``: a word or quoted string of the task, or true/false
  (:func:`setting_values`).
- ``settings_path``: the settings files the task names (JSON, YAML, TOML,
  INI, .env by their names), made or not; else as ``named_path``.

A path that could be any of more than :data:`MAX_CHOICES` entries stays
free (the tool's own checks and the loop's error feedback then apply); the
files a task names are still found in a workspace of up to
:data:`MAX_LISTED` entries, a project's repository. When
nothing valid exists, there is no valid value: the tool is not callable that
step (never offered unnarrowed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from langchain_core.tools import ToolException

from agentkit.models.grammar import RequiredChoices
from agentkit.steering.paths import (  # noqa: F401 - re-exported
    URLISH,
    destination_paths,
    in_existing_folders,
    mentioned_paths,
    mentioned_urls,
)
from agentkit.tools.fields import declared_format, find_field, key_choices, parse_fields
from agentkit.tools.globs import SKIPPED_DIRS

if TYPE_CHECKING:
    from agentkit.tools.workspace import Workspace

Grounding = Literal[
    "existing_file",
    "named_file",
    "existing_dir",
    "existing_path",
    "named_path",
    "task_phrase",
    "fact_phrase",
    "file_fragment",
    "computing_span",
    "mentioned_url",
    "written_command",
    "destination",
    "optional_destination",
    "occurrence_phrase",
    "file_key",
    "settable_key",
    "setting_value",
    "settings_path",
    "line_range",
    "counted_phrase",
]
MAX_FRAGMENT_FILE_BYTES = 16_384
MAX_FRAGMENT_CHARS = 200
MAX_CHOICES = 300
# Listed to find the files a task names: a project's repository is larger
# than MAX_CHOICES, and there the groundings had all been off (12 of 85
# probe tasks lost in a workspace of 440 entries). About 50 ms here.
MAX_LISTED = 5_000
MAX_PHRASE_WORDS = 5
MAX_PHRASES = 400
# Words a search phrase neither starts nor ends with.
_EDGE_WORDS = frozenset(
    "a an the of in on at to for from by with and or but is are was were be do does did "
    "i me my you your we our it its this that these those there what which who whom whose "
    "when where why how many much please can could would should will tell show find search "
    "look up give let me just any some all file files remember recall then also keep "
    "mind note save store stored check memory".split()
)
_QUOTED = re.compile(r"\"([^\"\n]{1,80})\"|'([^'\n]{1,80})'|`([^`\n]{1,80})`")


def named_dirs(text: str, dirs: Sequence[str]) -> list[str]:
    """The existing ``dirs`` that ``text`` names, by path or by last part
    (a whole path names a file, not its folder: "recipes/pancakes.md")."""
    words = {w.rstrip("./") for w in re.findall(r"[\w./-]+", text)}
    return [d for d in dirs if d in words or d.rsplit("/", 1)[-1] in words]


# A folder named by the noun: "the drafts folder", "a folder called archive".
_FOLDER_BEFORE = re.compile(r"\b([\w-]+)\s+(?:folder|directory)\b", re.IGNORECASE)
_FOLDER_CALLED = re.compile(
    r"\b(?:folder|directory)\s+(?:called|named)\s+[`'\"]?([\w-]+(?:/[\w-]+)*)", re.IGNORECASE
)
# Words that say which folder without naming one ("the root folder").
_NOT_FOLDERS = frozenset(
    "a an the new that this same current working root top main project home parent each "
    "every any which what other whole entire my your our their its one another".split()
)


def folder_words(text: str, dirs: Sequence[str] = ()) -> list[str]:
    """Where a new file may go besides the top: an existing directory the
    task names, a word it writes as a folder ("inbox/"), or a word it calls
    a folder ("the drafts folder")."""
    return list(dict.fromkeys([*named_dirs(text, dirs), *new_folders(text, dirs)]))


def new_folders(text: str, dirs: Sequence[str] = ()) -> list[str]:
    """Folders the task names that do not exist yet: written with a slash
    ("inbox/") or called a folder ("inside the drafts folder"). Naming a
    folder that does not exist says where something new goes."""
    words = re.findall(r"[\w./-]+", URLISH.sub(" ", text))
    slashed = [w.rstrip("/") for w in words if re.fullmatch(r"[\w-]+(?:/[\w-]+)*/", w)]
    called = [*_FOLDER_BEFORE.findall(text), *_FOLDER_CALLED.findall(text)]
    existing = set(dirs) | {d.rsplit("/", 1)[-1] for d in dirs}
    found = [w for w in [*slashed, *called] if w.lower() not in _NOT_FOLDERS]
    return list(dict.fromkeys(w for w in found if w not in existing))


def write_paths(
    text: str, files: list[str], dirs: Sequence[str] = (), task: str = ""
) -> list[str] | None:
    """Where a whole-file write may go: the destination the task names ("to
    count.txt"; one that exists only when the task names no new file), else
    the files it names that do not exist yet. "Add buy stamps at the end of
    chores.md" must not replace chores.md: with nothing left to write, the
    tool is not offered, and an edit is. (A word such as
    "replace" or "clear" once let it overwrite a named file; no case's
    solution needs that, and "replace cat with dog in pets.txt" replaced
    the whole file.) A bare new name may also go into a folder the task
    names (:func:`folder_words`: "todo.txt in inbox/" offers todo.txt and
    inbox/todo.txt: the model chooses). A task that names no file leaves
    the name of a new one free (None). ``task``: what the user wrote
    (default: ``text``), for the files it asks to make."""
    existing = set(files)
    destinations = destination_paths(text)
    mentioned = [*mentioned_paths(text), *in_existing_folders(text, dirs)]
    asked = [*mentioned_paths(task), *in_existing_folders(task, dirs)] if task else mentioned
    mentioned = [p for p in mentioned if not names_a_type(p, text, files)]
    asked = [p for p in asked if not names_a_type(p, task or text, files)]
    to_make = [p for p in asked if p not in existing]
    if destinations and all(p in existing for p in destinations) and to_make:
        # A file to make is where the write goes, not an existing file after
        # "as": "make hello.txt with the same text as other.txt" overwrote
        # other.txt.
        destinations = []
        named = to_make
    else:
        named = destinations or mentioned
    if not named:
        return None
    folders = folder_words(text, dirs)
    placed = [f"{d}/{p}" for p in named if "/" not in p and p not in existing for d in folders]
    if new_folders(text, dirs):
        # A folder that does not exist is named only to hold the new file:
        # the top-level name alone would be a path the task did not ask for
        # (the tuned model wrote memo.txt for "memo.txt in the work folder").
        named = [p for p in named if "/" in p or p in existing]
    named += placed
    if destinations:
        return list(dict.fromkeys(named))
    return list(dict.fromkeys(p for p in named if p not in existing))


def names_a_type(path: str, text: str, files: Sequence[str]) -> bool:
    """Whether ``path``, a bare extension, is a type of file ``text`` asks
    about rather than a file to make: after a "*" ("ignores *.log"), or when
    other files of that type exist ("tell me the .csv file" beside
    sales.csv). A dotfile of its own (".gitignore", ".env") is a name."""
    if "/" in path or not path.startswith(".") or path.count(".") != 1:
        return False
    if f"*{path}" in text:
        return True
    return any(f.endswith(path) and f.rsplit("/", 1)[-1] != path for f in files)


_CODE_SPAN = re.compile(r"`([^`\n]{1,200})`|\(([^()\n]{1,120})\)")
_RUN = re.compile(r"\b(?:run|execute)\s+(?:the\s+)?(?:command\s+)?", re.IGNORECASE)
_USE = re.compile(r"\buse\s+(?:the\s+)?", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[,;!?\n`]|\.(?:\s|$)|\s(?:and|then)\s")
_SHELL_WORDS = re.compile(r"\b(?:shell|terminal|command line)\b", re.IGNORECASE)
_NOT_COMMANDS = frozenset({"shell", "terminal", "bash", "command", "commands", "the", "a"})
MAX_COMMAND_WORDS = 8


def written_commands(text: str) -> list[str]:
    """Shell commands ``text`` spells out: code spans (`` `expr 6 \\* 7` ``,
    "(touch done.flag)") and what follows "run"/"execute" or "use" up to the
    end of the clause ("Run echo hello from the shell" offers ``echo``, ``echo
    hello`` ... ``echo hello from the shell``). A small model's shell call
    may only be one of them: nothing the user did not write is executed."""
    found = [next(g for g in m.groups() if g) for m in _CODE_SPAN.finditer(text)]
    for verb in (*_RUN.finditer(text), *_USE.finditer(text)):
        rest = text[verb.end() :]
        end = _CLAUSE_END.search(rest)
        clause = rest[: end.start() if end else len(rest)]
        if verb.re is _USE:  # "use wc to count …": only the tool's name
            clause = " ".join(clause.split()[:1])
        words = clause.split()[:MAX_COMMAND_WORDS]
        if words and words[0].lower().strip("`") not in _NOT_COMMANDS and "`" not in words[0]:
            found += [" ".join(words[:size]) for size in range(1, len(words) + 1)]
    return list(dict.fromkeys(c.strip() for c in found if c.strip()))


def runs_a_command(text: str) -> bool:
    """Whether ``text`` asks to run a command or names the shell."""
    spans = any(m.group(1) for m in _CODE_SPAN.finditer(text))
    return spans or _RUN.search(text) is not None or _SHELL_WORDS.search(text) is not None


def task_phrases(
    text: str, max_words: int = MAX_PHRASE_WORDS, may_start: frozenset[str] = frozenset()
) -> list[str]:
    """What a search query or pattern may be, for a small model that wrote
    ``recall text`` (the tool's name) or ``return_docs`` (a schema word):
    quoted strings in ``text``, then runs of up to ``max_words`` of its
    words that neither start (unless in ``may_start``) nor end with a filler
    word. Paths are left out ("app.log" is where to search, not what)."""
    phrases = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]
    for line in text.splitlines():
        raw = line.split()
        words = [w.strip("?!.,;:()[]{}\"'`") for w in raw]
        for start, first in enumerate(words):
            filler = first.lower() in _EDGE_WORDS and first.lower() not in may_start
            if not first or filler or mentioned_paths(first):
                continue
            for end in range(start + 1, min(len(words), start + max_words) + 1):
                last = words[end - 1]
                if not last or mentioned_paths(last) or "/" in last:
                    break
                if end - 1 > start and raw[end - 2][-1] in ",.;:!?":
                    break  # a phrase stays inside its clause
                if last.lower() not in _EDGE_WORDS:
                    phrases.append(" ".join(words[start:end]))
        if len(phrases) >= MAX_PHRASES:
            break
    return list(dict.fromkeys(p for p in phrases if p.strip()))[:MAX_PHRASES]


def setting_values(
    task: str, settings: Mapping[str, object] = MappingProxyType({})
) -> RequiredChoices:
    """What set_field may set a setting to: a string the task quotes, a word
    of the task, or true/false; not the name of a settings file nor a part
    of the name of a key it may set (``settings``: key -> its value now);
    only true or false when each of those is a boolean, only the task's
    numbers when each is a number and the task has one. The tuned model had
    never seen set_field and, free, wrote '}}</tool_call></code>...' as the
    value; grounded in every word, it set debug to "debug", then "turn"."""
    olds = list(settings.values())
    if olds and all(isinstance(v, bool) for v in olds):
        return RequiredChoices(["true", "false"])
    keys = list(settings)
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(task)]
    named = {part.lower() for key in keys for part in re.split(r"[._\-\[\]]+", key) if part}
    words = [w.strip("?!.,;:()[]{}\"'`") for w in task.split()]
    kept = [w for w in words if w and not declared_format(w) and w.lower() not in named]
    numbers = [w for w in kept if w.lstrip("+-").replace(".", "", 1).isdigit()]
    if (
        olds
        and numbers
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in olds)
    ):
        return RequiredChoices(list(dict.fromkeys(numbers)))
    return RequiredChoices(list(dict.fromkeys([*quoted, *kept, "true", "false"])))


def file_fragments(ws: Workspace, text: str) -> RequiredChoices | None:
    """What an edit of a file named in ``text`` may replace: "" (add at the
    end), each line (with and without its newline), and each word of that
    file (with and without the space after it). The 270M
    model wrote ``timeout = 30`` (the new value) and ``log level = INFO``
    (the task's words) as the text to replace in files it had not read.
    None (free) when the task names no file, or they are large."""
    found = inventory(ws)
    if found is None:
        return None
    files, _dirs = found
    named = set(mentioned_paths(text))
    targets = [f for f in files if f in named or f.rsplit("/", 1)[-1] in named]
    fragments: list[str] = [""]
    for path in targets:
        try:
            content, size = ws.read_text(path, MAX_FRAGMENT_FILE_BYTES)
        except Exception:  # noqa: BLE001 - unreadable: the edit tool reports it
            return None
        if size > MAX_FRAGMENT_FILE_BYTES:
            return None
        lines = [line.strip() for line in content.splitlines() if line.strip()]
        # A line with its newline: what deleting the line removes.
        whole = [line for line in content.splitlines(keepends=True) if line.strip()]
        # One character ("3" of "retries = 3") is too little to find: the
        # model wrote it for "set the timeout to 30".
        # Nor is a filler word: "the" became the text an append replaced.
        # A word that occurs more than once is replaced everywhere (replace_all);
        # with its space after it, it is removed cleanly.
        words = [
            w
            for w in re.findall(r"[\w.-]*\w", content)
            if len(w) > 1 and w.lower() not in _EDGE_WORDS
        ]
        spaced = [f"{w} " for w in words if f"{w} " in content]
        fragments += [*lines, *whole, *words, *spaced]
    fragments = [f for f in dict.fromkeys(fragments) if len(f) <= MAX_FRAGMENT_CHARS]
    if len(fragments) == 1 or len(fragments) > MAX_CHOICES:
        return None
    return RequiredChoices(fragments)  # "" (an append) is an answer too


def destinations(text: str, files: list[str], dirs: list[str]) -> list[str] | None:
    """Where a copy or a move may go: :func:`write_paths`, and the existing
    directories the task names ("move report.md into archive" offers
    ``archive/``: the file keeps its name there). None (free) when the task
    names neither."""
    paths = write_paths(text, files, dirs)
    folders = [f"{d}/" for d in folder_words(text, dirs)]
    if paths is None and not folders:
        return None
    return list(dict.fromkeys([*(paths or []), *folders]))


_OCCURRENCES = re.compile(
    r"\b(?:how (?:many times|often)|times?\b|occur\w*|appear\w*|mention\w*|instances?)",
    re.IGNORECASE,
)


_COUNT_WORDS = frozenset(
    "time times often occur occurs occurring occurrence occurrences appear appears appearing "
    "mention mentions mentioned instance instances count many".split()
)


def occurrence_phrases(text: str) -> list[str]:
    """What count's ``text`` may be: "" (count lines, words and characters),
    and a phrase of the task only when it asks how often something occurs
    ("How many times does error appear in app.log?"). Otherwise a small
    model counted the word "words" in "How many words are in notes.txt?"."""
    if _OCCURRENCES.search(text) is None:
        return [""]
    # "times does error" is the question's wording, not what to count.
    return ["", *(p for p in task_phrases(text) if not _COUNT_WORDS & set(p.lower().split()))]


def counted_phrases(ws: Workspace, task: str) -> list[str] | None:
    """What count's ``text`` may be without the English gate of
    :func:`occurrence_phrases` (for a tuned model): a phrase the task quotes
    or a phrase of the task that occurs (as whole words) in the file it
    names, and it must be given; else only "" (count lines, words and
    characters). The tuned model counted "word count" in
    pitch.txt for "Use wc to count the words in pitch.txt" and answered from
    "does not occur". None (free) when the task names no file, or it is
    large."""
    found = inventory(ws)
    if found is None:
        return None
    targets = files_named_in(found[0], mentioned_paths(task))
    if not targets:
        return None
    held = ""
    for path in targets:
        content, size = ws.read_text(path, MAX_FRAGMENT_FILE_BYTES)
        if size > MAX_FRAGMENT_FILE_BYTES:
            return None
        held += content.lower() + "\n"
    quoted = {next(g for g in m.groups() if g) for m in _QUOTED.finditer(task)}
    found = [
        p
        for p in task_phrases(task)
        if p in quoted or (_holds(held, p) and not set(p.lower().split()) <= _ASKS_A_COUNT)
    ]
    # A phrase the task quotes or shares with the file is what to count: the
    # tuned model, left "" as well, counted app.log's lines for "count the
    # lines in app.log that mention disk" (held-out: won cases on two draws).
    return RequiredChoices(found) if found else [""]


# What count reports by itself (its result's own words), and the words that
# ask for a count: "how many lines are in notes.txt" and "count the words in
# story.txt" ask for count's own figures, whatever the file says (its "read
# between the lines" and "the count is wrong" were counted instead).
COUNTED_UNITS = frozenset({"line", "lines", "word", "words", "character", "characters"})
_ASKS_A_COUNT = COUNTED_UNITS | _COUNT_WORDS


def _holds(content: str, phrase: str) -> bool:
    """Whether ``content`` (lower case) holds ``phrase`` as whole words."""
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", content) is not None


def _named_files_keys(
    ws: Workspace, text: str, declared_only: bool = False
) -> tuple[dict[str, object], bool, bool]:
    """The keys of the structured files ``text`` names (``declared_only``:
    of those whose name says their format), each with its value; whether
    one of them holds no fields (prose); whether one could not be read or
    parsed."""
    # Names as written too: ".env" has no extension to be found by.
    named = set(mentioned_paths(text)) | {w.rstrip(".,;:!?") for w in re.findall(r"[\w./-]+", text)}
    found = inventory(ws)
    # A workspace too large to list (a project's repository) still has the
    # files the task names by their path: "what version is in
    # pyproject.toml?" had left the key free, and the model asked for
    # "Version 1.0.0.lock".
    files = found[0] if found is not None else [p for p in sorted(named) if _is_file(ws, p)]
    keys: dict[str, object] = {}
    prose = unknown = False
    for path in [f for f in files if f in named or f.rsplit("/", 1)[-1] in named]:
        if declared_only and declared_format(path) is None:
            continue
        try:
            content, size = ws.read_text(path, MAX_FRAGMENT_FILE_BYTES)
            if size > MAX_FRAGMENT_FILE_BYTES:
                unknown = True
                continue
            fields = parse_fields(path, content)
        except Exception:  # noqa: BLE001 - unparsable or unreadable: read_field reports it
            unknown = True
            continue
        found_keys = key_choices(fields)
        for key in found_keys:
            if 0 < len(key) <= MAX_FRAGMENT_CHARS and key not in keys:
                keys[key] = fields[key] if key in fields else fields[find_field(fields, key)[0]]
        prose = prose or not found_keys
    return keys, prose, unknown


def file_keys(ws: Workspace, text: str, task: str = "") -> RequiredChoices | None:
    """The keys of the structured files ``text`` names (full dotted keys,
    and last parts that are unique): "What's the port in config.ini?" then
    asks for a key out of a short list instead of the right line copied
    whole. When the task (``task``, default ``text``) names keys by their
    own words ("What retries does app.ini use?"), only those: the tuned
    model answered timeout, the key above. None (free) when no named file
    parses."""
    values, prose, unknown = _named_files_keys(ws, text)
    keys = list(values)
    if not keys and prose and not unknown:
        # The files the task names parse and hold no fields (a README, a
        # list): read_field has nothing to read there ("no fields found"
        # was then the answer), so it is not offered.
        return RequiredChoices([])
    if not keys or len(keys) > MAX_CHOICES:
        return None
    return RequiredChoices(keys_named(keys, task or text) or keys)


def settable_keys(ws: Workspace, text: str, task: str = "") -> RequiredChoices | None:
    """For set_field: the keys of the named settings files (a name that says
    its format: notes.txt may hold "timeout: call Bo") that the task writes
    ("set the timeout in config.json to 30"), else free: a key the file
    does not hold yet is the model's to name."""
    return RequiredChoices(list(named_settings(ws, text, task))) or None


def named_settings(ws: Workspace, text: str, task: str = "") -> dict[str, object]:
    """The keys of the settings files ``text`` names that the task writes,
    each with its value now."""
    values, _prose, _unknown = _named_files_keys(ws, text, declared_only=True)
    if not 0 < len(values) <= MAX_CHOICES:
        return {}
    return {key: values[key] for key in keys_named(list(values), task or text)}


MIN_KEY_CHARS = 3  # a shorter key ("a", "id") is a word of too many tasks


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def keys_named(keys: Sequence[str], task: str) -> list[str]:
    """The ``keys`` whose last part the task writes, as a whole word or
    words ("max_retries" in "what are the max retries?"); with each, the
    other keys ending the same way (a dotted key and its short form)."""
    said = _words(task)
    last = {k: k.rsplit(".", 1)[-1] for k in keys}
    named = {p for p in last.values() if len(p) >= MIN_KEY_CHARS and _words(p) in said}
    return [k for k in keys if last[k] in named]


def _is_file(ws: Workspace, path: str) -> bool:
    try:
        return ws.resolve(path).is_file()
    except (ToolException, OSError, ValueError):
        return False


# One step's groundings ask for the listing several times (each argument,
# each lean): inside :func:`one_listing` the workspace is walked once. No
# file changes while a step decodes; the next step lists it again.
Listing = tuple[list[str], list[str]]
_LISTINGS: ContextVar[dict[tuple[str, int], Listing | None] | None] = ContextVar(
    "agentkit_listings", default=None
)


@contextmanager
def one_listing() -> Iterator[None]:
    """Within: :func:`inventory` walks each workspace once."""
    token = _LISTINGS.set({})
    try:
        yield
    finally:
        _LISTINGS.reset(token)


def inventory(ws: Workspace, limit: int = MAX_LISTED) -> Listing | None:
    """(files, directories) in the workspace, relative, sorted; None when
    there are more than ``limit`` entries."""
    listings = _LISTINGS.get()
    if listings is None:
        return _walked(ws, limit)
    key = (str(ws.root), limit)
    if key not in listings:
        listings[key] = _walked(ws, limit)
    found = listings[key]
    return None if found is None else (list(found[0]), list(found[1]))


def _walked(ws: Workspace, limit: int) -> Listing | None:
    files: list[str] = []
    dirs: list[str] = []
    for rel_dir, dirnames, filenames, fd in ws.walk("."):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and not _is_virtualenv(d, fd)
        )
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        dirs += [prefix + d for d in dirnames]
        files += [prefix + f for f in filenames]
        if len(files) + len(dirs) > limit:
            return None
    return sorted(files), sorted(dirs)


def _is_virtualenv(name: str, parent_fd: int) -> bool:
    """Whether folder ``name`` is a Python virtualenv (it holds pyvenv.cfg),
    whatever it is called: `make chat` in a clone with a `.venv-avx2` of
    22,000 files had left every grounding off (over :data:`MAX_LISTED`)."""
    try:
        os.stat(f"{name}/pyvenv.cfg", dir_fd=parent_fd, follow_symlinks=False)
    except OSError:
        return False
    return True


def named_files(files: list[str], task: str, seen: str = "") -> list[str]:
    """The existing ``files`` the task names (by path or by file name). A
    task that names no path may describe a file instead ("fix the typo in
    the config"): then the files the run has seen named (``seen``: what
    tools returned, a listing or a search), so a change lands only on a
    file that was looked for first. A file nobody named is never changed:
    the tuned model moved notes/readme.txt onto notes/keep.txt for
    "touch .keep". A task that names only a new file ("put X into a new
    file report.txt") changes none of the existing ones: the model once
    moved an unrelated file onto report.txt."""
    mentioned = mentioned_paths(task)
    if mentioned:
        return files_named_in(files, mentioned)
    return files_named_in(files, mentioned_paths(seen)) if seen else []


def files_named_in(files: list[str], mentioned: list[str]) -> list[str]:
    """The files of ``files`` that ``mentioned`` names, by path or by name."""
    named = set(mentioned)
    return [f for f in files if f in named or f.rsplit("/", 1)[-1] in named]
