"""Small modal dialogs: a one-line prompt, a list of choices, a JSON editor."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jsonschema
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from agentkit.approvals.policy import Policy


class TextPromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (feedback, a tool result, a thread title)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.prompt_title = title
        self.placeholder = placeholder
        self.initial = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.prompt_title, classes="dialog-title")
            yield Input(value=self.initial, placeholder=self.placeholder, id="prompt-input")
            yield Static("Enter to confirm · Escape to cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of several labelled values."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]], hint: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.prompt_title = title
        self.choices = choices
        self.hint = hint or "Enter to choose · Escape to cancel"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.prompt_title, classes="dialog-title")
            yield OptionList(
                *(Option(Text(label), id=value) for value, label in self.choices),
                id="choices",
            )
            yield Static(self.hint, classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RevokeRuleScreen(ChoiceScreen):
    """The always-allow rules of ``policy``; the one picked is revoked."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        rules = [r for r in policy.list_rules() if r.source == "always"]
        super().__init__("Revoke which always-allow rule?", [(r.id, r.describe()) for r in rules])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        rule_id = event.option.id or ""
        try:
            self.policy.revoke(rule_id)
        except (KeyError, OSError) as err:  # revoked meanwhile, or the file is gone
            self.notify(str(err), title="Cannot revoke the rule", severity="error", markup=False)
        else:
            self.notify(f"Revoked rule {rule_id}")
        self.dismiss(rule_id)


def validate_args(text: str, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """Parse edited arguments and check them against the tool's JSON schema.
    Returns the arguments, or None and the problems to show."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        return None, [f"invalid JSON: {err.msg} (line {err.lineno}, column {err.colno})"]
    if not isinstance(value, dict):
        return None, ["arguments must be a JSON object"]
    if schema:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator = validator_cls(schema)
        problems = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if problems:
            return None, [
                f"{'.'.join(str(p) for p in problem.absolute_path) or 'arguments'}: {problem.message}"
                for problem in problems
            ]
    return value, []


class EditArgsScreen(ModalScreen[dict[str, Any] | None]):
    """Edit a call's arguments as JSON; closes only once they match the schema."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, tool: str, args: dict[str, Any], schema: dict[str, Any]) -> None:
        super().__init__(classes="dialog-screen")
        self.tool = tool
        self.args = args
        self.schema = schema

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog edit-dialog"):
            yield Label(f"Edit arguments of {self.tool}", classes="dialog-title")
            yield TextArea(
                json.dumps(self.args, indent=2, ensure_ascii=False),
                id="args-editor",
                show_line_numbers=True,
                tab_behavior="indent",
            )
            yield Static("", id="args-errors", classes="dialog-errors")
            yield Static("Ctrl+S to save · Escape to cancel", classes="dialog-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#args-editor", TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one("#args-editor", TextArea).text
        args, problems = validate_args(text, self.schema)
        errors = self.query_one("#args-errors", Static)
        if args is None:
            errors.update(Text("\n".join("✗ " + p for p in problems), style="bold"))
            errors.add_class("-visible")
            return
        self.dismiss(args)

    def action_cancel(self) -> None:
        self.dismiss(None)
