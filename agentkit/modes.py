"""Permission modes: one switch, on top of the policy, for how much the agent
may do without asking.

| mode | what changes |
| --- | --- |
| ``default`` | nothing: the policy decides |
| ``accept-edits`` | writes and edits by agentkit's file tools inside the workspace run without asking, where only the side-effect default would have asked; never outside the workspace, never agentkit's protected files, never over an explicit rule; shell and network still ask |
| ``plan`` | read-only: tools with side effects are not offered, and a call to one is denied (never asked for); the run ends with a plan the user can approve, which switches the thread to ``default`` |
| ``dont-ask`` | whatever would ask is denied instead, with a reason the model sees (CI, scripts) |

A policy ``deny`` is never lifted by a mode. :func:`apply_mode` is the one
place the modes act; the graph calls it right after the policy, and the
verdict's reason says which mode decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from langchain_core.tools import BaseTool

from agentkit.approvals.rules import PATH_ARGS, PolicyVerdict
from agentkit.errors import ConfigError
from agentkit.tools.base import danger_of, side_effects_of

Mode = Literal["default", "accept-edits", "plan", "dont-ask"]
MODES: tuple[Mode, ...] = get_args(Mode)  # also the order a TUI key cycles through
DEFAULT_MODE: Mode = "default"
MODE_KEY = "agentkit_mode"  # config["configurable"] key the graph reads the mode from

# What the model is told in plan mode (in the system text, so a mode switch
# starts a new cached prefix and the prompt otherwise stays stable).
PLAN_MODE_NOTE = (
    "Plan mode: you may only read. Do not change anything. Look at what you need "
    "with the read-only tools, then call final_answer with a short numbered plan of "
    "the changes you would make. The user approves the plan before anything changes."
)
PLAN_APPROVED_TASK = "The user approved your plan. Carry it out now, step by step."

MODE_DESCRIPTIONS: dict[Mode, str] = {
    "default": "the policy decides: reads run, writes, commands and network ask",
    "accept-edits": "file writes and edits inside the workspace run without asking",
    "plan": "read-only: the agent investigates and proposes a plan to approve",
    "dont-ask": "whatever would ask is denied (for CI and scripts)",
}


def check_mode(value: str) -> Mode:
    """``value`` as a mode, or a one-line :class:`ConfigError`."""
    if value not in MODES:
        raise ConfigError(f"unknown mode {value!r}", hint=f"one of: {', '.join(MODES)}")
    return value  # type: ignore[return-value]


def next_mode(mode: str) -> Mode:
    """The mode after ``mode`` in :data:`MODES` (what the TUI's key does)."""
    index = MODES.index(mode) if mode in MODES else -1  # type: ignore[arg-type]
    return MODES[(index + 1) % len(MODES)]


def read_only(tool: BaseTool) -> bool:
    return side_effects_of(tool) == {"read"}


def apply_mode(
    mode: str, tool: BaseTool, args: Mapping[str, Any], verdict: PolicyVerdict
) -> PolicyVerdict:
    """The policy's ``verdict`` as ``mode`` changes it (the same object when
    the mode changes nothing)."""
    if verdict.action == "deny" or mode == "default":
        return verdict
    if mode == "plan":
        if read_only(tool):
            return verdict
        effects = ", ".join(sorted(side_effects_of(tool)))
        return PolicyVerdict(
            "deny",
            f"mode plan: read-only, and {tool.name} has side effects ({effects}); "
            "put the change in your plan instead",
        )
    if verdict.action != "ask":
        return verdict
    if mode == "dont-ask":
        return PolicyVerdict(
            "deny",
            f"mode dont-ask: this call needs approval ({verdict.reason}) and nobody is asked; "
            "do without it or finish",
            verdict.rule_id,
        )
    if mode == "accept-edits" and _workspace_edit(tool, args, verdict):
        return PolicyVerdict("allow", f"mode accept-edits: workspace edit ({verdict.reason})")
    return verdict


def _workspace_edit(tool: BaseTool, args: Mapping[str, Any], verdict: PolicyVerdict) -> bool:
    """A write by one of agentkit's workspace tools, to a path inside the
    workspace that is not protected, which only the side-effect default asked
    about (an explicit rule, a protected path, untrusted content, a
    destructive call or a tool's own default keep asking)."""
    if verdict.rule_id is not None or verdict.reason != "write: ask (default)":
        return False  # a rule, a tool's own default, or a guard's reason added
    if side_effects_of(tool) != {"write"} or danger_of(tool, args) == "destructive":
        return False
    workspace = getattr(tool, "ws", None)
    resolve = getattr(workspace, "resolve", None)
    paths = [args[name] for name in PATH_ARGS if isinstance(args.get(name), str)]
    if resolve is None or not paths:
        return False
    for path in paths:
        try:  # refuses paths outside the root, through symlinks out, and protected ones
            resolve(path, for_write=True)
        except Exception:  # noqa: BLE001 - anything the workspace refuses keeps asking
            return False
    return True
