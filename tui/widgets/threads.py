"""The threads sidebar: list, open, new, rename, delete, fork."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label, ListItem, ListView

from agentkit.tui.adapters import ThreadRow

NEW_THREAD_TITLE = "new thread"


def render_row(row: ThreadRow, current: bool) -> Text:
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
    text.append_text(meta)
    return text


class ThreadItem(ListItem):
    def __init__(self, row: ThreadRow, current: bool) -> None:
        super().__init__(Label(render_row(row, current)), classes="thread-item")
        self.row = row


class ThreadList(ListView):
    """Threads, newest first. Keys act on the highlighted thread."""

    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("r", "rename", "Rename"),
        Binding("d", "delete", "Delete"),
        Binding("f", "fork", "Fork"),
    ]

    class Action(Message):
        """Asks the app to act on a thread (open, new, rename, delete, fork)."""

        def __init__(self, action: str, thread_id: str | None) -> None:
            super().__init__()
            self.action = action
            self.thread_id = thread_id

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[ThreadRow] = []
        self.current_id: str = ""

    def on_mount(self) -> None:
        self.border_title = "Threads"

    async def show(self, rows: list[ThreadRow], current_id: str) -> None:
        self.rows = list(rows)
        self.current_id = current_id
        await self.clear()
        await self.extend(ThreadItem(row, row.thread_id == current_id) for row in self.rows)
        for index, row in enumerate(self.rows):
            if row.thread_id == current_id:
                self.index = index
                break

    @property
    def highlighted_id(self) -> str | None:
        item = self.highlighted_child
        return item.row.thread_id if isinstance(item, ThreadItem) else None

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, ThreadItem):
            self.post_message(self.Action("open", event.item.row.thread_id))

    def action_new(self) -> None:
        self.post_message(self.Action("new", None))

    def action_rename(self) -> None:
        self.post_message(self.Action("rename", self.highlighted_id))

    def action_delete(self) -> None:
        self.post_message(self.Action("delete", self.highlighted_id))

    def action_fork(self) -> None:
        self.post_message(self.Action("fork", self.highlighted_id))
