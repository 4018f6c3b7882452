"""Errors become notifications that say what to do; the app never crashes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from textual.widgets import Input

from agentkit.errors import ModelError, StoreError
from agentkit.events import AgentEvent, ErrorEvent, FinalEvent
from agentkit.threads import ThreadInfo
from agentkit.tui.app import AgentkitApp
from agentkit.tui.widgets.conversation import ErrorMessage

from .fakes import FakeAgent, FakeThreadStore


def messages(app: AgentkitApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_missing_model_is_a_notification_and_the_app_stays_up(settings) -> None:  # type: ignore[no-untyped-def]
    def factory() -> FakeAgent:
        raise ModelError(
            "model file /nope.gguf not found", hint="set AGENTKIT_MODEL or pass --model"
        )

    app = AgentkitApp(agent_factory=factory, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("not found" in m and "--model" in m for m in messages(app))
        assert app.status.info.state == "error"
        await pilot.click("#prompt")
        await pilot.press(*"hi", "enter")
        await pilot.pause()
        assert any("not ready" in m for m in messages(app))
        assert app.query_one("#prompt", Input).value == "hi", "the text is kept"
        assert app.is_running


async def test_invalid_config_is_shown_at_startup() -> None:
    app = AgentkitApp(startup_error="policy.toml: invalid TOML: line 3 (fix the file)")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert any("fix the file" in m for m in messages(app))
        assert app.is_running


class LockedThreads(FakeThreadStore):
    def list(self) -> list[ThreadInfo]:
        raise StoreError("database is locked", hint="close the other agentkit process")


async def test_locked_store_is_a_notification(settings) -> None:  # type: ignore[no-untyped-def]
    agent = FakeAgent()
    agent.threads = LockedThreads(agent, [])
    app = AgentkitApp(agent, settings=settings, id_factory=lambda: "t-locked")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert any("database is locked" in m for m in messages(app))
        assert app.is_running


class FailingAgent(FakeAgent):
    def astream(self, task: str, thread_id: str | None = None) -> AsyncIterator[AgentEvent]:
        async def boom() -> AsyncIterator[AgentEvent]:
            yield ErrorEvent(message="tool failed: read_file: no such file")
            raise ModelError("llama.cpp: context window exceeded", hint="start a new thread")
            yield FinalEvent(answer="unreachable")  # pragma: no cover

        return boom()


async def test_errors_during_a_run_are_inline_and_notified(settings) -> None:  # type: ignore[no-untyped-def]
    app = AgentkitApp(FailingAgent(), settings=settings, id_factory=lambda: "t-fail")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.click("#prompt")
        await pilot.press(*"go", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [w.message for w in app.query(ErrorMessage)]
        assert "tool failed: read_file: no such file" in shown
        assert any("context window exceeded" in m for m in shown)
        assert any("start a new thread" in m for m in messages(app))
        # Still usable: the prompt takes input again.
        assert app.query_one("#prompt", Input).has_focus
        assert app.status.info.state == "error"


async def test_a_message_typed_while_loading_goes_out_when_ready(settings) -> None:  # type: ignore[no-untyped-def]
    import threading

    from agentkit.events import FinalEvent as Final
    from agentkit.tui.widgets.conversation import AgentMessage

    release = threading.Event()
    agent = FakeAgent([[Final(answer="Ready now.")]])

    def slow_factory() -> FakeAgent:
        release.wait(5)
        return agent

    app = AgentkitApp(agent_factory=slow_factory, settings=settings, id_factory=lambda: "t-q")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.status.info.state == "loading"
        app.query_one("#prompt", Input).value = "early question"
        await pilot.press("enter")
        await pilot.pause()
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert agent.tasks == [("early question", "t-q")]
        assert [m.text for m in app.query(AgentMessage)] == ["Ready now."]
