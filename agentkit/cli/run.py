"""``agentkit run`` and ``agentkit resume``: scripted agent runs.

Exit codes (also in docs/agent.md):

- 0: every task finished (and met its expectations);
- 1: a task finished but missed an expectation from the tasks file;
- 2: a user error (bad option, missing file, invalid decision);
- 3: a call needs approval and nobody can give it (no TTY, or ``--json``);
  continue with ``agentkit resume THREAD --approve ID``;
- 4: the run stopped (max steps, token or time budget, repeated call), or was
  cancelled part-way (status ``interrupted``);
- 130 / 143: Ctrl-C (SIGINT) / SIGTERM: the run stopped after its current
  step; ``agentkit resume THREAD`` continues it.

With a TTY (and without ``--json``) approvals are asked inline.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentkit import prewarm
from agentkit.cli.run_output import Printer, decided_by
from agentkit.cli.run_output import request_line as request_line  # re-exported
from agentkit.cli.tasks_file import TaskSpec, load_tasks
from agentkit.errors import AgentkitError, ConfigError, StorageFault

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.tools import BaseTool

    from agentkit.agent import Agent, Approver
    from agentkit.config import Settings
    from agentkit.events import AgentEvent, AlwaysScope, ApprovalRequest, Decision, RunResult
    from agentkit.threads import ThreadOrigin

EXIT_OK = 0
EXIT_EXPECTATION_FAILED = 1
EXIT_NEEDS_APPROVAL = 3
EXIT_STOPPED = 4


# --- building the agent (tests replace build_model / build_tools) -----------------


def build_model(settings: Settings) -> BaseChatModel:
    from agentkit.models.factory import make_chat_model

    return make_chat_model(settings)


def build_tools(settings: Settings, read_only: bool) -> list[BaseTool]:
    """Built-in, user and MCP tools (the policy gates the ones with side
    effects); only the read-only built-ins with ``read_only``."""
    from agentkit.tools import all_tools, builtin_tools

    return builtin_tools(settings, read_only=True) if read_only else all_tools(settings)


def make_agent(
    settings: Settings,
    *,
    tool_names: Sequence[str] | None = None,
    read_only: bool = False,
    policy_file: Path | None = None,
    approver: Approver | None = None,
    planning: bool | None = None,
) -> Agent:
    from agentkit.approvals.policy import Policy
    from agentkit.assembly import build_agent, shared_knowledge

    policy = None
    if policy_file is not None:
        records = settings.resolved_data_dir() / "always_allow.json"
        policy = Policy.from_toml(policy_file, records_path=records)
    # The same agent as chat and eval: the knowledge base's tools and
    # retrieval too (the memory setting), opened once per process.
    setup = build_agent(
        settings,
        model=lambda: build_model(settings),
        tools=build_tools(settings, read_only),
        tool_names=tool_names,
        knowledge=shared_knowledge(settings),
        approver=approver,
        planning=planning,
        policy=policy,
    )
    return setup.agent


# --- output -----------------------------------------------------------------------


def exit_code(result: RunResult) -> int:
    return {
        "finished": EXIT_OK,
        "needs_approval": EXIT_NEEDS_APPROVAL,
        "stopped": EXIT_STOPPED,
        "interrupted": EXIT_STOPPED,
    }[result.status]


# --- inline approval ---------------------------------------------------------------


def prompt_approver(requests: list[ApprovalRequest]) -> list[Decision]:
    """Ask on the terminal: approve / always / edit / reject / respond (the
    Agent checks the answers, edits included, before anything runs)."""
    from rich.console import Console
    from rich.prompt import Prompt

    from agentkit.events import Approve, Edit, Reject, Respond

    console = Console()
    decisions: list[Decision] = []
    for r in requests:
        console.rule(f"[magenta]{r.tool}[/] wants to run ({', '.join(r.side_effects)})")
        where = r.shown_location()
        if where:
            console.print(f"in [bold]{where}[/]")
        console.print(json.dumps(r.args, indent=2))
        if r.preview:
            console.print(r.preview.get("summary", ""))
            if r.preview.get("body"):
                console.print(r.preview["body"])
        if r.danger:
            console.print(f"danger: {r.danger}")
        console.print(f"asked because: {r.reason}{decided_by(r)}")
        for note in r.notes:
            console.print(f"[yellow]note[/]: {note}")
        option = r.always_options[0] if r.always_options else None
        if option is not None:
            console.print(f"[t]/[p] always allow: {option['label']}")
        choice = Prompt.ask(
            "[a]pprove, always for [t]his thread / this [p]roject, [e]dit, [r]eject, re[s]pond",
            choices=["a", "t", "p", "e", "r", "s"],
            default="a",
        )
        if choice == "a":
            decisions.append(Approve(call_id=r.call_id))
        elif choice in ("t", "p"):
            decisions.append(
                Approve(
                    call_id=r.call_id,
                    always="thread" if choice == "t" else "project",
                    always_pattern=option["pattern"] if option else None,
                )
            )
        elif choice == "e":
            raw = Prompt.ask("new arguments (JSON)", default=json.dumps(r.args))
            decisions.append(Edit(call_id=r.call_id, args=_json_object(raw, "--args")))
        elif choice == "r":
            decisions.append(
                Reject(call_id=r.call_id, feedback=Prompt.ask("feedback for the model", default=""))
            )
        else:
            decisions.append(Respond(call_id=r.call_id, result=Prompt.ask("the tool's result")))
    return decisions


def _interactive(as_json: bool) -> bool:
    return not as_json and sys.stdin.isatty() and sys.stdout.isatty()


def _json_object(raw: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{option}: not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option}: expected a JSON object")
    return value


# --- commands ---------------------------------------------------------------------

ModeOption = typer.Option(
    None,
    "--mode",
    help="Permission mode of the thread: default, accept-edits, plan or dont-ask (kept).",
)


def _stream(events: Iterable[AgentEvent], printer: Printer) -> None:
    for event in events:
        printer.event(event)


def _drive(
    agent: Agent, thread_id: str, events: Iterable[AgentEvent], printer: Printer
) -> int | None:
    """Print a run's events and its result; the exit code. Ctrl-C or SIGTERM
    stop it after its current step (its thread is saved: the result line
    says how to continue); a storage fault is one line saying what to fix."""
    from agentkit.interrupts import RunInterrupted

    try:
        _stream(events, printer)
    except RunInterrupted as stop:
        printer.result(agent.result(thread_id))
        return stop.exit_code
    except KeyboardInterrupt:  # before the run began (or an application's own handler)
        printer.result(agent.result(thread_id))
        return 130
    except StorageFault as fault:
        resume = f"agentkit resume {thread_id}"
        raise (fault.then(resume) if started(agent, thread_id) else fault) from None
    return None


def started(agent: Agent, thread_id: str) -> bool:
    """Whether the thread saved a step (after a fault: when in doubt, yes)."""
    try:
        return not _never_started(agent, thread_id)
    except AgentkitError:
        return True


def run_command(
    task: str | None = typer.Argument(None, help="The task; omit with --file."),
    file: Path | None = typer.Option(None, "--file", "-f", help="YAML file with several tasks."),
    policy: Path | None = typer.Option(None, "--policy", "-p", help="Approval policy TOML."),
    as_json: bool = typer.Option(False, "--json", help="Print events as JSON lines."),
    thread: str | None = typer.Option(
        None, "--thread", "-t", help="Thread id (continue or name a thread)."
    ),
    max_steps: int | None = typer.Option(
        None, "--max-steps", min=1, help="Stop after this many steps."
    ),
    tools: list[str] | None = typer.Option(
        None, "--tool", help="Only these built-in tools (repeatable)."
    ),
    read_only: bool = typer.Option(False, "--read-only", help="Only read-only built-in tools."),
    no_plan: bool = typer.Option(False, "--no-plan", help="Skip the planning call."),
    mode: str | None = ModeOption,
    config: Path | None = typer.Option(None, "--config", "-c", help="Settings TOML."),
) -> None:
    """Run a task (or a file of tasks) to completion, non-interactively unless a TTY can approve."""
    from agentkit.config import load_settings
    from agentkit.modes import check_mode

    if (task is None) == (file is None):
        raise ConfigError("give a task or --file tasks.yaml (one of them)")
    if task is not None and not task.strip():
        raise ConfigError("the task is empty: say what the agent should do")
    chosen_mode = check_mode(mode) if mode else None
    settings = load_settings(config_file=config, max_steps=max_steps)
    prewarm(settings)  # the model loads while the agent's modules import
    printer = Printer(as_json)
    approver = prompt_approver if _interactive(as_json) else None
    items = load_tasks(file) if file is not None else [TaskSpec(task=task or "")]
    worst = EXIT_OK
    planning = False if no_plan else None  # None: the planning setting decides
    for item in items:
        task_settings = settings
        if item.max_steps:
            task_settings = settings.model_copy(update={"max_steps": item.max_steps})
        policy_file = item.policy or policy
        agent = make_agent(
            task_settings,
            tool_names=item.tools or tools or None,
            read_only=read_only,
            policy_file=policy_file,
            approver=approver,
            planning=planning,
        )
        from agentkit.threads import new_thread_id  # after prewarm(): imports LangGraph

        thread_id = item.thread or thread or new_thread_id()
        _not_running(agent, thread_id)  # before recording anything about the thread
        if item.id and file is not None and as_json:
            typer.echo(json.dumps({"kind": "task", "id": item.id, "thread_id": thread_id}))
        # A thread that continues keeps its workspace; a missing one is one line, nothing saved.
        printer.workspace(thread_id, agent.workspace_of(thread_id))
        agent.threads.touch(thread_id, item.task)
        agent.threads.set_extra(
            thread_id,
            {
                **agent.threads.extra(thread_id),  # keeps the thread's mode
                "tools": [t.name for t in agent.tools],
                "policy": str(policy_file.resolve()) if policy_file else None,
                "planning": planning,
                "max_steps": item.max_steps or max_steps,
                "task": item.task,  # resume starts it if it never got to its first step
            },
        )
        if chosen_mode is not None:
            agent.set_mode(thread_id, chosen_mode)
        interrupted = _drive(agent, thread_id, agent.stream(item.task, thread_id), printer)
        if interrupted is not None:
            raise typer.Exit(interrupted)  # the rest of a tasks file waits too
        result = agent.result(thread_id)
        printer.result(result, item.id if file is not None else None)
        code = exit_code(result)
        if code == EXIT_OK and item.expect is not None:
            problems = item.expect.missed(result, settings.resolved_workspace())
            if problems:
                code = EXIT_EXPECTATION_FAILED
                printer.err.print(f"[red]{item.id}: {'; '.join(problems)}[/]")
        worst = max(worst, code)
    raise typer.Exit(worst)


def resume_command(
    thread: str = typer.Argument(..., help="Thread id (see `agentkit threads list`)."),
    approve: list[str] | None = typer.Option(
        None, "--approve", help="Approve this call id (repeatable)."
    ),
    approve_all: bool = typer.Option(False, "--approve-all", help="Approve every pending call."),
    always: str | None = typer.Option(
        None, "--always", help="With --approve: also always allow (thread|project)."
    ),
    reject: list[str] | None = typer.Option(
        None, "--reject", help="Reject this call id (repeatable)."
    ),
    feedback: list[str] | None = typer.Option(
        None, "--feedback", help="Feedback for the n-th --reject."
    ),
    edit: list[str] | None = typer.Option(
        None, "--edit", help="Run this call id with --args instead."
    ),
    args: list[str] | None = typer.Option(
        None, "--args", help="JSON arguments for the n-th --edit."
    ),
    respond: list[str] | None = typer.Option(
        None, "--respond", help="Answer this call id yourself."
    ),
    result_text: list[str] | None = typer.Option(
        None, "--result", help="The result for the n-th --respond."
    ),
    policy: Path | None = typer.Option(None, "--policy", "-p", help="Approval policy TOML."),
    as_json: bool = typer.Option(False, "--json", help="Print events as JSON lines."),
    max_steps: int | None = typer.Option(
        None, "--max-steps", min=1, help="Stop after this many steps (default: the run's)."
    ),
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Continue in this directory instead of the thread's own (recorded in the thread).",
    ),
    mode: str | None = ModeOption,
    approve_plan: bool = typer.Option(
        False, "--approve-plan", help="Approve a plan-mode run's plan: switch to default, do it."
    ),
    config: Path | None = typer.Option(None, "--config", "-c", help="Settings TOML."),
) -> None:
    """Answer a thread's pending approvals (or continue an interrupted run), in
    the workspace the thread started in."""
    from agentkit.config import load_settings
    from agentkit.events import Approve, Edit, Reject, Respond
    from agentkit.modes import check_mode

    if always not in (None, "thread", "project"):
        raise ConfigError("--always must be thread or project")
    chosen_mode = check_mode(mode) if mode else None
    if len(args or []) != len(edit or []):
        raise ConfigError("give one --args JSON per --edit")
    if len(result_text or []) != len(respond or []):
        raise ConfigError("give one --result per --respond")
    if len(feedback or []) > len(reject or []):
        raise ConfigError("more --feedback than --reject")
    settings = load_settings(config_file=config)
    prewarm(settings)
    printer = Printer(as_json)
    approver = prompt_approver if _interactive(as_json) else None
    probe = make_agent(settings, tool_names=[], approver=None)
    if not probe.threads.exists(thread):
        from agentkit.threads import ThreadNotFoundError

        raise ThreadNotFoundError(
            f"no thread {thread!r}", hint="`agentkit threads list` shows them"
        )
    _not_running(probe, thread)  # before recording anything about the thread
    if workspace is not None:
        probe.threads.relocate(thread, workspace)
    extra = probe.threads.extra(thread)
    origin = probe.threads.origin(thread)
    steps = max_steps or extra.get("max_steps")
    if steps:
        settings = settings.model_copy(update={"max_steps": steps})
    agent = make_agent(
        settings,
        tool_names=extra.get("tools"),
        policy_file=policy or _thread_policy(extra, origin),
        approver=approver,
        planning=extra.get("planning"),
    )
    printer.workspace(thread, agent.workspace_of(thread))  # a missing one: one line, nothing run
    scope: AlwaysScope | None = always  # type: ignore[assignment]  # checked above
    decisions: list[Decision] = [Approve(call_id=i, always=scope) for i in approve or []]
    if approve_all:
        decided = {d.call_id for d in decisions}
        undecided = [p for p in agent.pending(thread) if p.call_id not in decided]
        decisions += [Approve(call_id=p.call_id, always=scope) for p in undecided if not _rerun(p)]
        reruns = [p.call_id for p in undecided if _rerun(p)]
        if reruns:  # never re-run a call that may have partly run on a blanket approval
            ids = " ".join(reruns)
            raise ConfigError(
                f"call {ids} was running when the process stopped and may have partly run; "
                "--approve-all does not run it again",
                hint=f"check its effect, then decide it: --approve {ids} or --reject {ids}",
            )
    fb = list(feedback or [])
    decisions += [
        Reject(call_id=i, feedback=fb[n] if n < len(fb) else "") for n, i in enumerate(reject or [])
    ]
    decisions += [
        Edit(call_id=i, args=_json_object(a, "--args"))
        for i, a in zip(edit or [], args or [], strict=True)
    ]
    decisions += [
        Respond(call_id=i, result=r) for i, r in zip(respond or [], result_text or [], strict=True)
    ]
    if chosen_mode is not None:
        agent.set_mode(thread, chosen_mode)
    if approve_plan:
        if agent.pending(thread):
            raise ConfigError(f"thread {thread} waits for approvals; decide them first")
        events = agent.stream_approve_plan(thread)
    elif not decisions and _never_started(agent, thread) and extra.get("task"):
        # Stopped before its first step was saved (Ctrl-C, a full disk): start it.
        events = agent.stream(str(extra["task"]), thread)
    else:
        if not decisions and agent.pending(thread) and approver is not None:
            decisions = list(approver(agent.pending(thread)))
        events = agent.stream_resume(thread, decisions)
    try:
        interrupted = _drive(agent, thread, events, printer)
    except StorageFault as fault:  # the same command, again, finishes what this one began
        raise StorageFault(fault.path, fault.problem, fault.detail) from None
    if interrupted is not None:
        raise typer.Exit(interrupted)
    result = agent.result(thread)
    printer.result(result)
    raise typer.Exit(exit_code(result))


def _not_running(agent: Agent, thread: str) -> None:
    """One line when another process runs the thread now (the run's claim
    stays the guard; this only keeps a refused command from writing)."""
    from agentkit.threads import ThreadBusyError

    if agent.threads.running(thread):
        raise ThreadBusyError(thread)


def _rerun(request: ApprovalRequest) -> bool:
    from agentkit.graphs.prompts import RERUN_REASON

    return request.reason == RERUN_REASON


def _never_started(agent: Agent, thread: str) -> bool:
    result = agent.result(thread)
    return result.status == "stopped" and result.stop_reason == "not started"


def _thread_policy(extra: dict[str, Any], origin: ThreadOrigin | None) -> Path | None:
    """The policy file the thread was started with: the run's ``--policy``,
    else the policy file in effect then (when it still exists; else the
    settings decide, as they did)."""
    if extra.get("policy"):
        return Path(extra["policy"])
    recorded = Path(origin.policy_file) if origin and origin.policy_file else None
    return recorded if recorded is not None and recorded.is_file() else None


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("resume")(resume_command)


__all__ = [
    "EXIT_EXPECTATION_FAILED",
    "EXIT_NEEDS_APPROVAL",
    "EXIT_OK",
    "EXIT_STOPPED",
    "AgentkitError",
    "build_model",
    "build_tools",
    "make_agent",
    "register",
]
