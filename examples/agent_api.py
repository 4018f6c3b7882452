"""The Python API in one script: run, stream, approve, resume, threads.

    .venv/bin/python examples/agent_api.py             # bundled model (slow on CPU, weak answers)
    .venv/bin/python examples/agent_api.py --scripted  # a scripted model: instant, deterministic

Everything lives in a temporary directory: a notes file to read, the thread
database, and the summary the agent writes after you approve it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from agentkit.agent import Agent
from agentkit.approvals.policy import Policy
from agentkit.config import load_settings
from agentkit.events import ApprovalRequest, Approve, Decision
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools.base import declare


class ReadArgs(BaseModel):
    path: str = Field(max_length=80)


class WriteArgs(BaseModel):
    path: str = Field(max_length=80)
    content: str = Field(max_length=300)


def make_tools(root: Path) -> list[StructuredTool]:
    def read_file(path: str) -> str:
        return (root / path).read_text()

    def write_file(path: str, content: str) -> str:
        (root / path).write_text(content)
        return f"wrote {path}"

    return [
        declare(
            StructuredTool.from_function(
                read_file, name="read_file", description="Read a file.", args_schema=ReadArgs
            ),
            ["read"],
        ),
        declare(
            StructuredTool.from_function(
                write_file, name="write_file", description="Write a file.", args_schema=WriteArgs
            ),
            ["write"],
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scripted", action="store_true", help="use a scripted model")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="agentkit-example-"))
    (root / "notes.txt").write_text("The Rhine flows from the Swiss Alps to the North Sea.\n")
    settings = load_settings(
        data_dir=root / "data", workspace=root, temperature=0.0, max_tokens=160
    )

    model = None  # None: the bundled model, loaded on first use
    if args.scripted:
        model = ScriptedChatModel(
            script=[
                call("read_file", {"path": "notes.txt"}),
                call(
                    "write_file",
                    {"path": "summary.md", "content": "Rhine: Alps to North Sea."},
                    "write-1",
                ),
                final("summary.md now holds a one-line summary."),
            ],
            structured=[{"steps": ["Read notes.txt", "Write summary.md"]}],
        )

    agent = Agent(model=model, tools=make_tools(root), settings=settings, policy=Policy.default())
    task = "Read notes.txt, then write a one-line summary of it to summary.md."

    # 1. stream: typed events as they happen
    for event in agent.stream(task, thread_id="demo"):
        if event.kind == "token":
            continue
        print(f"{event.kind:16} {event.model_dump_json(exclude={'kind'})[:120]}")

    # 2. the run paused before the write: decide, then resume
    result = agent.result("demo")
    print("status:", result.status)
    if result.status == "needs_approval":
        for request in result.pending:
            print(f"approving {request.tool} {request.args}  ({request.reason})")
        result = agent.resume("demo", [Approve(call_id=r.call_id) for r in result.pending])
    print("status:", result.status, "| answer:", result.answer)
    print(
        "summary.md:",
        (root / "summary.md").read_text() if (root / "summary.md").exists() else "(not written)",
    )

    # 3. threads: list, history, fork
    for info in agent.threads.list():
        print("thread", info.thread_id, info.status, info.title)
    print("checkpoints in demo:", len(agent.threads.history("demo")))

    # 4. inline approval with a callback instead of resume()
    def approve_writes(requests: list[ApprovalRequest]) -> list[Decision]:
        return [Approve(call_id=r.call_id) for r in requests]

    agent.approver = approve_writes
    if args.scripted:
        agent.nodes.model = ScriptedChatModel(
            script=[call("write_file", {"path": "again.md", "content": "again"}), final("done")]
        )
    print("inline:", agent.run("Write 'again' to again.md.").status)


if __name__ == "__main__":
    main()
