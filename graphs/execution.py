"""Running one decided call: once (the ledger), with the files it will change
recorded first (rewind) and the ``after_tool`` hooks applied to its result."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.tools import BaseTool
from langgraph.types import StreamWriter

from agentkit.approvals.decisions import call_signature
from agentkit.events import HookRecord
from agentkit.graphs import prompts as P
from agentkit.graphs.calls import CallOutcome, interrupted_writer, run_once, saved_decision
from agentkit.graphs.file_history import FileHistory
from agentkit.graphs.ledger import CallLedger
from agentkit.graphs.state import AgentState, CallDecision, PendingCall
from agentkit.graphs.support import configurable_metadata, current_workspace
from agentkit.hooks import HookSet, ToolResult, event_of
from agentkit.hooks import ToolCall as HookCall
from agentkit.modes import DEFAULT_MODE


@dataclass
class CallRunner:
    """What running a call needs: the ledger that makes it run once, the
    file history (None: rewind records nothing), the hooks, and the
    workspace when a run names none."""

    ledger: CallLedger
    hooks: HookSet = field(default_factory=HookSet)
    files: FileHistory | None = None
    workspace: Path | None = None

    def run_decisions(
        self,
        tools_by_name: Mapping[str, BaseTool],
        state: AgentState,
        thread_id: str,
        key_prefix: str,
        emit: StreamWriter,
        ask_rerun: Callable[[PendingCall, CallDecision], CallDecision],
    ) -> tuple[list[CallOutcome], list[HookRecord]]:
        """Every decided call of the step: run the approved ones (once), and
        turn the others into what the model sees (rejected, denied, ...). A
        call with side effects that was running when the process stopped
        runs again only when ``ask_rerun`` (a human) says so."""
        pending = {p["call_id"]: p for p in state.get("pending", [])}
        outcomes: list[CallOutcome] = []
        hook_log: list[HookRecord] = []
        for saved in state.get("decisions", []):
            d = saved_decision(saved)
            p = pending[d["call_id"]]
            if "status" in d:
                outcome = CallOutcome(
                    p["call_id"],
                    p["tool"],
                    d["args"],
                    d["status"],
                    d.get("output", ""),
                    feedback=d.get("feedback", ""),
                )
            else:
                key = f"{key_prefix}/{p['call_id']}"
                rerun = False
                if interrupted_writer(self.ledger.get(key), tools_by_name[p["tool"]]):
                    d, rerun = ask_rerun(p, d), True
                if "status" in d:  # the human chose not to run it again
                    status = "responded" if d["status"] == "responded" else "error"
                    outcome = CallOutcome(p["call_id"], p["tool"], d["args"], status, _not_rerun(d))
                    records = []
                else:
                    outcome, records = self.run(
                        tools_by_name, key, thread_id, p, d["args"], rerun=rerun
                    )
                for entry in records:
                    emit(event_of(entry))
                hook_log += records
            emit(outcome.event())
            outcomes.append(outcome)
        return outcomes, hook_log

    def run(
        self,
        tools_by_name: Mapping[str, BaseTool],
        key: str,
        thread_id: str,
        p: PendingCall,
        args: dict[str, object],
        rerun: bool = False,
    ) -> tuple[CallOutcome, list[HookRecord]]:
        """Run one decided call once (``rerun``: again, a human said so):
        record the files it will change (for rewind) first, apply the
        ``after_tool`` hooks to its result."""
        tool = tools_by_name[p["tool"]]
        here = current_workspace()
        workspace = Path(here) if here else self.workspace
        recorded: list[int] = []
        if self.files is not None and (rerun or self.ledger.get(key) is None):
            step = int(configurable_metadata().get("langgraph_step", -1))
            recorded = self.files.before_call(thread_id, step, p["call_id"], tool, args, workspace)
        outcome = run_once(
            self.ledger,
            key,
            thread_id,
            tool,
            p["call_id"],
            dict(args),
            p.get("pinned"),
            rerun=rerun,
        )
        records: list[HookRecord] = []
        if self.hooks and outcome.status in ("ok", "error"):
            call = HookCall(
                call_id=p["call_id"],
                tool=p["tool"],
                args=dict(args),
                side_effects=list(p["side_effects"]),
                thread_id=thread_id,
                workspace=str(workspace or ""),
                mode=p.get("mode", DEFAULT_MODE),
            )
            result = ToolResult(outcome.output, outcome.status, outcome.duration_s)
            seen, records = self.hooks.after_tool(call, result)
            if seen is not result:
                status = "error" if seen.status == "error" else outcome.status
                outcome = dataclasses.replace(outcome, output=seen.output, status=status)
        if recorded and self.files is not None:
            # After the after_tool hooks: a formatter's change is agentkit's too.
            self.files.after_call(recorded)
        if p.get("original_args"):
            note = f"[a hook or an edit changed the arguments to {json.dumps(args)[:300]}]\n"
            outcome = dataclasses.replace(outcome, output=note + outcome.output)
        return outcome, records


def blocked_after(outcomes: list[CallOutcome], state: AgentState) -> dict[str, str]:
    """The calls the repeated-call detector refuses from now on (this exact
    call failed or was rejected), by signature."""
    pending = {p["call_id"]: p for p in state.get("pending", [])}
    blocked = dict(state.get("blocked", {}))
    for outcome in outcomes:
        why = outcome.block_reason()
        if pending.get(outcome.call_id, {}).get("decided_by") == "mode":
            why = None  # the mode can change (an approved plan): it may run then
        if why:
            blocked[call_signature(outcome.tool, outcome.args)] = why
    return blocked


def _not_rerun(decided: CallDecision) -> str:
    """What the model sees for an interrupted call the human did not run again."""
    if decided.get("status") == "responded":
        return decided.get("output", "")
    feedback = decided.get("feedback", "")
    return P.INTERRUPTED_NOTE + (f" The user said: {feedback}" if feedback else "")
