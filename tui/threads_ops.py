"""Thread management for the chat app: sidebar refresh, replay of a reopened
thread, rename/delete/fork (time travel), and the command palette entries."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

from agentkit.tui.adapters import (
    CheckpointRow,
    ThreadRow,
    maybe_await,
    transcript_from_messages,
)
from agentkit.tui.screens.dialogs import ChoiceScreen, TextPromptScreen
from agentkit.tui.widgets.threads import NEW_THREAD_TITLE, ThreadList

if TYPE_CHECKING:
    from agentkit.tui.app import AgentkitApp


async def list_rows(app: AgentkitApp) -> list[ThreadRow]:
    if app.agent is None:
        return []
    try:
        infos = await maybe_await(app.agent.threads.list())
    except Exception as err:  # noqa: BLE001 - e.g. a locked store: say so, keep going
        app.report_error(err, "Cannot list threads")
        return []
    return [ThreadRow.from_info(info) for info in infos]


async def refresh(app: AgentkitApp) -> None:
    rows = await list_rows(app)
    if app.thread_id and all(row.thread_id != app.thread_id for row in rows):
        rows.insert(0, ThreadRow(app.thread_id, NEW_THREAD_TITLE, "", 0, "new"))
    await app.query_one("#threads", ThreadList).show(rows, app.thread_id)
    current = next((row for row in rows if row.thread_id == app.thread_id), None)
    app.sub_title = current.title if current else ""


async def replay(app: AgentkitApp, thread_id: str) -> None:
    """Show the saved conversation of a reopened thread."""
    assert app.agent is not None
    messages: list[Any] = []
    try:
        getter = getattr(app.agent.threads, "messages", None)
        if getter is not None:
            messages = list(await maybe_await(getter(thread_id)))
        else:
            info = await maybe_await(app.agent.threads.get(thread_id))
            messages = list(getattr(info, "messages", None) or [])
    except Exception as err:  # noqa: BLE001
        app.report_error(err, "Cannot read the thread")
    conversation = app.conversation
    for entry in transcript_from_messages(messages):
        if entry.role == "user":
            await conversation.add_user(entry.text)
        elif entry.role == "agent":
            await conversation.add_agent(entry.text)
        elif entry.role == "call":
            await conversation.add_past_call(entry.call_id, entry.tool, entry.args or {})
        elif entry.role == "result":
            conversation.past_result(entry.call_id, entry.text, entry.status)
    await conversation.add_notice(f"opened thread {thread_id}")


async def dispatch(app: AgentkitApp, action: str, thread_id: str | None) -> None:
    if app.agent is None:
        return
    if action == "new":
        await app.start_new_thread()
        app.action_focus_prompt()
        return
    if not thread_id:
        return
    if action == "open":
        if thread_id != app.thread_id:
            await app.open_thread(thread_id)
        app.action_focus_prompt()
    elif action == "rename":
        ask_rename(app, thread_id)
    elif action == "delete":
        ask_delete(app, thread_id)
    elif action == "fork":
        await ask_fork(app, thread_id)


def _title_of(app: AgentkitApp, thread_id: str) -> str:
    rows = app.query_one("#threads", ThreadList).rows
    return next((row.title for row in rows if row.thread_id == thread_id), thread_id)


def ask_rename(app: AgentkitApp, thread_id: str) -> None:
    async def renamed(title: str | None) -> None:
        if not title or app.agent is None:
            return
        try:
            await maybe_await(app.agent.threads.rename(thread_id, title.strip()))
        except Exception as err:  # noqa: BLE001
            app.report_error(err, "Cannot rename the thread")
            return
        await refresh(app)

    app.push_screen(
        TextPromptScreen("Rename thread", value=_title_of(app, thread_id)), renamed
    )


def ask_delete(app: AgentkitApp, thread_id: str) -> None:
    async def confirmed(choice: str | None) -> None:
        if choice != "delete" or app.agent is None:
            return
        if thread_id == app.thread_id:
            await app.cancel_run()
        try:
            await maybe_await(app.agent.threads.delete(thread_id))
        except Exception as err:  # noqa: BLE001
            app.report_error(err, "Cannot delete the thread")
            return
        app.notify(f"Deleted thread {_title_of(app, thread_id)}", markup=False)
        if thread_id == app.thread_id:
            await app.start_new_thread()
        else:
            await refresh(app)

    app.push_screen(
        ChoiceScreen(
            f"Delete thread “{_title_of(app, thread_id)}” and its history?",
            [("keep", "No, keep it"), ("delete", "Yes, delete it")],
        ),
        confirmed,
    )


async def ask_fork(app: AgentkitApp, thread_id: str) -> None:
    """Time travel: pick a checkpoint of the thread and branch a new thread there."""
    assert app.agent is not None
    try:
        history = [CheckpointRow.from_info(c) for c in await maybe_await(
            app.agent.threads.history(thread_id))]
    except Exception as err:  # noqa: BLE001
        app.report_error(err, "Cannot read the thread's history")
        return
    if not history:
        app.notify("This thread has no checkpoints yet.", severity="warning")
        return

    def label(row: CheckpointRow) -> str:
        step = f"step {row.step}" if row.step is not None else row.checkpoint_id[:8]
        when = f"  {row.created}" if row.created else ""
        text = f"  {row.label}" if row.label else ""
        return f"{step}{when}{text}"

    async def chosen(checkpoint_id: str | None) -> None:
        if not checkpoint_id or app.agent is None:
            return
        try:
            new_id = await maybe_await(app.agent.threads.fork(thread_id, checkpoint_id))
        except Exception as err:  # noqa: BLE001
            app.report_error(err, "Cannot fork the thread")
            return
        app.notify(f"Forked into thread {new_id}")
        await app.open_thread(str(new_id))

    app.push_screen(
        ChoiceScreen(
            "Fork from which checkpoint? (newest first)",
            [(row.checkpoint_id, label(row)) for row in history],
        ),
        chosen,
    )


def ask_revoke_rule(app: AgentkitApp) -> None:
    policy = getattr(app.agent, "policy", None)
    if policy is None or not hasattr(policy, "list_rules"):
        app.notify("This agent has no policy rules.")
        return
    rules = [r for r in policy.list_rules() if getattr(r, "source", "always") == "always"]
    if not rules:
        app.notify("No always-allow rules yet.")
        return

    def rule_id(rule: Any) -> str:
        return str(getattr(rule, "rule_id", None) or getattr(rule, "id", rule))

    def chosen(value: str | None) -> None:
        if value is None:
            return
        try:
            policy.revoke(value)
        except Exception as err:  # noqa: BLE001
            app.report_error(err, "Cannot revoke the rule")
            return
        app.notify(f"Revoked rule {value}")

    app.push_screen(
        ChoiceScreen(
            "Revoke which always-allow rule?",
            [(rule_id(r), r.describe() if hasattr(r, "describe") else str(r)) for r in rules],
        ),
        chosen,
    )


def palette_commands(app: AgentkitApp) -> Iterable[SystemCommand]:
    if app.agent is None:
        return
    yield SystemCommand("New thread", "Start a fresh conversation", app.action_new_thread)
    current = app.thread_id
    yield SystemCommand(
        "Rename thread", "Give the current thread a title", partial(ask_rename, app, current)
    )
    yield SystemCommand(
        "Delete thread", "Delete the current thread and its history",
        partial(ask_delete, app, current),
    )
    yield SystemCommand(
        "Fork thread from a checkpoint", "Time travel: branch from an earlier point",
        partial(ask_fork, app, current),
    )
    yield SystemCommand(
        "Decide pending approvals", "Open the approval prompt", app.action_show_approvals
    )
    yield SystemCommand("Cancel generation", "Stop the model (Escape)", app.action_cancel)
    yield SystemCommand(
        "Resume interrupted run", "Continue a cancelled run from its last checkpoint",
        app.action_resume,
    )
    yield SystemCommand("Help: keys", "Every key of every screen", app.action_help)
    yield SystemCommand("Toggle threads sidebar", "Show or hide threads", app.action_toggle_threads)
    yield SystemCommand("Toggle plan and context", "Show or hide the side panels",
                        app.action_toggle_side)
    yield SystemCommand("Revoke an always-allow rule", "Ask again before a tool runs",
                        partial(ask_revoke_rule, app))
    for row in app.query_one("#threads", ThreadList).rows:
        if row.thread_id != current:
            yield SystemCommand(
                f"Open thread: {row.title}", f"{row.thread_id} {row.updated}",
                partial(app.open_thread, row.thread_id), discover=False,
            )
