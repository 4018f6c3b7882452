"""The ``shell`` tool: one bash command in the workspace.

- Environment: an allowlist (PATH, locale, TERM, TZ) plus HOME and TMPDIR set
  to a fresh temp directory; nothing else from the parent, so API keys and
  tokens never reach the command. Extra names can be passed through with
  ``shell_env_passthrough``, but secret-looking names are dropped even then.
- Time: the command runs in its own process group; at the timeout (and when
  the command exits, to reap anything it left in the background) the whole
  group is killed.
- Output: stdout and stderr, interleaved, capped in bytes while reading and
  then in lines and characters, with a truncation marker.
- Sandbox: with bubblewrap, the command sees the whole file system read-only,
  the workspace writable (agentkit's data inside it still read-only), a private
  /tmp, an empty home, no network and its own PID namespace.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from langchain_core.tools import ArgsSchema, ToolException
from pydantic import BaseModel, Field

from agentkit.tools.base import DangerLevel, SideEffect, ToolPreview
from agentkit.tools.declared import DeclaredTool
from agentkit.tools.limits import TRUNCATION_MARKER, ToolLimits, cap_text
from agentkit.tools.protected import PathTarget
from agentkit.tools.shell_danger import classify
from agentkit.tools.workspace import Workspace

SandboxMode = Literal["auto", "bwrap", "off"]

ENV_ALLOWLIST = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TERM", "TZ")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# Names that look like credentials never reach a command, even when listed.
SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|CERT|SIGNATURE)"
    r"|^(AWS|AZURE|GCP|GOOGLE|GCLOUD|OPENAI|ANTHROPIC|HF|HUGGING|GITHUB|GH|GITLAB|NPM|PYPI|DOCKER|KUBE|SSH|GPG|VAULT|DATABASE|PG|MYSQL|REDIS|SLACK|STRIPE|TWILIO|SENTRY)_",
    re.IGNORECASE,
)
KILL_GRACE_S = 1.0


def scrubbed_env(
    home: str, passthrough: Iterable[str] = (), parent: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a shell command gets: allowlisted names only."""
    source = os.environ if parent is None else parent
    env = {name: source[name] for name in ENV_ALLOWLIST if name in source}
    for name in passthrough:
        if name in source and not SECRET_NAME.search(name):
            env[name] = source[name]
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("LANG", "C.UTF-8")
    env["HOME"] = home
    env["TMPDIR"] = home
    return env


@functools.lru_cache(maxsize=1)
def bwrap_path() -> str | None:
    """bwrap's path if it is installed and can create a sandbox here (it needs
    user namespaces, which some containers forbid)."""
    found = shutil.which("bwrap")
    if found is None:
        return None
    try:
        probe = subprocess.run(
            [found, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if probe.returncode == 0 else None


def bwrap_unavailable_reason() -> str | None:
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    if bwrap_path() is None:
        return "bwrap is installed but cannot create a sandbox here (user namespaces off?)"
    return None


def sandbox_enabled(mode: SandboxMode) -> bool:
    if mode == "off":
        return False
    if mode == "bwrap":
        reason = bwrap_unavailable_reason()
        if reason:
            raise ToolException(f"shell: shell_sandbox = 'bwrap' but {reason}")
        return True
    return bwrap_path() is not None


def bwrap_argv(root: Path, home: str, protected: Iterable[Path]) -> list[str]:
    argv = [
        bwrap_path() or "bwrap",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
    ]
    real_home = Path.home()
    if str(real_home) not in ("/", "") and real_home.is_dir():
        argv += ["--tmpfs", str(real_home)]  # hide ~/.ssh, ~/.aws and friends
    argv += ["--bind", str(root), str(root), "--bind", home, home]
    for path in protected:
        if path.exists() and path.is_relative_to(root):
            argv += ["--ro-bind", str(path), str(path)]
    argv += ["--unshare-all", "--die-with-parent", "--new-session", "--chdir", str(root)]
    return argv


@dataclass
class ShellResult:
    exit_code: int | None
    output: str
    timed_out: bool
    dropped_bytes: int
    duration_s: float
    sandboxed: bool


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


RUN_TAG = "AGENTKIT_SHELL_RUN"


def _kill_tagged(tag: str) -> int:
    """SIGKILL every process whose environment carries ``RUN_TAG=tag``: the
    ones that left the process group with setsid still inherit it. Returns
    how many were signalled (Linux /proc; elsewhere nothing)."""
    needle = f"{RUN_TAG}={tag}".encode()
    killed = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    me = os.getpid()
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle not in handle.read().split(b"\0"):
                    continue
            os.kill(int(entry), signal.SIGKILL)
            killed += 1
        except (OSError, ProcessLookupError):
            continue
    return killed


def run_command(
    command: str,
    ws: Workspace,
    limits: ToolLimits,
    *,
    sandbox: bool = False,
    passthrough: Iterable[str] = (),
    timeout_s: float | None = None,
) -> ShellResult:
    """Run ``command`` with bash in the workspace under the limits."""
    timeout = timeout_s if timeout_s is not None else limits.timeout_s
    max_bytes = limits.max_chars * 4
    start = time.monotonic()
    home = tempfile.mkdtemp(prefix="agentkit-home-")
    try:
        env = scrubbed_env(home, passthrough)
        tag = secrets.token_hex(8)
        env[RUN_TAG] = tag
        argv = ["bash", "--noprofile", "--norc", "-c", command]
        if sandbox:
            argv = bwrap_argv(ws.root, home, ws.protected) + [
                "--",
                "/bin/bash",
                "--noprofile",
                "--norc",
                "-c",
                command,
            ]
        proc = subprocess.Popen(
            argv,
            cwd=ws.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
        assert proc.stdout is not None
        chunks: list[bytes] = []
        kept = dropped = 0
        timed_out = False
        exited_at: float | None = None
        deadline = start + timeout
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    _kill_group(proc, signal.SIGTERM)
                    try:
                        proc.wait(KILL_GRACE_S)
                    except subprocess.TimeoutExpired:
                        pass
                    _kill_group(proc, signal.SIGKILL)
                    break
                events = selector.select(timeout=min(remaining, 0.1))
                if events:
                    try:
                        data = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        break  # every writer closed the pipe
                    take = max(0, min(len(data), max_bytes - kept))
                    if take:
                        chunks.append(data[:take])
                        kept += take
                    dropped += len(data) - take
                elif proc.poll() is not None:
                    # the command is done; stragglers in its group would keep
                    # the pipe open forever, so they go too
                    _kill_group(proc, signal.SIGKILL)
                    if exited_at is None:
                        exited_at = time.monotonic()
                    elif time.monotonic() - exited_at > KILL_GRACE_S:
                        break  # a process outside the group still holds the pipe
            # collect what is still buffered without blocking
            try:
                while data := os.read(fd, 65536):
                    take = max(0, min(len(data), max_bytes - kept))
                    chunks.append(data[:take])
                    kept += take
                    dropped += len(data) - take
            except (BlockingIOError, OSError):
                pass
        if not timed_out:
            # stdout closed; the command itself may still be finishing
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
        _kill_group(proc, signal.SIGKILL)
        if not sandbox:  # inside bwrap the PID namespace dies with it
            _kill_tagged(tag)
        try:
            exit_code = proc.wait(KILL_GRACE_S * 5)
        except subprocess.TimeoutExpired:
            exit_code = None
        proc.stdout.close()
        output = b"".join(chunks).decode("utf-8", errors="replace")
        return ShellResult(
            exit_code=None if timed_out else exit_code,
            output=output,
            timed_out=timed_out,
            dropped_bytes=dropped,
            duration_s=time.monotonic() - start,
            sandboxed=sandbox,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def format_result(result: ShellResult, limits: ToolLimits, timeout: float) -> str:
    text = result.output
    hint = "redirect output to a file and read parts of it"
    if result.dropped_bytes:
        hint = f"{result.dropped_bytes} more bytes of output were discarded; {hint}"
        capped = cap_text(text, limits, hint=hint)
        if capped == text:  # under the line/char caps but over the byte cap
            capped = text.rstrip("\n") + f"\n{TRUNCATION_MARKER} {hint}]"
        body = capped
    else:
        body = cap_text(text, limits, hint=hint) if text else "(no output)"
    if result.timed_out:
        return f"timed out after {timeout:g}s; the command's process group was killed\n{body}"
    return f"exit code {result.exit_code}\n{body}"


class ShellArgs(BaseModel):
    command: str = Field(description="A bash command line, run in the workspace root.")


class Shell(DeclaredTool):
    """The ``shell`` tool: one bash command in the workspace root."""

    name: str = "shell"
    description: str = "Run a bash command in the workspace root and return its exit code and output (stdout+stderr)."
    args_schema: ArgsSchema | None = ShellArgs
    side_effects: ClassVar[tuple[SideEffect, ...]] = ("exec",)
    shows_content: ClassVar[bool] = True  # see untrusted()
    ws: Workspace = Field(exclude=True)
    limits: ToolLimits = Field(exclude=True)
    sandbox: SandboxMode = "auto"
    passthrough: tuple[str, ...] = ()

    def execute(self, command: str) -> str:
        if not command.strip():
            raise ToolException("shell: empty command")
        result = run_command(
            command,
            self.ws,
            self.limits,
            sandbox=sandbox_enabled(self.sandbox),
            passthrough=self.passthrough,
        )
        text = format_result(result, self.limits, self.limits.timeout_s)
        if result.timed_out:
            raise ToolException(text)
        return text

    def danger(self, args: Mapping[str, Any]) -> DangerLevel:
        return classify(str(args.get("command", "")), self.ws.root).level

    def targets(self, args: Mapping[str, Any]) -> list[PathTarget]:
        """The files the command writes, as far as the parser can tell."""
        writes = classify(str(args.get("command", "")), self.ws.root).writes
        return [self.ws.target(path, arg="command", write=True) for path in dict.fromkeys(writes)]

    def untrusted(self, args: Mapping[str, Any], trusted_text: str) -> bool:
        """Output of a command the user did not write themselves may carry
        someone else's words (a file, a page, a log)."""
        command = " ".join(str(args.get("command", "")).split())
        return not command or command not in " ".join(trusted_text.split())

    def preview(self, args: Mapping[str, Any]) -> ToolPreview:
        command = str(args.get("command", ""))
        root = self.ws.root
        assessment = classify(command, root)
        try:
            boxed = sandbox_enabled(self.sandbox)
        except ToolException:
            boxed = False
        where = (
            "bwrap sandbox (network off, only the workspace writable)" if boxed else "no sandbox"
        )
        lines = [f"$ {command}", f"cwd: {root}", f"danger: {assessment.level}"]
        lines += [f"  - {reason}" for reason in assessment.reasons]
        for path in dict.fromkeys(assessment.writes):  # where it differs or matters
            target = self.ws.target(path, write=True)
            if target.protected:
                lines.append(f"writes: {target.shown()} (protected: {target.protected})")
            elif target.redirected:
                lines.append(f"writes: {target.shown()}")
        lines.append(f"runs in: {where}; timeout {self.limits.timeout_s:g}s")
        return ToolPreview(
            kind="command",
            summary=f"shell [{assessment.level}]: {command if len(command) <= 60 else command[:57] + '...'}",
            body="\n".join(lines),
            danger=assessment.level,
            cwd=str(root),
        )


def shell_tool(
    ws: Workspace,
    limits: ToolLimits,
    *,
    sandbox: SandboxMode = "auto",
    passthrough: Iterable[str] = (),
) -> Shell:
    """The ``shell`` tool bound to ``ws``."""
    return Shell(ws=ws, limits=limits, sandbox=sandbox, passthrough=tuple(passthrough))
