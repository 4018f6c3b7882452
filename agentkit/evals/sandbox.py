"""A fresh world for one case: a temp workspace with the case's files, a temp
data dir (threads database, Chroma store), documents ingested and memories
stored, a local HTTP server for ``http_pages``, and the tools wired the way
``agentkit chat`` wires them (built-ins confined to the workspace, plus the
knowledge base's tools)."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from agentkit.approvals.policy import Policy
from agentkit.config import Settings
from agentkit.evals.cases import EvalCase

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.tools import BaseTool

    from agentkit.memory.knowledge import KnowledgeBase

LOCAL_HOST = "127.0.0.1"
# The page server's port when it is free. The URL is part of the task the
# model reads: a port drawn at random made two runs of the same code differ
# (held-out http 0 to 2 of 13 over five runs of near-identical code).
EVAL_PORT = 8765
# When a case's memories say they were stored.
SEEDED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class PageServer:
    """Serves ``pages`` (URL path -> body) on 127.0.0.1, at :data:`EVAL_PORT`
    when it is free (another eval running beside this one holds it), else at
    a free port."""

    def __init__(self, pages: Mapping[str, str]) -> None:
        served = dict(pages)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = served.get(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                kind = mimetypes.guess_type(self.path)[0] or "text/plain"
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # the progress display owns the terminal

        try:
            self._server = ThreadingHTTPServer((LOCAL_HOST, EVAL_PORT), Handler)
        except OSError:  # in use
            self._server = ThreadingHTTPServer((LOCAL_HOST, 0), Handler)
        self.base_url = f"http://{LOCAL_HOST}:{self._server.server_address[1]}"
        # A short poll interval: shutdown() waits for the next poll, per case.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``root``; a symlink counts
    by its target path and is never followed (a model's ``ln -s /`` must not
    send this walk through the whole disk)."""
    out: dict[str, str] = {}
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in [*names, *(d for d in dirs if Path(folder, d).is_symlink())]:
            path = Path(folder, name)
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[key] = "link:" + os.readlink(path)
            elif path.is_file():
                out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def changed_files(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Files created, modified or deleted, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class CaseEnv:
    """Everything one case runs in; a context manager that removes it all."""

    def __init__(
        self,
        case: EvalCase,
        settings: Settings,
        embeddings: Embeddings | None = None,
        max_steps: int = 6,
    ) -> None:
        self.case = case
        self.root = Path(tempfile.mkdtemp(prefix=f"agentkit-eval-{case.id}-"))
        self.workspace = self.root / "workspace"
        self.data_dir = self.root / "data"
        self.docs_dir = self.root / "docs"
        self._server: PageServer | None = None
        self.kb: KnowledgeBase | None = None
        self._stored_before: set[str] = set()
        try:
            self._build(settings, embeddings, max_steps)
        except BaseException:
            self.close()
            raise

    def _build(self, base: Settings, embeddings: Embeddings | None, max_steps: int) -> None:
        case = self.case
        for root, files in ((self.workspace, case.files), (self.docs_dir, case.docs)):
            root.mkdir(parents=True, exist_ok=True)
            for name, content in files.items():
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
        self.data_dir.mkdir()
        self.before = snapshot(self.workspace)
        self.base_url = ""
        if case.http_pages:
            self._server = PageServer(case.http_pages)
            self.base_url = self._server.base_url
        self.task = case.task.replace("{base_url}", self.base_url)
        self.max_steps = case.step_limit(max_steps)
        # Hermetic: this case's dirs, the embedded stores, no user policy,
        # user tools or MCP servers, and no host but the local page server.
        self.settings = base.model_copy(
            update={
                "workspace": self.workspace,
                "data_dir": self.data_dir,
                "checkpointer": None,
                "chroma_url": None,
                "policy_file": None,
                "user_tools": [],
                "mcp_servers": {},
                "http_allowed_hosts": [LOCAL_HOST],
                "max_steps": self.max_steps,
            }
        )
        self.policy = (
            Policy.from_dict(case.policy.model_dump(), where=f"case {case.id}: policy")
            if case.policy is not None
            else Policy.default()
        )
        # The tools and knowledge base every front end gives the agent
        # (agentkit.assembly), in this case's workspace and data dir.
        from agentkit.assembly import open_knowledge, select_tools, user_tools

        if case.uses_memory() and self.settings.memory:
            self.kb = open_knowledge(self.settings, embeddings, self.data_dir)
        if self.kb is not None:
            if case.docs:
                self.kb.documents.ingest([self.docs_dir])
            for index, text in enumerate(case.memories):
                # Their ids and dates are in what recall shows the model:
                # drawn afresh, they made two runs of the same code differ.
                # One minute apart, in the case's order (the latest is the last).
                seed = hashlib.sha256(f"{case.id}\n{index}\n{text}".encode()).hexdigest()
                stored = (SEEDED_AT + timedelta(minutes=index)).isoformat(timespec="seconds")
                self.kb.memories.remember(text, memory_id=seed[:12], created_at=stored)
            self._stored_before = {m.id for m in self.kb.memories.list()}
        tools = user_tools(self.settings, knowledge=self.kb)
        self.tools: list[BaseTool] = select_tools(tools, case.tools)

    def changed_files(self) -> list[str]:
        return changed_files(self.before, snapshot(self.workspace))

    def new_memories(self) -> list[str]:
        """Texts of memories stored during the run."""
        if self.kb is None:
            return []
        return [m.text for m in self.kb.memories.list() if m.id not in self._stored_before]

    def close(self) -> None:
        if self.kb is not None:
            self.kb.close()
            self.kb = None
        if self._server is not None:
            self._server.close()
            self._server = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> CaseEnv:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
