"""A new file's text that names the file it writes, decoded again.

The tuned 270M model put the task's own instruction into the file it made:
"create todo.txt / eggs / bread" for "Create todo.txt listing milk, eggs
and bread", "make packing.txt" for a packing list, "add a file called
todo.md" for a to-do line the task quoted. In every probe run we kept
(416 probe cases and the dev split), a ``write_file`` whose content named
the file it wrote was such an echo, and none passed.

So that call is decoded once more over the same prompt: the path kept, the
content made to differ (the grammar rules the same text out), and the words
of the lines that named the file penalised (the avoid bias). A name the task
quotes as text to write ('put "see notes.txt" in a.txt') is no echo, and
a write over a file that exists is left to the refusals of
:mod:`.arguments` (they tell the model which tool moves or edits it). Off
with ``[steering] echoed_names = false``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agentkit.models.grammar import ArgChoices, Differs, Fixed
from agentkit.models.hints import DecodeHints

WRITE_TOOL = "write_file"
# Stronger than the worked examples' avoid bias (4): the echo is the
# model's likeliest text, and one penalised word was replaced by its
# capitalised twin.
ECHO_AVOID_BIAS = 6.0
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|`([^`]+)`")


def echoed_name(
    tool_name: str, args: Mapping[str, object], task: str, exists: bool = False
) -> DecodeHints | None:
    """Hints to decode a ``write_file`` call again with, when its content
    names the new file it writes (``exists``: the file is there already)
    and the task does not quote that name as text to write; else None."""
    path, content = args.get("path"), args.get("content")
    if tool_name != WRITE_TOOL or not isinstance(path, str) or not isinstance(content, str):
        return None
    if exists:
        return None
    name = path.rsplit("/", 1)[-1].lower()
    if not name or name not in content.lower():
        return None
    quoted = (next(g for g in m.groups() if g) for m in _QUOTED.finditer(task))
    if any(name in text.lower() for text in quoted):
        return None
    echoed = [line for line in content.splitlines() if name in line.lower()]
    choices: dict[str, ArgChoices] = {"path": Fixed(path), "content": Differs(content)}
    return DecodeHints(
        arg_choices={WRITE_TOOL: choices},
        avoid_from="\n".join(echoed),
        avoid_bias=ECHO_AVOID_BIAS,
    )
