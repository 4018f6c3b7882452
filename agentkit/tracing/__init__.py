"""OpenTelemetry traces of agent runs (setting ``tracing``).

- ``off`` (default): nothing is set up, no handler is added to any run.
- ``otlp``: spans go over OTLP/HTTP to a collector (``tracing_endpoint``, else
  the standard ``OTEL_EXPORTER_OTLP_*`` variables, else localhost:4318).
- ``file``: spans are appended as OTLP JSON lines to ``tracing_file``
  (default ``<data_dir>/traces.jsonl``), one line per finished span, so a
  killed process loses only the spans still open.
- ``global``: use the tracer provider the host application configured.

One trace per task on a thread. Every call that drives the graph (the task,
each resume after an approval, a continue after a crash) is an
``invoke_agent`` span; the ones after the first are children of the first
and link to the one before. The ids travel in the checkpoints' metadata, so
a run resumed by another process after a crash joins the same trace. Time a
human took to answer is a ``wait for approval`` span. Node, model, tool and
retrieval spans come from LangChain callbacks (:mod:`.spans`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from agentkit.tracing.spans import (
    AGENT_NAME,
    CONVERSATION,
    INPUT_TOKENS,
    OPERATION,
    OUTPUT_TOKENS,
    SpanHandler,
    TracedContextSource,
)

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.graph.state import CompiledStateGraph
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from opentelemetry.trace import TracerProvider as ApiTracerProvider

    from agentkit.config import Settings

__all__ = [
    "NO_TRACING",
    "TRACE_FILE",
    "NullRun",
    "RunTrace",
    "TracedContextSource",
    "Tracing",
]

TRACE_FILE = "traces.jsonl"
TRACER_NAME = "agentkit"
# Checkpoint metadata keys (LangGraph copies scalar config metadata into them).
TRACE_KEY = "agentkit_trace_id"
ROOT_KEY = "agentkit_root_span_id"
SPAN_KEY = "agentkit_span_id"
RUN_SPAN = "invoke_agent agentkit"
APPROVAL_SPAN = "wait for approval"

T = TypeVar("T")


class NullRun:
    """What a run gets when tracing is off: changes nothing."""

    def config(self, config: RunnableConfig) -> RunnableConfig:
        return config

    def ask(self, approver: Callable[[Any], T], requests: Any) -> T:
        return approver(requests)


_NULL_RUN = NullRun()
_PROVIDERS: dict[tuple[str, str], Any] = {}


class Tracing:
    """Traces agent runs with ``provider`` (an OpenTelemetry ``TracerProvider``;
    default: the global one). ``Tracing(enabled=False)`` (:data:`NO_TRACING`)
    adds nothing to a run and imports nothing."""

    def __init__(self, provider: ApiTracerProvider | None = None, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.provider: ApiTracerProvider | None = None
        self.tracer: Tracer | None = None
        if enabled:
            from opentelemetry import trace

            self.provider = provider or trace.get_tracer_provider()
            self.tracer = self.provider.get_tracer(TRACER_NAME)

    @classmethod
    def from_settings(cls, settings: Settings) -> Tracing:
        """The ``tracing`` setting's tracer; one provider per target per process."""
        mode = settings.tracing
        if mode == "off":
            return NO_TRACING
        if mode == "global":
            return cls()
        target = str(trace_file(settings) if mode == "file" else settings.tracing_endpoint or "")
        provider = _PROVIDERS.get((mode, target))
        if provider is None:
            provider = _PROVIDERS[(mode, target)] = _make_provider(mode, target)
        return cls(provider)

    @contextmanager
    def run(
        self,
        thread_id: str,
        graph: CompiledStateGraph,
        *,
        task: str | None = None,
        decisions: Sequence[Mapping[str, Any]] | None = None,
    ) -> Iterator[RunTrace | NullRun]:
        """Trace one drive of the graph: a new ``task``, or a resume with
        ``decisions`` (none: continue an interrupted run)."""
        if self.tracer is None:
            yield _NULL_RUN
            return
        run = RunTrace(self.tracer, thread_id, graph, task, decisions)
        try:
            yield run
        except BaseException as err:
            run.end(err)
            raise
        run.end()


NO_TRACING = Tracing(enabled=False)


def trace_file(settings: Settings) -> Path:
    return settings.tracing_file or settings.resolved_data_dir() / TRACE_FILE


def _make_provider(mode: str, target: str) -> TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "agentkit"}))
    if mode == "file":
        from agentkit.tracing.files import OtlpJsonFileExporter

        provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(Path(target))))
    elif mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=target) if target else OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:  # pragma: no cover - Settings validates the mode
        raise ValueError(f"unknown tracing mode {mode!r}")
    return provider


def _epoch(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None


class RunTrace:
    """The spans of one drive of the graph."""

    def __init__(
        self,
        tracer: Tracer,
        thread_id: str,
        graph: CompiledStateGraph,
        task: str | None,
        decisions: Sequence[Mapping[str, Any]] | None,
    ) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags

        self.tracer, self.thread_id, self.graph = tracer, thread_id, graph
        latest = self._latest()
        meta: Mapping[str, Any] = (latest.metadata or {}) if latest is not None else {}
        prev_trace, prev_root, prev_span = (
            meta.get(TRACE_KEY),
            meta.get(ROOT_KEY),
            meta.get(SPAN_KEY),
        )
        kind = "task" if task is not None else "resume" if decisions else "continue"
        context, links = None, []
        flags = TraceFlags(TraceFlags.SAMPLED)
        if task is None and prev_trace and prev_root:
            root = SpanContext(int(prev_trace, 16), int(prev_root, 16), True, flags)
            context = trace.set_span_in_context(NonRecordingSpan(root))
            if prev_span:
                before = SpanContext(int(prev_trace, 16), int(prev_span, 16), True, flags)
                links = [Link(before, {"agentkit.link": "continues"})]
        attributes: dict[str, Any] = {
            OPERATION: "invoke_agent",
            AGENT_NAME: "agentkit",
            CONVERSATION: thread_id,
            "agentkit.run.kind": kind,
        }
        if task is not None:
            attributes["agentkit.task"] = task[:500]
        self.span: Span = tracer.start_span(
            RUN_SPAN, context=context, links=links, attributes=attributes
        )
        ids = self.span.get_span_context()
        self.trace_id = format(ids.trace_id, "032x")
        self.span_id = format(ids.span_id, "016x")
        self.root_id = prev_root if context is not None else self.span_id
        if decisions and latest is not None:
            self._waited(_epoch(latest.checkpoint.get("ts")), decisions)
        self.handler = SpanHandler(tracer, self.span)

    def _latest(self) -> Any:
        saver = self.graph.checkpointer
        if saver is None or isinstance(saver, bool):
            return None
        return saver.get_tuple({"configurable": {"thread_id": self.thread_id, "checkpoint_ns": ""}})

    def config(self, config: RunnableConfig) -> RunnableConfig:
        """``config`` with this run's callback handler and trace ids (which
        the checkpoints keep, so a later resume joins this trace)."""
        callbacks = config.get("callbacks")
        handlers = list(callbacks) if isinstance(callbacks, list) else []
        metadata = {
            **(config.get("metadata") or {}),
            TRACE_KEY: self.trace_id,
            ROOT_KEY: self.root_id,
            SPAN_KEY: self.span_id,
        }
        return {**config, "callbacks": [*handlers, self.handler], "metadata": metadata}

    def _waited(
        self,
        since: float | None,
        decisions: Sequence[Mapping[str, Any]],
        by: str | None = None,
        end: float | None = None,
    ) -> None:
        """A ``wait for approval`` span from ``since`` (when the approval was
        asked) to ``end`` (default: now), with what was decided and by whom."""
        from opentelemetry import trace

        end = time.time() if end is None else end
        since = end if since is None else min(since, end)
        who = by or next(
            (str(d.get("decided_by")) for d in decisions if d.get("decided_by")), "human"
        )
        span = self.tracer.start_span(
            APPROVAL_SPAN,
            context=trace.set_span_in_context(self.span),
            start_time=int(since * 1e9),
            attributes={
                "agentkit.approval.calls": [str(d.get("call_id", "")) for d in decisions],
                "agentkit.approval.decisions": [str(d.get("kind", "")) for d in decisions],
                "agentkit.decided_by": who,
                "agentkit.approval.wait_s": round(end - since, 3),
            },
        )
        span.end(end_time=int(end * 1e9))

    def ask(self, approver: Callable[[Any], T], requests: Any) -> T:
        """Call an inline approver, timed as a ``wait for approval``."""
        start = time.time()
        answers = approver(requests)
        decisions = [
            a.model_dump() if hasattr(a, "model_dump") else dict(a)
            for a in answers  # type: ignore[attr-defined]
        ]
        self._waited(start, decisions, by="approver")
        return answers

    def end(self, error: BaseException | None = None) -> None:
        from opentelemetry.trace import Status, StatusCode

        self.handler.close()
        try:
            snapshot = self.graph.get_state(
                {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": ""}}
            )
            values = snapshot.values if isinstance(snapshot.values, dict) else {}
        except Exception:  # noqa: BLE001 - a trace never breaks a run
            snapshot, values = None, {}
        if snapshot is not None and snapshot.interrupts:
            status = "needs_approval"
        elif snapshot is not None and snapshot.next:
            status = "interrupted"
        else:
            status = str(values.get("status", ""))
        usage = values.get("usage") or {}
        self.span.set_attribute("agentkit.run.status", status)
        if values.get("stop_reason") and status == "stopped":
            self.span.set_attribute("agentkit.stop_reason", str(values["stop_reason"]))
        self.span.set_attribute(INPUT_TOKENS, int(usage.get("input_tokens", 0)))
        self.span.set_attribute(OUTPUT_TOKENS, int(usage.get("output_tokens", 0)))
        self.span.set_attribute("agentkit.model_seconds", float(usage.get("model_seconds", 0.0)))
        if error is not None and not isinstance(error, GeneratorExit):
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self.span.end()
