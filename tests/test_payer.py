"""One payer for every scheme: `PaymentPayload.payer` is what `verify_payment` reports."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import fastx402
from fastx402 import PaymentPayload, PrivateKey

NOW = 1_763_700_000
KEY = PrivateKey.from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
FACILITATOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

EIP3009: dict[str, Any] = {
    "scheme": "exact",
    "network": "eip155:84532",
    "amount": "10000",
    "asset": USDC_BASE_SEPOLIA,
    "payTo": PAY_TO,
    "maxTimeoutSeconds": 300,
    "extra": {"name": "USDC", "version": "2"},
}
PERMIT2_EXACT: dict[str, Any] = copy.deepcopy(EIP3009)
PERMIT2_EXACT["extra"]["assetTransferMethod"] = "permit2"
UPTO: dict[str, Any] = {
    **copy.deepcopy(EIP3009),
    "scheme": "upto",
    "extra": {"assetTransferMethod": "permit2", "facilitatorAddress": FACILITATOR},
}


@pytest.mark.parametrize(
    ("offer", "payload_key"),
    [
        (EIP3009, "authorization"),
        (PERMIT2_EXACT, "permit2Authorization"),
        (UPTO, "permit2Authorization"),
    ],
    ids=["eip3009", "permit2-exact", "upto"],
)
def test_payload_payer_is_the_verified_payer(offer: dict[str, Any], payload_key: str) -> None:
    resource = {"url": "https://api.example.test/r"}
    required = {"x402Version": 2, "resource": resource, "accepts": [offer]}
    payment = fastx402.create_payment(required, KEY, now=NOW)
    assert payload_key in payment.payload
    result = fastx402.verify_payment(payment.to_header(), offer, now=NOW + 1)
    assert result.is_valid, result.reason
    assert result.payer == KEY.address
    assert payment.payer == result.payer
    # The same through a decoded header, as a seller sees it.
    decoded = PaymentPayload.from_header(payment.to_header())
    assert decoded.payer == result.payer
