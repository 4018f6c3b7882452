"""Spans as OTLP JSON lines in a file, and back.

Each line of the file is one OTLP/JSON ``ExportTraceServiceRequest`` (the
encoding an OpenTelemetry Collector's ``file`` exporter writes and its
``otlpjsonfile`` receiver reads): the SDK's own protobuf encoder, printed
with protobuf's JSON mapping, with trace and span ids in hex as the OTLP
JSON spec requires.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

try:  # the SDK is a dependency; the guard keeps `import agentkit.tracing` cheap to reason about
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
except ImportError:  # pragma: no cover
    SpanExporter = object  # type: ignore[assignment,misc]

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node: Any) -> Any:
    """Protobuf's JSON mapping writes bytes as base64; OTLP JSON wants hex ids."""
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex()
            if key in _ID_KEYS and isinstance(value, str)
            else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def encode_spans_json(spans: Sequence[ReadableSpan]) -> str:
    """One OTLP JSON line for ``spans``."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    message = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    return json.dumps(_hex_ids(message), separators=(",", ":"))


class OtlpJsonFileExporter(SpanExporter):  # type: ignore[misc,valid-type]
    """Appends each batch of finished spans to ``path`` as one JSON line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        line = encode_spans_json(spans)
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(line + "\n")
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


# --- reading ----------------------------------------------------------------------------


@dataclass
class SpanRecord:
    """A span as read back from an OTLP JSON file."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start: float  # epoch seconds
    end: float
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (trace id, span id)
    error: str = ""

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def _value(value: dict[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def read_spans(path: Path) -> Iterator[SpanRecord]:
    """Every span in an OTLP JSON lines file (bad lines are skipped)."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as lines:  # a bad line is skipped
        for line in lines:
            try:
                request = json.loads(line)
            except ValueError:
                continue
            for resource in request.get("resourceSpans", []):
                for scope in resource.get("scopeSpans", []):
                    for span in scope.get("spans", []):
                        yield _record(span)


def _record(span: dict[str, Any]) -> SpanRecord:
    status = span.get("status") or {}
    return SpanRecord(
        trace_id=span.get("traceId", ""),
        span_id=span.get("spanId", ""),
        parent_id=span.get("parentSpanId", ""),
        name=span.get("name", ""),
        start=int(span.get("startTimeUnixNano", 0)) / 1e9,
        end=int(span.get("endTimeUnixNano", 0)) / 1e9,
        attributes={a["key"]: _value(a.get("value", {})) for a in span.get("attributes", [])},
        links=[(link.get("traceId", ""), link.get("spanId", "")) for link in span.get("links", [])],
        error=status.get("message", "") if status.get("code") == 2 else "",
    )
