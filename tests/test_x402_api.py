"""The x402 message layer through the Python API: types, create_payment, verify_payment."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

import fastx402
from fastx402 import (
    PaymentPayload,
    PaymentRequired,
    PaymentRequirements,
    PrivateKey,
    ProtocolError,
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
)

NOW = 1_763_700_000
KEY = PrivateKey.from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
URL = "https://api.example.test/weather"
YEAR = 365 * 86400

OFFER: dict[str, Any] = {
    "scheme": "exact",
    "network": "eip155:84532",
    "amount": "10000",
    "asset": USDC_BASE_SEPOLIA,
    "payTo": PAY_TO,
    "maxTimeoutSeconds": 300,
    "extra": {"name": "USDC", "version": "2"},
}
REQUIRED: dict[str, Any] = {"x402Version": 2, "resource": {"url": URL}, "accepts": [OFFER]}


def pay(**kwargs: Any) -> PaymentPayload:
    return fastx402.create_payment(REQUIRED, KEY, now=NOW, nonce=b"\x11" * 32, **kwargs)


def reencode(payment: PaymentPayload, mutate: Any) -> str:
    raw = payment.to_dict()
    mutate(raw)
    return fastx402.encode_header(raw)


class TestTypes:
    def test_payment_required_round_trip(self) -> None:
        pr = PaymentRequired.from_dict(REQUIRED)
        assert PaymentRequired.from_header(pr.to_header()) == pr
        assert pr.x402_version == 2
        assert pr.resource == {"url": URL}
        (req,) = pr.accepts
        assert (req.scheme, req.network, req.amount) == ("exact", "eip155:84532", "10000")
        assert (req.asset, req.pay_to, req.max_timeout_seconds) == (USDC_BASE_SEPOLIA, PAY_TO, 300)
        assert req.extra == {"name": "USDC", "version": "2"}
        assert req.to_dict() == OFFER
        assert json.loads(base64.b64decode(pr.to_header())) == REQUIRED

    def test_v1_requirements(self) -> None:
        v1 = {
            "scheme": "exact",
            "network": "base-sepolia",
            "maxAmountRequired": "10000",
            "resource": URL,
            "description": "weather",
            "mimeType": "application/json",
            "payTo": PAY_TO,
            "maxTimeoutSeconds": 60,
            "asset": USDC_BASE_SEPOLIA,
            "extra": {"name": "USDC", "version": "2"},
        }
        req = PaymentRequirements.from_dict(v1, x402_version=1)
        assert (req.amount, req.resource, req.x402_version) == ("10000", URL, 1)
        payment = fastx402.create_payment({"x402Version": 1, "accepts": [v1]}, KEY, now=NOW)
        assert payment.to_dict().keys() == {"x402Version", "scheme", "network", "payload"}
        assert fastx402.verify_payment(payment.to_header(), req, now=NOW).is_valid

    @pytest.mark.parametrize(
        ("field", "value", "path"),
        [
            ("amount", 10000, "accepts[0].amount"),
            ("amount", " 10000", "accepts[0].amount"),
            ("maxTimeoutSeconds", "300", "accepts[0].maxTimeoutSeconds"),
            ("payTo", PAY_TO.lower()[:-1], "accepts[0].payTo"),
            ("network", "eip155 84532", "accepts[0].network"),
            ("surprise", 1, "accepts[0].surprise"),
        ],
    )
    def test_requirements_grammar(self, field: str, value: Any, path: str) -> None:
        bad = copy.deepcopy(REQUIRED)
        bad["accepts"][0][field] = value
        with pytest.raises(ProtocolError) as info:
            PaymentRequired.from_dict(bad)
        assert info.value.path == path
        assert info.value.reason == "invalid_payment_requirements"

    def test_settle_response_needs_a_transaction_hash_on_success(self) -> None:
        tx = "0x" + "ab" * 32
        ok = {"success": True, "transaction": tx, "network": "eip155:84532", "payer": KEY.address}
        settled = SettleResponse.from_header(fastx402.encode_header(ok))
        assert (settled.success, settled.transaction, settled.payer) == (True, tx, KEY.address)
        for tx_bad in ["", "0x", "0x" + "ab" * 31, "ab" * 32]:
            with pytest.raises(ProtocolError) as info:
                SettleResponse.from_dict({**ok, "transaction": tx_bad})
            assert info.value.path == "transaction"
        failed = SettleResponse.from_dict(
            {
                "success": False,
                "errorReason": "transaction_failed",
                "transaction": "",
                "network": "x:y",
            }
        )
        assert (failed.success, failed.error_reason) == (False, "transaction_failed")

    def test_verify_and_supported_responses(self) -> None:
        v = VerifyResponse.from_dict({"isValid": False, "invalidReason": "network_mismatch"})
        assert (v.is_valid, v.invalid_reason, v.payer) == (False, "network_mismatch", None)
        with pytest.raises(ProtocolError):
            VerifyResponse.from_dict({"isValid": "true"})
        s = SupportedResponse.from_dict(
            {
                "kinds": [{"x402Version": 2, "scheme": "exact", "network": "eip155:84532"}],
                "extensions": [],
                "signers": {"eip155:*": [PAY_TO]},
            }
        )
        assert s.kinds[0]["scheme"] == "exact"
        assert s.signers == {"eip155:*": [PAY_TO]}


class TestCreateAndVerify:
    def test_echoes_accepted_and_resource(self) -> None:
        payment = pay()
        raw = payment.to_dict()
        assert raw["accepted"] == OFFER
        assert raw["resource"] == {"url": URL}
        auth = raw["payload"]["authorization"]
        assert auth["from"] == KEY.address
        assert (auth["validAfter"], auth["validBefore"]) == (str(NOW - 600), str(NOW + 300))
        assert auth["nonce"] == "0x" + "11" * 32
        assert payment.payer == KEY.address

    def test_valid_and_bound_to_the_resource(self) -> None:
        header = pay().to_header()
        result = fastx402.verify_payment(header, OFFER, now=NOW + 10, resource_url=URL)
        assert result.is_valid, result
        assert result.payer == KEY.address
        other = fastx402.verify_payment(header, OFFER, now=NOW + 10, resource_url=URL + "/admin")
        assert (other.is_valid, other.reason) == (False, "invalid_payload")

    def test_replay_key_is_the_same_for_every_encoding(self) -> None:
        payment = pay()
        header = payment.to_header()
        url_safe = header.replace("+", "-").replace("/", "_").rstrip("=")

        def lower_from(raw: dict[str, Any]) -> None:
            auth = raw["payload"]["authorization"]
            auth["from"] = auth["from"].lower()
            auth["nonce"] = auth["nonce"].upper().replace("0X", "0x")

        keys = {
            fastx402.verify_payment(h, OFFER, now=NOW).replay_key
            for h in (header, url_safe, reencode(payment, lower_from))
        }
        assert len(keys) == 1
        assert next(iter(keys)) == (
            f"eip155:84532:{USDC_BASE_SEPOLIA.lower()}:{KEY.address.lower()}:0x{'11' * 32}"
        )

    @pytest.mark.parametrize(
        ("mutate", "reason"),
        [
            (lambda r: r["accepted"].update(network="eip155:8453"), "network_mismatch"),
            (
                lambda r: r["accepted"]["extra"].update(name="USD Coin"),
                "invalid_payment_requirements",
            ),
            (lambda r: r["accepted"]["extra"].update(memo="x"), "invalid_payment_requirements"),
            (
                lambda r: r["payload"]["authorization"].update(to=USDC_BASE_SEPOLIA),
                "invalid_exact_evm_payload_recipient_mismatch",
            ),
            (
                lambda r: r["payload"]["authorization"].update(value="1"),
                "invalid_exact_evm_payload_authorization_value_mismatch",
            ),
            (
                lambda r: r["payload"]["authorization"].update(
                    validBefore=str(NOW + 10 * 365 * 86400)
                ),
                "invalid_exact_evm_payload_authorization_valid_before",
            ),
            (
                lambda r: r["payload"]["authorization"].update(nonce="0x" + "22" * 32),
                "invalid_exact_evm_payload_signature",
            ),
        ],
    )
    def test_reasons(self, mutate: Any, reason: str) -> None:
        result = fastx402.verify_payment(reencode(pay(), mutate), OFFER, now=NOW)
        assert (result.is_valid, result.reason) == (False, reason), result.message

    def test_needs_chain_is_not_valid_and_has_a_reason(self) -> None:
        """A garbage smart-wallet signature passes every local check but the signature: a
        caller testing ``if result.reason:`` must still refuse it."""
        for signature in ("0x1234", "0x" + "ab" * 66, "0x" + "cd" * 200):
            result = fastx402.verify_payment(
                reencode(pay(), lambda r, s=signature: r["payload"].update(signature=s)),
                OFFER,
                now=NOW,
            )
            assert result.needs_chain and not result.is_valid
            assert result.reason == "needs_onchain_verification"
            assert result.message
            accepted = not result.reason  # the trap: reason as the only test
            assert not accepted

    def test_replay_key_only_when_the_signature_authenticated(self) -> None:
        """Reserving a replay key before the signature is checked lets anyone burn a victim's
        nonce: the key is given only for a valid payment, else under an explicit name."""
        key = f"eip155:84532:{USDC_BASE_SEPOLIA.lower()}:{KEY.address.lower()}:0x{'11' * 32}"
        valid = fastx402.verify_payment(pay().to_header(), OFFER, now=NOW)
        assert valid.is_valid and valid.replay_key == key
        assert valid.digest is not None and len(valid.digest) == 32
        assert (valid.unauthenticated_replay_key, valid.unauthenticated_digest) == (None, None)

        forged_sig = "0x" + KEY.sign_digest(b"\x00" * 32).hex()  # 65 bytes, wrong digest
        forged = fastx402.verify_payment(
            reencode(pay(), lambda r: r["payload"].update(signature=forged_sig)), OFFER, now=NOW
        )
        assert forged.reason == "invalid_exact_evm_payload_signature"
        assert (forged.replay_key, forged.digest) == (None, None)
        assert (forged.unauthenticated_replay_key, forged.unauthenticated_digest) == (None, None)

        smart = fastx402.verify_payment(
            reencode(pay(), lambda r: r["payload"].update(signature="0x1234")), OFFER, now=NOW
        )
        assert smart.needs_chain
        assert (smart.replay_key, smart.digest) == (None, None)
        assert smart.unauthenticated_replay_key == key
        assert smart.unauthenticated_digest == valid.digest

        expired = fastx402.verify_payment(pay().to_header(), OFFER, now=NOW + 300)
        assert expired.reason is not None
        assert (expired.replay_key, expired.unauthenticated_replay_key) == (None, None)

    def test_resource_url_binds_v1_through_its_requirements(self) -> None:
        """A v1 payment names no resource: ``resource_url`` is checked against the v1
        requirements' ``resource`` (the same refusal of honest mistakes as for v2)."""
        v1 = {
            "scheme": "exact",
            "network": "base-sepolia",
            "maxAmountRequired": "10000",
            "resource": URL,
            "description": "weather",
            "mimeType": "application/json",
            "payTo": PAY_TO,
            "maxTimeoutSeconds": 300,
            "asset": USDC_BASE_SEPOLIA,
            "extra": {"name": "USDC", "version": "2"},
        }
        header = fastx402.create_payment(
            {"x402Version": 1, "accepts": [v1]}, KEY, now=NOW
        ).to_header()
        assert fastx402.verify_payment(header, v1, now=NOW, resource_url=URL).is_valid
        other = fastx402.verify_payment(header, v1, now=NOW, resource_url=URL + "/admin")
        assert (other.is_valid, other.reason) == (False, "invalid_payment_requirements")
        admin = {**v1, "resource": URL + "/admin"}
        wrong = fastx402.verify_payment(header, admin, now=NOW, resource_url=URL)
        assert (wrong.is_valid, wrong.reason) == (False, "invalid_payment_requirements")
        assert "resource" in (wrong.message or "")
        assert fastx402.verify_payment(header, admin, now=NOW).is_valid  # not bound: unchecked

    @pytest.mark.parametrize(
        ("offered", "echoed", "valid"),
        [
            (2**53 + 1, 2**53, False),  # the same double: equal only when compared as floats
            (2**53, 2**53 + 1, False),
            (2**53 + 1, 2**53 + 1, True),
            (150.0, 150, True),  # a JavaScript client's echo of 150.0: the same value
        ],
    )
    def test_accepted_extra_numbers_compare_exactly(
        self, offered: float, echoed: float, valid: bool
    ) -> None:
        offer = copy.deepcopy(OFFER)
        offer["extra"]["n"] = offered
        required = {**REQUIRED, "accepts": [offer]}
        payment = fastx402.create_payment(required, KEY, now=NOW, nonce=b"\x11" * 32)
        raw = payment.to_dict()
        raw["accepted"]["extra"]["n"] = echoed
        result = fastx402.verify_payment(raw, offer, now=NOW)
        expected = (True, None) if valid else (False, "invalid_payment_requirements")
        assert (result.is_valid, result.reason) == expected, result.message

    def test_time_window(self) -> None:
        header = pay().to_header()
        late = fastx402.verify_payment(header, OFFER, now=NOW + 300 - 5)
        assert late.reason == "invalid_exact_evm_payload_authorization_valid_before"
        early = fastx402.verify_payment(header, OFFER, now=NOW - 601)
        assert early.reason == "invalid_exact_evm_payload_authorization_valid_after"

    def test_strict_header_grammar(self) -> None:
        header = pay().to_header()
        for bad in (header + "=", " " + header, header[:-8], "", "not base64!"):
            with pytest.raises(ProtocolError):
                fastx402.verify_payment(bad, OFFER, now=NOW)
        dup = json.dumps(pay().to_dict()).replace(
            '"x402Version": 2', '"x402Version": 2, "x402Version": 2'
        )
        with pytest.raises(ProtocolError, match="duplicate"):
            fastx402.verify_payment(base64.b64encode(dup.encode()).decode(), OFFER, now=NOW)

    def test_no_payable_option(self) -> None:
        unknown = copy.deepcopy(REQUIRED)
        unknown["accepts"][0]["scheme"] = "subscription"
        with pytest.raises(ProtocolError) as info:
            fastx402.create_payment(unknown, KEY, now=NOW)
        assert info.value.reason == "unsupported_scheme"

    def test_prefers_eip3009_then_permit2(self) -> None:
        permit2 = copy.deepcopy(OFFER)
        permit2["extra"]["assetTransferMethod"] = "permit2"
        both = {**REQUIRED, "accepts": [permit2, OFFER]}
        assert "authorization" in fastx402.create_payment(both, KEY, now=NOW).payload
        only = {**REQUIRED, "accepts": [permit2]}
        payment = fastx402.create_payment(only, KEY, now=NOW)
        assert "permit2Authorization" in payment.payload
        result = fastx402.verify_payment(payment.to_header(), permit2, now=NOW)
        assert result.is_valid, result.message
        assert result.replay_key is not None
        assert result.replay_key.split(":")[2] == "0x000000000022d473030f116ddee9f6b43ac78ba3"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({}, None),
        ({"network": "base-sepolia"}, None),  # another name of the same chain
        ({"payer": None, "amount": None}, None),  # optional on the wire
        ({"network": "eip155:8453"}, "network"),
        ({"payer": PAY_TO}, "payer"),
        ({"amount": "9999"}, "amount"),
        ({"success": False, "transaction": "", "errorReason": "x"}, "success"),
    ],
)
def test_a_settlement_answer_is_checked_against_the_payment(
    change: dict[str, Any], path: str | None
) -> None:
    answer = {
        "success": True,
        "transaction": "0x" + "ab" * 32,
        "network": OFFER["network"],
        "payer": KEY.address,
        "amount": OFFER["amount"],
    } | change
    settle = SettleResponse.from_dict({k: v for k, v in answer.items() if v is not None})
    requirements = PaymentRequirements.from_dict(OFFER)
    if path is None:
        settle.check(requirements, KEY.address)
        return
    with pytest.raises(ProtocolError) as info:
        settle.check(requirements, KEY.address)
    assert (info.value.reason, info.value.path) == ("unexpected_settle_error", path)
