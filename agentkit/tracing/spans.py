"""LangChain callbacks → OpenTelemetry spans.

Everything the graph does already goes through LangChain's callback system:
each LangGraph node is a chain run, each model call a chat-model run, each
tool call a tool run, and retrieval a retriever run (see
:class:`TracedContextSource`). :class:`SpanHandler` turns those runs into
spans under one agent-run span, with the OpenTelemetry GenAI semantic
conventions' attributes (``gen_ai.*``) where they exist and ``agentkit.*``
ones for the rest. Runs it does not show (routers, wrappers) are skipped;
their children attach to the nearest shown ancestor.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables.config import ensure_config

from agentkit.events import ContextItem

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

# GenAI semantic conventions (opentelemetry-semantic-conventions, gen_ai_attributes).
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
CONVERSATION = "gen_ai.conversation.id"
AGENT_NAME = "gen_ai.agent.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
TEMPERATURE = "gen_ai.request.temperature"
MAX_TOKENS = "gen_ai.request.max_tokens"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"

NODES = frozenset({"plan", "act", "approve", "execute", "observe", "finish"})
_INTERRUPTS = ("GraphInterrupt", "GraphDrained", "ParentCommand")


def _ns(seconds: float | None = None) -> int:
    return int((time.time() if seconds is None else seconds) * 1e9)


def _scalar(value: object) -> Any:
    """An attribute value OpenTelemetry accepts."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    return json.dumps(value, default=str)[:1000]


class SpanHandler(BaseCallbackHandler):
    """Spans for one agent run (a call of ``Agent._drive``), under ``root``."""

    raise_error = False
    run_inline = True

    def __init__(self, tracer: Tracer, root: Span) -> None:
        super().__init__()
        self.tracer = tracer
        self.root = root
        self._lock = threading.Lock()
        self._spans: dict[UUID, Span] = {}
        self._parents: dict[UUID, UUID | None] = {}  # run -> parent run, for skipped runs
        self._calls: dict[str, dict[str, Any]] = {}  # call id -> what execute was told
        self._tool_spans: dict[str, Span] = {}  # call id -> its span (ran in this step)
        self._model_starts: dict[UUID, tuple[float, bool | None]] = {}

    # --- the tree ------------------------------------------------------------------
    def _parent_span(self, parent_run_id: UUID | None) -> Span:
        run = parent_run_id
        while run is not None:
            span = self._spans.get(run)
            if span is not None:
                return span
            run = self._parents.get(run)
        return self.root

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        attributes: Mapping[str, Any],
        start_ns: int | None = None,
    ) -> Span:
        from opentelemetry import trace

        with self._lock:
            parent = self._parent_span(parent_run_id)
            span = self.tracer.start_span(
                name,
                context=trace.set_span_in_context(parent),
                attributes={k: _scalar(v) for k, v in attributes.items() if v is not None},
                start_time=start_ns,
            )
            self._spans[run_id] = span
            self._parents[run_id] = parent_run_id
        return span

    def _skip(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        with self._lock:
            self._parents[run_id] = parent_run_id

    def _end(
        self, run_id: UUID, error: BaseException | None = None, **attributes: Any
    ) -> Span | None:
        from opentelemetry.trace import Status, StatusCode

        with self._lock:
            span = self._spans.pop(run_id, None)
        if span is None:
            return None
        for key, value in attributes.items():
            if value is not None:
                span.set_attribute(key, _scalar(value))
        if error is not None:
            if type(error).__name__ in _INTERRUPTS:
                span.set_attribute("agentkit.interrupted", True)
            else:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()
        return span

    def close(self) -> None:
        """End what is still open (a run that stopped mid-step)."""
        with self._lock:
            left = list(self._spans.values())
            self._spans.clear()
        for span in left:
            span.set_attribute("agentkit.unfinished", True)
            span.end()

    # --- graph nodes ------------------------------------------------------------------
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: dict[str, Any] | Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        meta = metadata or {}
        node = meta.get("langgraph_node")
        name = kwargs.get("name")
        is_node = (
            node in NODES and name == node and any(t.startswith("graph:step:") for t in tags or ())
        )
        if not is_node:
            self._skip(run_id, parent_run_id)
            return
        self._start(
            run_id,
            parent_run_id,
            str(node),
            {"agentkit.node": node, "langgraph.step": meta.get("langgraph_step")},
        )
        if node == "execute" and isinstance(inputs, Mapping):
            self._remember_calls(inputs)

    def _remember_calls(self, state: Mapping[str, Any]) -> None:
        pending = {p.get("call_id", ""): p for p in state.get("pending") or []}
        for decision in state.get("decisions") or []:
            call_id = decision.get("call_id", "")
            self._calls[call_id] = {**pending.get(call_id, {}), "decision": decision}

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            span = self._spans.get(run_id)
        is_execute = span is not None and getattr(span, "name", "") == "execute"
        if is_execute and isinstance(outputs, Mapping):
            self._close_unrun_calls(span, outputs.get("tool_log") or [])
        self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    # --- model calls ----------------------------------------------------------------
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        meta = metadata or {}
        params: dict[str, Any] = kwargs.get("invocation_params") or {}
        model = meta.get("ls_model_name") or params.get("model") or params.get("_type", "")
        choice = params.get("tool_choice")
        constrained = bool(params.get("tools")) and choice != "none" or "json_schema" in params
        self._model_starts[run_id] = (time.perf_counter(), constrained)
        self._start(
            run_id,
            parent_run_id,
            f"chat {model}".strip(),
            {
                OPERATION: "chat",
                PROVIDER: meta.get("ls_provider"),
                REQUEST_MODEL: model or None,
                TEMPERATURE: meta.get("ls_temperature"),
                MAX_TOKENS: meta.get("ls_max_tokens"),
                "agentkit.tool_choice": choice if isinstance(choice, str) else None,
                "agentkit.structured_output": "json_schema" in params or None,
            },
        )

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        started, constrained = self._model_starts.pop(run_id, (time.perf_counter(), None))
        seconds = time.perf_counter() - started
        message = next(
            (
                g.message
                for gens in response.generations
                for g in gens
                if isinstance(g, ChatGeneration) and isinstance(g.message, AIMessage)
            ),
            None,
        )
        if message is None:
            self._end(run_id)
            return
        usage = message.usage_metadata or {}
        meta = message.response_metadata or {}
        out = int(usage.get("output_tokens", 0))
        reused = int((usage.get("input_token_details") or {}).get("cache_read", 0) or 0)
        prompt = int(usage.get("input_tokens", 0))
        timings = meta.get("timings") or {}
        rate = timings.get("decode_per_second") or (round(out / seconds, 2) if seconds else 0.0)
        grammar = constrained if meta.get("tool_call_mode") == "grammar" else None
        finish = meta.get("finish_reason")
        self._end(
            run_id,
            **{
                RESPONSE_MODEL: meta.get("model_name"),
                FINISH_REASONS: [str(finish)] if finish else None,
                INPUT_TOKENS: prompt,
                OUTPUT_TOKENS: out,
                CACHE_READ_TOKENS: reused,
                "agentkit.prompt_tokens.evaluated": int(
                    meta.get("prompt_tokens_evaluated", prompt - reused)
                ),
                "agentkit.prompt_tokens.reused": reused,
                "agentkit.tokens_per_second": float(rate),
                "agentkit.grammar": grammar,
                "agentkit.grammar_rejections": meta.get("grammar_rejections"),
                "agentkit.closed_early": meta.get("closed_early"),
                "agentkit.tool_calls": len(message.tool_calls) or None,
            },
        )

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._model_starts.pop(run_id, None)
        self._end(run_id, error)

    # --- tool calls -------------------------------------------------------------------
    def _tool_attributes(self, call_id: str, tool: str) -> dict[str, Any]:
        info = self._calls.get(call_id, {})
        decision = info.get("decision", {})
        return {
            OPERATION: "execute_tool",
            TOOL_NAME: tool,
            TOOL_CALL_ID: call_id or None,
            TOOL_TYPE: "function",
            "agentkit.tool.side_effects": info.get("side_effects"),
            "agentkit.policy.verdict": info.get("verdict"),
            "agentkit.policy.reason": info.get("reason") or None,
            "agentkit.decision": decision.get("decision"),
            "agentkit.decided_by": decision.get("decided_by"),
        }

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        tool = str((serialized or {}).get("name") or kwargs.get("name") or "tool")
        call_id = str(kwargs.get("tool_call_id") or "")
        span = self._start(
            run_id,
            parent_run_id,
            f"execute_tool {tool}",
            self._tool_attributes(call_id, tool),
        )
        if call_id:
            self._tool_spans[call_id] = span

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        failed = isinstance(output, ToolMessage) and output.status == "error"
        self._end(run_id, **{"agentkit.tool.outcome": "error" if failed else "ok"})

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error, **{"agentkit.tool.outcome": "error"})

    def _close_unrun_calls(self, parent: Span, records: Sequence[Mapping[str, Any]]) -> None:
        """Spans for the calls that did not run (rejected, responded, denied,
        invalid, or already done before a crash): zero-length, with the outcome."""
        from opentelemetry import trace

        now = _ns()
        for record in records:
            call_id = str(record.get("call_id", ""))
            if call_id in self._tool_spans:
                continue
            attributes = self._tool_attributes(call_id, str(record.get("tool", "")))
            attributes["agentkit.tool.outcome"] = record.get("status")
            attributes["agentkit.tool.executed"] = False
            span = self.tracer.start_span(
                f"execute_tool {record.get('tool', '')}",
                context=trace.set_span_in_context(parent),
                attributes={k: _scalar(v) for k, v in attributes.items() if v is not None},
                start_time=now,
            )
            span.end(end_time=now)
        self._tool_spans.clear()
        self._calls.clear()

    # --- retrieval --------------------------------------------------------------------
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start(
            run_id,
            parent_run_id,
            "retrieve",
            {"agentkit.retrieval.k": (metadata or {}).get("k")},
        )

    def on_retriever_end(
        self, documents: Sequence[Document], *, run_id: UUID, **kwargs: Any
    ) -> None:
        sources = [str(d.metadata.get("source", "")) for d in documents]
        self._end(
            run_id,
            **{"agentkit.retrieval.results": len(documents), "agentkit.retrieval.sources": sources},
        )

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)


class TracedContextSource:
    """A context source whose ``retrieve`` is a LangChain retriever run, so
    tracers (ours, LangSmith) see each retrieval as a child of the plan node.
    Without any callback handler it costs one callback-manager set-up."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def retrieve(self, query: str, k: int) -> list[ContextItem]:
        config = ensure_config()
        manager = CallbackManager.configure(
            config.get("callbacks"),
            inheritable_tags=config.get("tags"),
            inheritable_metadata=config.get("metadata"),
            local_metadata={"k": k},
        )
        run = manager.on_retriever_start(
            {"name": type(self.inner).__name__}, query, name="retrieve"
        )
        try:
            items = list(self.inner.retrieve(query, k))
        except BaseException as err:
            run.on_retriever_error(err)
            raise
        run.on_retriever_end(
            [
                Document(
                    page_content=item["text"],
                    metadata={
                        "source": item["source"],
                        "kind": item["kind"],
                        "score": item.get("score"),
                    },
                )
                for item in items
            ]
        )
        return items
