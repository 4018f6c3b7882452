"""Prefix reuse on the real model: each chat turn evaluates only its new
tokens, and reusing the KV cache never changes the result (temperature 0),
even when the new prompt diverges more than Gemma 3's 512-token sliding
window before its end."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agentkit.models.engine import MIN_BATCH

pytestmark = pytest.mark.model

# Tokens a turn may evaluate beyond its new messages: the reply's last token
# when generation stopped on end-of-turn (never fed to the model) and a
# possible re-tokenisation of the reply's first/last token.
SLACK = 4


def _generated_ids(model, prompt_tokens: int) -> list[int]:
    """Token ids the last generation produced (the engine keeps prompt +
    generated tokens in ``llm.input_ids``)."""
    llm = model.engine.llm
    return [int(t) for t in llm.input_ids[prompt_tokens : llm.n_tokens]]


def _ask(model, messages: list[BaseMessage], max_tokens: int) -> tuple[AIMessage, list[int]]:
    reply = model.invoke(messages, max_tokens=max_tokens)
    assert isinstance(reply, AIMessage)
    assert reply.usage_metadata is not None
    return reply, _generated_ids(model, reply.usage_metadata["input_tokens"])


def test_six_turns_evaluate_only_new_tokens_and_match_cold_runs(real_chat_model) -> None:
    model = real_chat_model
    questions = [
        "Hello! Who are you?",
        "Name a colour.",
        "Name a fruit that is yellow.",
        "Count from one to five.",
        "Which animal says moo?",
        "Thanks, goodbye.",
    ]
    messages: list[BaseMessage] = [SystemMessage("You are a friendly assistant. Answer briefly.")]
    transcript: list[tuple[list[BaseMessage], str, list[int]]] = []
    previous_prompt = 0
    lines = []
    for turn, question in enumerate(questions, start=1):
        messages.append(HumanMessage(question))
        reply, ids = _ask(model, messages, max_tokens=8)
        meta, usage = reply.response_metadata, reply.usage_metadata
        assert usage is not None
        prompt = usage["input_tokens"]
        evaluated, reused = meta["prompt_tokens_evaluated"], meta["prompt_tokens_reused"]
        assert evaluated + reused == prompt
        assert usage["input_token_details"]["cache_read"] == reused
        if turn > 1:
            new = prompt - previous_prompt  # the last reply and this question
            lines.append(
                f"turn {turn}: evaluated {evaluated} of {prompt} prompt tokens ({new} new)"
            )
            # The engine re-evaluates at least MIN_BATCH tail tokens and never
            # reuses tokens it generated one at a time (see engine._prefill).
            assert evaluated <= max(new, MIN_BATCH) + SLACK, lines[-1]
            # Every earlier prompt token came from the cache.
            assert reused >= min(previous_prompt, prompt - MIN_BATCH) - SLACK, lines[-1]
        else:
            lines.append(f"turn 1: evaluated {evaluated} of {prompt} prompt tokens")
        transcript.append((list(messages), str(reply.content), ids))
        messages.append(AIMessage(reply.content))
        previous_prompt = prompt
    print("\nprefix reuse over 6 turns:\n  " + "\n  ".join(lines))

    # Cold runs (empty cache) of the middle and last turns give the same tokens.
    for turn in (3, 6):
        turn_messages, content, ids = transcript[turn - 1]
        model.engine.reset_cache()
        cold, cold_ids = _ask(model, turn_messages, max_tokens=8)
        assert cold.response_metadata["prompt_tokens_reused"] == 0
        assert cold_ids == ids, f"turn {turn}: cached {content!r} vs cold {cold.content!r}"
        assert cold.content == content


ANIMALS = ["fox", "owl", "bear", "seal", "crow", "wolf", "hare", "lynx", "toad", "moth"]
COLOURS = ["red", "grey", "brown", "white", "black", "green", "amber", "blue", "pink", "gold"]
FOODS = ["berries", "mice", "honey", "fish", "seeds", "deer", "clover", "birds", "flies", "nectar"]
PLACES = ["Oslo", "Lima", "Kyoto", "Perth", "Quito", "Tunis", "Riga", "Hanoi", "Cork", "Baku"]


def _facts(start: int, stop: int) -> str:
    return "\n".join(
        f"Fact {i}: the {COLOURS[i % 10]} {ANIMALS[(i * 3) % 10]} of {PLACES[(i * 7) % 10]} "
        f"eats {FOODS[(i * 9) % 10]} and sleeps {i % 5 + 2} hours."
        for i in range(start, stop)
    )


def test_divergence_beyond_the_sliding_window_matches_a_cold_run(real_chat_model) -> None:
    """A and B share a long prefix, then differ, then share a tail of more
    than 512 tokens: running B after A reuses only the prefix, so the sliding
    window layers must be restored from a cache position far behind the end.

    Logits are compared (to 1e-4) as well as tokens: with ``swa_full=False``
    the greedy tokens here happen to survive but the logits move by ~1, while
    with ``swa_full=True`` cached and cold logits are bit-identical."""
    model = real_chat_model
    engine = model.engine
    # ~19 tokens per fact: a ~650-token prefix and a ~600-token tail.
    prefix = "Read these facts.\n" + _facts(0, 34)
    tail = _facts(34, 64) + "\nQuestion: what does the red fox of Oslo eat? Answer:"
    prompt_a = [HumanMessage(f"{prefix}\nNote A: the list below was checked on Monday.\n{tail}")]
    prompt_b = [
        HumanMessage(f"{prefix}\nNote B: these were copied from an old almanac by hand.\n{tail}")
    ]

    engine.reset_cache()
    first, _ = _ask(model, prompt_a, max_tokens=1)
    assert first.usage_metadata is not None
    assert first.usage_metadata["input_tokens"] > 1200

    cached, cached_ids = _ask(model, prompt_b, max_tokens=16)
    cached_logits = engine._logits().copy()  # after the last generated token
    assert cached.usage_metadata is not None
    total = cached.usage_metadata["input_tokens"]
    reused = cached.response_metadata["prompt_tokens_reused"]
    print(
        f"\nsliding-window check: B reused {reused} of {total} prompt tokens, "
        f"diverging {total - reused} tokens before its end"
    )
    assert reused > 400  # the shared prefix came from the cache ...
    assert total - reused > 512  # ... and the divergence is beyond the 512-token window

    engine.reset_cache()
    cold, cold_ids = _ask(model, prompt_b, max_tokens=16)
    cold_logits = engine._logits().copy()
    assert cold.response_metadata["prompt_tokens_reused"] == 0

    assert len(cold_ids) >= 8
    assert cached_ids == cold_ids, f"cached {cached.content!r} vs cold {cold.content!r}"
    drift = float(np.abs(cached_logits - cold_logits).max())
    assert drift < 1e-4, f"cached and cold logits differ by up to {drift:.3f}"


def test_repeating_a_prompt_gives_the_cold_result(real_chat_model) -> None:
    model = real_chat_model
    model.engine.reset_cache()
    cold = model.invoke("Name three colours.", max_tokens=6)
    again = model.invoke("Name three colours.", max_tokens=6)
    # the tail is always re-evaluated in one batch of >= MIN_BATCH tokens
    assert again.response_metadata["prompt_tokens_evaluated"] <= MIN_BATCH
    assert again.content == cold.content
