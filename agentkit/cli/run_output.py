"""What ``agentkit run`` and ``agentkit resume`` print: each event as a JSON
line (``--json``) or a short human-readable line, the result, and a pending
call in one line (tool, arguments, where it acts, why the policy asks).
Kept apart from run.py, which drives the runs and decides exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from agentkit.events import AgentEvent, ApprovalRequest, RunResult


class Printer:
    """Events as JSON lines (``--json``) or as short human-readable lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False)

    def event(self, event: AgentEvent) -> None:
        if self.as_json:
            typer.echo(event.model_dump_json())
            return
        kind = event.kind
        if kind == "token":
            return  # the final answer is printed whole
        if kind == "plan":
            marks = {"done": "x", "failed": "!", "running": ">", "pending": " "}
            self.console.print(
                "[bold]plan[/]: "
                + "  ".join(
                    f"[{marks[s['status']]}] {s['index']}. {s['text']}" for s in event.steps
                )
            )
        elif kind == "context":
            self.console.print(f"[dim]context: {len(event.items)} item(s)[/]")
        elif kind == "tool_call":
            self.console.print(
                f"[cyan]→ {event.tool}[/] {json.dumps(event.args)[:200]}  [dim]({event.policy})[/]"
            )
        elif kind == "tool_result":
            colour = "green" if event.status in ("ok", "responded") else "yellow"
            self.console.print(f"[{colour}]← {event.tool} {event.status}[/]: {event.output[:300]}")
        elif kind == "approval_needed":
            for r in event.requests:
                self.console.print(f"[magenta]? approval needed[/] {r.call_id}: {request_line(r)}")
        elif kind == "hook":
            if event.outcome != "pass":
                why = f": {event.reason}" if event.reason else ""
                self.console.print(
                    f"[yellow]hook {event.hook}[/] {event.stage} {event.tool} "
                    f"-> {event.outcome}{why}"
                )
        elif kind == "compaction":
            self.console.print(
                f"[dim]compacted {event.summarized} message(s) into a summary "
                f"(~{event.tokens_before} -> ~{event.tokens_after} tokens, {event.seconds:.1f}s)[/]"
            )
        elif kind == "final":
            self.console.print(f"[bold green]answer[/]: {event.answer}")
        elif kind == "error":
            self.err.print(f"[red]{event.message}[/]")

    def workspace(self, thread_id: str, workspace: Path) -> None:
        """Say where the thread's tools act when that is not the current directory."""
        if not self.as_json and not workspace.is_relative_to(Path.cwd().resolve()):
            self.console.print(f"[dim]thread {thread_id} works in[/] [bold]{workspace}[/]")

    def result(self, result: RunResult, task_id: str | None = None) -> None:
        if self.as_json:
            payload = {"kind": "result", **json.loads(result.model_dump_json())}
            if task_id is not None:
                payload["task_id"] = task_id
            typer.echo(json.dumps(payload))
            return
        line = f"thread {result.thread_id}: {result.status}"
        if result.stop_reason:
            line += f" ({result.stop_reason})"
        if result.status == "interrupted":
            line += f"; continue with: agentkit resume {result.thread_id}"
        self.console.print(line)
        if result.status == "needs_approval":
            ids = " ".join(f"--approve {p.call_id}" for p in result.pending)
            self.console.print(f"continue with: agentkit resume {result.thread_id} {ids}")
        elif result.status == "finished" and result.mode == "plan":
            self.console.print(
                f"plan mode: carry the plan out with: agentkit resume {result.thread_id} "
                "--approve-plan"
            )


def request_line(request: ApprovalRequest) -> str:
    """A pending call in one line: tool, arguments, where it acts when that is
    outside the current directory, and why the policy asks."""
    where = request.shown_location()
    return (
        f"{request.tool} {json.dumps(request.args)[:200]}"
        + (f" in {where}" if where else "")
        + f" ({request.reason}{decided_by(request)})"
    )


def decided_by(request: ApprovalRequest) -> str:
    """ "; mode accept-edits, rule 3": which mode and which rule decided to ask."""
    parts = [f"mode {request.mode}"] if request.mode else []
    if request.rule_id:
        parts.append(f"rule {request.rule_id}")
    return "; " + ", ".join(parts) if parts else ""
