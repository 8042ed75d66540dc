#!/usr/bin/env python3
# ruff: noqa: E501  (provenance strings and one-line case tables)
"""Writes tests/vectors/permit2.json: Permit2 payments (`exact` with
`extra.assetTransferMethod == "permit2"`, and `upto`) made by the official x402
Python SDK, and the official facilitators' local verdicts on them and on mutated
copies. Read by `src/x402/permit2/tests.rs` (Rust) and usable by the Python suite.

Run from the repository root with the project's virtualenv (x402 2.25.0):

    .venv/bin/python tests/vectors/gen/make_permit2_vectors.py

How each value is obtained:

* Payments: `x402ClientSync` with `ExactEvmScheme` / `UptoEvmScheme` over an
  `EthAccountSigner` (anvil key 0), i.e. the SDK's own `create_permit2_payload` /
  `_create_upto_permit2_payload`; the only nondeterminism (`time.time()` and
  `create_permit2_nonce()`) is monkeypatched to the recorded `now` and `nonce`.
  The header is the SDK's `encode_payment_signature_header` (base64 of
  `model_dump_json(by_alias=True, exclude_none=True)`). Signatures are RFC 6979,
  so they are reproducible.
* Digests: recomputed here with eth-account's `encode_typed_data` from the typed
  data written out below, checked against the SDK's `_hash_typed_data`, and the
  signature is checked to recover the payer with eth-account.
* Verdicts (`sdk`): the SDK facilitator functions `verify_permit2` (exact) and
  `verify_upto_permit2(simulate=False)` (upto), with `time.time()` pinned and a
  stub chain in which the payer is an EOA (no code), the asset is a contract, and
  allowance and balance are 2^256-1. So only the local (sans-chain) checks can fail.
* `fastx402`: what fastx402 answers (reason or null for valid). Equal to `sdk`
  except where `divergence` says why fastx402 is stricter; a Rust test checks both.

The script asserts every independent check it can make and exits non-zero otherwise.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any
from unittest import mock

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from x402 import x402ClientSync
from x402.http.utils import encode_payment_signature_header
from x402.mechanisms.evm import constants as C
from x402.mechanisms.evm.exact import ExactEvmScheme
from x402.mechanisms.evm.exact import permit2_utils as exact_p2
from x402.mechanisms.evm.signers import EthAccountSigner
from x402.mechanisms.evm.upto import UptoEvmScheme
from x402.mechanisms.evm.upto import client as upto_client
from x402.mechanisms.evm.upto import permit2_utils as upto_p2
from x402.mechanisms.evm.verify import _hash_typed_data
from x402.schemas import PaymentPayload, PaymentRequired, PaymentRequirements

OUT = Path(__file__).resolve().parent.parent / "permit2.json"

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

ANVIL0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ACCOUNT = Account.from_key(ANVIL0_KEY)
PAYER = ACCOUNT.address
FACILITATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil key 1
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"  # x402 spec examples
OTHER = "0x1111111111111111111111111111111111111111"

USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
USDC_BASE = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
USDC_POLYGON = "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359"
ASSETS = {USDC_BASE_SEPOLIA, USDC_BASE, USDC_POLYGON}

SPEC_NONCE_HEX = "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------
# Payments made by the SDK client.


def payment_required(
    scheme: str,
    network: str,
    asset: str,
    amount: str,
    max_timeout: int,
    extra: dict[str, Any],
    resource: dict[str, Any] | None,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "x402Version": 2,
        "accepts": [
            {
                "scheme": scheme,
                "network": network,
                "asset": asset,
                "amount": amount,
                "payTo": PAY_TO,
                "maxTimeoutSeconds": max_timeout,
                "extra": extra,
            }
        ],
    }
    if resource is not None:
        raw["resource"] = resource
    # Normalize through the SDK model so key order is the SDK's own.
    model = PaymentRequired.model_validate(raw)
    return json.loads(model.model_dump_json(by_alias=True, exclude_none=True))


CASES: list[dict[str, Any]] = [
    {
        "name": "exact_permit2_base_sepolia",
        "kind": "exact",
        "now": 1740672100,
        "nonce": str(int(SPEC_NONCE_HEX, 16)),
        "payment_required": payment_required(
            "exact",
            "eip155:84532",
            USDC_BASE_SEPOLIA,
            "10000",
            60,
            {"assetTransferMethod": "permit2", "name": "USDC", "version": "2"},
            {
                "url": "https://api.example.com/premium-data",
                "description": "Access to premium market data",
                "mimeType": "application/json",
            },
        ),
    },
    {
        "name": "exact_permit2_base_max_nonce",
        "kind": "exact",
        "now": 1767225600,
        "nonce": str(2**256 - 1),
        "payment_required": payment_required(
            "exact",
            "eip155:8453",
            USDC_BASE,
            "123456789",
            300,
            {"name": "USD Coin", "version": "2", "assetTransferMethod": "permit2"},
            {"url": "https://api.example.com/weather"},
        ),
    },
    {
        "name": "upto_base_sepolia",
        "kind": "upto",
        "now": 1740672100,
        "nonce": "1",
        "payment_required": payment_required(
            "upto",
            "eip155:84532",
            USDC_BASE_SEPOLIA,
            "5000000",
            300,
            {
                "name": "USDC",
                "version": "2",
                "assetTransferMethod": "permit2",
                "facilitatorAddress": FACILITATOR,
            },
            {
                "url": "https://api.example.com/llm/generate",
                "description": "LLM text generation endpoint",
                "mimeType": "application/json",
            },
        ),
    },
    {
        "name": "upto_polygon_no_resource_nonce_zero",
        "kind": "upto",
        "now": 1767225600,
        "nonce": "0",
        "payment_required": payment_required(
            "upto",
            "eip155:137",
            USDC_POLYGON,
            "1",
            3600,
            {"assetTransferMethod": "permit2", "facilitatorAddress": FACILITATOR},
            None,
        ),
    },
]


def make_payment(case: dict[str, Any]) -> tuple[dict[str, Any], str]:
    signer = EthAccountSigner(ACCOUNT)
    # Spend controls (default $1 per payment) only filter; they never shape the payload.
    client = x402ClientSync().set_spend_controls(False)
    client.register("eip155:*", ExactEvmScheme(signer))
    client.register("eip155:*", UptoEvmScheme(signer))
    required = PaymentRequired.model_validate(case["payment_required"])
    nonce = case["nonce"]
    with (
        mock.patch("time.time", return_value=float(case["now"])),
        mock.patch.object(exact_p2, "create_permit2_nonce", return_value=nonce),
        mock.patch.object(upto_client, "create_permit2_nonce", return_value=nonce),
    ):
        payload = client.create_payment_payload(required)
        # The scheme helpers themselves give the same inner payload.
        req = required.accepts[0]
        if case["kind"] == "exact":
            direct = exact_p2.create_permit2_payload(signer, req)
        else:
            direct = upto_client._create_upto_permit2_payload(signer, req)
    assert isinstance(payload, PaymentPayload)
    assert payload.payload == direct, (payload.payload, direct)
    header = encode_payment_signature_header(payload)
    as_json = json.loads(base64.b64decode(header))
    assert compact(as_json) == payload.model_dump_json(by_alias=True, exclude_none=True)
    return as_json, header


def typed_data(kind: str, chain_id: int, auth: dict[str, Any]) -> dict[str, Any]:
    witness_types = C.PERMIT2_WITNESS_TYPES if kind == "exact" else C.UPTO_PERMIT2_WITNESS_TYPES
    witness = {"to": auth["witness"]["to"]}
    if kind == "upto":
        witness["facilitator"] = auth["witness"]["facilitator"]
    witness["validAfter"] = auth["witness"]["validAfter"]
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **witness_types,
        },
        "primaryType": "PermitWitnessTransferFrom",
        "domain": {"name": "Permit2", "chainId": chain_id, "verifyingContract": C.PERMIT2_ADDRESS},
        "message": {
            "permitted": dict(auth["permitted"]),
            "spender": auth["spender"],
            "nonce": auth["nonce"],
            "deadline": auth["deadline"],
            "witness": witness,
        },
    }


def eth_account_digest(td: dict[str, Any]) -> bytes:
    """eth-account wants integers for uint256 values; the document keeps strings."""
    td = copy.deepcopy(td)
    msg = td["message"]
    msg["permitted"]["amount"] = int(msg["permitted"]["amount"])
    msg["nonce"] = int(msg["nonce"])
    msg["deadline"] = int(msg["deadline"])
    msg["witness"]["validAfter"] = int(msg["witness"]["validAfter"])
    signable = encode_typed_data(full_message=td)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


# ---------------------------------------------------------------------------
# The SDK facilitator's local verdicts.


class StubChain:
    """FacilitatorEvmSigner for the local checks: payer is an EOA, assets are
    contracts, allowance and balance are unlimited, nothing is ever written."""

    def __init__(self, facilitators: list[str]):
        self._facilitators = facilitators

    def get_addresses(self) -> list[str]:
        return list(self._facilitators)

    def get_code(self, address: str) -> bytes:
        return b"\x60\x80" if to_checksum_address(address) in ASSETS else b""

    def read_contract(self, address: str, abi: Any, function_name: str, *args: Any) -> Any:
        if function_name in ("allowance", "balanceOf"):
            return 2**256 - 1
        raise RuntimeError(f"stub chain: unexpected read {function_name}")

    def write_contract(self, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("stub chain: no writes")


def sdk_verify(payment: dict[str, Any], requirements: dict[str, Any], now: int) -> dict[str, Any]:
    chain = StubChain([FACILITATOR])
    try:
        payload = PaymentPayload.model_validate(payment)
        req = PaymentRequirements.model_validate(requirements)
        # The allowance step imports the gas-sponsoring extensions (which need
        # jsonschema, not installed); with an unlimited allowance it returns None.
        with (
            mock.patch("time.time", return_value=float(now)),
            mock.patch.object(exact_p2, "_verify_permit2_allowance", return_value=None),
            mock.patch.object(upto_p2, "_verify_permit2_allowance", return_value=None),
        ):
            if req.scheme == "upto":
                result = upto_p2.verify_upto_permit2(chain, payload, req, None, simulate=False)
            else:
                result = exact_p2.verify_permit2(chain, payload, req, None)
    except Exception as e:
        # Recorded (an SDK verifier that raises gives no reason), not hidden.
        return {"raises": type(e).__name__}
    out: dict[str, Any] = {"isValid": result.is_valid}
    if result.invalid_reason:
        out["invalidReason"] = result.invalid_reason
    return out


# ---------------------------------------------------------------------------
# Mutations of a valid payment, one per local check (plus fastx402's extras).

Mutator = Callable[[dict[str, Any], dict[str, Any]], None]


def at(*path: str | int) -> Callable[[Any], Mutator]:
    def setter(value: Any) -> Mutator:
        def mutate(payment: dict[str, Any], _req: dict[str, Any]) -> None:
            node: Any = payment
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value

        return mutate

    return setter


def auth_at(*path: str) -> Callable[[Any], Mutator]:
    return at("payload", "permit2Authorization", *path)


def req_at(key: str, value: Any) -> Mutator:
    """Changes the server's requirements (and nothing in the payment)."""

    def mutate(_payment: dict[str, Any], req: dict[str, Any]) -> None:
        req[key] = value

    return mutate


def both_at(key: str, value: Any) -> Mutator:
    """Changes the requirements and the echoed `accepted` alike."""

    def mutate(payment: dict[str, Any], req: dict[str, Any]) -> None:
        req[key] = value
        payment["accepted"][key] = value

    return mutate


def extra_both(key: str, value: Any) -> Mutator:
    def mutate(payment: dict[str, Any], req: dict[str, Any]) -> None:
        req["extra"][key] = value
        payment["accepted"]["extra"][key] = value

    return mutate


def signature(transform: Callable[[bytes], bytes]) -> Mutator:
    def mutate(payment: dict[str, Any], _req: dict[str, Any]) -> None:
        sig = bytes.fromhex(payment["payload"]["signature"][2:])
        payment["payload"]["signature"] = "0x" + transform(sig).hex()

    return mutate


def high_s_twin(sig: bytes) -> bytes:
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    return r + (N - s).to_bytes(32, "big") + bytes([55 - v])


def seq(*ms: Mutator) -> Mutator:
    def mutate(payment: dict[str, Any], req: dict[str, Any]) -> None:
        for m in ms:
            m(payment, req)

    return mutate


def mutations(
    kind: str, payment: dict[str, Any], now: int
) -> list[tuple[str, Mutator, int, str | None, str | None]]:
    """(name, mutation, verify time, fastx402 reason or None, divergence note)."""
    auth = payment["payload"]["permit2Authorization"]
    deadline = int(auth["deadline"])
    max_timeout = payment["accepted"]["maxTimeoutSeconds"]
    other_scheme = "upto" if kind == "exact" else "exact"
    wrong_proxy = (
        C.X402_UPTO_PERMIT2_PROXY_ADDRESS if kind == "exact" else C.X402_EXACT_PERMIT2_PROXY_ADDRESS
    )
    scheme_reason = "unsupported_scheme" if kind == "exact" else "invalid_upto_evm_scheme"
    network_reason = "network_mismatch" if kind == "exact" else "invalid_upto_evm_network_mismatch"
    config_reason = (
        "invalid_exact_evm_failed_to_get_network_config"
        if kind == "exact"
        else "invalid_upto_evm_failed_to_get_network_config"
    )
    out: list[tuple[str, Mutator, int, str | None, str | None]] = [
        ("valid", seq(), now, None, None),
        ("valid_at_last_second", seq(), deadline - 6, None, None),
        ("accepted_scheme", at("accepted", "scheme")(other_scheme), now, scheme_reason, None),
        ("accepted_network", at("accepted", "network")("eip155:1"), now, network_reason, None),
        (
            "network_not_caip2",
            both_at("network", "eip155:x"),
            now,
            config_reason,
            "the SDK's exact facilitator raises (no reason) on an unparsable chain id"
            if kind == "exact"
            else None,
        ),
        (
            "spender_other_proxy",
            auth_at("spender")(wrong_proxy),
            now,
            "invalid_permit2_spender",
            None,
        ),
        (
            "spender_facilitator",
            auth_at("spender")(FACILITATOR),
            now,
            "invalid_permit2_spender",
            None,
        ),
        (
            "witness_to",
            auth_at("witness", "to")(OTHER),
            now,
            "invalid_permit2_recipient_mismatch",
            None,
        ),
        ("pay_to_changed", req_at("payTo", OTHER), now, "invalid_permit2_recipient_mismatch", None),
        ("deadline_within_6s", seq(), deadline - 5, "permit2_deadline_expired", None),
        ("deadline_passed", seq(), deadline + 1, "permit2_deadline_expired", None),
        (
            "valid_after_future",
            auth_at("witness", "validAfter")(str(now + 1)),
            now,
            "permit2_not_yet_valid",
            None,
        ),
        (
            "amount_more",
            auth_at("permitted", "amount")(str(int(auth["permitted"]["amount"]) + 1)),
            now,
            "permit2_amount_mismatch",
            None,
        ),
        (
            "amount_less",
            auth_at("permitted", "amount")(str(int(auth["permitted"]["amount"]) - 1)),
            now,
            "permit2_amount_mismatch",
            None,
        ),
        (
            "requirements_amount",
            req_at("amount", str(int(auth["permitted"]["amount"]) * 2)),
            now,
            "permit2_amount_mismatch",
            None,
        ),
        (
            "token",
            auth_at("permitted", "token")(
                USDC_POLYGON if auth["permitted"]["token"] != USDC_POLYGON else USDC_BASE
            ),
            now,
            "permit2_token_mismatch",
            None,
        ),
        (
            "nonce_changed",
            auth_at("nonce")(str((int(auth["nonce"]) + 1) % 2**256)),
            now,
            "invalid_permit2_signature",
            None,
        ),
        ("from_other", auth_at("from")(OTHER), now, "invalid_permit2_signature", None),
        (
            "signature_empty",
            at("payload", "signature")("0x"),
            now,
            "invalid_permit2_signature",
            None,
        ),
        (
            "signature_flipped_bit",
            signature(lambda s: s[:10] + bytes([s[10] ^ 1]) + s[11:]),
            now,
            "invalid_permit2_signature",
            None,
        ),
        (
            "signature_high_s_twin",
            signature(high_s_twin),
            now,
            "invalid_permit2_signature",
            "fastx402 rejects high s (the SDK accepts it, and so would Permit2's plain ecrecover on chain; fastx402's policy is one canonical signature per authorization)",
        ),
        (
            "signature_v01",
            signature(lambda s: s[:64] + bytes([s[64] - 27])),
            now,
            "invalid_permit2_signature",
            "fastx402 requires v in {27, 28} (the SDK normalizes 0/1; Permit2's ecrecover on chain does not, so the SDK accepts a payment that cannot settle)",
        ),
        (
            "accepted_max_timeout",
            at("accepted", "maxTimeoutSeconds")(max_timeout + 1),
            now,
            "invalid_payment_requirements",
            "fastx402 requires accepted to equal the requirements",
        ),
        (
            "accepted_extra",
            at("accepted", "extra", "name")("Tether"),
            now,
            "invalid_payment_requirements",
            "fastx402 requires accepted to equal the requirements",
        ),
        (
            "deadline_beyond_max_timeout",
            seq(),
            deadline - max_timeout - 31,
            "permit2_deadline_expired",
            "fastx402 refuses a deadline more than maxTimeoutSeconds + 30 s ahead",
        ),
        (
            "nonce_hex",
            auth_at("nonce")(hex(int(auth["nonce"]))),
            now,
            "invalid_payload",
            "fastx402 parses strictly: nonce is a decimal uint256 string",
        ),
        (
            "amount_number",
            auth_at("permitted", "amount")(int(auth["permitted"]["amount"])),
            now,
            "invalid_payload",
            "fastx402 parses strictly: amounts are strings",
        ),
        (
            "witness_extra_field",
            auth_at("witness", "extra")({}),
            now,
            "invalid_payload",
            "fastx402 parses strictly: no unknown fields",
        ),
    ]
    if kind == "upto":
        out += [
            (
                "witness_facilitator",
                auth_at("witness", "facilitator")(OTHER),
                now,
                "upto_facilitator_mismatch",
                None,
            ),
            (
                "requirements_facilitator",
                extra_both("facilitatorAddress", OTHER),
                now,
                "upto_facilitator_mismatch",
                "the SDK compares witness.facilitator with its own signer addresses only; fastx402 (sans chain) compares it with extra.facilitatorAddress too",
            ),
            (
                "upto_witness_missing_facilitator",
                lambda p, _r: p["payload"]["permit2Authorization"]["witness"].pop("facilitator"),
                now,
                "invalid_payload",
                "fastx402 parses strictly: an upto witness has to, facilitator, validAfter",
            ),
        ]
    else:
        out += [
            (
                "exact_witness_with_facilitator",
                auth_at("witness", "facilitator")(FACILITATOR),
                now,
                "invalid_payload",
                "fastx402 parses strictly: an exact witness has to and validAfter only (the SDK ignores the field and accepts the payment)",
            ),
        ]
    return out


def diff(a: Any, b: Any, path: list[str | int]) -> list[dict[str, Any]]:
    """Edits turning a into b: {"path": [...], "value": v} or {"path": [...], "delete": true}."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in a:
            if k not in b:
                out.append({"path": [*path, k], "delete": True})
            else:
                out += diff(a[k], b[k], [*path, k])
        out += [{"path": [*path, k], "value": b[k]} for k in b if k not in a]
        return out
    if a == b and type(a) is type(b):
        return []
    return [{"path": path, "value": b}]


def apply_edits(payment: dict[str, Any], req: dict[str, Any], edits: list[dict[str, Any]]) -> None:
    roots = {"payment": payment, "requirements": req}
    for e in edits:
        node: Any = roots[e["path"][0]]
        for k in e["path"][1:-1]:
            node = node[k]
        if e.get("delete"):
            del node[e["path"][-1]]
        else:
            node[e["path"][-1]] = copy.deepcopy(e["value"])


def sdk_agrees(sdk: dict[str, Any], fastx402: str | None) -> bool:
    if "raises" in sdk:
        return False
    if fastx402 is None:
        return sdk["isValid"] is True
    return sdk.get("invalidReason") == fastx402


# ---------------------------------------------------------------------------
# The x402 spec's Permit2 example (specs/schemes/exact/scheme_exact_evm.md,
# "Mechanism: Permit2"): it reuses the EIP-3009 example's signature.

SPEC_SIGNATURE = "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c"
SPEC_FROM = "0x857b06519E91e3A54538791bDbb0E22373e36b66"


def spec_example() -> list[dict[str, Any]]:
    # As published (only the JSON syntax repaired: a missing and a trailing comma).
    published_accepted = {
        "scheme": "permit2",
        "network": "eip155:84532",
        "amount": "10000",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "asset": USDC_BASE_SEPOLIA,
    }
    published = {
        "x402Version": 2,
        "accepted": published_accepted,
        "payload": {
            "signature": SPEC_SIGNATURE,
            "permit2Authorization": {
                "permitted": {"token": USDC_BASE_SEPOLIA, "amount": "10000"},
                "from": SPEC_FROM,
                "spender": "0xx402Permit2ProxyAddress",
                "nonce": SPEC_NONCE_HEX,
                "deadline": "1740672154",
                "witness": {"to": PAY_TO, "validAfter": "1740672089", "extra": {}},
            },
        },
    }
    # Repaired into the shape the SDKs use; the signature stays the spec's.
    repaired_req = {
        "scheme": "exact",
        "network": "eip155:84532",
        "asset": USDC_BASE_SEPOLIA,
        "amount": "10000",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "extra": {"assetTransferMethod": "permit2", "name": "USDC", "version": "2"},
    }
    repaired_auth = {
        "from": SPEC_FROM,
        "permitted": {"token": USDC_BASE_SEPOLIA, "amount": "10000"},
        "spender": C.X402_EXACT_PERMIT2_PROXY_ADDRESS,
        "nonce": str(int(SPEC_NONCE_HEX, 16)),
        "deadline": "1740672154",
        "witness": {"to": PAY_TO, "validAfter": "1740672089"},
    }
    repaired = {
        "x402Version": 2,
        "payload": {"permit2Authorization": repaired_auth, "signature": SPEC_SIGNATURE},
        "accepted": repaired_req,
    }
    now = 1740672100
    td = typed_data("exact", 84532, repaired_auth)
    digest = eth_account_digest(td)
    recovered = Account._recover_hash(digest, signature=bytes.fromhex(SPEC_SIGNATURE[2:]))
    assert recovered != SPEC_FROM, "the spec's Permit2 example unexpectedly verifies"
    out = []
    for name, payment, req, fx in [
        ("spec_permit2_example_as_published", published, published_accepted, "unsupported_scheme"),
        ("spec_permit2_example_repaired", repaired, repaired_req, "invalid_permit2_signature"),
    ]:
        sdk = sdk_verify(payment, req, now)
        assert sdk_agrees(sdk, fx), (name, sdk)
        out.append(
            {
                "name": name,
                "payment": payment,
                "requirements": req,
                "now": now,
                "sdk": sdk,
                "fastx402": fx,
            }
        )
    out[1]["digest"] = "0x" + digest.hex()
    out[1]["recovers_to"] = recovered
    return out


def main() -> int:
    logging.disable(logging.CRITICAL)  # the SDK logs every refused signature
    payments = []
    for case in CASES:
        payment, header = make_payment(case)
        req = case["payment_required"]["accepts"][0]
        assert payment["accepted"] == req
        auth = payment["payload"]["permit2Authorization"]
        chain_id = int(req["network"].split(":")[1])
        td = typed_data(case["kind"], chain_id, auth)
        digest = eth_account_digest(td)
        # Same digest as the SDK's own verification path.
        witness_types = (
            C.PERMIT2_WITNESS_TYPES if case["kind"] == "exact" else C.UPTO_PERMIT2_WITNESS_TYPES
        )
        sdk_msg = copy.deepcopy(td["message"])
        for k in ("nonce", "deadline"):
            sdk_msg[k] = int(sdk_msg[k])
        sdk_msg["permitted"]["amount"] = int(sdk_msg["permitted"]["amount"])
        sdk_msg["witness"]["validAfter"] = int(sdk_msg["witness"]["validAfter"])
        assert (
            _hash_typed_data(td["domain"], witness_types, "PermitWitnessTransferFrom", sdk_msg)
            == digest
        )
        sig = bytes.fromhex(payment["payload"]["signature"][2:])
        assert (
            len(sig) == 65 and sig[64] in (27, 28) and int.from_bytes(sig[32:64], "big") <= N // 2
        )
        assert Account._recover_hash(digest, signature=sig) == PAYER
        # SDK choices this file pins down.
        assert auth["witness"]["validAfter"] == "0"
        assert auth["deadline"] == str(case["now"] + req["maxTimeoutSeconds"])
        assert auth["nonce"] == case["nonce"]
        assert list(payment) == ["x402Version", "payload", "accepted"] + (
            ["resource"] if "resource" in case["payment_required"] else []
        )

        checks = []
        for name, mutate, now, fx, divergence in mutations(case["kind"], payment, case["now"]):
            p, r = copy.deepcopy(payment), copy.deepcopy(req)
            mutate(p, r)
            sdk = sdk_verify(p, r, now)
            # The recorded edits reproduce the mutation exactly.
            p2, r2 = copy.deepcopy(payment), copy.deepcopy(req)
            apply_edits(p2, r2, diff(payment, p, ["payment"]) + diff(req, r, ["requirements"]))
            assert compact(p2) == compact(p) and compact(r2) == compact(r), name
            if divergence is None:
                assert sdk_agrees(sdk, fx), (case["name"], name, sdk, fx)
            else:
                assert not sdk_agrees(sdk, fx), (
                    case["name"],
                    name,
                    "divergence no longer diverges",
                    sdk,
                )
            entry: dict[str, Any] = {"name": name, "now": now}
            edits = diff(payment, p, ["payment"]) + diff(req, r, ["requirements"])
            if edits:
                entry["edits"] = edits
            entry["sdk"] = sdk
            entry["fastx402"] = fx
            if divergence:
                entry["divergence"] = divergence
            checks.append(entry)

        payments.append(
            {
                "name": case["name"],
                "kind": case["kind"],
                "now": case["now"],
                "nonce": case["nonce"],
                "payment_required": case["payment_required"],
                "header": header,
                "payment": payment,
                "typed_data": td,
                "digest": "0x" + digest.hex(),
                "payer": PAYER,
                "checks": checks,
            }
        )

    doc = {
        "provenance": {
            "generator": "tests/vectors/gen/make_permit2_vectors.py",
            "libraries": {
                "x402": metadata.version("x402"),
                "eth-account": metadata.version("eth-account"),
            },
            "key": "anvil key 0 (private key in 'keys'); signatures are RFC 6979 (eth-account), so fastx402 reproduces them byte for byte",
            "pinned": "time.time() -> payments[].now and create_permit2_nonce() -> payments[].nonce (monkeypatched in x402.mechanisms.evm.exact.permit2_utils and x402.mechanisms.evm.upto.client); nothing else in the SDK client is nondeterministic",
            "payments": "x402ClientSync(ExactEvmScheme | UptoEvmScheme over EthAccountSigner).create_payment_payload(PaymentRequired); header = x402.http.utils.encode_payment_signature_header; the inner payload equals create_permit2_payload / _create_upto_permit2_payload called directly",
            "digest": "eth-account encode_typed_data(full_message=typed_data), equal to x402.mechanisms.evm.verify._hash_typed_data; the signature recovers to payer with eth-account",
            "checks.sdk": "x402 facilitator: exact -> permit2_utils.verify_permit2, upto -> upto.permit2_utils.verify_upto_permit2(simulate=False); time.time() = checks[].now; stub chain: payer has no code, assets have code, allowance = balance = 2^256-1 (the allowance step, which would import the optional jsonschema extra, is patched to its 'sufficient' result), facilitator signer addresses = ["
            + FACILITATOR
            + "]; {'raises': name} when the SDK raised",
            "checks.fastx402": "fastx402's verdict for the same input: a reason, or null for valid; equal to the SDK's verdict unless 'divergence' explains why fastx402 is stricter",
            "checks.edits": "how the check changes the payment ('payment') and the server's requirements ('requirements', i.e. payment_required.accepts[0]): set 'value' at 'path' (appending a new key last) or delete it; no edits = the payment as made",
            "spec_examples": "x402 specification, specs/schemes/exact/scheme_exact_evm.md, 'Mechanism: Permit2' example payload: it reuses the EIP-3009 example's signature and is not valid; 'as_published' repairs only JSON syntax, 'repaired' moves it into the SDK's shape (scheme exact + extra.assetTransferMethod permit2, real proxy spender, decimal nonce, no witness.extra) and keeps the signature, which recovers to 'recovers_to', not 'from'",
        },
        "keys": {"anvil0": {"private_key": ANVIL0_KEY, "address": PAYER}},
        "constants": {
            "permit2": C.PERMIT2_ADDRESS,
            "exact_permit2_proxy": C.X402_EXACT_PERMIT2_PROXY_ADDRESS,
            "upto_permit2_proxy": C.X402_UPTO_PERMIT2_PROXY_ADDRESS,
            "facilitator": FACILITATOR,
            "deadline_buffer": C.PERMIT2_DEADLINE_BUFFER,
        },
        "payments": payments,
        "spec_examples": spec_example(),
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    OUT.write_text(text)
    n_checks = sum(len(p["checks"]) for p in payments)
    print(f"wrote {OUT} ({len(payments)} payments, {n_checks} checks, {len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
