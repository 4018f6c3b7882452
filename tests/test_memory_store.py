"""Long-term memory, the store's guards (embedder mismatch, the data-dir lock,
server URL errors), retrieve() for the plan node and the memory tools.
Real Chroma, real embeddings."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from pydantic import TypeAdapter

from agentkit.config import load_settings
from agentkit.errors import StoreError
from agentkit.events import ContextItem
from agentkit.memory import KnowledgeBase, LlamaEmbedder
from agentkit.memory.store import LOCK_NAME, VectorStore
from agentkit.tools.base import side_effects_of
from agentkit.tools.memory import memory_tools

pytestmark = pytest.mark.model


def _tool(kb: KnowledgeBase, name: str):
    return {t.name: t for t in memory_tools(kb)}[name]


def test_remember_records_provenance_and_recall_finds_it(kb: KnowledgeBase) -> None:
    remember = _tool(kb, "remember")
    call = {
        "name": "remember",
        "args": {"text": "The user's dog is called Biscuit."},
        "id": "call_42",
        "type": "tool_call",
    }
    message = remember.invoke(call, config={"configurable": {"thread_id": "thread-7"}})
    assert "memory:" in message.content
    kb.memories.remember("The deploy script lives in ops/deploy.sh.")
    kb.memories.remember("Quarterly reports are due on the 5th.")

    [record] = [r for r in kb.memories.list() if "Biscuit" in r.text]
    assert record.thread_id == "thread-7"
    assert record.message_id == "call_42"
    assert record.created_at.startswith("20")

    hits = kb.memories.recall("what is the name of my pet?", k=3)
    assert hits[0].memory.id == record.id
    recalled = _tool(kb, "recall").invoke({"query": "what's my pet's name?"})
    assert f"memory:{record.id}" in recalled


def test_remember_without_a_tool_call_still_works(kb: KnowledgeBase) -> None:
    out = _tool(kb, "remember").invoke({"text": "Prefers metric units."})
    assert "memory:" in out
    [record] = kb.memories.list()
    assert record.thread_id is None and record.message_id is None


def test_memory_tools_declare_side_effects(kb: KnowledgeBase) -> None:
    tools = {t.name: t for t in memory_tools(kb)}
    assert set(tools) == {"search_docs", "remember", "recall"}
    assert side_effects_of(tools["remember"]) == {"write"}
    assert side_effects_of(tools["recall"]) == {"read"}
    assert side_effects_of(tools["search_docs"]) == {"read"}


def test_forget_and_list(kb: KnowledgeBase) -> None:
    a = kb.memories.remember("first fact")
    b = kb.memories.remember("second fact")
    assert {r.id for r in kb.memories.list()} == {a.id, b.id}
    assert kb.memories.forget(a.id) is True
    assert kb.memories.forget(a.id) is False
    assert [r.id for r in kb.memories.list()] == [b.id]


def test_retrieve_merges_memories_and_documents(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "widget.md").write_text(
        "# Widget\n\nTo reset the widget, hold the red button for ten seconds.\n"
    )
    (docs / "soup.md").write_text("# Soup\n\nSimmer the onions for forty minutes.\n")
    kb.documents.ingest([docs])
    memory = kb.memories.remember("The user's widget is the blue model from 2019.")
    kb.memories.remember("The user likes jazz.")

    items = kb.retrieve("how do I reset my widget?", k=3)
    assert TypeAdapter(list[ContextItem]).validate_python(items) == items
    kinds = {(i["kind"], i["source"]) for i in items}
    assert ("memory", f"memory:{memory.id}") in kinds
    widget_doc = [i for i in items if i["kind"] == "document"][0]
    assert widget_doc["source"].endswith("widget.md:1-3")
    assert "red button" in widget_doc["text"]
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    # Unrelated context falls under the score floor.
    assert all("jazz" not in i["text"] for i in items)
    assert kb.retrieve("   ", k=3) == []


def test_search_docs_tool_cites_path_and_lines(kb: KnowledgeBase, tmp_path: Path) -> None:
    note = tmp_path / "notes.md"
    note.write_text("# Notes\n\nline three\n\nThe launch code is PURPLE-42.\n")
    kb.documents.ingest([note])
    out = _tool(kb, "search_docs").invoke({"query": "launch code", "k": 2})
    assert "notes.md:1-5]" in out and "PURPLE-42" in out


def test_other_embedder_on_same_store_is_a_clear_error(
    tmp_path: Path, embedder: LlamaEmbedder
) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    with KnowledgeBase.open(settings, embeddings=embedder) as kb:
        kb.memories.remember("something")
    with pytest.raises(StoreError, match=r"built with embedder all-minilm-l6-v2 \(384 dims\)"):
        KnowledgeBase.open(settings, embeddings=DeterministicFakeEmbedding(size=16))
    # The failed open released the lock: the right embedder still works.
    with KnowledgeBase.open(settings, embeddings=embedder) as kb:
        assert kb.memories.count() == 1


def test_any_langchain_embeddings_object(tmp_path: Path) -> None:
    fake = DeterministicFakeEmbedding(size=16)
    with KnowledgeBase.open(load_settings(data_dir=tmp_path / "d"), embeddings=fake) as kb:
        record = kb.memories.remember("hello")
        assert kb.memories.recall("hello", k=1)[0].memory.id == record.id
        assert kb.info.dimension == 16


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from agentkit.memory.store import LOCK_NAME, VectorStore
    store = VectorStore.open(Path(sys.argv[1]))
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_lock_held_by_another_process(tmp_path: Path, cache_dir: Path) -> None:
    data = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(
            StoreError, match=rf"in use by another agentkit process \(pid {holder.pid}\)"
        ):
            VectorStore.open(data)

        # The CLI turns it into one line and exit status 2, no traceback.
        env = dict(os.environ, AGENTKIT_DATA_DIR=str(data), AGENTKIT_CACHE_DIR=str(cache_dir))
        cli = subprocess.run(
            [sys.executable, "-c", "from agentkit.cli import main; main()", "memory", "list"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert cli.returncode == 2
        assert cli.stderr.startswith("error: the vector store in")
        assert "Traceback" not in cli.stderr
    finally:
        holder.kill()
        holder.wait()
    # The kernel drops a dead process's flock: no stale lock.
    VectorStore.open(data).close()


def _flock_held(data_dir: Path) -> bool:
    """Whether another open of the lock file is refused (flock locks belong to
    one open file description, so this sees our own process's lock too)."""
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def test_lock_is_shared_within_one_process(tmp_path: Path) -> None:
    first = VectorStore.open(tmp_path)
    second = VectorStore.open(tmp_path)  # no StoreError: the same process shares the lock
    assert _flock_held(tmp_path)
    second.close()
    assert _flock_held(tmp_path), "the first store still holds it"
    first.close()
    assert not _flock_held(tmp_path), "released with the last store"
    VectorStore.open(tmp_path).close()


def test_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        VectorStore.open(Path("/nonexistent"), url="http://127.0.0.1:9")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chroma_server_via_url(tmp_path: Path, embedder: LlamaEmbedder) -> None:
    import time
    import urllib.request

    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("chroma CLI not installed")
    port = _free_port()
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://localhost:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        settings = load_settings(data_dir=tmp_path / "local", chroma_url=url)
        with KnowledgeBase.open(settings, embeddings=embedder) as kb:
            record = kb.memories.remember("The staging server is called kestrel.")
            assert kb.store.location == url
            # Two clients on one server are fine: no data-dir lock involved.
            with KnowledgeBase.open(settings, embeddings=embedder) as other:
                assert other.memories.recall("name of staging host", k=1)[0].memory.id == record.id
        assert not (tmp_path / "local" / "chroma.lock").exists()
    finally:
        server.kill()
        server.wait()
