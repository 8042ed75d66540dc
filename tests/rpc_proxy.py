"""A JSON-RPC proxy on 127.0.0.1 that forwards to a real node and injects faults.

Only for faults a real node cannot be made to produce on demand: an answer lost after the
node accepted a transaction, receipts hidden for a while, a node that stops answering.
Everything else is forwarded unchanged to the real anvil behind it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Faults:
    """What the proxy does wrong (all off by default)."""

    # Forward eth_sendRawTransaction, then hold the answer this long (past the client's timeout).
    hold_send_answer: float = 0.0
    # Answer null to eth_getTransactionReceipt / eth_getTransactionByHash.
    hide_receipts: bool = False
    # Accept connections but never answer anything (up to this many seconds).
    hang: float = 0.0
    # Swallow this many eth_sendRawTransaction requests: never forwarded, never answered (the
    # connection is held this long, past the client's timeout): an unclear send that never
    # reached the node.
    swallow_sends: int = 0
    swallow_for: float = 1.5
    # Refuse eth_getLogs over more blocks than this, as hosted providers do (0: no cap).
    max_log_range: int = 0
    # Methods seen, in order.
    seen: list[str] = field(default_factory=list)


class RpcProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults = Faults()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                answer = proxy._handle(body)
                if answer is None:
                    self.close_connection = True
                    return
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up (timed out) first: expected here
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RpcProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _forward(self, body: bytes) -> bytes:
        request = urllib.request.Request(
            self.upstream, data=body, headers={"content-type": "application/json"}
        )
        with _NO_PROXY.open(request, timeout=10) as response:
            return bytes(response.read())

    def _handle(self, body: bytes) -> bytes | None:
        f = self.faults
        try:
            request = json.loads(body)
            method = request.get("method", "") if isinstance(request, dict) else ""
        except ValueError:
            method = ""
        f.seen.append(method)
        if f.hang > 0:
            time.sleep(f.hang)
            return None
        if f.hide_receipts and method in (
            "eth_getTransactionReceipt",
            "eth_getTransactionByHash",
        ):
            return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": None}).encode()
        if method == "eth_sendRawTransaction" and f.swallow_sends > 0:
            f.swallow_sends -= 1
            time.sleep(f.swallow_for)
            return None
        if method == "eth_getLogs" and f.max_log_range > 0:
            span = _log_span(request["params"][0])
            if span is None or span > f.max_log_range:
                return json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": request["id"],
                        "error": {
                            "code": -32005,
                            "message": f"query exceeds max block range {f.max_log_range}",
                        },
                    }
                ).encode()
        answer = self._forward(body)
        if method == "eth_sendRawTransaction" and f.hold_send_answer > 0:
            time.sleep(f.hold_send_answer)
        return answer


def _log_span(query: dict[str, Any]) -> int | None:
    """Blocks an eth_getLogs query covers; None for a tag such as "latest" (unbounded here)."""
    try:
        return int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
    except (KeyError, ValueError, TypeError):
        return None
