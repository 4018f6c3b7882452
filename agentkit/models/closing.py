"""Closing structured output along its grammar before it goes wrong.

A tool call or JSON value cut off by ``max_tokens`` would not parse, and one
that degenerates into repetition never ends. So once the generated text
starts with the structured part (``close_after``), a generation whose budget
runs low, or whose last tokens repeat one short pattern, is put in closing
mode: tokens that end strings, arrays and objects get a large logit bonus,
and among what the grammar allows the model closes the JSON instead of
continuing it. It may then run a little past ``max_tokens`` to finish.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from agentkit.models.generation import GenerationStats

# A constrained generation closes its JSON when this few tokens of budget
# are left, and may then run this many tokens past max_tokens to finish it:
# a cut-off call would be invalid, and a closed one is valid.
CLOSING_RESERVE = 32
CLOSING_ALLOWANCE = 64
# Text that closes JSON structures; in closing mode these tokens get a large
# logit bonus, so among what the grammar allows the model ends strings,
# arrays and objects instead of continuing them.
CLOSERS = ('"', "}", "]", '"}', '"]', "}}", '"}}', "]}", '"]}', "}]", '"}]')
CLOSER_BONUS = 50.0
# Inside a string every closer is also plain content: "}" there continues the
# string (SmolLM2 wrote "}}}}}}" until the budget ran out). Ending the string
# first gets this much more.
QUOTE_CLOSER_EXTRA = 10.0
# A constrained generation whose last tokens are one short pattern repeated
# (e.g. `Desktop\\` over and over inside a path, or a tool result's
# "(1 lines, 11 bytes) " ten tokens at a time) has degenerated: close it.
REPEAT_MAX_PERIOD = 16
REPEAT_MIN_SPAN = 16
REPEAT_MIN_COUNT = 4


def degenerate(tokens: Sequence[int]) -> bool:
    """Whether ``tokens`` ends with a pattern of 1..16 tokens repeated at least
    four times over at least 16 tokens."""
    n = len(tokens)
    for period in range(1, REPEAT_MAX_PERIOD + 1):
        span = period * max(REPEAT_MIN_COUNT, -(-REPEAT_MIN_SPAN // period))
        if n < span:
            break
        tail = tokens[n - span :]
        if all(tail[i] == tail[i - period] for i in range(period, span)):
            return True
    return False


def single_token_ids(
    texts: Sequence[str], tokenize: Callable[[str], list[int]], end_token: int | None
) -> np.ndarray:
    """The ids of those ``texts`` that are one token (plus ``end_token``
    when given and valid), sorted and unique."""
    ids = []
    for text in texts:
        tokens = tokenize(text)
        if len(tokens) == 1:
            ids.append(tokens[0])
    if end_token is not None and end_token >= 0:
        ids.append(end_token)
    return np.unique(np.asarray(ids, dtype=np.int64))


@dataclass(frozen=True)
class CloserBias:
    """The logit bonus closing mode gives one vocabulary's closing tokens."""

    closer_ids: np.ndarray
    """Every single-token closer, and end of text."""
    quote_closer_ids: np.ndarray
    """The closers that end a string first."""

    @classmethod
    def for_vocab(cls, tokenize: Callable[[str], list[int]], end_token: int) -> CloserBias:
        """``tokenize``: text without BOS, special tokens parsed."""
        return cls(
            closer_ids=single_token_ids(CLOSERS, tokenize, end_token),
            quote_closer_ids=single_token_ids(
                [c for c in CLOSERS if c.startswith('"')], tokenize, None
            ),
        )

    def apply(self, logits: np.ndarray) -> None:
        """Add the bonus to ``logits``, in place."""
        logits[self.closer_ids] += CLOSER_BONUS
        logits[self.quote_closer_ids] += QUOTE_CLOSER_EXTRA


@dataclass(frozen=True)
class Closing:
    """When one generation must close, and how far past its budget it may run."""

    max_tokens: int
    close_after: str | None
    """With a grammar: close once the text starts with this (``""``: always).
    None: the output is not structured, never close."""
    constrained: bool
    """The generation has a grammar (closing follows it)."""

    @property
    def structured(self) -> bool:
        return self.constrained and self.close_after is not None

    @property
    def limit(self) -> int:
        """The most tokens generated, the allowance for closing included."""
        return self.max_tokens + (CLOSING_ALLOWANCE if self.structured else 0)

    def spent(self, step: int, stats: GenerationStats) -> bool:
        """Whether ``step`` tokens use up the budget: the allowance past
        ``max_tokens`` is for closing only."""
        if step >= self.limit:
            return True
        return step >= self.max_tokens and stats.closed_early is None

    def check(self, text: str, generated: Sequence[int], stats: GenerationStats) -> None:
        """Enter closing mode (set ``stats.closed_early``) when the budget
        runs low or the output repeats itself."""
        if not self.structured or stats.closed_early is not None:
            return
        if not text.startswith(self.close_after or ""):
            return
        if len(generated) >= self.max_tokens - CLOSING_RESERVE:
            stats.closed_early = "budget"
        elif degenerate(generated):
            stats.closed_early = "repetition"
