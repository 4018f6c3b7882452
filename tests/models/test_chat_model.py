"""ChatLlama's LangChain behaviour on the real bundled model (temperature 0):
streaming, stop sequences, usage, async streaming and cancellation, thread
safety, tool_choice and structured output. Token budgets are small: what
matters is that the pieces agree with each other, not what the 270M base
model says."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import BaseModel
from tests_support import add, get_weather

pytestmark = pytest.mark.model

POEM = "Write a short poem about the sea."
POEM_TOKENS = 16

# Runs whose texts are compared start from an empty cache, so they evaluate
# the prompt in the same batches: a prompt evaluated as one token on top of a
# cache can flip a near-tie (see test_repeating_a_prompt_gives_the_cold_result).


@dataclass
class Poem:
    invoked: AIMessage
    chunks: list[AIMessageChunk]


@pytest.fixture(scope="module")
def poem(real_chat_model) -> Poem:
    """One invoke and one stream of the same prompt, each from an empty cache."""
    real_chat_model.engine.reset_cache()
    invoked = real_chat_model.invoke(POEM, max_tokens=POEM_TOKENS)
    real_chat_model.engine.reset_cache()
    chunks = list(real_chat_model.stream(POEM, max_tokens=POEM_TOKENS))
    assert isinstance(invoked, AIMessage)
    return Poem(invoked, chunks)


def test_stream_yields_several_chunks_that_add_up_to_invoke(poem: Poem) -> None:
    text_chunks = [c.content for c in poem.chunks if c.content]
    assert len(text_chunks) >= 3
    assert "".join(text_chunks) == poem.invoked.content
    assert poem.invoked.content.strip()
    merged = sum(poem.chunks[1:], poem.chunks[0])
    assert merged.content == poem.invoked.content
    assert merged.usage_metadata == poem.invoked.usage_metadata


def test_usage_and_response_metadata(poem: Poem) -> None:
    usage = poem.invoked.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 5
    assert usage["output_tokens"] == POEM_TOKENS  # hit max_tokens ...
    assert poem.invoked.response_metadata["finish_reason"] == "length"  # ... and says so
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    meta = poem.invoked.response_metadata
    assert usage["input_token_details"]["cache_read"] == meta["prompt_tokens_reused"]
    assert meta["prompt_tokens_evaluated"] + meta["prompt_tokens_reused"] == usage["input_tokens"]
    assert set(meta["timings"]) >= {
        "prompt_ms",
        "decode_ms",
        "prompt_per_second",
        "decode_per_second",
    }
    assert meta["model_name"] == "bundled:gemma3-270m"
    assert meta["prompt_tokens_reused"] == 0  # from an empty cache


def test_stop_sequence_cuts_the_output(real_chat_model, poem: Poem) -> None:
    full = str(poem.invoked.content)
    words = full.split()
    assert len(words) >= 3, full
    stop = words[2]  # cut at the third word
    expected = full[: full.find(stop)]
    real_chat_model.engine.reset_cache()
    reply = real_chat_model.invoke(POEM, max_tokens=POEM_TOKENS, stop=[stop])
    assert reply.content == expected
    assert stop not in reply.content
    assert reply.response_metadata["finish_reason"] == "stop"


async def test_astream_matches_invoke(real_chat_model, poem: Poem) -> None:
    real_chat_model.engine.reset_cache()
    chunks = [c async for c in real_chat_model.astream(POEM, max_tokens=POEM_TOKENS)]
    assert "".join(str(c.content) for c in chunks) == poem.invoked.content
    real_chat_model.engine.reset_cache()
    reply = await real_chat_model.ainvoke(POEM, max_tokens=POEM_TOKENS)
    assert reply.content == poem.invoked.content


async def test_cancelling_astream_frees_the_engine(real_chat_model) -> None:
    prompt = "Tell me a very long story about a dragon and a knight."
    engine = real_chat_model.engine
    received: list[str] = []
    two_chunks = asyncio.Event()

    async def consume() -> None:
        async for chunk in real_chat_model.astream(prompt, max_tokens=200):
            if chunk.content:
                received.append(str(chunk.content))
            if len(received) >= 2:
                two_chunks.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two_chunks.wait(), timeout=120)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not engine.lock.locked()
    decoded_until_cancel = engine.cached_tokens

    # The next call works, and the cancelled generation stopped early.
    reply = await real_chat_model.ainvoke(prompt, max_tokens=4)
    assert reply.content
    assert reply.usage_metadata is not None
    prompt_tokens = reply.usage_metadata["input_tokens"]
    assert decoded_until_cancel - prompt_tokens < 40, "generation ran on after the cancel"
    assert reply.response_metadata["prompt_tokens_reused"] == max(
        0, prompt_tokens - engine.rules.min_batch
    )


def test_breaking_out_of_a_sync_stream_frees_the_engine(real_chat_model) -> None:
    engine = real_chat_model.engine
    for index, _chunk in enumerate(
        real_chat_model.stream("Count from one to fifty.", max_tokens=64)
    ):
        if index >= 2:
            break
    assert not engine.lock.locked()
    reply = real_chat_model.invoke("Count from one to fifty.", max_tokens=2)
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] >= 1


def test_two_threads_invoking_at_once_both_complete(real_chat_model) -> None:
    prompt = "Name three colours."
    results: list[AIMessage | BaseException | None] = [None, None]

    def work(slot: int) -> None:
        try:
            results[slot] = real_chat_model.invoke(prompt, max_tokens=6)
        except BaseException as err:  # noqa: BLE001 - reported below
            results[slot] = err

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(isinstance(r, AIMessage) for r in results), results
    first, second = results
    assert isinstance(first, AIMessage) and isinstance(second, AIMessage)
    # Serialised by the engine lock: both decoded their own 6 tokens, and
    # whichever ran second found the prompt (but the re-evaluated tail) in
    # the cache, with the same result (reuse is exact).
    for reply in (first, second):
        assert reply.usage_metadata is not None
        assert reply.usage_metadata["output_tokens"] >= 1
        assert reply.content
    assert first.content == second.content
    prompt_tokens = first.usage_metadata["input_tokens"]  # type: ignore[index]
    reused = max(r.response_metadata["prompt_tokens_reused"] for r in (first, second))
    assert reused == max(0, prompt_tokens - real_chat_model.engine.rules.min_batch)


def test_tool_choice_none_gives_plain_text_with_the_plain_prompt(real_chat_model) -> None:
    question = "What's the weather in Paris?"
    plain = real_chat_model.invoke(question, max_tokens=8)
    none = real_chat_model.bind_tools([get_weather, add], tool_choice="none").invoke(
        question, max_tokens=8
    )
    assert none.tool_calls == [] and none.invalid_tool_calls == []
    assert none.content
    # No tool instructions: the prompt is the plain one, token for token
    # (all of it but the re-evaluated tail came from the plain call's cache).
    prompt_tokens = plain.usage_metadata["input_tokens"]  # type: ignore[index]
    assert none.usage_metadata["input_tokens"] == prompt_tokens  # type: ignore[index]
    min_batch = real_chat_model.engine.rules.min_batch
    assert none.response_metadata["prompt_tokens_reused"] == max(0, prompt_tokens - min_batch)


def test_named_tool_choice_calls_only_that_tool(real_chat_model) -> None:
    reply = real_chat_model.bind_tools([get_weather, add], tool_choice="add").invoke(
        "What's the weather in Paris?", max_tokens=48
    )
    assert reply.tool_calls, reply
    assert {c["name"] for c in reply.tool_calls} == {"add"}
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    assert reply.content == ""
    add.args_schema.model_validate(reply.tool_calls[0]["args"])  # type: ignore[union-attr]


def test_tool_choice_forms_are_normalised(real_chat_model) -> None:
    tools = [get_weather, add]
    assert real_chat_model.bind_tools(tools, tool_choice="any").kwargs["tool_choice"] == "required"
    assert real_chat_model.bind_tools(tools, tool_choice=True).kwargs["tool_choice"] == "required"
    assert real_chat_model.bind_tools(tools).kwargs["tool_choice"] == "auto"
    named = {"type": "function", "function": {"name": "add"}}
    assert real_chat_model.bind_tools(tools, tool_choice=named).kwargs["tool_choice"] == "add"
    with pytest.raises(ValueError, match="not one of the bound tools"):
        real_chat_model.bind_tools(tools, tool_choice="multiply")


class Person(BaseModel):
    name: str
    age: int


def test_with_structured_output_returns_the_model(real_chat_model) -> None:
    prompt = "Ann is 31 years old."
    person = real_chat_model.with_structured_output(Person).invoke(prompt)
    assert isinstance(person, Person)

    raw = real_chat_model.with_structured_output(Person, include_raw=True).invoke(prompt)
    assert set(raw) == {"raw", "parsed", "parsing_error"}
    assert isinstance(raw["raw"], AIMessage)
    assert raw["parsing_error"] is None
    assert raw["parsed"] == person  # same prompt, temperature 0
    assert Person.model_validate_json(str(raw["raw"].content)) == person


def test_front_ends_read_context_use_through_the_package(real_chat_model) -> None:
    """What the TUI's status bar shows: the in-process model's cache and
    context size; nothing for a model that is not one."""
    from agentkit.models import ContextUsage, context_usage, ensure_loaded

    ensure_loaded(real_chat_model)
    real_chat_model.invoke(POEM, max_tokens=4)
    engine = real_chat_model.engine
    assert context_usage(real_chat_model) == ContextUsage(engine.cached_tokens, engine.n_ctx)
    assert context_usage(object()) is None
    ensure_loaded(object())  # not a model: nothing to load
