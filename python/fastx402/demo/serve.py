"""An ASGI app under uvicorn on a free 127.0.0.1 port, in a thread of this process; stopped
and joined on exit (no process to leak, the port is closed with the socket)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from fastx402.demo.errors import DemoError

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0


@contextlib.contextmanager
def serving(app: Any, name: str) -> Iterator[str]:
    """Serves ``app``; yields its base URL (``http://127.0.0.1:PORT``)."""
    # IPPROTO_TCP: asyncio then sets TCP_NODELAY on accepted sockets (no delayed-ACK stalls).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="error", lifespan="on", timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"demo-{name}", daemon=True
        )
        thread.start()
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not server.started:
                if not thread.is_alive():
                    raise DemoError(f"the {name} did not start")
                if time.monotonic() > deadline:
                    raise DemoError(f"the {name} did not start within {STARTUP_TIMEOUT:.0f} s")
                time.sleep(0.02)
            yield url
        finally:
            server.should_exit = True
            thread.join(timeout=SHUTDOWN_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout=SHUTDOWN_TIMEOUT)
    finally:
        sock.close()
