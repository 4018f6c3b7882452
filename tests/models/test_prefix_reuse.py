"""Prefix reuse on the real model: each chat turn evaluates only its new
tokens (the previous reply included: generated tokens stay in the cache), and
reusing the KV cache never changes the result at temperature 0, not a token
and not a logit, even when the new prompt diverges more than Gemma 3's
512-token sliding window before its end.

The guarantee rests on batch-invariant kernels (agentkit.models.kernels,
docs/kernels.md). It is checked on every x86-64 build (`make test` and `make
test-avx2` run these against an AVX-512 and an AVX2-only llama.cpp); on other
architectures agentkit makes no such claim and these tests are skipped.
"""

from __future__ import annotations

import platform
import random

import numpy as np
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        platform.machine().lower() not in ("x86_64", "amd64"),
        reason="batch invariance is only verified (and claimed) on x86-64",
    ),
]

# Tokens a turn may evaluate beyond its new messages: the reply's end-of-turn
# token (never fed to the model) and a re-tokenisation of the reply's last
# token against the text after it.
SLACK = 4


@pytest.fixture(autouse=True)
def _batch_invariant(real_chat_model) -> None:
    rules = real_chat_model.engine.rules
    assert rules.batch_invariant, rules.reason


def _generated_ids(model, prompt_tokens: int) -> list[int]:
    """Token ids the last generation produced and evaluated (the engine keeps
    prompt + generated tokens in ``llm.input_ids``)."""
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
    previous_prompt = previous_reply = 0
    lines = []
    for turn, question in enumerate(questions, start=1):
        messages.append(HumanMessage(question))
        reply, ids = _ask(model, messages, max_tokens=24)
        meta, usage = reply.response_metadata, reply.usage_metadata
        assert usage is not None
        prompt = usage["input_tokens"]
        evaluated, reused = meta["prompt_tokens_evaluated"], meta["prompt_tokens_reused"]
        assert evaluated + reused == prompt
        assert usage["input_token_details"]["cache_read"] == reused
        if turn > 1:
            # New: this question and the turn markers; the previous reply's
            # tokens were generated here and come from the cache.
            new = prompt - previous_prompt - previous_reply
            lines.append(
                f"turn {turn}: evaluated {evaluated} of {prompt} prompt tokens ({new} new)"
            )
            assert evaluated <= max(new, model.engine.rules.min_batch) + SLACK, lines[-1]
        else:
            lines.append(f"turn 1: evaluated {evaluated} of {prompt} prompt tokens")
        transcript.append((list(messages), str(reply.content), ids))
        messages.append(AIMessage(reply.content))
        previous_prompt, previous_reply = prompt, len(ids)
    print("\nprefix reuse over 6 turns:\n  " + "\n  ".join(lines))

    # Cold runs (empty cache) of every turn give the same tokens.
    for turn in range(2, 7):
        turn_messages, content, ids = transcript[turn - 1]
        model.engine.reset_cache()
        cold, cold_ids = _ask(model, turn_messages, max_tokens=24)
        assert cold.response_metadata["prompt_tokens_reused"] == 0
        assert cold_ids == ids, f"turn {turn}: cached {content!r} vs cold {cold.content!r}"
        assert cold.content == content


def test_a_long_reply_is_reused_and_the_next_turn_matches_a_cold_replay(real_chat_model) -> None:
    """The reply's own tokens (decoded in pairs) leave the same KV entries a
    cold prompt evaluation would: the next turn reuses all of them, and its
    logits equal a cold replay's bit for bit."""
    model = real_chat_model
    engine = model.engine
    engine.reset_cache()
    messages: list[BaseMessage] = [HumanMessage("Write a long story about a lighthouse keeper.")]
    reply, ids = _ask(model, messages, max_tokens=200)
    assert len(ids) >= 100
    messages += [AIMessage(reply.content), HumanMessage("Give the story a title.")]
    cached, cached_ids = _ask(model, messages, max_tokens=12)
    cached_logits = engine.logits().copy()
    meta = cached.response_metadata
    total = cached.usage_metadata["input_tokens"]  # type: ignore[index]
    print(f"\nturn 2 evaluated {meta['prompt_tokens_evaluated']} of {total} prompt tokens")
    assert meta["prompt_tokens_evaluated"] / total <= 0.10

    engine.reset_cache()
    cold, cold_ids = _ask(model, messages, max_tokens=12)
    assert cold_ids == cached_ids, f"cached {cached.content!r} vs cold {cold.content!r}"
    assert np.array_equal(engine.logits(), cached_logits)


def test_any_split_into_batches_gives_bit_identical_logits(exact_chat_model) -> None:
    """The property prefix reuse rests on, tested directly: evaluating a
    sequence in one batch, in random batches of two or more tokens, or one
    token at a time in pairs (how the engine decodes), leaves bit-identical
    logits for the last token."""
    engine = exact_chat_model.engine
    llm = engine.llm
    text = " ".join(
        f"{ANIMALS[i % 10]} {FOODS[(i * 3) % 10]} {PLACES[(i * 7) % 10]}" for i in range(90)
    )
    tokens = engine.tokenize(text)[:360]

    def evaluate(plan: list[tuple[int, int]]) -> np.ndarray:
        engine.reset_cache()
        for start, stop in plan:
            llm.n_tokens = start
            llm.eval(tokens[start:stop])
        return engine.logits().copy()

    cold = evaluate([(0, len(tokens))])
    rng = random.Random(7)
    plans: dict[str, list[tuple[int, int]]] = {}
    for n in range(4):
        cuts = sorted(rng.sample(range(2, len(tokens) - 2), 6 + n))
        cuts = [c for i, c in enumerate(cuts) if i == 0 or c - cuts[i - 1] >= 2]
        edges = [0, *cuts, len(tokens)]
        plans[f"random batches {n}"] = list(zip(edges, edges[1:], strict=False))
    plans["pairs after 200"] = [(0, 200), *[(i - 1, i + 1) for i in range(200, len(tokens))]]
    plans["tail of two"] = [(0, len(tokens) - 2), (len(tokens) - 2, len(tokens))]
    for name, plan in plans.items():
        assert min(stop - start for start, stop in plan) >= 2
        drift = float(np.abs(evaluate(plan) - cold).max())
        assert drift == 0.0, f"{name}: logits differ by up to {drift}"
    engine.reset_cache()


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


def test_divergence_beyond_the_sliding_window_matches_a_cold_run(exact_chat_model) -> None:
    """A and B share a long prefix, then differ, then share a tail of more
    than 512 tokens: running B after A reuses only the prefix, so the sliding
    window layers must be restored from a cache position far behind the end.

    Logits are compared as well as tokens: with ``swa_full=False`` the greedy
    tokens here happen to survive but the logits move by ~1, while with
    ``swa_full=True`` cached and cold logits are bit-identical."""
    model = exact_chat_model
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
    cached_logits = engine.logits().copy()  # after the last generated token
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
    cold_logits = engine.logits().copy()
    assert cold.response_metadata["prompt_tokens_reused"] == 0

    assert len(cold_ids) >= 8
    assert cached_ids == cold_ids, f"cached {cached.content!r} vs cold {cold.content!r}"
    drift = float(np.abs(cached_logits - cold_logits).max())
    assert drift == 0.0, f"cached and cold logits differ by up to {drift:.3f}"


def test_repeating_a_prompt_gives_the_cold_result(real_chat_model) -> None:
    model = real_chat_model
    model.engine.reset_cache()
    cold = model.invoke("Name three colours.", max_tokens=6)
    again = model.invoke("Name three colours.", max_tokens=6)
    # only the tail is re-evaluated (a batch of min_batch tokens)
    assert again.response_metadata["prompt_tokens_evaluated"] == model.engine.rules.min_batch
    assert again.content == cold.content
