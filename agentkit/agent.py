"""The Python API: :class:`Agent`.

One object drives the graph for every front end (TUI, scripts, the CLI)::

    from agentkit.agent import Agent

    agent = Agent()                      # bundled model, read-only built-in tools
    result = agent.run("What is in README.md?")
    if result.status == "needs_approval":
        result = agent.resume(result.thread_id, [Approve(call_id=r.call_id) for r in result.pending])

``stream`` yields the typed events of :mod:`agentkit.events`; ``resume``
answers pending approvals; the ``a*`` twins do the same from asyncio. Every
run is a thread in the checkpointer, so a process can die while an approval
is pending and the next process resumes it.

A thread belongs to its workspace: the first run records the agent's
workspace (and the identity of its tools and policy file), and every later
run, resume, fork or rewind of the thread binds the built-in tools to that
directory, whatever the current directory is.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import RunControl
from langgraph.types import Command, Durability

from agentkit.agent_async import AsyncTwins
from agentkit.agent_loop import EVENT_TYPES as EVENT_TYPES
from agentkit.agent_loop import STREAM_MODES as STREAM_MODES
from agentkit.agent_loop import RunLoop
from agentkit.approvals.policy import Policy
from agentkit.checkpoint import ThreadStorage, open_storage, storage_faults
from agentkit.config import Settings, load_settings
from agentkit.errors import AgentkitError
from agentkit.events import (
    AgentEvent,
    ApprovalRequest,
    Decision,
    RunResult,
    add_usage,
)
from agentkit.graphs.agent_graph import (
    AgentNodes,
    ContextSource,
    Limits,
    build_agent_graph,
)
from agentkit.graphs.compaction import Compaction
from agentkit.graphs.file_history import FileHistory
from agentkit.graphs.ledger import MemoryLedger, SqliteLedger
from agentkit.graphs.prompts import DEFAULT_SYSTEM_PROMPT, Prompts
from agentkit.graphs.state import AgentState
from agentkit.hooks import HookSet
from agentkit.instructions import ProjectInstructions, load_instructions
from agentkit.interrupts import RunInterrupted
from agentkit.modes import Mode, check_mode
from agentkit.session import SessionControl
from agentkit.steering import Steering, steering_for
from agentkit.threads import (
    ThreadOrigin,
    ThreadStore,
    WorkspaceMissingError,
    new_thread_id,
    pending_requests,
    unfinished,
    workspace_identity,
)
from agentkit.tools.registry import bound_workspace, rebind_tools, toolset_identity
from agentkit.tracing import TracedContextSource, Tracing

__all__ = ["Agent", "Approver", "ContextSource", "Limits", "RunInterrupted"]

Approver = Callable[[list[ApprovalRequest]], Sequence[Decision]]
"""Called with the pending requests when a run needs approval; returns one
decision per request. Without an approver the run ends ``needs_approval``."""


def default_tools(settings: Settings, workspace: Path | None = None) -> list[BaseTool]:
    """The built-in read-only tools (in ``workspace``, default: the settings')."""
    from agentkit.tools import builtin_tools

    return builtin_tools(settings=settings, workspace=workspace, read_only=True)


def _storage_for(checkpointer: BaseCheckpointSaver) -> ThreadStorage:
    """A user-given checkpointer: put the ledger and titles in the same SQLite
    file when it is one, else keep them in memory."""
    conn = getattr(checkpointer, "conn", None)
    if conn is not None and hasattr(conn, "execute"):
        try:
            rows = conn.execute("PRAGMA database_list").fetchall()
            file = next((r[2] for r in rows if r[1] == "main" and r[2]), "")
        except Exception:  # noqa: BLE001 - not sqlite3 after all
            file = ""
        if file:
            return ThreadStorage(checkpointer, SqliteLedger(file), Path(file))
    return ThreadStorage(checkpointer, MemoryLedger(), None)


class Agent(AsyncTwins, RunLoop, SessionControl):
    """An agent over a LangGraph graph: plan → act → approve → execute → observe."""

    def __init__(
        self,
        model: BaseChatModel | Callable[[], BaseChatModel] | None = None,
        tools: Sequence[BaseTool] | None = None,
        memory: ContextSource | None = None,
        policy: Policy | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
        settings: Settings | None = None,
        approver: Approver | None = None,
        system_prompt: str | None = None,
        *,
        planning: bool | None = None,
        limits: Limits | None = None,
        durability: Durability | None = None,
        tool_choice: str | Callable[[AgentState], str] = "any",
        tracing: Tracing | None = None,
        workspace: Path | str | None = None,
        hooks: object | Sequence[object] | None = None,
        mode: Mode | str | None = None,
        instructions: bool | None = None,
    ) -> None:
        """Every argument is optional: the defaults are the bundled model
        (loaded on first use; a callable ``model`` is also called on first
        use), the built-in read-only tools, the policy file or
        the default policy, and SQLite threads in the data dir.

        ``planning=False`` skips the plan call (one model call less per run);
        ``None`` follows the ``planning`` setting (``auto``: off for a small
        model). Small-model steering (agentkit.steering, the ``[steering]``
        settings) is chosen from the model once it is built: on for a small
        in-process model (the tuned preset when an agentkit adapter is
        loaded), off for any other.
        ``tool_choice="any"`` makes every act step a tool call (the synthetic
        ``final_answer`` tool included), which a constrained model always gets
        right; use ``"auto"`` for models that answer in plain text.
        ``tracing`` defaults to the ``tracing`` setting (see
        :mod:`agentkit.tracing`); pass ``Tracing(provider)`` for your own
        OpenTelemetry tracer provider.

        ``workspace``: where new threads work (default: the directory the
        given built-in tools act in, else the ``workspace`` setting, else the
        current directory). A thread keeps the workspace it started in.

        ``hooks``: an object (or a list) with ``before_tool``, ``after_tool``,
        ``on_approval_request``, ``on_run_end`` (see :mod:`agentkit.hooks`);
        the ``[[hooks]]`` of the settings run too. ``mode``: the permission
        mode of threads that have none yet (default: the ``mode`` setting; see
        :mod:`agentkit.modes`). ``instructions``: put the project's
        ``AGENTS.md`` in the system prompt (default: the
        ``project_instructions`` setting; see :mod:`agentkit.instructions`).
        """
        self.settings = settings or load_settings()
        self.storage = (
            open_storage(self.settings) if checkpointer is None else _storage_for(checkpointer)
        )
        self.policy = policy or Policy.from_settings(
            self.settings, on_disk=self.storage.meta_path is not None
        )
        chosen = Path(workspace_identity(workspace)) if workspace is not None else None
        self.tools: list[BaseTool] = (
            list(tools) if tools is not None else default_tools(self.settings, chosen)
        )
        self.workspace: Path = (
            chosen or bound_workspace(self.tools) or self.settings.resolved_workspace()
        )
        """Where new threads work; a thread keeps the one it started in."""
        if chosen is not None:
            self.tools = rebind_tools(self.tools, chosen, self.settings)
        self._own_tools = self.tools  # bound to self.workspace; self.tools: the running thread's
        self._bound = self.workspace
        self.memory = memory
        self.approver = approver
        self.tracing = tracing or Tracing.from_settings(self.settings)
        self.durability: Durability = durability or self.settings.durability
        self.limits = limits or Limits(
            max_steps=self.settings.max_steps, max_tokens=self.settings.max_run_tokens
        )
        self.default_mode: Mode = check_mode(mode or self.settings.mode)
        self.hooks = HookSet.build(hooks, self.settings)
        self._system_prompt = system_prompt or DEFAULT_SYSTEM_PROMPT
        self._use_instructions = (
            self.settings.project_instructions if instructions is None else instructions
        )
        prompts = self._prompts_for(self.workspace)
        with self._storage_faults():
            self.file_history = FileHistory(
                self.storage.meta_path,
                max_file_bytes=self.settings.rewind_max_file_bytes,
                max_thread_bytes=self.settings.rewind_max_thread_bytes,
                git_snapshots=self.settings.rewind_git_snapshots,
                busy_timeout_ms=self.storage.busy_timeout_ms,
            )
        if planning is None and self.settings.planning != "auto":
            planning = self.settings.planning == "on"
        self.nodes = AgentNodes(
            model=model if model is not None else self._load_model,
            tools=self.tools,
            policy=self.policy,
            ledger=self.storage.ledger,
            memory=TracedContextSource(memory) if memory is not None else None,
            prompts=prompts,
            limits=self.limits,
            planning=planning,  # None: unless the model is small
            tool_choice=tool_choice,
            steering=self._steering_for,
            hooks=self.hooks,
            compaction=Compaction(
                n_ctx=_context_size(model, self.settings),
                threshold=self.settings.compact_at,
                keep_last=self.settings.compact_keep,
            ),
            files=self.file_history,
            workspace=self.workspace if self.workspace.is_dir() else None,
            cancelled=self._cancel_requested,
        )
        self.graph: CompiledStateGraph = build_agent_graph(self.nodes, self.storage.checkpointer)
        self.threads = ThreadStore(
            self.graph,
            self.storage.checkpointer,
            self.storage.ledger,
            self.storage.meta_path,
            on_delete=self._forget_thread_rules,
            busy_timeout_ms=self.storage.busy_timeout_ms,
        )
        self._control: RunControl | None = None
        self._lock = threading.Lock()

    def _prompts_for(self, workspace: Path) -> Prompts:
        """The system prompt with the project instructions of ``workspace``
        (a thread's own: they change with the workspace it works in)."""
        self.instructions = (
            load_instructions(workspace, self.settings.instructions_max_chars)
            if self._use_instructions and workspace.is_dir()
            else ProjectInstructions()
        )
        text = "\n\n".join(p for p in (self._system_prompt, self.instructions.text) if p)
        return Prompts(system=text)

    def _steering_for(self, model: BaseChatModel) -> Steering:
        """Small-model steering for a small model, none for others (decided
        from the model built, whatever built it)."""
        return steering_for(model, self.settings.steering, self._embeddings, self._own_tools)

    def _embeddings(self) -> Embeddings:
        """The memory's embedder when it has one, else the shared one (tool
        routing; loading MiniLM takes ~0.3 s)."""
        embeddings = getattr(self.memory, "embeddings", None)
        if isinstance(embeddings, Embeddings):
            return embeddings
        from agentkit.models.factory import shared_embeddings

        return shared_embeddings(self.settings)

    def _load_model(self) -> BaseChatModel:
        from agentkit.models.factory import make_chat_model

        return make_chat_model(
            self.settings
        )  # ChatLlama, or ChatLlamaServer when servers are configured

    def _forget_thread_rules(self, thread_id: str) -> None:
        """What goes with a deleted thread besides its checkpoints: its
        always-allow rules and its file snapshots."""
        for rule in self.policy.list_rules():
            if rule.thread_id == thread_id:
                self.policy.revoke(rule.id)
        self.file_history.delete_thread(thread_id)

    @property
    def model(self) -> BaseChatModel:
        return self.nodes.chat_model

    # --- sync API ------------------------------------------------------------------
    def run(self, task: str, thread_id: str | None = None) -> RunResult:
        """Run ``task`` until it finishes, stops, or needs an approval the
        ``approver`` (if any) does not give."""
        thread_id = thread_id or new_thread_id()
        for _ in self.stream(task, thread_id):
            pass
        return self.result(thread_id)

    def stream(self, task: str, thread_id: str | None = None) -> Iterator[AgentEvent]:
        """Run ``task``, yielding events as they happen. The thread id is in
        :class:`~agentkit.events.ApprovalNeeded` events and in :meth:`result`;
        pass your own to continue a conversation."""
        thread_id = thread_id or new_thread_id()

        def start() -> AgentState:
            self.threads.touch(thread_id, task)
            return {"task": task, "status": "starting"}

        yield from self._drive(thread_id, start, task=task)

    def resume(self, thread_id: str, decisions: Sequence[Decision] = ()) -> RunResult:
        """Answer the pending approvals of ``thread_id`` (one decision per
        pending call) and continue. With no decisions and nothing pending,
        continue a run that was interrupted (crash, cancel) from its last
        checkpoint. Raises :class:`~agentkit.approvals.decisions.DecisionError`
        (nothing runs) for unknown ids, missing decisions or invalid edits."""
        for _ in self.stream_resume(thread_id, decisions):
            pass
        return self.result(thread_id)

    def stream_resume(
        self, thread_id: str, decisions: Sequence[Decision] = ()
    ) -> Iterator[AgentEvent]:
        def prepare() -> Command | None:
            # Read what is pending only once the thread is ours: another
            # process may have answered it in the meantime.
            command = self._resume_input(thread_id, decisions)
            self.threads.touch(thread_id)
            return command

        yield from self._drive(thread_id, prepare)

    def pending(self, thread_id: str) -> list[ApprovalRequest]:
        """The calls ``thread_id`` waits on (empty when it waits on none)."""
        with self._storage_faults():
            snapshot = self.graph.get_state(self._config(thread_id))
        return self._requests(thread_id, pending_requests(snapshot))

    def _requests(self, thread_id: str, requests: list[ApprovalRequest]) -> list[ApprovalRequest]:
        """Saved requests as they read where the thread works now."""
        origin = self.threads.origin(thread_id) if requests else None
        return [r.in_workspace(origin.workspace) for r in requests] if origin else requests

    # --- workspaces -------------------------------------------------------------------
    def workspace_of(self, thread_id: str) -> Path:
        """The directory the thread's tools act in: the one it recorded, or
        this agent's for a thread that has recorded none yet. Raises
        :class:`~agentkit.threads.WorkspaceMissingError` when the recorded one
        no longer exists and some tool acts in a workspace (continue it
        elsewhere with ``self.threads.relocate``)."""
        origin = self.threads.origin(thread_id)
        if origin is None or not origin.workspace:
            return self.workspace
        path = Path(origin.workspace)
        if not path.is_dir() and bound_workspace(self._own_tools) is not None:
            raise WorkspaceMissingError(thread_id, origin.workspace)
        return path

    def _enter(self, thread_id: str) -> Path:
        """Before a run: bind the tools to the thread's workspace, recording
        this agent's workspace, tools and policy for a thread that has none."""
        workspace = self.workspace_of(thread_id)
        if self.threads.origin(thread_id) is None:
            self.threads.set_origin(thread_id, self._origin())
        with self._lock:
            if workspace != self._bound:
                if self._control is not None:
                    raise AgentkitError(
                        f"this agent is running a thread in {self._bound}; one run at a time"
                    )
                tools = (
                    self._own_tools
                    if workspace == self.workspace
                    else rebind_tools(self._own_tools, workspace, self.settings)
                )
                self.tools = tools
                self.nodes.bind_tools(tools)
                self.nodes.prompts = self._prompts_for(workspace)
                self._bound = workspace
        return workspace

    def _origin(self) -> ThreadOrigin:
        path = self.policy.path.expanduser().resolve() if self.policy.path else None
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path else ""
        except OSError:  # not written yet (the default policy)
            digest = ""
        return ThreadOrigin(
            workspace=str(self.workspace),
            tools=[t.name for t in self._own_tools],
            toolset=toolset_identity(self._own_tools),
            policy_file=str(path) if path else None,
            policy_sha256=digest,
        )

    def cancel(self) -> None:
        """Stop the current run after its current step; the thread stays
        consistent and :meth:`resume` continues it."""
        with self._lock:
            control = self._control
        if control is not None:
            self._drain(control, "cancelled")

    def _drain(self, control: RunControl, reason: str) -> None:
        """Ask the run to stop after its current step, and cut a generation in
        progress short (ChatLlama.cancel): the act node drops a cancelled
        reply and the plan node re-runs, so resuming redoes that step cleanly.
        Takes no lock: a signal handler calls it."""
        control.request_drain(reason)
        model = self.nodes.model
        if isinstance(model, BaseChatModel) and callable(getattr(model, "cancel", None)):
            model.cancel()

    def _cancel_requested(self) -> bool:
        control = self._control
        return control is not None and control.drain_requested

    def _storage_faults(self) -> AbstractContextManager[None]:
        return storage_faults(self.storage)

    def result(self, thread_id: str) -> RunResult:
        """The outcome of the thread's latest run, read from its checkpoint."""
        with self._storage_faults():
            snapshot = self.graph.get_state(self._config(thread_id))
        values: Mapping[str, Any] = snapshot.values if isinstance(snapshot.values, dict) else {}
        pending = self._requests(thread_id, pending_requests(snapshot))
        origin = self.threads.origin(thread_id)
        base: dict[str, Any] = {
            "thread_id": thread_id,
            "answer": values.get("answer", ""),
            "steps": values.get("plan", []),
            "tool_calls": values.get("tool_log", []),
            "usage": add_usage(values.get("usage")),
            "mode": self.mode(thread_id),
            "workspace": origin.workspace if origin else "",
        }
        if pending:
            return RunResult(status="needs_approval", pending=pending, **base)
        if unfinished(snapshot):  # cancelled, interrupted, or the process stopped mid-step
            return RunResult(status="interrupted", **base)
        if values.get("status") == "finished":
            return RunResult(status="finished", **base)
        if values.get("status") == "stopped":
            return RunResult(status="stopped", stop_reason=values.get("stop_reason", ""), **base)
        return RunResult(status="stopped", stop_reason="not started", **base)


def _context_size(
    model: BaseChatModel | Callable[[], BaseChatModel] | None, settings: Settings
) -> int:
    """The model's context size: its own ``n_ctx`` when it has one, else the setting."""
    n_ctx = getattr(model, "n_ctx", None) if isinstance(model, BaseChatModel) else None
    return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else settings.n_ctx
