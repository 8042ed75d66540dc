"""A wallet whose ``isValidSignature`` reverts with long or malformed revert data, on anvil.

The payer is a ``RevertingWallet`` (tests/contracts/RevertingWallet.sol): it holds tokens and is
the ``from`` of a payment with a 65-byte signature that does not recover to it, so the facilitator
asks it (EIP-1271) and it reverts with data the test chose: a 10 KB ``Error(string)`` of ASCII, of
multi-byte UTF-8, with control characters, with invalid UTF-8, or a 10 KB custom error. Whatever it
returns, ``verify`` / ``settle`` (blocking and async) and the HTTP service answer a typed refusal
whose message is bounded (fastx402 bounds every text from the chain: see ``CHAIN_TEXT_MAX_BYTES``),
never a ``PanicException``, a 5xx or a multi-kilobyte body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from eth_abi import encode as abi_encode

from chain import NETWORK, Anvil, Token, deploy, encode_call
from fastx402 import Facilitator, PaymentPayload, PaymentRequirements, PrivateKey
from test_facilitator import AMOUNT, new_facilitator
from test_facilitator_service import HTTP_TIMEOUT, funded_key, serve
from test_facilitator_smart_wallet import (
    FAILED_TO_VERIFY,
    authorization,
    payment_from,
    sign_authorization,
    tx_count,
)

ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
LONG = 10 * 1024
# A chain text is cut to at most this many UTF-8 bytes, plus an ellipsis marker and the
# facilitator's own words around it: messages stay well under a kilobyte.
MESSAGE_MAX = 1024
# A whole verify / settle answer of the HTTP service in the long-revert case.
BODY_MAX = 2048


def error_string(raw: bytes) -> bytes:
    """``Error(string)`` revert data whose string is ``raw`` (any bytes, even invalid UTF-8)."""
    return ERROR_STRING + abi_encode(["bytes"], [raw])


REVERTS = {
    "ascii": error_string(b"A" * LONG),
    "multibyte": error_string(("é€😀" * (LONG // 9 + 1)).encode()),
    # The cut must not fall inside a character: 1 ASCII byte shifts every boundary.
    "multibyte_shifted": error_string(("x" + "😀" * (LONG // 4)).encode()),
    "controls": error_string(b"\x1b[31m\r\n\x00\x7f" * (LONG // 8) + "\u202e\u0085".encode()),
    "invalid_utf8": error_string(b"\xff\xfe\xc3" * (LONG // 3)),
    "custom_error": bytes.fromhex("deadbeef") + b"\xab" * LONG,
}


@pytest.fixture(scope="module")
def facilitator(anvil: Anvil) -> Facilitator:
    return new_facilitator(anvil)


def reverting_wallet(anvil: Anvil, usdc: Token, revert_data: bytes) -> str:
    wallet = deploy(anvil, "RevertingWallet")
    anvil.send(anvil.accounts[0], wallet, encode_call("setRevertData(bytes)", revert_data))
    usdc.mint(wallet, AMOUNT)
    return wallet


def long_revert_payment(
    anvil: Anvil, usdc: Token, revert_data: bytes
) -> tuple[PaymentPayload, PaymentRequirements]:
    wallet = reverting_wallet(anvil, usdc, revert_data)
    auth = authorization(wallet, PrivateKey.generate().address, anvil.now())
    signature = sign_authorization(usdc, PrivateKey.generate(), auth)  # 65 bytes, not the wallet's
    return payment_from(usdc, auth, signature)


def assert_bounded(message: str | None) -> None:
    assert message is not None
    assert len(message.encode()) <= MESSAGE_MAX, len(message.encode())
    assert message.isprintable(), repr(message[:200])


@pytest.mark.parametrize("kind", sorted(REVERTS))
def test_long_revert_is_a_bounded_refusal(
    anvil: Anvil, usdc: Token, facilitator: Facilitator, kind: str
) -> None:
    p, req = long_revert_payment(anvil, usdc, REVERTS[kind])
    before = tx_count(anvil, facilitator.address)

    verdict = facilitator.verify_blocking(p, req)
    assert not verdict.is_valid and verdict.invalid_reason == FAILED_TO_VERIFY, verdict
    assert_bounded(verdict.invalid_message)
    assert "reverted" in str(verdict.invalid_message)

    settled = facilitator.settle_blocking(p, req)
    assert not settled.success and settled.transaction == ""
    assert settled.error_reason == FAILED_TO_VERIFY, settled
    assert_bounded(settled.error_message)

    async def both() -> tuple[object, object]:
        return await facilitator.verify(p, req), await facilitator.settle(p, req)

    averdict, asettled = asyncio.run(both())
    assert averdict == verdict
    assert asettled == settled
    assert tx_count(anvil, facilitator.address) == before
    assert usdc.balance_of(p.payload["authorization"]["from"]) == AMOUNT


@pytest.fixture(scope="module")
def service_url(anvil: Anvil) -> Iterator[str]:
    facilitator = Facilitator(
        anvil.url, NETWORK, funded_key(anvil), poll_interval=0.02, receipt_timeout=20.0
    )
    with serve(facilitator) as running:
        yield running.url


@pytest.mark.parametrize("kind", sorted(REVERTS))
def test_http_answer_to_a_long_revert_is_small_and_typed(
    anvil: Anvil, usdc: Token, service_url: str, kind: str
) -> None:
    p, req = long_revert_payment(anvil, usdc, REVERTS[kind])
    body = {"x402Version": 2, "paymentPayload": p.to_dict(), "paymentRequirements": req.to_dict()}
    with httpx.Client(base_url=service_url, timeout=HTTP_TIMEOUT, trust_env=False) as http:
        verify = http.post("/verify", json=body)
        settle = http.post("/settle", json=body)
    for answer in (verify, settle):
        assert answer.status_code == 200, answer.text[:300]
        assert len(answer.content) <= BODY_MAX, len(answer.content)
        assert answer.headers["content-type"] == "application/json"
    v = verify.json()
    assert v["isValid"] is False and v["invalidReason"] == FAILED_TO_VERIFY, v
    assert_bounded(v["invalidMessage"])
    s = settle.json()
    assert s["success"] is False and s["errorReason"] == FAILED_TO_VERIFY, s
    assert s["transaction"] == "" and s["network"] == NETWORK
    assert_bounded(s["errorMessage"])
