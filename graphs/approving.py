"""The approval node's pieces: a pending call as the human sees it, and an
edited call evaluated again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping

from langchain_core.tools import BaseTool
from langgraph.types import interrupt

from agentkit.approvals.always import always_options, pattern_rule
from agentkit.approvals.decisions import parse_decisions
from agentkit.approvals.policy import Policy
from agentkit.events import ApprovalRequest, Approve, Decision, Edit
from agentkit.graphs import prompts as P
from agentkit.graphs.calls import decide, provenance
from agentkit.graphs.file_history import FileHistory
from agentkit.graphs.gate import CallGate
from agentkit.graphs.state import CallDecision, PendingCall
from agentkit.graphs.support import current_mode, current_thread_id, current_workspace
from agentkit.modes import DEFAULT_MODE
from agentkit.tools.base import danger_of, preview_of, side_effects_of
from agentkit.tools.registry import call_target


def approval_request(tool: BaseTool, p: PendingCall, files: FileHistory | None) -> ApprovalRequest:
    """A call the policy asks about, as the human sees it."""
    schema = tool.tool_call_schema
    notes = []
    if p.get("original_args"):
        notes.append(f"arguments changed from {json.dumps(p['original_args'])[:200]}")
    if "exec" in side_effects_of(tool):
        notes.append(
            "rewind cannot undo what a command changes"
            + (
                "; the tracked files of the git work tree are snapshotted before it runs"
                if files is not None and files.git_snapshots
                else ""
            )
        )
    return ApprovalRequest(
        call_id=p["call_id"],
        tool=p["tool"],
        args=p["args"],
        side_effects=p["side_effects"],
        danger=danger_of(tool, p["args"]),
        preview=preview_of(tool, p["args"]),
        args_schema=schema.model_json_schema() if isinstance(schema, type) else dict(schema),
        reason=p["reason"],
        mode=p.get("mode", DEFAULT_MODE),
        rule_id=p.get("rule_id"),
        always_options=always_options(tool, p["args"]),
        notes=notes,
        workspace=current_workspace() or "",
        target=call_target(tool, p["args"]),
    )


def edited_call(
    gate: CallGate, tool: BaseTool, p: PendingCall, edit: Edit
) -> tuple[PendingCall, Decision | None]:
    """``p`` with the edited arguments, evaluated again, and what that means:
    run (an approval), refuse (a deny verdict), or None: ask again."""
    verdict = gate.evaluate(
        tool,
        edit.args,
        call_id=p["call_id"],
        thread_id=current_thread_id(),
        mode=p.get("mode", current_mode()),
        workspace=current_workspace(),
    )
    edited: PendingCall = {
        **p,
        "args": verdict.args,
        "original_args": p.get("original_args", p["args"]),
        "rule_id": verdict.rule_id,
        "pinned": verdict.pinned,  # the edited paths' real targets
    }
    if verdict.action == "deny":
        reason = f"edited call: {verdict.reason}"
        denied: PendingCall = {**edited, "verdict": "deny", "reason": reason}
        return {**denied, "decided_by": verdict.decided_by}, edit
    if verdict.action == "ask" and verdict.reason != p["reason"].removeprefix("edited: "):
        return {**edited, "reason": f"edited: {verdict.reason}"}, None
    return edited, Edit(call_id=p["call_id"], args=verdict.args)


def remember_always(
    policy: Policy,
    tools_by_name: Mapping[str, BaseTool],
    pending: Iterable[PendingCall],
    answers: Mapping[str, Decision],
) -> None:
    """An approval with "always" becomes a policy rule (for its scope)."""
    for p in pending:
        answer = answers.get(p["call_id"])
        if isinstance(answer, Approve) and answer.always and p["verdict"] == "ask":
            policy.add_always_allow(
                p["tool"],
                **pattern_rule(p["args"], answer.always_pattern, tool=tools_by_name[p["tool"]]),
                scope=answer.always,
                thread_id=current_thread_id(),
                workspace=current_workspace(),
            )


def decisions_of(
    pending: Iterable[PendingCall],
    answers: Mapping[str, Decision],
    stamps: Mapping[str, dict[str, object]],
) -> list[CallDecision]:
    """What happens to each pending call, with who decided and when."""
    now = time.time()
    decisions: list[CallDecision] = []
    for p in pending:
        answer = answers.get(p["call_id"])
        stamp = provenance(p, answer, stamps.get(p["call_id"]), now)
        decisions.append({**decide(p, answer), **stamp})
    return decisions


def ask_rerun(
    tool: BaseTool, p: PendingCall, decided: CallDecision, files: FileHistory | None
) -> CallDecision:
    """A call with side effects was running when the process stopped: it may
    have partly run, so it runs again only if a human says so (an interrupt,
    like the approve node's; re-running the execute node reuses the ledger's
    record of the calls before it)."""
    request = approval_request(
        tool, {**p, "args": decided["args"], "reason": P.RERUN_REASON}, files
    ).model_copy(update={"always_options": []})
    raw = interrupt({"requests": [request.model_dump(mode="json")]})
    answer = next((d for d in parse_decisions(raw) if d.call_id == p["call_id"]), None)
    return decide({**p, "args": decided["args"], "verdict": "ask"}, answer)
