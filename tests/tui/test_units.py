"""Small pure pieces: the status line, the speed meter, thread records."""

from __future__ import annotations

from datetime import UTC, datetime

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agentkit.threads import CheckpointInfo, ThreadInfo
from agentkit.tui.views import CheckpointRow, ThreadRow, transcript_from_messages
from agentkit.tui.widgets.status import SpeedMeter, StatusInfo, render_status

from .conftest import write_request


def test_status_line_tolerates_missing_numbers() -> None:
    text = render_status(StatusInfo(), width=80).plain
    assert "no model" in text and "– tok/s" in text and "ctx ?" in text and "gpu ?" in text
    full = render_status(
        StatusInfo(
            model="/m/qwen2.5-7b.gguf",
            tokens_per_s=31.25,
            context_used=1500,
            context_size=8192,
            gpu_layers=-1,
            thread_id="abcdef123456",
            state="idle",
        ),
        width=120,
    ).plain
    assert "qwen2.5-7b" in full and "31.2 tok/s" in full and "ctx 1,500/8,192" in full
    assert "gpu all" in full and "thread abcdef12" in full
    assert len(render_status(StatusInfo(model="x" * 200), width=80).plain) <= 80


def test_speed_meter_ignores_pauses() -> None:
    meter = SpeedMeter()
    for i in range(11):  # 10 gaps of 0.1 s
        meter.tick(100.0 + i * 0.1)
    meter.tick(105.0)  # a 4 s pause (a tool ran): not generation time
    meter.tick(105.1)
    assert meter.tokens == 11
    assert abs((meter.rate or 0) - 10.0) < 0.01


def test_thread_rows_from_agent_records() -> None:
    info = ThreadInfo(
        thread_id="abc123",
        updated_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        pending=[write_request("a"), write_request("b")],
        status="needs_approval",
    )
    row = ThreadRow.from_info(info)
    assert (row.thread_id, row.title, row.pending, row.status) == (
        "abc123",
        "untitled",
        2,
        "needs_approval",
    )
    assert row.updated.startswith("2026-01-0")
    cp = CheckpointRow.from_info(
        CheckpointInfo(
            checkpoint_id="c1", step=3, last_message="hi", created_at="2026-01-02T03:04:05"
        )
    )
    assert (cp.checkpoint_id, cp.step, cp.label, cp.created) == ("c1", 3, "hi", "2026-01-02 03:04")
    assert cp.describe() == "step 3  2026-01-02 03:04  hi"


def test_transcript_shows_final_answers_and_tool_calls() -> None:
    messages = [
        HumanMessage("write it"),
        AIMessage("", tool_calls=[{"name": "write_file", "args": {"path": "a"}, "id": "c1"}]),
        ToolMessage("wrote 1 byte", tool_call_id="c1", name="write_file"),
        AIMessage(
            "", tool_calls=[{"name": "final_answer", "args": {"answer": "Done."}, "id": "c2"}]
        ),
        ToolMessage("ok: finished", tool_call_id="c2", name="final_answer"),
    ]
    entries = [(e.role, e.text, e.tool) for e in transcript_from_messages(messages)]
    assert entries == [
        ("user", "write it", ""),
        ("call", "", "write_file"),
        ("result", "wrote 1 byte", "write_file"),
        ("agent", "Done.", ""),
    ]
