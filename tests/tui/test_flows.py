"""Pilot-driven flows against the real Agent (scripted model, SQLite threads,
real file tools): send, stream, approve, edit, reject, respond, always-allow,
cancel, switch threads, fork, reopen with a pending approval."""

from __future__ import annotations

import asyncio
from pathlib import Path

from langchain_core.messages import AIMessage
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from textual.worker import WorkerState

from agentkit.events import ApprovalNeeded, TokenEvent
from agentkit.testing import call, final
from agentkit.tui.app import AgentkitApp
from agentkit.tui.screens.approval import ApprovalScreen
from agentkit.tui.screens.dialogs import ChoiceScreen, EditArgsScreen
from agentkit.tui.widgets.conversation import AgentMessage, NoticeMessage, ToolCallCard, UserMessage
from agentkit.tui.widgets.panels import PlanPanel

from .real_agent import make_agent, make_app

SIZE = (100, 32)


async def send(pilot: Pilot[None], text: str) -> None:
    app = pilot.app
    assert isinstance(app, AgentkitApp)
    app.action_focus_prompt()
    app.query_one("#prompt", Input).value = text  # typing each key is slow and tested elsewhere
    await pilot.press("enter")
    await settle(pilot)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs (cancelled ones included) and the screen is idle."""
    await pilot.pause()
    for _ in range(1000):
        if not any(
            w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers
        ):
            break
        await asyncio.sleep(0.01)
    await pilot.pause()


def replies(app: AgentkitApp) -> list[str]:
    return [m.text for m in app.conversation.query(AgentMessage)]


def card(app: AgentkitApp, tool: str) -> ToolCallCard:
    return next(c for c in app.conversation.query(ToolCallCard) if c.tool == tool)


def write_script(path: str = "notes.md", content: str = "hello\n") -> list[object]:
    return [call("write_file", {"path": path, "content": content}), final("Wrote the file.")]


async def test_send_and_stream(tmp_path: Path) -> None:
    agent = make_agent(
        tmp_path,
        ["Hello! I stream **tokens** as they are generated."],
        plans=[{"steps": ["Greet the user"]}],
    )
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi there")
        user = app.conversation.query(UserMessage).last()
        assert "hi there" in user.source
        tokens = [e.text for e in agent.events if isinstance(e, TokenEvent) and e.node != "plan"]
        assert len(tokens) > 3, "the reply arrives in several tokens"
        assert replies(app)[-1] == "Hello! I stream **tokens** as they are generated."
        assert "".join(tokens) == replies(app)[-1], "the tokens were streamed into that message"
        steps = app.query_one("#plan", PlanPanel).steps
        assert [(s["text"], s["status"]) for s in steps] == [("Greet the user", "done")]
        assert app.status.info.tokens_per_s is not None
        assert app.status.info.state == "idle"


async def test_approve_writes_the_file(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, write_script())
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write hello to notes.md")
        assert isinstance(app.screen, ApprovalScreen)
        request = app.screen.current
        assert request.tool == "write_file" and request.side_effects == ["write"]
        assert request.preview and "+hello" in request.preview.get("body", "")
        assert not (tmp_path / "ws" / "notes.md").exists(), "nothing runs before approval"
        await pilot.press("y")
        await settle(pilot)
        assert (tmp_path / "ws" / "notes.md").read_text() == "hello\n"
        assert card(app, "write_file").status == "ok"
        assert replies(app)[-1] == "Wrote the file."
        assert agent.result("thread-1").status == "finished"


async def test_edit_with_invalid_then_valid_arguments(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, write_script())
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write hello")
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen.query_one("#args-editor", TextArea)
        editor.text = '{"path": "edited.md"}'  # content missing: the schema refuses
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EditArgsScreen)
        assert "content" in str(app.screen.query_one("#args-errors").render())
        editor.text = '{"path": "edited.md", "content": "edited\\n"}'
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not (tmp_path / "ws" / "notes.md").exists()
        assert (tmp_path / "ws" / "edited.md").read_text() == "edited\n"
        assert card(app, "write_file").args == {"path": "edited.md", "content": "edited\n"}


async def test_reject_with_feedback(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [*write_script()[:1], final("Understood, no file.")])
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write hello")
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"not now, just tell me", "enter")
        await settle(pilot)
        assert not (tmp_path / "ws" / "notes.md").exists()
        assert card(app, "write_file").status == "rejected"
        last_prompt = " ".join(str(m.content) for m in agent.nodes.model.prompts[-1])
        assert "not now, just tell me" in last_prompt, "the model sees the feedback"
        assert replies(app)[-1] == "Understood, no file."


async def test_respond_in_place_of_the_tool(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [*write_script()[:1], final("Noted.")])
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write hello")
        await pilot.press("o")
        await pilot.pause()
        await pilot.press(*"file already saved by the user", "enter")
        await settle(pilot)
        assert not (tmp_path / "ws" / "notes.md").exists()
        assert card(app, "write_file").status == "responded"
        last_prompt = " ".join(str(m.content) for m in agent.nodes.model.prompts[-1])
        assert "file already saved by the user" in last_prompt


async def test_always_allow_for_the_thread(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [*write_script("a.md", "a\n"), *write_script("b.md", "b\n")])
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write a")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        # the scopes are spelled out: this call only (thread, project), then
        # files at the top of the workspace (thread, project)
        assert "a.md only" in app.screen.choices[0][1]
        await pilot.press("down", "down", "enter")  # this thread, files at the top
        await settle(pilot)
        assert (tmp_path / "ws" / "a.md").read_text() == "a\n"
        rules = [r for r in agent.policy.list_rules() if r.scope == "thread"]
        assert [(r.tool, r.thread_id, r.paths) for r in rules] == [
            ("write_file", "thread-1", ("*",))
        ]
        await send(pilot, "write b")
        assert not isinstance(app.screen, ApprovalScreen), "no prompt: always allowed"
        assert (tmp_path / "ws" / "b.md").read_text() == "b\n"
        approvals = [e for e in agent.events if isinstance(e, ApprovalNeeded)]
        assert len(approvals) == 1


async def test_escape_cancels_and_the_thread_stays_resumable(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [*write_script()], delay_s=0.6)
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        app.action_focus_prompt()
        await pilot.press(*"write hello", "enter")
        await pilot.pause(0.2)
        assert app.busy and app.status.info.state in ("generating", "planning")
        await pilot.press("escape")
        await settle(pilot)
        assert not app.busy
        assert app.status.info.state == "cancelled"
        notices = [n.message for n in app.conversation.query(NoticeMessage)]
        assert any("cancelled" in n for n in notices)
        # Consistent and resumable: the run goes on from its checkpoint.
        assert agent.threads.get("thread-1").status == "interrupted"
        await app.action_resume()
        await settle(pilot)
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("y")
        await settle(pilot)
        assert (tmp_path / "ws" / "notes.md").read_text() == "hello\n"
        assert agent.result("thread-1").status == "finished"


async def test_switch_threads(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [final("Answer A."), final("Answer B.")])
    app = make_app(agent, "thread-a", "thread-b")
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "question A")
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.thread_id == "thread-b" and replies(app) == []
        await send(pilot, "question B")
        assert replies(app) == ["Answer B."]
        threads = app.query_one("#threads")
        assert [r.thread_id for r in threads.rows] == ["thread-b", "thread-a"]
        await pilot.press("ctrl+t", "down", "enter")
        await settle(pilot)
        assert app.thread_id == "thread-a"
        assert replies(app) == ["Answer A."], "the saved conversation is replayed"
        assert "question A" in app.conversation.query(UserMessage).first().source


async def test_fork_from_a_checkpoint(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [final("First answer.")])
    app = make_app(agent, "thread-1")
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "question")
        history = agent.threads.history("thread-1")
        await pilot.press("ctrl+t", "f")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert len(app.screen.choices) == len(history)
        await pilot.press("end", "enter")  # the oldest checkpoint with the task
        await settle(pilot)
        assert app.thread_id != "thread-1"
        forked = agent.threads.get(app.thread_id)
        assert forked.title.startswith("fork of")
        assert {t.thread_id for t in agent.threads.list()} == {"thread-1", app.thread_id}
        assert app.thread_id in [r.thread_id for r in app.query_one("#threads").rows]


async def test_rename_and_delete_threads(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [final("A."), final("B.")])
    app = make_app(agent, "thread-a", "thread-b", "thread-c")
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "first")
        await pilot.press("ctrl+n")
        await send(pilot, "second")
        await pilot.press("ctrl+t", "r")
        await pilot.pause()
        await pilot.press("ctrl+u", *"Renamed", "enter")
        await settle(pilot)
        assert agent.threads.get("thread-b").title == "Renamed"
        await pilot.press("ctrl+t", "d")
        await pilot.pause()
        await pilot.press("down", "enter")  # "Yes, delete it"
        await settle(pilot)
        assert [t.thread_id for t in agent.threads.list()] == ["thread-a"]
        assert app.thread_id == "thread-c", "deleting the open thread starts a new one"


async def test_reopen_with_a_pending_approval(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, write_script())
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "write hello")
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("escape")  # decide later
        await settle(pilot)
        assert not isinstance(app.screen, ApprovalScreen)
    # A new process: same data dir, the thread opened by id.
    agent2 = make_agent(tmp_path, write_script()[1:])
    app2 = make_app(agent2, "unused", thread_id="thread-1")
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app2.screen, ApprovalScreen), "the prompt comes back"
        assert app2.screen.current.tool == "write_file"
        assert "write hello" in app2.conversation.query(UserMessage).first().source
        await pilot.press("y")
        await settle(pilot)
        assert (tmp_path / "ws" / "notes.md").read_text() == "hello\n"
        assert replies(app2)[-1] == "Wrote the file."


async def test_prose_before_a_tool_call_stays_visible(tmp_path: Path) -> None:
    reply = AIMessage(
        content="I will create the file now.",
        tool_calls=[
            {
                "name": "write_file",
                "args": {"path": "x.md", "content": "x"},
                "id": "c1",
                "type": "tool_call",
            }
        ],
    )
    agent = make_agent(tmp_path, [reply, final("Done.")])
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "make x")
        assert "I will create the file now." in replies(app)
        await pilot.press("y")
        await settle(pilot)
        assert replies(app)[-1] == "Done."


async def test_quit_during_a_run_leaves_it_resumable(tmp_path: Path) -> None:
    agent = make_agent(tmp_path, [*write_script()], delay_s=0.6)
    app = make_app(agent, "thread-1")
    async with app.run_test(size=SIZE) as pilot:
        app.action_focus_prompt()
        app.query_one("#prompt", Input).value = "write hello"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.busy
        await app.action_quit()
    # The run stopped after its step: the thread is interrupted, not lost.
    assert agent.threads.get("thread-1").status == "interrupted"
    assert agent.resume("thread-1").status == "needs_approval"
