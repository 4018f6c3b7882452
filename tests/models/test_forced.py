"""Forced-text detection for jump-forward decoding (agentkit.models.forced),
over llama.cpp's grammar sampler and the bundled model's vocabulary (loaded
vocab-only: no inference here; tests/models/test_jump_forward.py decodes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict

from agentkit.models import grammar as grammars
from agentkit.models.forced import ForcedText, GrammarSampler


class Vocab:
    def __init__(self, path: Path) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=False)

    def detokenize(self, tokens: list[int]) -> str:
        return b"".join(
            self.llm._model.token_to_piece(t, special=False).rstrip(b"\0") for t in tokens
        ).decode()

    def forced(self) -> ForcedText:
        found = ForcedText.for_vocab(self.tokenize, self.detokenize, self.llm.token_eos())
        assert found is not None, "every probe character has a token of its own"
        return found

    def sampler(self, gbnf: str, text: str = "") -> GrammarSampler:
        sampler = GrammarSampler.compile(self.vocab, gbnf)
        for token in self.tokenize(text):
            sampler.accept(token)
        return sampler


@pytest.fixture(scope="module")
def vocab(bundled_model_path: Path) -> Iterator[Vocab]:
    yield Vocab(bundled_model_path)


class ReadFile(BaseModel):
    """Read a file."""

    model_config = ConfigDict(extra="forbid")
    path: str
    start_line: int = 1


class WriteFile(BaseModel):
    """Write a file."""

    model_config = ConfigDict(extra="forbid")
    path: str
    content: str


class Pick(BaseModel):
    """Pick a colour."""

    model_config = ConfigDict(extra="forbid")
    colour: str


TOOLS = [convert_to_openai_tool(t) for t in (ReadFile, WriteFile)]


def test_the_text_after_a_chosen_name_is_forced_up_to_the_first_value(vocab: Vocab) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "required").gbnf
    forced = vocab.forced()
    # Two names start differently: nothing is forced before the model picks.
    assert forced.text(vocab.sampler(gbnf)) == ("", False)
    # "Read" decides it: the rest of the name, the keys and the separators
    # up to the path's first character are forced.
    text, ends = forced.text(vocab.sampler(gbnf, "Read"))
    assert (text, ends) == ('File", "arguments": {"path": "', False)
    # Inside a string nothing is forced.
    assert forced.text(vocab.sampler(gbnf, 'ReadFile", "arguments": {"path": "no')) == ("", False)


def test_the_closing_tail_is_forced_to_the_end(vocab: Vocab) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "required").gbnf
    forced = vocab.forced()
    call = 'WriteFile", "arguments": {"path": "a.txt", "content": "hi"'
    assert forced.text(vocab.sampler(gbnf, call)) == ("}}</tool_call>", True)
    jump = forced.jump(vocab.sampler(gbnf, call), budget=64)
    assert jump.ends and not jump.pinned
    assert vocab.detokenize(jump.tokens) == "}}</tool_call>"
    # A required key after a closed value: its key is forced.
    assert forced.text(vocab.sampler(gbnf, 'WriteFile", "arguments": {"path": "a"')) == (
        ', "content": "',
        False,
    )
    # An optional key: "}" or ", " may follow, so nothing is forced.
    assert forced.text(vocab.sampler(gbnf, 'ReadFile", "arguments": {"path": "a"')) == ("", False)


def test_a_jump_leaves_the_last_token_to_the_model(vocab: Vocab) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "required").gbnf
    forced = vocab.forced()
    jump = forced.jump(vocab.sampler(gbnf, "Read"), budget=64)
    whole = vocab.tokenize('File", "arguments": {"path": "')
    assert jump.tokens == whole[:-1] and jump.pinned and not jump.ends
    # A budget caps it; a budget of 0 only reports that the next token is forced.
    assert forced.jump(vocab.sampler(gbnf, "Read"), budget=2).tokens == whole[:2]
    probe = forced.jump(vocab.sampler(gbnf, "Read"), budget=0)
    assert probe.tokens == [] and probe.pinned


def test_probing_leaves_the_grammar_where_it_was(vocab: Vocab) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "required").gbnf
    sampler = vocab.sampler(gbnf, "Read")
    vocab.forced().text(sampler)
    for token in vocab.tokenize('File", "arguments": {"path": "x"}}</tool_call>'):
        assert sampler.allows(token)
        sampler.accept(token)


def test_enum_values_are_forced_once_they_are_told_apart(vocab: Vocab) -> None:
    tools = grammars.with_choices(
        [convert_to_openai_tool(Pick), *TOOLS], {"Pick": {"colour": ["teal", "tomato", "red"]}}
    )
    gbnf = grammars.tool_call_grammar(tools, "required").gbnf
    forced = vocab.forced()
    head = 'Pick", "arguments": {"colour": "'
    assert forced.text(vocab.sampler(gbnf, head + "t")) == ("", False)  # teal or tomato
    assert forced.text(vocab.sampler(gbnf, head + "to")) == ('mato"}}</tool_call>', True)


def test_grammars_with_non_ascii_literals_are_not_jumped(vocab: Vocab) -> None:
    tools = grammars.with_choices(
        [convert_to_openai_tool(Pick), *TOOLS], {"Pick": {"colour": ["grün", "grey"]}}
    )
    gbnf = grammars.tool_call_grammar(tools, "required").gbnf
    assert vocab.forced().text(vocab.sampler(gbnf, "Pi")) == ("", False)


def test_auto_mode_forces_the_call_opening_after_its_first_character(vocab: Vocab) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "auto").gbnf
    forced = vocab.forced()
    assert forced.text(vocab.sampler(gbnf)) == ("", False)  # text or a call
    assert forced.text(vocab.sampler(gbnf, "<")) == ('tool_call>{"name": "', False)
