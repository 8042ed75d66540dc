"""Typed accessors of the wire classes: atomic amounts and times as ``int``, prices
as ``Decimal`` where the asset's decimals are registered; the string properties stay."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import fastx402
from fastx402 import PaymentRequirements, PrivateKey, SettleResponse

NOW = 1_763_700_000
KEY = PrivateKey.from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
OFFER: dict[str, Any] = {
    "scheme": "exact",
    "network": "eip155:84532",
    "amount": "10000",
    "asset": USDC_BASE_SEPOLIA,
    "payTo": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "maxTimeoutSeconds": 300,
    "extra": {"name": "USDC", "version": "2"},
}
REQUIRED: dict[str, Any] = {
    "x402Version": 2,
    "resource": {"url": "https://x.test/"},
    "accepts": [OFFER],
}


def test_requirements_amount_and_price() -> None:
    req = PaymentRequirements.from_dict(OFFER)
    assert req.amount == "10000"
    assert req.amount_atomic == 10000 and type(req.amount_atomic) is int
    assert req.price == Decimal("0.01") and isinstance(req.price, Decimal)
    assert req.max_timeout_seconds == 300


def test_price_is_none_for_an_unregistered_asset() -> None:
    unknown = {**OFFER, "asset": "0x" + "12" * 20}
    assert PaymentRequirements.from_dict(unknown).price is None
    assert PaymentRequirements.from_dict(unknown).amount_atomic == 10000


def test_amounts_beyond_u128_are_exact() -> None:
    big = 2**256 - 1
    req = PaymentRequirements.from_dict({**OFFER, "amount": str(big)})
    assert req.amount_atomic == big
    assert str(req.price) == f"{big // 10**6}.{big % 10**6:06d}"  # exact, no rounding


def test_eip3009_payload_times_and_amount() -> None:
    payment = fastx402.create_payment(REQUIRED, KEY, now=NOW, nonce=b"\x11" * 32)
    auth = payment.payload["authorization"]
    assert payment.amount_atomic == int(auth["value"]) == 10000
    assert payment.valid_after == int(auth["validAfter"])
    assert payment.valid_before == int(auth["validBefore"])
    assert isinstance(payment.valid_before, int) and payment.valid_before > NOW
    assert payment.deadline is None


def test_permit2_payload_times_and_amount() -> None:
    permit2 = copy.deepcopy(OFFER)
    permit2["extra"]["assetTransferMethod"] = "permit2"
    payment = fastx402.create_payment({**REQUIRED, "accepts": [permit2]}, KEY, now=NOW)
    auth = payment.payload["permit2Authorization"]
    assert payment.amount_atomic == int(auth["permitted"]["amount"]) == 10000
    assert payment.valid_after == int(auth["witness"]["validAfter"])
    assert payment.deadline == int(auth["deadline"])
    assert payment.valid_before is None


def test_settle_response_amount() -> None:
    tx = "0x" + "ab" * 32
    base = {"success": True, "transaction": tx, "network": "eip155:84532", "payer": KEY.address}
    with_amount = SettleResponse.from_dict({**base, "amount": "10000"})
    assert (with_amount.amount, with_amount.amount_atomic) == ("10000", 10000)
    without = SettleResponse.from_dict(base)
    assert (without.amount, without.amount_atomic) == (None, None)
