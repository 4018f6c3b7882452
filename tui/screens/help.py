"""The help screen: every key of every screen, generated from the bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def _keys_table(title: str, bindings: list[BindingType]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column("key", style="bold", no_wrap=True, min_width=10)
    table.add_column("action")
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        key = binding.key_display or binding.key
        table.add_row(key.replace("ctrl+", "^"), binding.description)
    return table


def help_sections() -> list[tuple[str, list[BindingType]]]:
    # Imported here: the app module imports this one.
    from agentkit.tui.app import AgentkitApp
    from agentkit.tui.screens.approval import ApprovalScreen
    from agentkit.tui.screens.dialogs import EditArgsScreen
    from agentkit.tui.widgets.threads import ThreadList

    return [
        ("Chat", list(AgentkitApp.BINDINGS)),
        ("Threads sidebar", list(ThreadList.BINDINGS) + [Binding("enter", "", "Open")]),
        ("Approval prompt", list(ApprovalScreen.BINDINGS)),
        ("Argument editor", list(EditArgsScreen.BINDINGS)),
    ]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Label("agentkit chat — keys", classes="dialog-title")
            with VerticalScroll():
                for title, bindings in help_sections():
                    yield Static(_keys_table(title, bindings), classes="help-section")
                yield Static(
                    Text(
                        "Ctrl+P opens the command palette (new/rename/delete/fork thread, "
                        "approvals, panels, theme).",
                        style="dim",
                    )
                )
            yield Static("Escape to close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
