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

import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from agentkit.config import Settings, load_settings
from agentkit.errors import ModelError
from agentkit.models import grammar as grammars
from agentkit.models.biases import copy_bias, default_hints, name_bias, turn_bias
from agentkit.models.calls import (
    final_chunk,
    narrow_tools,
    normalise_choice,
    to_generation,
    without_hints,
)
from agentkit.models.engine import LlamaEngine, LoadParams, SamplingParams
from agentkit.models.forced import GrammarSampler
from agentkit.models.hints import ALL_HINTS, DecodeHints, HintKind
from agentkit.models.profile import ModelProfile, file_profile
from agentkit.models.prompt import (
    HERMES_CLOSE,
    HERMES_OPEN,
    JinjaFormat,
    PromptFormat,
    ToolPromptStyle,
    Turn,
    choose_format,
    json_instruction,
    messages_to_turns,
    tools_instruction,
)
from agentkit.models.structured import structured_output
from agentkit.models.threads import EitherEvent, stream_in_thread

ToolChoice = Literal["auto", "any", "required", "none"] | str
TOOL_RESPONSE_OPEN = "<tool_response"
ToolCallMode = Literal["grammar", "native-hermes"]


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
        "tool_prompt": "signatures" if settings.tool_prompt == "auto" else settings.tool_prompt,
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
        adapter = LoadParams.from_settings(settings, path).lora_path
        values: dict[str, Any] = {
            "model_path": str(path),
            "model": settings.model,
            "adapter_path": adapter,
            "n_ctx": settings.n_ctx,
            "n_threads": settings.resolved_threads(),
            "n_batch": settings.n_batch,
            "n_gpu_layers": settings.n_gpu_layers,
            "flash_attn": settings.flash_attn,
            "prompt_lookup": settings.prompt_lookup,
            "jump_forward": settings.jump_forward,
            **sampling_settings(settings),
        }
        if adapter is not None and settings.tool_prompt == "auto":
            # Tools described the way the adapter was trained to see them.
            from agentkit.models.adapter import read_adapter

            values["tool_prompt"] = read_adapter(Path(adapter)).prompt.tool_prompt or "signatures"
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
        choice = normalise_choice(tool_choice, names)
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
        return structured_output(self, schema, include_raw=include_raw, method=method, **kwargs)

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
            narrowed, choice = narrow_tools(tools, choice, hints)
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
        """What kind of model this is (read from the GGUF's metadata); an
        adapter trained for agentkit makes it a tuned one."""
        profile = file_profile(Path(self.model_path))
        if self.adapter_path is None:
            return profile
        from agentkit.models.adapter import read_adapter

        tuned = read_adapter(Path(self.adapter_path)).prompt.steering == "tuned"
        return replace(profile, tuned=tuned)

    @property
    def supported_hints(self) -> frozenset[HintKind]:
        """The in-process engine applies every kind of hint."""
        return ALL_HINTS

    def default_hints(
        self, messages: Sequence[BaseMessage], tools: list[dict[str, Any]] | None, choice: str
    ) -> DecodeHints:
        """Hints for a call made without any (agentkit.models.biases)."""
        return default_hints(
            self.agentkit_profile(), self.copy_bias, self.avoid_bias, messages, tools, choice,
            self.tool_prompt,
        )  # fmt: skip

    def _reply_metadata(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name or self.model_path,
            "tool_call_mode": self.tool_call_mode,
        }

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
        cancel: threading.Event | EitherEvent,
    ) -> Iterator[ChatGenerationChunk]:
        tools: list[dict[str, Any]] | None = kwargs.get("tools")
        choice = kwargs.get("tool_choice") or "auto"
        max_calls = kwargs.get("max_tool_calls", self.max_parallel_tool_calls)
        json_schema = kwargs.get("json_schema")
        given: DecodeHints | None = kwargs.get("hints")
        hints = given if given is not None else self.default_hints(messages, tools, choice)
        ignored = sorted(hints.kinds() - self.supported_hints)
        if ignored:  # e.g. a server: only what travels in the grammar applies
            hints = without_hints(hints, frozenset(ignored))
        prompt, gbnf, prefix = self._prompt(messages, tools, choice, json_schema, max_calls, hints)
        calling = bool(tools) and choice != "none"
        prose = (not calling or choice == "auto") and json_schema is None
        tokens = self._tokens(prompt)
        # Calls and JSON are closed along the grammar when the budget runs
        # low or they degenerate; in auto mode only once the reply is a call.
        close_after = None if gbnf is None else ("<" if calling and choice == "auto" else "")
        first_bias = None
        if calling and prefix.endswith('"name": "') and hints.tool_bias:
            first_bias = name_bias(self.engine, hints.tool_bias)
        elif calling and choice == "auto" and messages:
            first_bias = turn_bias(
                self.engine, self.agentkit_profile(), self.auto_call_bias, messages[-1]
            )
        step_bias = copy_bias(self.engine, hints) if gbnf is not None else None
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
        final = final_chunk(stats, tools if calling else None, self._reply_metadata(), prefix)
        if ignored:
            final.message.response_metadata["hints_ignored"] = ignored
        yield final

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
        return ChatResult(generations=[to_generation(merged)])

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Generation runs in a worker thread; cancelling the consumer (task
        cancel, ``aclose``) stops it between two tokens and frees the engine."""
        self._cancel.clear()
        cancel = EitherEvent(threading.Event(), self._cancel)
        chunks = stream_in_thread(lambda: self._run(messages, stop, kwargs, cancel), cancel)
        async for chunk in chunks:
            if run_manager and isinstance(chunk.message.content, str) and chunk.message.content:
                await run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk

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
        return ChatResult(generations=[to_generation(merged)])


def _after_system(turns: list[Turn]) -> int:
    index = 0
    while index < len(turns) and turns[index].role == "system":
        index += 1
    return index


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
