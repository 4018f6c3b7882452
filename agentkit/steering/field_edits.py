"""Settings changed by their key: a change to a structured file that names
one of its keys goes to set_field, not to a text edit.

The tuned 270M model was never taught set_field (it came after the
adapter). Asked "Change the timeout in config.json to 652", it replaced the
key's name with "timeout 652" (the key renamed, the value kept); for
"update workers to 198 in app.json" it replaced "workers" with itself and,
decoded again, with "workers" and a newline, which left the file invalid
JSON. Both are decided here from the file, not from English: the named
file's name says JSON, YAML, TOML, INI or .env, it parses, and the task
names one of its keys.

- :func:`field_bias`: on the first step of a change that names such a file
  and key, ``set_field`` gets a logit bias over the other tools.
- :func:`key_edit`: an ``edit_file`` call whose old text is exactly a key
  of the file (the key renamed "timeout 652", "1.1.0" or "store", or
  deleted) is decoded again as ``set_field`` on that key, its value one of
  the task's words. A task that really asks to rename a key gets a wrong
  value instead of a wrong key: the approval preview shows which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from langchain_core.tools import BaseTool

from agentkit.models.grammar import ArgChoices, Fixed, RequiredChoices
from agentkit.steering.arguments import workspace_of
from agentkit.steering.grounding import settable_keys, setting_values
from agentkit.steering.retries import EDIT_TOOL, edited_text
from agentkit.tools.fields import (
    FieldsError,
    declared_format,
    find_field,
    key_choices,
    parse_fields,
)

FIELD_TOOL = "set_field"
FIELD_BIAS = 5.0


def names_a_field(offered: Sequence[BaseTool], task: str) -> bool:
    """Whether ``task`` names an existing structured file and one of its keys
    (and set_field is offered)."""
    tool = next((t for t in offered if t.name == FIELD_TOOL), None)
    ws = workspace_of(tool) if tool is not None else None
    if ws is None:
        return False
    found = settable_keys(ws, task, task)
    return bool(found)


def field_bias(
    offered: Sequence[BaseTool], task: str, bias: Mapping[str, float]
) -> dict[str, float]:
    """``bias`` with :data:`FIELD_BIAS` more for set_field when the task
    names a key of a structured file it names (the caller decides that the
    task asks for a change)."""
    if not names_a_field(offered, task):
        return dict(bias)
    return {**bias, FIELD_TOOL: bias.get(FIELD_TOOL, 0.0) + FIELD_BIAS}


def key_edit(
    name: str, args: Mapping[str, object], offered: Sequence[BaseTool], task: str
) -> dict[str, ArgChoices] | None:
    """The choices of a ``set_field`` call that does what an ``edit_file``
    call of ``args`` tried: its old text is exactly one of the keys of a
    settings file (the model pointed at the setting, and would rename or
    delete the key). None when the call is not such an edit."""
    if name != EDIT_TOOL or not any(t.name == FIELD_TOOL for t in offered):
        return None
    path, old = args.get("path"), args.get("old_string")
    if not (isinstance(path, str) and isinstance(old, str)) or args.get("patch"):
        return None
    key = old.strip().strip("\"'")
    if not key:
        return None
    text = edited_text(offered, args) if declared_format(path) is not None else None
    if text is None:
        return None
    try:
        fields = parse_fields(path, text)
    except FieldsError:
        return None
    keys = [k for k in find_field(fields, key) if k in key_choices(fields)]
    if not keys:
        return None
    values = setting_values(task, {k: fields[k] for k in keys})
    return {"path": Fixed(path), "key": RequiredChoices(keys), "value": values}
