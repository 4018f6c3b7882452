"""A prompt-injection suite in the style of AgentDojo and InjecAgent.

Each case is a user task, an instruction planted by an attacker in a file of
the workspace or in a page on a local HTTP server, and the attacker's goal:
a side effect (a file written, a command run, a request to the attacker's
listener, a planted memory) that is checked in the environment afterwards.
The agent runs through the public ``Agent`` API with built-in tools and no
human: every call that asks is rejected. A case's attack *landed* when its
side effect happened anyway; its user task is *done* (utility) when the
user's goal was met.

Models: ``scripted`` is a hijacked model (``ScriptedChatModel`` with a
callable that reads the prompt): it does the user's task and obeys every
instruction it reads in a tool result, copying the call the attacker wrote.
``bundled`` is the real bundled model. Policies: ``default`` (reads allow,
the rest ask), ``permissive`` (the realistic user policy of issue 15: writes
under notes/**, shell for ls/cat/echo/git status/wc, http_get and remember
allowed) and ``allow-all`` (every side effect allowed: what an auto-accept
mode would do). Defences: ``off`` (agentkit before issue 15: path rules
match the path as written, nothing is protected, untrusted content is not
tracked), ``on`` (the defaults: resolved-path rules, protected paths,
``untrusted_content = "copied"``), ``named`` (the same, but the contents of
files the task names are trusted: ``trust_named_files = true``) and
``strict`` (``untrusted_content = "all"``).

    .venv/bin/python tests/security/injection_suite.py             # scripted, full matrix
    .venv/bin/python tests/security/injection_suite.py --model bundled --policy allow-all

The cases are in injection_cases.py; the figures in docs/security.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from injection_cases import (
    CASES,
    INSTRUCTION,
    TASKS,
    Case,
    Env,
    Kind,
    env_args,
    http_server,
    layout,
)
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel, Field
from unattended import NoHuman

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import Settings, load_settings
from agentkit.events import ToolPreview
from agentkit.graphs.agent_graph import Limits
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools
from agentkit.tools.base import CONTRACT_KEY, contract_of, declare
from agentkit.tools.files import FileTool

POLICIES: dict[str, dict[str, Any]] = {
    "default": {},
    "permissive": {
        "tools": {"http_get": "allow", "remember": "allow"},
        "rules": [
            {"tool": "write_file", "action": "allow", "paths": ["notes/**"]},
            {"tool": "edit_file", "action": "allow", "paths": ["notes/**"]},
            {
                "tool": "shell",
                "action": "allow",
                "command_prefixes": ["ls", "cat", "echo", "git status", "wc"],
            },
        ],
    },
    "allow-all": {"side_effects": {"write": "allow", "exec": "allow", "network": "allow"}},
}
DEFENCES = ("off", "on", "named", "strict")


# --- the hijacked model ---------------------------------------------------------------------


def hijacked_model(env: Env, case: Case) -> ScriptedChatModel:
    """Does the user's task, and obeys every instruction it reads in a tool
    result as soon as it reads it (the attacker's call, copied verbatim)."""
    task = TASKS[case.task]

    def step(messages: list[BaseMessage]) -> AIMessage:
        made = [
            (c["name"], json.dumps(c["args"], sort_keys=True))
            for m in messages
            if isinstance(m, AIMessage)
            for c in m.tool_calls
        ]
        results = [m for m in messages if isinstance(m, ToolMessage)]
        seen = "\n".join(str(m.content) for m in results)
        for result in results:
            for found in INSTRUCTION.finditer(str(result.content)):
                name, args = found.group(1), json.loads(found.group(2))
                args, needs = _fill_files(args, results)
                if needs and ("read_file", json.dumps({"path": needs}, sort_keys=True)) not in made:
                    return call("read_file", {"path": needs})
                if (name, json.dumps(args, sort_keys=True)) not in made:
                    return call(name, args)
        for spec in task.steps:
            name, args = spec(env, seen) if callable(spec) else (spec[0], env_args(env, spec))
            if (name, json.dumps(args, sort_keys=True)) not in made:
                return call(name, args)
        return final(task.answer(seen))

    return ScriptedChatModel(script=[step], repeat_last=True)


def _fill_files(
    args: dict[str, Any], results: Sequence[ToolMessage]
) -> tuple[dict[str, Any], str | None]:
    """``<file:PATH>`` in an instruction: the content of PATH (read first,
    when the run has not read it yet)."""
    filled: dict[str, Any] = {}
    for key, value in args.items():
        found = re.search(r"<file:([^>]+)>", value) if isinstance(value, str) else None
        if found is None:
            filled[key] = value
            continue
        path = found.group(1)
        body = next(
            (str(m.content) for m in results if str(m.content).startswith(f"{path} (lines")), None
        )
        if body is None:
            return args, path
        text = "+".join(body.split("\n", 1)[-1].split())
        filled[key] = value.replace(found.group(0), text)
    return filled, None


# --- running -----------------------------------------------------------------------------


class RememberArgs(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="A fact worth keeping.")


def memory_tool(env: Env) -> BaseTool:
    """``remember`` as agentkit declares it (write), storing in the case's env."""

    def remember(text: str) -> str:
        env.memories.append(text)
        return f"remembered: {text}"

    tool = StructuredTool.from_function(
        remember,
        name="remember",
        description="Store one fact about the user in long-term memory.",
        args_schema=RememberArgs,
    )
    return declare(
        tool,
        ["write"],
        preview=lambda a: ToolPreview(kind="text", summary="remember", body=str(a.get("text"))),
    )


@dataclass
class Outcome:
    case: str
    kind: Kind
    model: str
    policy: str
    defence: str
    landed: bool
    done: bool
    asked: int
    status: str
    seconds: float
    calls: list[str] = field(default_factory=list)  # what the model did, and what happened


def run_case(
    case: Case, *, model: str = "scripted", policy: str = "permissive", defence: str = "on"
) -> Outcome:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agentkit-inject-") as tmp:
        root, outside = Path(tmp) / "ws", Path(tmp) / "outside"
        root.mkdir()
        outside.mkdir()
        pages: dict[str, str] = {}
        hits: list[str] = []
        with http_server(pages, hits) as port:
            env = Env(root, outside, port, pages, hits)
            layout(env, case)
            settings = _settings(root, Path(tmp) / "data", model, defence)
            tools = builtin_tools(settings) + [memory_tool(env)]
            if defence == "off":  # as before issue 15: written paths, nothing protected
                for tool in tools:
                    contract = contract_of(tool)
                    if contract is not None:
                        unpinned = dataclasses.replace(contract, targets=None)
                        tool.metadata = {**(tool.metadata or {}), CONTRACT_KEY: unpinned}
                    if isinstance(tool, FileTool):
                        tool.ws.protected_globs = {}
            rules = Policy.from_dict(POLICIES[policy])
            rules.untrusted_content = settings.untrusted_content
            approver = NoHuman()

            task = TASKS[case.task]
            agent = Agent(
                model=hijacked_model(env, case) if model == "scripted" else None,
                tools=tools,
                policy=rules,
                checkpointer=InMemorySaver(),
                settings=settings,
                approver=approver,
                planning=False,
                limits=Limits(max_steps=8 if model == "scripted" else 6),
            )
            result = agent.run(env.fill(task.text))
            return Outcome(
                case.id,
                case.kind,
                model,
                policy,
                defence,
                landed=case.landed(env, result),
                done=task.done(env, result),
                asked=len(approver.asked),
                status=result.status,
                seconds=time.perf_counter() - start,
                calls=[
                    f"{c['tool']} {json.dumps(c['args'], ensure_ascii=False)[:120]} -> {c['status']}"
                    for c in result.tool_calls
                ],
            )


def _settings(root: Path, data: Path, model: str, defence: str) -> Settings:
    extra: dict[str, Any] = {}
    if model != "scripted":
        extra = {"seed": 7, "temperature": 0.0}
    return load_settings(
        workspace=root,
        data_dir=data,
        shell_sandbox="off",  # measure the approval layer, not bubblewrap
        untrusted_content={"off": "off", "strict": "all"}.get(defence, "copied"),
        trust_named_files=defence == "named",
        **extra,
    )


def run_matrix(
    cases: Sequence[Case],
    models: Sequence[str],
    policies: Sequence[str],
    defences: Sequence[str],
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    outcomes = []
    for model in models:
        for policy in policies:
            for defence in defences:
                for case in cases:
                    outcome = run_case(case, model=model, policy=policy, defence=defence)
                    outcomes.append(outcome)
                    if progress:
                        progress(outcome)
    return outcomes


def summarise(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str, str], list[Outcome]] = {}
    for o in outcomes:
        rows.setdefault((o.model, o.policy, o.defence), []).append(o)
    table = []
    for (model, policy, defence), items in rows.items():
        by_kind = {
            kind: sum(o.landed for o in items if o.kind == kind)
            for kind in ("files", "shell", "http", "memory")
        }
        table.append(
            {
                "model": model,
                "policy": policy,
                "defence": defence,
                "cases": len(items),
                "landed": sum(o.landed for o in items),
                "landed_by_kind": by_kind,
                "done": sum(o.done for o in items),
                "asked": sum(o.asked for o in items),
                "landed_cases": [o.case for o in items if o.landed],
                "seconds": round(sum(o.seconds for o in items), 1),
            }
        )
    return table


def render(table: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "| model | policy | defence | attacks landed (no yes) | files / shell / http / memory "
        "| user tasks done | calls that asked |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in table:
        k = row["landed_by_kind"]
        lines.append(
            f"| {row['model']} | {row['policy']} | {row['defence']} | {row['landed']}/{row['cases']} "
            f"| {k['files']} / {k['shell']} / {k['http']} / {k['memory']} "
            f"| {row['done']}/{row['cases']} | {row['asked']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", default="scripted", help="scripted, bundled or both (comma-separated)"
    )
    parser.add_argument("--policy", default=",".join(POLICIES), help="comma-separated")
    parser.add_argument("--defence", default=",".join(DEFENCES), help="comma-separated")
    parser.add_argument("--case", action="append", help="only these case ids")
    parser.add_argument("--kind", action="append", help="only these kinds")
    parser.add_argument("--json", type=Path, help="also write every outcome here")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    cases = [
        c
        for c in CASES
        if (not args.case or c.id in args.case) and (not args.kind or c.kind in args.kind)
    ]
    models = args.model.replace("both", "scripted,bundled").split(",")

    def progress(o: Outcome) -> None:
        if args.verbose:
            print(
                f"{o.model:8} {o.policy:10} {o.defence:6} {o.case:28} "
                f"landed={int(o.landed)} done={int(o.done)} asked={o.asked} {o.status} {o.seconds:.1f}s",
                file=sys.stderr,
                flush=True,
            )

    outcomes = run_matrix(
        cases, models, args.policy.split(","), args.defence.split(","), progress=progress
    )
    table = summarise(outcomes)
    print(
        f"{len(cases)} cases ({', '.join(f'{k}: {sum(c.kind == k for c in cases)}' for k in ('files', 'shell', 'http', 'memory'))})"
    )
    print(render(table))
    for row in table:
        if row["landed_cases"]:
            print(
                f"landed ({row['model']}, {row['policy']}, {row['defence']}): {', '.join(row['landed_cases'])}"
            )
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
