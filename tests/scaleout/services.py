"""Real scale-out services on loopback, started and stopped by the tests (and
the load benchmark): a throwaway Postgres cluster, ``chroma run`` and
llama-cpp-python's OpenAI-compatible server.

Each ``start_*`` returns a :class:`Service` or raises :class:`Unavailable`
with the reason (not installed, would not start), which the tests turn into a
skip, except in CI (``CI`` set), where a missing service is a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent
PG_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


class Unavailable(Exception):
    """The service cannot run on this machine; the message says why."""


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    log: Path | None = None
    stop_fn: Callable[[], None] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.stop_fn is not None:
            self.stop_fn()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, chars: int = 2000) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-chars:]


def continuation(prompt: str, reply: str) -> str:
    """What a scripted completions server should send so that ``reply`` is the
    whole answer: the chat model may already have put the reply's fixed start
    (e.g. ``<tool_call>{"name": "``) at the end of the prompt."""
    for k in range(min(len(prompt), len(reply)), 0, -1):
        if prompt.endswith(reply[:k]):
            return reply[k:]
    return reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(
                f"{url} exited at start ({process.returncode}): {log.read_text(errors='replace')[-800:]}"
            )
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise Unavailable(
        f"{url} did not come up in {timeout:.0f} s: {log.read_text(errors='replace')[-800:]}"
    )


def _serving(service: Service, path: str, timeout: float) -> Service:
    """``service`` once ``service.url + path`` answers; stopped (and its
    workdir removed) if it never does."""
    assert service.process is not None and service.log is not None
    try:
        _wait_http(f"{service.url}{path}", service.process, service.log, timeout)
    except Unavailable:
        service.stop()
        raise
    return service


# --- Postgres ------------------------------------------------------------------------------


def _pg_tool(name: str) -> str | None:
    for directory in PG_DIRS:
        if (directory / name).is_file():
            return str(directory / name)
    return shutil.which(name)


def start_postgres() -> Service:
    """A fresh cluster in a temp dir on a free loopback port, trust auth, user
    ``agentkit``. initdb refuses to run as root, so as root the cluster is
    created and run as the ``postgres`` system user (Debian's package adds it)."""
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if not initdb or not pg_ctl:
        raise Unavailable("Postgres is not installed (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
        from langgraph.checkpoint.postgres import PostgresSaver  # noqa: F401
    except ImportError as err:
        raise Unavailable(
            f"the Postgres saver is not installed ({err.name}); pip install -e '.[scale]'"
        ) from None
    prefix: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="agentkit-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = None
        if runuser is None or owner is None:
            shutil.rmtree(workdir, ignore_errors=True)
            raise Unavailable("running as root without a postgres user to run the cluster as")
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
        os.chmod(workdir, 0o700)
        prefix = [runuser, "-u", "postgres", "--"]
    data, log = workdir / "data", workdir / "postgres.log"
    port = free_port()
    env = {**os.environ, "LC_ALL": "C"}
    done = subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(data),
            "-U",
            "agentkit",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
    )
    if done.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise Unavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
    options = f"-h 127.0.0.1 -p {port} -k {workdir} -c fsync=off -c max_connections=60"
    started = subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
    )
    if started.returncode != 0:
        tail = log.read_text(errors="replace")[-500:] if log.exists() else started.stderr
        shutil.rmtree(workdir, ignore_errors=True)
        raise Unavailable(f"postgres did not start: {tail}")

    def stop() -> None:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            env=env,
            cwd=workdir,
        )

    dsn = f"postgresql://agentkit@127.0.0.1:{port}/postgres"
    return Service("postgres", dsn, workdir=workdir, log=log, stop_fn=stop)


# --- Chroma --------------------------------------------------------------------------------


def start_chroma() -> Service:
    chroma = VENV_BIN / "chroma"
    if not chroma.is_file():
        found = shutil.which("chroma")
        if found is None:
            raise Unavailable("the chroma CLI is not installed (pip install chromadb)")
        chroma = Path(found)
    workdir = Path(tempfile.mkdtemp(prefix="agentkit-chroma-"))
    log = workdir / "chroma.log"
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(workdir / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return _serving(
        Service("chroma", f"http://127.0.0.1:{port}", process, workdir, log),
        "/api/v2/heartbeat",
        60,
    )


# --- llama.cpp servers ---------------------------------------------------------------------


def start_llama_server(
    model_path: Path, *, embedding: bool = False, n_ctx: int = 4096, threads: int = 2
) -> Service:
    """``python -m agentkit.models.llama_server`` (llama_cpp.server plus
    agentkit's AMX workaround) with the flags docs/deploy.md gives."""
    try:
        import fastapi  # noqa: F401
        import sse_starlette  # noqa: F401
        import starlette_context  # noqa: F401
    except ImportError as err:
        raise Unavailable(
            f"llama-cpp-python[server] is not installed ({err.name}); pip install -e '.[scale]'"
        ) from None
    workdir = Path(tempfile.mkdtemp(prefix="agentkit-llama-"))
    log = workdir / "server.log"
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "agentkit.models.llama_server",
        "--model",
        str(model_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--logits_all",
        "false",
        "--interrupt_requests",
        "false",
        "--verbose",
        "false",
    ]
    if embedding:
        # encoder models: one batch = one sequence window; n_ubatch must equal n_batch
        args += ["--embedding", "true", "--n_ctx", "512", "--n_batch", "512", "--n_ubatch", "512"]
    else:
        args += ["--n_ctx", str(n_ctx)]
    env = {**os.environ, "OMP_WAIT_POLICY": "passive"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return _serving(
        Service("llama-server", f"http://127.0.0.1:{port}/v1", process, workdir, log),
        "/models",
        120,
    )
