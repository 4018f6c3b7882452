"""One tool call the model proposed, from proposal to outcome.

- :func:`propose` checks a call (known tool, valid arguments, not a blind
  repeat) and asks the policy: a :class:`~.state.PendingCall`.
- :func:`decide` turns the policy's verdict and the human's decision into a
  :class:`~.state.CallDecision`: run the call, or do not, with its outcome.
- :func:`run_once` runs a decided call at most once (see :mod:`.ledger`).
- :class:`CallOutcome` is what happened. The transcript's ``ToolMessage``, the
  run's tool log entry and the streamed event are all rendered from it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.messages import BaseMessage, InvalidToolCall, ToolCall, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool

from agentkit.approvals.decisions import call_signature, validate_args
from agentkit.approvals.policy import Policy
from agentkit.approvals.untrusted import Provenance
from agentkit.events import (
    Approve,
    Decision,
    Edit,
    Reject,
    Respond,
    ToolCallRecord,
    ToolOutcome,
    ToolResultEvent,
)
from agentkit.graphs import prompts as P
from agentkit.graphs.gate import CallGate
from agentkit.graphs.ledger import CallLedger, LedgerEntry
from agentkit.graphs.state import CallDecision, PendingCall
from agentkit.modes import DEFAULT_MODE
from agentkit.tools.base import side_effects_of
from agentkit.tools.protected import pinned_targets

UNPARSEABLE_TOOL = "?"


@dataclass(frozen=True)
class CallOutcome:
    """What happened to one call: ran (``ok``/``error``), or did not run
    (``rejected``, ``responded``, ``denied``, or ``error`` for a call that
    could not run)."""

    call_id: str
    tool: str
    args: dict[str, Any]
    status: ToolOutcome
    output: str
    duration_s: float = 0.0
    feedback: str = ""  # the human's words on a rejected call

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "responded")

    def message(self) -> ToolMessage:
        """The observation the model sees."""
        return ToolMessage(
            content=self.output,
            tool_call_id=self.call_id,
            name=self.tool,
            status="error" if self.failed else "success",
        )

    def record(self) -> ToolCallRecord:
        """The entry in the thread's tool log (``RunResult.tool_calls``)."""
        fields = asdict(self)
        return ToolCallRecord(**{key: fields[key] for key in ToolCallRecord.__annotations__})

    def event(self) -> ToolResultEvent:
        return ToolResultEvent.model_validate(self, from_attributes=True)

    def block_reason(self) -> str | None:
        """Why the repeated-call detector should refuse this exact call from
        now on, if it should."""
        if self.status == "error":
            return f"failed with: {self.output[:200]}"
        if self.status == "denied":
            return "was denied by policy"
        if self.status == "rejected":
            return "was rejected by the user" + (f" ({self.feedback})" if self.feedback else "")
        return None


# --- proposing ------------------------------------------------------------------------


def propose(
    call: ToolCall,
    tools: Mapping[str, BaseTool],
    policy: Policy,
    blocked: Mapping[str, str],
    thread_id: str | None,
    seen: Provenance | None = None,
    workspace: str | None = None,
    *,
    gate: CallGate | None = None,
    mode: str = DEFAULT_MODE,
) -> PendingCall:
    """A call the model made, checked, with the verdict of the policy, the
    permission ``mode`` and the hooks (see :mod:`.gate`). ``seen``: what the
    run has seen (untrusted content). The real paths its writes were
    evaluated for are pinned: a write that leads elsewhere when it runs is
    refused (see :func:`run_once`)."""
    name, args = call["name"], call["args"]
    base = PendingCall(call_id=call["id"] or "", tool=name, args=args, side_effects=[], reason="")
    tool = tools.get(name)
    if tool is None:
        known = ", ".join([*tools, P.FINAL_ANSWER_TOOL])
        error = f"error: unknown tool {name!r}; available tools: {known}"
        return {**base, "verdict": "invalid", "reason": "unknown tool", "error": error}
    base["side_effects"] = sorted(side_effects_of(tool))
    problem = validate_args(tool, args)
    if problem:
        return {
            **base,
            "verdict": "invalid",
            "reason": "invalid arguments",
            "error": f"error: {problem}",
        }
    why = blocked.get(call_signature(name, args))
    if why:
        error = P.BLOCKED_REPEAT_NOTE.format(why=why)
        return {**base, "verdict": "invalid", "reason": "blocked repeat", "error": error}
    gate = gate or CallGate(policy)
    verdict = gate.evaluate(
        tool,
        args,
        call_id=base["call_id"],
        thread_id=thread_id,
        mode=mode,
        workspace=workspace,
        seen=seen,
    )
    out: PendingCall = {
        **base,
        "args": verdict.args,
        "verdict": verdict.action,
        "reason": verdict.reason,
        "mode": mode,
        "decided_by": verdict.decided_by,
        "rule_id": verdict.rule_id,
        "hooks": verdict.hooks,
    }
    if verdict.rewritten:
        out["original_args"] = dict(args)
    if verdict.pinned:
        out["pinned"] = verdict.pinned
    return out


def unparseable(call: InvalidToolCall) -> PendingCall:
    """A call whose arguments did not parse: it cannot run; the model is told why."""
    raw = call.get("error") or call.get("args")
    return PendingCall(
        call_id=call.get("id") or "",
        tool=call.get("name") or UNPARSEABLE_TOOL,
        args={},
        side_effects=[],
        verdict="invalid",
        reason="unparseable call",
        error=f"error: could not parse the call's arguments: {raw}",
    )


def pending_signature(p: PendingCall) -> str:
    """Identity of a proposed call; unparseable calls differ by their raw
    text, not by their (empty) arguments."""
    extra = p.get("error", "") if p["tool"] == UNPARSEABLE_TOOL else ""
    return call_signature(p["tool"], p["args"]) + extra


# --- deciding -------------------------------------------------------------------------


def decide(p: PendingCall, answer: Decision | None) -> CallDecision:
    """What happens to ``p``: the policy's verdict, or for an ``ask`` the
    human's ``answer`` (checked against ``p`` before the graph resumed)."""
    run = CallDecision(call_id=p["call_id"], args=p["args"])
    if p["verdict"] == "allow":
        return run
    if p["verdict"] != "ask":
        output = p.get("error") or P.DENIED_NOTE.format(reason=p["reason"])
        return {**run, "status": "denied" if p["verdict"] == "deny" else "error", "output": output}
    match answer:
        case Approve():
            return run
        case Edit(args=args):
            return {**run, "args": dict(args)}
        case Reject(feedback=feedback):
            return _rejected(run, feedback)
        case Respond(result=result):
            return {**run, "status": "responded", "output": result}
    # Fail closed: a call that asked is never run without an answer.
    raise ValueError(f"no decision for call {p['call_id']!r}")


def provenance(
    p: PendingCall, answer: Decision | None, raw: Mapping[str, object] | None, now: float
) -> dict[str, Any]:
    """Who decided about ``p`` and when, for the audit trail. A human's or an
    approver's answer carries its stamp in the resume value (``raw``); the
    policy and the checks decide when the approve node runs (``now``)."""
    if p["verdict"] != "ask":
        by = "check" if p["verdict"] == "invalid" else p.get("decided_by") or "policy"
        return {"decision": p["verdict"], "decided_by": by, "decided_at": now}
    stamp = raw or {}
    at = stamp.get("decided_at")
    return {
        "decision": answer.kind if answer is not None else "none",
        "decided_by": str(stamp.get("decided_by") or "human"),
        "decided_at": float(at) if isinstance(at, int | float) else now,
    }


def _rejected(run: CallDecision, feedback: str) -> CallDecision:
    note = P.REJECTED_NOTE.format(feedback=f": {feedback}" if feedback else "")
    return {**run, "status": "rejected", "output": note, "feedback": feedback}


# What 0.1's decision kinds became, for the calls that do not run.
_SAVED_OUTCOMES: dict[str, ToolOutcome] = {
    "respond": "responded",
    "deny": "denied",
    "invalid": "error",
}


def saved_decision(saved: CallDecision | Mapping[str, object]) -> CallDecision:
    """A decision in today's shape. Threads saved by agentkit 0.1 recorded a
    ``kind`` (allow, approve, edit, reject, respond, deny, invalid) and the
    reject feedback or the outcome text in ``feedback``; such a thread can
    stop between approve and execute (a crash, or a fork of that point)."""
    if "kind" not in saved:
        return CallDecision(**saved)
    kind, text = saved["kind"], saved.get("feedback", "")
    run = CallDecision(call_id=saved["call_id"], args=saved.get("args", {}))
    if kind in ("allow", "approve", "edit"):
        return run
    if kind == "reject":
        return _rejected(run, text)
    output = text if kind == "respond" else text or "error"
    return {**run, "status": _SAVED_OUTCOMES[kind], "output": output}


# --- running --------------------------------------------------------------------------


def run_once(
    ledger: CallLedger,
    key: str,
    thread_id: str,
    tool: BaseTool,
    call_id: str,
    args: dict[str, Any],
    pinned: Mapping[str, str] | None = None,
    *,
    rerun: bool = False,
) -> CallOutcome:
    """Run a decided call unless the ledger says it already ran: a finished
    call reuses its output, an unfinished one with side effects is not run
    again (it may have partly run) unless ``rerun`` (a human said so).
    ``pinned``: the real paths its writes were evaluated for; a write that
    now leads elsewhere is refused."""
    entry = ledger.get(key)
    if entry is not None and entry.state == "done":
        status: ToolOutcome = "error" if entry.status == "error" else "ok"
        return CallOutcome(call_id, tool.name, args, status, entry.output, entry.duration_s)
    if entry is not None and interrupted_writer(entry, tool) and not rerun:
        return CallOutcome(call_id, tool.name, args, "error", P.INTERRUPTED_NOTE)
    ledger.start(key, thread_id, tool.name)
    with pinned_targets(pinned):
        outcome = run_tool(tool, args, call_id)
    ledger.finish(key, outcome.output, outcome.status, outcome.duration_s)
    return outcome


def interrupted_writer(entry: LedgerEntry | None, tool: BaseTool) -> bool:
    """A call with side effects that started and never finished: the process
    stopped while it ran, so it may have partly run."""
    return entry is not None and entry.state == "started" and side_effects_of(tool) != {"read"}


def run_tool(tool: BaseTool, args: Mapping[str, Any], call_id: str | None = None) -> CallOutcome:
    """Invoke ``tool``. A raising tool is an ``error`` outcome whose output
    tells the model what went wrong; it never crashes the run."""
    start = time.perf_counter()
    # With the call id, invoke with a ToolCall so tools can see it
    # (InjectedToolCallId; `remember` records it as provenance).
    payload: ToolCall | dict[str, Any] = (
        ToolCall(type="tool_call", name=tool.name, args=dict(args), id=call_id)
        if call_id
        else dict(args)
    )
    status: ToolOutcome = "ok"
    try:
        if _is_async_only(tool):
            # Async-only tools (MCP) from a sync node: run on a private loop in a
            # worker thread, since the caller may itself be inside a loop.
            with ThreadPoolExecutor(max_workers=1) as pool:
                output = pool.submit(asyncio.run, tool.ainvoke(payload)).result()
        else:
            output = tool.invoke(payload)
    except Exception as err:  # noqa: BLE001 - a failing tool is an observation
        message = str(err) or type(err).__name__
        output, status = f"error: {tool.name} failed: {type(err).__name__}: {message}", "error"
    else:
        # a tool that handles its own errors (handle_tool_error) says so on its ToolMessage
        if getattr(output, "status", None) == "error":
            status = "error"
        output = _stringify(output)
    seconds = time.perf_counter() - start
    return CallOutcome(call_id or "", tool.name, dict(args), status, output, seconds)


def _stringify(output: object) -> str:
    if isinstance(output, BaseMessage):
        output = output.content
    if isinstance(output, str):
        return output
    try:
        return json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(output)


def _is_async_only(tool: BaseTool) -> bool:
    return isinstance(tool, StructuredTool) and tool.func is None and tool.coroutine is not None
