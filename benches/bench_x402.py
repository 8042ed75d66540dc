"""Side-by-side x402 benchmarks: fastx402 vs the official x402 SDK and lean Python.

Measures median µs/op for an ``exact`` EIP-3009 v2 payment on Base Sepolia USDC:

1. client: build + sign + encode the ``PAYMENT-SIGNATURE`` header, from a parsed
   PaymentRequired and from its ``PAYMENT-REQUIRED`` header string;
2. server: decode that header and verify it locally (no chain) against its
   requirements;
3. robustness: the time to refuse a 1 MB header and a 100,000-deep JSON header.

Peers: the official SDK (``x402[evm]==2.25.0``; eth-keys signing and recovering on
its coincurve backend) and a "lean Python" baseline written here: json + base64 +
coincurve (libsecp256k1) + pycryptodome keccak with a hand-rolled EIP-712 encoder
for this one type. Every implementation's header is verified by every verifier
before anything is timed; the script stops if one disagrees.

Run (from the repo root, with the bench extras installed)::

    .venv/bin/python benches/bench_x402.py            # ~15 s, prints the table
    .venv/bin/python benches/bench_x402.py --json results.json
    .venv/bin/python benches/bench_x402.py --quick    # smoke run, noisy figures

Method and helpers are shared with ``bench_crypto.py`` (see ``_harness.py``):
timeit, calibrated ~40 ms samples, 21 samples per case taken round-robin within a
group, median and IQR, ratio = peer median / fastx402 median. The SDK's deep-JSON
case runs in a subprocess with a timeout, so a crash there cannot take the
benchmark down; its outcome is reported instead of a ratio.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import functools
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import coincurve
from _harness import (
    Case,
    Result,
    Target,
    add_timing_args,
    machine_facts,
    print_machine,
    print_table,
    print_targets,
    results_payload,
    run_groups,
    settings_from_args,
    settings_line,
    summarize,
    write_json,
)
from Crypto.Hash import keccak as cryptodome_keccak
from eth_account import Account
from x402.client import x402ClientSync
from x402.http import x402HTTPClientSync
from x402.http.constants import PAYMENT_REQUIRED_HEADER, PAYMENT_SIGNATURE_HEADER
from x402.http.utils import decode_payment_signature_header
from x402.mechanisms.evm.eip712 import build_typed_data_for_signing, hash_eip3009_authorization
from x402.mechanisms.evm.erc6492 import has_deployment_info, parse_erc6492_signature
from x402.mechanisms.evm.exact import ExactEvmScheme as ExactEvmClientScheme
from x402.mechanisms.evm.exact.facilitator import ExactEvmScheme as ExactEvmFacilitatorScheme
from x402.mechanisms.evm.signers import EthAccountSigner
from x402.mechanisms.evm.types import (
    ExactEIP3009Authorization,
    ExactEIP3009Payload,
    TypedDataField,
    is_permit2_payload,
)
from x402.mechanisms.evm.utils import get_evm_chain_id, hex_to_bytes, normalize_address
from x402.mechanisms.evm.verify import verify_eoa_signature
from x402.schemas import PaymentRequired as SdkPaymentRequired
from x402.schemas import PaymentRequirements as SdkPaymentRequirements
from x402.server_base import _payment_requirements_match_accepted

import fastx402
from fastx402 import PaymentPayload, PaymentRequired, create_payment, verify_payment

# --------------------------------------------------------------------------- fixtures

# anvil / hardhat test account #0 (a public test key; never use it for anything real).
SECRET = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
PAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil #1
USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
NETWORK = "eip155:84532"
RESOURCE_URL = "https://api.example.com/premium/weather"

REQUIREMENTS: dict[str, Any] = {
    "scheme": "exact",
    "network": NETWORK,
    "amount": "10000",  # 0.01 USDC (6 decimals)
    "asset": USDC_BASE_SEPOLIA,
    "payTo": PAY_TO,
    "maxTimeoutSeconds": 600,
    "extra": {"name": "USDC", "version": "2"},
}
PAYMENT_REQUIRED: dict[str, Any] = {
    "x402Version": 2,
    "error": "PAYMENT-SIGNATURE header is required",
    "resource": {
        "url": RESOURCE_URL,
        "description": "Premium weather data",
        "mimeType": "application/json",
    },
    "accepts": [REQUIREMENTS],
}

ONE_MB = 1 << 20  # the oversized header is exactly 1 MiB of base64
DEEP = 100_000  # nesting depth of the deep-JSON header
DEEP_MAX_BYTES = 1 << 20  # max_bytes raised so fastx402 decodes the deep header
SUBPROCESS_TIMEOUT_S = 60.0

PACKAGES = (
    "x402",
    "pydantic",
    "pydantic-core",
    "eth-account",
    "eth-keys",
    "eth-hash",
    "eth-utils",
    "eth-abi",
    "web3",
    "coincurve",
    "pycryptodome",
)


# --------------------------------------------------------------------------- lean Python baseline
#
# What a careful Python developer could write for this one payment type with C
# libraries underneath: json + base64 from the standard library, coincurve
# (libsecp256k1) for ECDSA, pycryptodome for keccak, and EIP-712 encoded by hand for
# TransferWithAuthorization. The domain separator is memoized (fastx402 memoizes it
# too). It checks what the official facilitator checks locally plus `accepted ==
# requirements`, high-s and the validBefore horizon; it does not validate the JSON
# schema strictly (types, unknown or duplicate keys, address checksums) the way
# fastx402 does, so it is a lower bound on what Python glue costs.


class LeanInvalid(ValueError):
    """The lean verifier's refusal."""


def _keccak(data: bytes) -> bytes:
    return cryptodome_keccak.new(data=data, digest_bits=256).digest()


_DOMAIN_TYPEHASH = _keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_TWA_TYPEHASH = _keccak(
    b"TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,"
    b"uint256 validBefore,bytes32 nonce)"
)
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_ZERO12 = bytes(12)
LEAN_VALID_AFTER_BACKDATE = 600  # as fastx402: validAfter = now - 600
LEAN_SKEW = 30  # as fastx402's default skew_seconds
LEAN_MAX_HEADER = 8192  # as fastx402.DEFAULT_MAX_HEADER_BYTES


@functools.lru_cache(maxsize=256)
def _lean_domain_separator(name: str, version: str, chain_id: int, contract: bytes) -> bytes:
    return _keccak(
        _DOMAIN_TYPEHASH
        + _keccak(name.encode())
        + _keccak(version.encode())
        + chain_id.to_bytes(32, "big")
        + _ZERO12
        + contract
    )


def _lean_digest(
    domain_separator: bytes,
    from20: bytes,
    to20: bytes,
    value: int,
    valid_after: int,
    valid_before: int,
    nonce: bytes,
) -> bytes:
    struct_hash = _keccak(
        _TWA_TYPEHASH
        + _ZERO12
        + from20
        + _ZERO12
        + to20
        + value.to_bytes(32, "big")
        + valid_after.to_bytes(32, "big")
        + valid_before.to_bytes(32, "big")
        + nonce
    )
    return _keccak(b"\x19\x01" + domain_separator + struct_hash)


def _address20(address: str) -> bytes:
    if len(address) != 42 or address[:2] not in ("0x", "0X"):
        raise LeanInvalid(f"bad address {address!r}")
    return bytes.fromhex(address[2:])


def _eip55(address20: bytes) -> str:
    hex40 = address20.hex()
    h = _keccak(hex40.encode()).hex()
    return "0x" + "".join(c.upper() if int(h[i], 16) >= 8 else c for i, c in enumerate(hex40))


class LeanSigner:
    """A coincurve key and its address, computed once."""

    def __init__(self, secret: bytes) -> None:
        self.key = coincurve.PrivateKey(secret)
        self.address20 = _keccak(self.key.public_key.format(compressed=False)[1:])[12:]
        self.address = _eip55(self.address20)


def _lean_chain_id(network: str) -> int:
    if not network.startswith("eip155:"):
        raise LeanInvalid(f"unsupported network {network!r}")
    return int(network[7:])


def lean_create_payment(
    payment_required: dict[str, Any],
    signer: LeanSigner,
    now: int | None = None,
    nonce: bytes | None = None,
) -> str:
    """Build, sign and encode an exact/EIP-3009 v2 payment; returns the header value."""
    req = next(r for r in payment_required["accepts"] if r["scheme"] == "exact")
    extra = req["extra"]
    now = int(time.time()) if now is None else now
    nonce = os.urandom(32) if nonce is None else nonce
    valid_after = now - LEAN_VALID_AFTER_BACKDATE
    valid_before = now + int(req["maxTimeoutSeconds"])
    value = int(req["amount"])
    domain_separator = _lean_domain_separator(
        extra["name"], extra["version"], _lean_chain_id(req["network"]), _address20(req["asset"])
    )
    digest = _lean_digest(
        domain_separator,
        signer.address20,
        _address20(req["payTo"]),
        value,
        valid_after,
        valid_before,
        nonce,
    )
    sig = signer.key.sign_recoverable(digest, hasher=None)  # r || s || recid, low-s
    body: dict[str, Any] = {
        "x402Version": 2,
        "payload": {
            "authorization": {
                "from": signer.address,
                "to": req["payTo"],
                "value": str(value),
                "validAfter": str(valid_after),
                "validBefore": str(valid_before),
                "nonce": "0x" + nonce.hex(),
            },
            "signature": "0x" + sig[:64].hex() + format(sig[64] + 27, "02x"),
        },
        "accepted": req,
    }
    if payment_required.get("resource") is not None:
        body["resource"] = payment_required["resource"]
    return base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def lean_verify_payment(header: str, req: dict[str, Any], now: int) -> tuple[str, bytes]:
    """Decode and verify locally; returns (payer, digest) or raises LeanInvalid."""
    if len(header) > LEAN_MAX_HEADER:
        raise LeanInvalid("header too large")
    try:
        data = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError) as e:
        raise LeanInvalid(f"undecodable header: {e}") from None
    if data.get("x402Version") != 2:
        raise LeanInvalid("not x402 v2")
    if data.get("accepted") != req:
        raise LeanInvalid("accepted does not equal the requirements")
    if req["scheme"] != "exact":
        raise LeanInvalid("not the exact scheme")
    chain_id = _lean_chain_id(req["network"])
    extra = req["extra"]
    payload = data["payload"]
    auth = payload["authorization"]
    if auth["to"].lower() != req["payTo"].lower():
        raise LeanInvalid("recipient mismatch")
    value = int(auth["value"])
    if value != int(req["amount"]):
        raise LeanInvalid("value mismatch")
    valid_after = int(auth["validAfter"])
    valid_before = int(auth["validBefore"])
    if valid_before < now + 6:
        raise LeanInvalid("validBefore expired")
    if valid_after > now:
        raise LeanInvalid("validAfter in the future")
    if valid_before > now + int(req["maxTimeoutSeconds"]) + LEAN_SKEW:
        raise LeanInvalid("validBefore too far ahead")
    sig = bytes.fromhex(payload["signature"][2:])
    if len(sig) != 65:
        raise LeanInvalid("not a 65-byte EOA signature")
    v = sig[64] - 27 if sig[64] >= 27 else sig[64]
    if v not in (0, 1) or int.from_bytes(sig[32:64], "big") > _SECP256K1_HALF_N:
        raise LeanInvalid("bad v or high s")
    nonce = bytes.fromhex(auth["nonce"][2:])
    if len(nonce) != 32:
        raise LeanInvalid("nonce is not 32 bytes")
    from20 = _address20(auth["from"])
    domain_separator = _lean_domain_separator(
        extra["name"], extra["version"], chain_id, _address20(req["asset"])
    )
    digest = _lean_digest(
        domain_separator, from20, _address20(auth["to"]), value, valid_after, valid_before, nonce
    )
    try:
        point = coincurve.PublicKey.from_signature_and_message(
            sig[:64] + bytes((v,)), digest, hasher=None
        )
    except Exception as e:
        raise LeanInvalid(f"recovery failed: {e}") from None
    if _keccak(point.format(compressed=False)[1:])[12:] != from20:
        raise LeanInvalid("signature is not from authorization.from")
    return auth["from"], digest


# --------------------------------------------------------------------------- SDK, server side


class InMemoryChain:
    """Answers the facilitator's ``get_code`` from memory instead of an RPC.

    With ``simulate=False`` the exact facilitator reads the chain twice: ``get_code``
    on the payer (no code = EOA, so ECDSA recovery decides) and ``get_code`` on the
    asset (must be a contract; a positive answer is cached process-wide for 15 min,
    so in steady state it is a cache hit). Nothing else is reachable.
    """

    def __init__(self, contracts: list[str]) -> None:
        self.contracts = {c.lower() for c in contracts}
        self.calls = 0

    def get_code(self, address: str) -> bytes:
        self.calls += 1
        return b"\x60\x80" if address.lower() in self.contracts else b""

    def get_addresses(self) -> list[str]:
        return []


SDK_REQUIREMENTS = SdkPaymentRequirements.model_validate(REQUIREMENTS)
SDK_CHAIN = InMemoryChain([USDC_BASE_SEPOLIA])
SDK_FACILITATOR = ExactEvmFacilitatorScheme(SDK_CHAIN)  # type: ignore[arg-type]


def sdk_server_verify(header: str) -> tuple[bool, str | None]:
    """The SDK's server path, minus the network and the on-chain simulation.

    1. ``x402.http.utils.decode_payment_signature_header`` (base64 → json.loads →
       pydantic ``PaymentPayload``), as ``x402HTTPServer`` extracts the payment;
    2. ``server_base._payment_requirements_match_accepted`` (what
       ``find_matching_requirements`` runs to pick the requirements the payment
       accepted);
    3. the exact facilitator's ``verify`` dispatch (``is_permit2_payload``) and its
       ``_verify(payload, requirements, simulate=False)``: scheme / network /
       chain id / EIP-712 domain / recipient / amount / validity-window checks,
       ``classify_eip3009_signature`` (``hash_eip3009_authorization``, then
       ``verify_universal_signature``: ERC-6492 parse, ``get_code(payer)`` answered
       from memory, ``verify_eoa_signature`` with eth-keys), and the asset-contract
       check (a cache hit). ``simulate=False`` skips the ``transferWithAuthorization``
       ``eth_call``.
    """
    payload = decode_payment_signature_header(header)
    if not _payment_requirements_match_accepted(SDK_REQUIREMENTS, payload.accepted):
        return False, "no_matching_requirements"
    if is_permit2_payload(payload.payload):
        return False, "permit2"
    response, _ = SDK_FACILITATOR._verify(payload, SDK_REQUIREMENTS, simulate=False)  # type: ignore[arg-type]
    return response.is_valid, response.invalid_reason


def sdk_local_checks(header: str) -> tuple[bool, str | None]:
    """The same SDK functions, called in ``_verify``'s order, with no chain at all.

    Decode + requirements match as in ``sdk_server_verify``; then exactly the calls
    ``ExactEvmScheme._verify`` makes before its first chain read, and the EOA branch
    of ``verify_universal_signature`` after it: ``ExactEIP3009Payload.from_dict``,
    the scheme / network checks, ``get_evm_chain_id``, ``normalize_address(asset)``,
    the domain / recipient / amount / time checks, ``hex_to_bytes(signature)``,
    ``hash_eip3009_authorization``, ``parse_erc6492_signature``,
    ``has_deployment_info``, ``verify_eoa_signature``. Left out: ``get_code(payer)``
    (the payer is taken to be an EOA), the asset-contract check and the simulation.
    """
    payload = decode_payment_signature_header(header)
    req = SDK_REQUIREMENTS
    if not _payment_requirements_match_accepted(req, payload.accepted):
        return False, "no_matching_requirements"
    evm = ExactEIP3009Payload.from_dict(payload.payload)
    auth = evm.authorization
    if payload.accepted.scheme != "exact":
        return False, "unsupported_scheme"
    if payload.accepted.network != req.network:
        return False, "network_mismatch"
    chain_id = get_evm_chain_id(str(req.network))
    token_address = normalize_address(req.asset)
    extra = req.extra or {}
    if "name" not in extra or "version" not in extra:
        return False, "missing_eip712_domain"
    if auth.to.lower() != req.pay_to.lower():
        return False, "recipient_mismatch"
    if int(auth.value) != int(req.amount):
        return False, "value_mismatch"
    now = int(time.time())
    if int(auth.valid_before) < now + 6:
        return False, "valid_before"
    if int(auth.valid_after) > now:
        return False, "valid_after"
    if not evm.signature:
        return False, "invalid_signature"
    signature = hex_to_bytes(evm.signature)
    digest = hash_eip3009_authorization(
        auth, chain_id, token_address, extra["name"], extra["version"]
    )
    sig_data = parse_erc6492_signature(signature)
    if has_deployment_info(sig_data) or len(sig_data.inner_signature) != 65:
        return False, "needs_chain"
    if not verify_eoa_signature(digest, sig_data.inner_signature, auth.from_address):
        return False, "invalid_signature"
    return True, None


# --------------------------------------------------------------------------- robustness


def outcome(fn: Any, *args: Any, **kwargs: Any) -> str:
    """Call and name what came back: the result's type, or the exception's."""
    try:
        return type(fn(*args, **kwargs)).__name__
    except Exception as e:
        return type(e).__name__


def oversized_header(payload: dict[str, Any]) -> str:
    """A well-formed, validly signed payment padded (in ``extensions``) to 1 MiB."""
    body = dict(payload, extensions={"pad": ""})
    base = len(json.dumps(body, separators=(",", ":")))
    target = ONE_MB // 4 * 3
    body["extensions"] = {"pad": "x" * (target - base)}
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) == target
    header = base64.b64encode(raw).decode()
    assert len(header) == ONE_MB
    return header


def deep_header() -> str:
    """A v2 payment whose ``extensions`` holds 100,000 nested JSON arrays."""
    raw = b'{"x402Version":2,"extensions":{"x":' + b"[" * DEEP + b"]" * DEEP + b"}}"
    return base64.b64encode(raw).decode()


# Run in a fresh interpreter: decode the header from stdin a few times, report the
# outcome and the time per attempt as JSON on stdout.
_CHILD = r"""
import json, sys, time
impl, attempts = sys.argv[1], int(sys.argv[2])
header = sys.stdin.read()
if impl == "x402":
    from x402.http.utils import decode_payment_signature_header as decode
else:
    import fastx402
    def decode(h):
        return fastx402.PaymentPayload.from_header(h, max_bytes=int(sys.argv[3]))
times, result, message = [], None, None
for _ in range(attempts):
    t0 = time.perf_counter()
    try:
        r = decode(header)
        result, message = type(r).__name__, None
    except BaseException as e:
        result, message = type(e).__name__, str(e)[:160]
    times.append((time.perf_counter() - t0) * 1e3)
print(json.dumps({"outcome": result, "message": message, "times_ms": times}))
"""


@dataclass
class Isolated:
    impl: str
    case: str
    outcome: str
    message: str | None
    returncode: int | None
    median_ms: float | None
    attempts: int


def run_isolated(impl: str, header: str, attempts: int, max_bytes: int = 0) -> Isolated:
    """Decode ``header`` in a subprocess with a timeout; a crash becomes an outcome."""
    argv = [sys.executable, "-c", _CHILD, impl, str(attempts), str(max_bytes)]
    try:
        proc = subprocess.run(
            argv, input=header, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return Isolated(
            impl, "deep", f"timed out after {SUBPROCESS_TIMEOUT_S:g} s", None, None, None, attempts
        )
    if proc.returncode != 0:
        how = (
            f"killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"exit status {proc.returncode}"
        )
        tail = proc.stderr.strip().splitlines()[-1:] or [""]
        return Isolated(impl, "deep", f"crashed ({how})", tail[0][:160], proc.returncode, None, 0)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    times = sorted(data["times_ms"])
    return Isolated(
        impl,
        "deep",
        data["outcome"],
        data["message"],
        proc.returncode,
        times[len(times) // 2],
        len(times),
    )


# --------------------------------------------------------------------------- cases


@dataclass
class Fixtures:
    key: fastx402.PrivateKey
    pr: PaymentRequired
    pr_header: str
    sdk_client: x402ClientSync
    sdk_http: x402HTTPClientSync
    sdk_pr: SdkPaymentRequired
    lean_signer: LeanSigner


def make_fixtures() -> Fixtures:
    key = fastx402.PrivateKey(SECRET)
    assert key.address == PAYER
    pr = PaymentRequired.from_dict(PAYMENT_REQUIRED)
    sdk_client = x402ClientSync()
    sdk_client.register(NETWORK, ExactEvmClientScheme(EthAccountSigner(Account.from_key(SECRET))))
    lean_signer = LeanSigner(SECRET)
    assert lean_signer.address == PAYER
    return Fixtures(
        key=key,
        pr=pr,
        pr_header=pr.to_header(),
        sdk_client=sdk_client,
        sdk_http=x402HTTPClientSync(sdk_client),
        sdk_pr=SdkPaymentRequired.model_validate(PAYMENT_REQUIRED),
        lean_signer=lean_signer,
    )


def sdk_header_from_pr(fx: Fixtures, sdk_pr: SdkPaymentRequired) -> str:
    payload = fx.sdk_client.create_payment_payload(sdk_pr)
    return fx.sdk_http.encode_payment_signature_header(payload)[PAYMENT_SIGNATURE_HEADER]


def sdk_header_from_402(fx: Fixtures, pr_header: str) -> str:
    headers, _ = fx.sdk_http.handle_402_response(
        {PAYMENT_REQUIRED_HEADER: pr_header}, None, RESOURCE_URL
    )
    return headers[PAYMENT_SIGNATURE_HEADER]


def _decoded(header: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.b64decode(header))
    return data


def _shape(data: dict[str, Any]) -> tuple[Any, ...]:
    payload = data["payload"]
    return (
        sorted(data),
        sorted(payload),
        sorted(payload["authorization"]),
        data["accepted"] == REQUIREMENTS,
        data["resource"] == PAYMENT_REQUIRED["resource"],
    )


def _tamper(header: str, **auth_changes: str) -> str:
    data = _decoded(header)
    data["payload"]["authorization"].update(auth_changes)
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def check_correctness(fx: Fixtures) -> dict[str, Any]:
    """Every client's header passes every verifier; tampered ones fail all of them."""
    now = int(time.time())
    req = fx.pr.accepts[0]
    assert fx.sdk_pr.accepts[0].extra == REQUIREMENTS["extra"]

    # Deterministic: same now + nonce gives byte-identical payloads from fastx402 and
    # lean, and the SDK's signer signs that authorization to the same signature.
    nonce = bytes(range(32))
    fixed = create_payment(fx.pr, fx.key, now=now, nonce=nonce).to_header()
    lean_fixed = lean_create_payment(PAYMENT_REQUIRED, fx.lean_signer, now=now, nonce=nonce)
    assert _decoded(fixed) == _decoded(lean_fixed), "fastx402 and lean payloads differ"
    auth = _decoded(fixed)["payload"]["authorization"]
    x_auth = ExactEIP3009Authorization(
        from_address=auth["from"],
        to=auth["to"],
        value=auth["value"],
        valid_after=auth["validAfter"],
        valid_before=auth["validBefore"],
        nonce=auth["nonce"],
    )
    domain, types, primary, message = build_typed_data_for_signing(
        x_auth, 84532, USDC_BASE_SEPOLIA, "USDC", "2"
    )
    fields = {
        n: [TypedDataField(name=f["name"], type=f["type"]) for f in fs] for n, fs in types.items()
    }
    sdk_sig = EthAccountSigner(Account.from_key(SECRET)).sign_typed_data(
        domain, fields, primary, message
    )
    assert "0x" + sdk_sig.hex() == _decoded(fixed)["payload"]["signature"], "signatures differ"

    headers = {
        "fastx402 (parsed PR)": create_payment(fx.pr, fx.key).to_header(),
        "fastx402 (PR header)": create_payment(fx.pr_header, fx.key).to_header(),
        "x402 SDK (parsed PR)": sdk_header_from_pr(fx, fx.sdk_pr),
        "x402 SDK (PR header)": sdk_header_from_402(fx, fx.pr_header),
        "lean (parsed PR)": lean_create_payment(PAYMENT_REQUIRED, fx.lean_signer),
        "lean (PR header)": lean_create_payment(
            json.loads(base64.b64decode(fx.pr_header)), fx.lean_signer
        ),
    }
    shapes = {name: _shape(_decoded(h)) for name, h in headers.items()}
    assert len(set(map(repr, shapes.values()))) == 1, f"header shapes differ: {shapes}"
    assert all(s[3] and s[4] for s in shapes.values()), "accepted/resource not echoed"

    def verdicts(header: str) -> dict[str, bool]:
        fx_res = verify_payment(header, req, now=now)
        try:
            lean_ok = lean_verify_payment(header, REQUIREMENTS, now)[0] == PAYER
        except LeanInvalid:
            lean_ok = False
        return {
            "fastx402": fx_res.is_valid and fx_res.payer == PAYER,
            "x402 SDK (facilitator _verify)": sdk_server_verify(header)[0],
            "x402 SDK (local checks)": sdk_local_checks(header)[0],
            "lean": lean_ok,
        }

    for name, header in headers.items():
        v = verdicts(header)
        assert all(v.values()), f"{name}'s header refused: {v}"
        fx_res = verify_payment(header, req, now=now)
        data = _decoded(header)
        a = data["payload"]["authorization"]
        x_auth = ExactEIP3009Authorization(
            from_address=a["from"],
            to=a["to"],
            value=a["value"],
            valid_after=a["validAfter"],
            valid_before=a["validBefore"],
            nonce=a["nonce"],
        )
        sdk_digest = hash_eip3009_authorization(x_auth, 84532, USDC_BASE_SEPOLIA, "USDC", "2")
        lean_digest = lean_verify_payment(header, REQUIREMENTS, now)[1]
        assert fx_res.digest == sdk_digest == lean_digest, f"{name}: digests differ"

    # In steady state the SDK facilitator reads the chain once per verify: get_code on
    # the payer (the asset check is a hit in its process-wide cache).
    SDK_CHAIN.calls = 0
    sdk_server_verify(headers["fastx402 (parsed PR)"])
    assert SDK_CHAIN.calls == 1, f"SDK made {SDK_CHAIN.calls} get_code calls, expected 1"

    base = headers["fastx402 (parsed PR)"]
    bad_nonce = _tamper(base, nonce="0x" + "11" * 32)
    bad_value = _tamper(base, value="20000")
    for label, header in (("tampered nonce", bad_nonce), ("tampered value", bad_value)):
        v = verdicts(header)
        assert not any(v.values()), f"{label} accepted by {[k for k, ok in v.items() if ok]}"

    return {
        "header_bytes": {name: len(h) for name, h in headers.items()},
        "pr_header_bytes": len(fx.pr_header),
    }


def client_cases(fx: Fixtures) -> list[Case]:
    ns: dict[str, Any] = {
        "create_payment": create_payment,
        "lean_create": lean_create_payment,
        "sdk_from_pr": sdk_header_from_pr,
        "sdk_from_402": sdk_header_from_402,
        "json": json,
        "b64decode": base64.b64decode,
        "fx": fx,
        "pr": fx.pr,
        "pr_dict": PAYMENT_REQUIRED,
        "pr_header": fx.pr_header,
        "key": fx.key,
        "sdk_pr": fx.sdk_pr,
        "lean_signer": fx.lean_signer,
    }
    g1, g2 = "client (parsed PR)", "client (PR header)"
    return [
        Case(
            g1,
            "fastx402",
            "create_payment(pr, key).to_header()",
            "create_payment(pr, key).to_header()",
            ns,
        ),
        Case(
            g1,
            "x402 SDK",
            "x402ClientSync.create_payment_payload(pr) + x402HTTPClientSync"
            ".encode_payment_signature_header(p)['PAYMENT-SIGNATURE']",
            "sdk_from_pr(fx, sdk_pr)",
            ns,
        ),
        Case(
            g1,
            "lean Python (libsecp256k1)",
            "lean_create_payment(pr_dict, signer)",
            "lean_create(pr_dict, lean_signer)",
            ns,
        ),
        Case(
            g2,
            "fastx402",
            "create_payment(pr_header, key).to_header()",
            "create_payment(pr_header, key).to_header()",
            ns,
        ),
        Case(
            g2,
            "x402 SDK",
            "x402HTTPClientSync.handle_402_response({'PAYMENT-REQUIRED': h}, None, url)"
            "[0]['PAYMENT-SIGNATURE']",
            "sdk_from_402(fx, pr_header)",
            ns,
        ),
        Case(
            g2,
            "lean Python (libsecp256k1)",
            "lean_create_payment(json.loads(b64decode(pr_header)), signer)",
            "lean_create(json.loads(b64decode(pr_header)), lean_signer)",
            ns,
        ),
    ]


def server_cases(header: str, now: int, req: fastx402.PaymentRequirements) -> list[Case]:
    ns: dict[str, Any] = {
        "verify_payment": verify_payment,
        "sdk_server_verify": sdk_server_verify,
        "sdk_local_checks": sdk_local_checks,
        "lean_verify": lean_verify_payment,
        "header": header,
        "now": now,
        "req": req,
        "req_dict": REQUIREMENTS,
    }
    g = "server (decode+verify)"
    return [
        Case(
            g,
            "fastx402",
            "verify_payment(header, requirements, now=now)",
            "verify_payment(header, req, now=now)",
            ns,
        ),
        Case(
            g,
            "x402 SDK (facilitator)",
            "decode_payment_signature_header + match accepted + ExactEvmScheme"
            "._verify(simulate=False), get_code from memory",
            "sdk_server_verify(header)",
            ns,
        ),
        Case(
            g,
            "x402 SDK (local checks)",
            "decode + match + _verify's field checks + hash_eip3009_authorization"
            " + verify_eoa_signature, no chain",
            "sdk_local_checks(header)",
            ns,
        ),
        Case(
            g,
            "lean Python (libsecp256k1)",
            "lean_verify_payment(header, req_dict, now)",
            "lean_verify(header, req_dict, now)",
            ns,
        ),
    ]


def robustness_cases(big: str, deep: str) -> list[Case]:
    ns: dict[str, Any] = {
        "outcome": outcome,
        "from_header": PaymentPayload.from_header,
        "sdk_decode": decode_payment_signature_header,
        "big": big,
        "deep": deep,
        "deep_max": DEEP_MAX_BYTES,
    }
    return [
        Case(
            "1 MiB header",
            "fastx402",
            "PaymentPayload.from_header(h) -> HeaderTooLarge",
            "outcome(from_header, big)",
            ns,
        ),
        Case(
            "1 MiB header",
            "x402 SDK",
            "decode_payment_signature_header(h) -> PaymentPayload (no size cap)",
            "outcome(sdk_decode, big)",
            ns,
        ),
        Case(
            "100k-deep JSON",
            "fastx402",
            "PaymentPayload.from_header(h, max_bytes=1 MiB) -> ProtocolError (depth)",
            "outcome(from_header, deep, max_bytes=deep_max)",
            ns,
        ),
    ]


# --------------------------------------------------------------------------- targets

CLIENT_TARGET_US = 45.0
SERVER_TARGET_US = 60.0
REJECT_TARGET_US = 50_000.0


def check_targets(results: list[Result]) -> list[Target]:
    by = {(r.group, r.impl): r for r in results}

    def med(group: str) -> float:
        return by[(group, "fastx402")].median_us

    out = []
    for group in ("client (parsed PR)", "client (PR header)"):
        m = med(group)
        out.append(
            Target(group, f"<= {CLIENT_TARGET_US:g} us", f"{m:.2f} us", m <= CLIENT_TARGET_US)
        )
    m = med("server (decode+verify)")
    out.append(
        Target(
            "server (decode+verify)",
            f"<= {SERVER_TARGET_US:g} us",
            f"{m:.2f} us",
            m <= SERVER_TARGET_US,
        )
    )
    for group in ("1 MiB header", "100k-deep JSON"):
        m = med(group)
        out.append(
            Target(f"reject {group}", "well under 50 ms", f"{m:.2f} us", m < REJECT_TARGET_US)
        )
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_args(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args)

    started = time.perf_counter()
    load_start = os.getloadavg()
    facts = machine_facts(PACKAGES)
    facts["date"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    print_machine("fastx402 x402 benchmarks", facts, load_start)
    print(settings_line(settings))
    if facts["eth_keys_backend"] != "CoinCurveECCBackend":
        print("  WARNING          eth-keys is not on coincurve: SDK figures are pure-Python ECDSA")
    print()

    fx = make_fixtures()
    sizes = check_correctness(fx)
    print(
        "correctness: 6 client headers (fastx402 / SDK / lean, from a parsed PR and from its"
        " header) each pass all 4 verifiers with the same EIP-712 digest; tampered nonce or"
        " value fails all 4; fastx402 and lean build identical payloads for a fixed nonce,"
        " and the SDK's signer gives the same signature; the SDK facilitator makes one"
        " get_code (payer) per verify, answered from memory"
    )
    print(
        f"sizes: PAYMENT-REQUIRED {sizes['pr_header_bytes']} B; PAYMENT-SIGNATURE "
        + ", ".join(f"{k} {v} B" for k, v in sizes["header_bytes"].items())
    )
    print()

    # Robustness inputs; the deep header is probed in subprocesses before anything
    # decodes it in this process.
    now = int(time.time())
    payment = create_payment(fx.pr, fx.key, now=now).to_dict()
    big = oversized_header(payment)
    deep = deep_header()
    attempts = 3 if args.quick else 11
    isolated = [
        run_isolated("fastx402", deep, attempts, DEEP_MAX_BYTES),
        run_isolated("x402", deep, attempts),
    ]
    fast_deep = isolated[0]
    deep_safe = fast_deep.returncode == 0 and fast_deep.outcome == "ProtocolError"
    big_outcomes = {
        "fastx402": outcome(PaymentPayload.from_header, big),
        "x402 SDK": outcome(decode_payment_signature_header, big),
    }
    assert big_outcomes["fastx402"] == "HeaderTooLarge", big_outcomes

    # The server header is minted now: the SDK checks validBefore against its own clock.
    server_now = int(time.time())
    server_header = create_payment(fx.pr, fx.key, now=server_now).to_header()
    cases = client_cases(fx) + server_cases(server_header, server_now, fx.pr.accepts[0])
    rob = robustness_cases(big, deep)
    cases += rob if deep_safe else rob[:2]
    run_groups(cases, settings)
    assert sdk_server_verify(server_header) == (True, None), "server header expired mid-run"

    results = summarize(cases)
    targets = check_targets(results) if deep_safe else []
    load_end = os.getloadavg()
    elapsed = time.perf_counter() - started

    print_table(results, args.markdown)
    print()
    print("robustness outcomes:")
    sdk_big = big_outcomes["x402 SDK"]
    note = " (decoded in full: no size cap)" if sdk_big == "PaymentPayload" else ""
    print(f"  1 MiB header    fastx402 -> {big_outcomes['fastx402']}; x402 SDK -> {sdk_big}{note}")
    for iso in isolated:
        t = f", {iso.median_ms:.3f} ms median of {iso.attempts}" if iso.median_ms else ""
        msg = f" ({iso.message})" if iso.message else ""
        print(f"  100k-deep JSON  {iso.impl} in a subprocess -> {iso.outcome}{msg}{t}")
    print()
    print_targets(targets)
    print()
    print(
        f"load average {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} (at end);"
        f" wall time {elapsed:.1f} s"
    )

    if args.json is not None:
        payload = results_payload(facts, load_start, load_end, settings, results, targets, elapsed)
        payload["sizes"] = sizes
        payload["robustness"] = {
            "one_mib_header": big_outcomes,
            "deep_json_subprocess": [asdict(i) for i in isolated],
        }
        write_json(args.json, payload)
    return 0 if deep_safe else 1


if __name__ == "__main__":
    sys.exit(main())
