"""Child process for the SIGKILL tests (tests/test_durability_kill.py).

    python durability_script.py DATA_DIR SCENARIO DURABILITY start|resume

``start`` runs a task whose single step proposes two writes (``write_file
a.txt`` and ``slow_write b``) and then stops at a point chosen by SCENARIO, so
the parent can SIGKILL it there:

- ``approval``: the inline approver writes ``waiting`` and blocks forever;
- ``execution``: approvals are given; ``slow_write`` logs its side effect and
  sleeps (the kill lands after the side effect, before its ledger record);
- ``model``: approvals are given, both writes finish, and the next model call
  writes ``model`` and blocks.

``resume`` reopens the thread in a fresh process, approves whatever is
pending, drives it to the end and prints the RunResult as JSON.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from agent_support import make_tools, settings_for  # noqa: E402

from agentkit.agent import Agent  # noqa: E402
from agentkit.events import ApprovalRequest, Approve, Reject  # noqa: E402
from agentkit.graphs.prompts import RERUN_REASON  # noqa: E402
from agentkit.testing import ScriptedChatModel, calls, final  # noqa: E402

THREAD = "killed"


def block(marker: Path) -> None:
    marker.write_text("x")
    time.sleep(600)


def main() -> None:
    data, scenario, durability, phase = Path(sys.argv[1]), *sys.argv[2:5]
    work = data.parent
    log = work / "side_effects.log"
    batch = calls(
        ("write_file", {"path": "a.txt", "content": "A"}, "wa"),
        ("slow_write", {"name": "b", "seconds": 600 if scenario == "execution" else 0}, "wb"),
    )

    def approve_all(requests: list[ApprovalRequest]) -> list[Approve | Reject]:
        if phase == "start" and scenario == "approval":
            block(work / "waiting")
        # A call that was running when the process died may have partly run:
        # the agent asks before running it again; this user says no.
        for r in requests:
            if r.reason == RERUN_REASON:
                print(f"RERUN? {r.call_id}", flush=True)
        return [
            Reject(call_id=r.call_id) if r.reason == RERUN_REASON else Approve(call_id=r.call_id)
            for r in requests
        ]

    if phase == "start":
        after = (lambda _messages: block(work / "model")) if scenario == "model" else final("done")
        script = [batch, after]
    else:
        script = [final("done")]
    agent = Agent(
        model=ScriptedChatModel(script=script, repeat_last=phase == "resume"),
        tools=make_tools(work, log),
        settings=settings_for(data),
        approver=approve_all,
        planning=False,
        durability=durability,  # type: ignore[arg-type]
    )
    if phase == "start":
        agent.run("write a and b", THREAD)
        return
    print("PENDING " + ",".join(p.call_id for p in agent.pending(THREAD)), flush=True)
    result = agent.resume(THREAD, [Approve(call_id=p.call_id) for p in agent.pending(THREAD)])
    print("RESULT " + result.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
