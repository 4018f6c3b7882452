"""Prompt-lookup speculation: draft the next tokens by finding the latest
tokens earlier in the context, verify the draft in one batch.

Tool arguments often copy the context (a path from the task, the lines of a
file just read into ``edit_file``'s old text). When the last few generated
tokens occur earlier in the context, the tokens that followed them there are
a likely continuation (llama.cpp's "lookup decoding"; llama-cpp-python's
``LlamaPromptLookupDecoding`` drafts the same way, but from the earliest
match and with a fixed draft length).

The engine evaluates the sampled token and its draft in one batch with
logits for every row, then samples each row exactly as plain decoding would
(grammar, biases, closing mode and all) and keeps going while the sampled
token equals the drafted one. The first disagreement ends the draft: its
sampled token is the one plain decoding would have produced there, so the
output is plain decoding's whenever the rows' logits are the ones plain
decoding computes. With batch-invariant kernels (``ReuseRules.batch_invariant``)
they are bit-identical (the number of logits rows a batch asks for does not
change them either: docs/kernels.md); otherwise they may differ in the last
bits, and at temperature 0 the output can differ only where two tokens tie
that closely. Sampling at a temperature stays exact in distribution: each
row is sampled from its own distribution, as plain decoding would.
A grammar needs no separate check: every kept token was sampled under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from agentkit.models.generation import GenerationStats

# Shortest and longest match looked up. One token matches too often to be
# worth a draft; a long match tells apart the lines of a copied block.
MIN_NGRAM = 2
MAX_NGRAM = 32
# Draft lengths. A draft of one token costs about what plain (pair) decoding
# costs: the batch is two rows either way, plus one logits row. Longer
# drafts cost more per batch, so they are earned by accepted drafts.
FIRST_DRAFT = 1
MAX_DRAFT = 16


@dataclass
class PromptLookup:
    """Drafts from the context (prompt and generated tokens so far), and
    adapts the draft length: doubled after a fully accepted draft, halved
    after a rejected first token, the accepted count otherwise."""

    context: Sequence[int]
    max_draft: int = MAX_DRAFT
    length: int = FIRST_DRAFT
    drafted: int = 0
    accepted: int = 0
    _array: np.ndarray = field(init=False, repr=False)
    _size: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        self._array = np.empty(max(16, 2 * len(self.context)), dtype=np.int32)
        self._size = 0
        self.extend(self.context)
        self.context = ()  # the array holds it

    def __len__(self) -> int:
        return self._size

    def extend(self, tokens: Sequence[int]) -> None:
        need = self._size + len(tokens)
        if need > len(self._array):
            grown = np.empty(max(need, 2 * len(self._array)), dtype=np.int32)
            grown[: self._size] = self._array[: self._size]
            self._array = grown
        self._array[self._size : need] = tokens
        self._size = need

    def draft(self, limit: int) -> list[int]:
        """Up to ``min(length, limit)`` tokens that followed the earlier
        occurrence of the context's tail that matches the most tokens back
        (at least ``MIN_NGRAM``, at most ``MAX_NGRAM``; the latest on a tie).
        Matching far back finds the right line of a copied block whose
        lines start alike; the nearest occurrence would be the line before."""
        count = min(self.length, self.max_draft, limit)
        tokens = self._array[: self._size]
        n_total = len(tokens)
        if count <= 0 or n_total <= MIN_NGRAM:
            return []
        # Windows ending at i .. i + MIN_NGRAM - 1 with a continuation (the
        # tail itself is excluded: its continuation is what we predict).
        width = n_total - MIN_NGRAM
        match = tokens[:width] == tokens[width]
        for j in range(1, MIN_NGRAM):
            match &= tokens[j : width + j] == tokens[width + j]
        starts = np.flatnonzero(match)
        # Extend the match backwards while any occurrence still agrees.
        for back in range(1, MAX_NGRAM - MIN_NGRAM + 1):
            if len(starts) <= 1:
                break
            earlier = starts - back
            ok = earlier >= 0
            ok[ok] = tokens[earlier[ok]] == tokens[width - back]
            if not ok.any():
                break
            starts = starts[ok]
        if not len(starts):
            return []
        begin = int(starts[-1]) + MIN_NGRAM
        return tokens[begin : min(begin + count, n_total)].tolist()

    def record(self, drafted: int, accepted: int) -> None:
        """Adapt the next draft's length to how this one went."""
        self.drafted += drafted
        self.accepted += accepted
        if drafted and accepted == drafted:
            self.length = min(self.max_draft, self.length * 2)
        elif accepted == 0:
            self.length = max(FIRST_DRAFT, self.length // 2)
        else:
            self.length = max(FIRST_DRAFT, accepted)


class DraftCache(Protocol):
    """The KV-cache operations drafting needs (the engine's)."""

    def advance(self, token: int) -> None:
        """Evaluate one generated token (no draft)."""
        ...

    def advance_draft(self, token: int, draft: list[int]) -> None:
        """Evaluate ``token`` and ``draft`` in one batch, logits for every row."""
        ...

    def drop_last(self, count: int) -> None:
        """Forget the last ``count`` evaluated tokens."""
        ...


class Speculation:
    """One generation's drafts: evaluates each sampled token with a draft of
    what may follow it, then checks the next sampled tokens against the
    draft. While they match, the token is in the cache already and the
    draft's batch holds the logits after it (:attr:`row`)."""

    def __init__(
        self,
        cache: DraftCache,
        prompt_tokens: Sequence[int],
        stats: GenerationStats,
        *,
        enabled: bool,
    ) -> None:
        self._cache = cache
        self._prompt_length = len(prompt_tokens)
        self._stats = stats
        self._lookup = PromptLookup(prompt_tokens) if enabled else None
        self._expected: list[int] = []
        """The draft's tokens not matched yet."""
        self._drafted = 0
        """How many tokens the draft had."""
        self.row = -1
        """The logits row (of the draft's batch) that predicts the next token;
        -1: the last evaluated batch's last row."""

    def matches(self, token: int) -> bool:
        """Whether ``token`` is the next drafted one (then it is in the
        cache already, and :attr:`row` moves to the logits after it)."""
        if not self._expected or token != self._expected[0]:
            return False
        self._expected.pop(0)
        self.row += 1
        self._stats.draft_accepted += 1
        return True

    def end(self) -> None:
        """The draft ends here: its unmatched rest leaves the cache."""
        if self._lookup is not None and self._drafted:
            self._lookup.record(self._drafted, self._drafted - len(self._expected))
            self._cache.drop_last(len(self._expected))
        self._expected, self._drafted, self.row = [], 0, -1

    def advance(self, token: int, generated: Sequence[int], room: int) -> None:
        """Evaluate the sampled ``token`` (the last of ``generated``), with up
        to ``room`` drafted tokens after it when the context suggests some."""
        draft: list[int] = []
        if self._lookup is not None:
            self._lookup.extend(generated[len(self._lookup) - self._prompt_length :])
            draft = self._lookup.draft(room)
        if draft:
            self._cache.advance_draft(token, draft)
            self._expected, self._drafted, self.row = draft, len(draft), 0
            self._stats.draft_tokens += len(draft)
        else:
            self._cache.advance(token)

    def abandon(self) -> None:
        """The generation is over: drafted tokens the output never reached
        leave the cache."""
        if self._expected:
            self._cache.drop_last(len(self._expected))
            self._expected = []
