"""The conversation: Markdown messages, streamed tokens, tool-call cards."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AnyMessage
from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets._markdown import MarkdownStream

from agentkit.events import (
    AgentEvent,
    ApprovalNeeded,
    CompactionEvent,
    ErrorEvent,
    FinalEvent,
    HookEvent,
    PlanEvent,
    TokenEvent,
    ToolCallProposed,
    ToolResultEvent,
)
from agentkit.tui.views import transcript_from_messages

STATUS_ICONS: dict[str, str] = {
    "running": "▸",
    "awaiting approval": "?",
    "ok": "✓",
    "error": "✗",
    "rejected": "⊘",
    "responded": "↩",
    "denied": "⊘",
}


def format_args(args: dict[str, Any]) -> str:
    return json.dumps(args, indent=2, ensure_ascii=False, default=str)


class UserMessage(Markdown):
    """What the human typed."""


class AgentMessage(Markdown):
    """An agent reply; tokens are appended through a MarkdownStream."""

    def __init__(self, markdown: str = "", **kwargs: Any) -> None:
        super().__init__(markdown, **kwargs)
        self.text = markdown
        self._stream: MarkdownStream | None = None

    async def append_token(self, token: str) -> None:
        self.text += token
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(token)

    async def finish(self, final_text: str | None = None) -> None:
        """Flush the stream; replace the text when the final answer differs
        from what was streamed (e.g. the model streamed a tool call's JSON)."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if final_text is not None and final_text.strip() != self.text.strip():
            self.text = final_text
            await self.update(final_text)


class ErrorMessage(Static):
    """An error shown inline in the conversation."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(Text("⚠ " + message), **kwargs)
        self.message = message


class NoticeMessage(Static):
    """A dim one-line note: cancelled, waiting for approval, thread opened."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(Text(message), **kwargs)
        self.message = message


class ThinkingLine(Static):
    """Shown while the model works without visible output (planning, a
    silent tool-call generation, a tool running): what and for how long."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.activity = "thinking"
        self.started = time.monotonic()

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(1.0, self.tick)

    def set_activity(self, activity: str) -> None:
        if activity != self.activity:
            self.activity = activity
            self.started = time.monotonic()
        self.tick()

    def tick(self) -> None:
        seconds = int(time.monotonic() - self.started)
        self.update(Text(f"⋯ {self.activity} ({seconds}s) · Esc to cancel"))


class ToolCallCard(Collapsible):
    """A tool call: tool, arguments, result, duration, status."""

    def __init__(self, call_id: str, tool: str, args: dict[str, Any], status: str) -> None:
        self.call_id = call_id
        self.tool = tool
        self.args = args
        self.status = status
        self.duration_s: float | None = None
        self.output = ""
        self.hooks: list[str] = []  # what hooks said about this call ("no-locks: deny")
        self._args_view = Static(Text(format_args(args)), classes="tool-args")
        self._result_view = Static("", classes="tool-result")
        super().__init__(
            Vertical(
                Static("arguments", classes="tool-label"),
                self._args_view,
                Static("result", classes="tool-label"),
                self._result_view,
                classes="tool-body",
            ),
            title=self._make_title(),
            collapsed=True,
            classes=f"tool-card -{self._status_class()}",
        )

    @classmethod
    def from_event(cls, event: ToolCallProposed) -> ToolCallCard:
        status = {"allow": "running", "ask": "awaiting approval", "deny": "denied"}[event.policy]
        return cls(event.call_id, event.tool, event.args, status)

    def _status_class(self) -> str:
        return self.status.replace(" ", "-")

    def _make_title(self) -> str:
        icon = STATUS_ICONS.get(self.status, "•")
        duration = f" · {self.duration_s:.2f}s" if self.duration_s is not None else ""
        hooks = "".join(f" · hook {h}" for h in self.hooks)
        return f"{icon} {self.tool} · {self.status}{duration}{hooks}"

    def add_hook(self, event: HookEvent) -> None:
        """A hook's outcome, in the card's title (a pass says nothing)."""
        if event.outcome == "pass":
            return
        self.hooks.append(f"{event.hook}: {event.outcome}")
        self._show_title()

    def set_status(self, status: str) -> None:
        self.remove_class(f"-{self._status_class()}")
        self.status = status
        self.add_class(f"-{self._status_class()}")
        self._show_title()

    def _show_title(self) -> None:
        # A result can arrive before the card is mounted, when reactive
        # watchers do not run yet: set the label itself as well.
        self.title = self._make_title()
        self._title.label = self.title
        # The title is auto-width: a longer label needs a new layout, or it
        # is clipped to the old width.
        self._title.refresh(layout=True)

    def on_mount(self) -> None:
        self._show_title()

    def set_args(self, args: dict[str, Any]) -> None:
        self.args = args
        self._args_view.update(Text(format_args(args)))

    def apply_result(self, event: ToolResultEvent) -> None:
        self.output = event.output
        self.duration_s = event.duration_s
        self._result_view.update(Text(event.output or "(no output)"))
        self.set_status(event.status)
        if event.status == "error":
            self.collapsed = False


class Conversation(VerticalScroll):
    """Scrolling list of messages; follows the bottom while streaming."""

    can_focus = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current_reply: AgentMessage | None = None
        self.cards: dict[str, ToolCallCard] = {}
        self.early_hooks: dict[str, list[HookEvent]] = {}  # before_tool: before the card
        self.thinking: ThinkingLine | None = None

    async def add(self, widget: Any) -> None:
        if self.thinking is not None and self.thinking.is_mounted:
            await self.mount(widget, before=self.thinking)
        else:
            await self.mount(widget)
        self.scroll_end(animate=False)

    async def show_thinking(self, activity: str) -> None:
        if self.thinking is None:
            self.thinking = ThinkingLine(classes="message notice thinking")
            await self.mount(self.thinking)
        self.thinking.set_activity(activity)
        self.scroll_end(animate=False)

    async def hide_thinking(self) -> None:
        thinking, self.thinking = self.thinking, None
        if thinking is not None:
            await thinking.remove()

    async def show_event(self, event: AgentEvent) -> None:
        """What an agent event shows in the conversation (the panels show the rest)."""
        if isinstance(event, TokenEvent):
            if event.node == "plan":
                await self.show_thinking("planning")
            else:
                await self.stream_token(event.text)
        elif isinstance(event, PlanEvent):
            await self.show_thinking("thinking")
        elif isinstance(event, ToolCallProposed):
            await self.add_tool_call(event)
            if event.policy == "allow":
                await self.show_thinking(f"running {event.tool}")
        elif isinstance(event, ToolResultEvent):
            self.tool_result(event)
            await self.show_thinking("thinking")
        elif isinstance(event, ApprovalNeeded):
            await self.end_reply()
        elif isinstance(event, FinalEvent):
            await self.end_reply(event.answer)
        elif isinstance(event, ErrorEvent):
            await self.add_error(event.message)
        elif isinstance(event, HookEvent):
            await self.show_hook(event)
        elif isinstance(event, CompactionEvent):
            await self.add_notice(
                f"⇊ compacted {event.summarized} older message(s) into a summary "
                f"(~{event.tokens_before:,} → ~{event.tokens_after:,} tokens, "
                f"{event.seconds:.1f}s; the full history is kept)"
            )

    async def show_hook(self, event: HookEvent) -> None:
        """On the call's card when there is one; a notice for the rest (a
        deny before the card exists, a failing notification)."""
        if event.outcome == "pass":
            return
        card = self.cards.get(event.call_id)
        if card is not None:
            card.add_hook(event)
        elif event.call_id:  # a before_tool hook runs before the call is proposed
            self.early_hooks.setdefault(event.call_id, []).append(event)
        if event.outcome in ("deny", "error") or not event.call_id:
            why = f": {event.reason}" if event.reason else ""
            target = f" {event.tool}" if event.tool else ""
            await self.add_notice(
                f"hook {event.hook} ({event.stage}{target}) → {event.outcome}{why}"
            )

    async def add_user(self, text: str) -> None:
        await self.end_reply()
        await self.add(UserMessage(text, classes="message user"))

    async def add_agent(self, text: str) -> AgentMessage:
        await self.end_reply()
        message = AgentMessage(text, classes="message agent")
        await self.add(message)
        return message

    async def stream_token(self, token: str) -> None:
        if self.current_reply is None:
            self.current_reply = AgentMessage("", classes="message agent")
            await self.add(self.current_reply)
        await self.current_reply.append_token(token)
        self.scroll_end(animate=False)

    async def end_reply(self, final_text: str | None = None) -> None:
        """Close the streaming reply (if any); with ``final_text`` make sure
        the answer is shown even when nothing was streamed."""
        if final_text is not None:
            await self.drop_json_reply()
        reply, self.current_reply = self.current_reply, None
        if reply is not None:
            await reply.finish(final_text)
        elif final_text:
            await self.add(AgentMessage(final_text, classes="message agent"))
        self.scroll_end(animate=False)

    async def add_tool_call(self, event: ToolCallProposed) -> ToolCallCard:
        await self.drop_json_reply()
        await self.end_reply()
        card = self.cards.get(event.call_id)
        if card is None:
            card = ToolCallCard.from_event(event)
            self.cards[event.call_id] = card
            for hook in self.early_hooks.pop(event.call_id, []):
                card.add_hook(hook)
            await self.add(card)
        return card

    async def add_past_call(self, call_id: str, tool: str, args: dict[str, Any]) -> None:
        """A call replayed from a saved thread (its result may follow)."""
        card = ToolCallCard(call_id, tool, args, "awaiting approval")
        self.cards[call_id] = card
        await self.add(card)

    async def replay(self, messages: Sequence[AnyMessage]) -> None:
        """Show the saved conversation of a reopened thread."""
        for entry in transcript_from_messages(messages):
            if entry.role == "user":
                await self.add_user(entry.text)
            elif entry.role == "agent":
                await self.add_agent(entry.text)
            elif entry.role == "call":
                await self.add_past_call(entry.call_id, entry.tool, entry.args or {})
            elif entry.role == "result":
                self.past_result(entry.call_id, entry.text, entry.status)

    def past_result(self, call_id: str, output: str, status: str) -> None:
        card = self.cards.get(call_id)
        if card is not None:
            card.output = output
            card._result_view.update(Text(output or "(no output)"))
            card.set_status("error" if status == "error" else "ok")

    async def drop_json_reply(self) -> None:
        """A reply that was only the streamed JSON of a tool call is shown as
        the call's card instead."""
        reply = self.current_reply
        if reply is not None and reply.text.lstrip()[:1] in ("{", "["):
            self.current_reply = None
            await reply.finish()
            await reply.remove()

    def tool_result(self, event: ToolResultEvent) -> None:
        card = self.cards.get(event.call_id)
        if card is not None:
            card.apply_result(event)

    async def add_error(self, message: str) -> None:
        await self.end_reply()
        await self.add(ErrorMessage(message, classes="message error"))

    async def add_notice(self, message: str) -> None:
        await self.add(NoticeMessage(message, classes="message notice"))

    async def clear(self) -> None:
        self.current_reply = None
        self.thinking = None
        self.cards.clear()
        self.early_hooks.clear()
        await self.remove_children()
