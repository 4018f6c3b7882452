"""The threads sidebar: list, open, new, rename, delete, fork.

The widget does the thread operations on the agent's
:class:`~agentkit.threads.ThreadStore` and tells the app what it must react
to with messages: open a thread, start a new one, a thread was renamed, a
deletion was confirmed (the app stops a run on that thread first).

It lists the threads of the app's workspace; ``a`` toggles every
workspace's threads, each row then naming its workspace.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label, ListItem, ListView

from agentkit.threads import ThreadStore
from agentkit.tui.screens.dialogs import ChoiceScreen, TextPromptScreen
from agentkit.tui.views import CheckpointRow, ThreadRow, error_text

NEW_THREAD_TITLE = "new thread"


def render_row(row: ThreadRow, current: bool, show_workspace: bool = False) -> Text:
    text = Text()
    marker = "● " if current else "  "
    text.append(marker, style="bold")
    if row.pending:
        text.append("⏸ ", style="bold yellow")
    text.append(row.title, style="bold" if current else "")
    meta = Text("\n  ", style="dim")
    meta.append(row.thread_id[:6] or "—")
    if row.updated:
        meta.append(f" · {row.updated[5:]}")
    if show_workspace:
        meta.append(f" · {Path(row.workspace).name or row.workspace or '?'}")
    text.append_text(meta)
    return text


class ThreadItem(ListItem):
    def __init__(self, row: ThreadRow, current: bool, show_workspace: bool = False) -> None:
        super().__init__(Label(render_row(row, current, show_workspace)), classes="thread-item")
        self.row = row


class ThreadList(ListView):
    """Threads, newest first. Keys act on the highlighted thread."""

    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("r", "rename", "Rename"),
        Binding("d", "delete", "Delete"),
        Binding("f", "fork", "Fork"),
        Binding("a", "toggle_all", "All workspaces"),
    ]

    class Open(Message):
        """Show this thread (picked in the list, or a fork just made)."""

        def __init__(self, thread_id: str, focus_prompt: bool = True) -> None:
            super().__init__()
            self.thread_id = thread_id
            self.focus_prompt = focus_prompt

    class NewThread(Message):
        """Start a fresh thread."""

    class Renamed(Message):
        def __init__(self, thread_id: str, title: str) -> None:
            super().__init__()
            self.thread_id = thread_id
            self.title = title

    class DeleteConfirmed(Message):
        """The human confirmed; the app stops a run on the thread, then calls
        :meth:`ThreadList.delete`."""

        def __init__(self, thread_id: str) -> None:
            super().__init__()
            self.thread_id = thread_id

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store: ThreadStore | None = None
        self.rows: list[ThreadRow] = []
        self.current_id: str = ""
        self.workspace: str = ""  # the app's: its threads are listed ("" = every thread)
        self.show_all = False  # every workspace's threads

    def on_mount(self) -> None:
        self.border_title = "Threads"

    def report(self, err: Exception, title: str) -> None:
        self.notify(error_text(err), title=title, severity="error", timeout=20, markup=False)

    # --- the list ---------------------------------------------------------------------

    async def refresh_rows(self, current_id: str) -> ThreadRow | None:
        """Reread the threads, mark ``current_id`` (listed even before it is
        saved); returns its row."""
        rows: list[ThreadRow] = []
        if self.store is not None:
            try:
                rows = [ThreadRow.from_info(info) for info in self.store.list()]
            except Exception as err:  # noqa: BLE001 - e.g. a locked store: say so, keep going
                self.report(err, "Cannot list threads")
        everywhere = self.show_all or not self.workspace
        listed = len(rows)  # the current thread stays listed wherever it works
        rows = [
            r
            for r in rows
            if everywhere or r.workspace == self.workspace or r.thread_id == current_id
        ]
        elsewhere = listed - len(rows)
        self.border_title = "Threads · all workspaces" if self.show_all else "Threads"
        self.border_subtitle = f"{elsewhere} elsewhere · a" if elsewhere else ""
        if current_id and all(row.thread_id != current_id for row in rows):
            rows.insert(0, ThreadRow(current_id, NEW_THREAD_TITLE, "", 0, "new"))
        await self.show(rows, current_id)
        return next((row for row in rows if row.thread_id == current_id), None)

    async def show(self, rows: list[ThreadRow], current_id: str) -> None:
        self.rows = list(rows)
        self.current_id = current_id
        await self.clear()
        await self.extend(
            ThreadItem(row, row.thread_id == current_id, self.show_all) for row in self.rows
        )
        for index, row in enumerate(self.rows):
            if row.thread_id == current_id:
                self.index = index
                break

    def title_of(self, thread_id: str) -> str:
        return next((row.title for row in self.rows if row.thread_id == thread_id), thread_id)

    @property
    def highlighted_id(self) -> str | None:
        item = self.highlighted_child
        return item.row.thread_id if isinstance(item, ThreadItem) else None

    # --- keys -------------------------------------------------------------------------

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, ThreadItem):
            self.post_message(self.Open(event.item.row.thread_id))

    def action_new(self) -> None:
        self.post_message(self.NewThread())

    def action_rename(self) -> None:
        if self.highlighted_id:
            self.ask_rename(self.highlighted_id)

    def action_delete(self) -> None:
        if self.highlighted_id:
            self.ask_delete(self.highlighted_id)

    async def action_fork(self) -> None:
        if self.highlighted_id:
            await self.ask_fork(self.highlighted_id)

    async def action_toggle_all(self) -> None:
        """Every workspace's threads, or only this workspace's."""
        self.show_all = not self.show_all
        await self.refresh_rows(self.current_id)

    # --- operations -------------------------------------------------------------------

    def ask_rename(self, thread_id: str) -> None:
        async def renamed(title: str | None) -> None:
            if not title or self.store is None:
                return
            try:
                self.store.rename(thread_id, title.strip())
            except Exception as err:  # noqa: BLE001
                self.report(err, "Cannot rename the thread")
                return
            await self.refresh_rows(self.current_id)
            self.post_message(self.Renamed(thread_id, title.strip()))

        prompt = TextPromptScreen("Rename thread", value=self.title_of(thread_id))
        self.app.push_screen(prompt, renamed)

    def ask_delete(self, thread_id: str) -> None:
        def confirmed(choice: str | None) -> None:
            if choice == "delete":
                self.post_message(self.DeleteConfirmed(thread_id))

        question = f"Delete thread “{self.title_of(thread_id)}” and its history?"
        choices = [("keep", "No, keep it"), ("delete", "Yes, delete it")]
        self.app.push_screen(ChoiceScreen(question, choices), confirmed)

    async def delete(self, thread_id: str) -> bool:
        """Delete the thread, its checkpoints and its rules; False if it failed."""
        if self.store is None:
            return False
        title = self.title_of(thread_id)
        try:
            self.store.delete(thread_id)
        except Exception as err:  # noqa: BLE001
            self.report(err, "Cannot delete the thread")
            return False
        self.notify(f"Deleted thread {title}", markup=False)
        return True

    async def ask_fork(self, thread_id: str) -> None:
        """Time travel: pick a checkpoint of the thread and branch a new thread there."""
        if self.store is None:
            return
        try:
            history = [CheckpointRow.from_info(c) for c in self.store.history(thread_id)]
        except Exception as err:  # noqa: BLE001
            self.report(err, "Cannot read the thread's history")
            return
        if not history:
            self.notify("This thread has no checkpoints yet.", severity="warning")
            return

        async def chosen(checkpoint_id: str | None) -> None:
            if not checkpoint_id or self.store is None:
                return
            try:
                new_id = self.store.fork(thread_id, checkpoint_id)
            except Exception as err:  # noqa: BLE001
                self.report(err, "Cannot fork the thread")
                return
            self.notify(f"Forked into thread {new_id}")
            self.post_message(self.Open(new_id, focus_prompt=False))

        choices = [(row.checkpoint_id, row.describe()) for row in history]
        self.app.push_screen(
            ChoiceScreen("Fork from which checkpoint? (newest first)", choices), chosen
        )

    def commands(self, current_id: str) -> Iterable[SystemCommand]:
        """Command palette entries for the threads."""
        yield SystemCommand(
            "Show this workspace's threads" if self.show_all else "Show every workspace's threads",
            "Threads of every project, or of this one (a in the sidebar)",
            self.action_toggle_all,
        )
        yield SystemCommand(
            "Rename thread", "Give the current thread a title", partial(self.ask_rename, current_id)
        )
        yield SystemCommand(
            "Delete thread",
            "Delete the current thread and its history",
            partial(self.ask_delete, current_id),
        )
        yield SystemCommand(
            "Fork thread from a checkpoint",
            "Time travel: branch from an earlier point",
            partial(self.ask_fork, current_id),
        )
