"""`agentkit chat`: the Textual front end over the public Agent API.

The app never reimplements the loop. It sends a task with ``agent.astream``,
renders the typed events as they arrive, and answers approvals with typed
decisions through ``agent.astream_resume``. The stream runs in a Textual worker
so the interface stays responsive; Escape cancels the worker, which cancels
the agent's asyncio task and leaves the checkpointed thread resumable.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from agentkit.config import Settings
from agentkit.errors import AgentkitError
from agentkit.events import (
    AgentEvent,
    ApprovalNeeded,
    ApprovalRequest,
    ContextEvent,
    Decision,
    Edit,
    ErrorEvent,
    FinalEvent,
    PlanEvent,
    TokenEvent,
)
from agentkit.threads import WorkspaceMissingError, new_thread_id
from agentkit.tui.control import ControlActions
from agentkit.tui.screens.approval import ApprovalScreen, describe
from agentkit.tui.screens.dialogs import RevokeRuleScreen
from agentkit.tui.screens.help import HelpScreen
from agentkit.tui.terminal import TERMINAL_GONE, stdin_is_terminal
from agentkit.tui.thread_actions import ThreadActions
from agentkit.tui.views import error_text, model_context
from agentkit.tui.widgets.conversation import Conversation
from agentkit.tui.widgets.panels import ContextPanel, PlanPanel
from agentkit.tui.widgets.status import StatusBar
from agentkit.tui.widgets.threads import ThreadList

if TYPE_CHECKING:
    from agentkit.agent import Agent


# Command palette entries: ``action_<name>`` -> title, help.
PALETTE: dict[str, tuple[str, str]] = {
    "show_approvals": ("Decide pending approvals", "Open the approval prompt"),
    "cancel": ("Cancel generation", "Stop the model (Escape)"),
    "resume": ("Resume interrupted run", "Continue a cancelled run from its last checkpoint"),
    "help": ("Help: keys", "Every key of every screen"),
    "toggle_threads": ("Toggle threads sidebar", "Show or hide threads"),
    "toggle_side": ("Toggle plan and context", "Show or hide the side panels"),
    "revoke_rule": ("Revoke an always-allow rule", "Ask again before a tool runs"),
    "cycle_mode": ("Cycle permission mode", "default → accept-edits → plan → dont-ask (F2)"),
    "compact": ("Compact the conversation", "Summarise older turns now (/compact)"),
    "rewind": ("Rewind the thread", "Undo file changes / fork the conversation (/rewind)"),
    "approve_plan": ("Approve the plan", "Carry out a plan-mode run's plan (/approve-plan)"),
    "move_thread": (
        "Move thread to another workspace",
        "Continue this thread in another directory (recorded in the thread)",
    ),
}


class AgentkitApp(ThreadActions, ControlActions, App[None]):
    """Chat with an agent; approve its tool calls; manage threads."""

    CSS_PATH = "app.tcss"
    TITLE = "agentkit"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+n", "new_thread", "New thread"),
        Binding("ctrl+t", "focus_threads", "Threads"),
        Binding("ctrl+y", "show_approvals", "Approvals"),
        Binding("f2", "cycle_mode", "Mode"),
        Binding("ctrl+b", "toggle_threads", "Sidebar", show=False),
        Binding("ctrl+g", "toggle_side", "Plan/context", show=False),
        Binding("ctrl+l", "focus_prompt", "Prompt", show=False),
        Binding("f1", "help", "Help"),
        Binding("ctrl+p", "command_palette", "Palette", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        agent: Agent | None = None,
        *,
        agent_factory: Callable[[], Agent] | None = None,
        settings: Settings | None = None,
        thread_id: str | None = None,
        id_factory: Callable[[], str] = new_thread_id,
        startup_error: str | None = None,
    ) -> None:
        super().__init__()
        self.agent = agent
        self.agent_factory = agent_factory
        self.settings = settings
        self.id_factory = id_factory
        self.initial_thread_id = thread_id
        self.startup_error = startup_error
        self.thread_id = ""
        self.pending_requests: list[ApprovalRequest] = []
        self.queued_message: str | None = None
        self.run_worker_: Worker[None] | None = None

    # --- layout -------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with Horizontal(id="body"):
            yield ThreadList(id="threads")
            with Vertical(id="main"):
                yield Conversation(id="conversation")
                yield Input(
                    placeholder="Message the agent · Enter to send · F1 for keys",
                    id="prompt",
                )
            with Vertical(id="side"):
                yield PlanPanel(id="plan")
                yield ContextPanel(id="context")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def conversation(self) -> Conversation:
        return self.query_one("#conversation", Conversation)

    @property
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    @property
    def thread_list(self) -> ThreadList:
        return self.query_one("#threads", ThreadList)

    @property
    def busy(self) -> bool:
        worker = self.run_worker_
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    async def on_mount(self) -> None:
        if self.settings is not None:
            self.status.set(
                model=self.settings.model,
                context_size=self.settings.n_ctx,
                gpu_layers=self.settings.n_gpu_layers,
            )
        self.query_one("#prompt", Input).focus()
        if not self.is_headless and stdin_is_terminal():
            # A closed terminal (tmux kill-session, a dropped ssh) reaches us as EOF rather
            # than SIGHUP when a parent such as make holds the hangup; Textual's input
            # thread then spins on the dead terminal, so the app leaves by itself.
            self.set_interval(1.0, self.exit_if_terminal_gone)
        if self.startup_error:
            self.notify(
                self.startup_error,
                title="Cannot start the agent",
                severity="error",
                timeout=30,
                markup=False,
            )
            self.status.set(state="error")
        if self.agent is None and self.agent_factory is not None:
            self.status.set(state="loading")
            self.load_agent()
        elif self.agent is not None:
            await self.agent_ready()

    def exit_if_terminal_gone(self) -> None:
        if not stdin_is_terminal():
            self.exit(return_code=TERMINAL_GONE)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_agent(self) -> None:
        """Build the agent off the event loop (loading a model takes seconds)."""
        assert self.agent_factory is not None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                agent = self.agent_factory()
        except Exception as err:  # noqa: BLE001 - shown to the user, the app stays up
            self.call_from_thread(self.report_error, err, "Cannot start the agent")
            self.call_from_thread(self.status.set, state="error")
            return
        for warning in caught:
            if issubclass(warning.category, UserWarning):
                self.call_from_thread(
                    self.notify, str(warning.message), severity="warning", timeout=15, markup=False
                )
        self.agent = agent
        self.call_from_thread(self.agent_ready)

    async def agent_ready(self) -> None:
        assert self.agent is not None
        self.thread_list.store = self.agent.threads
        self.thread_list.workspace = str(self.agent.workspace)
        self.status.set(state="idle")
        queued, self.queued_message = self.queued_message, None
        if self.initial_thread_id:
            await self.open_thread(self.initial_thread_id)
        else:
            await self.start_new_thread()
        if queued is not None and self.agent is not None and not self.pending_requests:
            await self.conversation.add_user(queued)
            self.start_stream(self.agent.astream(queued, thread_id=self.thread_id))

    def report_error(self, err: BaseException, title: str = "Error") -> None:
        """User-fixable errors as a notification that says what to do."""
        self.notify(error_text(err), title=title, severity="error", timeout=20, markup=False)

    # --- sending and streaming ------------------------------------------------

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "prompt":
            return
        text = event.value.strip()
        if not text:
            return
        if self.agent is None:
            if self.status.info.state == "loading":
                # Typed while the model loads: send it as soon as the agent is ready.
                self.queued_message = text
                event.input.value = ""
                await self.conversation.add_user(text)
                await self.conversation.add_notice(
                    "⋯ loading the model; your message goes out next"
                )
            else:
                self.notify("The agent is not ready (see the notifications).", severity="warning")
            return
        if text.startswith("/") and await self.slash_command(text):
            event.input.value = ""
            return
        if self.busy:
            self.notify("Still generating — press Escape to cancel first.", severity="warning")
            return
        if self.pending_requests:
            self.notify("Decide the pending tool calls first (Ctrl+Y).", severity="warning")
            self.action_show_approvals()
            return
        event.input.value = ""
        await self.conversation.add_user(text)
        self.start_stream(self.agent.astream(text, thread_id=self.thread_id))

    def start_stream(self, stream: AsyncIterator[AgentEvent]) -> None:
        self.run_worker_ = self.run_worker(
            self.consume(stream, self.thread_id),
            group="agent",
            exclusive=True,
            exit_on_error=False,
        )

    async def consume(self, stream: AsyncIterator[AgentEvent], thread_id: str) -> None:
        self.status.start_run()
        requests: list[ApprovalRequest] = []
        await self.conversation.show_thinking("thinking")
        try:
            async for event in stream:
                if isinstance(event, ApprovalNeeded):
                    requests.extend(event.requests)
                await self.handle_event(event)
        except asyncio.CancelledError:
            await self.conversation.hide_thinking()
            await self.conversation.end_reply()
            await self.conversation.add_notice(
                "■ cancelled — the thread is saved; send a message, or Resume (Ctrl+P)"
            )
            self.status.set(state="cancelled")
            await self.refresh_threads()
            raise
        except WorkspaceMissingError as err:  # nothing ran: continue elsewhere, or later
            await self.conversation.hide_thinking()
            await self.conversation.add_error(err.message)
            self.status.set(state="error")
            self.ask_move_thread(thread_id, f"{err.message}. Continue in which directory?")
            return
        except Exception as err:  # noqa: BLE001 - an error must never kill the app
            await self.conversation.hide_thinking()
            await self.conversation.add_error(error_text(err))
            self.report_error(err)
            self.status.set(state="error")
            await self.refresh_threads()
            await self.reload_pending(thread_id)  # e.g. a refused decision: decide again
            return
        await self.conversation.hide_thinking()
        await self.conversation.end_reply()
        if self.agent is not None:
            result = self.agent.result(self.thread_id)
            self.status.end_run(result.usage, model_context(self.agent))
            if (
                result.status == "finished"
                and result.mode == "plan"
                and thread_id == self.thread_id
            ):
                await self.conversation.add_notice(
                    "plan mode: /approve-plan (or Ctrl+P “Approve the plan”) carries it out"
                )
        await self.refresh_threads()
        if requests and thread_id == self.thread_id:
            self.pending_requests = requests
            self.status.set(state="approval")
            self.ask_approval()
        else:
            self.status.set(state="idle")

    async def handle_event(self, event: AgentEvent) -> None:
        await self.conversation.show_event(event)
        if isinstance(event, TokenEvent):
            self.status.count_token()
            # the plan's JSON is shown in the plan panel, not as a reply
            self.status.set(state="planning" if event.node == "plan" else "generating")
        elif isinstance(event, PlanEvent):
            self.query_one("#plan", PlanPanel).show(event.steps)
        elif isinstance(event, ContextEvent):
            self.query_one("#context", ContextPanel).show(event.items)
        elif isinstance(event, FinalEvent):
            self.query_one("#plan", PlanPanel).finish()
        elif isinstance(event, ErrorEvent):
            self.notify(
                event.message, title="Agent error", severity="error", timeout=10, markup=False
            )

    # --- approvals ------------------------------------------------------------

    def ask_approval(self) -> None:
        if not self.pending_requests:
            return
        if isinstance(self.screen, ApprovalScreen):
            return
        self.push_screen(ApprovalScreen(self.pending_requests), self.on_decisions)

    async def on_decisions(self, decisions: list[Decision] | None) -> None:
        if decisions is None:
            await self.conversation.add_notice("⏸ waiting for your approval — Ctrl+Y to decide")
            return
        assert self.agent is not None
        by_id = {request.call_id: request for request in self.pending_requests}
        for decision in decisions:
            card = self.conversation.cards.get(decision.call_id)
            if isinstance(decision, Edit) and card is not None:
                card.set_args(decision.args)
            tool = by_id[decision.call_id].tool if decision.call_id in by_id else "call"
            await self.conversation.add_notice(f"you decided: {describe(decision)} {tool}")
        self.pending_requests = []
        self.start_stream(self.agent.astream_resume(self.thread_id, decisions))

    # --- the view --------------------------------------------------------------

    async def reset_view(self) -> None:
        self.pending_requests = []
        await self.conversation.clear()
        self.query_one("#plan", PlanPanel).show([])
        self.query_one("#context", ContextPanel).show([])
        self.status.set(thread_id=self.thread_id, state="idle", tokens_per_s=None)
        self.show_mode()
        if self.agent is not None:
            self.query_one("#context", ContextPanel).show_instructions(
                [str(f.path) for f in self.agent.instructions.files if f.used]
            )

    async def cancel_run(self, wait: bool = True) -> None:
        """Cancel the running stream. The agent stops after its current step;
        ``wait`` blocks until then (needed before showing another thread)."""
        worker = self.run_worker_
        if worker is None or not self.busy:
            return
        self.status.set(state="cancelling")
        worker.cancel()
        if wait:
            try:
                await worker.wait()
            except (WorkerCancelled, WorkerFailed):
                pass

    # --- actions ----------------------------------------------------------------

    async def action_cancel(self) -> None:
        if self.busy:
            await self.cancel_run(wait=False)
        elif self.thread_list.has_focus:
            self.action_focus_prompt()

    async def action_quit(self) -> None:
        """Quit. A run in progress stops after its current step first (as
        Ctrl-C does in ``agentkit run``), so its thread is saved and Resume
        continues it next time."""
        if self.busy:
            self.notify("Stopping after the current step…")
            await self.cancel_run(wait=True)
        self.exit()

    async def action_resume(self) -> None:
        """Continue a run that was cancelled (or cut short) from its last checkpoint."""
        if self.agent is None or self.busy:
            return
        if self.pending_requests:
            self.ask_approval()
            return
        try:
            status = self.agent.threads.get(self.thread_id).status
        except AgentkitError:  # a thread not saved yet has nothing to resume
            status = "empty"
        if status == "running":
            self.notify("Another process is running this thread.", severity="warning")
            return
        if status != "interrupted":
            self.notify("Nothing to resume in this thread.", severity="warning")
            return
        await self.conversation.add_notice("▶ resuming the interrupted run")
        self.start_stream(self.agent.astream_resume(self.thread_id, []))

    async def action_new_thread(self) -> None:
        if self.agent is not None:
            await self.start_new_thread()

    def action_focus_threads(self) -> None:
        if self.screen.has_class("-narrow"):
            self.screen.add_class("-show-threads")
        else:
            self.screen.remove_class("-hide-threads")
        self.thread_list.focus()

    def action_focus_prompt(self) -> None:
        self.query_one("#prompt", Input).focus()

    def action_show_approvals(self) -> None:
        if self.pending_requests:
            self.ask_approval()
        else:
            self.notify("No tool call is waiting for approval.")

    def _toggle(self, narrow_class: str, wide_class: str) -> None:
        if self.screen.has_class("-narrow"):
            self.screen.toggle_class(narrow_class)
        else:
            self.screen.toggle_class(wide_class)

    def action_toggle_threads(self) -> None:
        self._toggle("-show-threads", "-hide-threads")

    def action_toggle_side(self) -> None:
        self._toggle("-show-side", "-hide-side")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_move_thread(self) -> None:
        if self.agent is None or self.busy:
            return
        try:
            self.agent.threads.get(self.thread_id)
        except AgentkitError:
            self.notify("Send a message first: this thread is not saved yet.", severity="warning")
            return
        self.ask_move_thread(self.thread_id)

    def action_revoke_rule(self) -> None:
        if self.agent is None:
            return
        screen = RevokeRuleScreen(self.agent.policy)
        if screen.choices:
            self.push_screen(screen)
        else:
            self.notify("No always-allow rules yet.")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.agent is None:
            return
        yield SystemCommand("New thread", "Start a fresh conversation", self.action_new_thread)
        yield from self.thread_list.commands(self.thread_id)
        for action, (title, help_text) in PALETTE.items():
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))
        for row in self.thread_list.rows:
            if row.thread_id != self.thread_id:
                open_row = partial(self.open_thread, row.thread_id)
                details = f"{row.thread_id} {row.updated}"
                yield SystemCommand(f"Open thread: {row.title}", details, open_row, discover=False)


__all__ = ["AgentkitApp"]
