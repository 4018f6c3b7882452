"""A user's threads → training examples.

Every act step of a thread is rebuilt from its checkpointed state (the
LangGraph state history): the state before the step is loaded into a
throwaway copy of the agent graph (in memory, never the user's database)
whose model is a :class:`~agentkit.tune.replay.GoldReplayModel`, and the act
node runs once. So the prompt is rendered by the same code as at run time
(steering, tool instructions, the grammar's forced prefix), over the
thread's tools, bound to the thread's workspace, in its permission mode.

The label is what the human made of the step (:mod:`agentkit.audit`):
approved calls are positives, a human's edited arguments are the corrected
label, rejected calls (and ones answered in the tool's place, denied or
invalid) are left out. Calls the policy allowed that ran without error,
and the final answer of a finished run, count too unless asked otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage

from agentkit.audit import AuditToolCall
from agentkit.config import Settings
from agentkit.errors import AgentkitError
from agentkit.events import FINAL_ANSWER_TOOL
from agentkit.tune.examples import Label, TrainingExample
from agentkit.tune.replay import GoldCall, GoldReplayModel, GoldStep

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool
    from langgraph.types import StateSnapshot

    from agentkit.agent import Agent

MEMORY_TOOLS = ("search_docs", "remember", "recall")


@dataclass(frozen=True)
class LabelRules:
    """Which steps of a thread become examples besides approved and edited calls."""

    allowed: bool = True
    """Calls the policy allowed (no human asked) that ran without error."""
    answers: bool = True
    """The final answer of a run that finished."""


@dataclass
class ThreadExamples:
    thread_id: str
    examples: list[TrainingExample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Steps left out, and why."""


def _label_of(call: AuditToolCall, rules: LabelRules) -> tuple[dict[str, Any], Label] | None:
    """A proposed call's arguments and label, or None (left out)."""
    if call.decision == "approve":
        return dict(call.args), "approved"
    if call.decision == "edit" and call.run_args is not None:
        return dict(call.run_args), "edited"
    if call.decision == "allow" and rules.allowed and call.status == "ok":
        return dict(call.args), "allowed"
    return None


def _gold_step(
    after: StateSnapshot,
    calls: dict[str, AuditToolCall],
    rules: LabelRules,
) -> tuple[GoldStep | None, str]:
    """What the act step that produced ``after`` should have produced, or
    None and why it is left out."""
    values: dict[str, Any] = after.values if isinstance(after.values, dict) else {}
    step = int(values.get("steps", 0))
    pending = values.get("pending") or []
    if pending:
        kept: list[GoldCall] = []
        labels: list[Label] = []
        for p in pending:
            call = calls.get(p.get("call_id", ""))
            labelled = _label_of(call, rules) if call is not None else None
            if labelled is not None:
                kept.append(GoldCall(call.tool, labelled[0]))  # type: ignore[union-attr]
                labels.append(labelled[1])
        if not kept:
            decided = ", ".join(
                f"{c.tool}: {c.decision or 'undecided'}"
                for p in pending
                if (c := calls.get(p.get("call_id", ""))) is not None
            )
            return None, f"step {step}: no call kept ({decided or 'not decided'})"
        label: Label = next((x for x in ("edited", "approved") if x in labels), "allowed")
        return GoldStep(tuple(kept), label, step), ""
    last = next((m for m in reversed(values.get("messages", [])) if isinstance(m, AIMessage)), None)
    final = next(
        (c for c in (last.tool_calls if last else []) if c["name"] == FINAL_ANSWER_TOOL), None
    )
    if final is not None and values.get("status") == "finished":
        if not rules.answers:
            return None, f"step {step}: final answer (answers left out)"
        return GoldStep((GoldCall(FINAL_ANSWER_TOOL, dict(final["args"])),), "answer", step), ""
    return None, f"step {step}: no call and no final answer"


def thread_examples(
    agent: Agent, thread_id: str, settings: Settings, rules: LabelRules = LabelRules()
) -> ThreadExamples:
    """The training examples of ``thread_id`` (``agent``: over the user's
    checkpointer; its model is never called)."""
    from agentkit.graphs.support import WORKSPACE_KEY
    from agentkit.modes import MODE_KEY

    info = agent.threads.get(thread_id)  # ThreadNotFoundError: one line
    out = ThreadExamples(thread_id)
    history = list(
        agent.graph.get_state_history(
            {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        )
    )
    history.reverse()  # oldest first
    calls = {c.call_id: c for c in agent.threads.audit(thread_id).tool_calls}
    origin = agent.threads.origin(thread_id)
    workspace = Path(origin.workspace if origin and origin.workspace else info.workspace or ".")
    replay: Replay | None = None
    for before, after in zip(history, history[1:], strict=False):
        if before.next != ("act",) or after.metadata is None:
            continue
        gold, why = _gold_step(after, calls, rules)
        if gold is None:
            out.skipped.append(why)
            continue
        summaries = len((after.values or {}).get("summaries", []))
        if summaries > len((before.values or {}).get("summaries", [])):
            out.skipped.append(f"step {gold.step}: the context was compacted at this step")
            continue
        if replay is None:
            replay = Replay.open(settings, workspace, origin.tools if origin else [])
        config = {
            "configurable": {
                "thread_id": f"tune-{thread_id}-{before.config['configurable']['checkpoint_id']}",
                WORKSPACE_KEY: str(workspace),
                MODE_KEY: agent.mode(thread_id),
            }
        }
        examples, problems = replay.step(before.values, config, gold, f"thread:{thread_id}")
        out.examples += examples
        out.skipped += problems
    return out


@dataclass
class Replay:
    """A throwaway agent graph (in-memory checkpoints) over a thread's tools,
    whose model replays the gold step."""

    agent: Agent
    model: GoldReplayModel

    @classmethod
    def open(cls, settings: Settings, workspace: Path, tool_names: Sequence[str]) -> Replay:
        from langgraph.checkpoint.memory import InMemorySaver

        from agentkit.agent import Agent
        from agentkit.approvals.policy import Policy
        from agentkit.tune.episodes import replay_model

        if not workspace.is_dir():
            raise AgentkitError(
                f"the thread's workspace {workspace} no longer exists",
                hint="its prompts name its files: export it where it ran",
            )
        # No hooks: a before_tool hook would run for every replayed proposal.
        quiet = settings.model_copy(update={"hooks": [], "tracing": "off"})
        model = replay_model(quiet)
        agent = Agent(
            model=model,
            tools=_thread_tools(quiet, workspace, tool_names),
            settings=quiet,
            checkpointer=InMemorySaver(),
            policy=Policy.default(),
            workspace=workspace,
        )
        return cls(agent, model)

    def step(
        self, values: Any, config: dict[str, Any], gold: GoldStep, source: str
    ) -> tuple[list[TrainingExample], list[str]]:
        """Run the act node once on ``values`` with ``gold`` as the reply."""
        graph = self.agent.graph
        self.model.expect([gold], source)
        graph.update_state(config, dict(values), as_node="plan")  # next: act
        graph.invoke(None, config, interrupt_after=["act"])
        return self.model.examples, self.model.problems


def _thread_tools(settings: Settings, workspace: Path, names: Sequence[str]) -> list[BaseTool]:
    """The thread's tools as its prompts showed them (every built-in and user
    tool when the thread recorded none); MCP tools cannot be rebuilt."""
    from agentkit.tools.registry import builtin_tools, load_user_tools

    tools = builtin_tools(settings, workspace=workspace) + load_user_tools(settings)
    if any(n in MEMORY_TOOLS for n in names):
        from agentkit.memory.knowledge import KnowledgeBase
        from agentkit.tools.memory import memory_tools

        tools += memory_tools(KnowledgeBase.open(settings))
    if not names:
        return tools
    by_name = {t.name: t for t in tools}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise AgentkitError(
            f"the thread used tools that cannot be rebuilt here: {', '.join(missing)}",
            hint="MCP tools are not exported; export threads that used built-in and user tools",
        )
    return [by_name[n] for n in names]
