"""Scripted chat models for the ACP tests: `agentkit acp --model-factory
acp_models:NAME` runs the agent subprocess on one of these."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from agentkit.testing import ScriptedChatModel, call, final

NOTES = "The Rhine is 1,230 km long."


def read_then_write() -> ScriptedChatModel:
    return ScriptedChatModel(
        script=[
            call("read_file", {"path": "notes.txt"}, "r1"),
            call("write_file", {"path": "summary.md", "content": "The Rhine: 1,230 km.\n"}, "w1"),
            final("Wrote the summary to summary.md."),
        ]
    )


def write_rejected() -> ScriptedChatModel:
    return ScriptedChatModel(
        script=[
            call("write_file", {"path": "summary.md", "content": "nope\n"}, "w1"),
            final("Understood, I did not write summary.md."),
        ]
    )


def write_pending() -> ScriptedChatModel:
    """Before the restart: proposes a write, then the process is killed."""
    return ScriptedChatModel(
        script=[call("write_file", {"path": "out.txt", "content": "survived\n"}, "w9")]
    )


def after_restart() -> ScriptedChatModel:
    """After the restart: the approved write's run ends, then the new prompt."""
    return ScriptedChatModel(script=[final("Wrote out.txt."), final("Nothing more to do.")])


class SlowModel(ScriptedChatModel):
    """Streams its text a word at a time, slowly, and stops when cancelled
    (as ChatLlama.cancel does: the reply ends with finish_reason cancelled)."""

    word_delay_s: float = 0.05  # per streamed chunk
    _cancel: threading.Event = PrivateAttr(default_factory=threading.Event)

    def cancel(self) -> None:
        self._cancel.set()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._cancel.clear()
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            if self._cancel.is_set():
                meta = {"finish_reason": "cancelled"}
                last = AIMessageChunk(content="", response_metadata=meta, chunk_position="last")
                yield ChatGenerationChunk(message=last)
                return
            if chunk.message.content:
                time.sleep(self.word_delay_s)
            yield chunk


def slow_words() -> SlowModel:
    words = " ".join(f"word{i}" for i in range(200))
    return SlowModel(script=[words, final("Back again.")], chunk_size=8)
