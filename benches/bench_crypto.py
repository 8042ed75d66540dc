"""Side-by-side crypto micro-benchmarks: fastx402 vs the Python peers.

Measures median µs/op for keccak(64 B), the x402 TransferWithAuthorization
EIP-712 digest, signing a 32-byte digest, recovering from one, and the full
"sign typed data" / "recover typed data" paths, against pycryptodome,
eth-utils, eth-account (eth-keys on its coincurve backend), plain coincurve,
and the official x402 SDK (x402[evm]==2.25.0).

Run (from the repo root, with the bench extras installed)::

    .venv/bin/python benches/bench_crypto.py            # ~25 s, prints the table
    .venv/bin/python benches/bench_crypto.py --json results.json
    .venv/bin/python benches/bench_crypto.py --quick    # smoke run, noisy figures

``make bench`` calls ``python benches/bench_crypto.py``. Every implementation
is checked to produce the same digest / signature / address before anything
is timed. Ratios are ``peer median / fastx402 median`` (> 1 means fastx402 is
faster). Timing uses ``timeit`` (GC disabled while timing, as usual); the
implementations of one group are sampled round-robin so that drift in machine
load hits them all alike. Run it on a quiet machine: the load average is
printed at the start and at the end. The timing and reporting helpers are shared
with ``bench_x402.py`` and live in ``_harness.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import coincurve
import eth_keys
import eth_utils
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
from eth_account.messages import _hash_eip191_message, encode_typed_data
from x402.mechanisms.evm.eip712 import build_typed_data_for_signing, hash_eip3009_authorization
from x402.mechanisms.evm.signers import EthAccountSigner
from x402.mechanisms.evm.types import ExactEIP3009Authorization, TypedDataField
from x402.mechanisms.evm.verify import verify_eoa_signature

import fastx402

# --------------------------------------------------------------------------- fixtures

# x402 v2 spec example (exact scheme, EIP-3009 on Base Sepolia USDC): the one shared vector,
# tests/vectors/transfer_with_authorization.json (uint256 values measured as Python ints).
_VECTOR: dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parent.parent
        / "tests"
        / "vectors"
        / "transfer_with_authorization.json"
    ).read_text(encoding="utf-8")
)
DOMAIN: dict[str, Any] = _VECTOR["typed_data"]["domain"]
MESSAGE: dict[str, Any] = {
    k: int(v) if k in ("value", "validAfter", "validBefore") else v
    for k, v in _VECTOR["typed_data"]["message"].items()
}
EXPECTED_DIGEST = bytes.fromhex(_VECTOR["digest"].removeprefix("0x"))
TYPED_DATA: dict[str, Any] = {**_VECTOR["typed_data"], "domain": DOMAIN, "message": MESSAGE}
# The same authorization as it arrives in an x402 payload (string-encoded fields).
X402_AUTH = ExactEIP3009Authorization(
    from_address=MESSAGE["from"],
    to=MESSAGE["to"],
    value=str(MESSAGE["value"]),
    valid_after=str(MESSAGE["validAfter"]),
    valid_before=str(MESSAGE["validBefore"]),
    nonce=MESSAGE["nonce"],
)
X402_DOMAIN_ARGS = (DOMAIN["chainId"], DOMAIN["verifyingContract"], DOMAIN["name"], "2")

KECCAK_INPUT = bytes(range(64))
# A fixed test key (never use it for anything real).
SECRET = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


# --------------------------------------------------------------------------- helpers


def _pycryptodome_keccak256(data: bytes) -> bytes:
    return cryptodome_keccak.new(data=data, digest_bits=256).digest()


def _coincurve_recover_address(signature: bytes, digest: bytes) -> str:
    """The "coincurve + keccak" baseline: recover the point, hash it, keep 20 bytes.

    Returns a lowercase hex address (no EIP-55 checksum, which would cost
    another keccak): the cheapest honest way to get an address in Python.
    """
    point = coincurve.PublicKey.from_signature_and_message(signature, digest, hasher=None)
    return "0x" + _pycryptodome_keccak256(point.format(compressed=False)[1:])[12:].hex()


def _x402_recover_typed(signature: bytes, expected: str) -> bool:
    """The x402 facilitator's EOA path for exact/EIP-3009 (minus the RPC get_code)."""
    digest = hash_eip3009_authorization(X402_AUTH, *X402_DOMAIN_ARGS)
    return verify_eoa_signature(digest, signature, expected)


PACKAGES = (
    "eth-account",
    "eth-keys",
    "eth-hash",
    "eth-utils",
    "eth-abi",
    "coincurve",
    "pycryptodome",
    "x402",
)


# --------------------------------------------------------------------------- cases


def build_cases() -> list[Case]:
    """Build every case and check all implementations agree before timing."""
    key = fastx402.PrivateKey(SECRET)
    acct = Account.from_key(SECRET)
    ek_key = eth_keys.keys.PrivateKey(SECRET)
    cc_key = coincurve.PrivateKey(SECRET)
    x402_signer = EthAccountSigner(acct)
    domain, types, primary, message = build_typed_data_for_signing(X402_AUTH, *X402_DOMAIN_ARGS)
    x402_fields = {
        name: [TypedDataField(name=f["name"], type=f["type"]) for f in fields]
        for name, fields in types.items()
    }
    x402_sign_args = (domain, x402_fields, primary, message)

    # --- correctness gates
    digests = {
        "fastx402": fastx402.hash_typed_data(TYPED_DATA),
        "eth-account": _hash_eip191_message(encode_typed_data(full_message=TYPED_DATA)),
        "x402": hash_eip3009_authorization(X402_AUTH, *X402_DOMAIN_ARGS),
    }
    for name, digest in digests.items():
        assert digest == EXPECTED_DIGEST, f"{name} digest mismatch: {digest.hex()}"
    digest = EXPECTED_DIGEST

    kk = {
        "fastx402": fastx402.keccak256(KECCAK_INPUT),
        "pycryptodome": _pycryptodome_keccak256(KECCAK_INPUT),
        "eth-utils": eth_utils.keccak(KECCAK_INPUT),
    }
    assert len(set(kk.values())) == 1, f"keccak mismatch: {kk}"

    sig = key.sign_digest(digest)  # r || s || v, v in {27, 28}
    cc_sig = sig[:64] + bytes([sig[64] - 27])  # r || s || recid, coincurve's layout
    assert bytes(Account.unsafe_sign_hash(digest, SECRET).signature) == sig
    assert bytes(Account.unsafe_sign_hash(digest, ek_key).signature) == sig
    assert cc_key.sign_recoverable(digest, hasher=None) == cc_sig
    assert key.sign_typed_data(TYPED_DATA) == sig
    assert bytes(acct.sign_typed_data(full_message=TYPED_DATA).signature) == sig
    assert x402_signer.sign_typed_data(*x402_sign_args) == sig

    address = key.address
    assert address == acct.address
    assert fastx402.recover_digest(digest, sig) == address
    assert Account._recover_hash(digest, signature=sig) == address
    assert verify_eoa_signature(digest, sig, address)
    assert _coincurve_recover_address(cc_sig, digest) == address.lower()
    assert fastx402.recover_typed_data(TYPED_DATA, sig) == address
    signable = encode_typed_data(full_message=TYPED_DATA)
    assert Account.recover_message(signable, signature=sig) == address
    assert _x402_recover_typed(sig, address)

    ns: dict[str, Any] = {
        "fastx402": fastx402,
        "Account": Account,
        "encode_typed_data": encode_typed_data,
        "hash_eip191": _hash_eip191_message,
        "hash_eip3009_authorization": hash_eip3009_authorization,
        "verify_eoa_signature": verify_eoa_signature,
        "pycryptodome_keccak": cryptodome_keccak,
        "eth_utils": eth_utils,
        "cc_recover": _coincurve_recover_address,
        "x402_recover_typed": _x402_recover_typed,
        "data64": KECCAK_INPUT,
        "td": TYPED_DATA,
        "auth": X402_AUTH,
        "dom": X402_DOMAIN_ARGS,
        "digest": digest,
        "sig": sig,
        "cc_sig": cc_sig,
        "secret": SECRET,
        "address": address,
        "key": key,
        "acct": acct,
        "ek_key": ek_key,
        "cc_key": cc_key,
        "x402_signer": x402_signer,
        "x402_args": x402_sign_args,
    }

    def case(group: str, impl: str, call: str, stmt: str) -> Case:
        return Case(group, impl, call, stmt, ns)

    k, d, s, r = "keccak(64 B)", "TWA digest", "sign digest", "recover digest"
    st, rt = "sign typed data", "recover typed data"
    return [
        case(k, "fastx402", "keccak256(b)", "fastx402.keccak256(data64)"),
        case(
            k,
            "pycryptodome",
            "keccak.new(data=b, digest_bits=256).digest()",
            "pycryptodome_keccak.new(data=data64, digest_bits=256).digest()",
        ),
        case(k, "eth-utils", "eth_utils.keccak(b)", "eth_utils.keccak(data64)"),
        case(d, "fastx402", "hash_typed_data(dict)", "fastx402.hash_typed_data(td)"),
        case(
            d,
            "eth-account",
            "_hash_eip191_message(encode_typed_data(full_message=...))",
            "hash_eip191(encode_typed_data(full_message=td))",
        ),
        case(
            d,
            "x402 SDK",
            "hash_eip3009_authorization(auth, ...) (exact facilitator verify path)",
            "hash_eip3009_authorization(auth, *dom)",
        ),
        case(s, "fastx402", "PrivateKey.sign_digest(h)", "key.sign_digest(digest)"),
        case(
            s,
            "eth-account",
            "Account.unsafe_sign_hash(h, key_bytes) (= LocalAccount)",
            "Account.unsafe_sign_hash(digest, secret)",
        ),
        case(
            s,
            "eth-account (parsed key)",
            "Account.unsafe_sign_hash(h, eth_keys.PrivateKey)",
            "Account.unsafe_sign_hash(digest, ek_key)",
        ),
        case(
            s,
            "coincurve",
            "PrivateKey.sign_recoverable(h, hasher=None)",
            "cc_key.sign_recoverable(digest, hasher=None)",
        ),
        case(
            r,
            "fastx402",
            "recover_digest(h, sig) -> EIP-55",
            "fastx402.recover_digest(digest, sig)",
        ),
        case(
            r,
            "eth-account",
            "Account._recover_hash(h, signature=sig) -> EIP-55",
            "Account._recover_hash(digest, signature=sig)",
        ),
        case(
            r,
            "x402 SDK",
            "verify_eoa_signature(h, sig, addr) (eth-keys) -> bool",
            "verify_eoa_signature(digest, sig, address)",
        ),
        case(
            r,
            "coincurve + keccak",
            "PublicKey.from_signature_and_message + pycryptodome keccak -> lowercase hex",
            "cc_recover(cc_sig, digest)",
        ),
        case(st, "fastx402", "PrivateKey.sign_typed_data(dict)", "key.sign_typed_data(td)"),
        case(
            st,
            "eth-account",
            "LocalAccount.sign_typed_data(full_message=...)",
            "acct.sign_typed_data(full_message=td)",
        ),
        case(
            st,
            "x402 SDK",
            "EthAccountSigner.sign_typed_data(domain, types, primary, msg)",
            "x402_signer.sign_typed_data(*x402_args)",
        ),
        case(
            rt, "fastx402", "recover_typed_data(dict, sig)", "fastx402.recover_typed_data(td, sig)"
        ),
        case(
            rt,
            "eth-account",
            "Account.recover_message(encode_typed_data(full_message=...), signature=sig)",
            "Account.recover_message(encode_typed_data(full_message=td), signature=sig)",
        ),
        case(
            rt,
            "x402 SDK",
            "hash_eip3009_authorization + verify_eoa_signature -> bool",
            "x402_recover_typed(sig, address)",
        ),
    ]


# --------------------------------------------------------------------------- targets


def check_targets(results: list[Result]) -> list[Target]:
    by = {(r.group, r.impl): r for r in results}

    def med(group: str, impl: str) -> float:
        return by[(group, impl)].median_us

    kec = med("keccak(64 B)", "fastx402")
    dig = med("TWA digest", "fastx402")
    dig_ratio = by[("TWA digest", "eth-account")].ratio_vs_fastx402
    sig = med("sign digest", "fastx402")
    rec = med("recover digest", "fastx402")
    cck = med("recover digest", "coincurve + keccak")
    return [
        Target("keccak(64 B)", "<= 1 us", f"{kec:.3f} us", kec <= 1.0),
        Target("TWA digest", "<= 8 us", f"{dig:.2f} us", dig <= 8.0),
        Target("TWA digest", ">= 15x eth-account", f"{dig_ratio:.1f}x", dig_ratio >= 15.0),
        Target("sign digest", "<= 40 us", f"{sig:.2f} us", sig <= 40.0),
        Target("recover digest", "<= 50 us", f"{rec:.2f} us", rec <= 50.0),
        Target(
            "recover digest",
            "<= coincurve + keccak",
            f"{rec:.2f} vs {cck:.2f} us ({cck / rec:.2f}x)",
            rec <= cck,
        ),
    ]


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
    print_machine("fastx402 crypto benchmarks", facts, load_start)
    print(settings_line(settings))
    print()

    cases = build_cases()
    print("correctness: all implementations agree (digest 0xf2569928..., signatures, addresses)")
    print()
    run_groups(cases, settings)

    results = summarize(cases)
    targets = check_targets(results)
    load_end = os.getloadavg()
    elapsed = time.perf_counter() - started

    print_table(results, args.markdown)
    print()
    print_targets(targets)
    print()
    print(
        f"load average {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} (at end);"
        f" wall time {elapsed:.1f} s"
    )

    if args.json is not None:
        write_json(
            args.json,
            results_payload(facts, load_start, load_end, settings, results, targets, elapsed),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
