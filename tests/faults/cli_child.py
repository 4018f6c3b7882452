"""The ``agentkit`` command in a child process, over the fault suite's
scripted model and counting tools (tests/faults/test_processes.py)::

    python cli_child.py run TASK --thread t1     # any agentkit arguments

Environment: ``AGENTKIT_DATA_DIR`` and ``AGENTKIT_WORKSPACE`` as usual;
``FAULT_WORK`` the workspace (the side-effect log is next to it);
``FAULT_TOKEN_DELAY`` seconds per streamed chunk; ``FAULT_SHELL_SLEEP``
seconds the shell tool sleeps after its side effect. The child writes
``FAULT_WORK/../decoding`` when a generation starts streaming and
``../in-shell`` when the shell tool has logged its side effect.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from agent_support import make_tools  # noqa: E402
from fault_support import StepModel  # noqa: E402

from agentkit.cli import main  # noqa: E402
from agentkit.cli import run as run_cli  # noqa: E402

WORK = Path(os.environ["FAULT_WORK"])
ROOT = WORK.parent


def build_model(settings: object) -> StepModel:
    model = StepModel(token_delay_s=float(os.environ.get("FAULT_TOKEN_DELAY", "0")))

    def on_chunk(index: int, chunk: int) -> None:
        if chunk == 0:
            (ROOT / "decoding").write_text(str(index))

    model.on_chunk = on_chunk
    return model


def build_tools(settings: object, read_only: bool) -> list:
    tools = make_tools(WORK, ROOT / "side_effects.log")
    shell = next(t for t in tools if t.name == "shell")
    logged = shell.func
    pause = float(os.environ.get("FAULT_SHELL_SLEEP", "0"))

    def slow_shell(command: str) -> str:
        result = logged(command)
        (ROOT / "in-shell").write_text(command)
        time.sleep(pause)
        return result

    shell.func = slow_shell
    return tools


run_cli.build_model = build_model
run_cli.build_tools = build_tools
run_cli.prewarm = lambda settings: None
os.environ.setdefault("AGENTKIT_MEMORY", "false")  # the thread database's faults only

if __name__ == "__main__":
    sys.argv = ["agentkit", *sys.argv[1:]]
    main()
