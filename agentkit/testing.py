"""Deterministic chat models for tests (pydantic-ai ``TestModel`` style).

:class:`ScriptedChatModel` replays a script of replies, one per model call, and
behaves like a real chat model to the code under test: it supports
``bind_tools`` (recording the tools and ``tool_choice`` it was given),
``with_structured_output`` and token streaming (so LangGraph's ``messages``
stream mode sees tokens), and reports usage.

>>> from agentkit.testing import ScriptedChatModel, call, final
>>> model = ScriptedChatModel(script=[call("read_file", {"path": "a.txt"}), final("done")])
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, PrivateAttr

from agentkit.models.hints import ALL_HINTS, DecodeHints, HintKind
from agentkit.models.profile import CAPABLE, ModelProfile

ScriptItem = AIMessage | str | BaseModel | dict[str, Any] | Callable[[list[BaseMessage]], Any]

_ids = itertools.count(1)


def call(tool: str, args: dict[str, Any] | None = None, call_id: str | None = None) -> AIMessage:
    """A reply that calls one tool."""
    return calls((tool, args or {}, call_id))


def calls(*specs: tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str | None]) -> AIMessage:
    """A reply that calls several tools at once: ``calls(("a", {...}), ("b", {...}, "id"))``."""
    tool_calls = []
    for spec in specs:
        name, args = spec[0], spec[1]
        call_id = spec[2] if len(spec) > 2 and spec[2] else f"call_{next(_ids)}"
        tool_calls.append({"name": name, "args": dict(args), "id": call_id, "type": "tool_call"})
    return AIMessage(content="", tool_calls=tool_calls)


def final(answer: str, call_id: str | None = None) -> AIMessage:
    """A reply that finishes through the graph's synthetic ``final_answer`` tool."""
    return call("final_answer", {"answer": answer}, call_id)


def invalid_call(
    tool: str, raw_args: str, call_id: str | None = None, finish_reason: str = "length"
) -> AIMessage:
    """A reply whose call did not parse, as a real model's runaway string
    arrives (cut at ``max_tokens``): in ``invalid_tool_calls`` and in the
    response metadata, where the graph looks for it."""
    bad = {
        "type": "invalid_tool_call",
        "name": tool,
        "args": raw_args,
        "id": call_id or f"call_{next(_ids)}",
        "error": "unparseable tool call",
    }
    return AIMessage(
        content="",
        invalid_tool_calls=[bad],  # type: ignore[list-item]
        response_metadata={"invalid_tool_calls": [bad], "finish_reason": finish_reason},
    )


def _count_tokens(text: str) -> int:
    return max(1, len(text.split())) if text else 0


class ScriptedChatModel(BaseChatModel):
    """Replays ``script`` one item per call.

    An item is an ``AIMessage`` (content and/or tool calls), a ``str`` (plain
    content), a pydantic object or ``dict`` (for ``with_structured_output``),
    or a callable receiving the prompt messages and returning any of those.
    Structured-output calls take from ``structured`` while it has items, then
    from ``script``. Running past the end raises ``IndexError`` (a test that
    asks the model more often than it planned is a failing test), unless
    ``repeat_last`` is set.
    """

    script: list[Any] = Field(default_factory=list)
    structured: list[Any] = Field(default_factory=list)
    repeat_last: bool = False
    delay_s: float = 0.0
    """Sleep this long per call, to stand in for model time."""
    chunk_size: int = 4
    """Characters per streamed token."""
    small: bool = False
    """Report itself as a small base model (270M parameters), so the agent
    steers it as it steers the bundled model (steering's logic over a script)."""
    tuned: bool = False
    """With ``small``: as if an adapter trained on agentkit's episodes were
    loaded (the tuned-model steering preset)."""
    token_delay_s: float = 0.0
    """Sleep this long per streamed chunk (a generation that takes time, so a
    test can cancel or interrupt it midway)."""

    _position: int = PrivateAttr(default=0)
    _structured_position: int = PrivateAttr(default=0)
    _prompts: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _tool_choices: list[Any] = PrivateAttr(default_factory=list)
    _bound_tool_names: list[list[str]] = PrivateAttr(default_factory=list)
    _last_prompt_words: list[str] = PrivateAttr(default_factory=list)
    _hints: list[DecodeHints | None] = PrivateAttr(default_factory=list)
    _cancel: threading.Event = PrivateAttr(default_factory=threading.Event)

    @property
    def _llm_type(self) -> str:
        return "agentkit-scripted"

    # --- what the code under test did ------------------------------------------
    @property
    def prompts(self) -> list[list[BaseMessage]]:
        """The messages of every call so far."""
        return self._prompts

    @property
    def tool_choices(self) -> list[Any]:
        """``tool_choice`` of every call made through ``bind_tools``."""
        return self._tool_choices

    @property
    def bound_tool_names(self) -> list[list[str]]:
        return self._bound_tool_names

    @property
    def calls_made(self) -> int:
        return len(self._prompts)

    @property
    def hints(self) -> list[DecodeHints | None]:
        """The decoding hints of every call made through ``bind_tools``
        (recorded, not applied: the script decides the reply)."""
        return self._hints

    def agentkit_profile(self) -> ModelProfile:
        if not self.small:
            return CAPABLE
        return ModelProfile(n_params=270_000_000, base=True, tuned=self.tuned)

    @property
    def supported_hints(self) -> frozenset[HintKind]:
        return ALL_HINTS

    def cancel(self) -> None:
        """Cut the generation in progress short, as ``ChatLlama.cancel`` does:
        its reply ends with ``finish_reason`` ``cancelled``."""
        self._cancel.set()

    # --- LangChain interface --------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = [_tool_name(t) for t in tools]
        return self.bind(agentkit_tools=names, tool_choice=tool_choice, **kwargs)

    def with_structured_output(  # type: ignore[override]
        self, schema: type[BaseModel] | dict[str, Any], *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        def parse(message: AIMessage) -> Any:
            data = json.loads(str(message.content))
            if isinstance(schema, type) and issubclass(schema, BaseModel):
                return schema.model_validate(data)
            return data

        def run(messages: LanguageModelInput) -> Any:
            return parse(self.bind(agentkit_structured=True).invoke(messages))

        return RunnableLambda(run, name="ScriptedStructuredOutput")

    def _next_item(self, structured: bool) -> Any:
        if structured and self._structured_position < len(self.structured):
            item = self.structured[self._structured_position]
            self._structured_position += 1
            return item
        if self._position >= len(self.script):
            if self.repeat_last and self.script:
                return self.script[-1]
            raise IndexError(f"ScriptedChatModel: script exhausted after {self._position} replies")
        item = self.script[self._position]
        self._position += 1
        return item

    def _reply(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        self._prompts.append(list(messages))
        if "agentkit_tools" in kwargs:
            self._bound_tool_names.append(list(kwargs["agentkit_tools"]))
            self._tool_choices.append(kwargs.get("tool_choice"))
            self._hints.append(kwargs.get("hints"))
        item = self._next_item(bool(kwargs.get("agentkit_structured")))
        if callable(item) and not isinstance(item, BaseModel | AIMessage):
            item = item(list(messages))
        if self.delay_s:
            time.sleep(self.delay_s)
        if isinstance(item, AIMessage):
            reply = AIMessage(
                content=item.content,
                tool_calls=list(item.tool_calls),
                invalid_tool_calls=list(item.invalid_tool_calls),
                response_metadata=dict(item.response_metadata),
            )
        elif isinstance(item, BaseModel):
            reply = AIMessage(content=item.model_dump_json())
        elif isinstance(item, dict):
            reply = AIMessage(content=json.dumps(item))
        else:
            reply = AIMessage(content=str(item))
        prompt_text = " ".join(str(m.content) for m in messages)
        prompt_words = prompt_text.split()
        in_tokens = _count_tokens(prompt_text)
        out_tokens = _count_tokens(str(reply.content)) + sum(
            _count_tokens(json.dumps(c["args"])) for c in reply.tool_calls
        )
        # Like llama.cpp's prefix cache: the words this prompt shares at its
        # start with the previous one count as reused.
        reused = 0
        for new, old in zip(prompt_words, self._last_prompt_words, strict=False):
            if new != old:
                break
            reused += 1
        self._last_prompt_words = prompt_words
        reply.usage_metadata = {
            "input_tokens": in_tokens,
            "output_tokens": out_tokens,
            "total_tokens": in_tokens + out_tokens,
            "input_token_details": {"cache_read": min(reused, in_tokens)},
        }
        return reply

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages, **kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._cancel.clear()
        reply = self._reply(messages, **kwargs)
        text = str(reply.content)
        if self.token_delay_s and reply.tool_calls:
            # A tool call streams as its arguments' text, as a real model's does.
            text = text or json.dumps([c["args"] for c in reply.tool_calls])
        for start in range(0, len(text), self.chunk_size):
            if self._cancel.is_set():
                meta = {"finish_reason": "cancelled"}
                last = AIMessageChunk(content="", response_metadata=meta, chunk_position="last")
                yield ChatGenerationChunk(message=last)
                return
            piece = text[start : start + self.chunk_size] if reply.content else ""
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
            if self.token_delay_s:
                time.sleep(self.token_delay_s)
        last = AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                for i, c in enumerate(reply.tool_calls)
            ],
            usage_metadata=reply.usage_metadata,
            response_metadata=dict(reply.response_metadata),
            chunk_position="last",
        )
        yield ChatGenerationChunk(message=last)


def _tool_name(tool: Any) -> str:
    if isinstance(tool, BaseTool):
        return tool.name
    if isinstance(tool, dict):
        return str(tool.get("name") or tool.get("function", {}).get("name", "?"))
    return getattr(tool, "__name__", type(tool).__name__)
