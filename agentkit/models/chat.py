"""``ChatLlama``: a LangChain chat model over in-process llama.cpp.

- Tool calls and structured output are produced under a grammar built from
  the JSON schemas (see :mod:`agentkit.models.grammar`), so they parse and
  validate even on a 270M base model.
- ``tool_choice``: ``"auto"`` (text or calls), ``"any"``/``"required"`` (at
  least one call), ``"none"`` (no calls), or a tool name (that tool).
- One shared :class:`~agentkit.models.engine.LlamaEngine` per model per
  process; prefix reuse is reported per call in ``response_metadata``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from agentkit.config import Settings, load_settings
from agentkit.errors import ModelError
from agentkit.models import grammar as grammars
from agentkit.models.engine import GenerationStats, LlamaEngine, LoadParams, SamplingParams
from agentkit.models.forced import GrammarSampler
from agentkit.models.hints import ALL_HINTS, DecodeHints, HintKind
from agentkit.models.profile import ModelProfile, file_profile
from agentkit.models.prompt import (
    HERMES_CLOSE,
    HERMES_OPEN,
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
    JinjaFormat,
    PromptFormat,
    ToolPromptStyle,
    Turn,
    choose_format,
    json_instruction,
    messages_to_turns,
    tools_instruction,
)

ToolChoice = Literal["auto", "any", "required", "none"] | str
TOOL_RESPONSE_OPEN = "<tool_response"
# ChatLlama's own defaults for a small model called without hints (the agent
# always passes its steering's hints), measured on agentkit eval: copy from
# the request and results, avoid the tool instructions' words, lean to a call
# after a request and to text after a result.
SMALL_COPY_BIAS = 2.0
SMALL_AVOID_BIAS = 4.0
SMALL_AUTO_CALL_BIAS = 8.0
ToolCallMode = Literal["grammar", "native-hermes"]


def _normalise_choice(choice: Any, tool_names: list[str]) -> str:
    if choice is None or choice == "auto":
        return "auto"
    if choice is True or choice in ("any", "required"):
        return "required"
    if choice is False or choice == "none":
        return "none"
    if isinstance(choice, dict):
        choice = (choice.get("function") or {}).get("name") or choice.get("name")
    if isinstance(choice, str):
        if choice not in tool_names:
            raise ValueError(f"tool_choice '{choice}' is not one of the bound tools {tool_names}")
        return choice
    raise ValueError(f"unsupported tool_choice {choice!r}")


def sampling_settings(settings: Settings) -> dict[str, Any]:
    """The chat-model fields every backend (in-process or server) takes from settings."""
    return {
        "chat_format": settings.chat_format,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "top_k": settings.top_k,
        "max_tokens": settings.max_tokens,
        "seed": settings.seed,
        "max_parallel_tool_calls": settings.parallel_tool_calls,
        "tool_prompt": settings.tool_prompt,
        "auto_call_bias": settings.auto_call_bias,
    }


class ChatLlama(BaseChatModel):
    """LangChain chat model running a GGUF model in-process with llama.cpp."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    model_path: str = Field(description="Path to the GGUF file (use from_settings for specs).")
    model_name: str = Field("", alias="model", description="Display name.")
    adapter_path: str | None = Field(
        None,
        description="A GGUF LoRA adapter llama.cpp applies to the model (agentkit.models.adapter).",
    )
    n_ctx: int = 8192
    n_threads: int = 2
    n_batch: int = 512
    n_gpu_layers: int = 0
    flash_attn: bool = False
    prompt_lookup: bool = Field(
        True,
        description="Draft tokens the reply copies from the context and verify them in one "
        "batch (agentkit.models.speculate): the same output, fewer sequential decodes.",
    )
    jump_forward: bool = Field(
        True,
        description="Append the text a tool-call or JSON grammar forces without sampling it "
        "(agentkit.models.forced): fewer sequential decodes per call.",
    )
    chat_format: str = "auto"
    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    max_tokens: int = 512
    seed: int = -1
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    max_parallel_tool_calls: int = 1
    min_constrained_tokens: int = Field(
        256,
        description="Token budget floor for tool calls and structured output: "
        "max_tokens caps prose, but cutting a JSON value short would make it invalid.",
    )
    disable_streaming: bool | Literal["tool_calling"] = False
    tool_prompt: ToolPromptStyle = Field(
        "signatures",
        description="How bound tools are described: one signature line each, or their "
        "JSON-schema properties.",
    )

    # Defaults for calls without hints (None: on for small models, see
    # agentkit.models.profile, with the values measured best on `agentkit
    # eval`; off for larger ones). Hints, when given, replace them.
    copy_bias: float | None = Field(
        None,
        description="Logit bonus, inside tool calls and JSON, for tokens of copy_from (the "
        "task and the latest results; by default the conversation's last user message and "
        "tool results): arguments and answers are copied from there.",
    )
    avoid_bias: float | None = Field(
        None,
        description="Logit penalty, inside tool calls and JSON, for words of avoid_from (worked "
        "examples' values; by default the tool instructions, which small models echo) that "
        "copy_from does not contain.",
    )
    auto_call_bias: float | None = Field(
        None,
        description="tool_choice='auto': logit bias towards starting a call after a user "
        "message and towards answering in text after a tool result.",
    )

    _format: PromptFormat | None = PrivateAttr(default=None)
    _cancel: threading.Event = PrivateAttr(default_factory=threading.Event)

    # --- construction -------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> ChatLlama:
        """Build from agentkit settings (bundled model by default)."""
        from agentkit.models.resolve import resolve_model_path

        settings = settings or load_settings()
        path = resolve_model_path(settings.model, settings.resolved_cache_dir())
        check_gpu_offload(settings.n_gpu_layers)
        values: dict[str, Any] = {
            "model_path": str(path),
            "model": settings.model,
            "adapter_path": LoadParams.from_settings(settings, path).lora_path,
            "n_ctx": settings.n_ctx,
            "n_threads": settings.resolved_threads(),
            "n_batch": settings.n_batch,
            "n_gpu_layers": settings.n_gpu_layers,
            "flash_attn": settings.flash_attn,
            "prompt_lookup": settings.prompt_lookup,
            "jump_forward": settings.jump_forward,
            **sampling_settings(settings),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def load_params(self) -> LoadParams:
        return LoadParams(
            path=self.model_path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_batch=self.n_batch,
            n_gpu_layers=self.n_gpu_layers,
            flash_attn=self.flash_attn,
            lora_path=self.adapter_path,
        )

    @property
    def engine(self) -> LlamaEngine:
        return LlamaEngine.shared(self.load_params)

    @property
    def prompt_format(self) -> PromptFormat:
        if self._format is None:
            engine = self.engine
            # llama.cpp already parsed the GGUF metadata at load.
            metadata = engine.llm.metadata
            try:
                self._format = choose_format(
                    self.chat_format,
                    architecture=metadata.get("general.architecture", ""),
                    chat_template=metadata.get("tokenizer.chat_template"),
                    bos_token=engine.token_text(engine.llm.token_bos()),
                    eos_token=engine.token_text(engine.llm.token_eos()),
                )
            except ValueError as err:
                raise ModelError(str(err)) from None
        return self._format

    @property
    def tool_call_mode(self) -> ToolCallMode:
        """How tools are shown and calls produced. ``native-hermes``: the GGUF's
        own chat template renders the tools and the calls (the way the model
        was trained), and the grammar constrains that syntax. ``grammar``:
        agentkit's tool instructions and ``<tool_call>`` blocks, for models
        whose template knows no tools (the bundled Gemma has none). Calls are
        grammar-constrained either way."""
        fmt = self.prompt_format
        if isinstance(fmt, JinjaFormat) and fmt.native_tools == "hermes":
            return "native-hermes"
        return "grammar"

    @property
    def _llm_type(self) -> str:
        return "agentkit-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model_name or self.model_path,
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "chat_format": self.chat_format,
        }

    def cancel(self) -> None:
        """Stop the generation in progress (it ends with finish_reason "cancelled")."""
        self._cancel.set()

    # --- tools and structured output ---------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: ToolChoice | dict[str, Any] | bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        names = [t["function"]["name"] for t in formatted]
        choice = _normalise_choice(tool_choice, names)
        max_calls = 1 if parallel_tool_calls is False else self.max_parallel_tool_calls
        return self.bind(tools=formatted, tool_choice=choice, max_tool_calls=max_calls, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Constrained JSON output. ``json_schema`` (default) decodes the object
        directly; ``function_calling`` forces a call to a tool with that schema."""
        if kwargs.pop("strict", None) not in (None, True, False):
            raise ValueError("strict must be a bool")
        if kwargs:
            raise ValueError(f"unexpected arguments {sorted(kwargs)}")
        from pydantic.v1 import BaseModel as BaseModelV1

        is_pydantic = isinstance(schema, type) and issubclass(schema, BaseModel | BaseModelV1)
        structured_format = {"kwargs": {"method": method}, "schema": schema}
        if method == "function_calling":
            tool = convert_to_openai_tool(schema)
            name = tool["function"]["name"]
            llm = self.bind_tools(
                [schema],
                tool_choice=name,
                parallel_tool_calls=False,
                ls_structured_output_format=structured_format,
            )

            def pick_args(message: AIMessage) -> Any:
                if not message.tool_calls:
                    raise ValueError("the model produced no structured output")
                args = message.tool_calls[0]["args"]
                if not is_pydantic:
                    return args
                if issubclass(schema, BaseModel):  # type: ignore[arg-type]
                    return schema.model_validate(args)  # type: ignore[union-attr]
                return schema.parse_obj(args)  # type: ignore[union-attr]

            parser: Runnable[Any, Any] = RunnableLambda(pick_args)
        else:
            if method == "json_mode":
                json_schema: dict[str, Any] = {"type": "object"}
            else:
                json_schema = convert_to_json_schema(schema)
            llm = self.bind(json_schema=json_schema, ls_structured_output_format=structured_format)
            if is_pydantic and method == "json_schema":
                parser = PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
            else:
                parser = JsonOutputParser()
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks(
            [fallback], exception_key="parsing_error"
        )

    # --- prompt --------------------------------------------------------------------
    def _prompt(
        self,
        messages: list[BaseMessage],
        tools: list[dict[str, Any]] | None,
        choice: str,
        json_schema: dict[str, Any] | None,
        max_calls: int = 1,
        hints: DecodeHints | None = None,
    ) -> tuple[str, str | None, str]:
        """Prompt text, grammar (None = unconstrained) and the forced start of
        the reply (already in the prompt, not decoded)."""
        turns = messages_to_turns(messages)
        if tools and choice != "none":
            # All bound tools are described whatever tool_choice names (the
            # grammar does the narrowing), so switching choices between turns
            # keeps the prompt prefix and its KV cache.
            narrowed, choice = _narrow(tools, choice, hints)
            # Tool instructions go into the system position, which stays the
            # same across an agent loop, so every turn reuses the cache.
            mode: grammars.ToolMode = "auto" if choice == "auto" else "required"
            fmt = self.prompt_format
            if isinstance(fmt, JinjaFormat) and self.tool_call_mode == "native-hermes":
                calls = grammars.tool_call_grammar(
                    narrowed, mode, max_calls, open_tag=HERMES_OPEN, close_tag=HERMES_CLOSE
                )
                prompt = fmt.render_with_tools(messages, tools)
                return prompt + calls.prefix, calls.gbnf, calls.prefix
            described = tools_instruction(tools, mode, self.tool_prompt)
            turns.insert(_after_system(turns), Turn("system", described))
            calls = grammars.tool_call_grammar(narrowed, mode, max_calls)
            return self.prompt_format.render(turns) + calls.prefix, calls.gbnf, calls.prefix
        if json_schema is not None:
            # Appended last: structured-output calls then share the
            # conversation prefix with ordinary calls.
            turns.append(Turn("user", json_instruction(json_schema)))
            return self.prompt_format.render(turns), grammars.json_grammar(json_schema), ""
        return self.prompt_format.render(turns), None, ""

    def _tokens(self, prompt: str) -> list[int]:
        engine = self.engine
        bos = engine.token_text(engine.llm.token_bos())
        # Templates that spell out BOS must not get a second one.
        return engine.tokenize(prompt, add_special=not (bos and prompt.startswith(bos)))

    def grammar_refusal(self, gbnf: str, text: str) -> str | None:
        """None when decoding under ``gbnf`` can write exactly ``text`` (as
        the model would tokenise it) and end there; else the part of
        ``text`` the grammar accepted before it refused (all of it: it
        refused to end). Training data is checked with it (agentkit.tune)."""
        engine = self.engine
        grammar = GrammarSampler.compile(engine.vocab, gbnf)
        accepted: list[int] = []
        for token in engine.tokenize(text, add_special=False):
            if not grammar.allows(token):
                return engine.llm.detokenize(accepted).decode("utf-8", "replace")
            grammar.accept(token)
            accepted.append(token)
        return None if grammar.allows(engine.llm.token_eos()) else text

    def agentkit_profile(self) -> ModelProfile:
        """What kind of model this is (read from the GGUF's metadata)."""
        return file_profile(Path(self.model_path))

    @property
    def supported_hints(self) -> frozenset[HintKind]:
        """The in-process engine applies every kind of hint."""
        return ALL_HINTS

    def _steer(
        self, value: float | None, small_default: float, *, base_only: bool = False
    ) -> float:
        if value is not None:
            return value
        profile = self.agentkit_profile()
        if not profile.small or (base_only and not profile.base):
            return 0.0
        return small_default

    def default_hints(
        self, messages: Sequence[BaseMessage], tools: list[dict[str, Any]] | None, choice: str
    ) -> DecodeHints:
        """Hints for a call made without any: a small model copies from the
        conversation's latest request and results and does not echo the
        tool instructions."""
        avoid = tools_instruction(tools, choice, self.tool_prompt) if tools else ""
        # An instruct model copies by itself; the bonus made SmolLM2-135M
        # Instruct write '}}</tool_call>' into its arguments.
        return DecodeHints(
            copy_from=_latest_exchange(messages),
            copy_bias=self._steer(self.copy_bias, SMALL_COPY_BIAS, base_only=True),
            avoid_from=avoid,
            avoid_bias=self._steer(self.avoid_bias, SMALL_AVOID_BIAS),
        )

    def _turn_bias(self, last: BaseMessage) -> dict[int, float]:
        """In ``auto`` mode, lean towards a call after a user message and
        towards a text answer after a tool result: the request → call →
        result → answer rhythm a small model does not find on its own (it
        echoed the tool instructions as text)."""
        value = self._steer(self.auto_call_bias, SMALL_AUTO_CALL_BIAS)
        if not value or isinstance(last, AIMessage):
            return {}
        opening = self.engine.tokenize(TOOL_CALL_OPEN, add_special=False)[:1]
        sign = -1.0 if isinstance(last, ToolMessage) else 1.0
        return {opening[0]: sign * value} if opening else {}

    def _name_bias(self, tool_bias: dict[str, float]) -> dict[int, float]:
        """``tool_bias`` (per tool name) as a logit bias on each name's first
        token: the first token generated after ``{"name": "`` picks the tool.
        Names sharing a first token share the larger bias."""
        out: dict[int, float] = {}
        for name, bias in tool_bias.items():
            tokens = self.engine.tokenize(name, add_special=False)
            if tokens:
                out[tokens[0]] = max(out.get(tokens[0], bias), bias)
        return out

    def _text_tokens(self, text: str) -> set[int]:
        """The tokens of ``text`` (and of its words with a leading space, as
        they appear mid-sentence), control tokens left out."""
        engine = self.engine
        ids = set(engine.tokenize(text, add_special=False))
        ids |= set(engine.tokenize(" " + " ".join(text.split()), add_special=False))
        return {i for i in ids if not engine.is_control(i)}

    def _copy_bias(self, hints: DecodeHints) -> dict[int, float] | None:
        """``copy_bias`` for the tokens of ``copy_from`` (the task, the latest
        result) and ``-avoid_bias`` for the words of ``avoid_from`` (worked
        examples' values) that ``copy_from`` does not have: a small model's
        induction copies from the nearest example unless told otherwise."""
        bias: dict[int, float] = {}
        copied = self._text_tokens(hints.copy_from) if "copy" in hints.kinds() else set()
        if "avoid" in hints.kinds():
            engine = self.engine
            avoid = hints.avoid_from
            # The same words capitalised too: penalising "see you soon" alone
            # made the model write "See You Soon".
            variants = "\n".join((avoid, avoid.title(), avoid.upper()))
            for token in self._text_tokens(variants) - copied:
                piece = engine.token_text(token).replace("\u2581", " ").strip()
                if len(piece) > 2 and any(ch.isalnum() for ch in piece):
                    bias[token] = -hints.avoid_bias
        for token in copied:
            bias[token] = hints.copy_bias
        return bias or None

    def _sampling(
        self, stop: list[str] | None, kwargs: dict[str, Any], constrained: bool, prose: bool
    ) -> SamplingParams:
        """``constrained``: a grammar applies; ``prose``: the reply may be text."""
        max_tokens = kwargs.get("max_tokens") or self.max_tokens
        if constrained:
            max_tokens = max(max_tokens, self.min_constrained_tokens)
        return SamplingParams(
            temperature=kwargs.get("temperature", self.temperature),
            top_k=kwargs.get("top_k", self.top_k),
            top_p=kwargs.get("top_p", self.top_p),
            seed=kwargs.get("seed", self.seed),
            max_tokens=max_tokens,
            prompt_lookup=kwargs.get("prompt_lookup", self.prompt_lookup),
            jump_forward=kwargs.get("jump_forward", self.jump_forward),
            # Stop strings would cut JSON mid-value. A text answer in auto mode
            # ends where a small model starts writing the next tool response.
            stop=[*(self.stop or []), *(stop or []), *([TOOL_RESPONSE_OPEN] if constrained else [])]
            if prose
            else [],
        )

    # --- generation -----------------------------------------------------------------
    def _run(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        cancel: threading.Event | _EitherEvent,
    ) -> Iterator[ChatGenerationChunk]:
        tools: list[dict[str, Any]] | None = kwargs.get("tools")
        choice = kwargs.get("tool_choice") or "auto"
        max_calls = kwargs.get("max_tool_calls", self.max_parallel_tool_calls)
        json_schema = kwargs.get("json_schema")
        given: DecodeHints | None = kwargs.get("hints")
        hints = given if given is not None else self.default_hints(messages, tools, choice)
        ignored = sorted(hints.kinds() - self.supported_hints)
        if ignored:  # e.g. a server: only what travels in the grammar applies
            hints = _without(hints, frozenset(ignored))
        prompt, gbnf, prefix = self._prompt(messages, tools, choice, json_schema, max_calls, hints)
        calling = bool(tools) and choice != "none"
        prose = (not calling or choice == "auto") and json_schema is None
        tokens = self._tokens(prompt)
        # Calls and JSON are closed along the grammar when the budget runs
        # low or they degenerate; in auto mode only once the reply is a call.
        close_after = None if gbnf is None else ("<" if calling and choice == "auto" else "")
        first_bias = None
        if calling and prefix.endswith('"name": "') and hints.tool_bias:
            first_bias = self._name_bias(dict(hints.tool_bias))
        elif calling and choice == "auto" and messages:
            first_bias = self._turn_bias(messages[-1])
        step_bias = self._copy_bias(hints) if gbnf is not None else None
        generation = self.engine.generate(
            tokens,
            self._sampling(stop, kwargs, gbnf is not None, prose),
            grammar=gbnf,
            cancel=cancel,
            close_after=close_after,
            first_bias=first_bias,
            step_bias=step_bias,
        )
        # Forced calls are never streamed as text; in auto mode the text branch
        # of the grammar cannot start with "<", so the first character decides.
        silent = calling and choice != "auto"
        undecided = calling and choice == "auto"
        text_budget = kwargs.get("max_tokens") or self.max_tokens
        capped = False
        stats = generation.stats
        for delta in generation:
            if silent or not delta:
                continue
            if undecided:
                undecided = False
                if delta.startswith("<"):
                    silent = True
                    continue
            yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
            # Auto mode got the constrained budget in case it called a tool;
            # prose is held to max_tokens.
            if calling and stats.completion_tokens >= text_budget and not cancel.is_set():
                capped = True
                cancel.set()
        if capped:
            stats.finish_reason = "length"
        final = self._final_chunk(stats, tools if calling else None, prefix)
        if ignored:
            final.message.response_metadata["hints_ignored"] = ignored
        yield final

    def _final_chunk(
        self, stats: GenerationStats, tools: list[dict[str, Any]] | None, prefix: str = ""
    ) -> ChatGenerationChunk:
        text = prefix + stats.text
        usage = UsageMetadata(
            input_tokens=stats.prompt_tokens,
            output_tokens=stats.completion_tokens,
            total_tokens=stats.prompt_tokens + stats.completion_tokens,
            input_token_details={"cache_read": stats.prompt_tokens_reused},
        )
        metadata: dict[str, Any] = {
            "model_name": self.model_name or self.model_path,
            "finish_reason": stats.finish_reason,
            "prompt_tokens_evaluated": stats.prompt_tokens_evaluated,
            "prompt_tokens_reused": stats.prompt_tokens_reused,
            "grammar_rejections": stats.grammar_rejections,
            "draft_tokens": stats.draft_tokens,
            "draft_accepted": stats.draft_accepted,
            "decode_batches": stats.decode_batches,
            "jumped_tokens": stats.jumped_tokens,
            "closed_early": stats.closed_early,
            "timings": stats.timings(),
            "tool_call_mode": self.tool_call_mode,
        }
        content = ""
        chunks: list[Any] = []
        if tools and text.startswith(TOOL_CALL_OPEN):
            valid, invalid = parse_tool_calls(text, tools)
            for index, call in enumerate(valid):
                chunks.append(
                    tool_call_chunk(
                        name=call["name"],
                        args=json.dumps(call["args"], ensure_ascii=False),
                        id=call["id"],
                        index=index,
                    )
                )
            if valid:
                metadata["finish_reason"] = "tool_calls"
            if invalid:
                metadata["invalid_tool_calls"] = invalid
        message = AIMessageChunk(
            content=content,
            tool_call_chunks=chunks,
            usage_metadata=usage,
            response_metadata=metadata,
            chunk_position="last",
        )
        return ChatGenerationChunk(
            message=message, generation_info={"finish_reason": metadata["finish_reason"]}
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._cancel.clear()
        for chunk in self._run(messages, stop, kwargs, self._cancel):
            if run_manager and isinstance(chunk.message.content, str) and chunk.message.content:
                run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._cancel.clear()
        merged: ChatGenerationChunk | None = None
        for chunk in self._run(messages, stop, kwargs, self._cancel):
            merged = chunk if merged is None else merged + chunk
        assert merged is not None
        return ChatResult(generations=[_to_generation(merged)])

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Generation runs in a worker thread; cancelling the consumer (task
        cancel, ``aclose``) stops it between two tokens and frees the engine."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ChatGenerationChunk | BaseException | None] = asyncio.Queue()
        self._cancel.clear()
        cancel = _EitherEvent(threading.Event(), self._cancel)

        def produce() -> None:
            try:
                for chunk in self._run(messages, stop, kwargs, cancel):
                    loop.call_soon_threadsafe(queue.put_nowait, chunk)
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except BaseException as err:  # noqa: BLE001 - re-raised in the consumer
                loop.call_soon_threadsafe(queue.put_nowait, err)

        worker = loop.run_in_executor(None, produce)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                if run_manager and isinstance(item.message.content, str) and item.message.content:
                    await run_manager.on_llm_new_token(item.message.content, chunk=item)
                yield item
        finally:
            cancel.set()
            await asyncio.shield(worker)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        merged: ChatGenerationChunk | None = None
        async for chunk in self._astream(messages, stop, run_manager, **kwargs):
            merged = chunk if merged is None else merged + chunk
        assert merged is not None
        return ChatResult(generations=[_to_generation(merged)])


class _EitherEvent:
    """Set when either event is: this stream's own cancel, or ``cancel()``."""

    def __init__(self, own: threading.Event, shared: threading.Event) -> None:
        self.own = own
        self.shared = shared

    def set(self) -> None:
        self.own.set()

    def is_set(self) -> bool:
        return self.own.is_set() or self.shared.is_set()


def _latest_exchange(messages: Sequence[BaseMessage]) -> str:
    """The last user message and the tool results after it."""
    parts: list[str] = []
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            parts.append(str(message.content))
        elif isinstance(message, HumanMessage):
            parts.append(str(message.content))
            break
    return "\n".join(reversed(parts))


def _narrow(
    tools: list[dict[str, Any]], choice: str, hints: DecodeHints | None
) -> tuple[list[dict[str, Any]], str]:
    """The tools the grammar allows for ``choice`` once ``hints`` narrowed
    their arguments, and the choice (the required tool, when it is callable).

    A tool left with no valid value is not callable: it is never offered
    unnarrowed (a forced write_file with no path left would write anywhere).
    """
    hints = hints or DecodeHints()
    narrowed = grammars.with_choices(tools, dict(hints.arg_choices))
    callable_names = [t["function"]["name"] for t in narrowed]
    required = hints.required_tool
    if required is not None and required in callable_names and choice == "required":
        choice = required
    if choice not in ("auto", "required"):
        narrowed = [t for t in narrowed if t["function"]["name"] == choice]
    if not narrowed:
        raise ModelError(
            f"no bound tool can be called with tool_choice {choice!r} and these argument "
            "choices (each has an argument with no valid value)",
            hint="bind a tool that needs no grounded argument, e.g. a final-answer tool",
        )
    return narrowed, choice


def _without(hints: DecodeHints, kinds: frozenset[HintKind]) -> DecodeHints:
    """``hints`` without the guidance of ``kinds`` (what an engine cannot apply)."""
    return DecodeHints(
        arg_choices={} if "arg_choices" in kinds else hints.arg_choices,
        required_tool=None if "required_tool" in kinds else hints.required_tool,
        tool_bias={} if "tool_bias" in kinds else hints.tool_bias,
        copy_from="" if "copy" in kinds else hints.copy_from,
        copy_bias=0.0 if "copy" in kinds else hints.copy_bias,
        avoid_from="" if "avoid" in kinds else hints.avoid_from,
        avoid_bias=0.0 if "avoid" in kinds else hints.avoid_bias,
    )


def _after_system(turns: list[Turn]) -> int:
    index = 0
    while index < len(turns) and turns[index].role == "system":
        index += 1
    return index


def _to_generation(chunk: ChatGenerationChunk) -> ChatGeneration:
    message = chunk.message
    invalid = message.response_metadata.pop("invalid_tool_calls", [])
    ai = AIMessage(
        content=message.content,
        tool_calls=[
            tool_call(name=c["name"], args=c["args"], id=c["id"])
            for c in getattr(message, "tool_calls", [])
        ],
        invalid_tool_calls=invalid,
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
        id=message.id,
    )
    return ChatGeneration(message=ai, generation_info=chunk.generation_info)


_DECODER = json.JSONDecoder()


def _call_blocks(text: str) -> list[tuple[str, bool]]:
    """(JSON body, closed) of each ``<tool_call>...</tool_call>`` block. The
    body is read as JSON first, so a string value that contains
    ``<tool_call>`` or ``</tool_call>`` (a model quoting markup) stays inside
    its call; text that is not JSON falls back to the plain markers."""
    blocks: list[tuple[str, bool]] = []
    position = text.find(TOOL_CALL_OPEN)
    while position >= 0:
        start = position + len(TOOL_CALL_OPEN)
        begin = len(text) - len(text[start:].lstrip())  # Hermes puts the JSON on its own line
        try:
            _value, end = _DECODER.raw_decode(text, begin)
        except ValueError:
            end = -1
        close = len(text) - len(text[end:].lstrip()) if end >= 0 else -1
        if close >= 0 and text.startswith(TOOL_CALL_CLOSE, close):
            blocks.append((text[begin:end], True))
            position = text.find(TOOL_CALL_OPEN, close + len(TOOL_CALL_CLOSE))
            continue
        body, closed, _rest = text[start:].partition(TOOL_CALL_CLOSE)
        nxt = body.find(TOOL_CALL_OPEN)
        if nxt >= 0:  # cut off, and another block starts: keep that one apart
            body, closed = body[:nxt], ""
        blocks.append((body, bool(closed)))
        position = text.find(TOOL_CALL_OPEN, start + len(body))
    return blocks


def parse_tool_calls(
    text: str, tools: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Split the model's tool-call blocks into valid calls (parsed and
    validated against the tool's JSON schema) and invalid ones (e.g. cut off by
    max_tokens)."""
    import jsonschema

    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    valid: list[dict[str, Any]] = []
    invalid: list[Any] = []
    seen: set[str] = set()
    for body, closed in _call_blocks(text):
        call_id = f"call_{uuid.uuid4().hex[:24]}"
        try:
            payload = json.loads(body)
            name = payload["name"]
            args = payload["arguments"]
            if not closed:
                raise ValueError("tool call was cut off")
            if name not in schemas:
                raise ValueError(f"unknown tool {name}")
            jsonschema.validate(args, schemas[name])
        except Exception as err:  # noqa: BLE001 - any failure makes the call invalid
            invalid.append(
                invalid_tool_call(
                    name=None, args=body, id=call_id, error=f"{type(err).__name__}: {err}"
                )
            )
            continue
        key = json.dumps([name, args], sort_keys=True)
        if key in seen:  # weak models repeat a call verbatim; run it once
            continue
        seen.add(key)
        valid.append({"name": name, "args": args, "id": call_id})
    return valid, invalid


def check_gpu_offload(n_gpu_layers: int) -> None:
    """A clear error when GPU layers are requested from a CPU-only build."""
    if n_gpu_layers == 0:
        return
    import llama_cpp

    if not llama_cpp.llama_supports_gpu_offload():
        raise ModelError(
            f"n_gpu_layers={n_gpu_layers} but this llama-cpp-python build has no GPU offload",
            hint='reinstall it with CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python, or set n_gpu_layers = 0',
        )
