"""Session control in the TUI: the permission mode (F2 cycles it, the status
bar always shows it), ``/compact``, rewind of file changes from the thread's
history, and approving a plan-mode run's plan.

Slash commands typed in the prompt:

- ``/mode [NAME]``: show or set the thread's mode;
- ``/compact``: summarise the thread's older turns now;
- ``/rewind``: pick a step to go back to (files, conversation or both);
  ``/rewind STEP [files|conversation|both]`` does it directly;
- ``/approve-plan``: carry out the plan a plan-mode run ended with.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agentkit.errors import AgentkitError
from agentkit.modes import DEFAULT_MODE, MODE_DESCRIPTIONS, PLAN_APPROVED_TASK, next_mode
from agentkit.tui.screens.dialogs import ChoiceScreen

if TYPE_CHECKING:
    from agentkit.agent import Agent
    from agentkit.rewind import RewindReport

REWIND_KINDS = ("files", "conversation", "both")


class ControlActions:
    """Mixed into :class:`~agentkit.tui.app.AgentkitApp` (which provides
    ``agent``, ``thread_id``, ``conversation``, ``status``, ``busy`` ...)."""

    agent: Agent | None
    thread_id: str

    # --- permission modes ------------------------------------------------------------
    def show_mode(self) -> None:
        if self.agent is not None:
            self.status.set(mode=self.agent.mode(self.thread_id))  # type: ignore[attr-defined]

    async def action_cycle_mode(self) -> None:
        if self.agent is None:
            return
        await self.set_mode(next_mode(self.agent.mode(self.thread_id)))

    async def set_mode(self, mode: str) -> None:
        assert self.agent is not None
        try:
            chosen = self.agent.set_mode(self.thread_id, mode)
        except AgentkitError as err:
            self.report_error(err, "Unknown mode")  # type: ignore[attr-defined]
            return
        self.show_mode()
        note = f"mode {chosen}: {MODE_DESCRIPTIONS[chosen]}"
        if self.busy:  # type: ignore[attr-defined]
            note += " (from the next run)"
        await self.conversation.add_notice(note)  # type: ignore[attr-defined]

    async def action_approve_plan(self) -> None:
        if self.agent is None or self.busy:  # type: ignore[attr-defined]
            return
        self.agent.set_mode(self.thread_id, DEFAULT_MODE)
        self.show_mode()
        await self.conversation.add_notice("plan approved: mode default, carrying it out")  # type: ignore[attr-defined]
        self.start_stream(self.agent.astream(PLAN_APPROVED_TASK, thread_id=self.thread_id))  # type: ignore[attr-defined]

    # --- compaction ----------------------------------------------------------------------
    async def action_compact(self) -> None:
        if self.agent is None or self.busy:  # type: ignore[attr-defined]
            return
        agent, thread_id = self.agent, self.thread_id
        await self.conversation.add_notice("compacting the conversation…")  # type: ignore[attr-defined]
        try:
            event = await asyncio.to_thread(agent.compact, thread_id)
        except Exception as err:  # noqa: BLE001 - shown, the app stays up
            self.report_error(err, "Cannot compact")  # type: ignore[attr-defined]
            return
        if event is None:
            await self.conversation.add_notice("nothing to compact yet")  # type: ignore[attr-defined]
        else:
            await self.conversation.show_event(event)  # type: ignore[attr-defined]

    # --- rewind ----------------------------------------------------------------------------
    def action_rewind(self) -> None:
        if self.agent is None or self.busy:  # type: ignore[attr-defined]
            return
        agent = self.agent
        try:
            points = agent.rewind_points(self.thread_id)
        except AgentkitError as err:
            self.report_error(err, "Cannot rewind")  # type: ignore[attr-defined]
            return
        if not points:
            self.notify("agentkit's tools changed no file in this thread.")  # type: ignore[attr-defined]
            return
        choices = [
            (str(p.step - 1), f"before step {p.step}: {p.tool} {', '.join(p.paths)}")
            for p in points
        ]

        async def step_chosen(step: str | None) -> None:
            if step is None:
                return

            async def kind_chosen(kind: str | None) -> None:
                if kind in REWIND_KINDS:
                    await self.rewind_to(int(step), kind)

            self.push_screen(  # type: ignore[attr-defined]
                ChoiceScreen(
                    f"Rewind to step {step}: undo what came after",
                    [
                        ("files", "…the files (the conversation goes on)"),
                        ("conversation", "…the conversation (a fork; files untouched)"),
                        ("both", "…both"),
                    ],
                ),
                kind_chosen,
            )

        self.push_screen(ChoiceScreen("Rewind the thread to…", choices), step_chosen)  # type: ignore[attr-defined]

    async def rewind_to(self, step: int, kind: str = "files") -> RewindReport | None:
        """Rewind now; say what changed (conflicts included); open a fork."""
        assert self.agent is not None
        try:
            report = self.agent.rewind(
                self.thread_id,
                step,
                files=kind in ("files", "both"),
                conversation=kind in ("conversation", "both"),
            )
        except AgentkitError as err:
            self.report_error(err, "Cannot rewind")  # type: ignore[attr-defined]
            return None
        for line in rewind_lines(report):
            await self.conversation.add_notice(line)  # type: ignore[attr-defined]
        if report.new_thread_id:
            await self.open_thread(report.new_thread_id)  # type: ignore[attr-defined]
        return report

    # --- slash commands ---------------------------------------------------------------------
    async def slash_command(self, text: str) -> bool:
        """Run ``text`` if it is one of the slash commands; False if it is not."""
        words = text.split()
        if not words or words[0] not in ("/mode", "/compact", "/rewind", "/approve-plan"):
            return False
        command, rest = words[0], words[1:]
        if command == "/mode":
            if rest:
                await self.set_mode(rest[0])
            else:
                self.show_mode()
                mode = self.agent.mode(self.thread_id) if self.agent else DEFAULT_MODE
                await self.conversation.add_notice(f"mode {mode}: {MODE_DESCRIPTIONS[mode]}")  # type: ignore[attr-defined]
        elif command == "/compact":
            await self.action_compact()
        elif command == "/approve-plan":
            await self.action_approve_plan()
        elif rest and rest[0].lstrip("-").isdigit():
            kind = rest[1] if len(rest) > 1 and rest[1] in REWIND_KINDS else "files"
            await self.rewind_to(int(rest[0]), kind)
        else:
            self.action_rewind()
        return True


def rewind_lines(report: Any) -> list[str]:
    """A rewind report as notices: one per file, the shell notes, the fork."""
    lines = [f"↺ rewound to step {report.to_step}"]
    for f in report.files:
        mark = "✓" if f.done else ("!" if f.action in ("conflict", "not_kept") else "·")
        lines.append(f"  {mark} {f.action} {f.path} ({f.detail})")
    lines += [f"  note: {n}" for n in report.notes]
    if report.new_thread_id:
        lines.append(f"  conversation forked: {report.new_thread_id}")
    return lines
