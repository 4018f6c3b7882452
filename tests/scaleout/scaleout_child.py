"""Child process for the scale-out kill/resume test (test_scaleout_e2e.py).

    python scaleout_child.py DSN CHROMA_URL EMBED_URL WORKDIR DATA_DIR SCENARIO start|resume

Everything shared lives in the services: checkpoints and the executed-calls
ledger in Postgres, memories in the Chroma server, embeddings from the
embedding server. ``start`` and ``resume`` get different DATA_DIRs, as two
machines would. ``start`` proposes two writes (``write_file a.txt``,
``slow_write b``) and stops where SCENARIO says, for the parent to SIGKILL:
``approval`` (the approver writes ``waiting`` and blocks) or ``execution``
(``slow_write`` logs its side effect and sleeps). ``resume`` approves what is
pending, drives the thread to the end and prints the RunResult as JSON.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from agent_support import make_tools  # noqa: E402
from langchain_core.messages import BaseMessage  # noqa: E402

from agentkit.agent import Agent  # noqa: E402
from agentkit.config import load_settings  # noqa: E402
from agentkit.events import ApprovalRequest, Approve, Reject  # noqa: E402
from agentkit.graphs.prompts import RERUN_REASON  # noqa: E402
from agentkit.memory.knowledge import KnowledgeBase  # noqa: E402
from agentkit.testing import ScriptedChatModel, calls, final  # noqa: E402

THREAD = "scaleout"
TASK = "Where is the deploy password kept? Write a.txt and b."


def main() -> None:
    dsn, chroma_url, embed_url, work, data, scenario, phase = sys.argv[1:8]
    work_dir = Path(work)
    log = work_dir / "side_effects.log"
    settings = load_settings(
        data_dir=Path(data),
        workspace=work_dir,
        checkpointer=dsn,
        chroma_url=chroma_url,
        embed_url=embed_url,
    )

    def propose(messages: list[BaseMessage]) -> object:
        (work_dir / "prompt.txt").write_text("\n".join(str(m.content) for m in messages))
        return calls(
            ("write_file", {"path": "a.txt", "content": "A"}, "wa"),
            ("slow_write", {"name": "b", "seconds": 600 if scenario == "execution" else 0}, "wb"),
        )

    def approve_all(requests: list[ApprovalRequest]) -> list[Approve | Reject]:
        if phase == "start" and scenario == "approval":
            (work_dir / "waiting").write_text("x")
            time.sleep(600)
        # A call that was running when host A died may have partly run: the
        # human asked about running it again says no.
        return [
            Reject(call_id=r.call_id) if r.reason == RERUN_REASON else Approve(call_id=r.call_id)
            for r in requests
        ]

    with KnowledgeBase.open(settings) as knowledge:
        agent = Agent(
            model=ScriptedChatModel(
                script=[propose, final("done")] if phase == "start" else [final("done")]
            ),
            tools=make_tools(work_dir, log),
            memory=knowledge,
            settings=settings,
            approver=approve_all,
            planning=False,
        )
        if phase == "start":
            agent.run(TASK, THREAD)
            return
        print("PENDING " + ",".join(p.call_id for p in agent.pending(THREAD)), flush=True)
        result = agent.resume(THREAD, [Approve(call_id=p.call_id) for p in agent.pending(THREAD)])
        print("RESULT " + result.model_dump_json(), flush=True)
        print(
            "THREADS " + ",".join(f"{t.thread_id}:{t.status}" for t in agent.threads.list()),
            flush=True,
        )


if __name__ == "__main__":
    main()
