"""The tool contract: side effects declared as data, plus approval previews.

Any LangChain tool works unchanged. :func:`declare` attaches a typed
:class:`ToolContract` (under one key of the tool's ``metadata``) that the
approval layer reads:

- ``side_effects``: a list of :data:`SideEffect`. A tool without a contract
  is treated as ``exec`` (so the default policy asks before running it).
- ``preview``: ``(args) -> ToolPreview``, what the call would do (a diff, a
  command, a URL), shown before approval.
- ``danger``: ``(args) -> DangerLevel`` (shell uses it). The policy layer
  never auto-allows a ``destructive`` call through a pattern rule.
- ``policy``: a default :data:`PolicyAction` for this tool, used when the
  policy file has no rule naming the tool (MCP server config sets it).
- ``targets``: ``(args) -> list[PathTarget]``, what the call's path arguments
  really touch (file tools, and the files a shell command writes). Policy
  path rules and protected paths use it.
- ``untrusted``: whether the tool's results are untrusted content (a bool,
  or ``(args, trusted_text) -> bool``; e.g. a file the task did not name).
  Default: untrusted for ``network`` tools.

Approval wraps tools; tools never ask for approval themselves. How a small
model is steered towards a tool (examples, grounded arguments) is not part
of the contract: see agentkit.steering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool

# The vocabulary lives in the bottom layer (events and approvals use it too).
from agentkit.events import SIDE_EFFECTS, DangerLevel, PolicyAction, SideEffect, ToolPreview

if TYPE_CHECKING:
    from agentkit.tools.protected import PathTarget

__all__ = [
    "SIDE_EFFECTS",
    "DangerFn",
    "DangerLevel",
    "PolicyAction",
    "PreviewFn",
    "SideEffect",
    "ToolContract",
    "ToolPreview",
    "contract_of",
    "danger_of",
    "declare",
    "default_policy_of",
    "preview_of",
    "side_effects_of",
    "targets_of",
    "untrusted_of",
]

CONTRACT_KEY = "agentkit"

PreviewFn = Callable[[Mapping[str, Any]], ToolPreview]
DangerFn = Callable[[Mapping[str, Any]], DangerLevel]
TargetsFn = Callable[[Mapping[str, Any]], "Sequence[PathTarget]"]
UntrustedFn = Callable[[Mapping[str, Any], str], bool]


@dataclass(frozen=True)
class ToolContract:
    """What a tool declares to the approval layer (see the module docstring)."""

    side_effects: tuple[SideEffect, ...]
    preview: PreviewFn | None = None
    danger: DangerFn | None = None
    policy: PolicyAction | None = None
    targets: TargetsFn | None = None
    untrusted: bool | UntrustedFn | None = None


def declare(
    tool: BaseTool,
    side_effects: Iterable[SideEffect],
    preview: PreviewFn | None = None,
    danger: DangerFn | None = None,
    policy: PolicyAction | None = None,
    *,
    targets: TargetsFn | None = None,
    untrusted: bool | UntrustedFn | None = None,
) -> BaseTool:
    """Attach a :class:`ToolContract` to any LangChain tool. Returns the same tool."""
    effects = tuple(dict.fromkeys(side_effects))
    unknown = [e for e in effects if e not in SIDE_EFFECTS]
    if unknown:
        raise ValueError(f"unknown side effect(s) {unknown}; use {SIDE_EFFECTS}")
    contract = ToolContract(effects, preview, danger, policy, targets, untrusted)
    tool.metadata = {**(tool.metadata or {}), CONTRACT_KEY: contract}
    return tool


def contract_of(tool: BaseTool) -> ToolContract | None:
    found = (tool.metadata or {}).get(CONTRACT_KEY)
    return found if isinstance(found, ToolContract) else None


def side_effects_of(tool: BaseTool) -> frozenset[SideEffect]:
    """Declared side effects; undeclared tools count as ``exec``."""
    contract = contract_of(tool)
    if contract is None or not contract.side_effects:
        return frozenset({"exec"})
    return frozenset(contract.side_effects)


def preview_of(tool: BaseTool, args: Mapping[str, Any]) -> ToolPreview | None:
    """The tool's approval preview for ``args``, or None if it has none.

    A preview that fails (e.g. the file to diff is unreadable) degrades to a
    text preview with the error rather than blocking the approval.
    """
    contract = contract_of(tool)
    if contract is None or contract.preview is None:
        return None
    try:
        return contract.preview(args)
    except Exception as err:  # noqa: BLE001 - a preview must never block approval
        return ToolPreview(kind="text", summary=f"(no preview: {err})", body="")


def danger_of(tool: BaseTool, args: Mapping[str, Any]) -> DangerLevel | None:
    """The tool's danger classification for ``args``; None if it has none.
    A classifier that fails counts as ``unknown``."""
    contract = contract_of(tool)
    if contract is None or contract.danger is None:
        return None
    try:
        return contract.danger(args)
    except Exception:  # noqa: BLE001 - unclassifiable means we do not know
        return "unknown"


def default_policy_of(tool: BaseTool) -> PolicyAction | None:
    """A per-tool default action from the tool's declaration (e.g. MCP config)."""
    contract = contract_of(tool)
    return contract.policy if contract is not None else None


def targets_of(tool: BaseTool, args: Mapping[str, Any]) -> list[PathTarget] | None:
    """What the call's path arguments really touch, or None when the tool
    does not say (its paths are then matched as written). A targets function
    that fails says nothing."""
    contract = contract_of(tool)
    if contract is None or contract.targets is None:
        return None
    try:
        return list(contract.targets(args))
    except Exception:  # noqa: BLE001 - the tool's own checks still apply when it runs
        return None


def untrusted_of(tool: BaseTool, args: Mapping[str, Any], trusted_text: str = "") -> bool:
    """Whether this call's result is untrusted content: a source the user does
    not control. ``trusted_text`` is what the user wrote (with
    ``trust_named_files``, a file it names is trusted). Undeclared: untrusted
    when the tool uses the network."""
    contract = contract_of(tool)
    declared = contract.untrusted if contract is not None else None
    if declared is None:
        return "network" in side_effects_of(tool)
    if callable(declared):
        try:
            return bool(declared(args, trusted_text))
        except Exception:  # noqa: BLE001 - when in doubt, untrusted
            return True
    return bool(declared)
