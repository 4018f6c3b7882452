"""The approval modal: decide pending tool calls one by one or all at once.

Dismisses with the list of typed :data:`Decision` objects (one per request, in
request order), or ``None`` when the human chose to decide later: the thread
then stays paused and the prompt comes back when it is reopened.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from agentkit.events import (
    AlwaysScope,
    ApprovalRequest,
    Approve,
    Decision,
    Edit,
    Reject,
    Respond,
)
from agentkit.tui.screens.dialogs import ChoiceScreen, EditArgsScreen, TextPromptScreen

DANGER_STYLES: dict[str, str] = {
    "safe": "bold green",
    "unknown": "bold yellow",
    "dangerous": "bold red",
    "destructive": "bold reverse red",
}
PREVIEW_LEXERS: dict[str, str] = {"diff": "diff", "command": "bash", "http": "http"}


def danger_of(request: ApprovalRequest) -> str:
    if request.danger:
        return request.danger
    if request.preview and request.preview.get("danger"):
        return str(request.preview["danger"])
    return "unknown"


def render_header(request: ApprovalRequest) -> Text:
    text = Text()
    text.append(request.tool, style="bold")
    effects = ", ".join(request.side_effects) or "none"
    text.append(f"  side effects: {effects}  ")
    danger = danger_of(request)
    text.append(f" {danger} ", style=DANGER_STYLES.get(danger, "bold"))
    summary = (request.preview or {}).get("summary")
    if summary:
        text.append(f"\n{summary}")
    where = request.shown_location()  # outside the current directory: say where
    if where:
        text.append("\nin ")
        text.append(where, style="bold yellow")
    if request.reason:
        decided = [f"mode {request.mode}"] if request.mode else []
        if request.rule_id:
            decided.append(f"rule {request.rule_id}")
        extra = f" ({', '.join(decided)})" if decided else ""
        text.append(f"\nwhy asked: {request.reason}{extra}", style="dim")
    for note in request.notes:  # e.g. what rewind cannot undo
        text.append(f"\nnote: {note}", style="yellow")
    return text


def always_choices(request: ApprovalRequest) -> list[tuple[str, str]]:
    """Every scope "always allow" can take, spelled out before the pick:
    (thread or project) × (the exact call, then each wider pattern). The
    value is ``scope`` or ``scope<TAB>pattern``."""
    options = request.always_options or []
    if not options:
        return [("thread", "…in this thread"), ("project", "…in this project (saved to policy)")]
    choices = []
    for index, option in enumerate(options):
        suffix = "" if index == 0 else f"\t{option['pattern']}"
        choices.append((f"thread{suffix}", f"…in this thread: {option['label']}"))
        choices.append((f"project{suffix}", f"…in this project (saved): {option['label']}"))
    return choices


def render_preview(request: ApprovalRequest) -> RenderableType:
    preview = request.preview or {}
    body = preview.get("body", "")
    parts: list[RenderableType] = []
    if preview.get("cwd"):
        parts.append(Text(f"in {preview['cwd']}", style="dim"))
    if body:
        lexer = PREVIEW_LEXERS.get(preview.get("kind", "text"), "text")
        parts.append(Syntax(body, lexer, word_wrap=True, background_color="default"))
    parts.append(Text("arguments", style="bold dim"))
    parts.append(
        Syntax(
            json.dumps(request.args, indent=2, ensure_ascii=False, default=str),
            "json",
            word_wrap=True,
            background_color="default",
        )
    )
    return Group(*parts)


def describe(decision: Decision) -> str:
    match decision:
        case Approve(always=None):
            return "approve"
        case Approve(always=scope):
            return f"always allow ({scope})"
        case Edit():
            return "edit"
        case Reject():
            return "reject"
        case Respond():
            return "respond"
    return "?"


class ApprovalScreen(ModalScreen[list[Decision] | None]):
    """Shows one pending call at a time: tool, side effects, danger, preview."""

    BINDINGS = [
        Binding("y", "approve", "Approve"),
        Binding("e", "edit", "Edit"),
        Binding("r", "reject", "Reject"),
        Binding("o", "respond", "Respond"),
        Binding("a", "always", "Always…"),
        Binding("Y", "approve_all", "Approve all", key_display="Y"),
        Binding("R", "reject_all", "Reject all", key_display="R"),
        Binding("left", "move(-1)", "Prev", show=False),
        Binding("right", "move(1)", "Next", show=False),
        Binding("escape", "later", "Later"),
    ]

    def __init__(self, requests: list[ApprovalRequest]) -> None:
        super().__init__(classes="dialog-screen")
        if not requests:
            raise ValueError("ApprovalScreen needs at least one request")
        self.requests = list(requests)
        self.decisions: dict[str, Decision] = {}
        self.index = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="approval", classes="dialog approval-dialog"):
            yield Label("", id="approval-title", classes="dialog-title")
            yield Static("", id="approval-header")
            with VerticalScroll(id="approval-preview"):
                yield Static("", id="approval-preview-body")
            yield Static("", id="approval-progress", classes="dialog-hint")
            yield Static(
                "y approve · e edit · r reject · o respond · a always allow · Esc later",
                classes="dialog-keys",
            )
        yield Footer()

    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def on_mount(self) -> None:
        self.refresh_request()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "all at once" and paging only mean something with several calls.
        if action in ("approve_all", "reject_all", "move") and len(self.requests) < 2:
            return False
        return True

    @property
    def current(self) -> ApprovalRequest:
        return self.requests[self.index]

    def refresh_request(self) -> None:
        request = self.current
        total = len(self.requests)
        self.query_one("#approval-title", Label).update(
            f"Approve tool call {self.index + 1}/{total}?"
        )
        self.query_one("#approval-header", Static).update(render_header(request))
        self.query_one("#approval-preview-body", Static).update(render_preview(request))
        self.query_one("#approval-preview", VerticalScroll).scroll_home(animate=False)
        self.query_one("#approval").border_subtitle = f"{danger_of(request)}"
        self.query_one("#approval").set_class(
            danger_of(request) in ("dangerous", "destructive"), "-dangerous"
        )
        progress = Text()
        for number, item in enumerate(self.requests, start=1):
            decided = self.decisions.get(item.call_id)
            mark = describe(decided) if decided else "pending"
            style = "bold" if number - 1 == self.index else "dim"
            progress.append(f"{number}. {item.tool}: {mark}   ", style=style)
        progress_line = self.query_one("#approval-progress", Static)
        progress_line.update(progress)
        progress_line.display = total > 1

    # --- deciding -----------------------------------------------------------

    def decide(self, decision: Decision) -> None:
        self.decisions[decision.call_id] = decision
        undecided = [i for i, r in enumerate(self.requests) if r.call_id not in self.decisions]
        if not undecided:
            self.dismiss([self.decisions[r.call_id] for r in self.requests])
            return
        later = [i for i in undecided if i > self.index]
        self.index = later[0] if later else undecided[0]
        self.refresh_request()

    def action_approve(self) -> None:
        self.decide(Approve(call_id=self.current.call_id))

    def action_edit(self) -> None:
        request = self.current
        self.app.push_screen(
            EditArgsScreen(request.tool, request.args, request.args_schema),
            partial(self._edited, request.call_id),
        )

    def _edited(self, call_id: str, args: dict[str, Any] | None) -> None:
        if args is not None:
            self.decide(Edit(call_id=call_id, args=args))

    def action_reject(self) -> None:
        call_id = self.current.call_id
        self.app.push_screen(
            TextPromptScreen(
                f"Reject {self.current.tool}: feedback for the agent",
                placeholder="why not, and what to do instead (optional)",
            ),
            lambda feedback: (
                self.decide(Reject(call_id=call_id, feedback=feedback))
                if feedback is not None
                else None
            ),
        )

    def action_respond(self) -> None:
        call_id = self.current.call_id
        self.app.push_screen(
            TextPromptScreen(
                f"Respond in place of {self.current.tool}",
                placeholder="the result the agent will see",
            ),
            lambda result: (
                self.decide(Respond(call_id=call_id, result=result)) if result is not None else None
            ),
        )

    def action_always(self) -> None:
        call_id = self.current.call_id
        tool = self.current.tool

        def chosen(value: str | None) -> None:
            scope, _, pattern = (value or "").partition("\t")
            if scope in ("thread", "project"):
                always: AlwaysScope = "thread" if scope == "thread" else "project"
                self.decide(Approve(call_id=call_id, always=always, always_pattern=pattern or None))

        self.app.push_screen(
            ChoiceScreen(f"Always allow {tool} without asking…", always_choices(self.current)),
            chosen,
        )

    def action_approve_all(self) -> None:
        for request in self.requests:
            self.decisions.setdefault(request.call_id, Approve(call_id=request.call_id))
        self.dismiss([self.decisions[r.call_id] for r in self.requests])

    def action_reject_all(self) -> None:
        def rejected(feedback: str | None) -> None:
            if feedback is None:
                return
            for request in self.requests:
                self.decisions.setdefault(
                    request.call_id, Reject(call_id=request.call_id, feedback=feedback)
                )
            self.dismiss([self.decisions[r.call_id] for r in self.requests])

        self.app.push_screen(
            TextPromptScreen("Reject all remaining calls: feedback", placeholder="optional"),
            rejected,
        )

    def action_move(self, step: int) -> None:
        self.index = (self.index + step) % len(self.requests)
        self.refresh_request()

    def action_later(self) -> None:
        self.dismiss(None)
