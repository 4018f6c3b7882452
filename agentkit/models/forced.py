"""llama.cpp's grammar sampler, and jump-forward decoding through the text a
grammar forces.

Where the grammar admits exactly one continuation (after a tool's name,
``", "arguments": {"path": "`` when ``path`` is its first required key; the
``}</tool_call>`` tail; the rest of an enum value once its first
distinguishing characters are chosen), the engine appends the forced text
without sampling it and evaluates it as one batch, as SGLang's compressed-FSM
"jump-forward" and llguidance's fast-forward tokens do.

How the forced text is found: llama.cpp's grammar works on characters, so a
copy of the sampler is asked, character by character, which single-character
tokens it allows next; while exactly one is allowed (and the grammar may not
end there), that character is forced. Every printable ASCII character, tab
and newline is asked about; grammars with non-ASCII literals are not jumped
(such a literal could be the one other choice), and inside strings the probe
stops after two allowed characters, so a step that forces nothing costs a
few microseconds. (A GBNF escape such as ``\u00fc`` counts as non-ASCII.)

Tokenizer boundary: the forced text is retokenised, and its last token is
left for the model to sample (under the grammar), because the model may
write it merged with the free text that follows (``" notes`` vs ``"`` +
``notes``). When the forced text runs to the end of the grammar, all of it
is appended and generation ends without evaluating it.
"""

from __future__ import annotations

import ctypes
import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# llama_token_data is {int32 id; float logit; float p}: 12 bytes, no padding.
TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])

# Characters a forced-text probe asks about, the ones most often allowed
# first: inside a string or number two of these answer it.
PROBE_FIRST = "ea10 "
PROBE_CHARS = PROBE_FIRST + "".join(
    c for c in string.printable if c not in PROBE_FIRST and c not in "\r\x0b\x0c"
)
MAX_FORCED_CHARS = 256
# GBNF escapes for characters beyond ASCII (the converter writes an enum
# value "grün" as the literal "gr\u00fcn"). May also match an escaped
# backslash before a "u": that only turns jumping off for the grammar.
NON_ASCII_ESCAPE = re.compile(r"\\(?:[uU][0-9a-fA-F]|x[89a-fA-F])")


class GrammarSampler:
    """A compiled llama.cpp grammar sampler, reset between uses."""

    def __init__(self, ptr: int, ascii_only: bool) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.ptr = ptr
        self.ascii_only = ascii_only
        """No non-ASCII literal: a forced-text probe sees every choice."""
        self._one = llama_cpp.llama_token_data(0, 0.0, 0.0)
        self._one_arr = llama_cpp.llama_token_data_array(
            data=ctypes.pointer(self._one), size=1, selected=-1, sorted=False
        )

    @classmethod
    def compile(cls, vocab: ctypes.c_void_p, gbnf: str) -> GrammarSampler:
        import llama_cpp

        ptr = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
        if not ptr:
            raise ValueError("llama.cpp rejected the grammar (see stderr for the parse error)")
        return cls(ptr, gbnf.isascii() and not NON_ASCII_ESCAPE.search(gbnf))

    def clone(self) -> GrammarSampler:
        """An independent copy in the same state (for probing ahead)."""
        return GrammarSampler(self._lib.llama_sampler_clone(self.ptr), self.ascii_only)

    def reset(self) -> None:
        self._lib.llama_sampler_reset(self.ptr)

    def allows(self, token: int) -> bool:
        self._one.id = token
        self._one.logit = 0.0
        self._one_arr.size = 1
        self._one_arr.selected = -1
        self._lib.llama_sampler_apply(self.ptr, ctypes.byref(self._one_arr))
        return not math.isinf(self._one.logit)

    def allowed_among(self, ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``ids`` the grammar allows next."""
        data = np.zeros(len(ids), dtype=TOKEN_DATA)
        data["id"] = ids
        self.mask(data)
        return np.isfinite(data["logit"])

    def mask(self, data: np.ndarray) -> None:
        """Set the logit of every token the grammar forbids to -inf, in place."""
        arr = self._lib.llama_token_data_array(
            data=data.ctypes.data_as(ctypes.POINTER(self._lib.llama_token_data)),
            size=len(data),
            selected=-1,
            sorted=False,
        )
        self._lib.llama_sampler_apply(self.ptr, ctypes.byref(arr))

    def accept(self, token: int) -> None:
        self._lib.llama_sampler_accept(self.ptr, token)

    def __del__(self) -> None:
        ptr = getattr(self, "ptr", None)
        if ptr:
            self._lib.llama_sampler_free(ptr)


@dataclass(frozen=True)
class Jump:
    """What the grammar forces at this point of a generation."""

    tokens: list[int]
    """Tokens to append without sampling."""
    ends: bool
    """They finish the output: the grammar allows nothing after them."""
    pinned: bool
    """The next sampled token is forced text too (the span's last token,
    left to the model): steering biases must not bend its spelling."""


NOTHING_FORCED = Jump([], False, False)


class ForcedText:
    """Finds the text a grammar forces next, for one model's vocabulary."""

    def __init__(
        self,
        char_tokens: dict[str, int],
        end_token: int,
        tokenize: Callable[[str], list[int]],
        detokenize: Callable[[list[int]], str],
    ) -> None:
        self._probes = [(c, char_tokens[c]) for c in PROBE_CHARS]
        self._end = end_token
        self._tokenize = tokenize
        self._detokenize = detokenize

    @classmethod
    def for_vocab(
        cls,
        tokenize: Callable[[str], list[int]],
        detokenize: Callable[[list[int]], str],
        end_token: int,
    ) -> ForcedText | None:
        """None when some probe character has no single token of its own
        (the probe could then miss an allowed character)."""
        char_tokens: dict[str, int] = {}
        for char in PROBE_CHARS:
            tokens = tokenize(char)
            if len(tokens) != 1 or detokenize(tokens) != char:
                return None
            char_tokens[char] = tokens[0]
        if end_token < 0:
            return None
        return cls(char_tokens, end_token, tokenize, detokenize)

    def text(self, grammar: GrammarSampler, limit: int = MAX_FORCED_CHARS) -> tuple[str, bool]:
        """The text ``grammar`` forces from its current state (up to
        ``limit`` characters), and whether the grammar must end after it."""
        if not grammar.ascii_only:
            return "", False
        probe = grammar.clone()
        forced: list[str] = []
        ends = False
        while len(forced) < limit:
            if probe.allows(self._end):
                ends = True
                break
            only: tuple[str, int] | None = None
            for char, token in self._probes:
                if probe.allows(token):
                    if only is not None:
                        return "".join(forced), False
                    only = (char, token)
            if only is None:
                break  # nothing printable: a non-ASCII or control character
            forced.append(only[0])
            probe.accept(only[1])
        if ends:
            # Forced up to a point where the grammar may end: only forced to
            # the end if ending is the one choice.
            ends = not any(probe.allows(token) for _, token in self._probes)
        return "".join(forced), ends

    def jump(self, grammar: GrammarSampler, budget: int) -> Jump:
        """The tokens to append now (at most ``budget``; 0 only reports
        whether the next token is forced): the forced text, retokenised,
        without its last token unless the output ends there."""
        text, ends = self.text(grammar)
        if not text:
            # Ending is the one choice: the output is complete as it is.
            return Jump([], True, False) if ends and budget > 0 else NOTHING_FORCED
        tokens = self._tokenize(text) if budget > 0 else []
        if not tokens or self._detokenize(tokens) != text:
            return Jump([], False, True)
        if not ends:
            tokens = tokens[:-1]
        if len(tokens) > budget:
            return Jump(tokens[:budget], False, True)
        return Jump(tokens, ends, not ends)


@dataclass(frozen=True)
class JumpForward:
    """Jump-forward for one generation. Forced text is probed even when
    jumping is off (``enabled`` false): the steering biases stay off where
    the grammar leaves no choice."""

    forced: ForcedText | None
    """None: nothing to probe (no grammar, or a vocabulary the probe cannot use)."""
    grammar: GrammarSampler | None
    enabled: bool

    def next(self, budget: int) -> Jump:
        """What the grammar forces now: at most ``budget`` tokens to append."""
        if self.forced is None or self.grammar is None:
            return NOTHING_FORCED
        return self.forced.jump(self.grammar, budget if self.enabled else 0)
