"""Sources before results: in a task that names files that exist and a new
file to make, the existing ones are where the new file's text comes from.

Two orderings follow, decided from which named paths exist, not from the
task's words:

- **read a source before writing the result**: the tuned model wrote
  "story.txt" into summary.txt for "write a one-line summary of story.txt
  into summary.txt", and "a.txt and b.txt" into c.txt for "put the contents
  of a.txt and b.txt together into c.txt", before it had looked at either.
  Until a call has acted on one of the named files, ``write_file`` cannot be
  called; reading stays open.
- **leave the sources as they are until something is made**: for "make
  lower.txt, a lowercase version of LOUD.txt" it edited LOUD.txt, and for
  "back up config.ini to config.ini.bak, then set debug=true in config.ini"
  it edited config.ini before any backup existed. Until a call has written
  something, a named existing file cannot be edited or rewritten whole.
  Copying, moving and sorting into a new file make the new file, so they
  stay open.

A task that names no new file, or no existing one, is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.tools import BaseTool

from agentkit.models.grammar import ArgChoices
from agentkit.steering.arguments import workspace_of
from agentkit.steering.grounding import files_named_in, inventory, mentioned_paths, write_paths
from agentkit.steering.step import changed, run_start, writer_names

# The tools that would change a source in place, at their ``path``: an edit,
# or a whole-file write onto it.
_IN_PLACE = ("edit_file", "write_file")
_PATH_ARGS = ("path", "source", "destination")


def sources_first(
    tools: Sequence[BaseTool],
    task: str,
    messages: Sequence[AnyMessage],
    choices: dict[str, dict[str, ArgChoices]],
) -> dict[str, dict[str, ArgChoices]]:
    """``choices`` narrowed so that a task's sources are read before its new
    file is written, and left unchanged until something is made (see the
    module's docstring). Tools without a workspace are left as they are."""
    ws = next((w for w in map(workspace_of, tools) if w is not None), None)
    found = inventory(ws) if ws is not None else None
    if found is None:
        return choices
    files, dirs = found
    to_make = [p for p in write_paths(task, files, dirs, task) or [] if p not in files]
    made_names = {p.rsplit("/", 1)[-1] for p in to_make}
    # A file with the new file's name elsewhere ("create notes.txt" beside
    # old/notes.txt) is not a source: the task names the file to make.
    sources = [
        f
        for f in files_named_in(files, mentioned_paths(task))
        if f.rsplit("/", 1)[-1] not in made_names
    ]
    if not to_make or not sources:
        return choices
    # This run's calls only: in a chat thread, an earlier task's read or
    # write says nothing about this task's sources.
    run = messages[run_start(messages, task) :]
    touched = _acted_on(run)
    writers = writer_names(tools)
    wrote = any(changed(m, writers) for m in run)
    out = {name: dict(args) for name, args in choices.items()}
    offered = {t.name for t in tools}
    if not touched & set(sources) and "write_file" in offered:
        out["write_file"] = {**out.get("write_file", {}), "path": []}
    if not wrote:
        for name in _IN_PLACE:
            allowed = out.get(name, {}).get("path")
            # A path left free (its grounding failed) stays free.
            if isinstance(allowed, list):
                out[name] = {**out[name], "path": [p for p in allowed if p not in sources]}
    return out


def _acted_on(messages: Sequence[AnyMessage]) -> set[str]:
    """The paths named by the calls that ran without an error."""
    ran = {m.tool_call_id for m in messages if isinstance(m, ToolMessage) and m.status != "error"}
    return {
        str(call["args"][arg]).removeprefix("./")
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call.get("id") in ran
        for arg in _PATH_ARGS
        if call["args"].get(arg)
    }
