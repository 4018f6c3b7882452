"""The vocabulary of threads: ids, statuses, the records that
:class:`agentkit.threads.ThreadStore` lists and shows (:class:`ThreadInfo`,
:class:`CheckpointInfo`, :class:`ThreadOrigin`), the errors its operations
raise, and the two readings of a state snapshot every caller needs (is a step
left to run, which approvals does it wait on). They live apart from the
store because they are plain data and pure functions, used by the Agent,
the CLI and the TUI without the store's SQLite bookkeeping; threads.py
re-exports every name here."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Literal

from langgraph.types import StateSnapshot
from pydantic import BaseModel, Field

from agentkit.errors import AgentkitError
from agentkit.events import ApprovalRequest

ThreadStatus = Literal["finished", "needs_approval", "stopped", "interrupted", "running", "empty"]
"""``interrupted``: a run stopped part-way (Ctrl-C, a crash, a full disk) and
``resume`` continues it; ``running``: a process is running it now."""


class ThreadNotFoundError(AgentkitError):
    """No thread (or checkpoint) with that id."""


class WorkspaceMissingError(AgentkitError):
    """The directory a thread works in no longer exists (moved or deleted);
    nothing ran. :meth:`ThreadStore.relocate` (``--workspace PATH``) continues
    it elsewhere on purpose."""

    def __init__(self, thread_id: str, workspace: str) -> None:
        self.thread_id = thread_id
        self.workspace = workspace
        super().__init__(
            f"thread {thread_id} works in {workspace}, which no longer exists",
            hint=f"moved? continue it there: agentkit resume {thread_id} --workspace PATH",
        )


def workspace_identity(path: str | Path) -> str:
    """How a workspace is named everywhere (threads, approval requests,
    "always allow" rules): its resolved absolute path."""
    return str(Path(path).expanduser().resolve())


class WorkspaceMove(BaseModel):
    """A thread moved to another workspace on purpose (``--workspace``)."""

    at: datetime
    from_workspace: str
    to_workspace: str


class ThreadOrigin(BaseModel):
    """What a thread was started with: the workspace its tools act in (every
    resume, fork and rewind acts there), the identity of its tool set and its
    policy file, and the moves made since."""

    workspace: str
    tools: list[str] = Field(default_factory=list)
    toolset: str = ""  # tools.registry.toolset_identity of the tools
    policy_file: str | None = None
    policy_sha256: str = ""  # of the policy file when the thread started ("" = no file)
    moves: list[WorkspaceMove] = Field(default_factory=list)


class ThreadInfo(BaseModel):
    thread_id: str
    title: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    status: ThreadStatus = "empty"
    stop_reason: str = ""
    task: str = ""
    answer: str = ""
    n_messages: int = 0
    pending: list[ApprovalRequest] = Field(default_factory=list)
    workspace: str = ""  # where its tools act ("" = not recorded: an older thread)


class CheckpointInfo(BaseModel):
    checkpoint_id: str
    parent_id: str | None = None
    step: int = -1
    source: str = ""
    created_at: str = ""
    next: list[str] = Field(default_factory=list)
    n_messages: int = 0
    last_message: str = ""
    workspace: str = ""  # where the step ran ("" = not recorded)


def new_thread_id() -> str:
    return uuid.uuid4().hex[:12]


def unfinished(snapshot: StateSnapshot) -> bool:
    """Whether the thread has a step to continue: a next node, or a step whose
    nodes finished but whose checkpoint was never written (the process
    stopped between the two: Ctrl-C, a kill, a full disk). LangGraph lists
    such a step's nodes in ``tasks`` with their results, not in ``next``, and
    continuing the thread applies their saved writes without running them again."""
    return bool(snapshot.next) or any(t.result is not None for t in snapshot.tasks)


def pending_requests(snapshot: StateSnapshot) -> list[ApprovalRequest]:
    """The approval requests a state snapshot is waiting on."""
    requests: list[ApprovalRequest] = []
    for item in snapshot.interrupts:
        value = item.value
        if isinstance(value, dict) and "requests" in value:
            requests.extend(ApprovalRequest.model_validate(r) for r in value["requests"])
    return requests
