"""Rewind on real files and SQLite threads: every write and edit by
agentkit's tools is recorded with its step; files and/or the conversation go
back to a step; a dry run changes nothing; a file someone else changed is
reported, never overwritten; size caps; shell commands (git snapshots);
records deleted with the thread."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from control_support import control_agent, control_settings

from agentkit.approvals.policy import Policy, PolicyRule
from agentkit.testing import call, final

ALLOW_ALL = [
    PolicyRule(action="allow", tool="write_file"),
    PolicyRule(action="allow", tool="edit_file"),
    PolicyRule(action="allow", tool="shell"),
]


def edits_script() -> list[object]:
    return [
        call("write_file", {"path": "a.txt", "content": "one\n"}, "w1"),
        call("edit_file", {"path": "a.txt", "old_string": "one", "new_string": "two"}, "e1"),
        call("write_file", {"path": "new.txt", "content": "fresh\n"}, "w2"),
        final("done"),
    ]


def run_edits(tmp_path: Path, **settings: object):  # type: ignore[no-untyped-def]
    (tmp_path / "ws").mkdir(parents=True, exist_ok=True)
    (tmp_path / "ws" / "a.txt").write_text("zero\n")
    agent, model, ws = control_agent(
        tmp_path,
        edits_script(),
        policy=Policy(ALLOW_ALL),
        settings=control_settings(tmp_path, **settings),  # type: ignore[arg-type]
    )
    assert agent.run("edit", "t").status == "finished"
    return agent, model, ws


def test_every_write_is_recorded_with_its_step(tmp_path: Path) -> None:
    agent, _, _ = run_edits(tmp_path)
    changes = agent.file_history.changes("t")
    assert [(c.tool, c.path, c.existed, c.before) for c in changes] == [
        ("write_file", "a.txt", True, b"zero\n"),
        ("edit_file", "a.txt", True, b"one\n"),
        ("write_file", "new.txt", False, None),
    ]
    steps = [c.step for c in changes]
    assert steps == sorted(steps) and len(set(steps)) == 3
    history = {h.step: h.next for h in agent.threads.history("t", limit=None)}
    assert all(history[s - 1] == ["execute"] for s in steps), "recorded by the execute step"
    points = agent.rewind_points("t")
    assert [p.paths for p in points] == [["new.txt"], ["a.txt"], ["a.txt"]]


def test_rewind_files_dry_run_then_apply(tmp_path: Path) -> None:
    agent, _, ws = run_edits(tmp_path)
    first = agent.file_history.changes("t")[0].step
    dry = agent.rewind("t", first - 1, dry_run=True)
    assert sorted((f.path, f.action) for f in dry.files) == [
        ("a.txt", "restore"),
        ("new.txt", "delete"),
    ]
    assert (ws / "a.txt").read_text() == "two\n" and (ws / "new.txt").exists(), "dry run"
    report = agent.rewind("t", first - 1)
    assert all(f.done for f in report.files)
    assert (ws / "a.txt").read_text() == "zero\n" and not (ws / "new.txt").exists()
    assert agent.file_history.changes("t") == [], "undone records are spent"
    assert agent.rewind("t", first - 1, dry_run=True).files == []


def test_rewind_to_a_middle_step(tmp_path: Path) -> None:
    agent, _, ws = run_edits(tmp_path)
    second = agent.file_history.changes("t")[1].step
    agent.rewind("t", second - 1)  # undo the edit and the new file, keep the first write
    assert (ws / "a.txt").read_text() == "one\n" and not (ws / "new.txt").exists()


def test_a_file_changed_since_is_reported_never_overwritten(tmp_path: Path) -> None:
    agent, _, ws = run_edits(tmp_path)
    (ws / "a.txt").write_text("edited by a human\n")
    first = agent.file_history.changes("t")[0].step
    report = agent.rewind("t", first - 1)
    by_path = {f.path: f for f in report.files}
    assert by_path["a.txt"].action == "conflict" and "someone else" in by_path["a.txt"].detail
    assert (ws / "a.txt").read_text() == "edited by a human\n"
    assert not (ws / "new.txt").exists(), "the other files are still rewound"
    forced = agent.rewind("t", first - 1, force=True)
    assert [f.action for f in forced.files] == ["restore"]
    assert (ws / "a.txt").read_text() == "zero\n"


def test_rewind_the_conversation_and_both(tmp_path: Path) -> None:
    agent, _, ws = run_edits(tmp_path)
    second = agent.file_history.changes("t")[1].step
    report = agent.rewind("t", second - 1, files=False, conversation=True)
    fork = report.new_thread_id
    assert fork and report.checkpoint_id
    assert (ws / "a.txt").read_text() == "two\n", "files untouched"
    assert len(agent.threads.messages(fork)) < len(agent.threads.messages("t"))
    assert [c.path for c in agent.file_history.changes(fork)] == ["a.txt"], "records up to the step"
    both = agent.rewind("t", second - 1, files=True, conversation=True)
    assert both.new_thread_id and (ws / "a.txt").read_text() == "one\n"


def test_size_caps(tmp_path: Path) -> None:
    agent, _, ws = run_edits(tmp_path, rewind_max_file_bytes=3)
    changes = agent.file_history.changes("t")
    assert changes[0].before is None and "rewind_max_file_bytes" in changes[0].skipped
    report = agent.rewind("t", changes[0].step - 1)
    by_path = {f.path: f for f in report.files}
    assert by_path["a.txt"].action == "not_kept" and (ws / "a.txt").read_text() == "two\n"
    assert by_path["new.txt"].action == "delete"


def test_the_thread_cap(tmp_path: Path) -> None:
    agent, _, _ = run_edits(tmp_path, rewind_max_thread_bytes=6)
    kept = [c.before for c in agent.file_history.changes("t")]
    assert kept == [b"zero\n", None, None], "the second snapshot would pass the cap"


def test_records_are_deleted_with_the_thread(tmp_path: Path) -> None:
    agent, _, _ = run_edits(tmp_path)
    assert agent.file_history.changes("t")
    agent.threads.delete("t")
    assert agent.file_history.changes("t", include_reverted=True) == []


def test_shell_changes_are_not_tracked_outside_git(tmp_path: Path) -> None:
    script = [call("shell", {"command": "echo hi > s.txt"}, "s1"), final("ok")]
    agent, _, ws = control_agent(tmp_path, script, policy=Policy(ALLOW_ALL))
    result = agent.run("x", "t")
    assert result.status == "finished"
    report = agent.rewind("t", 0, dry_run=True)
    assert report.shell and "cannot be undone" in report.shell[0].detail
    assert "rewind cannot undo what they changed" in report.notes[0]


def test_the_approval_prompt_says_shell_changes_cannot_be_rewound(tmp_path: Path) -> None:
    agent, _, _ = control_agent(tmp_path, [call("shell", {"command": "ls"}, "s1"), final("ok")])
    notes = agent.run("x", "t").pending[0].notes
    assert any("rewind cannot undo what a command changes" in n for n in notes)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_snapshot_before_a_shell_command_is_restorable(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    git = ["git", "-C", str(ws), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    (ws / "tracked.txt").write_text("v1\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    (ws / "tracked.txt").write_text("v2 (uncommitted)\n")
    script = [call("shell", {"command": "echo v3 > tracked.txt"}, "s1"), final("ok")]
    agent, _, _ = control_agent(tmp_path, script, policy=Policy(ALLOW_ALL))
    assert agent.run("x", "t").status == "finished"
    assert (ws / "tracked.txt").read_text() == "v3\n"
    step = agent.file_history.changes("t")[0].step
    dry = agent.rewind("t", step - 1, dry_run=True, git=True)
    assert dry.shell[0].commit and "tracked.txt" in dry.shell[0].detail
    report = agent.rewind("t", step - 1, git=True)
    assert report.shell[0].done
    assert (ws / "tracked.txt").read_text() == "v2 (uncommitted)\n"
    status = subprocess.run([*git, "stash", "list"], capture_output=True, text=True, check=True)
    assert status.stdout == "", "git stash create leaves the stash list alone"


def test_rewind_acts_in_the_threads_recorded_workspace(tmp_path: Path) -> None:
    """A thread moved to another workspace (threads keep theirs, issue 19) is
    rewound there: the records' paths apply to the workspace it works in now,
    and the directory it moved from is left alone."""
    agent, _, ws = run_edits(tmp_path)
    moved = tmp_path / "moved"
    shutil.copytree(ws, moved)
    agent.threads.relocate("t", moved)
    first = agent.file_history.changes("t")[0].step
    report = agent.rewind("t", first - 1)
    assert {f.root for f in report.files} == {str(moved.resolve())}
    assert (moved / "a.txt").read_text() == "zero\n" and not (moved / "new.txt").exists()
    assert (ws / "a.txt").read_text() == "two\n" and (ws / "new.txt").exists(), "old one untouched"


FILE_OPS = [
    PolicyRule(action="allow", tool=name)
    for name in ("copy_file", "move_file", "sort_lines", "dedupe_lines", "set_field")
]


def test_file_operations_are_recorded_and_rewound(tmp_path: Path) -> None:
    """A move records its source and its destination, a copy only the file it
    creates, a sort the file it rewrites: rewind puts the source back,
    removes the copy and the moved file, and restores the sorted one."""
    ws = tmp_path / "ws"
    ws.mkdir(parents=True)
    (ws / "names.txt").write_text("bob\nada\nbob\n")
    (ws / "plan.md").write_text("# plan\n")
    (ws / "app.json").write_text('{"port": 80}\n')
    script = [
        call("copy_file", {"source": "names.txt", "destination": "backup/names.txt"}, "c1"),
        call("move_file", {"source": "plan.md", "destination": "archive/"}, "m1"),
        call("sort_lines", {"path": "names.txt", "unique": True}, "s1"),
        call("dedupe_lines", {"path": "backup/names.txt", "destination": "u.txt"}, "d1"),
        call("set_field", {"path": "app.json", "key": "port", "value": "8080"}, "f1"),
        final("done"),
    ]
    agent, _, ws = control_agent(tmp_path, script, policy=Policy(FILE_OPS))
    assert agent.run("tidy up", "t").status == "finished"
    assert (ws / "archive/plan.md").exists() and not (ws / "plan.md").exists()
    assert (ws / "names.txt").read_text() == "ada\nbob\n"
    changes = agent.file_history.changes("t")
    assert [(c.tool, c.path, c.existed) for c in changes] == [
        ("copy_file", "backup/names.txt", False),
        ("move_file", "plan.md", True),
        ("move_file", "archive/plan.md", False),
        ("sort_lines", "names.txt", True),
        ("dedupe_lines", "u.txt", False),
        ("set_field", "app.json", True),
    ]
    report = agent.rewind("t", changes[0].step - 1)
    assert all(f.done for f in report.files), report.files
    assert (ws / "plan.md").read_text() == "# plan\n" and not (ws / "archive/plan.md").exists()
    assert (ws / "names.txt").read_text() == "bob\nada\nbob\n"
    assert not (ws / "backup/names.txt").exists() and not (ws / "u.txt").exists()
    assert (ws / "app.json").read_text() == '{"port": 80}\n'
