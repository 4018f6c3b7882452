"""``agentkit trace THREAD``: a thread's runs as a timeline tree, from the
trace file (``tracing = "file"``) or, without one, from the checkpoints.

Both sources become the same :class:`Step` tree: one root per task, with
its drives of the graph, nodes, model and tool calls and waits for a human.
:func:`split` adds up where the time went (model, tools, waiting for a
human, the rest); :func:`render` prints the tree and that split side by side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentkit.tracing.files import SpanRecord

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph
    from rich.console import RenderableType

RUN = "invoke_agent agentkit"
WAIT = "wait for approval"


@dataclass
class Step:
    name: str
    start: float
    end: float
    attributes: dict[str, Any] = field(default_factory=dict)
    children: list[Step] = field(default_factory=list)
    error: str = ""

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def kind(self) -> str:
        if self.name == RUN:
            return "run"
        if self.name == WAIT:
            return "human"
        if self.name.startswith("chat"):
            return "model"
        if self.name.startswith("execute_tool"):
            return "tool"
        return "node"

    def walk(self) -> Iterable[Step]:
        yield self
        for child in self.children:
            yield from child.walk()


# --- from the trace file ----------------------------------------------------------------


def from_spans(spans: Iterable[SpanRecord], thread_id: str) -> list[Step]:
    """One root per trace (task) of ``thread_id``, oldest first. Spans whose
    parent never ended (a killed process) hang under a stand-in run."""
    records = list(spans)
    traces = {
        r.trace_id for r in records if r.attributes.get("gen_ai.conversation.id") == thread_id
    }
    mine = [r for r in records if r.trace_id in traces]
    steps = {r.span_id: _step(r) for r in mine}
    roots: dict[str, Step] = {}
    lost: dict[str, Step] = {}
    for record in sorted(mine, key=lambda r: r.start):
        step = steps[record.span_id]
        parent = steps.get(record.parent_id)
        if parent is not None:
            parent.children.append(step)
        elif not record.parent_id:
            roots[record.trace_id] = step
        else:  # the parent was open when its process died
            stand_in = lost.get(record.parent_id)
            if stand_in is None:
                stand_in = lost[record.parent_id] = Step(
                    RUN, step.start, step.end, {"agentkit.run.status": "did not finish"}
                )
                roots.setdefault(record.trace_id, stand_in)
                if roots[record.trace_id] is not stand_in:
                    roots[record.trace_id].children.append(stand_in)
            stand_in.children.append(step)
            stand_in.end = max(stand_in.end, step.end)
    for root in roots.values():
        _sort(root)
    return sorted(roots.values(), key=lambda s: s.start)


def _step(record: SpanRecord) -> Step:
    return Step(record.name, record.start, record.end, dict(record.attributes), error=record.error)


def _sort(step: Step) -> None:
    step.children.sort(key=lambda s: s.start)
    for child in step.children:
        _sort(child)
        step.end = max(step.end, child.end)
        step.start = min(step.start, child.start)


# --- from the checkpoints ----------------------------------------------------------------


def _ts(iso: str | None) -> float:
    return datetime.fromisoformat(iso).timestamp() if iso else 0.0


def from_checkpoints(graph: CompiledStateGraph, thread_id: str, ledger: Any = None) -> list[Step]:
    """The same tree rebuilt from the checkpoint history: a node's time is
    the gap between the checkpoints around it; model time is the usage the
    step added; a wait ends when the decision was stamped. ``ledger`` (the
    executed-calls ledger, optional) gives the tools' durations."""
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    history = list(graph.get_state_history(config))[::-1]
    roots: list[Step] = []
    for prev, cur in zip(history, history[1:], strict=False):
        values: dict[str, Any] = cur.values if isinstance(cur.values, dict) else {}
        before: dict[str, Any] = prev.values if isinstance(prev.values, dict) else {}
        start, end = _ts(prev.created_at), _ts(cur.created_at)
        if prev.next == ("plan",) and before.get("status") == "starting":
            task = str(before.get("task", ""))
            roots.append(
                Step(RUN, start, end, {"agentkit.task": task, "agentkit.run.kind": "task"})
            )
        if not roots or not prev.next:
            continue
        run = roots[-1]
        run.end = end
        run.attributes["agentkit.run.status"] = values.get("status", "")
        node = Step(prev.next[0], start, end)
        if node.name == "approve" and prev.interrupts:
            stamps = [
                d.get("decided_at")
                for d in values.get("decisions", [])
                if d.get("decided_by") in ("human", "approver")
            ]
            decided = max((float(s) for s in stamps if s), default=end)
            by = next(
                (
                    d.get("decided_by")
                    for d in values.get("decisions", [])
                    if d.get("decided_by") in ("human", "approver")
                ),
                "human",
            )
            run.children.append(Step(WAIT, start, decided, {"agentkit.decided_by": by}))
            node.start = decided
        if node.name in ("act", "plan"):
            used = (values.get("usage") or {}).get("model_seconds", 0.0)
            if node.name == "act" or before.get("status") == "running":
                used -= (before.get("usage") or {}).get("model_seconds", 0.0)
            if used > 0:
                node.children.append(Step("chat (model)", max(start, end - used), end))
        if node.name == "execute":
            ai_ids = [m.id for m in before.get("messages", []) if getattr(m, "type", "") == "ai"]
            clock, ai_id = start, (ai_ids[-1] if ai_ids else "") or ""
            done = {r.get("call_id") for r in before.get("tool_log", [])}
            for record in values.get("tool_log", []):
                if record.get("call_id") in done:
                    continue
                entry = (
                    ledger.get(f"{thread_id}/{ai_id}/{record.get('call_id')}") if ledger else None
                )
                took = entry.duration_s if entry is not None else 0.0
                node.children.append(
                    Step(
                        f"execute_tool {record.get('tool')}",
                        clock,
                        clock + took,
                        {"agentkit.tool.outcome": record.get("status")},
                    )
                )
                clock += took
        run.children.append(node)
    return roots


# --- where the time went ------------------------------------------------------------------


def split(root: Step) -> dict[str, float]:
    """Seconds in the model, in tools, waiting for a human, and the rest."""
    totals = defaultdict(float)
    for step in root.walk():
        if step.kind in ("model", "tool", "human"):
            totals[step.kind] += step.seconds
    whole = root.seconds
    other = max(0.0, whole - totals["model"] - totals["tool"] - totals["human"])
    return {
        "model": totals["model"],
        "tools": totals["tool"],
        "human": totals["human"],
        "other": other,
        "total": whole,
    }


def _label(step: Step, origin: float) -> str:
    a = step.attributes
    parts = [
        f"[bold]{step.name}[/]",
        f"{step.seconds:.2f}s",
        f"[dim]+{step.start - origin:.2f}s[/]",
    ]
    if step.kind == "run":
        parts.append(str(a.get("agentkit.run.kind", "")))
        if a.get("agentkit.task"):
            parts.append(f"“{str(a['agentkit.task'])[:60]}”")
        parts.append(f"→ {a.get('agentkit.run.status', '?')}")
    elif step.kind == "model" and "gen_ai.usage.input_tokens" in a:
        parts.append(
            f"in {a['gen_ai.usage.input_tokens']} (reused {a.get('agentkit.prompt_tokens.reused', 0)})"
            f" out {a.get('gen_ai.usage.output_tokens', 0)} · {a.get('agentkit.tokens_per_second', 0):.1f} tok/s"
        )
        if a.get("agentkit.grammar") is not None:
            parts.append("grammar" if a["agentkit.grammar"] else "free text")
        if a.get("gen_ai.response.finish_reasons"):
            parts.append("finish " + ",".join(a["gen_ai.response.finish_reasons"]))
    elif step.kind == "tool":
        verdict = a.get("agentkit.policy.verdict")
        decision = a.get("agentkit.decision")
        if verdict:
            parts.append(f"{verdict}→{decision} by {a.get('agentkit.decided_by')}")
        parts.append(str(a.get("agentkit.tool.outcome", "")))
    elif step.kind == "human":
        parts.append(f"by {a.get('agentkit.decided_by', 'human')}")
        if a.get("agentkit.approval.decisions"):
            parts.append(",".join(a["agentkit.approval.decisions"]))
    elif step.name == "retrieve":
        parts.append(f"{a.get('agentkit.retrieval.results', 0)} results")
    if step.error:
        parts.append(f"[red]{step.error[:80]}[/]")
    return "  ".join(p for p in parts if p)


def render(roots: Sequence[Step], source: str) -> list[RenderableType]:
    from rich.table import Table
    from rich.tree import Tree

    out: list[RenderableType] = []
    table = Table(
        "task",
        "total",
        "model",
        "tools",
        "waiting for a human",
        "other",
        title=f"where the time went ({source})",
    )
    for index, root in enumerate(roots, 1):
        tree = Tree(_label(root, root.start))
        _grow(tree, root, root.start)
        out.append(tree)
        s = split(root)
        task = str(root.attributes.get("agentkit.task", f"run {index}"))[:40]

        def cell(key: str, s: dict[str, float] = s) -> str:
            share = s[key] / s["total"] * 100 if s["total"] else 0.0
            return f"{s[key]:.2f}s ({share:.0f}%)"

        table.add_row(
            task, f"{s['total']:.2f}s", cell("model"), cell("tools"), cell("human"), cell("other")
        )
    out.append(table)
    return out


def _grow(tree: Any, step: Step, origin: float) -> None:
    for child in step.children:
        _grow(tree.add(_label(child, origin)), child, origin)
