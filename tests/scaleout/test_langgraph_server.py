"""``langgraph dev`` serves the graph named in langgraph.json, and approvals
are LangGraph interrupts there: a run stops at ``approve`` with the agentkit
approval requests as the interrupt value, and a ``resume`` command with the
decisions runs the call and finishes.

The model is a scripted OpenAI-compatible completions server (this test is
about the serving path, not the model): the graph reaches it through
``model_urls`` and ChatLlamaServer, like a real deployment.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from services import continuation, free_port

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).parent / "langgraph"

pytestmark = pytest.mark.slow


class ScriptedCompletions(BaseHTTPRequestHandler):
    """/v1/completions: a plan for structured-output requests, then the next
    scripted tool call for tool-call requests (told apart by the grammar)."""

    calls = [
        {"name": "write_file", "arguments": {"path": "out.txt", "content": "hello"}},
        {"name": "final_answer", "arguments": {"answer": "wrote out.txt"}},
    ]
    position = 0
    prompts: list[str] = []

    def do_GET(self) -> None:  # /v1/models
        self._send(json.dumps({"data": [{"id": "gemma-3-270m"}]}).encode(), "application/json")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).prompts.append(body["prompt"])
        if "</tool_call>" in (body.get("grammar") or ""):
            call = self.calls[min(type(self).position, len(self.calls) - 1)]
            type(self).position += 1
            text = continuation(body["prompt"], f"<tool_call>{json.dumps(call)}</tool_call>")
        else:
            text = json.dumps({"steps": ["Write hello to out.txt"]})
        events = [
            {"choices": [{"text": text, "index": 0, "finish_reason": None}]},
            {"choices": [{"text": "", "index": 0, "finish_reason": "stop"}]},
        ]
        payload = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self._send(payload.encode(), "text/event-stream")

    def _send(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def model_stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), ScriptedCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


@pytest.fixture
def langgraph_dev(tmp_path: Path, model_stub: str) -> Iterator[str]:
    if not LANGGRAPH.is_file():
        if os.environ.get("CI"):
            pytest.fail("langgraph-cli[inmem] is not installed (the scale extra installs it)")
        pytest.skip("langgraph-cli[inmem] is not installed: pip install -e '.[scale]'")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "AGENTKIT_DATA_DIR": str(tmp_path / "data"),
        "AGENTKIT_WORKSPACE": str(workspace),
        "AGENTKIT_MODEL_URLS": json.dumps([model_stub]),
        "AGENTKIT_CHAT_FORMAT": "gemma",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    }
    # The repo's langgraph.json with its paths made absolute, served from a
    # temp dir: `langgraph dev` keeps its in-memory state in ./.langgraph_api.
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str(ROOT)]
    config["graphs"] = {
        name: str(ROOT / spec.removeprefix("./")) for name, spec in config["graphs"].items()
    }
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    log = tmp_path / "langgraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(LANGGRAPH),
                "dev",
                "--no-browser",
                "--no-reload",
                "--port",
                str(port),
                "--config",
                str(tmp_path / "langgraph.json"),
            ],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"langgraph dev exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"langgraph dev did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_langgraph_dev_serves_the_agent_and_approvals_are_interrupts(
    langgraph_dev: str, tmp_path: Path
) -> None:
    from langgraph_sdk import get_client

    written_before_approval: list[bool] = []

    async def scenario() -> tuple[dict, dict, dict]:
        client = get_client(url=langgraph_dev)
        (assistant,) = await client.assistants.search(graph_id="agent")
        thread = await client.threads.create()
        await client.runs.wait(
            thread["thread_id"], assistant["assistant_id"], input={"task": "Write hello to out.txt"}
        )
        waiting = await client.threads.get_state(thread["thread_id"])
        interrupts = [i for task in waiting["tasks"] for i in task.get("interrupts", [])]
        requests = interrupts[0]["value"]["requests"]
        written_before_approval.append((tmp_path / "ws" / "out.txt").exists())
        decisions = [{"kind": "approve", "call_id": r["call_id"]} for r in requests]
        await client.runs.wait(
            thread["thread_id"], assistant["assistant_id"], command={"resume": decisions}
        )
        done = await client.threads.get_state(thread["thread_id"])
        return waiting, interrupts[0], done

    waiting, interrupt, done = asyncio.run(scenario())
    assert waiting["next"] == ["approve"]
    (request,) = interrupt["value"]["requests"]
    assert request["tool"] == "write_file" and request["args"] == {
        "path": "out.txt",
        "content": "hello",
    }
    assert request["side_effects"] == ["write"]
    assert written_before_approval == [False]  # nothing ran before the approval

    assert done["next"] == []
    assert done["values"]["status"] == "finished" and done["values"]["answer"] == "wrote out.txt"
    assert [c["status"] for c in done["values"]["tool_log"]] == ["ok"]
    assert (tmp_path / "ws" / "out.txt").read_text() == "hello"
    # the prompts went through agentkit's own format to the completions endpoint
    assert all(p.startswith("<start_of_turn>user\n") for p in ScriptedCompletions.prompts)
