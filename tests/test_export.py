"""Session export and audit: ``agent.threads.audit`` and ``agentkit threads
export`` over a real SQLite thread with calls allowed by the policy, asked and
approved, edited, rejected, answered in the tool's place and decided by an
approver callback; forks; the JSON schema kept in docs/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from agent_support import make_agent
from typer.testing import CliRunner

from agentkit.audit import ThreadAudit
from agentkit.cli import app
from agentkit.events import Approve, Edit, Reject, Respond
from agentkit.export import audit_json_schema, export, jsonl_records, to_markdown
from agentkit.testing import call, calls, final

SCHEMA_FILE = Path(__file__).parent.parent / "docs" / "audit-schema.json"


@pytest.fixture
def audited(tmp_path: Path) -> tuple[Any, ThreadAudit]:
    (tmp_path / "notes.txt").write_text("The Rhine is long.\n")
    script = [
        call("read_file", {"path": "notes.txt"}, "r1"),
        calls(
            ("write_file", {"path": "summary.md", "content": "Rhine"}, "w1"),
            ("shell", {"command": "rm -rf /tmp/x"}, "s1"),
        ),
        calls(
            ("shell", {"command": "date"}, "s2"),
            ("write_file", {"path": "b.md", "content": "x"}, "w2"),
        ),
        final("Summary written to summary.md."),
    ]
    agent, _, _ = make_agent(tmp_path, script)
    assert (
        agent.run("Summarise notes.txt into summary.md", thread_id="t1").status == "needs_approval"
    )
    agent.resume("t1", [Approve(call_id="w1"), Reject(call_id="s1", feedback="never rm")])
    agent.resume(
        "t1",
        [
            Respond(call_id="s2", result="12:00"),
            Edit(call_id="w2", args={"path": "b.md", "content": "edited"}),
        ],
    )
    return agent, agent.threads.audit("t1")


def test_audit_records_every_call_with_decision_and_who(audited: tuple[Any, ThreadAudit]) -> None:
    _, audit = audited
    assert audit.status == "finished"
    assert [r.status for r in audit.runs] == ["finished"]
    assert audit.runs[0].answer == "Summary written to summary.md."
    calls_by_id = {c.call_id: c for c in audit.tool_calls}
    assert list(calls_by_id) == ["r1", "w1", "s1", "s2", "w2"]
    r1, w1, s1, s2, w2 = calls_by_id.values()
    assert (r1.verdict, r1.decision, r1.decided_by, r1.status) == ("allow", "allow", "policy", "ok")
    assert "Rhine" in r1.output and r1.duration_s is not None
    assert (w1.verdict, w1.decision, w1.decided_by, w1.status) == ("ask", "approve", "human", "ok")
    assert w1.preview is not None and w1.preview["summary"] == "write summary.md"
    assert (
        w1.decided_at is not None and w1.proposed_at is not None and w1.decided_at >= w1.proposed_at
    )
    assert (s1.decision, s1.status, s1.feedback) == ("reject", "rejected", "never rm")
    assert s1.danger == "destructive"
    assert (s2.decision, s2.status, s2.output) == ("respond", "responded", "12:00")
    assert (w2.decision, w2.run_args, w2.status) == (
        "edit",
        {"path": "b.md", "content": "edited"},
        "ok",
    )
    assert [c.step for c in audit.tool_calls] == [1, 2, 2, 3, 3]
    assert audit.usage["input_tokens"] > 0 and audit.usage == audit.runs[0].usage
    roles = [m.role for m in audit.transcript]
    assert roles[0] == "user" and "assistant" in roles and "tool" in roles
    assert all(m.at is not None for m in audit.transcript)


def test_approver_and_pending_calls(tmp_path: Path) -> None:
    script = [
        call("write_file", {"path": "a.md", "content": "a"}, "w1"),
        call("write_file", {"path": "b.md", "content": "b"}, "w2"),
        final("ok"),
    ]
    agent, _, _ = make_agent(tmp_path, script)
    assert agent.run("write", thread_id="t2").status == "needs_approval"
    agent.approver = lambda reqs: [Approve(call_id=r.call_id) for r in reqs]
    agent.resume("t2", [Approve(call_id="w1")])
    audit = agent.threads.audit("t2")
    w1, w2 = audit.tool_calls
    assert w1.decided_by == "human" and w2.decided_by == "approver"

    (tmp_path / "other").mkdir()
    agent2, _, _ = make_agent(
        tmp_path / "other", [call("write_file", {"path": "c.md", "content": "c"}, "w3")]
    )
    agent2.run("write c", thread_id="t3")
    pending = agent2.threads.audit("t3")
    assert pending.status == "needs_approval" and pending.runs[0].status == "needs_approval"
    (w3,) = pending.tool_calls
    assert (w3.status, w3.decision, w3.decided_by) == ("pending", None, None)
    assert [p.call_id for p in pending.pending] == ["w3"]
    assert "## Waiting for approval" in to_markdown(pending)


def test_forks_are_recorded_both_ways(audited: tuple[Any, ThreadAudit]) -> None:
    agent, _ = audited
    history = agent.threads.history("t1", limit=None)
    paused = next(h for h in history if h.next == ["approve"])
    child = agent.threads.fork("t1", paused.checkpoint_id)
    parent = agent.threads.audit("t1")
    assert [(f.thread_id, f.checkpoint_id) for f in parent.forks] == [(child, paused.checkpoint_id)]
    forked = agent.threads.audit(child)
    assert forked.forked_from is not None and forked.forked_from.thread_id == "t1"
    assert forked.status == "needs_approval"


def test_json_matches_the_documented_schema(audited: tuple[Any, ThreadAudit]) -> None:
    _, audit = audited
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema == audit_json_schema(), (
        "regenerate: python -m agentkit.export --schema > docs/audit-schema.json"
    )
    data = json.loads(export(audit, "json"))
    jsonschema.validate(data, schema)
    assert ThreadAudit.model_validate(data) == audit


def test_jsonl_has_one_record_per_line(audited: tuple[Any, ThreadAudit]) -> None:
    _, audit = audited
    lines = export(audit, "jsonl").splitlines()
    records = [json.loads(line) for line in lines]
    assert records == list(jsonl_records(audit))
    kinds = [r["type"] for r in records]
    assert kinds[0] == "thread" and kinds.count("run") == 1 and kinds.count("tool_call") == 5
    assert kinds.count("message") == len(audit.transcript)


def test_markdown_reads_like_a_review(audited: tuple[Any, ThreadAudit]) -> None:
    _, audit = audited
    md = to_markdown(audit)
    assert md.startswith("# Thread `t1`: Summarise notes.txt into summary.md")
    assert "| # | tool | arguments | policy | decision | by | at | outcome | time |" in md
    assert '| `shell` | command="rm -rf /tmp/x" |' in md
    assert "| reject | human |" in md and "| allow | policy |" in md
    assert "Feedback: never rm" in md
    assert "<details>" in md and "## Transcript" in md
    assert "**Answer:** Summary written to summary.md." in md


def test_cli_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, audited: tuple[Any, ThreadAudit]
) -> None:
    agent, _ = audited
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(agent.settings.resolved_data_dir()))
    runner = CliRunner()
    md = runner.invoke(app, ["threads", "export", "t1"])
    assert md.exit_code == 0, md.output
    assert "# Thread `t1`" in md.output
    out = tmp_path / "t1.json"
    result = runner.invoke(app, ["threads", "export", "t1", "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["thread_id"] == "t1"
    missing = runner.invoke(app, ["threads", "export", "nope"])
    assert missing.exit_code != 0
