"""The session-control parts of the graph's nodes: context compaction
before an act step, re-evaluating an edited call (policy, mode, hooks), and
running one decided call with the file history (rewind) and the
``after_tool`` hooks around it. A mixin of
:class:`~agentkit.graphs.agent_graph.AgentNodes`; see docs/control.md."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage
from langchain_core.tools import BaseTool
from langgraph.config import get_config, get_stream_writer

from agentkit.events import CompactionEvent, Decision, Edit, HookRecord
from agentkit.graphs.calls import CallOutcome, run_once
from agentkit.graphs.compaction import Compaction, prompt_chars
from agentkit.graphs.file_history import FileHistory
from agentkit.graphs.gate import CallGate
from agentkit.graphs.ledger import CallLedger
from agentkit.graphs.state import AgentState, PendingCall, PlanNote, SummaryNote
from agentkit.graphs.support import configurable, current_thread_id, current_workspace
from agentkit.hooks import HookSet, ToolResult
from agentkit.hooks import ToolCall as HookCall
from agentkit.modes import DEFAULT_MODE, MODE_KEY
from agentkit.tools.limits import ToolLimits, cap_text


class ControlSteps:
    """What :class:`AgentNodes` provides to these methods."""

    compaction: Compaction | None
    files: FileHistory | None
    hooks: HookSet
    ledger: CallLedger
    workspace: Path | None
    gate: CallGate
    tools_by_name: dict[str, BaseTool]

    if TYPE_CHECKING:

        @property
        def chat_model(self) -> BaseChatModel: ...

        def offered_tools(self, state: AgentState, choice: str = "any") -> list[BaseTool]: ...

        def act_prompt(
            self,
            state: AgentState,
            note: PlanNote | None = None,
            offered: Sequence[BaseTool] | None = None,
        ) -> list[AnyMessage]: ...

    def _compact_if_due(
        self, state: AgentState, prompt: list[AnyMessage], offered: Sequence[BaseTool]
    ) -> SummaryNote | None:
        """A summary of the older turns when ``prompt`` would pass the
        compaction threshold (and its event), else None."""
        if self.compaction is None:
            return None
        before = self.compaction.estimate(prompt, state, offered)
        if not self.compaction.due(before):
            return None
        return self.compact(state, "auto", before, offered)

    def compact(
        self,
        state: AgentState,
        trigger: str = "manual",
        tokens_before: int | None = None,
        offered: Sequence[BaseTool] | None = None,
    ) -> SummaryNote | None:
        """Summarise ``state``'s older turns (None when there is nothing to
        summarise); emits a :class:`~agentkit.events.CompactionEvent` inside
        a run. ``Agent.compact`` calls it outside one."""
        compaction = self.compaction or Compaction()
        tools = self.offered_tools(state) if offered is None else offered
        before = prompt_chars(self.act_prompt(state, None, tools))
        if tokens_before is None:
            tokens_before = compaction.estimate(self.act_prompt(state, None, tools), state, tools)
        start = time.perf_counter()
        summary = compaction.compact(self.chat_model, state, trigger, tokens_before)
        if summary is None:
            return None
        after = self._chars_with(summary, state, tools)
        if after >= before or self._estimate(after, before, tokens_before) > compaction.limit:
            # The summary did not make room (the kept turns are large, or the
            # model rambled): leave the older turns out instead. Compaction
            # never grows the prompt.
            dropped = compaction.drop_old_turns(state, trigger, tokens_before)
            dropped_chars = self._chars_with(dropped, state, tools) if dropped else after
            if dropped is not None and dropped_chars < after:
                summary, after = dropped, dropped_chars
        # The same yardstick as tokens_before (the model's own count, when it
        # gave one), scaled by how much the prompt's text shrank.
        summary["tokens_after"] = self._estimate(after, before, tokens_before)
        seconds = time.perf_counter() - start
        event = CompactionEvent(
            summarized=summary["upto"],
            kept=len(state.get("messages", [])) - summary["upto"],
            tokens_before=tokens_before,
            tokens_after=summary["tokens_after"],
            seconds=round(seconds, 3),
            summary=summary["summary"],
            trigger="manual" if trigger == "manual" else "auto",
        )
        try:
            get_stream_writer()(event)
        except RuntimeError:  # outside a run
            pass
        return summary

    def _chars_with(
        self, summary: SummaryNote, state: AgentState, tools: Sequence[BaseTool]
    ) -> int:
        """The act prompt's size in characters once ``summary`` is in place."""
        compacted: AgentState = {**state, "summaries": [*state.get("summaries", []), summary]}
        return prompt_chars(self.act_prompt(compacted, None, tools))

    @staticmethod
    def _estimate(chars: int, chars_before: int, tokens_before: int) -> int:
        return max(1, tokens_before * chars // chars_before) if chars_before else tokens_before

    def fit_result(self, outcome: CallOutcome, results: int) -> CallOutcome:
        """``outcome`` with an output the context can hold: a result larger
        than its share of the budget is cut, with a note, before it enters
        the transcript (the tool log and the ledger keep it whole)."""
        if self.compaction is None:
            return outcome
        budget = self.compaction.result_budget(results)
        if len(outcome.output) <= budget:
            return outcome
        limits = ToolLimits(max_chars=budget, max_lines=10**9)
        hint = f"the context holds {self.compaction.n_ctx} tokens: ask for a smaller part"
        return dataclasses.replace(outcome, output=cap_text(outcome.output, limits, hint=hint))

    def _edited(self, p: PendingCall, edit: Edit) -> tuple[PendingCall, Decision | None]:
        """``p`` with the edited arguments, evaluated again, and what that
        means: run (an approval), refuse (a deny verdict), or None: ask again."""
        tool = self.tools_by_name[p["tool"]]
        verdict = self.gate.evaluate(
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

    def _run(
        self,
        key: str,
        thread_id: str,
        p: PendingCall,
        args: dict[str, object],
        rerun: bool = False,
    ) -> tuple[CallOutcome, list[HookRecord]]:
        """Run one decided call once (``rerun``: again, a human said so):
        record the files it will change (for rewind) first, apply the
        ``after_tool`` hooks to its result."""
        tool = self.tools_by_name[p["tool"]]
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
        if recorded:  # after the after_tool hooks: a formatter's change is agentkit's too
            self.files.after_call(recorded)  # type: ignore[union-attr]
        if p.get("original_args"):
            note = f"[a hook or an edit changed the arguments to {json.dumps(args)[:300]}]\n"
            outcome = dataclasses.replace(outcome, output=note + outcome.output)
        return outcome, records


def current_mode() -> str:
    """The permission mode of the running invocation (``default`` outside one)."""
    return str(configurable().get(MODE_KEY) or DEFAULT_MODE)


def configurable_metadata() -> dict[str, object]:
    """The running node's config metadata (``langgraph_step``, ...; {} outside a run)."""
    try:
        return dict(get_config().get("metadata", {}))
    except RuntimeError:
        return {}
