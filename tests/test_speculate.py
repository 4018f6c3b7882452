"""Prompt-lookup drafting (agentkit.models.speculate), without a model."""

from __future__ import annotations

from agentkit.models.speculate import FIRST_DRAFT, MAX_DRAFT, PromptLookup


def test_drafts_what_followed_the_tail_earlier() -> None:
    lookup = PromptLookup([5, 1, 2, 3, 4, 6, 1, 2], length=3)
    assert lookup.draft(10) == [3, 4, 6]


def test_the_longest_match_back_wins_over_the_nearest() -> None:
    # "9 1 2" occurred once, "8 1 2" later: the tail "9 1 2" picks the first.
    lookup = PromptLookup([9, 1, 2, 3, 8, 1, 2, 4, 9, 1, 2], length=2)
    assert lookup.draft(10) == [3, 8]


def test_the_nearest_match_wins_a_tie() -> None:
    lookup = PromptLookup([1, 2, 3, 1, 2, 4, 1, 2], length=1)
    assert lookup.draft(10) == [4]


def test_no_draft_without_a_two_token_match_or_budget() -> None:
    assert PromptLookup([1, 2, 3, 4], length=4).draft(10) == []
    assert PromptLookup([1, 2, 1, 2], length=4).draft(0) == []
    # One token matching is not enough.
    assert PromptLookup([1, 5, 7, 1], length=4).draft(10) == []


def test_a_draft_stops_at_the_end_of_the_context_and_the_limit() -> None:
    lookup = PromptLookup([1, 2, 3, 1, 2], length=8)
    assert lookup.draft(10) == [3, 1, 2]
    assert lookup.draft(2) == [3, 1]


def test_extend_adds_generated_tokens() -> None:
    lookup = PromptLookup([1, 2, 3, 4], length=2)
    lookup.extend([1, 2])
    assert len(lookup) == 6
    assert lookup.draft(10) == [3, 4]


def test_draft_length_adapts_to_acceptance() -> None:
    lookup = PromptLookup([], length=FIRST_DRAFT)
    lookup.record(1, 1)
    lookup.record(2, 2)
    assert lookup.length == 4 * FIRST_DRAFT
    for _ in range(10):
        lookup.record(lookup.length, lookup.length)
    assert lookup.length == MAX_DRAFT
    lookup.record(MAX_DRAFT, 3)
    assert lookup.length == 3
    lookup.record(3, 0)
    assert lookup.length == 1
    assert (lookup.drafted, lookup.accepted) > (0, 0)
