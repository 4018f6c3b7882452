"""ChatLlamaServer / RemoteEmbeddings against scripted HTTP servers (httpx
MockTransport): round robin, dead-server skipping, the grammar in the request,
streamed tool calls, and the LangGraph Server entry point. Fast; the real
servers are in test_scaleout_e2e.py."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.tools import tool
from services import continuation

from agentkit.config import load_settings
from agentkit.errors import ModelError
from agentkit.models.remote import ChatLlamaServer, RemoteEmbeddings, RemoteEngine, ServerPool

ROOT = Path(__file__).resolve().parents[2]
A, B = "http://10.0.0.1:8001/v1", "http://10.0.0.2:8002/v1"


def sse(*texts: str, finish: str | None = "stop") -> bytes:
    events = [{"choices": [{"text": t, "index": 0, "finish_reason": None}]} for t in texts]
    if finish is not None:
        events.append({"choices": [{"text": "", "index": 0, "finish_reason": finish}]})
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return (body + "data: [DONE]\n\n").encode()


Handler = Callable[[httpx.Request], httpx.Response]


def model_over(
    handler: Handler, urls: list[str] | None = None, retry_s: float = 60.0, **fields: Any
) -> ChatLlamaServer:
    model = ChatLlamaServer(
        base_urls=urls or [A, B], **{"chat_format": "gemma", "temperature": 0.0, **fields}
    )
    pool = ServerPool(model.base_urls, retry_s=retry_s, transport=httpx.MockTransport(handler))
    model._remote = RemoteEngine(pool)
    return model


def stream_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, content=sse("Hello", " there", "."), headers={"content-type": "text/event-stream"}
    )


@tool
def read_file(path: str) -> str:
    """Read a file."""
    return path


def test_requests_are_spread_over_the_servers_in_turn() -> None:
    hosts: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        hosts[request.url.host] += 1
        return stream_ok(request)

    model = model_over(handler)
    for _ in range(4):
        assert model.invoke("hi").content == "Hello there."
    assert hosts == {"10.0.0.1": 2, "10.0.0.2": 2}


def test_a_dead_server_is_skipped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.host == "10.0.0.1":
            raise httpx.ConnectError("connection refused")
        return stream_ok(request)

    model = model_over(handler)
    with caplog.at_level(logging.WARNING, logger="agentkit.models.remote"):
        replies = [model.invoke("hi").content for _ in range(3)]
    assert replies == ["Hello there."] * 3
    # tried once, then skipped while it is marked dead
    assert hosts == ["10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.2"]
    warnings = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1 and A in warnings[0]


def test_a_5xx_before_the_first_token_goes_to_the_next_server() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "10.0.0.1":
            return httpx.Response(503, text="loading model")
        return stream_ok(request)

    assert model_over(handler).invoke("hi").content == "Hello there."


def test_no_reachable_server_is_a_one_line_model_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(ModelError, match="no model server could take the request"):
        model_over(handler).invoke("hi")


def test_a_stream_cut_short_says_how_to_start_the_server() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=sse("Hel", finish=None), headers={"content-type": "text/event-stream"}
        )

    with pytest.raises(ModelError, match="ended a reply early") as err:
        model_over(handler, urls=[A]).invoke("hi")
    assert "interrupt_requests" in (err.value.hint or "")


def test_tool_calls_are_decoded_under_the_shared_grammar() -> None:
    bodies: list[dict[str, Any]] = []
    reply = '<tool_call>{"name": "read_file", "arguments": {"path": "a.txt"}}</tool_call>'

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        rest = continuation(body["prompt"], reply)
        return httpx.Response(200, content=sse(*[rest[i : i + 7] for i in range(0, len(rest), 7)]))

    model = model_over(handler, urls=[A])
    chunks = list(model.bind_tools([read_file], tool_choice="any").stream("read a.txt"))
    message = chunks[0]
    for chunk in chunks[1:]:
        message = message + chunk
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("read_file", {"path": "a.txt"})
    ]
    assert not any(c.content for c in chunks)  # a forced call is not streamed as text
    body = bodies[0]
    assert "</tool_call>" in body["grammar"] and "root ::=" in body["grammar"]
    assert body["stream"] is True and "stop" not in body  # stop strings would cut a JSON value
    assert (
        body["prompt"].startswith("<start_of_turn>user\n")
        and "<start_of_turn>model\n" in body["prompt"]
    )


def test_settings_select_servers_for_model_and_embeddings() -> None:
    from agentkit.models.factory import make_chat_model, make_embeddings

    settings = load_settings(
        model="http://h1:8001, h2:8002/v1", embed_url="http://h3:9000", chat_format="gemma"
    )
    model = make_chat_model(settings)
    assert isinstance(model, ChatLlamaServer)
    assert model.base_urls == ["http://h1:8001/v1", "http://h2:8002/v1"]
    embeddings = make_embeddings(settings)
    assert isinstance(embeddings, RemoteEmbeddings)
    assert embeddings.name == "all-minilm-l6-v2"  # the in-process name: same collections
    listed = make_chat_model(load_settings(model_urls=["http://h4:1"]))
    assert isinstance(listed, ChatLlamaServer) and listed.base_urls == ["http://h4:1/v1"]


def test_remote_embeddings_are_normalised_and_kept_in_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        data = [
            {"index": i, "embedding": [3.0 * (i + 1), 4.0 * (i + 1)]} for i in range(len(texts))
        ]
        return httpx.Response(200, json={"data": list(reversed(data))})

    embeddings = RemoteEmbeddings([A], name="test")
    embeddings.pool = ServerPool([A], transport=httpx.MockTransport(handler))
    vectors = embeddings.embed_documents(["a", "b", ""])
    assert vectors == [[0.6, 0.8]] * 3
    assert embeddings.info.dimension == 2


# --- LangGraph Server -------------------------------------------------------------------------


def _load_langgraph_json_graph() -> Any:
    config = json.loads((ROOT / "langgraph.json").read_text())
    path, _, attr = config["graphs"]["agent"].partition(":")
    spec = importlib.util.spec_from_file_location("agentkit_langgraph_entry", ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attr)


def test_langgraph_json_names_a_graph_factory_that_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langgraph.graph.state import CompiledStateGraph

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    import asyncio

    graph = asyncio.run(_load_langgraph_json_graph()({"configurable": {}}))
    assert isinstance(graph, CompiledStateGraph)
    assert graph.checkpointer is None  # LangGraph Server brings its own
    assert {"plan", "act", "approve", "execute", "observe", "finish"} <= set(graph.nodes)


def test_approvals_are_langgraph_interrupts_on_the_server_graph(tmp_path: Path) -> None:
    import sys

    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    from agentkit.graphs.server import build_server_graph
    from agentkit.testing import ScriptedChatModel, calls, final

    sys.path.insert(0, str(ROOT / "tests"))
    from agent_support import make_tools, side_effects

    log = tmp_path / "log"
    model = ScriptedChatModel(
        script=[calls(("write_file", {"path": "a.txt", "content": "A"}, "wa")), final("done")]
    )
    graph = build_server_graph(
        load_settings(data_dir=tmp_path / "data", workspace=tmp_path),
        model=model,
        tools=make_tools(tmp_path, log),
        planning=False,
    )
    # what LangGraph Server does: attach its checkpointer to the loaded graph
    served = graph.copy(update={"checkpointer": InMemorySaver()})
    config = {"configurable": {"thread_id": "t"}}
    first = served.invoke({"task": "write a.txt"}, config)
    (interrupt,) = first["__interrupt__"]
    assert [r["call_id"] for r in interrupt.value["requests"]] == ["wa"]
    assert side_effects(log) == []
    done = served.invoke(Command(resume=[{"kind": "approve", "call_id": "wa"}]), config)
    assert done["status"] == "finished" and done["answer"] == "done"
    assert side_effects(log) == ["write_file a.txt"]


def test_auto_chat_format_asks_the_server_which_model_it_runs() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "/models/gemma-3-270m-q4_k_m.gguf"}]})
        return stream_ok(request)

    gemma = model_over(handler, urls=[A], chat_format="auto")
    assert gemma.prompt_format.name == "gemma"

    def other(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": "qwen2.5-7b-instruct"}]})

    assert model_over(other, urls=[A], chat_format="auto").prompt_format.name == "chatml"


def test_a_server_failing_mid_reply_is_not_retried_elsewhere() -> None:
    """Retrying would repeat the tokens already streamed; the step fails with
    one line and the thread stays resumable."""
    hosts: list[str] = []

    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b'data: {"choices": [{"text": "Hel", "finish_reason": null}]}\n\n'
            raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(200, stream=Broken())

    with pytest.raises(ModelError, match="failed in the middle of a reply"):
        model_over(handler).invoke("hi")
    assert hosts == ["10.0.0.1"]
