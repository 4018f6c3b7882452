"""Context compaction: a long thread never ends with "context window exceeded".

Before each act step the prompt's size is estimated. When it would pass
``threshold × n_ctx``, the older turns are summarised by the model and the
act prompt continues on the summary:

- kept verbatim: the task and the human's decisions (rejections with their
  feedback, denials) in the summary block, the plan as it stood (a plan note
  at the start of what follows), open tool calls (the cut never separates a
  call from its result) and the last ``keep_last`` messages;
- the transcript itself keeps every message: a :class:`~.state.SummaryNote`
  only says that the model is shown ``summary`` instead of the messages
  before ``upto``. Checkpoints, time travel and the audit export still see
  everything;
- prefix reuse keeps working: the summary sits at the end of the system text
  and what follows is the transcript after ``upto``, so between compactions
  the prompt still only grows at its end, and the compacted prompt is the new
  stable prefix.

The size estimate is model-agnostic: the previous act prompt's token count as
the model reported it, plus the characters added since at a conservative
``chars_per_token`` (and, before any measurement, the whole prompt and the
tool schemas at that rate).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool
from langgraph.config import get_stream_writer

from agentkit.errors import AgentkitError
from agentkit.events import CompactionEvent
from agentkit.graphs import prompts as P
from agentkit.graphs.state import AgentState, PlanNote, SummaryNote
from agentkit.graphs.support import reply_text
from agentkit.tools.limits import ToolLimits, cap_text

SUMMARY_INSTRUCTIONS = (
    "Summarise the conversation below for the assistant that continues it. "
    "Keep what was found (files, values, results), what was changed, what the user "
    "decided and what remains to do. At most 8 short lines."
)
SUMMARY_HEADER = "Summary of the earlier conversation ({n} messages; the full history is kept):"
MESSAGE_CHARS = 300  # of each message, in the summariser's input
SUMMARY_MAX_CHARS = 1500


@dataclass
class Compaction:
    """When and how to compact. ``threshold`` 0 turns automatic compaction
    off (:meth:`compact` by hand still works)."""

    n_ctx: int = 8192
    threshold: float = 0.75
    keep_last: int = 6
    summary_tokens: int = 200
    chars_per_token: float = 3.0  # English is ~4 per token; lower = earlier, safer
    message_overhead: int = 8  # template tokens around each message

    @property
    def limit(self) -> int:
        return int(self.n_ctx * self.threshold)

    # --- the view the act prompt is built from ---------------------------------------
    @staticmethod
    def latest(state: AgentState) -> SummaryNote | None:
        summaries = state.get("summaries") or []
        return summaries[-1] if summaries else None

    @classmethod
    def window(cls, state: AgentState) -> AgentState:
        """``state`` as the model sees it: the messages after the latest
        summary, the plan notes shifted to them (the plan as it stood at the
        cut first)."""
        note = cls.latest(state)
        if note is None:
            return state
        upto = note["upto"]
        notes = state.get("plan_notes", [])
        before = [n for n in notes if n["after"] <= upto]
        shifted = [PlanNote(after=0, text=before[-1]["text"])] if before else []
        shifted += [
            PlanNote(after=n["after"] - upto, text=n["text"]) for n in notes if n["after"] > upto
        ]
        return {**state, "messages": list(state.get("messages", []))[upto:], "plan_notes": shifted}

    @classmethod
    def shift(cls, note: PlanNote | None, state: AgentState) -> PlanNote | None:
        latest = cls.latest(state)
        if note is None or latest is None:
            return note
        return PlanNote(after=max(0, note["after"] - latest["upto"]), text=note["text"])

    @classmethod
    def system_block(cls, state: AgentState) -> str:
        note = cls.latest(state)
        return note["summary"] if note else ""

    # --- sizes ------------------------------------------------------------------------
    def estimate(
        self, prompt: Sequence[AnyMessage], state: AgentState, tools: Sequence[BaseTool] = ()
    ) -> int:
        """Estimated tokens of ``prompt`` (tool instructions included)."""
        chars = prompt_chars(prompt)
        measured, measured_chars = state.get("prompt_tokens", 0), state.get("prompt_chars", 0)
        if measured and 0 < measured_chars <= chars:
            return measured + int((chars - measured_chars) / self.chars_per_token)
        overhead = sum(len(t.name) + len(t.description or "") + len(_schema(t)) for t in tools)
        return int((chars + overhead) / self.chars_per_token) + self.message_overhead * len(prompt)

    def due(self, tokens: int) -> bool:
        return self.threshold > 0 and tokens > self.limit

    def result_budget(self, results: int = 1) -> int:
        """Characters one of a step's ``results`` tool results may bring into
        the transcript: together they fit in half the compaction budget, so
        compaction can always bring the prompt back under it (a result is
        never summarised away while its call is the last turn)."""
        budget = self.limit if self.threshold > 0 else self.n_ctx
        return max(1000, int(budget / 2 * self.chars_per_token / max(1, results)))

    # --- compacting ---------------------------------------------------------------------
    def cut(self, messages: Sequence[AnyMessage], start: int) -> int:
        """Where the kept messages begin: about ``keep_last`` from the end, on
        a message that starts a turn (never between a call and its result),
        and leaving the kept part at most half the budget when it can."""
        budget = self.limit // 2
        cut = max(start, len(messages) - self.keep_last)
        while cut > start and not _starts_turn(messages[cut]):
            cut -= 1
        while cut < len(messages) - 1 and self._tokens(messages[cut:]) > budget:
            following = next(
                (i for i in range(cut + 1, len(messages)) if _starts_turn(messages[i])), None
            )
            if following is None:
                break
            cut = following
        return cut

    def _tokens(self, messages: Sequence[AnyMessage]) -> int:
        return int(prompt_chars(messages) / self.chars_per_token) + self.message_overhead * len(
            messages
        )

    def compact(
        self,
        model: BaseChatModel,
        state: AgentState,
        trigger: str = "auto",
        tokens_before: int = 0,
    ) -> SummaryNote | None:
        """A new summary of everything before the cut (None when there is
        nothing older than the last ``keep_last`` messages to summarise)."""
        messages = list(state.get("messages", []))
        previous = self.latest(state)
        start = previous["upto"] if previous else 0
        upto = self.cut(messages, start)
        if upto <= start:
            return None
        older = messages[start:upto]
        text = self.summarise(model, previous["summary"] if previous else "", older)
        decisions = _decisions(messages[:upto])
        block = [SUMMARY_HEADER.format(n=upto)]
        task = state.get("task", "")
        if task:
            block.append(f"Task: {task}")
        if decisions:
            block.append("The user's decisions:")
            block += [f"- {d}" for d in decisions[-10:]]
        block.append(f"Tools used so far: {_tool_counts(messages[:upto])}")
        block.append(text)
        return SummaryNote(
            upto=upto,
            summary="\n".join(block),
            at=time.time(),
            tokens_before=tokens_before,
            tokens_after=0,
            trigger=trigger,
        )

    def summarise_state(
        self,
        model: BaseChatModel,
        state: AgentState,
        prompt_for: Callable[[AgentState], list[AnyMessage]],
        trigger: str = "manual",
        tokens_before: int | None = None,
        tools: Sequence[BaseTool] = (),
    ) -> SummaryNote | None:
        """:meth:`compact` ``state`` and measure the act prompt before
        (``prompt_for(state)``) and after; emits a
        :class:`~agentkit.events.CompactionEvent` inside a run. The prompt
        never grows: a summary that makes no room is replaced by leaving the
        older turns out (:meth:`drop_old_turns`)."""
        prompt = prompt_for(state)
        before = prompt_chars(prompt)
        if tokens_before is None:
            tokens_before = self.estimate(prompt, state, tools)
        start = time.perf_counter()
        summary = self.compact(model, state, trigger, tokens_before)
        if summary is None:
            return None

        def chars_with(note: SummaryNote) -> int:
            return prompt_chars(
                prompt_for({**state, "summaries": [*state.get("summaries", []), note]})
            )

        def tokens_at(chars: int) -> int:
            # The same yardstick as tokens_before (the model's own count,
            # when it gave one), scaled by how much the prompt's text shrank.
            return max(1, tokens_before * chars // before) if before else tokens_before

        after = chars_with(summary)
        if after >= before or tokens_at(after) > self.limit:
            # The summary did not make room (the kept turns are large, or the
            # model rambled): leave the older turns out instead.
            dropped = self.drop_old_turns(state, trigger, tokens_before)
            dropped_chars = chars_with(dropped) if dropped is not None else after
            if dropped is not None and dropped_chars < after:
                summary, after = dropped, dropped_chars
        summary["tokens_after"] = tokens_at(after)
        event = CompactionEvent(
            summarized=summary["upto"],
            kept=len(state.get("messages", [])) - summary["upto"],
            tokens_before=tokens_before,
            tokens_after=summary["tokens_after"],
            seconds=round(time.perf_counter() - start, 3),
            summary=summary["summary"],
            trigger="manual" if trigger == "manual" else "auto",
        )
        try:
            get_stream_writer()(event)
        except RuntimeError:  # outside a run
            pass
        return summary

    def fit_output(self, output: str, results: int = 1) -> str:
        """``output`` cut, with a note, to what one of a step's ``results``
        tool results may bring into the transcript (:meth:`result_budget`);
        the tool log and the ledger keep it whole."""
        budget = self.result_budget(results)
        if len(output) <= budget:
            return output
        limits = ToolLimits(max_chars=budget, max_lines=10**9)
        hint = f"the context holds {self.n_ctx} tokens: ask for a smaller part"
        return cap_text(output, limits, hint=hint)

    def drop_old_turns(
        self, state: AgentState, trigger: str = "auto", tokens_before: int = 0
    ) -> SummaryNote | None:
        """Without the model: leave out every turn before the last one, keeping
        the task and the human's decisions. For when a summary would not make
        the prompt smaller (it must never grow, nor pass the context size)."""
        messages = list(state.get("messages", []))
        previous = self.latest(state)
        start = previous["upto"] if previous else 0
        upto = next(
            (i for i in range(len(messages) - 1, start, -1) if _starts_turn(messages[i])), start
        )
        if upto <= start:
            return None
        block = [SUMMARY_HEADER.format(n=upto)]
        task = state.get("task", "")
        if task:
            block.append(f"Task: {task[:SUMMARY_MAX_CHARS]}")
        decisions = _decisions(messages[:upto])
        if decisions:
            block.append("The user's decisions:")
            block += [f"- {d}" for d in decisions[-5:]]
        block.append(f"Tools used so far: {_tool_counts(messages[:upto])}")
        block.append(f"({upto} earlier messages were left out to fit the context.)")
        return SummaryNote(
            upto=upto,
            summary="\n".join(block),
            at=time.time(),
            tokens_before=tokens_before,
            tokens_after=0,
            trigger=trigger,
        )

    def summarise(self, model: BaseChatModel, previous: str, older: Sequence[AnyMessage]) -> str:
        """The model's summary of ``previous`` and ``older`` (a plain list of
        what happened when the model gives nothing usable)."""
        budget = max(2000, int((self.limit - self.summary_tokens - 300) * self.chars_per_token))
        lines = [render(m) for m in older]
        body = "\n".join(lines)
        if len(body) > budget:  # the start (the task) and the most recent turns matter most
            head, tail = body[: budget // 3], body[-(2 * budget) // 3 :]
            body = f"{head}\n[... earlier turns left out ...]\n{tail}"
        earlier = f"Earlier summary:\n{previous}\n\n" if previous else ""
        prompt = [
            SystemMessage(SUMMARY_INSTRUCTIONS),
            HumanMessage(f"{earlier}Conversation:\n{body}\n\nWrite the summary now."),
        ]
        try:
            reply = model.invoke(prompt, max_tokens=self.summary_tokens)
            text = reply_text(reply) if isinstance(reply, AIMessage) else str(reply)
        except (AgentkitError, ValueError, TypeError, IndexError):
            text = ""
        text = text.strip()
        if _echoes(text, prompt):  # small models may copy their input: no summary at all
            text = ""
        if not text:
            text = (
                f"(no model summary) The last of the summarised turns: {lines[-1] if lines else ''}"
            )
        return "Summary: " + text[:SUMMARY_MAX_CHARS]


def _echoes(text: str, prompt: Sequence[AnyMessage]) -> bool:
    """True when most of ``text``'s lines are copied from ``prompt`` (what a
    small model does instead of summarising; the bundled 270M one does)."""
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) > 20]
    if not lines:
        return False
    source = "\n".join(str(m.content) for m in prompt)
    copied = sum(1 for line in lines if line in source)
    return copied * 2 > len(lines)


def prompt_chars(messages: Sequence[AnyMessage]) -> int:
    total = 0
    for message in messages:
        content = message.content
        total += len(content) if isinstance(content, str) else len(json.dumps(content, default=str))
        if isinstance(message, AIMessage) and message.tool_calls:
            total += sum(len(c["name"]) + len(json.dumps(c["args"])) for c in message.tool_calls)
    return total


def render(message: AnyMessage) -> str:
    """One message as a line of the summariser's input."""
    text = message.content if isinstance(message.content, str) else str(message.content)
    text = " ".join(text.split())[:MESSAGE_CHARS]
    if isinstance(message, HumanMessage):
        return f"User: {text}"
    if isinstance(message, AIMessage):
        calls = "; ".join(
            f"{c['name']}({json.dumps(c['args'], ensure_ascii=False)[:MESSAGE_CHARS]})"
            for c in message.tool_calls
        )
        return "Assistant: " + " ".join(p for p in (text, f"called {calls}" if calls else "") if p)
    if isinstance(message, ToolMessage):
        return f"Result of {message.name}: {text}"
    return f"Note: {text}"


def _starts_turn(message: AnyMessage) -> bool:
    return isinstance(message, HumanMessage | AIMessage)


def _schema(tool: BaseTool) -> str:
    try:
        schema = tool.tool_call_schema
        return json.dumps(schema.model_json_schema() if isinstance(schema, type) else schema)
    except Exception:  # noqa: BLE001 - an estimate
        return ""


def _decisions(messages: Sequence[AnyMessage]) -> list[str]:
    """The human's and the policy's refusals, with the call they refused."""
    calls = {
        c["id"]: f"{c['name']}({json.dumps(c['args'], ensure_ascii=False)[:120]})"
        for m in messages
        if isinstance(m, AIMessage)
        for c in m.tool_calls
    }
    out: list[str] = []
    rejected, denied = P.REJECTED_NOTE.split("{")[0], P.DENIED_NOTE.split("(")[0]
    for message in messages:
        if not isinstance(message, ToolMessage) or not isinstance(message.content, str):
            continue
        call = calls.get(message.tool_call_id, message.name or "a call")
        if message.content.startswith(rejected):
            out.append(f"rejected {call}: {message.content[:200]}")
        elif message.content.startswith(denied):
            out.append(f"not allowed {call}: {message.content[:200]}")
    return out


def _tool_counts(messages: Sequence[AnyMessage]) -> str:
    counts: dict[str, int] = {}
    for message in messages:
        if isinstance(message, AIMessage):
            for c in message.tool_calls:
                if c["name"] != P.FINAL_ANSWER_TOOL:
                    counts[c["name"]] = counts.get(c["name"], 0) + 1
    return ", ".join(f"{name} ×{n}" for name, n in counts.items()) or "none"
