"""Unit tests for schema → GBNF (agentkit.models.grammar) and prompt rendering
(agentkit.models.prompt). No inference: grammars are checked with llama.cpp's
own grammar sampler over the bundled model's vocabulary (loaded vocab-only),
feeding it the tokens of a candidate text and asking whether it accepts them.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field

from agentkit.models import grammar as grammars
from agentkit.models.calls import parse_tool_calls
from agentkit.models.prompt import (
    ChatMLFormat,
    GemmaFormat,
    Turn,
    choose_format,
    messages_to_turns,
    render_tool_call,
)

# --- a grammar checker over the real vocabulary ----------------------------------------


class GrammarChecker:
    """Does a GBNF grammar accept a text? Uses llama.cpp's grammar sampler,
    which is what the engine uses while decoding."""

    def __init__(self, model_path: Path) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.llm = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)

    def compiles(self, gbnf: str) -> bool:
        sampler = self._lib.llama_sampler_init_grammar(self.vocab, gbnf.encode(), b"root")
        if not sampler:
            return False
        self._lib.llama_sampler_free(sampler)
        return True

    def accepts(self, gbnf: str, text: str) -> bool:
        """Whether ``text`` is a complete sentence of the grammar: every token
        is allowed in turn and end-of-generation is allowed after the last."""
        lib = self._lib
        sampler = lib.llama_sampler_init_grammar(self.vocab, gbnf.encode(), b"root")
        assert sampler, "grammar does not compile"
        one = lib.llama_token_data(0, 0.0, 0.0)
        arr = lib.llama_token_data_array(
            data=ctypes.pointer(one), size=1, selected=-1, sorted=False
        )

        def allowed(token: int) -> bool:
            one.id, one.logit, arr.size, arr.selected = token, 0.0, 1, -1
            lib.llama_sampler_apply(sampler, ctypes.byref(arr))
            return not math.isinf(one.logit)

        try:
            for token in self.llm.tokenize(text.encode(), add_bos=False, special=False):
                if not allowed(token):
                    return False
                # Only accept allowed tokens: llama.cpp throws (and aborts the
                # process) when accepting a token the grammar rejects.
                lib.llama_sampler_accept(sampler, token)
            return allowed(self.llm.token_eos())
        finally:
            lib.llama_sampler_free(sampler)


@pytest.fixture(scope="module")
def checker(bundled_model_path: Path) -> Iterator[GrammarChecker]:
    yield GrammarChecker(bundled_model_path)


def call(name: str, args: dict[str, Any]) -> str:
    return render_tool_call(name, args)


# --- schemas ---------------------------------------------------------------------------


class Weather(BaseModel):
    """Get the weather."""

    city: str
    unit: Literal["celsius", "fahrenheit"] = "celsius"


class Add(BaseModel):
    """Add two integers."""

    a: int
    b: int


class Inner(BaseModel):
    city: str
    floor: int | None = None


class Event(BaseModel):
    """Create an event."""

    title: str
    tags: list[str] = Field(max_length=2)
    where: Inner
    price: float | None = None
    public: bool = False


class NoArgs(BaseModel):
    """Takes nothing."""


TOOLS = [convert_to_openai_tool(t) for t in (Weather, Add, Event, NoArgs)]


# --- tighten -------------------------------------------------------------------------


def test_tighten_closes_every_object_and_leaves_input_alone() -> None:
    for schema in (Event.model_json_schema(), convert_to_json_schema(Event)):
        original = repr(schema)
        tight = grammars.tighten(schema)
        assert repr(schema) == original, "tighten must not mutate its argument"
        assert tight["additionalProperties"] is False
        inner = tight["$defs"]["Inner"] if "$defs" in tight else tight["properties"]["where"]
        assert inner["additionalProperties"] is False


def test_tighten_keeps_explicit_additional_properties_and_literal_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "meta": {"type": "object", "additionalProperties": {"type": "string"}},
            "kind": {"enum": [{"type": "object"}], "default": {"type": "object"}},
            "fixed": {"const": {"properties": {}}},
        },
    }
    tight = grammars.tighten(schema)
    assert tight["additionalProperties"] is False
    assert tight["properties"]["meta"]["additionalProperties"] == {"type": "string"}
    # Values are data, not schemas: never rewritten.
    assert tight["properties"]["kind"]["enum"] == [{"type": "object"}]
    assert tight["properties"]["kind"]["default"] == {"type": "object"}
    assert tight["properties"]["fixed"]["const"] == {"properties": {}}


def test_tighten_leaves_free_form_objects_open() -> None:
    # json_mode asks for "any object": nothing to close.
    assert grammars.tighten({"type": "object"}) == {"type": "object"}


def test_forced_calls_put_their_fixed_start_in_the_prompt() -> None:
    one = grammars.tool_call_grammar(TOOLS[:1], "required")
    assert one.prefix == '<tool_call>{"name": "Weather", "arguments": '
    several = grammars.tool_call_grammar(TOOLS, "required")
    assert several.prefix == '<tool_call>{"name": "'
    assert grammars.tool_call_grammar(TOOLS, "auto").prefix == ""


def accepts(checker: GrammarChecker, grammar: grammars.ToolCallGrammar, text: str) -> bool:
    """Whether the model's whole reply (prefix included) is in the language."""
    if not text.startswith(grammar.prefix):
        return False
    return checker.accepts(grammar.gbnf, text[len(grammar.prefix) :])


def test_unenforced_keywords_are_reported() -> None:
    assert grammars.unenforced_keywords({"type": "integer", "multipleOf": 3}) == {"multipleOf"}
    assert grammars.unenforced_keywords(convert_to_json_schema(Weather)) == set()


# --- grammars compile and accept exactly the valid calls ----------------------------------


@pytest.mark.parametrize("mode", ["auto", "required"])
@pytest.mark.parametrize("count", [1, 2, 4])
def test_tool_call_grammar_compiles_in_llama_cpp(
    checker: GrammarChecker, mode: str, count: int
) -> None:
    grammar = grammars.tool_call_grammar(TOOLS[:count], mode, max_calls=2)  # type: ignore[arg-type]
    assert checker.compiles(grammar.gbnf)


def test_tool_call_grammar_needs_a_tool() -> None:
    with pytest.raises(ValueError):
        grammars.tool_call_grammar([], "required")


def test_required_grammar_accepts_valid_calls(checker: GrammarChecker) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "required", max_calls=1)
    valid = [
        call("Weather", {"city": "Paris"}),
        call("Weather", {"city": "Oslo", "unit": "fahrenheit"}),
        call("Add", {"a": -2, "b": 30}),
        call("Event", {"title": "x", "tags": ["a", "b"], "where": {"city": "Rome", "floor": None}}),
        call(
            "Event",
            {"title": "y", "tags": [], "where": {"city": "Rome"}, "price": 1.5, "public": True},
        ),
        call("NoArgs", {}),
    ]
    for text in valid:
        assert accepts(checker, gbnf, text), text


@pytest.mark.parametrize(
    "text",
    [
        call("Nope", {}),  # unknown tool
        call("Weather", {}),  # missing required argument
        call("Weather", {"city": "Paris", "country": "FR"}),  # invented key
        call("Weather", {"city": "Paris", "unit": "kelvin"}),  # not in the enum
        call("Add", {"a": 1.5, "b": 2}),  # number for an integer
        call("Add", {"a": "1", "b": 2}),  # string for an integer
        call("Event", {"title": "x", "tags": ["a", "b", "c"], "where": {"city": "R"}}),  # maxItems
        call("Event", {"title": "x", "tags": [], "where": {"city": "R", "zip": 1}}),  # nested key
        call("Event", {"title": "x", "tags": [], "where": {"city": "R"}, "public": "yes"}),
        call("NoArgs", {"x": 1}),
        '<tool_call>{"name": "Add", "arguments": {"a": 1, "b": 2}}',  # unclosed block
        # Only json.dumps' separators: whitespace is not the model's to choose.
        '<tool_call>{"name": "Add", "arguments": {"a":1,"b":2}}</tool_call>',
        '<tool_call>{"name": "Add", "arguments": { "a": 1, "b": 2 }}</tool_call>',
        "plain text",  # text is not allowed when a call is required
    ],
)
def test_required_grammar_rejects_invalid_calls(checker: GrammarChecker, text: str) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "required", max_calls=1)
    assert not accepts(checker, gbnf, text)


def test_max_calls_bounds_the_number_of_blocks(checker: GrammarChecker) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "required", max_calls=2)
    one, two = call("Add", {"a": 1, "b": 2}), call("NoArgs", {})
    assert accepts(checker, gbnf, one)
    assert accepts(checker, gbnf, f"{one}\n{two}")
    assert not accepts(checker, gbnf, f"{one}\n{two}\n{one}")


def test_auto_grammar_allows_text_or_calls_but_not_both(checker: GrammarChecker) -> None:
    gbnf = grammars.tool_call_grammar(TOOLS, "auto", max_calls=1)
    assert accepts(checker, gbnf, "It is sunny.")
    assert accepts(checker, gbnf, call("Weather", {"city": "Paris"}))
    assert not accepts(checker, gbnf, "<b>bold</b>")  # text may not start like a call
    assert not accepts(checker, gbnf, call("Weather", {"city": "Paris"}) + " and more")


def test_json_grammar_matches_the_structured_output_schema(checker: GrammarChecker) -> None:
    gbnf = grammars.json_grammar(convert_to_json_schema(Event))
    assert checker.compiles(gbnf)
    assert checker.accepts(gbnf, '{"title": "t", "tags": ["a"], "where": {"city": "c"}}')
    assert not checker.accepts(gbnf, '{"title": "t", "tags": ["a"]}')  # missing required
    assert not checker.accepts(gbnf, '{"title": "t", "tags": [], "where": {"city": "c"}, "x": 1}')


class Rating(BaseModel):
    """Rate something."""

    model_config = ConfigDict(extra="forbid")
    stars: int = Field(ge=1, le=5)


class Note(BaseModel):
    """Write a note."""

    text: str


def test_grammar_enforces_integer_bounds(checker: GrammarChecker) -> None:
    gbnf = grammars.tool_call_grammar([convert_to_openai_tool(Rating)], "required", max_calls=1)
    for stars in (1, 3, 5):
        assert accepts(checker, gbnf, call("Rating", {"stars": stars})), stars
    for stars in (0, 6, 10, -1, 15):
        assert not accepts(checker, gbnf, call("Rating", {"stars": stars})), stars


class Seek(BaseModel):
    """Jump to a line."""

    model_config = ConfigDict(extra="forbid")
    line: int


class Far(BaseModel):
    """A bound beyond the open-integer digit limit."""

    model_config = ConfigDict(extra="forbid")
    offset: int = Field(ge=10**12)


def test_unbounded_integers_get_a_sane_digit_limit(checker: GrammarChecker) -> None:
    gbnf = grammars.tool_call_grammar([convert_to_openai_tool(Seek)], "required", max_calls=1)
    for line in (0, 7, -3, 120, 999_999_999):
        assert accepts(checker, gbnf, call("Seek", {"line": line})), line
    for line in (1_000_000_000, 100_000_000_000_000):
        assert not accepts(checker, gbnf, call("Seek", {"line": line})), line
    far = grammars.tool_call_grammar([convert_to_openai_tool(Far)], "required", max_calls=1)
    assert accepts(checker, far, call("Far", {"offset": 10**12 + 5}))
    assert not accepts(checker, far, call("Far", {"offset": 5}))


def test_degenerate_repetition_is_detected() -> None:
    from agentkit.models.engine import degenerate

    assert degenerate([5] * 16)
    assert degenerate([1, 2, 3] * 6)
    assert degenerate([9, 9, 1, 2, 3, 4, 5, 6, 7, 8] + [4, 5, 6, 7, 8, 9, 10, 11] * 4)
    assert degenerate([7, 8] + list(range(100, 110)) * 4)  # a 10-token phrase, 4 times
    assert not degenerate(list(range(100, 110)) * 3)
    assert not degenerate([5] * 15)
    assert not degenerate([1, 2, 3] * 3)
    assert not degenerate(list(range(40)))
    assert not degenerate([1, 2, 1, 2, 1, 2, 3] * 3)


def test_grammar_rejects_raw_newlines_in_strings(checker: GrammarChecker) -> None:
    gbnf = grammars.tool_call_grammar([convert_to_openai_tool(Note)], "required", max_calls=1)
    assert accepts(checker, gbnf, call("Note", {"text": "a\nb"}))  # escaped: valid JSON
    assert not accepts(
        checker, gbnf, '<tool_call>{"name": "Note", "arguments": {"text": "a\nb"}}</tool_call>'
    )


# --- prompt formats ----------------------------------------------------------------------


def test_gemma_merges_system_into_the_first_user_turn() -> None:
    prompt = GemmaFormat().render([Turn("system", "Be brief."), Turn("user", "Hi")])
    assert prompt == ("<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
    assert "system" not in prompt


def test_gemma_system_only_and_roles() -> None:
    assert GemmaFormat().render([Turn("system", "S")]) == (
        "<start_of_turn>user\nS<end_of_turn>\n<start_of_turn>model\n"
    )
    prompt = GemmaFormat().render(
        [Turn("user", "a"), Turn("user", "b"), Turn("assistant", "c"), Turn("user", "d")]
    )
    assert prompt == (
        "<start_of_turn>user\na\n\nb<end_of_turn>\n"
        "<start_of_turn>model\nc<end_of_turn>\n"
        "<start_of_turn>user\nd<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


def test_chatml_keeps_the_system_role() -> None:
    prompt = ChatMLFormat().render([Turn("system", "S"), Turn("user", "U")])
    assert prompt == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    )


def test_choose_format() -> None:
    common = {"bos_token": "<bos>", "eos_token": "<eos>"}
    assert isinstance(
        choose_format("auto", architecture="gemma3", chat_template=None, **common), GemmaFormat
    )
    assert isinstance(
        choose_format("auto", architecture="llama", chat_template=None, **common), ChatMLFormat
    )
    assert isinstance(
        choose_format("chatml", architecture="gemma3", chat_template=None, **common), ChatMLFormat
    )
    template = "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}[assistant]"
    jinja = choose_format("auto", architecture="gemma3", chat_template=template, **common)
    assert jinja.render([Turn("user", "hi")]) == "[user]hi[assistant]"
    with pytest.raises(ValueError, match="no chat template"):
        choose_format("gguf", architecture="gemma3", chat_template=None, **common)
    with pytest.raises(ValueError, match="unknown chat_format"):
        choose_format("vicuna", architecture="gemma3", chat_template=None, **common)


def test_messages_to_turns_writes_tool_calls_and_results_as_text() -> None:
    turns = messages_to_turns(
        [
            SystemMessage("S"),
            HumanMessage("Weather?"),
            AIMessage("", tool_calls=[{"name": "Weather", "args": {"city": "Paris"}, "id": "c1"}]),
            ToolMessage("sunny", tool_call_id="c1", name="Weather"),
        ]
    )
    assert [t.role for t in turns] == ["system", "user", "assistant", "user"]
    assert (
        turns[2].text
        == '<tool_call>{"name": "Weather", "arguments": {"city": "Paris"}}</tool_call>'
    )
    assert turns[3].text == '<tool_response name="Weather">\nsunny\n</tool_response>'


def test_unsupported_content_blocks_are_a_clear_error() -> None:
    message = HumanMessage(content=[{"type": "image_url", "image_url": {"url": "http://x/y.png"}}])
    with pytest.raises(ValueError, match="image_url"):
        messages_to_turns([message])


# A conversation as an agent produces it: the model is invoked whenever the
# last message is from the user or a tool, and its reply is appended.
CONVERSATION: list[BaseMessage] = [
    SystemMessage("You are a helpful assistant."),
    HumanMessage("What's the weather in Paris?"),
    AIMessage("", tool_calls=[{"name": "Weather", "args": {"city": "Paris"}, "id": "c1"}]),
    ToolMessage("sunny, 21 C", tool_call_id="c1", name="Weather"),
    AIMessage("It is sunny in Paris."),
    HumanMessage("And 2 + 3?"),
    AIMessage("", tool_calls=[{"name": "Add", "args": {"a": 2, "b": 3}, "id": "c2"}]),
    ToolMessage("5", tool_call_id="c2", name="Add"),
    AIMessage("5."),
    HumanMessage("Thanks!"),
]


@pytest.mark.parametrize("fmt", [GemmaFormat(), ChatMLFormat()], ids=["gemma", "chatml"])
def test_rendering_is_append_only(fmt: GemmaFormat | ChatMLFormat) -> None:
    generation_prompt = fmt.render([])
    # From k=2 on (Gemma folds a lone system message into the first user turn).
    for k in range(2, len(CONVERSATION)):
        shorter = fmt.render(messages_to_turns(CONVERSATION[:k]))
        longer = fmt.render(messages_to_turns(CONVERSATION[: k + 1]))
        assert shorter.endswith(generation_prompt)
        assert longer.startswith(shorter.removesuffix(generation_prompt)), k
        if isinstance(CONVERSATION[k], AIMessage):
            # The prompt the model saw plus its reply is where the next prompt
            # starts: the KV cache covers everything already evaluated.
            reply = messages_to_turns([CONVERSATION[k]])[0].text
            assert longer.startswith(shorter + reply), k


def test_the_chat_tool_set_compiles_in_one_grammar(checker: GrammarChecker, tmp_path: Path) -> None:
    """`agentkit chat` binds every built-in tool, the memory tools and
    final_answer at once; llama.cpp must accept that grammar (long string
    bounds, unrolled, used to push it past llama.cpp's repetition limit)."""
    from agentkit.config import Settings
    from agentkit.graphs.support import FinalAnswerArgs
    from agentkit.tools import builtin_tools
    from agentkit.tools.memory import RecallArgs, RememberArgs, SearchDocsArgs

    tools = [convert_to_openai_tool(t) for t in builtin_tools(Settings(workspace=tmp_path))]
    tools += [
        convert_to_openai_tool(m)
        for m in (SearchDocsArgs, RememberArgs, RecallArgs, FinalAnswerArgs)
    ]
    for mode in ("required", "auto"):
        grammar = grammars.tool_call_grammar(tools, mode)  # type: ignore[arg-type]
        assert checker.compiles(grammar.gbnf), mode


class LongNote(BaseModel):
    """Keep a note."""

    text: str = Field(min_length=1, max_length=2000)


def test_long_string_bounds_are_enforced_by_the_grammar(checker: GrammarChecker) -> None:
    tool = convert_to_openai_tool(LongNote)
    grammar = grammars.tool_call_grammar([tool], "required")
    assert accepts(checker, grammar, call("LongNote", {"text": "a"}))
    assert accepts(checker, grammar, call("LongNote", {"text": "ab " * 666 + "ab"}))  # 2000
    assert not accepts(checker, grammar, call("LongNote", {"text": ""}))  # minLength 1
    assert not accepts(checker, grammar, call("LongNote", {"text": "ab " * 667}))  # 2001
    # and what decoding emits is validated once more
    valid, invalid = parse_tool_calls(call("LongNote", {"text": "a" * 2001}), [tool])
    assert valid == [] and len(invalid) == 1


def test_markup_inside_a_string_value_stays_in_its_call() -> None:
    tool = convert_to_openai_tool(Note)
    text = call("Note", {"text": "see <tool_call>{} and </tool_call> here"})
    valid, invalid = parse_tool_calls(text + "\n" + call("Note", {"text": "second"}), [tool])
    assert [c["args"]["text"] for c in valid] == [
        "see <tool_call>{} and </tool_call> here",
        "second",
    ]
    assert invalid == []
    cut, bad = parse_tool_calls('<tool_call>{"name": "Note", "argu', [tool])
    assert cut == [] and len(bad) == 1


# A Hermes/Qwen-style chat template, cut down to its tool-calling parts.
HERMES_TEMPLATE = (
    "{%- if tools %}<|im_start|>system\n"
    "{%- if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}\n\n{%- endif %}"
    "# Tools\n<tools>\n{%- for tool in tools %}\n{{ tool | tojson }}{%- endfor %}\n</tools>\n"
    'For each call return <tool_call>\n{"name": ..., "arguments": ...}\n</tool_call><|im_end|>\n'
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' or (message.role == 'system' and not tools) %}"
    "<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n"
    "{%- elif message.role == 'assistant' %}<|im_start|>assistant\n{{ message.content }}"
    "{%- for call in message.tool_calls or [] %}<tool_call>\n"
    '{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson }}}'
    "\n</tool_call>{%- endfor %}<|im_end|>\n"
    "{%- elif message.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ message.content }}"
    "\n</tool_response><|im_end|>\n{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{%- endif %}"
)


def test_a_template_with_tools_is_rendered_natively_and_constrained(
    checker: GrammarChecker,
) -> None:
    from agentkit.models import ChatLlama
    from agentkit.models.prompt import HERMES_CLOSE, HERMES_OPEN, JinjaFormat, native_tool_style

    assert native_tool_style(HERMES_TEMPLATE)[0] == "hermes"
    assert native_tool_style("{{ messages }}") == (None, "the chat template takes no tools")
    assert native_tool_style(None)[0] is None
    fmt = JinjaFormat(HERMES_TEMPLATE, bos_token="", eos_token="<|im_end|>")
    model = ChatLlama(model_path="unused.gguf")
    model._format = fmt
    assert model.tool_call_mode == "native-hermes"
    tools = [convert_to_openai_tool(Rating)]
    history: list[BaseMessage] = [
        SystemMessage("Be brief."),
        HumanMessage("Rate it 4"),
        AIMessage("", tool_calls=[{"name": "Rating", "args": {"stars": 4}, "id": "c1"}]),
        ToolMessage("saved", tool_call_id="c1", name="Rating"),
        HumanMessage("And now 5"),
    ]
    prompt, gbnf, prefix = model._prompt(history, tools, "required", None)
    assert '"name": "Rating"' in prompt and "<tools>" in prompt and "Be brief." in prompt
    assert '<tool_call>\n{"name": "Rating", "arguments": {"stars": 4}}\n</tool_call>' in prompt
    assert "<tool_response>\nsaved\n</tool_response>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n" + prefix)
    native_call = HERMES_OPEN + '{"name": "Rating", "arguments": {"stars": 5}}' + HERMES_CLOSE
    assert native_call.startswith(prefix)
    assert checker.accepts(gbnf, native_call[len(prefix) :])
    valid, invalid = parse_tool_calls(native_call, tools)
    assert [c["args"] for c in valid] == [{"stars": 5}] and not invalid
