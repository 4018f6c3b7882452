"""Jump-forward decoding on the real model: the text a grammar forces is
appended without sampling, the calls stay what plain decoding gives at
temperature 0, and fewer sequential evaluations are made.

The jumped text is retokenised (its last token left to the model), so the
token sequence may differ from plain decoding's where plain decoding spelled
forced text in unusual pieces; on the tool calls here it does not, and the
bench's "identical" row checks the agent's own calls (docs/benchmarks.md).
"""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel

pytestmark = pytest.mark.model


@tool
def read_file(path: str, start_line: int = 1) -> str:
    """Read a text file in the workspace."""
    return ""


@tool
def write_file(path: str, content: str) -> str:
    """Write content to the file at path (the whole file)."""
    return ""


@tool
def current_time() -> str:
    """The current local time."""
    return "12:00"


class Answer(BaseModel):
    """A short answer."""

    answer: str
    confident: bool


def _calls(reply: AIMessage) -> list[tuple[str, dict]]:
    return [(call["name"], call["args"]) for call in reply.tool_calls]


def _both(model, messages: list[BaseMessage], **kwargs) -> tuple[AIMessage, AIMessage]:
    plain = model.invoke(messages, jump_forward=False, prompt_lookup=False, **kwargs)
    fast = model.invoke(messages, jump_forward=True, prompt_lookup=False, **kwargs)
    return plain, fast


@pytest.mark.parametrize(
    "task",
    ["Write 'hello world' to hello.txt", "Read notes.txt", "What is in config/app.yaml?"],
)
def test_calls_are_the_same_with_fewer_evaluations(exact_chat_model, task: str) -> None:
    model = exact_chat_model.bind_tools([read_file, write_file], tool_choice="required")
    plain, fast = _both(model, [HumanMessage(task)], max_tokens=80)
    assert _calls(fast) == _calls(plain) and fast.tool_calls
    meta, plain_meta = fast.response_metadata, plain.response_metadata
    assert plain_meta["jumped_tokens"] == 0
    assert plain_meta["decode_batches"] == plain.usage_metadata["output_tokens"]
    # Every token of the call is counted, jumped or sampled.
    assert fast.usage_metadata["output_tokens"] == plain.usage_metadata["output_tokens"]
    assert meta["jumped_tokens"] >= 8
    assert meta["decode_batches"] <= plain_meta["decode_batches"] - meta["jumped_tokens"] // 2


def test_a_call_the_grammar_forces_whole_is_not_decoded(exact_chat_model) -> None:
    model = exact_chat_model.bind_tools([current_time], tool_choice="current_time")
    plain, fast = _both(model, [HumanMessage("What time is it?")])
    assert _calls(fast) == _calls(plain) == [("current_time", {})]
    assert fast.response_metadata["decode_batches"] == 0
    assert fast.response_metadata["finish_reason"] == "tool_calls"


def test_structured_output_is_jumped_and_valid(real_chat_model) -> None:
    # Plain decoding writes this object's opening as "{" + '"' + "answer"
    # (the model wanted another first token, and the grammar's fallback took
    # the best allowed piece); jump-forward writes the tokenizer's '{"'. The
    # answer after it may then differ ("Paris the capital" vs "Paris is the
    # capital"): both are valid, and this is the kind of difference the
    # bench's "identical" row counts.
    model = real_chat_model.with_structured_output(Answer, method="json_schema", include_raw=True)
    messages: list[BaseMessage] = [HumanMessage("Is Paris the capital of France?")]
    out = model.invoke(messages, jump_forward=True, prompt_lookup=False, max_tokens=60)
    assert isinstance(out["parsed"], Answer) and out["parsing_error"] is None
    assert out["raw"].response_metadata["jumped_tokens"] >= 3


def test_auto_mode_prose_is_untouched(real_chat_model) -> None:
    model = real_chat_model.bind_tools([read_file], tool_choice="auto")
    plain, fast = _both(model, [HumanMessage("Say hello to Ana.")], max_tokens=30)
    assert fast.content == plain.content and _calls(fast) == _calls(plain)
