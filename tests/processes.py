"""Real processes for the tests, all on 127.0.0.1, started and stopped by PID with bounded waits:
a throwaway ``redis-server`` (session fixture ``redis_server``) and uvicorn app processes
(:class:`UvicornProcess`). Loaded as a pytest plugin by ``tests/conftest.py``.

Missing tools fail the tests, never skip them (``make redis-server`` installs the Debian package).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

TESTS = Path(__file__).resolve().parent
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes], *, group: bool = False) -> None:
    """SIGTERM by PID (or its own process group), then SIGKILL; bounded waits."""
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    if group:
        # uvicorn's worker processes are in the group: none may outlive the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.stdout is not None:
        proc.stdout.close()


# --- redis-server ---------------------------------------------------------------------------------


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A throwaway redis-server on 127.0.0.1, no persistence, stopped by PID."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: run `make redis-server` (Debian redis-server)")
        self.binary = binary
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        for _attempt in range(3):  # the probed port may be taken before redis binds it
            self.port = free_port()
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--daemonize", "no",
                 "--loglevel", "warning"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
            deadline = time.monotonic() + 10
            while self.proc.poll() is None and time.monotonic() < deadline:
                if _ping(self.port):
                    return self
                time.sleep(0.05)
            self.stop()
        pytest.fail("redis-server did not start within 10 s after 3 attempts")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            _stop(proc)

    def url(self) -> str:
        """A URL with a key prefix of its own: tests never see each other's keys."""
        return f"redis://127.0.0.1:{self.port}/0?prefix=t{uuid.uuid4().hex}:"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


# --- uvicorn processes ----------------------------------------------------------------------------


class UvicornProcess:
    """``uvicorn --factory MODULE:FACTORY`` from ``tests/`` in a process of its own (its own
    session, so that its workers are stopped with it), on a free 127.0.0.1 port. Ready once
    ``ready_path`` answered 200 from ``workers`` distinct processes (``ready_pid_header``)."""

    def __init__(
        self,
        factory: str,
        env: Mapping[str, str],
        *,
        workers: int = 1,
        ready_path: str = "/health",
        ready_pid_header: str = "x-seller-pid",
        extra_args: Sequence[str] = (),
    ) -> None:
        self.factory = factory
        self.env = {**os.environ, **env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        self.workers = workers
        self.ready_path = ready_path
        self.ready_pid_header = ready_pid_header
        self.extra_args = list(extra_args)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.pids: set[str] = set()
        self.log = Path(tempfile.mkstemp(prefix="uvicorn-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> UvicornProcess:
        for _attempt in range(3):  # the probed port may be taken before uvicorn binds it
            self.port = free_port()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", self.factory,
                 "--app-dir", str(TESTS), "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers), "--log-level", "warning",
                 "--timeout-graceful-shutdown", "5", *self.extra_args],
                env=self.env, stdin=subprocess.DEVNULL, stdout=self.log.open("wb"),
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            if self._wait_ready():
                return self
            output = self.output()
            self.stop()
            if "address already in use" not in output.lower():
                pytest.fail(f"uvicorn {self.factory} did not start: {output[-2000:]}")
        pytest.fail(f"uvicorn {self.factory} did not start after 3 attempts")

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                # A new connection each time: the kernel hands them to every worker in turn.
                r = httpx.get(self.url + self.ready_path, timeout=2, trust_env=False)
                if r.status_code == 200:
                    self.pids.add(r.headers.get(self.ready_pid_header, ""))
                    if len(self.pids) >= self.workers:
                        return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def output(self) -> str:
        """What the process printed so far (its log file)."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            _stop(proc, group=True)

    def __enter__(self) -> UvicornProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.log.unlink(missing_ok=True)
