"""The chat app with a scripted model, the real file tools and SQLite
threads in a temporary directory: try F2 (permission modes), "update the
notes" (two writes), then /rewind. docs/tui-control-capture.txt was taken
from it in tmux.

    .venv/bin/python examples/tui_control_demo.py [DIR]
"""

import sys
import tempfile
from pathlib import Path

from agentkit.agent import Agent
from agentkit.config import Settings
from agentkit.testing import ScriptedChatModel, call, final
from agentkit.tools import builtin_tools
from agentkit.tui.app import AgentkitApp

root = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
ws = root / "ws"
ws.mkdir(parents=True, exist_ok=True)
(ws / "notes.md").write_text("draft 1\n")
(ws / "AGENTS.md").write_text("Keep notes short.\n")
settings = Settings(data_dir=root / "data", workspace=ws, model="bundled:gemma3-270m")
script = [
    call("write_file", {"path": "notes.md", "content": "draft 2\n"}, "w1"),
    call("write_file", {"path": "todo.md", "content": "- ship\n"}, "w2"),
    final("Updated notes.md and wrote todo.md."),
]
agent = Agent(
    model=ScriptedChatModel(script=script),
    tools=builtin_tools(settings),
    settings=settings,
    planning=False,
)
ids = iter(["demo-thread"])
AgentkitApp(agent, settings=settings, id_factory=lambda: next(ids)).run()
