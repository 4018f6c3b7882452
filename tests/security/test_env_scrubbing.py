"""Attack surface: the parent's environment. Shell commands see only an
allowlist; secrets never reach them, even when passed through by name. The
bubblewrap sandbox (where available) also cuts the network and makes all but
the workspace read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit.tools.limits import ToolLimits
from agentkit.tools.shell import (
    bwrap_unavailable_reason,
    run_command,
    scrubbed_env,
)
from agentkit.tools.workspace import Workspace

SECRETS = {
    "OPENAI_API_KEY": "sk-leak-1",
    "ANTHROPIC_API_KEY": "sk-leak-2",
    "AWS_SECRET_ACCESS_KEY": "aws-leak",
    "AWS_ACCESS_KEY_ID": "aws-id-leak",
    "GITHUB_TOKEN": "ghp-leak",
    "HF_TOKEN": "hf-leak",
    "MY_SERVICE_PASSWORD": "pw-leak",
    "DATABASE_URL": "postgres://u:pw-leak@db/x",
    "SESSION_COOKIE": "cookie-leak",
    "AGENTKIT_SECRET_SAUCE": "agentkit-leak",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock",
}


@pytest.fixture
def leaky_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HARMLESS_SETTING", "visible")


def test_scrubbed_env_is_an_allowlist(leaky_env: None) -> None:
    env = scrubbed_env("/tmp/home-x")
    assert set(env) <= {
        "PATH",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_CTYPE",
        "LC_MESSAGES",
        "TERM",
        "TZ",
        "HOME",
        "TMPDIR",
    }
    assert env["HOME"] == "/tmp/home-x"
    assert "HARMLESS_SETTING" not in env


def test_passthrough_never_lets_secrets_through(leaky_env: None) -> None:
    env = scrubbed_env("/tmp/h", passthrough=["HARMLESS_SETTING", *SECRETS])
    assert env["HARMLESS_SETTING"] == "visible"
    for name in SECRETS:
        assert name not in env, name


@pytest.mark.parametrize(
    "command", ["env", "printenv", "set", "export -p", "cat /proc/self/environ | tr '\\0' '\\n'"]
)
def test_shell_command_sees_no_secrets(command: str, leaky_env: None, tmp_path: Path) -> None:
    result = run_command(command, Workspace(tmp_path), ToolLimits(), passthrough=list(SECRETS))
    assert result.exit_code == 0
    for name, value in SECRETS.items():
        assert value not in result.output, name
    assert "HARMLESS_SETTING" not in result.output


def test_home_is_a_fresh_temp_dir(tmp_path: Path) -> None:
    result = run_command("echo $HOME; ls -A $HOME | wc -l", Workspace(tmp_path), ToolLimits())
    home, count = result.output.split()
    assert home != str(Path.home()) and "agentkit-home-" in home
    assert count == "0"
    assert not Path(home).exists()  # removed after the call


needs_bwrap = pytest.mark.skipif(
    bwrap_unavailable_reason() is not None, reason=f"sandbox tests: {bwrap_unavailable_reason()}"
)


@needs_bwrap
def test_sandbox_scrubs_env_and_cuts_network(leaky_env: None, tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    result = run_command(
        "env; python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), timeout=2)' 2>&1 | tail -1",
        ws,
        ToolLimits(),
        sandbox=True,
    )
    for value in SECRETS.values():
        assert value not in result.output
    assert "Network is unreachable" in result.output or "Errno" in result.output


@needs_bwrap
def test_sandbox_only_workspace_writable(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    data = proj / ".agentkit"
    data.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    ws = Workspace(proj, protected=[data])
    result = run_command(
        f"echo ok > inside.txt && echo bad > {outside}; echo bad > .agentkit/db; echo bad > /etc/agentkit-test; cat inside.txt",
        ws,
        ToolLimits(),
        sandbox=True,
    )
    assert (proj / "inside.txt").read_text() == "ok\n"
    assert not outside.exists()
    assert not (data / "db").exists()
    assert not Path("/etc/agentkit-test").exists()
    assert result.output.count("Read-only file system") >= 2


@needs_bwrap
def test_sandbox_hides_real_home(tmp_path: Path) -> None:
    home = Path.home()
    if not home.is_dir() or not any(home.iterdir()):
        pytest.skip("the real home directory is empty; nothing to hide")
    result = run_command(f"ls -A {home} | wc -l", Workspace(tmp_path), ToolLimits(), sandbox=True)
    assert result.output.strip() == "0"
