"""A generation that runs in a worker thread, consumed from asyncio.

llama.cpp decodes synchronously; the async chat-model methods run the same
sync generation in a worker thread and hand its chunks to the event loop.
Cancelling the consumer (a task cancel, ``aclose``) sets the generation's
cancel flag, so it stops between two tokens and frees the engine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


class EitherEvent:
    """Set when either event is: this stream's own cancel, or ``cancel()``."""

    def __init__(self, own: threading.Event, shared: threading.Event) -> None:
        self.own = own
        self.shared = shared

    def set(self) -> None:
        self.own.set()

    def is_set(self) -> bool:
        return self.own.is_set() or self.shared.is_set()


async def stream_in_thread(
    produce: Callable[[], Iterator[T]], cancel: EitherEvent
) -> AsyncIterator[T]:
    """The items of ``produce()``, made in a worker thread; its exceptions
    are raised here, and leaving early sets ``cancel`` and waits for the
    worker."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[T] | BaseException | None] = asyncio.Queue()

    def work() -> None:
        try:
            for item in produce():
                loop.call_soon_threadsafe(queue.put_nowait, (item,))
            loop.call_soon_threadsafe(queue.put_nowait, None)
        except BaseException as err:  # noqa: BLE001 - re-raised in the consumer
            loop.call_soon_threadsafe(queue.put_nowait, err)

    worker = loop.run_in_executor(None, work)
    try:
        while True:
            entry = await queue.get()
            if entry is None:
                break
            if isinstance(entry, BaseException):
                raise entry
            yield entry[0]
    finally:
        cancel.set()
        await asyncio.shield(worker)
