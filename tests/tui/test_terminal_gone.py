"""A chat whose terminal is closed ends, even when its parent holds the hangup.

`make chat` is how the README starts the app. When its terminal goes away
(tmux kill-session, a dropped ssh), make catches SIGHUP and waits for its child
instead of passing it on, so the app only sees its input hang up. It used to
keep running, spinning on the dead terminal.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agentkit.tui.app import AgentkitApp
from agentkit.tui.terminal import TERMINAL_GONE

from .test_tmux import tmux, wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("make") is None,
    reason="needs tmux and make (.ci/run installs them)",
)


def chat_processes(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, timeout=30)
    return found.stdout.split()


def test_closed_terminal_ends_make_chat(tmp_path: Path) -> None:
    agentkit = Path(sys.executable).parent / "agentkit"
    data = tmp_path / f"data-{uuid.uuid4().hex[:8]}"  # unique: finds this test's process
    data.mkdir()
    # No model is loaded: a missing model is shown inside the app, which stays up.
    (tmp_path / "Makefile").write_text(
        f"chat:\n\t{agentkit} chat --no-memory --model {tmp_path}/missing.gguf"
        f" --data-dir {data} --workspace {tmp_path}\n"
    )
    session = f"agentkit-hup-{uuid.uuid4().hex[:8]}"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", f"make -C {tmp_path} chat")
    try:
        wait_for(session, "Quit", 120)
        assert chat_processes(str(data)), "the chat did not start"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=30)
    deadline = time.monotonic() + 20
    while chat_processes(str(data)) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = chat_processes(str(data))
    for pid in left:  # do not leave it spinning on the test machine
        subprocess.run(["kill", "-9", pid], capture_output=True, timeout=30)
    assert not left, "agentkit chat kept running after its terminal was closed"


async def test_the_app_exits_when_its_terminal_goes_away(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("agentkit.tui.app.stdin_is_terminal", lambda: True)
    app = AgentkitApp(startup_error="no model (pass --model)")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.exit_if_terminal_gone()  # the terminal is still there: nothing happens
        await pilot.pause()
        assert app.is_running
        monkeypatch.setattr("agentkit.tui.app.stdin_is_terminal", lambda: False)
        app.exit_if_terminal_gone()
        await pilot.pause()
    assert app.return_code == TERMINAL_GONE
