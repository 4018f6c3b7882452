"""The Agent's asyncio API: ``arun``, ``astream``, ``aresume`` and
``astream_resume``, the ``a*`` twins of the sync methods, and the bridge that
runs the sync event stream in a worker thread for them. A mixin of
:class:`agentkit.agent.Agent`, kept apart because the graph's nodes are sync
(llama.cpp is): the async API is only a transport over the sync one, and
agent.py stays readable without it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentkit.events import AgentEvent, Decision, RunResult
from agentkit.threads import new_thread_id

if TYPE_CHECKING:
    from langgraph.types import Command


class AsyncTwins:
    """What the Agent provides to these methods."""

    # Declared for type checkers only: defined at run time, these stubs would
    # shadow the Agent's own methods further along the MRO.
    if TYPE_CHECKING:

        def stream(self, task: str, thread_id: str | None = None) -> Iterator[AgentEvent]: ...

        def stream_resume(
            self, thread_id: str, decisions: Sequence[Decision] = ()
        ) -> Iterator[AgentEvent]: ...

        def result(self, thread_id: str) -> RunResult: ...

        def cancel(self) -> None: ...

        def _resume_input(
            self, thread_id: str, decisions: Sequence[Decision | Mapping[str, object]]
        ) -> Command | None: ...

    async def arun(self, task: str, thread_id: str | None = None) -> RunResult:
        thread_id = thread_id or new_thread_id()
        async for _ in self.astream(task, thread_id):
            pass
        return self.result(thread_id)

    async def astream(self, task: str, thread_id: str | None = None) -> AsyncIterator[AgentEvent]:
        """Like :meth:`stream`. Cancelling the consuming task stops the run
        after its current step, leaving the thread resumable."""
        thread_id = thread_id or new_thread_id()
        async for event in self._bridge(lambda: self.stream(task, thread_id)):
            yield event

    async def aresume(self, thread_id: str, decisions: Sequence[Decision] = ()) -> RunResult:
        async for _ in self.astream_resume(thread_id, decisions):
            pass
        return self.result(thread_id)

    async def astream_resume(
        self, thread_id: str, decisions: Sequence[Decision] = ()
    ) -> AsyncIterator[AgentEvent]:
        self._resume_input(thread_id, decisions)  # refuse bad decisions here, in the caller
        async for event in self._bridge(lambda: self.stream_resume(thread_id, decisions)):
            yield event

    async def _bridge(self, make: Callable[[], Iterator[AgentEvent]]) -> AsyncIterator[AgentEvent]:
        """Drive the sync event stream in a worker thread. The graph's nodes are
        sync (llama.cpp is), so one code path serves both APIs."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        done = object()

        def work() -> None:
            try:
                for event in make():
                    loop.call_soon_threadsafe(queue.put_nowait, event)
            except BaseException as err:  # noqa: BLE001 - re-raised in the consumer
                loop.call_soon_threadsafe(queue.put_nowait, _Failure(err))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, done)

        worker = loop.run_in_executor(None, work)
        finished = False
        try:
            while True:
                item = await queue.get()
                if item is done:
                    finished = True
                    break
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            if not finished:
                self.cancel()
            await asyncio.shield(worker)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error
