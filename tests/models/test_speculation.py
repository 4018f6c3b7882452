"""Prompt-lookup speculation on the real model gives plain decoding's output,
token for token, at temperature 0: on a reply that copies the context (most
of it drafted and accepted) and on tool calls, one that copies a file's lines
and one that copies nothing.

It holds by construction where the kernels are batch invariant (a row's
logits do not depend on the batch it was verified in); the engine's
``decode_batches`` shows the sequential evaluations it saved.
"""

from __future__ import annotations

import platform

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import tool

from agentkit.bench.decoding import copy_messages, copy_source, write_file_tool
from agentkit.models.engine import SamplingParams

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        platform.machine().lower() not in ("x86_64", "amd64"),
        reason="batch invariance is only verified (and claimed) on x86-64",
    ),
]

SOURCE = copy_source(8)

write_file = write_file_tool()


@tool
def get_time(city: str) -> str:
    """The local time in a city."""
    return "12:00"


def _generated(model, reply: AIMessage) -> list[int]:
    """The tokens the engine generated and kept (drafts it did not keep are
    dropped from the cache)."""
    assert reply.usage_metadata is not None
    llm = model.engine.llm
    return [int(t) for t in llm.input_ids[reply.usage_metadata["input_tokens"] : llm.n_tokens]]


def _calls(reply: AIMessage) -> list[tuple[str, dict]]:
    return [(call["name"], call["args"]) for call in reply.tool_calls]


def _both(model, messages: list[BaseMessage], **kwargs) -> tuple[AIMessage, AIMessage, list, list]:
    plain = model.invoke(messages, prompt_lookup=False, **kwargs)
    plain_ids = _generated(model, plain)
    fast = model.invoke(messages, prompt_lookup=True, **kwargs)
    fast_ids = _generated(model, fast)
    return plain, fast, plain_ids, fast_ids


def test_copying_text_is_identical_and_mostly_drafted(real_chat_model) -> None:
    engine = real_chat_model.engine
    prompt = engine.tokenize(
        f"Here is a file:\n```python\n{SOURCE}```\nThe same file again, unchanged:\n```python\n"
    )
    runs = {}
    for on in (False, True):
        engine.reset_cache()
        generation = engine.generate(
            prompt, SamplingParams(temperature=0.0, max_tokens=80, prompt_lookup=on)
        )
        text = "".join(generation)
        ids = [int(t) for t in engine.llm.input_ids[len(prompt) : engine.llm.n_tokens]]
        runs[on] = (text, ids, generation.stats)
    (plain_text, plain_ids, plain), (text, ids, fast) = runs[False], runs[True]
    assert text == plain_text and ids == plain_ids
    assert plain.decode_batches == plain.completion_tokens and plain.draft_tokens == 0
    assert fast.completion_tokens == plain.completion_tokens
    # The reply copies the file: most tokens came from verified drafts.
    assert fast.draft_accepted >= fast.completion_tokens // 2
    assert fast.decode_batches <= fast.completion_tokens // 2


def test_a_call_copying_a_file_is_identical(real_chat_model) -> None:
    # The file was written once already: the call copies it from the context.
    # Without steering biases, this small base model copies the file whole.
    unsteered = real_chat_model.model_copy(update={"copy_bias": 0.0, "avoid_bias": 0.0})
    model = unsteered.bind_tools([write_file], tool_choice="write_file")
    messages = copy_messages(SOURCE)
    plain, fast, plain_ids, fast_ids = _both(model, messages, max_tokens=200)
    assert fast_ids == plain_ids
    assert _calls(fast) == _calls(plain) and fast.tool_calls
    assert fast.tool_calls[0]["args"]["content"] == SOURCE
    meta, plain_meta = fast.response_metadata, plain.response_metadata
    assert meta["draft_accepted"] >= fast.usage_metadata["output_tokens"] // 2
    assert meta["decode_batches"] <= plain_meta["decode_batches"] // 2


def test_a_call_copying_nothing_is_identical(real_chat_model) -> None:
    model = real_chat_model.bind_tools([get_time], tool_choice="get_time")
    messages: list[BaseMessage] = [HumanMessage("What time is it in the capital of Japan?")]
    plain, fast, plain_ids, fast_ids = _both(model, messages, max_tokens=40)
    assert fast_ids == plain_ids
    assert _calls(fast) == _calls(plain) and fast.tool_calls


def test_prose_is_identical(real_chat_model) -> None:
    messages: list[BaseMessage] = [HumanMessage("Name three rivers and one fact about each.")]
    plain, fast, plain_ids, fast_ids = _both(real_chat_model, messages, max_tokens=48)
    assert fast_ids == plain_ids
    assert fast.content == plain.content
