"""An edit that puts the task's words in place of a word the task never
names is an addition: it is decoded again as one, at the end of the file.

The 270M model, asked to add "clean the oven" to a list, replaced the
word "renew" of "- renew passport" with it: one item lost, one garbled,
and "Added." as the answer. Nothing in the task pointed at "renew". A
replacement the task asks for names what it replaces ("recieve ->
receive", "March to April"), or fixes it into something close (a typo, a
value), or points at the line ("set the deadline to Thursday" changes
"Deadline: Monday"), or replaces a whole line. So when an ``edit_file``
call's ``old_string`` is one word the task does not hold, in lines that
share no word with the task, unlike its ``new_string``, and the new text
is made of the task's own words, the call is decoded again with
``old_string`` pinned to "" (append) and the same ``new_string``: an
addition that loses nothing. It is an ordinary call, previewed and
approved like any edit. Decided from the call, the file, the task and
their words; no English word list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher

from langchain_core.tools import BaseTool

from agentkit.models.grammar import ArgChoices, RequiredChoices
from agentkit.steering.retries import EDIT_TOOL, edited_text

# Shorter words ("a", "to", "the") are in too many tasks and lines to say
# that the task points at a line.
MIN_LINE_WORD_CHARS = 4
# From here the new text is a fix of the old one (untill -> until).
SIMILAR = 0.5


def _words(text: str, min_chars: int = 1) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= min_chars}


def unnamed_replacement(
    tool: str, args: Mapping[str, object], task: str, offered: Sequence[BaseTool]
) -> dict[str, ArgChoices] | None:
    """Choices that decode ``args`` again as an append, or None when the
    call is not a replacement of an unnamed word by the task's words.
    The edited file (through ``offered``' edit_file) is read last, only
    for a call that passes every other check."""
    old, new = args.get("old_string"), args.get("new_string")
    if tool != EDIT_TOOL or args.get("patch") or args.get("replace_all"):
        return None
    if not isinstance(old, str) or not isinstance(new, str) or not new.strip():
        return None
    if not old.strip() or len(old.split()) != 1:
        return None  # an append already, or a line or phrase the model chose whole
    said, added = _words(task), _words(new)
    if re.search(rf"(?<!\w){re.escape(old.lower())}(?!\w)", task.lower()) or not added <= said:
        return None  # the task names what it replaces, or the new text is not the task's
    if SequenceMatcher(None, old.lower(), new.lower()).ratio() >= SIMILAR:
        return None
    content = edited_text(offered, args)
    holding = [line for line in (content or "").splitlines() if old in line]
    pointing = _words(task, MIN_LINE_WORD_CHARS)
    if not holding or any(_words(line, MIN_LINE_WORD_CHARS) & pointing for line in holding):
        return None  # a file that does not hold it (the tool says so), or a line the task names
    kept: dict[str, ArgChoices] = {
        name: RequiredChoices([value])
        for name, value in args.items()
        if isinstance(value, str) and name != "old_string"
    }
    return {**kept, "old_string": RequiredChoices([""])}
