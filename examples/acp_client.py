"""Drive ``agentkit acp`` from Python with the ACP SDK's client side and
print the JSON-RPC transcript (what Toad or Zed would exchange with it).

    .venv/bin/python examples/acp_client.py WORKSPACE "Summarise notes.txt into summary.md"
    # a scripted model instead of the bundled one (as the tests do):
    PYTHONPATH=tests .venv/bin/python examples/acp_client.py WORKSPACE "..." \\
        -- --model-factory acp_models:read_then_write --data-dir /tmp/acp-data

Permission requests are answered "allow once" (``--reject`` to reject).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, spawn_agent_process, text_block
from acp.connection import StreamEvent
from acp.schema import AllowedOutcome, RequestPermissionResponse

TESTS = Path(__file__).resolve().parent.parent / "tests"  # for --model-factory acp_models:...


class Client:
    def __init__(self, option: str) -> None:
        self.option = option

    async def request_permission(
        self, options: Any, session_id: str, tool_call: Any, **kw: Any
    ) -> Any:
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=self.option)
        )

    async def session_update(self, session_id: str, update: Any, **kw: Any) -> None:
        return None


def show(event: StreamEvent) -> None:
    arrow = "client → agent" if event.direction.value == "outgoing" else "agent → client"
    print(f"{arrow}  {json.dumps(event.message, ensure_ascii=False)}")


async def main(workspace: Path, task: str, reject: bool, agent_args: list[str]) -> None:
    agentkit = str(Path(sys.executable).parent / "agentkit")
    client = Client("reject_once" if reject else "allow_once")
    async with spawn_agent_process(
        client,
        agentkit,
        "acp",
        *agent_args,
        cwd=workspace,
        env={"PYTHONPATH": str(TESTS)},
        observers=[show],
    ) as (conn, _):
        await conn.initialize(protocol_version=PROTOCOL_VERSION)
        session = await conn.new_session(cwd=str(workspace.resolve()), mcp_servers=[])
        await conn.prompt(session_id=session.session_id, prompt=[text_block(task)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workspace", type=Path)
    parser.add_argument("task")
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("agent_args", nargs="*", help="after --: options for agentkit acp")
    args = parser.parse_args()
    asyncio.run(main(args.workspace, args.task, args.reject, args.agent_args))
