"""Scale-out on real services, started on loopback by the tests themselves:
a Postgres cluster (Debian's postgresql), ``chroma run``, and llama-cpp-
python's OpenAI-compatible server with the bundled models.

- The in-process durability scenario (approval, SIGKILL, resume in a fresh
  process, side effects exactly once) with checkpoints and the ledger in
  Postgres, memories in the Chroma server and embeddings from the server; the
  resuming process has its own, empty data dir, as another machine would.
- The in-process end-to-end run (read, approved write, answer) on the real
  bundled model through the model server: every tool call grammar-valid.
- Chroma server collections keep the embedder check; server embeddings match
  the in-process embedder; a dead replica is skipped with a warning.

A service that cannot run here skips its tests with the reason; under CI
(``CI`` set) that is a failure instead, since .ci/run installs them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field
from services import (
    Service,
    Unavailable,
    free_port,
    start_chroma,
    start_llama_server,
    start_postgres,
)

from agentkit.config import load_settings
from agentkit.errors import StoreError

sys.path.insert(0, str(Path(__file__).parent.parent))
from agent_support import side_effects  # noqa: E402
from tests_support import summary_tools, wait_for  # noqa: E402

CHILD = Path(__file__).parent / "scaleout_child.py"
MEMORY = "The deploy password is kept in the team vault, never in the repository."


def _service(start: Callable[[], Service]) -> Iterator[Service]:
    try:
        service = start()
    except Unavailable as err:
        if os.environ.get("CI"):
            pytest.fail(f"scale-out service unavailable in CI: {err}")
        pytest.skip(f"scale-out service unavailable: {err}")
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Service]:
    yield from _service(start_postgres)


@pytest.fixture(scope="module")
def chroma() -> Iterator[Service]:
    yield from _service(start_chroma)


@pytest.fixture(scope="module")
def embed_server() -> Iterator[Service]:
    from agentkit.models.minilm import bundled_gguf_path

    path = bundled_gguf_path(load_settings().resolved_cache_dir())
    yield from _service(lambda: start_llama_server(path, embedding=True, threads=1))


@pytest.fixture(scope="module")
def chat_server(bundled_model_path: Path) -> Iterator[Service]:
    yield from _service(lambda: start_llama_server(bundled_model_path, n_ctx=4096))


# --- Chroma server ------------------------------------------------------------------------


def test_chroma_server_collections_keep_the_embedder_check(chroma: Service) -> None:
    from agentkit.memory.store import EmbedderInfo, VectorStore

    info = EmbedderInfo("all-minilm-l6-v2", 3)
    with VectorStore.open(Path("/nonexistent"), chroma.url) as store:
        store.collection("scaleout_check", info).add(
            ids=["m1"], embeddings=[[1.0, 0.0, 0.0]], documents=["x"]
        )
    # a second client (another process/machine) sees the same collection
    with VectorStore.open(Path("/nonexistent"), chroma.url) as store:
        assert store.collection("scaleout_check", info).count() == 1
        with pytest.raises(StoreError, match="built with embedder all-minilm-l6-v2"):
            store.collection("scaleout_check", EmbedderInfo("gguf:other.gguf", 3))


# --- embeddings over HTTP -------------------------------------------------------------------


@pytest.mark.model
def test_server_embeddings_match_the_in_process_embedder(embed_server: Service) -> None:
    import numpy as np

    from agentkit.models.embedder import LlamaEmbedder
    from agentkit.models.factory import make_embeddings

    settings = load_settings(embed_url=embed_server.url)
    remote = make_embeddings(settings)
    local = LlamaEmbedder.from_settings(load_settings())
    try:
        texts = ["The Rhine flows to the North Sea.", "Deploy on Fridays only with approval.", "ok"]
        a = np.asarray(remote.embed_documents(texts))
        b = np.asarray(local.embed_documents(texts))
        assert remote.info == local.info  # same collection metadata: same collections
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
        assert (np.sum(a * b, axis=1) > 0.999).all(), np.sum(a * b, axis=1)
    finally:
        local.close()


# --- the durability scenario on Postgres + Chroma server -------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["approval", "execution"])
def test_kill_and_resume_on_another_host_with_shared_services(
    tmp_path: Path, scenario: str, postgres: Service, chroma: Service, embed_server: Service
) -> None:
    from agentkit.memory.knowledge import KnowledgeBase

    settings = load_settings(
        data_dir=tmp_path / "seed", chroma_url=chroma.url, embed_url=embed_server.url
    )
    with KnowledgeBase.open(settings) as knowledge:
        knowledge.memories.remember(MEMORY, namespace="default")
    dsn = f"{postgres.url}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def child(data_dir: str, phase: str) -> list[str]:
        return [
            sys.executable,
            str(CHILD),
            dsn,
            chroma.url,
            embed_server.url,
            str(tmp_path),
            str(tmp_path / data_dir),
            scenario,
            phase,
        ]

    first = subprocess.Popen(
        child("host-a", "start"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    log = tmp_path / "side_effects.log"
    if scenario == "approval":
        wait_for(lambda: (tmp_path / "waiting").exists(), first, timeout=90.0)
    else:
        wait_for(lambda: "slow_write b" in side_effects(log), first, timeout=90.0)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    before = side_effects(log)
    # the context the model saw came from the Chroma server
    assert MEMORY in (tmp_path / "prompt.txt").read_text()

    resumed = subprocess.run(
        child("host-b", "resume"), capture_output=True, text=True, env=env, timeout=180
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    lines = resumed.stdout.splitlines()
    pending = next(line for line in lines if line.startswith("PENDING")).split(" ", 1)[1]
    result = json.loads(next(line for line in lines if line.startswith("RESULT"))[7:])
    threads = next(line for line in lines if line.startswith("THREADS")).split(" ", 1)[1]

    assert result["status"] == "finished", result
    assert "scaleout:finished" in threads.split(",")
    assert sorted(side_effects(log)) == ["slow_write b", "write_file a.txt"]  # exactly once
    outcomes = {c["call_id"]: c for c in result["tool_calls"]}
    assert outcomes["wa"]["status"] == "ok"
    if scenario == "approval":
        assert before == []  # nothing ran before the approval
        assert pending == "wa,wb"  # the same approval, found by another host
        assert outcomes["wb"]["status"] == "ok"
    else:
        # killed mid-call: the Postgres ledger tells host B it started; not re-run
        assert outcomes["wb"]["status"] == "error"
        assert "stopped while this call was running" in outcomes["wb"]["output"]


# --- the real model through the server -----------------------------------------------------


class ReadArgs(BaseModel):
    path: Literal["notes.txt"]


class SummaryArgs(BaseModel):
    content: str = Field(min_length=1, max_length=120)


@pytest.mark.model
@pytest.mark.slow
def test_agent_on_the_model_server_with_postgres(
    tmp_path: Path, chat_server: Service, postgres: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """The in-process e2e run (read, approved write, answer) with the model
    behind a server and a dead replica listed first."""
    import jsonschema

    from agentkit.agent import Agent
    from agentkit.events import ApprovalRequest, Approve
    from agentkit.graphs import tool_order
    from agentkit.models.remote import ChatLlamaServer

    (tmp_path / "notes.txt").write_text(
        "The Rhine is a river in Europe. It is about 1230 km long.\n"
    )
    dead = f"http://127.0.0.1:{free_port()}/v1"
    settings = load_settings(
        data_dir=tmp_path / "data",
        workspace=tmp_path,
        checkpointer=postgres.url,
        model_urls=[dead, chat_server.url],
        temperature=0.0,
        seed=7,
        max_tokens=120,
    )
    read_file, write = summary_tools(
        tmp_path,
        lambda path: (tmp_path / path).read_text(),
        "Read a file.",
        ReadArgs,
        SummaryArgs,
        "wrote {n} characters",
    )
    asked: list[ApprovalRequest] = []

    def approve(requests: list[ApprovalRequest]) -> list[Approve]:
        asked.extend(requests)
        return [Approve(call_id=r.call_id) for r in requests]

    agent = Agent(
        tools=[read_file, write],
        settings=settings,
        planning=False,
        approver=approve,
        tool_choice=tool_order("read_file", "write_summary", "final_answer"),
    )
    with caplog.at_level(logging.WARNING, logger="agentkit.models.remote"):
        events = list(
            agent.stream("Read notes.txt, then write a one-line summary of it.", "remote")
        )
    result = agent.result("remote")

    assert isinstance(agent.model, ChatLlamaServer)
    assert any(dead in r.getMessage() and "unavailable" in r.getMessage() for r in caplog.records)
    assert result.status == "finished", (result.stop_reason, result.tool_calls)
    assert [c["tool"] for c in result.tool_calls] == ["read_file", "write_summary"]
    assert [r.tool for r in asked] == ["write_summary"]  # the write waited for approval
    schemas = {
        "read_file": ReadArgs.model_json_schema(),
        "write_summary": SummaryArgs.model_json_schema(),
    }
    for record in result.tool_calls:  # valid by construction, through the server's grammar
        jsonschema.validate(record["args"], schemas[record["tool"]])
        assert record["status"] == "ok"
    assert "1230 km" in result.tool_calls[0]["output"]
    assert (tmp_path / "summary.md").read_text() == result.tool_calls[1]["args"]["content"]
    assert result.answer.strip() and result.usage["output_tokens"] > 0
    assert any(e.kind == "tool_call" for e in events)


@pytest.mark.model
def test_prose_streams_token_by_token_from_the_server(chat_server: Service) -> None:
    from agentkit.models.remote import ChatLlamaServer

    model = ChatLlamaServer(base_urls=[chat_server.url], temperature=0.0, max_tokens=12)
    chunks = [c.content for c in model.stream("Name a river in Europe.") if c.content]
    assert len(chunks) >= 3  # streamed, not one block
    final = model.invoke("Name a river in Europe.")
    assert final.content == "".join(chunks)  # greedy: same text either way
    assert final.response_metadata["finish_reason"] in ("stop", "length")


def test_many_processes_can_start_on_a_fresh_database_at_once(
    tmp_path: Path, postgres: Service
) -> None:
    """Schema setup (the saver's migrations, the ledger table) is serialised:
    without it, simultaneous first starts fail with duplicate keys or deadlock."""
    import threading

    import psycopg

    from agentkit.checkpoint import open_storage

    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE fresh_start")
    dsn = postgres.url.rsplit("/", 1)[0] + "/fresh_start"
    errors: list[BaseException] = []

    def start(index: int) -> None:
        try:
            open_storage(load_settings(checkpointer=dsn, data_dir=tmp_path / f"host-{index}"))
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
