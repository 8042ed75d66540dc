"""RemoteFacilitator against a real uvicorn server on 127.0.0.1.

The server is a small Starlette app whose answers depend on the first path segment
(the "mode"): good answers, refusals, and the faults a seller must survive (slow,
5xx, redirect, garbage, oversized, inconsistent successes). Both the awaitable and
the blocking APIs are exercised.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import fastx402
from fastx402 import (
    FacilitatorError,
    FacilitatorUnavailable,
    PaymentPayload,
    PaymentRequired,
    PaymentRequirements,
    PrivateKey,
    RemoteFacilitator,
    SettlementOutcomeUnknown,
    SettleResponse,
    X402Error,
)

NOW = 1_763_700_000
KEY = PrivateKey.from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TX = "0x" + "ab" * 32
SECRET = "Bearer s3cret-token"
REQUIRED: dict[str, Any] = {
    "x402Version": 2,
    "resource": {"url": "https://api.example.test/weather"},
    "accepts": [
        {
            "scheme": "exact",
            "network": "eip155:84532",
            "amount": "10000",
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            "payTo": PAY_TO,
            "maxTimeoutSeconds": 300,
            "extra": {"name": "USDC", "version": "2"},
        }
    ],
}

# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------

SEEN: list[dict[str, Any]] = []


def settled(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    answer = {
        "success": True,
        "transaction": TX,
        "network": body["paymentRequirements"]["network"],
        "payer": body["paymentPayload"]["payload"]["authorization"]["from"],
    }
    return answer | changes


async def endpoint(request: Request) -> Response:
    mode, name = request.path_params["mode"], request.path_params["name"]
    body: dict[str, Any] = await request.json() if request.method == "POST" else {}
    SEEN.append({"mode": mode, "name": name, "headers": dict(request.headers), "body": body})
    if mode == "slow":
        await asyncio.sleep(3)
    if mode == "garbage":
        return Response("<html>", media_type="application/json")
    if mode == "big":
        return Response('{"pad":"' + "x" * 100_000 + '"}', media_type="application/json")
    if mode == "500":
        failed = {"success": False, "errorReason": "unexpected_settle_error", "network": "x"}
        return JSONResponse(failed | {"transaction": ""}, status_code=500)
    if mode == "redirect":
        return RedirectResponse(f"/target/{name}", status_code=302)
    if name == "supported":
        kinds = [{"x402Version": 2, "scheme": "exact", "network": "eip155:84532"}]
        return JSONResponse({"kinds": kinds, "extensions": [], "signers": {"eip155:*": [PAY_TO]}})
    if name == "verify":
        if mode == "invalid":
            refusal = {
                "isValid": False,
                "invalidReason": "invalid_exact_evm_insufficient_balance",
                "invalidMessage": "balance 0 < 10000 ",
            }
            return JSONResponse(refusal, status_code=400)
        return JSONResponse({"isValid": True, "payer": KEY.address})
    answers: dict[str, dict[str, Any]] = {
        "ok": settled(body),
        "fail": {
            "success": False,
            "errorReason": "invalid_exact_evm_nonce_already_used",
            "transaction": "",
            "network": "eip155:84532",
        },
        "empty_tx": settled(body, transaction=""),
        "wrong_network": settled(body, network="eip155:8453"),
        "wrong_payer": settled(body, payer=PAY_TO),
        "wrong_amount": settled(body, amount="1"),
        "failed_with_tx": settled(body, success=False, errorReason="transaction_failed"),
    }
    return JSONResponse(answers[mode], status_code=400 if mode == "fail" else 200)


APP = Starlette(routes=[Route("/{mode}/{name}", endpoint, methods=["GET", "POST"])])


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(APP, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def facilitator(base_url: str, mode: str) -> RemoteFacilitator:
    return RemoteFacilitator(
        f"{base_url}/{mode}",
        headers={"Authorization": SECRET},
        timeout=0.4,
        settle_timeout=0.6,
        connect_timeout=0.2,
    )


def payment() -> tuple[PaymentPayload, PaymentRequirements]:
    required = PaymentRequired.from_dict(REQUIRED)
    payload = fastx402.create_payment(required, KEY, now=NOW, nonce=b"\x22" * 32)
    return payload, required.accepts[0]


def call(f: RemoteFacilitator, method: str, api: str, *args: Any) -> Any:
    """`method` through the blocking twin or awaited under asyncio.run."""
    if api == "blocking":
        return getattr(f, f"{method}_blocking")(*args)

    async def run() -> Any:
        return await getattr(f, method)(*args)

    return asyncio.run(run())


APIS = pytest.mark.parametrize("api", ["blocking", "async"])

# ---------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------


@APIS
def test_verify_settle_supported(base_url: str, api: str) -> None:
    f = facilitator(base_url, "ok")
    payload, requirements = payment()
    verified = call(f, "verify", api, payload, requirements)
    assert verified.is_valid and verified.payer == KEY.address
    SEEN.clear()
    result = call(f, "settle", api, payload, requirements)
    assert isinstance(result, SettleResponse)
    assert result.success and result.transaction == TX and result.network == "eip155:84532"
    (request,) = SEEN
    assert request["headers"]["authorization"] == SECRET
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == {
        "x402Version": 2,
        "paymentPayload": payload.to_dict(),
        "paymentRequirements": requirements.to_dict(),
    }
    supported = call(f, "supported", api)
    assert supported.kinds[0]["network"] == "eip155:84532"
    assert SECRET not in repr(f)


@APIS
def test_refusals_are_answers(base_url: str, api: str) -> None:
    payload, requirements = payment()
    refused = call(facilitator(base_url, "invalid"), "verify", api, payload, requirements)
    assert not refused.is_valid
    assert refused.invalid_reason == "invalid_exact_evm_insufficient_balance"
    assert refused.invalid_message == "balance 0 < 10000 "
    failed = call(facilitator(base_url, "fail"), "settle", api, payload, requirements)
    assert not failed.success
    assert failed.error_reason == "invalid_exact_evm_nonce_already_used"


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


@APIS
@pytest.mark.parametrize(
    ("mode", "code", "has_response"),
    [
        ("slow", "timeout", False),
        ("500", "http_status", True),
        ("redirect", "redirect", False),
        ("garbage", "malformed", False),
        ("big", "too_large", False),
        ("empty_tx", "malformed", False),
        ("wrong_network", "wrong_network", True),
        ("wrong_payer", "wrong_payer", True),
        ("wrong_amount", "wrong_amount", True),
        ("failed_with_tx", "failed_with_transaction", True),
    ],
)
def test_settle_outcome_unknown(
    base_url: str, api: str, mode: str, code: str, has_response: bool
) -> None:
    payload, requirements = payment()
    SEEN.clear()
    started = time.monotonic()
    with pytest.raises(SettlementOutcomeUnknown) as info:
        call(facilitator(base_url, mode), "settle", api, payload, requirements)
    assert time.monotonic() - started < 3
    err = info.value
    assert isinstance(err, X402Error)
    assert err.code == code, err.message
    assert err.message == str(err) and SECRET not in err.message
    assert (err.response is not None) == has_response
    if err.response is not None:
        assert isinstance(err.response, SettleResponse)
    assert [s["mode"] for s in SEEN] == [mode], "sent once, redirect not followed"


@APIS
@pytest.mark.parametrize(
    ("mode", "code"),
    [("slow", "timeout"), ("500", "http_status"), ("redirect", "redirect"), ("big", "too_large")],
)
def test_verify_and_supported_errors(base_url: str, api: str, mode: str, code: str) -> None:
    f = facilitator(base_url, mode)
    payload, requirements = payment()
    with pytest.raises(FacilitatorError) as info:
        call(f, "verify", api, payload, requirements)
    assert info.value.code == code and SECRET not in str(info.value)
    with pytest.raises(FacilitatorError) as info:
        call(f, "supported", api)
    assert info.value.code == code


@APIS
def test_unreachable_is_unavailable_never_unknown(api: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = RemoteFacilitator(f"http://127.0.0.1:{port}", headers={"Authorization": SECRET})
    payload, requirements = payment()
    for method, args in [("settle", (payload, requirements)), ("verify", (payload, requirements))]:
        with pytest.raises(FacilitatorUnavailable) as info:
            call(f, method, api, *args)
        assert info.value.code == "unavailable" and SECRET not in info.value.message
    with pytest.raises(FacilitatorUnavailable):
        call(f, "supported", api)


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        ("ftp://example.test", {}),
        ("http://example.test", {"timeout": 0}),
        ("http://example.test", {"settle_timeout": float("nan")}),
        ("http://example.test", {"connect_timeout": 20}),
        ("http://example.test", {"headers": {"Content-Length": "1"}}),
        ("http://example.test", {"headers": {"Authorization": "Bearer s3cret-token\n"}}),
    ],
)
def test_bad_configuration(url: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as info:
        RemoteFacilitator(url, **kwargs)
    assert "s3cret" not in str(info.value)
