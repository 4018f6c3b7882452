"""``agentkit threads export``: a thread's audit record as Markdown (for a
pull request or a review), JSON (``docs/audit-schema.json``) or JSON lines
(one record per line: the thread, then each run, tool call and message)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from agentkit.audit import AuditMessage, AuditRun, AuditToolCall, ThreadAudit

ExportFormat = Literal["md", "json", "jsonl"]
CELL_CHARS = 80
OUTPUT_CHARS = 4000


def export(audit: ThreadAudit, fmt: ExportFormat) -> str:
    if fmt == "json":
        return audit.model_dump_json(indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in jsonl_records(audit))
    return to_markdown(audit)


def audit_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``--format json`` (kept in docs/audit-schema.json)."""
    schema = ThreadAudit.model_json_schema()
    schema["$id"] = "https://agentkit.local/schemas/thread-audit.json"
    return schema


def jsonl_records(audit: ThreadAudit) -> Iterator[dict[str, Any]]:
    """``{"type": "thread"|"run"|"tool_call"|"message", ...}`` records."""
    data = audit.model_dump(mode="json")
    head = {k: v for k, v in data.items() if k not in ("runs", "tool_calls", "transcript")}
    yield {"type": "thread", **head}
    for kind, key in (("run", "runs"), ("tool_call", "tool_calls"), ("message", "transcript")):
        for item in data[key]:
            yield {"type": kind, "thread_id": audit.thread_id, **item}


# --- Markdown -------------------------------------------------------------------------


def _cell(text: object, limit: int = CELL_CHARS) -> str:
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("|", "\\|") or " "


def _when(moment: datetime | None, with_date: bool = False) -> str:
    if moment is None:
        return "–"
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def _args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())


def _fence(text: str, lang: str = "") -> str:
    ticks = "````" if "```" in text else "```"
    body = text if len(text) <= OUTPUT_CHARS else text[:OUTPUT_CHARS] + "\n… (truncated)"
    return f"{ticks}{lang}\n{body.rstrip()}\n{ticks}"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def to_markdown(audit: ThreadAudit) -> str:
    u = audit.usage
    title = f": {audit.title}" if audit.title else ""
    lines = [
        f"# Thread `{audit.thread_id}`{title}",
        "",
        "| status | runs | tool calls | tokens in / out | prompt reused | model time | created | updated |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {audit.status} | {len(audit.runs)} | {len(audit.tool_calls)} "
        f"| {u['input_tokens']:,} / {u['output_tokens']:,} | {u['prompt_tokens_reused']:,} "
        f"| {u['model_seconds']:.1f} s | {_when(audit.created_at, True)} "
        f"| {_when(audit.updated_at, True)} |",
        "",
    ]
    if audit.forked_from is not None:
        f = audit.forked_from
        lines += [f"Forked from thread `{f.thread_id}` at checkpoint `{f.checkpoint_id}`.", ""]
    if audit.forks:
        forks = ", ".join(f"`{f.thread_id}` (at `{f.checkpoint_id}`)" for f in audit.forks)
        lines += [f"Forks of this thread: {forks}.", ""]
    for run in audit.runs:
        lines += _run_section(run, [c for c in audit.tool_calls if c.run == run.index])
    if audit.pending:
        lines += ["## Waiting for approval", ""]
        lines += [
            f"- `{p.call_id}` {p.tool}({_cell(_args(p.args))}): {p.reason}" for p in audit.pending
        ]
        lines.append("")
    lines += ["## Transcript", ""]
    for message in audit.transcript:
        lines += _message_lines(message)
    lines.append(f"_Exported by agentkit at {_when(audit.exported_at, True)} UTC._")
    return "\n".join(lines) + "\n"


def _run_section(run: AuditRun, calls: list[AuditToolCall]) -> list[str]:
    status = run.status + (f" ({run.stop_reason})" if run.stop_reason else "")
    lines = [
        f"## Run {run.index}: {status}",
        "",
        *(f"> {line}" for line in (run.task or "(no task)").splitlines()),
        "",
        f"{run.steps} steps · {len(calls)} tool calls · {run.usage['input_tokens']:,} tokens in, "
        f"{run.usage['output_tokens']:,} out · model {run.usage['model_seconds']:.1f} s · "
        f"{_when(run.started_at, True)} → {_when(run.ended_at)}",
        "",
    ]
    if run.answer:
        lines += ["**Answer:** " + run.answer, ""]
    if not calls:
        return lines
    lines += [
        "| # | tool | arguments | policy | decision | by | at | outcome | time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, c in enumerate(calls, 1):
        policy = c.verdict + (f" ({c.policy_reason})" if c.policy_reason else "")
        lines.append(
            f"| {n} | `{c.tool}` | {_cell(_args(c.args))} | {_cell(policy, 48)} "
            f"| {c.decision or 'pending'} | {c.decided_by or '–'} | {_when(c.decided_at)} "
            f"| {c.status} | {_seconds(c.duration_s)} |"
        )
    lines.append("")
    for n, c in enumerate(calls, 1):
        lines += _call_details(n, c)
    return lines


def _call_details(n: int, c: AuditToolCall) -> list[str]:
    summary = f"{n}. {c.tool} `{c.call_id}`: {c.status}"
    if c.preview and c.preview.get("summary"):
        summary += f" · {c.preview['summary']}"
    body = ["Arguments:", "", _fence(json.dumps(c.args, indent=2, ensure_ascii=False), "json"), ""]
    if c.run_args is not None:
        edited = json.dumps(c.run_args, indent=2, ensure_ascii=False)
        body += ["Edited to:", "", _fence(edited, "json"), ""]
    if c.preview and c.preview.get("body"):
        lang = "diff" if c.preview.get("kind") == "diff" else ""
        body += [
            f"Preview shown (danger: {c.danger or 'n/a'}):",
            "",
            _fence(c.preview["body"], lang),
            "",
        ]
    if c.feedback:
        body += [f"Feedback: {c.feedback}", ""]
    if c.output:
        body += ["Output:", "", _fence(c.output), ""]
    return ["<details>", f"<summary>{_html(summary)}</summary>", "", *body, "</details>", ""]


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _message_lines(m: AuditMessage) -> list[str]:
    at = f" · {_when(m.at)}" if m.at else ""
    if m.role == "user":
        return [f"**User**{at}", "", *(f"> {line}" for line in m.content.splitlines() or [""]), ""]
    if m.role == "assistant":
        out = [f"**Agent**{at}", ""]
        if m.content.strip():
            out += [m.content, ""]
        for call in m.tool_calls:
            if call["name"] == "final_answer":
                out += [str(call["args"].get("answer", "")), ""]
            else:
                out += [f"→ `{call['name']}({_cell(_args(call['args']), 200)})`", ""]
        return out
    if m.role == "tool":
        if m.tool == "final_answer":
            return []
        mark = "✗" if m.status == "error" else "✓"
        return [f"**Tool** `{m.tool}` {mark}{at}", "", _fence(m.content), ""]
    return [f"*{m.content}*", ""]


if __name__ == "__main__":  # python -m agentkit.export --schema > docs/audit-schema.json
    import sys

    if sys.argv[1:] != ["--schema"]:
        sys.exit("usage: python -m agentkit.export --schema")
    print(json.dumps(audit_json_schema(), indent=2))
