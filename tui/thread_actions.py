"""The thread pane's side of the chat app: start, open and move threads,
show a saved thread's pending approvals again, and the thread list's
messages (open, new, renamed, delete confirmed). A mixin of
:class:`~agentkit.tui.app.AgentkitApp`, kept apart so app.py holds the run
itself (streaming events, approvals, cancel) and stays readable."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentkit.errors import AgentkitError
from agentkit.threads import WorkspaceMissingError
from agentkit.tui.screens.dialogs import TextPromptScreen
from agentkit.tui.widgets.threads import ThreadList

if TYPE_CHECKING:
    from agentkit.agent import Agent
    from agentkit.events import ApprovalRequest
    from agentkit.tui.widgets.conversation import Conversation
    from agentkit.tui.widgets.status import StatusBar


class ThreadActions:
    """What the app provides to these methods."""

    agent: Agent | None
    thread_id: str
    id_factory: Callable[[], str]
    pending_requests: list[ApprovalRequest]
    sub_title: str

    # Declared for type checkers only: defined at run time, these stubs would
    # shadow the app's own methods further along the MRO.
    if TYPE_CHECKING:

        @property
        def conversation(self) -> Conversation: ...

        @property
        def status(self) -> StatusBar: ...

        @property
        def thread_list(self) -> ThreadList: ...

        def report_error(self, err: BaseException, title: str = "Error") -> None: ...

        async def cancel_run(self, wait: bool = True) -> None: ...

        async def reset_view(self) -> None: ...

        def ask_approval(self) -> None: ...

        def action_focus_prompt(self) -> None: ...

        def push_screen(self, screen: Any, callback: Any = None) -> Any: ...

    async def refresh_threads(self) -> None:
        current = await self.thread_list.refresh_rows(self.thread_id)
        self.sub_title = current.title if current else ""

    async def start_new_thread(self) -> None:
        await self.cancel_run()
        self.thread_id = self.id_factory()
        await self.reset_view()
        await self.conversation.add_notice("new thread — say what you want done")
        await self.refresh_threads()

    async def open_thread(self, thread_id: str) -> None:
        assert self.agent is not None
        try:
            messages = self.agent.threads.messages(thread_id)
        except Exception as err:  # noqa: BLE001 - e.g. a mistyped --thread id
            self.report_error(err, "Cannot open the thread")
            if not self.thread_id:
                await self.start_new_thread()
            return
        await self.cancel_run()
        self.thread_id = thread_id
        await self.reset_view()
        await self.conversation.replay(messages)
        await self.conversation.add_notice(f"opened thread {thread_id}")
        await self.note_workspace(thread_id)
        await self.refresh_threads()
        await self.reload_pending(thread_id)

    async def note_workspace(self, thread_id: str) -> None:
        """Say so when the thread's tools act outside this app's workspace."""
        assert self.agent is not None
        try:
            workspace = self.agent.workspace_of(thread_id)
        except WorkspaceMissingError as err:
            await self.conversation.add_error(
                f"{err.message}; “Move thread to another workspace” (Ctrl+P) continues it elsewhere"
            )
            return
        if workspace != self.agent.workspace:
            await self.conversation.add_notice(f"this thread works in {workspace}")

    def ask_move_thread(self, thread_id: str, title: str = "") -> None:
        """Ask for a directory and continue the thread there (recorded in it)."""
        if self.agent is None:
            return
        agent = self.agent
        origin = agent.threads.origin(thread_id)
        current = origin.workspace if origin else str(agent.workspace)

        async def chosen(path: str | None) -> None:
            if not path or not path.strip():
                return
            try:
                moved = agent.threads.relocate(thread_id, path.strip())
            except AgentkitError as err:
                self.report_error(err, "Cannot move the thread")
                return
            await self.conversation.add_notice(f"this thread now works in {moved.workspace}")
            self.status.set(state="idle")
            await self.refresh_threads()
            await self.reload_pending(thread_id)

        prompt = title or f"Move thread {thread_id} from {current} to:"
        self.push_screen(TextPromptScreen(prompt, placeholder="a directory", value=current), chosen)

    async def reload_pending(self, thread_id: str) -> None:
        """Show the approval prompt again if the saved thread waits on calls."""
        if self.agent is None or thread_id != self.thread_id:
            return
        try:
            pending = self.agent.pending(thread_id)
        except Exception as err:  # noqa: BLE001
            self.report_error(err, "Cannot read pending approvals")
            pending = []
        self.pending_requests = pending
        if pending:
            await self.conversation.add_notice(
                f"⏸ this thread is waiting for approval of {len(pending)} call(s)"
            )
            self.status.set(state="approval")
            self.ask_approval()

    async def on_thread_list_open(self, message: ThreadList.Open) -> None:
        if self.agent is None:
            return
        if message.thread_id != self.thread_id:
            await self.open_thread(message.thread_id)
        if message.focus_prompt:
            self.action_focus_prompt()

    async def on_thread_list_new_thread(self, message: ThreadList.NewThread) -> None:
        if self.agent is not None:
            await self.start_new_thread()
            self.action_focus_prompt()

    def on_thread_list_renamed(self, message: ThreadList.Renamed) -> None:
        if message.thread_id == self.thread_id:
            self.sub_title = message.title

    async def on_thread_list_delete_confirmed(self, message: ThreadList.DeleteConfirmed) -> None:
        current = message.thread_id == self.thread_id
        if current:
            await self.cancel_run()  # a run must not write checkpoints after the deletion
        if not await self.thread_list.delete(message.thread_id):
            return
        if current:
            await self.start_new_thread()
        else:
            await self.refresh_threads()
