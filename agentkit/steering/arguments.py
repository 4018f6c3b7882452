"""Which argument of which tool is grounded, and how (see :mod:`.grounding`).

Keyed by tool name, so the tool contract (agentkit.tools.base) stays about
safety: side effects, previews, targets. Give your own tool's arguments a
grounding with :func:`add_grounding`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from langchain_core.tools import BaseTool

from agentkit.models.grammar import ArgChoices, Differs, Omitted, RequiredChoices
from agentkit.steering.answer_spans import pointed_line
from agentkit.steering.expressions import expression_choices
from agentkit.steering.grounding import (
    MAX_CHOICES,
    MAX_FRAGMENT_FILE_BYTES,
    Grounding,
    counted_phrases,
    destinations,
    file_fragments,
    file_keys,
    files_named_in,
    inventory,
    mentioned_paths,
    mentioned_urls,
    named_dirs,
    named_files,
    named_settings,
    occurrence_phrases,
    runs_a_command,
    settable_keys,
    setting_values,
    task_phrases,
    write_paths,
    written_commands,
)
from agentkit.tools.fields import declared_format
from agentkit.tools.workspace import PathRefused, Workspace

GROUNDED_ARGS: dict[str, dict[str, Grounding]] = {
    "read_file": {"path": "existing_file", "start_line": "line_range", "end_line": "line_range"},
    "list_dir": {"path": "existing_dir"},
    "glob": {"path": "existing_dir"},
    "grep": {"path": "existing_path", "pattern": "task_phrase"},
    "write_file": {"path": "named_path"},
    "edit_file": {
        "path": "named_file",
        "old_string": "file_fragment",
        "new_string": "task_phrase",
    },
    "copy_file": {"source": "existing_file", "destination": "destination"},
    "move_file": {"source": "named_file", "destination": "destination"},
    "sort_lines": {"path": "named_file", "destination": "optional_destination"},
    "dedupe_lines": {"path": "named_file", "destination": "optional_destination"},
    "count": {"path": "existing_path", "text": "occurrence_phrase"},
    "read_field": {"path": "existing_file", "key": "file_key"},
    "set_field": {"path": "settings_path", "key": "settable_key", "value": "setting_value"},
    "calculator": {"expression": "computing_span"},
    "http_get": {"url": "mentioned_url"},
    "shell": {"command": "written_command"},
    "search_docs": {"query": "task_phrase"},
    "recall": {"query": "task_phrase"},
    "remember": {"text": "fact_phrase"},
}
# A fact to remember is said in the user's words: "my locker code is 4812".
FACT_WORDS = 16
FACT_STARTS = frozenset({"my", "i", "our", "we", "the", "a", "an", "it", "this"})
_PATH_KINDS: frozenset[Grounding] = frozenset(
    {"existing_file", "named_file", "existing_dir", "existing_path", "named_path", "settings_path"}
)
# Groundings of an argument's text rather than of what it names: they
# narrow what a model may say, not only where it may act. What an edit
# replaces (file_fragment) names where in the file it acts: the tuned model,
# free there, wrote old_strings the file does not hold and then answered
# "Done." after the error.
CONTENT_KINDS: frozenset[Grounding] = frozenset(
    {"task_phrase", "fact_phrase", "computing_span", "occurrence_phrase"}
)
# Without content grounding (the tuned preset), what stands in for a content
# kind: what count counts is still a phrase the file holds, or one the task
# quotes, though no English decides whether the task asks how often.
WITHOUT_CONTENT: dict[Grounding, Grounding] = {"occurrence_phrase": "counted_phrase"}


def add_grounding(tool_name: str, args: Mapping[str, Grounding]) -> None:
    """Ground arguments of your own tool (a path tool needs a ``ws`` attribute
    holding its :class:`~agentkit.tools.workspace.Workspace`)."""
    GROUNDED_ARGS[tool_name] = {**GROUNDED_ARGS.get(tool_name, {}), **args}


def workspace_of(tool: BaseTool) -> Workspace | None:
    ws = getattr(tool, "ws", None)
    return ws if isinstance(ws, Workspace) else None


def arg_choices(
    tools: Sequence[BaseTool],
    text: str,
    content: bool = True,
    task: str = "",
    rewrite: bool = False,
    whole_reads: bool = True,
    change: bool = True,
) -> dict[str, dict[str, ArgChoices]]:
    """For each tool, the values its grounded arguments may take now, given
    ``text`` (the task and what the run has seen; ``task`` alone for what a
    write may change); ``content``: also the groundings of an argument's
    text (:data:`CONTENT_KINDS`); ``rewrite``: a whole-file write may also
    replace an existing file the task names (see :func:`choices`);
    ``whole_reads``: a read may be made to read a whole file
    (:func:`whole_read`; the caller passes False for a task that asks for a
    change: in "Show the first line of notes.txt and then replace green with
    blue in it" the line holding "green" is what the edit changes, not what
    the read is about); ``change``: the task asks for a change (see
    :func:`choices`). A grounding that fails leaves its argument free:
    grounding helps a call, it never forbids one."""
    out: dict[str, dict[str, ArgChoices]] = {}
    for tool in tools:
        args = tool.args if isinstance(tool.args, dict) else {}
        narrowed: dict[str, ArgChoices] = {}
        for arg, grounding in GROUNDED_ARGS.get(tool.name, {}).items():
            kind = grounding if content else WITHOUT_CONTENT.get(grounding, grounding)
            if arg not in args or (not content and kind in CONTENT_KINDS):
                continue
            if kind == "line_range" and not whole_reads:
                continue
            try:
                values = choices(tool, kind, text, task or text, rewrite, change)
            except Exception:  # noqa: BLE001 - see the docstring
                values = None
            if values is not None:
                narrowed[arg] = values
        if narrowed:
            out[tool.name] = narrowed
    return out


def choices(
    tool: BaseTool,
    kind: Grounding,
    text: str,
    task: str = "",
    rewrite: bool = False,
    change: bool = True,
) -> ArgChoices | None:
    """The values an argument of ``kind`` may take (a regex as ``str``), ``[]``
    when none is valid, None when it stays free. ``task``: what the user
    wrote (default: ``text``), for the files a write may change.
    ``rewrite``: where a whole file is written (``named_path``), the existing
    files the task names are offered too, for a task that asks to replace
    one ("Overwrite memo.txt so that it reads ...") and names no new file;
    the caller decides that the task asks for a change at all.
    ``change`` False (the task does not ask for one): a file to write or a
    destination must be named; one the task does not name is a change it
    did not ask for (the tuned model wrote a file called ".csv" for "ls,
    then tell me the .csv file")."""
    if kind == "setting_value":
        ws = workspace_of(tool)
        return setting_values(task or text, named_settings(ws, text, task) if ws else {})
    if kind == "settings_path":
        # The settings files the task names (made or not): "Update host to
        # db.internal in config.toml" made a file called db.internal.
        settings_files = [p for p in mentioned_paths(task or text) if declared_format(p)]
        if settings_files:
            return list(dict.fromkeys(settings_files))
        kind = "named_path"
    if kind == "task_phrase":
        return RequiredChoices(task_phrases(text)) or None
    if kind == "fact_phrase":
        return task_phrases(text, max_words=FACT_WORDS, may_start=FACT_STARTS) or None
    if kind == "computing_span":
        return expression_choices(text)
    if kind == "mentioned_url":
        return mentioned_urls(text)
    if kind == "written_command":
        return written_commands(text)
    if kind == "occurrence_phrase":
        return occurrence_phrases(text)
    ws = workspace_of(tool)
    if ws is None:
        return None
    if kind == "file_fragment":
        return file_fragments(ws, text)
    if kind == "file_key":
        return file_keys(ws, text, task)
    if kind == "settable_key":
        return settable_keys(ws, text, task)
    if kind == "line_range":
        return whole_read(ws, task or text)
    if kind == "counted_phrase":
        return counted_phrases(ws, task or text)
    found = inventory(ws)
    if found is None:
        return None
    files, dirs = found
    if kind == "named_path":
        paths = write_paths(text, files, dirs, task)
        if paths is None and not change:
            return []
        # A task that names a file to make writes that one: the existing
        # files it names are where the text comes from ("make hello.txt with
        # the same text as other.txt" overwrote other.txt).
        new = [p for p in paths or [] if p not in files]
        named = named_files(files, task or text) if rewrite and not new else []
        return list(dict.fromkeys([*(paths or []), *named])) if named else paths
    if kind == "destination":
        found = destinations(text, files, dirs)
        return [] if found is None and not change else found
    if kind == "optional_destination":
        paths = write_paths(text, files, dirs, task)
        if paths is None:
            return None
        # A task that names a new file wants the result there: the source
        # stays as it is ("sort scores.txt into ranked.txt" sorted scores.txt).
        new = [p for p in paths if p not in files]
        return new or ["", *paths]
    if kind == "named_file":
        named = named_files(files, task or text, text) if files else []
        return named if len(named) <= MAX_CHOICES else None
    values = {
        "existing_file": files,
        "existing_dir": [".", *dirs],
        "existing_path": [".", *dirs, *files],
    }[kind]
    if len(values) > MAX_CHOICES:
        return None  # every file of a repository: more than a grammar offers
    # Nothing exists to name: the tool cannot be called now.
    return values if files or dirs else []


def whole_read(ws: Workspace, task: str) -> Omitted | None:
    """A read of the one file ``task`` names reads all of it when the task
    points to a line of it by what that line says
    (:func:`~agentkit.steering.answer_spans.pointed_line`): the 270M model
    read line 1 of plan.txt for "Who leads the work in plan.txt?", and
    "Lead: Omar" was line 4. A task that asks for a line by its place
    ("the first line", "line 3") points to none: the range stays free (and
    for a task that asks for a change, see :func:`arg_choices`)."""
    target = one_named_file(ws, task)
    if target is None:
        return None
    content, size = ws.read_text(target, MAX_FRAGMENT_FILE_BYTES)
    lines = [line.strip() for line in content.splitlines() if line.strip()]
    if size > MAX_FRAGMENT_FILE_BYTES or pointed_line(task, lines, target) is None:
        return None
    return Omitted()


def one_named_file(ws: Workspace, task: str) -> str | None:
    """The one existing file ``task`` names, or None (none, or several)."""
    found = inventory(ws)
    if found is None:
        return None
    targets = files_named_in(found[0], mentioned_paths(task))
    return targets[0] if len(targets) == 1 else None


def mentions(tool: BaseTool, text: str) -> bool:
    """Whether ``text`` names something ``tool`` acts on: a file or folder
    that exists, a new file to create, a URL, a command to run."""
    kinds = set(GROUNDED_ARGS.get(tool.name, {}).values())
    if "mentioned_url" in kinds and mentioned_urls(text):
        return True
    if "written_command" in kinds and runs_a_command(text):
        return True
    ws = workspace_of(tool)
    if ws is None or not kinds & _PATH_KINDS:
        return False
    try:
        return _names_a_path(ws, kinds, text)
    except Exception:  # noqa: BLE001 - a routing hint, never a failure
        return False


def _names_a_path(ws: Workspace, kinds: set[Grounding], text: str) -> bool:
    found = inventory(ws)
    if found is None:
        return False
    files, dirs = found
    named = mentioned_paths(text)
    if "settings_path" in kinds and any(declared_format(p) for p in named):
        return True
    names = set(files) | {f.rsplit("/", 1)[-1] for f in files}
    if kinds & {"existing_file", "named_file", "existing_path"} and any(p in names for p in named):
        return True
    if kinds & {"existing_dir", "existing_path"} and named_dirs(text, dirs):
        return True
    return "named_path" in kinds and any(p not in names for p in named)


def names_existing_file(tools: Sequence[BaseTool], task: str) -> bool:
    """Whether ``task`` names a file that exists in the workspace of a tool
    that reads files."""
    for tool in tools:
        ws = workspace_of(tool)
        if ws is None or "existing_file" not in GROUNDED_ARGS.get(tool.name, {}).values():
            continue
        try:
            return _names_a_path(ws, {"existing_file"}, task)
        except Exception:  # noqa: BLE001 - a routing hint, never a failure
            return False
    return False


def names_only_new_files(tools: Sequence[BaseTool], task: str) -> bool:
    """Whether ``task`` names files to make and nothing that exists (a file,
    or a folder by its name) in the workspace of a tool that writes them.
    An extension alone (".md") names no file."""
    for tool in tools:
        ws = workspace_of(tool)
        if ws is None or "named_path" not in GROUNDED_ARGS.get(tool.name, {}).values():
            continue
        try:
            found = inventory(ws)
        except Exception:  # noqa: BLE001 - a routing hint, never a failure
            return False
        if found is None:
            return False
        files, dirs = found
        names = {*files, *dirs} | {p.rsplit("/", 1)[-1] for p in [*files, *dirs]}
        named = [p for p in mentioned_paths(task) if not p.startswith(".") or "/" in p]
        exists = any(p.rstrip("/") in names for p in named) or named_dirs(task, dirs)
        return bool(named) and not exists
    return False


def reads_only_files(tool: BaseTool) -> bool:
    """Whether ``tool`` acts only on a file that exists (read_file,
    read_field, copy_file's source): not on a folder, a new file, a
    command."""
    kinds = set(GROUNDED_ARGS.get(tool.name, {}).values())
    return "existing_file" in kinds and not kinds & {"named_path", "destination"}


def works_on_task(tool: BaseTool, task: str) -> bool:
    """Whether ``tool`` can act on what ``task`` holds: it takes a path or a
    command, or the task names what it acts on (a URL), or gives it numbers
    to compute with."""
    kinds = set(GROUNDED_ARGS.get(tool.name, {}).values())
    if kinds & _PATH_KINDS or "written_command" in kinds or mentions(tool, task):
        return True
    return "computing_span" in kinds and bool(expression_choices(task))


def uncallable(tools: Sequence[BaseTool]) -> dict[str, dict[str, ArgChoices]]:
    """Choices that leave each of ``tools`` with no valid call (an argument
    with no value), so the grammar cannot produce one; the prompt still
    describes them."""
    out: dict[str, dict[str, ArgChoices]] = {}
    for tool in tools:
        args = list(tool.args) if isinstance(tool.args, dict) else []
        if args:
            out[tool.name] = {args[0]: []}
    return out


# Pairs of arguments where a call whose second equals its first can only
# fail: the tuned model edited "week" into "week" and then answered "Fixed.".
DIFFERING_ARGS: dict[str, tuple[str, str]] = {"edit_file": ("old_string", "new_string")}


def differing_call(tool: str, args: Mapping[str, object]) -> dict[str, ArgChoices] | None:
    """Choices that keep a call's other string arguments and rule out the
    value its second argument of :data:`DIFFERING_ARGS` repeated, or None
    when the call is not such a repeat (an empty old_string, an append, is
    never repeated: its new text is what is added)."""
    pair = DIFFERING_ARGS.get(tool)
    if pair is None:
        return None
    first, second = pair
    value = args.get(first)
    if not isinstance(value, str) or not value or args.get(second) != value:
        return None
    kept: dict[str, ArgChoices] = {
        name: RequiredChoices([given])
        for name, given in args.items()
        if isinstance(given, str) and name != second
    }
    return {**kept, second: Differs(value)}


def _overwritten(tool: BaseTool, args: Mapping[str, object]) -> Iterator[tuple[str, str]]:
    """(argument, path) for each whole-file write of ``args`` onto a file
    that exists (a path the tool refuses is left to the tool to report)."""
    ws = workspace_of(tool)
    if ws is None:
        return
    for arg, kind in GROUNDED_ARGS.get(tool.name, {}).items():
        path = args.get(arg)
        if kind != "named_path" or not isinstance(path, str) or not path.strip():
            continue
        try:
            taken = ws.resolve(path).is_file()
        except (PathRefused, OSError):
            continue
        if taken:
            yield arg, path


def writes_over_a_file(tools: Sequence[BaseTool], name: str, args: Mapping[str, object]) -> bool:
    """Whether the call of ``name`` with ``args`` writes a whole file over
    one that exists."""
    tool = next((t for t in tools if t.name == name), None)
    return tool is not None and any(True for _ in _overwritten(tool, args))


def unnamed_overwrite(tool: BaseTool, args: Mapping[str, object], task: str) -> str | None:
    """The error for a whole-file write onto an existing file the task does
    not name. A task that names no file leaves a new file's name free in the
    grammar (it cannot list every name not taken), so the check comes after
    the decode: the model is told and picks another name."""
    named = set(mentioned_paths(task))
    for _arg, path in _overwritten(tool, args):
        if path not in named and path.rsplit("/", 1)[-1] not in named:
            return (
                f"error: {path} already exists and the task does not name it; "
                "write to a new file name instead"
            )
    return None


def echoed_overwrite(tool: BaseTool, args: Mapping[str, object], task: str) -> str | None:
    """The error for a whole-file write that would replace an existing file
    with words of the task that name that file: the tuned model wrote "put
    todo.txt inside done/" over todo.txt. Its text is lost; the task asked to
    move it (or to change part of it), not for these words."""
    said = " ".join(task.lower().split())
    for arg, path in _overwritten(tool, args):
        texts = [" ".join(str(v).lower().split()) for k, v in args.items() if k != arg]
        name = path.rsplit("/", 1)[-1].lower()
        if any(name in text and text in said for text in texts if text):
            return (
                f"error: that would replace all of {path} with the task's own words; "
                "to move, copy or rename it use move_file or copy_file, to change part of it "
                "use edit_file"
            )
    return None


def unfounded_overwrite(tool: BaseTool, args: Mapping[str, object], task: str) -> str | None:
    """The error for a whole-file write that would replace an existing file
    with the task's own words out of order: every word of the new text is
    a word of the task, yet a line of it is not words of the task in their
    order. The tuned model wrote "todo.put.todo" over todo.md for "put
    todo.md in the docs folder", and the file's list was lost. A phrase of
    the task ("Replace everything in letter.txt with: pay the rent"), an
    empty text, and a text with words the task does not hold (a result the
    run read: "write its colour to out.txt") are written as asked."""
    said = _plain(task)
    words = _words(task)
    for arg, path in _overwritten(tool, args):
        texts = [v for k, v in args.items() if k != arg and isinstance(v, str)]
        lines = [_plain(line) for text in texts for line in text.splitlines()]
        written = {w for line in lines for w in _words(line)}
        if written and written <= words and any(line and line not in said for line in lines):
            return (
                f"error: that would replace all of {path} with the task's own words out of "
                "order; to change part of it use edit_file, to move or copy it use move_file "
                "or copy_file"
            )
    return None


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _plain(text: str) -> str:
    """``text`` in lower case, its spaces collapsed, without the punctuation
    or quotes around it."""
    return " ".join(text.lower().split()).strip(" .,;:!?'\"`")
