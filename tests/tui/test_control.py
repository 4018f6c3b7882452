"""Session control in the chat app, with Pilot against the real Agent
(scripted model, SQLite threads, real file tools): F2 cycles the permission
mode and the status bar always shows it (stored per thread), accept-edits
writes without a prompt, the approval prompt says which mode and rule asked
and lists the exact always-allow scopes, hook outcomes land on the tool
cards, /rewind undoes file changes from the thread's history, /compact and
a plan-mode run's /approve-plan."""

from __future__ import annotations

from pathlib import Path

from agentkit.approvals.policy import Policy
from agentkit.events import HookEvent
from agentkit.hooks import Deny, Hooks, ToolCall
from agentkit.testing import call, final
from agentkit.tui.screens.approval import ApprovalScreen, always_choices, render_header
from agentkit.tui.screens.dialogs import ChoiceScreen
from agentkit.tui.widgets.conversation import NoticeMessage, ToolCallCard
from agentkit.tui.widgets.status import render_status

from .real_agent import RecordingAgent, make_agent, make_app, settings_for
from .test_flows import SIZE, send, settle


def notices(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(n.message) for n in app.conversation.query(NoticeMessage)]


def status_text(app) -> str:  # type: ignore[no-untyped-def]
    return render_status(app.status.info, 200).plain


async def test_f2_cycles_the_mode_shown_in_the_status_bar(tmp_path: Path) -> None:
    script = [call("write_file", {"path": "a.md", "content": "a\n"}), final("Wrote it.")]
    agent = make_agent(tmp_path, script)
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "mode default" in status_text(app)
        await pilot.press("f2")
        await settle(pilot)
        assert "mode accept-edits" in status_text(app)
        assert agent.mode("thread-1") == "accept-edits", "stored with the thread"
        assert any("mode accept-edits" in n for n in notices(app))
        await send(pilot, "write a")
        assert not isinstance(app.screen, ApprovalScreen), "accept-edits: no prompt"
        assert (tmp_path / "ws" / "a.md").read_text() == "a\n"
        for expected in ("plan", "dont-ask", "default"):
            await pilot.press("f2")
            await settle(pilot)
            assert f"mode {expected}" in status_text(app)


async def test_mode_slash_command_and_a_reopened_thread_keeps_its_mode(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [final("hi")])
    agent.set_mode("old", "dont-ask")
    app = make_app(agent, "thread-1", thread_id="old")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "mode dont-ask" in status_text(app)
        await send(pilot, "/mode plan")
        assert "mode plan" in status_text(app) and agent.mode("old") == "plan"
        await send(pilot, "/mode yolo")
        assert agent.mode("old") == "plan", "an unknown mode changes nothing"


async def test_the_prompt_names_mode_rule_notes_and_exact_scopes(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [call("shell", {"command": "cat notes/a.md"}, "s1"), final("ok")])
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "show notes")
        assert isinstance(app.screen, ApprovalScreen)
        request = app.screen.current
        header = render_header(request).plain
        assert "mode default" in header and "rewind cannot undo" in header
        labels = [label for _, label in always_choices(request)]
        assert any("`cat notes/*`" in label for label in labels)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "enter")  # this thread, the notes/* pattern
        await settle(pilot)
    rules = [r for r in agent.policy.list_rules() if r.source == "always"]
    assert [r.command_prefixes for r in rules] == [("cat notes/*",)]


class NoLockfiles(Hooks):
    name = "no-locks"

    def before_tool(self, call: ToolCall) -> Deny | None:
        if str(call.args.get("path", "")).endswith(".lock"):
            return Deny("lock files are generated")
        return None


async def test_hook_outcomes_show_on_the_cards(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    from agentkit.testing import ScriptedChatModel
    from agentkit.tools import builtin_tools

    agent = RecordingAgent(
        model=ScriptedChatModel(
            script=[call("write_file", {"path": "x.lock", "content": "x"}, "w1"), final("ok")]
        ),
        tools=builtin_tools(settings),
        settings=settings,
        planning=False,
        hooks=NoLockfiles(),
    )
    agent.events = []
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write the lock")
        card = next(c for c in app.conversation.query(ToolCallCard) if c.tool == "write_file")
        assert card.hooks == ["no-locks: deny"] and "hook no-locks: deny" in card.title
        assert any("lock files are generated" in n for n in notices(app))
    assert any(isinstance(e, HookEvent) for e in agent.events)
    assert not (tmp_path / "ws" / "x.lock").exists()


async def test_rewind_from_the_threads_history(tmp_path: Path) -> None:
    script = [
        call("write_file", {"path": "a.md", "content": "one\n"}, "w1"),
        call("write_file", {"path": "b.md", "content": "two\n"}, "w2"),
        final("Wrote them."),
    ]
    settings = settings_for(tmp_path)
    (settings.resolved_workspace() / "a.md").write_text("zero\n")
    agent = make_agent(tmp_path, script)
    agent.set_mode("thread-1", "accept-edits")
    app = make_app(agent, "thread-1")
    ws = tmp_path / "ws"
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write both")
        assert (ws / "b.md").exists()
        await send(pilot, "/rewind")
        assert isinstance(app.screen, ChoiceScreen)
        assert "a.md" in app.screen.choices[-1][1]
        await pilot.press("down", "enter")  # the older point: before the first write
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")  # files
        await settle(pilot)
        assert (ws / "a.md").read_text() == "zero\n" and not (ws / "b.md").exists()
        assert any("rewound to step" in n for n in notices(app))


async def test_compact_by_hand(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [final(f"answer {i}") for i in range(12)])
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        for i in range(8):
            await send(pilot, f"question {i}")
        agent.nodes.model.script.insert(0, final("Summary: eight questions answered."))  # type: ignore[union-attr]
        await send(pilot, "/compact")
        assert any("compacted" in n for n in notices(app)), notices(app)


async def test_plan_mode_then_approve_the_plan(tmp_path: Path) -> None:
    script = [
        call("write_file", {"path": "a.md", "content": "a\n"}, "w1"),  # denied: plan mode
        final("1. write a.md"),
        call("write_file", {"path": "a.md", "content": "a\n"}, "w2"),
        final("Done."),
    ]
    agent = make_agent(tmp_path, script)
    agent.set_mode("thread-1", "plan")
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "plan it")
        assert not (tmp_path / "ws" / "a.md").exists()
        assert any("/approve-plan" in n for n in notices(app))
        await send(pilot, "/approve-plan")
        assert "mode default" in status_text(app)
        assert isinstance(app.screen, ApprovalScreen), "default mode asks before the write"


def test_policy_is_real(tmp_path: Path) -> None:
    assert isinstance(make_agent(tmp_path, []).policy, Policy)
