"""The tool contract: side effects declared as data, plus approval previews.

Any LangChain tool works unchanged. agentkit reads two optional keys from the
tool's ``metadata``:

- ``"agentkit_side_effects"``: a list of :data:`SideEffect`. A tool without it
  is treated as ``exec`` (so the default policy asks before running it).
- ``"agentkit_preview"``: a callable ``(args: dict) -> ToolPreview`` that shows
  the human what the call would do (a diff, a command, a URL) before approval.
- ``"agentkit_danger"``: a callable ``(args: dict) -> DangerLevel`` (shell uses
  it). The policy layer never auto-allows a ``destructive`` call through a
  pattern rule.
- ``"agentkit_policy"``: a default :data:`PolicyAction` for this tool, used when
  the policy file has no rule naming the tool (MCP server config sets it).
- ``"agentkit_examples"``: a list of :class:`ToolExample` (requests a user
  might type, and one worked call): tool routing and the worked examples a
  small model is shown come from them.
- ``"agentkit_mentions"``: a callable ``(text) -> bool``: whether a task names
  something this tool acts on (an existing file for read_file, a new file
  for write_file, a URL for http_get); tool routing favours such tools.
- ``"agentkit_choices"``: a callable ``(arg, text) -> list[str] | str | None``
  giving the values a string argument may take right now (e.g. the paths
  that exist in the workspace), or a regular expression (``str``) it must
  match, so the grammar offers only those; ``None`` leaves the argument free,
  and an empty list means the tool cannot be called now (nothing to read in
  an empty workspace). ``text`` is the task and what the run has seen so far.
- ``"agentkit_choices_small_only"``: ``True`` (or the argument names) when
  those choices also rule out values a capable model could rightly write
  (calculator expressions built only from the numbers in the text, URLs and
  search phrases only from the text): they then narrow only a small model's
  grammar.
- ``"agentkit_targets"``: a callable ``(args) -> list[PathTarget]``: what the
  call's path arguments really touch (file tools, and the files a shell
  command writes). Policy path rules and protected paths use it.
- ``"agentkit_untrusted"``: whether the tool's results are untrusted content
  (``True``/``False``, or a callable ``(args, trusted_text) -> bool``; e.g. a
  file the task did not name). Default: untrusted for ``network`` tools.

Approval wraps tools; tools never ask for approval themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Required,  # pydantic needs it on Python < 3.12
)

from langchain_core.tools import BaseTool
from typing_extensions import TypedDict

# The vocabulary lives in the bottom layer (events and approvals use it too).
from agentkit.events import SIDE_EFFECTS, DangerLevel, PolicyAction, SideEffect, ToolPreview
from agentkit.models.grammar import ArgChoices, RequiredChoices

if TYPE_CHECKING:
    from agentkit.tools.protected import PathTarget

__all__ = [
    "SIDE_EFFECTS",
    "DangerLevel",
    "DangerFn",
    "PolicyAction",
    "PreviewFn",
    "SideEffect",
    "ToolPreview",
    "ArgChoices",
    "RequiredChoices",
    "ChoicesFn",
    "ToolExample",
    "choices_of",
    "danger_of",
    "declare",
    "examples_of",
    "mentions_of",
    "default_policy_of",
    "preview_of",
    "side_effects_of",
    "targets_of",
    "untrusted_of",
]

SIDE_EFFECTS_KEY = "agentkit_side_effects"
PREVIEW_KEY = "agentkit_preview"
DANGER_KEY = "agentkit_danger"
POLICY_KEY = "agentkit_policy"
EXAMPLES_KEY = "agentkit_examples"
CHOICES_KEY = "agentkit_choices"
CHOICES_SMALL_ONLY_KEY = "agentkit_choices_small_only"
TARGETS_KEY = "agentkit_targets"
UNTRUSTED_KEY = "agentkit_untrusted"
MENTIONS_KEY = "agentkit_mentions"


class ToolExample(TypedDict, total=False):
    """A request a user might type for this tool; with ``args``, ``result``
    and ``answer`` it is a worked example (request → call → result → answer)."""

    request: Required[str]
    args: dict[str, Any]
    result: str
    answer: str


PreviewFn = Callable[[Mapping[str, Any]], ToolPreview]
DangerFn = Callable[[Mapping[str, Any]], DangerLevel]
ChoicesFn = Callable[[str, str], Sequence[str] | str | None]
TargetsFn = Callable[[Mapping[str, Any]], "Sequence[PathTarget]"]
UntrustedFn = Callable[[Mapping[str, Any], str], bool]
MentionsFn = Callable[[str], bool]


def declare(
    tool: BaseTool,
    side_effects: Iterable[SideEffect],
    preview: PreviewFn | None = None,
    danger: DangerFn | None = None,
    policy: PolicyAction | None = None,
    examples: Sequence[ToolExample] | None = None,
    choices: ChoicesFn | None = None,
    mentions: MentionsFn | None = None,
    *,
    targets: TargetsFn | None = None,
    untrusted: bool | UntrustedFn | None = None,
    choices_small_only: bool | Iterable[str] = False,
) -> BaseTool:
    """Attach side effects (and optionally a preview, a danger classifier, a
    default policy, examples, argument choices, path targets and whether its
    results are untrusted content) to any LangChain tool. Returns the same
    tool."""
    effects = list(dict.fromkeys(side_effects))
    unknown = [e for e in effects if e not in SIDE_EFFECTS]
    if unknown:
        raise ValueError(f"unknown side effect(s) {unknown}; use {SIDE_EFFECTS}")
    metadata = dict(tool.metadata or {})
    metadata[SIDE_EFFECTS_KEY] = effects
    if preview is not None:
        metadata[PREVIEW_KEY] = preview
    if danger is not None:
        metadata[DANGER_KEY] = danger
    if policy is not None:
        metadata[POLICY_KEY] = policy
    if examples is not None:
        metadata[EXAMPLES_KEY] = list(examples)
    if choices is not None:
        metadata[CHOICES_KEY] = choices
        small_only = choices_small_only
        metadata[CHOICES_SMALL_ONLY_KEY] = (
            small_only if isinstance(small_only, bool) else frozenset(small_only)
        )
    if targets is not None:
        metadata[TARGETS_KEY] = targets
    if untrusted is not None:
        metadata[UNTRUSTED_KEY] = untrusted
    if mentions is not None:
        metadata[MENTIONS_KEY] = mentions
    tool.metadata = metadata
    return tool


def examples_of(tool: BaseTool) -> list[ToolExample]:
    return list((tool.metadata or {}).get(EXAMPLES_KEY, ()))


def mentions_of(tool: BaseTool, text: str) -> bool:
    """Whether ``text`` names something ``tool`` acts on (False when the tool
    does not say, or its check fails)."""
    fn = (tool.metadata or {}).get(MENTIONS_KEY)
    if fn is None:
        return False
    try:
        return bool(fn(text))
    except Exception:  # noqa: BLE001 - a routing hint, never a failure
        return False


def choices_of(tool: BaseTool, arg: str, text: str, small_model: bool = True) -> ArgChoices | None:
    """The values ``arg`` may take now (or a regex it must match), or None
    when it is free (always, for choices meant for small models only when
    ``small_model`` is False). A choices
    function that fails leaves the argument free (grounding is a help, never
    a reason a call cannot be made)."""
    metadata = tool.metadata or {}
    fn = metadata.get(CHOICES_KEY)
    small_only = metadata.get(CHOICES_SMALL_ONLY_KEY, False)
    if fn is None or (not small_model and (small_only is True or arg in (small_only or ()))):
        return None
    try:
        values = fn(arg, text)
    except Exception:  # noqa: BLE001 - see the docstring
        return None
    if values is None or isinstance(values, str | list):
        return values  # a RequiredChoices list stays one
    return list(values)


def side_effects_of(tool: BaseTool) -> frozenset[SideEffect]:
    """Declared side effects; undeclared tools count as ``exec``."""
    declared = (tool.metadata or {}).get(SIDE_EFFECTS_KEY)
    if not declared:
        return frozenset({"exec"})
    return frozenset(declared)


def preview_of(tool: BaseTool, args: Mapping[str, Any]) -> ToolPreview | None:
    """The tool's approval preview for ``args``, or None if it has none.

    A preview that fails (e.g. the file to diff is unreadable) degrades to a
    text preview with the error rather than blocking the approval.
    """
    fn = (tool.metadata or {}).get(PREVIEW_KEY)
    if fn is None:
        return None
    try:
        return fn(args)
    except Exception as err:  # noqa: BLE001 - a preview must never block approval
        return ToolPreview(kind="text", summary=f"(no preview: {err})", body="")


def danger_of(tool: BaseTool, args: Mapping[str, Any]) -> DangerLevel | None:
    """The tool's danger classification for ``args``; None if it has none.
    A classifier that fails counts as ``unknown``."""
    fn = (tool.metadata or {}).get(DANGER_KEY)
    if fn is None:
        return None
    try:
        return fn(args)
    except Exception:  # noqa: BLE001 - unclassifiable means we do not know
        return "unknown"


def default_policy_of(tool: BaseTool) -> PolicyAction | None:
    """A per-tool default action from the tool's declaration (e.g. MCP config)."""
    return (tool.metadata or {}).get(POLICY_KEY)


def targets_of(tool: BaseTool, args: Mapping[str, Any]) -> list[PathTarget] | None:
    """What the call's path arguments really touch, or None when the tool
    does not say (its paths are then matched as written). A targets function
    that fails says nothing."""
    fn = (tool.metadata or {}).get(TARGETS_KEY)
    if fn is None:
        return None
    try:
        return list(fn(args))
    except Exception:  # noqa: BLE001 - the tool's own checks still apply when it runs
        return None


def untrusted_of(tool: BaseTool, args: Mapping[str, Any], trusted_text: str = "") -> bool:
    """Whether this call's result is untrusted content: a source the user does
    not control. ``trusted_text`` is what the user wrote (with
    ``trust_named_files``, a file it names is trusted). Undeclared: untrusted
    when the tool uses the network."""
    declared = (tool.metadata or {}).get(UNTRUSTED_KEY)
    if declared is None:
        return "network" in side_effects_of(tool)
    if callable(declared):
        try:
            return bool(declared(args, trusted_text))
        except Exception:  # noqa: BLE001 - when in doubt, untrusted
            return True
    return bool(declared)
