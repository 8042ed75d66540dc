"""fastx402's facilitator HTTP service under a real uvicorn, on the session anvil with TestUSDC.

The service (``create_app(Facilitator(...))``) listens on 127.0.0.1 on a free port in a
background thread. It is driven by httpx and by the **official x402 SDK's HTTP facilitator
client** (``x402.http.HTTPFacilitatorClientSync`` / ``HTTPFacilitatorClient``), so the requests
that reach it are the ones the official resource servers send. Every settlement is checked on
chain (receipt, balances, the facilitator's transaction count).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from x402.http import FacilitatorConfig, HTTPFacilitatorClient, HTTPFacilitatorClientSync
from x402.server_base import is_retryable_settlement_pending, settle_with_pending_retry

import fastx402
from chain import NETWORK, Anvil, Token
from fastx402 import Facilitator, PaymentPayload, PaymentRequirements, PrivateKey
from fastx402.facilitator import create_app
from official_facilitator import (
    official_client_payment,
    official_v1_network,
    sdk_payment,
    sdk_requirements,
    wire,
)
from rpc_proxy import RpcProxy

AMOUNT = 10_000  # 0.01 USDC
FUNDS = 1_000_000
MAX_TIMEOUT = 60
RESOURCE = "http://127.0.0.1/paid"
TX_HASH = re.compile(r"0x[0-9a-f]{64}")
# A v1 name for chain 31337 (neither fastx402 nor the SDK knows one by default). fastx402's
# registry is process-wide and holds one v1 name per chain: the same name as
# tests/test_interop_official_facilitator.py, so that either test may register it first.
V1_NAME = "anvil-x402-interop"
STARTUP_TIMEOUT = 10.0
HTTP_TIMEOUT = 30.0


# --- the service ----------------------------------------------------------------------------------


@dataclass
class Service:
    url: str
    facilitator: Facilitator
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def address(self) -> str:
        return self.facilitator.address

    def official(self) -> HTTPFacilitatorClientSync:
        return HTTPFacilitatorClientSync(FacilitatorConfig(url=self.url, timeout=HTTP_TIMEOUT))

    def official_async(self) -> HTTPFacilitatorClient:
        return HTTPFacilitatorClient(FacilitatorConfig(url=self.url, timeout=HTTP_TIMEOUT))


def _listening_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, handed to uvicorn (no probe-then-bind race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_until_serving(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while True:
            if not thread.is_alive():
                raise RuntimeError("the uvicorn thread exited during start-up")
            try:
                if client.get(f"{url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the service did not answer on {url} in {STARTUP_TIMEOUT} s")
            time.sleep(0.05)


class _Errors(logging.Handler):
    """Collects ERROR records of the server's loggers (an unhandled exception is one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [self.format(r) for r in self.records]


SERVER_LOGGERS = ("uvicorn.error", "uvicorn", "fastx402.facilitator", "fastapi")


@contextlib.contextmanager
def serve(facilitator: Facilitator, **app_options: Any) -> Iterator[Service]:
    """``create_app(facilitator)`` under uvicorn in a thread; stopped and joined on exit."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(facilitator, **app_options),
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)  # signal handlers: only in the main thread, so none here
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, thread)
        yield Service(url, facilitator, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop within 10 s"


def funded_key(anvil: Anvil) -> PrivateKey:
    """A fresh key holding 100 ETH (a facilitator per service: no shared sender nonce)."""
    key = PrivateKey.generate()
    anvil.rpc.call("anvil_setBalance", key.address, hex(100 * 10**18))
    return key


@pytest.fixture(scope="module")
def server_errors() -> Iterator[_Errors]:
    handler = _Errors()
    for name in SERVER_LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in SERVER_LOGGERS:
            logging.getLogger(name).removeHandler(handler)


@pytest.fixture(scope="module")
def service(anvil: Anvil, server_errors: _Errors) -> Iterator[Service]:
    facilitator = Facilitator(
        anvil.url, NETWORK, funded_key(anvil), poll_interval=0.02, receipt_timeout=20.0
    )
    with serve(facilitator) as running:
        yield running
    assert server_errors.messages() == []


@pytest.fixture
def http(service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=HTTP_TIMEOUT, trust_env=False) as client:
        yield client


# --- payments -------------------------------------------------------------------------------------


def requirements(usdc: Token, pay_to: str, *, version: int = 2) -> dict[str, Any]:
    if version == 2:
        return {
            "scheme": "exact",
            "network": NETWORK,
            "asset": usdc.address,
            "amount": str(AMOUNT),
            "payTo": pay_to,
            "maxTimeoutSeconds": MAX_TIMEOUT,
            "extra": usdc.extra,
        }
    return {
        "scheme": "exact",
        "network": V1_NAME,
        "maxAmountRequired": str(AMOUNT),
        "resource": RESOURCE,
        "description": "paid resource",
        "mimeType": "application/json",
        "payTo": pay_to,
        "maxTimeoutSeconds": MAX_TIMEOUT,
        "asset": usdc.address,
        "extra": usdc.extra,
    }


def payment_required(reqs: dict[str, Any], *, version: int = 2) -> dict[str, Any]:
    if version == 2:
        return {
            "x402Version": 2,
            "error": "Payment required",
            "resource": {"url": RESOURCE, "mimeType": "application/json"},
            "accepts": [reqs],
        }
    return {"x402Version": 1, "error": "X-PAYMENT header is required", "accepts": [reqs]}


def payer_with(usdc: Token, funds: int = FUNDS) -> tuple[PrivateKey, str]:
    """A fresh payer holding ``funds`` TestUSDC, and its key as hex (for the SDK client)."""
    raw = secrets.token_bytes(32)
    payer = PrivateKey(raw)
    if funds:
        usdc.mint(payer.address, funds)
    return payer, "0x" + raw.hex()


def fresh_address() -> str:
    return PrivateKey.generate().address


def fastx402_payment(
    usdc: Token, payer: PrivateKey, pay_to: str, *, version: int = 2
) -> tuple[dict[str, Any], dict[str, Any]]:
    reqs = requirements(usdc, pay_to, version=version)
    paid = fastx402.create_payment(payment_required(reqs, version=version), payer)
    return paid.to_dict(), reqs


def body(payment: dict[str, Any], reqs: dict[str, Any]) -> dict[str, Any]:
    return {
        "x402Version": payment["x402Version"],
        "paymentPayload": payment,
        "paymentRequirements": reqs,
    }


def tx_count(anvil: Anvil, address: str) -> int:
    return int(anvil.rpc.call("eth_getTransactionCount", address, "latest"), 16)


def assert_mined_transfer(
    anvil: Anvil, usdc: Token, transaction: str, *, facilitator: str
) -> dict[str, Any]:
    assert TX_HASH.fullmatch(transaction), transaction
    receipt: dict[str, Any] = anvil.rpc.call("eth_getTransactionReceipt", transaction)
    assert receipt is not None and int(receipt["status"], 16) == 1
    assert fastx402.to_checksum_address(receipt["from"]) == facilitator
    assert fastx402.to_checksum_address(receipt["to"]) == usdc.address
    return receipt


# --- the official HTTP facilitator client against our service -------------------------------------


def test_official_client_reads_supported(service: Service) -> None:
    supported = service.official().get_supported()
    assert [(k.x402_version, k.scheme, str(k.network)) for k in supported.kinds] == [
        (2, "exact", NETWORK)
    ]
    assert supported.signers == {"eip155:*": [service.address]}


def test_fastx402_payment_verified_and_settled_through_official_http_client(
    anvil: Anvil, usdc: Token, service: Service
) -> None:
    payer, _ = payer_with(usdc)
    pay_to = fresh_address()
    payment, reqs = fastx402_payment(usdc, payer, pay_to)
    nonce = payment["payload"]["authorization"]["nonce"]
    payload, requirements_ = sdk_payment(payment), sdk_requirements(reqs)

    with service.official() as client:
        verdict = client.verify(payload, requirements_)
        assert verdict.is_valid, wire(verdict)
        assert verdict.payer == payer.address
        assert not usdc.authorization_state(payer.address, nonce)  # verify moves nothing

        settled = client.settle(payload, requirements_)
    assert settled.success, wire(settled)
    assert settled.error_reason is None
    assert (settled.payer, str(settled.network)) == (payer.address, NETWORK)
    assert_mined_transfer(anvil, usdc, settled.transaction, facilitator=service.address)
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == (FUNDS - AMOUNT, AMOUNT)
    assert usdc.authorization_state(payer.address, nonce)


def test_official_client_payment_settled_exactly_once_by_our_service(
    anvil: Anvil, usdc: Token, service: Service
) -> None:
    """The interop requirement: fastx402's facilitator settles payments made by the official
    client, sent by the official HTTP facilitator client; a second settle moves nothing."""
    payer, payer_hex = payer_with(usdc)
    pay_to = fresh_address()
    reqs = requirements(usdc, pay_to)
    payment = official_client_payment(payment_required(reqs), payer_hex)
    assert payment["payload"]["authorization"]["validAfter"] == "0"  # the SDK's choice
    payload, requirements_ = sdk_payment(payment), sdk_requirements(reqs)
    sent_before = tx_count(anvil, service.address)

    with service.official() as client:
        verdict = client.verify(payload, requirements_)
        assert verdict.is_valid, wire(verdict)
        assert verdict.payer == payer.address

        settled = client.settle(payload, requirements_)
        assert settled.success, wire(settled)
        assert settled.payer == payer.address
        assert_mined_transfer(anvil, usdc, settled.transaction, facilitator=service.address)
        balances = (usdc.balance_of(payer.address), usdc.balance_of(pay_to))
        assert balances == (FUNDS - AMOUNT, AMOUNT)

        again = client.settle(payload, requirements_)
        assert again.success, wire(again)
        assert again.transaction == settled.transaction
        used = client.verify(payload, requirements_)
        assert (used.is_valid, used.invalid_reason) == (
            False,
            "invalid_exact_evm_nonce_already_used",
        )
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == balances
    assert tx_count(anvil, service.address) == sent_before + 1


def test_official_async_client_settles_official_payment(
    anvil: Anvil, usdc: Token, service: Service
) -> None:
    payer, payer_hex = payer_with(usdc)
    pay_to = fresh_address()
    reqs = requirements(usdc, pay_to)
    # With the extension data an official resource server may declare (echoed by the client).
    offered = payment_required(reqs) | {
        "extensions": {"bazaar": {"info": {"input": {"type": "http", "method": "GET"}}}}
    }
    paid = official_client_payment(offered, payer_hex)
    assert "bazaar" in paid["extensions"]
    payload, requirements_ = sdk_payment(paid), sdk_requirements(reqs)

    async def run() -> Any:
        async with service.official_async() as client:
            verdict = await client.verify(payload, requirements_)
            assert verdict.is_valid, wire(verdict)
            return await client.settle(payload, requirements_)

    settled = asyncio.run(run())
    assert settled.success, wire(settled)
    assert_mined_transfer(anvil, usdc, settled.transaction, facilitator=service.address)
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == (FUNDS - AMOUNT, AMOUNT)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("value", "invalid_exact_evm_payload_authorization_value_mismatch"),
        ("recipient", "invalid_exact_evm_payload_recipient_mismatch"),
        ("signature", "invalid_exact_evm_payload_signature"),
        ("poor", "invalid_exact_evm_insufficient_balance"),
    ],
)
def test_invalid_payment_settle_is_a_typed_refusal_and_moves_nothing(
    anvil: Anvil, usdc: Token, service: Service, tamper: str, reason: str
) -> None:
    payer, payer_hex = payer_with(usdc, AMOUNT - 1 if tamper == "poor" else FUNDS)
    pay_to = fresh_address()
    reqs = requirements(usdc, pay_to)
    payment = official_client_payment(payment_required(reqs), payer_hex)
    auth = payment["payload"]["authorization"]
    if tamper == "value":
        auth["value"] = str(AMOUNT + 1)
    elif tamper == "recipient":
        auth["to"] = fresh_address()
    elif tamper == "signature":
        sig = bytearray.fromhex(payment["payload"]["signature"][2:])
        sig[10] ^= 1
        payment["payload"]["signature"] = "0x" + sig.hex()
    before = (usdc.balance_of(payer.address), tx_count(anvil, service.address))

    with service.official() as client:
        verdict = client.verify(sdk_payment(payment), sdk_requirements(reqs))
        settled = client.settle(sdk_payment(payment), sdk_requirements(reqs))
    assert (verdict.is_valid, verdict.invalid_reason) == (False, reason), wire(verdict)
    assert (settled.success, settled.error_reason) == (False, reason), wire(settled)
    assert settled.transaction == ""
    assert str(settled.network) == NETWORK
    after = (usdc.balance_of(payer.address), tx_count(anvil, service.address))
    assert after == before
    assert usdc.balance_of(pay_to) == 0
    assert not usdc.authorization_state(payer.address, auth["nonce"])


# --- v1 -------------------------------------------------------------------------------------------


def test_v1_bodies_verified_and_settled(anvil: Anvil, usdc: Token, service: Service) -> None:
    """v1 (network names) on chain 31337: fastx402 knows the name once registered; the SDK's
    HTTP client needs no chain table (it only posts), its v1 *signer* does (official_v1_network)."""
    fastx402.register_network(V1_NAME, anvil.chain_id)
    pay_to = fresh_address()
    reqs = requirements(usdc, pay_to, version=1)

    fx_payer, _ = payer_with(usdc)
    fx_payment, _ = fastx402_payment(usdc, fx_payer, pay_to, version=1)
    assert fx_payment["x402Version"] == 1 and fx_payment["network"] == V1_NAME
    with official_v1_network(V1_NAME, anvil.chain_id):
        sdk_payer, sdk_payer_hex = payer_with(usdc)
        sdk_paid = official_client_payment(
            payment_required(reqs, version=1), sdk_payer_hex, x402_version=1
        )
    assert sdk_paid["x402Version"] == 1

    with service.official() as client:
        for payer, payment in ((fx_payer, fx_payment), (sdk_payer, sdk_paid)):
            payload, requirements_ = sdk_payment(payment), sdk_requirements(reqs, 1)
            verdict = client.verify(payload, requirements_)
            assert verdict.is_valid, wire(verdict)
            settled = client.settle(payload, requirements_)
            assert settled.success, wire(settled)
            assert (settled.payer, str(settled.network)) == (payer.address, V1_NAME)
            assert_mined_transfer(anvil, usdc, settled.transaction, facilitator=service.address)
            assert usdc.balance_of(payer.address) == FUNDS - AMOUNT
            assert client.settle(payload, requirements_).transaction == settled.transaction
    assert usdc.balance_of(pay_to) == 2 * AMOUNT


# --- malformed input: typed 4xx, JSON bodies, never a 5xx -----------------------------------------


def _valid_body(usdc: Token) -> dict[str, Any]:
    payer, _ = payer_with(usdc, 0)
    payment, reqs = fastx402_payment(usdc, payer, fresh_address())
    return body(payment, reqs)


def _duplicate_key(usdc: Token) -> bytes:
    raw = json.dumps(_valid_body(usdc), separators=(",", ":"))
    return raw.replace('{"x402Version":2,', '{"x402Version":2,"x402Version":2,', 1).encode()


def _wrong_types(usdc: Token, where: str) -> bytes:
    b = _valid_body(usdc)
    if where == "version-string":
        b["x402Version"] = "2"
    elif where == "value-number":
        b["paymentPayload"]["payload"]["authorization"]["value"] = AMOUNT
    elif where == "amount-padded":
        b["paymentRequirements"]["amount"] = f" {AMOUNT} "
    elif where == "payload-list":
        b["paymentPayload"] = []
    elif where == "unknown-key":
        b["junk"] = 1
    return json.dumps(b).encode()


MALFORMED: dict[str, Callable[[Token], bytes]] = {
    "empty": lambda usdc: b"",
    "invalid-json": lambda usdc: b'{"x402Version":2,',
    "not-utf8": lambda usdc: b'{"x402Version":\xff}',
    "json-array": lambda usdc: b"[]",
    "json-null": lambda usdc: b"null",
    "deep-nesting": lambda usdc: b"[" * 5000 + b"]" * 5000,
    "version-3": lambda usdc: b'{"x402Version":3,"paymentPayload":{},"paymentRequirements":{}}',
    "duplicate-key": _duplicate_key,
    "version-string": lambda usdc: _wrong_types(usdc, "version-string"),
    "value-number": lambda usdc: _wrong_types(usdc, "value-number"),
    "amount-padded": lambda usdc: _wrong_types(usdc, "amount-padded"),
    "payload-list": lambda usdc: _wrong_types(usdc, "payload-list"),
    "unknown-key": lambda usdc: _wrong_types(usdc, "unknown-key"),
}


@pytest.mark.parametrize("route", ["verify", "settle"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_body_is_a_typed_400(
    usdc: Token, http: httpx.Client, route: str, case: str
) -> None:
    response = http.post(
        f"/{route}", content=MALFORMED[case](usdc), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert "Traceback" not in response.text
    if route == "verify":
        assert answer["isValid"] is False
        reason, message = answer["invalidReason"], answer["invalidMessage"]
    else:
        assert (answer["success"], answer["transaction"]) == (False, "")
        reason, message = answer["errorReason"], answer["errorMessage"]
    assert reason.startswith("invalid_"), answer
    assert message, answer


@pytest.mark.parametrize("route", ["verify", "settle"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_one_megabyte_body_is_413(http: httpx.Client, route: str, framing: str) -> None:
    big = b'{"x402Version":2,"pad":"' + b"a" * (1 << 20) + b'"}'

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must hold while streaming
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    content: Any = big if framing == "content-length" else chunks()
    response = http.post(f"/{route}", content=content)
    assert response.status_code == 413, response.text
    answer = response.json()
    key = "invalidReason" if route == "verify" else "errorReason"
    assert answer[key] == "invalid_payload"
    assert "bytes" in answer["error"]


def test_unknown_route_and_wrong_methods(http: httpx.Client) -> None:
    for method, path, status in [
        ("GET", "/nope", 404),
        ("POST", "/nope", 404),
        ("POST", "/verify/", 404),
        ("GET", "/verify", 405),
        ("GET", "/settle", 405),
        ("PUT", "/settle", 405),
        ("POST", "/supported", 405),
    ]:
        response = http.request(method, path)
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"] == "application/json", (method, path)
        assert isinstance(response.json()["detail"], str), (method, path)


def test_garbage_content_type_and_huge_declared_length(service: Service) -> None:
    """Raw HTTP: a Content-Length that is no number, and one of 10 GB, get answers, not 5xx."""
    port = int(service.url.rsplit(":", 1)[1])
    for length in (b"abc", b"10000000000"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(
                b"POST /settle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                b"Content-Length: " + length + b"\r\n\r\n{}"
            )
            conn.settimeout(5)
            head = conn.recv(65536).split(b"\r\n", 1)[0]
        status = int(head.split()[1])
        assert 400 <= status < 500, head


def _asgi_post(app: Any, route: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    """One POST straight into the ASGI app (no server in front to reject odd headers first):
    (status, JSON answer, any exception the app raised)."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/{route}",
        "raw_path": f"/{route}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raised: BaseException | None = None
    try:
        asyncio.run(app(scope, receive, send))
    except Exception as e:  # an unhandled error: the server would answer 500
        raised = e
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    status = start["status"] if start else 500
    return status, payload, raised


# (Content-Length value, expected status): malformed is a typed 400, too large a 413.
ODD_CONTENT_LENGTHS = [
    (b"abc", 400),
    (b"-1", 400),
    (b"1e3", 400),
    (b"+2", 400),
    (b"0x10", 400),
    (b"", 400),
    (b"\xb2", 400),  # latin-1 superscript two: str.isdigit() is True, int() refuses it
    (b"\xb9\xb2", 400),
    (b"10000000000", 413),
    (b"9" * 5000, 413),  # more digits than int() converts
    (b"0" * 5000 + b"2", 400),  # 2 bytes declared, as sent: the core's own 400 for "{}"
]


@pytest.mark.parametrize("route", ["verify", "settle"])
@pytest.mark.parametrize(
    ("length", "status"), ODD_CONTENT_LENGTHS, ids=[repr(v[:12]) for v, _ in ODD_CONTENT_LENGTHS]
)
def test_malformed_content_length_under_a_lenient_asgi_server_is_typed_4xx(
    route: str, length: bytes, status: int
) -> None:
    """uvicorn rejects these headers itself; another ASGI server may pass them through."""
    facilitator = Facilitator("http://127.0.0.1:9", NETWORK, PrivateKey.generate())
    app = create_app(facilitator, reconcile_interval=0)
    got, payload, raised = _asgi_post(
        app, route, [(b"content-type", b"application/json"), (b"content-length", length)], b"{}"
    )
    assert raised is None, repr(raised)
    assert got == status, payload
    answer = json.loads(payload)
    key = "invalidReason" if route == "verify" else "errorReason"
    assert answer[key].startswith("invalid_"), answer
    if status == 400:  # the core's typed 400 shape
        if route == "verify":
            assert answer["isValid"] is False and answer["invalidMessage"], answer
        else:
            assert (answer["success"], answer["transaction"]) == (False, ""), answer
            assert answer["errorMessage"] and answer["network"] == NETWORK, answer


def test_conflicting_content_lengths_are_a_typed_400() -> None:
    facilitator = Facilitator("http://127.0.0.1:9", NETWORK, PrivateKey.generate())
    app = create_app(facilitator, reconcile_interval=0)
    headers = [(b"content-length", b"2"), (b"content-length", b"3")]
    status, payload, raised = _asgi_post(app, "verify", headers, b"{}")
    assert (status, raised) == (400, None), payload
    assert json.loads(payload)["invalidMessage"] == "conflicting Content-Length headers"


# --- concurrency ----------------------------------------------------------------------------------


def test_twenty_concurrent_settles_of_one_payment_send_one_transaction(
    anvil: Anvil, usdc: Token, service: Service
) -> None:
    payer, payer_hex = payer_with(usdc)
    pay_to = fresh_address()
    reqs = requirements(usdc, pay_to)
    payload = sdk_payment(official_client_payment(payment_required(reqs), payer_hex))
    # Exactly the bytes the official client posts.
    request = {
        "x402Version": 2,
        "paymentPayload": payload.model_dump(by_alias=True, exclude_none=True),
        "paymentRequirements": sdk_requirements(reqs).model_dump(by_alias=True, exclude_none=True),
    }
    sent_before = tx_count(anvil, service.address)

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(
            base_url=service.url, timeout=HTTP_TIMEOUT, limits=limits, trust_env=False
        ) as client:
            return await asyncio.gather(*(client.post("/settle", json=request) for _ in range(20)))

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert all(a["success"] for a in answers), answers
    hashes = {a["transaction"] for a in answers}
    assert len(hashes) == 1, hashes
    assert_mined_transfer(anvil, usdc, hashes.pop(), facilitator=service.address)
    assert tx_count(anvil, service.address) == sent_before + 1
    assert (usdc.balance_of(payer.address), usdc.balance_of(pay_to)) == (FUNDS - AMOUNT, AMOUNT)


# --- outcome unknown over HTTP --------------------------------------------------------------------


@dataclass
class Stalled:
    """A service whose node took a settlement but whose answer and receipts are lost."""

    service: Service
    proxy: RpcProxy
    payload: Any
    requirements: Any
    request: dict[str, Any]
    payer: PrivateKey
    pay_to: str


@pytest.fixture
def stalled(anvil: Anvil, usdc: Token) -> Iterator[Stalled]:
    with RpcProxy(anvil.url) as proxy:
        facilitator = Facilitator(
            proxy.url,
            NETWORK,
            funded_key(anvil),
            poll_interval=0.02,
            rpc_timeout=0.5,
            receipt_timeout=0.5,
        )
        with serve(facilitator, reconcile_interval=0.2) as service:
            payer, payer_hex = payer_with(usdc)
            pay_to = fresh_address()
            reqs = requirements(usdc, pay_to)
            payload = sdk_payment(official_client_payment(payment_required(reqs), payer_hex))
            requirements_ = sdk_requirements(reqs)
            request = {
                "x402Version": 2,
                "paymentPayload": payload.model_dump(by_alias=True, exclude_none=True),
                "paymentRequirements": requirements_.model_dump(by_alias=True, exclude_none=True),
            }
            proxy.faults.hold_send_answer = 1.5
            proxy.faults.hide_receipts = True
            yield Stalled(service, proxy, payload, requirements_, request, payer, pay_to)


def test_outcome_unknown_is_never_a_plain_failure_and_is_reconciled_in_the_background(
    anvil: Anvil, usdc: Token, stalled: Stalled, server_errors: _Errors
) -> None:
    """Outcome unknown over HTTP: ``success:false`` **with** the broadcast transaction hash,
    kept pending; once the node heals, the app's background reconciler settles the record and
    a retry gets the one transaction, sent once."""
    service, proxy = stalled.service, stalled.proxy
    with httpx.Client(base_url=service.url, timeout=HTTP_TIMEOUT, trust_env=False) as c:
        pending = c.post("/settle", json=stalled.request)
        assert pending.status_code == 200, pending.text
        answer = pending.json()
        assert answer["success"] is False
        assert answer["errorReason"] == "settlement_pending"
        assert TX_HASH.fullmatch(answer["transaction"]), answer
        assert c.get("/health").json()["pending"] == 1
        # A retry while the node still hides everything: the same answer, nothing sent again.
        again = c.post("/settle", json=stalled.request)
        assert (again.status_code, again.json()["transaction"]) == (
            pending.status_code,
            answer["transaction"],
        )
        assert proxy.faults.seen.count("eth_sendRawTransaction") == 1

        proxy.faults = type(proxy.faults)()  # healed
        deadline = time.monotonic() + 10.0
        while c.get("/health").json()["pending"] != 0:
            assert time.monotonic() < deadline, "not reconciled within 10 s"
            time.sleep(0.1)
    with service.official() as client:
        settled = client.settle(stalled.payload, stalled.requirements)
    assert settled.success, wire(settled)
    assert settled.transaction == answer["transaction"]
    assert proxy.faults.seen.count("eth_sendRawTransaction") == 0
    assert_mined_transfer(anvil, usdc, settled.transaction, facilitator=service.address)
    balances = (usdc.balance_of(stalled.payer.address), usdc.balance_of(stalled.pay_to))
    assert balances == (FUNDS - AMOUNT, AMOUNT)
    assert server_errors.messages() == []


def test_outcome_unknown_speaks_the_official_settlement_pending(stalled: Stalled) -> None:
    """The official SDK (2.25) has a vocabulary for "broadcast, outcome unknown": HTTP **200**,
    ``success:false``, ``errorReason:"settlement_pending"``, ``transaction`` = the hash
    (``x402.mechanisms.evm.settle_receipt``); its resource server then resends the identical
    settle exactly once (``x402.server_base.settle_with_pending_retry``). Its HTTP facilitator
    client raises ``ValueError`` on any status but 200: the resource server
    (``x402HTTPResourceServer.process_settlement``) then reports a settlement failure whose
    ``transaction`` is empty and whose reason is the exception text; the hash is lost and the
    one automatic retry never happens. fastx402 answers exactly that way."""
    with stalled.service.official() as client:
        try:
            result = settle_with_pending_retry(client, stalled.payload, stalled.requirements)
        except ValueError as e:
            pytest.fail(f"the official HTTP client cannot read our pending answer: {e}")
    assert is_retryable_settlement_pending(result), wire(result)
    assert stalled.proxy.faults.seen.count("eth_sendRawTransaction") == 1


# --- the account behind the key -------------------------------------------------------------------


def test_health_names_the_signer(http: httpx.Client, service: Service) -> None:
    health = http.get("/health").json()
    assert health == {"network": NETWORK, "address": service.address, "pending": 0}


# --- fastx402's own remote client against this service --------------------------------------


def test_remote_facilitator_client_settles_through_our_service(
    anvil: Anvil, usdc: Token, service: Service
) -> None:
    payer, _ = payer_with(usdc)
    payment, reqs = fastx402_payment(usdc, payer, fresh_address())
    remote = fastx402.RemoteFacilitator(service.url)
    p, r = PaymentPayload.from_dict(payment), PaymentRequirements.from_dict(reqs)
    assert remote.verify_blocking(p, r).is_valid
    settled = remote.settle_blocking(p, r)
    assert settled.success and settled.payer == payer.address
    assert_mined_transfer(anvil, usdc, settled.transaction, facilitator=service.address)
    assert remote.settle_blocking(p, r).transaction == settled.transaction
    assert remote.supported_blocking().signers == {"eip155:*": [service.address]}


def test_remote_facilitator_client_reads_pending_as_outcome_unknown(stalled: Stalled) -> None:
    remote = fastx402.RemoteFacilitator(stalled.service.url)
    p = PaymentPayload.from_dict(stalled.request["paymentPayload"])
    r = PaymentRequirements.from_dict(stalled.request["paymentRequirements"])
    with pytest.raises(fastx402.SettlementOutcomeUnknown) as caught:
        remote.settle_blocking(p, r)
    assert caught.value.code == "pending"
    response = caught.value.response
    assert response is not None and TX_HASH.fullmatch(response.transaction)
    assert stalled.proxy.faults.seen.count("eth_sendRawTransaction") == 1


def test_x402_conformance_live_checks_pass(service: Service, tmp_path: Any) -> None:
    """The third-party ``x402-conformance`` suite's read-only facilitator checks (S1-S4 over
    ``GET /supported``) against the running service; it never signs, pays or POSTs."""
    done = subprocess.run(
        [sys.executable, "-m", "x402conf", "live", service.url, "--fail-on-error"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["http"] == 200 and result["kinds_total"] == 1
    checks = {c["check"].split()[0]: c for c in result["checks"]}
    assert set(checks) == {"S1", "S2", "S3", "S4"}, sorted(checks)
    failed = {k: c for k, c in checks.items() if not c["pass"]}
    assert failed == {}, failed
