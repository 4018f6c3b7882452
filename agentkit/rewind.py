"""Rewind a thread: its workspace files, its conversation, or both.

``rewind(thread, to_step)`` undoes every change agentkit's file tools made
after checkpoint ``to_step`` (the steps ``agentkit threads history`` lists),
from the records of :mod:`agentkit.graphs.file_history`:

- a file is restored to its content before the first change after the step,
  or deleted if it did not exist then;
- a file whose content is no longer what agentkit's tool left (someone else
  changed it since) is a **conflict**: reported, never overwritten unless
  ``force``;
- a file too large to have been kept is reported as not restorable;
- shell commands' changes cannot be recorded: the report says which commands
  ran after the step. In a git work tree, ``git=True`` restores the tracked
  files to the snapshot taken before the first of them (``git restore
  --source``); what differs is listed first;
- ``conversation=True`` forks the thread at that step (the newest checkpoint
  at or before it where no decided call is about to run), and the fork keeps
  the file records up to there.

A dry run (``dry_run=True``) computes the same report and changes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from agentkit.errors import AgentkitError
from agentkit.graphs.file_history import FileChange, FileHistory, digest, read_current
from agentkit.threads import ThreadStore
from agentkit.tools.workspace import Workspace

FileActionKind = Literal["restore", "delete", "unchanged", "conflict", "not_kept"]


class RewindError(AgentkitError):
    """The rewind cannot be done as asked (unknown step, nothing recorded)."""


class FileAction(BaseModel):
    path: str  # relative to root
    root: str
    action: FileActionKind
    detail: str = ""
    steps: list[int] = Field(default_factory=list)  # steps whose changes are undone
    tools: list[str] = Field(default_factory=list)
    done: bool = False


class ShellAction(BaseModel):
    """A shell command after the step: its changes, and the git snapshot
    taken before it (if any)."""

    step: int
    call_id: str
    root: str = ""
    commit: str = ""
    detail: str = ""  # why there is no snapshot, or what restoring it changes
    restore: bool = False  # this snapshot is the one restored (git=True)
    done: bool = False


class RewindPoint(BaseModel):
    """A step where agentkit changed files (rewind to ``step - 1`` undoes it)."""

    step: int
    at: datetime
    tool: str
    paths: list[str]


class RewindReport(BaseModel):
    thread_id: str
    to_step: int
    dry_run: bool
    files: list[FileAction] = Field(default_factory=list)
    shell: list[ShellAction] = Field(default_factory=list)
    checkpoint_id: str | None = None  # where the conversation forks
    new_thread_id: str | None = None  # the fork, once made
    notes: list[str] = Field(default_factory=list)

    @property
    def conflicts(self) -> list[FileAction]:
        return [f for f in self.files if f.action in ("conflict", "not_kept")]


def rewind_points(history: FileHistory, thread_id: str) -> list[RewindPoint]:
    """Steps with recorded changes, newest first."""
    by_step: dict[int, list[FileChange]] = defaultdict(list)
    for change in history.changes(thread_id):
        by_step[change.step].append(change)
    points = []
    for step, changes in sorted(by_step.items(), reverse=True):
        paths = [c.path if c.kind == "file" else "(shell command)" for c in changes]
        points.append(
            RewindPoint(
                step=step,
                at=datetime.fromtimestamp(changes[0].created_at, UTC),
                tool=", ".join(dict.fromkeys(c.tool for c in changes)),
                paths=list(dict.fromkeys(paths)),
            )
        )
    return points


def rewind(
    store: ThreadStore,
    history: FileHistory,
    thread_id: str,
    to_step: int,
    *,
    files: bool = True,
    conversation: bool = False,
    git: bool = False,
    force: bool = False,
    dry_run: bool = False,
    protected: Sequence[Path] = (),
) -> RewindReport:
    """See the module docstring. ``protected``: paths never written (agentkit's data).

    Files are restored in the thread's recorded workspace: when the thread
    was moved to another one (``--workspace``), changes recorded under a
    workspace it moved from are restored at the same relative path in the
    current one."""
    store.get(thread_id)  # ThreadNotFoundError for an unknown thread
    report = RewindReport(thread_id=thread_id, to_step=to_step, dry_run=dry_run)
    moved = _moved_roots(store, thread_id)
    later = [
        dataclasses.replace(c, root=moved.get(c.root, c.root))
        for c in history.changes(thread_id)
        if c.step > to_step
    ]
    if files:
        report.files = _plan_files([c for c in later if c.kind == "file"], force)
    report.shell = _plan_shell([c for c in later if c.kind == "git"], git)
    if conversation:
        report.checkpoint_id = _fork_point(store, thread_id, to_step)
    if report.shell and not git:
        report.notes.append(
            f"{len(report.shell)} shell command(s) ran after step {to_step}; rewind cannot undo "
            "what they changed"
            + (
                " (--git restores the git snapshot taken before the first)"
                if _snapshot(report)
                else ""
            )
        )
    if not later and files:
        report.notes.append(f"agentkit's tools changed no file after step {to_step}")
    if dry_run:
        return report
    if files:
        undone = _apply_files(report, later, protected)
        history.mark_reverted(undone)
    if git:
        _apply_git(report)
    if conversation and report.checkpoint_id is not None:
        report.new_thread_id = store.fork(thread_id, report.checkpoint_id)
        history.copy(thread_id, report.new_thread_id, to_step)
    return report


def _moved_roots(store: ThreadStore, thread_id: str) -> dict[str, str]:
    """Every workspace the thread moved away from -> the one it works in now."""
    origin = store.origin(thread_id)
    if origin is None or not origin.workspace:
        return {}
    return {
        m.from_workspace: origin.workspace
        for m in origin.moves
        if m.from_workspace and m.from_workspace != origin.workspace
    }


def _plan_files(changes: list[FileChange], force: bool) -> list[FileAction]:
    groups: dict[tuple[str, str], list[FileChange]] = defaultdict(list)
    for change in changes:
        groups[(change.root, change.path)].append(change)
    actions = []
    for (root, path), group in groups.items():
        first, last = group[0], group[-1]
        action = FileAction(
            path=path,
            root=root,
            action="restore",
            steps=sorted({c.step for c in group}),
            tools=list(dict.fromkeys(c.tool for c in group)),
        )
        target = first.before if first.existed else None
        current = digest(read_current(root, path))
        if first.existed and first.before is None:
            action.action, action.detail = (
                "not_kept",
                f"its earlier content was not kept: {first.skipped}",
            )
        elif digest(target) == current:
            action.action, action.detail = "unchanged", "already as it was"
        elif last.after_hash is None or current != last.after_hash:
            action.action = "conflict"
            action.detail = (
                "changed since agentkit last wrote it (by someone else); not overwritten"
                if last.after_hash is not None
                else "the call that changed it never finished; not overwritten"
            )
            if force:
                action.action = "restore" if target is not None else "delete"
                action.detail = "changed since agentkit last wrote it; overwritten (forced)"
        else:
            action.action = "restore" if target is not None else "delete"
            action.detail = (
                "restore the earlier content"
                if target is not None
                else "created after the step: delete"
            )
        actions.append(action)
    return actions


def _plan_shell(changes: list[FileChange], git: bool) -> list[ShellAction]:
    actions = [
        ShellAction(step=c.step, call_id=c.call_id, root=c.root, commit=c.commit, detail=c.skipped)
        for c in changes
    ]
    first = next((a for a in actions if a.commit), None)
    if first is not None:
        first.detail = _git_diff(first.root, first.commit)
        first.restore = git
    return actions


def _snapshot(report: RewindReport) -> bool:
    return any(a.commit for a in report.shell)


def _git(root: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", root, *args], capture_output=True, text=True, timeout=30, check=False
    )


def _git_diff(root: str, commit: str) -> str:
    try:
        done = _git(root, "diff", "--stat", commit, "--", ".")
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"git failed: {err}"
    stat = done.stdout.strip()
    return (
        f"restoring {commit[:12]} changes: {stat}"
        if stat
        else f"{commit[:12]}: no tracked file differs"
    )


def _fork_point(store: ThreadStore, thread_id: str, to_step: int) -> str:
    for info in store.history(thread_id, limit=None):  # newest first
        if info.step <= to_step and info.next != ["execute"]:
            return info.checkpoint_id
    raise RewindError(f"thread {thread_id} has no checkpoint at or before step {to_step}")


def _apply_files(
    report: RewindReport, later: list[FileChange], protected: Sequence[Path]
) -> list[int]:
    firsts: dict[tuple[str, str], FileChange] = {}
    for change in later:
        if change.kind == "file":
            firsts.setdefault((change.root, change.path), change)
    undone: list[int] = []
    for action in report.files:
        if action.action not in ("restore", "delete"):
            continue
        first = firsts[(action.root, action.path)]
        full = Path(action.root) / action.path
        if action.action == "delete":
            if full.is_symlink() or not full.is_file():
                action.action, action.detail = "conflict", "not a regular file any more; left alone"
                continue
            os.unlink(full)
        else:
            Workspace(action.root, protected).write_bytes(action.path, first.before or b"")
        action.done = True
        undone += [c.id for c in later if (c.root, c.path) == (action.root, action.path)]
    return undone


def _apply_git(report: RewindReport) -> None:
    target = next((a for a in report.shell if a.restore), None)
    if target is None:
        return
    done = _git(target.root, "restore", f"--source={target.commit}", "--worktree", "--", ".")
    if done.returncode != 0:
        raise RewindError(f"git restore failed: {done.stderr.strip()[:300]}")
    target.done = True
