"""OpenTelemetry traces, checked with the SDK's in-memory exporter: the span
tree of a run paused for approval and resumed, the attributes of model and
tool spans, a crash-and-resume run whose halves share one trace, the OTLP
JSON file, and that tracing off adds nothing. LangSmith-style tracing is
checked with LangChain's own run collector."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest
from agent_support import make_agent, make_tools, settings_for
from langchain_core.tracers.context import register_configure_hook
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentkit.agent import Agent
from agentkit.events import Approve, ContextItem, Reject
from agentkit.testing import ScriptedChatModel, call, calls, final
from agentkit.tracing import NO_TRACING, Tracing
from agentkit.tracing.files import read_spans


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(exporter: InMemorySpanExporter) -> Tracing:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider)


# How LangSmith attaches (LANGSMITH_TRACING=true): an inheritable tracer from
# a context variable, so every run below the graph reports to it. The same
# mechanism with a local collector instead of the network.
_COLLECTOR: ContextVar[RunCollectorCallbackHandler | None] = ContextVar("collector", default=None)
register_configure_hook(_COLLECTOR, inheritable=True)


@contextmanager
def collect_runs() -> Iterator[RunCollectorCallbackHandler]:
    collector = RunCollectorCallbackHandler()
    token = _COLLECTOR.set(collector)
    try:
        yield collector
    finally:
        _COLLECTOR.reset(token)


def by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[str]:
    ids = parent.context.span_id
    return [
        s.name
        for s in sorted(spans, key=lambda s: s.start_time or 0)
        if s.parent and s.parent.span_id == ids
    ]


def test_span_tree_of_a_run_paused_for_approval(
    tmp_path: Path, tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    script = [call("write_file", {"path": "a.txt", "content": "hi"}, "w1"), final("done")]
    agent, _, _ = make_agent(tmp_path, script, tracing=tracing)
    assert agent.run("write a.txt", thread_id="t1").status == "needs_approval"
    assert agent.resume("t1", [Approve(call_id="w1")]).status == "finished"

    spans = list(exporter.get_finished_spans())
    first, second = by_name(spans, "invoke_agent agentkit")
    assert first.attributes["agentkit.run.kind"] == "task"
    assert first.attributes["gen_ai.conversation.id"] == "t1"
    assert first.attributes["agentkit.run.status"] == "needs_approval"
    assert second.attributes["agentkit.run.kind"] == "resume"
    assert second.attributes["agentkit.run.status"] == "finished"
    # one trace: the resume is a child of the first run and links to it
    assert second.context.trace_id == first.context.trace_id
    assert second.parent is not None and second.parent.span_id == first.context.span_id
    assert [link.context.span_id for link in second.links] == [first.context.span_id]

    assert children(spans, first) == ["plan", "act", "approve", "invoke_agent agentkit"]
    assert children(spans, second) == [
        "wait for approval",
        "approve",
        "execute",
        "observe",
        "act",
        "finish",
    ]
    act = by_name(spans, "act")[0]
    assert children(spans, act) == ["chat agentkit-scripted"]
    (approve_paused,) = [
        s for s in by_name(spans, "approve") if s.attributes.get("agentkit.interrupted")
    ]
    assert approve_paused.status.is_ok

    wait = by_name(spans, "wait for approval")[0]
    assert wait.attributes["agentkit.decided_by"] == "human"
    assert list(wait.attributes["agentkit.approval.decisions"]) == ["approve"]
    assert wait.start_time < second.start_time  # the wait began when the first run paused

    execute = by_name(spans, "execute")[0]
    (tool,) = [s for s in spans if s.name == "execute_tool write_file"]
    assert tool.parent is not None and tool.parent.span_id == execute.context.span_id
    assert (
        dict(tool.attributes).items()
        >= {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "write_file",
            "gen_ai.tool.call.id": "w1",
            "agentkit.policy.verdict": "ask",
            "agentkit.decision": "approve",
            "agentkit.decided_by": "human",
            "agentkit.tool.outcome": "ok",
        }.items()
    )
    assert list(tool.attributes["agentkit.tool.side_effects"]) == ["write"]


def test_model_span_attributes(
    tmp_path: Path, tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    agent, _, _ = make_agent(tmp_path, [final("42")], tracing=tracing)
    agent.run("answer", thread_id="t2")
    (chat,) = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    attrs = dict(chat.attributes)
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.usage.input_tokens"] > 0
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert (
        attrs["agentkit.prompt_tokens.evaluated"] + attrs["agentkit.prompt_tokens.reused"]
        == attrs["gen_ai.usage.input_tokens"]
    )
    assert attrs["agentkit.tokens_per_second"] > 0
    assert attrs["agentkit.tool_choice"] == "any"


def test_calls_that_did_not_run_get_spans_with_their_outcome(
    tmp_path: Path, tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    script = [
        calls(("read_file", {"path": "x.txt"}, "r1"), ("shell", {"command": "ls"}, "s1")),
        final("ok"),
    ]
    (tmp_path / "x.txt").write_text("x")
    agent, _, _ = make_agent(tmp_path, script, tracing=tracing)
    agent.run("go", thread_id="t3")
    agent.resume("t3", [Reject(call_id="s1", feedback="no")])
    tools = {
        s.attributes["gen_ai.tool.call.id"]: s
        for s in exporter.get_finished_spans()
        if s.name.startswith("execute_tool")
    }
    assert tools["r1"].attributes["agentkit.decided_by"] == "policy"
    assert tools["r1"].attributes["agentkit.decision"] == "allow"
    assert tools["s1"].attributes["agentkit.decision"] == "reject"
    assert tools["s1"].attributes["agentkit.tool.outcome"] == "rejected"
    assert tools["s1"].attributes["agentkit.tool.executed"] is False


def test_inline_approver_wait_is_a_span(
    tmp_path: Path, tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    script = [call("write_file", {"path": "a.txt", "content": "hi"}, "w1"), final("done")]
    agent, _, _ = make_agent(
        tmp_path,
        script,
        tracing=tracing,
        approver=lambda reqs: [Approve(call_id=r.call_id) for r in reqs],
    )
    assert agent.run("write", thread_id="t4").status == "finished"
    spans = list(exporter.get_finished_spans())
    assert len(by_name(spans, "invoke_agent agentkit")) == 1
    (wait,) = by_name(spans, "wait for approval")
    assert wait.attributes["agentkit.decided_by"] == "approver"
    (tool,) = [s for s in spans if s.name == "execute_tool write_file"]
    assert tool.attributes["agentkit.decided_by"] == "approver"


def test_retrieval_span(tmp_path: Path, tracing: Tracing, exporter: InMemorySpanExporter) -> None:
    class Notes:
        def retrieve(self, query: str, k: int) -> list[ContextItem]:
            return [
                ContextItem(
                    kind="document", text="the sky is blue", source="notes.md:1-1", score=0.9
                )
            ]

    agent, _, _ = make_agent(tmp_path, [final("blue")], tracing=tracing, memory=Notes())
    agent.run("what colour is the sky?", thread_id="t5")
    spans = list(exporter.get_finished_spans())
    (retrieve,) = by_name(spans, "retrieve")
    assert retrieve.attributes["agentkit.retrieval.results"] == 1
    assert list(retrieve.attributes["agentkit.retrieval.sources"]) == ["notes.md:1-1"]
    plan = by_name(spans, "plan")[0]
    assert retrieve.parent is not None and retrieve.parent.span_id == plan.context.span_id


class Crash(BaseException):
    """Stands in for the process dying inside a tool call."""


def test_crash_and_resume_share_one_trace(
    tmp_path: Path, tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "a.txt").write_text("alpha")
    crashing = [t for t in make_tools(tmp_path, tmp_path / "log") if t.name != "read_file"]

    def read_file(path: str) -> str:
        raise Crash()

    from agent_support import PathArgs, _tool

    first = Agent(
        model=ScriptedChatModel(script=[call("read_file", {"path": "a.txt"}, "r1")]),
        tools=[*crashing, _tool(read_file, "Read a file.", PathArgs, ["read"])],
        settings=settings_for(data),
        planning=False,
        tracing=tracing,
    )
    with pytest.raises(Crash):
        first.run("read a.txt", thread_id="t6")
    # a new process: same thread store, a model that continues
    second = Agent(
        model=ScriptedChatModel(script=[final("alpha")]),
        tools=make_tools(tmp_path, tmp_path / "log"),
        settings=settings_for(data),
        planning=False,
        tracing=tracing,
    )
    assert second.resume("t6").answer == "alpha"

    spans = list(exporter.get_finished_spans())
    crashed, resumed = by_name(spans, "invoke_agent agentkit")
    assert not crashed.status.is_ok and "Crash" in (crashed.status.description or "")
    assert resumed.attributes["agentkit.run.kind"] == "continue"
    assert resumed.context.trace_id == crashed.context.trace_id
    assert resumed.parent is not None and resumed.parent.span_id == crashed.context.span_id
    assert [link.context.span_id for link in resumed.links] == [crashed.context.span_id]
    # both halves' work is in that trace: the first act, and the re-run execute
    trace_names = [s.name for s in spans if s.context.trace_id == crashed.context.trace_id]
    assert trace_names.count("act") == 2 and "finish" in trace_names
    (ok_read,) = [
        s
        for s in spans
        if s.name == "execute_tool read_file" and s.attributes.get("agentkit.tool.outcome") == "ok"
    ]
    assert ok_read.context.trace_id == crashed.context.trace_id


def test_file_exporter_writes_otlp_json_lines(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    settings = settings_for(data, tracing="file")
    tracing = Tracing.from_settings(settings)
    assert isinstance(tracing, Tracing)
    agent = Agent(
        model=ScriptedChatModel(script=[final("hi")]),
        tools=[],
        settings=settings,
        planning=False,
    )
    agent.run("say hi", thread_id="t7")
    spans = [
        s
        for s in read_spans(data / "traces.jsonl")
        if s.attributes.get("gen_ai.conversation.id") == "t7"
    ]
    assert [s.name for s in spans] == ["invoke_agent agentkit"]
    run = spans[0]
    assert len(run.trace_id) == 32 and len(run.span_id) == 16
    names = {s.name for s in read_spans(data / "traces.jsonl") if s.trace_id == run.trace_id}
    assert {"act", "finish", "chat agentkit-scripted"} <= names
    assert run.attributes["agentkit.run.status"] == "finished"


def test_tracing_off_adds_nothing(tmp_path: Path) -> None:
    agent, _, _ = make_agent(tmp_path, [final("hi")])
    assert agent.tracing is NO_TRACING
    config: dict[str, Any] = {"configurable": {"thread_id": "x"}}
    with agent.tracing.run("x", agent.graph, task="t") as run:
        assert run.config(config) is config  # type: ignore[arg-type]
    agent.run("say hi", thread_id="t8")
    assert (
        agent.storage.checkpointer.get_tuple(
            {"configurable": {"thread_id": "t8", "checkpoint_ns": ""}}
        ).metadata.get("agentkit_trace_id")
        is None
    )


def test_langchain_callbacks_see_graph_model_tools_and_retrieval(tmp_path: Path) -> None:
    """LangSmith attaches through LangChain callbacks; so does this local collector."""

    class Notes:
        def retrieve(self, query: str, k: int) -> list[ContextItem]:
            return [ContextItem(kind="memory", text="remember milk", source="memory:1")]

    (tmp_path / "a.txt").write_text("alpha")
    agent, _, _ = make_agent(
        tmp_path, [call("read_file", {"path": "a.txt"}, "r1"), final("alpha")], memory=Notes()
    )
    with collect_runs() as collector:
        agent.run("read a.txt", thread_id="t9")
    (root,) = collector.traced_runs
    assert root.name == "agentkit"

    def walk(run: Any) -> list[Any]:
        return [run, *(r for child in run.child_runs for r in walk(child))]

    runs = walk(root)
    kinds = {(r.run_type, r.name) for r in runs}
    assert ("chain", "act") in kinds and ("chain", "execute") in kinds
    assert ("tool", "read_file") in kinds
    assert ("retriever", "retrieve") in kinds
    llm = [r for r in runs if r.run_type == "llm"]
    assert (
        len(llm) == 2
        and llm[0].outputs["generations"][0][0]["message"]["kwargs"]["usage_metadata"][
            "input_tokens"
        ]
        > 0
    )


@pytest.mark.model
def test_chat_llama_span_reports_grammar_and_speed(
    tracing: Tracing, exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    from agentkit.models.factory import make_chat_model

    data = tmp_path / "data"
    data.mkdir()
    settings = settings_for(data, max_tokens=16, temperature=0.0)
    agent = Agent(
        model=make_chat_model(settings),
        tools=[],
        settings=settings,
        planning=False,
        tracing=tracing,
        limits=None,
    )
    with collect_runs() as collector:
        agent.run("Say hello.", thread_id="m1")
    chat = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    assert chat
    attrs = dict(chat[0].attributes)
    assert attrs["agentkit.grammar"] is True  # tool_choice any: a constrained call
    assert attrs["gen_ai.response.finish_reasons"]
    assert attrs["agentkit.tokens_per_second"] > 0
    assert attrs["agentkit.prompt_tokens.evaluated"] > 0
    assert [r for r in collector.traced_runs if r.name == "agentkit"]


def test_otlp_mode_posts_protobuf_to_the_collector(tmp_path: Path) -> None:
    """tracing = "otlp": OTLP/HTTP to a collector, here a stand-in on loopback."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    bodies: list[bytes] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        data = tmp_path / "data"
        data.mkdir()
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
        settings = settings_for(data, tracing="otlp", tracing_endpoint=endpoint)
        agent = Agent(
            model=ScriptedChatModel(script=[final("hi")]),
            tools=[],
            settings=settings,
            planning=False,
        )
        agent.run("say hi", thread_id="otlp1")
        assert agent.tracing.provider is not None
        agent.tracing.provider.force_flush()  # type: ignore[attr-defined]
    finally:
        server.shutdown()
    names = []
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "agentkit"
            names += [s.name for scope in resource.scope_spans for s in scope.spans]
    assert "invoke_agent agentkit" in names and "act" in names
