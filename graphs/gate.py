"""What may run: the policy, then the permission mode, then the hooks.

:class:`CallGate` is the one evaluation a call goes through, when the model
proposes it and again when a human edits it:

1. the policy's verdict (:meth:`~agentkit.approvals.policy.Policy.evaluate`);
2. the thread's permission mode (:func:`agentkit.modes.apply_mode`);
3. unless that denied it, the ``before_tool`` hooks: a ``Deny`` (or a hook
   error) denies; a ``Rewrite`` is validated against the tool's schema and
   goes through 1 and 2 again with its new arguments, so a hook can never
   launder a call past the policy; ``Ask`` turns an allow into an ask;
   ``Allow`` answers an ask in the human's place, except for a destructive
   call, which always asks.

The verdict says who decided (``policy``, ``mode`` or ``hook``) and keeps
each hook's word as a record for the thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.tools import BaseTool

from agentkit.approvals.decisions import validate_args
from agentkit.approvals.policy import Policy
from agentkit.approvals.rules import PolicyVerdict
from agentkit.events import HookRecord, PolicyAction
from agentkit.hooks import Allow, Ask, Deny, HookSet, Rewrite, ToolCall
from agentkit.modes import apply_mode
from agentkit.tools.base import danger_of, side_effects_of

if TYPE_CHECKING:
    from agentkit.approvals.untrusted import Provenance

DecidedBy = Literal["policy", "mode", "hook"]


@dataclass
class GateVerdict:
    action: PolicyAction
    reason: str
    args: dict[str, Any]  # the arguments it runs with (a hook may have rewritten them)
    decided_by: DecidedBy = "policy"
    rule_id: str | None = None
    hooks: list[HookRecord] = field(default_factory=list)
    rewritten: bool = False
    pinned: dict[str, str] = field(default_factory=dict)
    """Path as written -> the real path a write was evaluated for (see
    :func:`agentkit.graphs.calls.run_once`)."""
    held: bool = False
    """A guard asked (a protected path, untrusted content): only a human
    answers it, never a hook's ``Allow``."""


@dataclass
class CallGate:
    policy: Policy
    hooks: HookSet = field(default_factory=HookSet)
    workspace: str = ""

    def policy_verdict(
        self,
        tool: BaseTool,
        args: Mapping[str, Any],
        thread_id: str | None,
        mode: str,
        workspace: str | None = None,
        seen: Provenance | None = None,
    ) -> tuple[PolicyVerdict, DecidedBy]:
        verdict = self.policy.evaluate(
            tool, args, thread_id=thread_id, workspace=workspace, seen=seen
        )
        moded = apply_mode(mode, tool, args, verdict)
        if moded is verdict:
            return verdict, "policy"
        return replace(moded, targets=verdict.targets), "mode"

    def evaluate(
        self,
        tool: BaseTool,
        args: Mapping[str, Any],
        *,
        call_id: str,
        thread_id: str | None,
        mode: str,
        workspace: str | None = None,
        seen: Provenance | None = None,
    ) -> GateVerdict:
        """``workspace``: the thread's (policy rules keyed by another do not
        apply; hooks see it); default: the gate's own."""
        verdict, by = self.policy_verdict(tool, args, thread_id, mode, workspace, seen)
        current = _gated(verdict, dict(args), by)
        if current.action == "deny" or not self.hooks:
            return current
        asked_by: str | None = None
        allowed_by: str | None = None
        rewrite: tuple[str, Rewrite] | None = None
        call = ToolCall(
            call_id=call_id,
            tool=tool.name,
            args=current.args,
            side_effects=sorted(side_effects_of(tool)),
            thread_id=thread_id or "",
            workspace=workspace or self.workspace,
            mode=mode,
        )
        for entry, answer in self.hooks.before_tool(call):
            current.hooks.append(entry)
            said = entry["hook"] + (f": {answer.reason}" if getattr(answer, "reason", "") else "")
            if isinstance(answer, Deny):
                return _denied(current, f"hook {entry['hook']}: {answer.reason}")
            if isinstance(answer, Ask):
                asked_by = said
            elif isinstance(answer, Allow):
                allowed_by = said
            elif isinstance(answer, Rewrite):
                rewrite = (entry["hook"], answer)
        if rewrite is not None:
            name, answer = rewrite
            problem = validate_args(tool, answer.args)
            if problem:
                return _denied(
                    current, f"hook {name} rewrote the call into an invalid one: {problem}"
                )
            verdict, by = self.policy_verdict(tool, answer.args, thread_id, mode, workspace, seen)
            hooks = current.hooks
            current = _gated(verdict, dict(answer.args), by)
            current.hooks, current.rewritten = hooks, True
            if current.action == "deny":
                return current
        if asked_by and current.action == "allow":
            current.action, current.reason, current.decided_by = "ask", f"hook {asked_by}", "hook"
        elif allowed_by and not asked_by and current.action == "ask" and not current.held:
            if danger_of(tool, current.args) != "destructive":
                current.action, current.decided_by = "allow", "hook"
                current.reason = f"hook {allowed_by} (policy: {current.reason})"
        return current


GUARD_MARKS = (
    "only a human can allow that",
    "no rule auto-allows that",
    "side-effecting calls ask",
)


def _gated(verdict: PolicyVerdict, args: dict[str, Any], by: DecidedBy) -> GateVerdict:
    """The policy's (or mode's) verdict with the real paths its writes were
    evaluated for, and whether a guard holds it (see :class:`GateVerdict`)."""
    targets = getattr(verdict, "targets", ()) or ()
    pinned = {t.written: t.resolved for t in targets if t.write and t.resolved}
    held = verdict.action == "ask" and any(mark in verdict.reason for mark in GUARD_MARKS)
    return GateVerdict(
        verdict.action, verdict.reason, args, by, verdict.rule_id, pinned=pinned, held=held
    )


def _denied(current: GateVerdict, reason: str) -> GateVerdict:
    current.action, current.reason, current.decided_by = "deny", reason, "hook"
    return current
