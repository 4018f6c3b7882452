"""One real-terminal test: `agentkit chat` in tmux on the bundled model.

Types a message with send-keys, reads the screen with capture-pane, approves
the write the model proposes and checks the file landed in the workspace.
Set AGENTKIT_TUI_CAPTURE=path to keep the screen of the approval prompt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
    ),
]

WIDTH, HEIGHT = 100, 30
POLICY = """\
[side_effects]
read = "allow"
write = "ask"
exec = "ask"
network = "ask"
"""


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], check=True, capture_output=True, text=True, timeout=30
    ).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(session: str, needle: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if needle in text:
            return text
        time.sleep(0.5)
    raise AssertionError(f"{needle!r} not on screen after {timeout_s:.0f}s; screen:\n{text}")


@pytest.fixture
def chat_session(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    workspace = tmp_path / "ws"
    data = tmp_path / "data"
    workspace.mkdir()
    data.mkdir()
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    agentkit = Path(sys.executable).parent / "agentkit"
    env = {
        "AGENTKIT_DATA_DIR": str(data),
        "AGENTKIT_WORKSPACE": str(workspace),
        "AGENTKIT_TEMPERATURE": "0",
        "AGENTKIT_SEED": "7",
        "AGENTKIT_MAX_TOKENS": "96",
        "AGENTKIT_CONFIG": "",
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={v!s}" for k, v in env.items() if v)
    command = (
        f"cd {tmp_path} && env -u AGENTKIT_CONFIG -u COLUMNS -u LINES {exports} {agentkit} chat --no-plan "
        f"--tools write_file --policy {policy}; sleep 5"
    )
    session = f"agentkit-tui-{uuid.uuid4().hex[:8]}"
    tmux("new-session", "-d", "-s", session, "-x", str(WIDTH), "-y", str(HEIGHT), command)
    subprocess.run(
        ["tmux", "resize-window", "-t", session, "-x", str(WIDTH), "-y", str(HEIGHT)],
        capture_output=True,
        timeout=30,
    )
    try:
        yield session, workspace
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=30)


def test_message_and_approval_round_trip(chat_session: tuple[str, Path]) -> None:
    session, workspace = chat_session
    wait_for(session, " idle ", 180)  # model loaded, new thread open
    tmux("send-keys", "-t", session, "Write the text hello to the file hello.txt", "Enter")
    wait_for(session, "Write the text hello", 30)  # the message is in the conversation
    prompt = wait_for(session, "Approve tool call", 600)
    assert "write_file" in prompt and "side effects: write" in prompt
    assert not any(workspace.iterdir()), "nothing is written before approval"
    capture = os.environ.get("AGENTKIT_TUI_CAPTURE")
    if capture:
        Path(capture).write_text(prompt)
    tmux("send-keys", "-t", session, "y")
    after = wait_for(session, "write_file · ok", 120)
    written = [p for p in workspace.rglob("*") if p.is_file()]
    assert written, f"the approved write left no file; screen:\n{after}"
    tmux("send-keys", "-t", session, "C-q")
