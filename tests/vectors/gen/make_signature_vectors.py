#!/usr/bin/env python3
# ruff: noqa: E501  (provenance strings and one-line case tables)
"""Writes tests/vectors/signatures.json: secp256k1 recovery vectors shared by the
Rust (tests/vectors.rs) and Python test suites.

Run from the repository root with the project's virtualenv (eth-account 0.14):

    .venv/bin/python tests/vectors/gen/make_signature_vectors.py

Every value is either copied from a published spec (and re-checked here with
eth-account), computed here with eth-account, or derived from such a value by
plain modular arithmetic that this script performs and documents. The script
asserts every independent check it can make and exits non-zero otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import eth_account
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct, encode_typed_data
from eth_keys import KeyAPI
from eth_keys.backends import NativeECCBackend
from eth_utils import to_checksum_address

OUT = Path(__file__).resolve().parent.parent / "signatures.json"

# secp256k1 (SEC 2, section 2.4.1)
P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N // 2


def h32(x: int) -> str:
    return "0x" + x.to_bytes(32, "big").hex()


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def split(sig: bytes) -> tuple[int, int, int]:
    assert len(sig) == 65
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]


def join(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def compact(r: int, s: int, v: int) -> bytes:
    """EIP-2098 `r ‖ (yParity << 255 | s)`."""
    assert s <= HALF_N and v in (27, 28)
    return r.to_bytes(32, "big") + (((v - 27) << 255) | s).to_bytes(32, "big")


def recover(digest: bytes, sig65: bytes) -> str:
    """eth-account's recovery (v = 27/28 form)."""
    return Account._recover_hash(digest, signature=sig65)


def native_recover_allow_high_s(digest: bytes, r: int, s: int, v: int) -> str:
    """eth-keys' pure-Python backend, which does not enforce low s on recovery."""
    keys = KeyAPI(NativeECCBackend)
    sig = keys.Signature(vrs=(v - 27, r, s))
    return keys.ecdsa_recover(digest, sig).to_checksum_address()


def is_x_coordinate(x: int) -> bool:
    """Whether x^3 + 7 is a square mod p (Euler's criterion)."""
    rhs = (pow(x, 3, P) + 7) % P
    return rhs == 0 or pow(rhs, (P - 1) // 2, P) == 1


OK = lambda address: {"address": address}  # noqa: E731
ERR = lambda code: {"error": code}  # noqa: E731


def both(outcome: dict) -> dict:
    return {"default": outcome, "allow_high_s": outcome}


cases: list[dict] = []
keys: dict[str, dict] = {}


def add(name: str, source: str, digest: bytes, sig: bytes, expect: dict, **extra) -> None:
    case = {"name": name, "source": source, "digest": hx(digest), "signature": hx(sig)}
    case.update(extra)
    case["expect"] = expect
    cases.append(case)


# ---------------------------------------------------------------------------
# 1. The x402 v2 spec's example payment (https://github.com/coinbase/x402, specs/).

X402_SOURCE = (
    "x402 specification v2, exact scheme on EVM, example PaymentPayload (EIP-3009 "
    "TransferWithAuthorization on Base Sepolia USDC); digest recomputed here with "
    "eth_account.messages.encode_typed_data, recovery checked with Account._recover_hash"
)
X402_TYPED = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "TransferWithAuthorization": [
            {"name": "from", "type": "address"},
            {"name": "to", "type": "address"},
            {"name": "value", "type": "uint256"},
            {"name": "validAfter", "type": "uint256"},
            {"name": "validBefore", "type": "uint256"},
            {"name": "nonce", "type": "bytes32"},
        ],
    },
    "primaryType": "TransferWithAuthorization",
    "domain": {
        "name": "USDC",
        "version": "2",
        "chainId": 84532,
        "verifyingContract": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    },
    "message": {
        "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
        "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        "value": 10000,
        "validAfter": 1740672089,
        "validBefore": 1740672154,
        "nonce": bytes.fromhex("f3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"),
    },
}
X402_DIGEST = bytes.fromhex("f256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6")
X402_SIG = bytes.fromhex(
    "2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c"
)
X402_FROM = "0x857b06519E91e3A54538791bDbb0E22373e36b66"

assert _hash_eip191_message(encode_typed_data(full_message=X402_TYPED)) == X402_DIGEST
assert recover(X402_DIGEST, X402_SIG) == X402_FROM
xr, xs, xv = split(X402_SIG)
assert xs <= HALF_N and xv == 28

add("x402_v2_example", X402_SOURCE, X402_DIGEST, X402_SIG, both(OK(X402_FROM)))
add(
    "x402_v2_example_v0_1",
    "x402_v2_example with v written as the y parity (v - 27 = 1)",
    X402_DIGEST,
    join(xr, xs, xv - 27),
    both(OK(X402_FROM)),
)
add(
    "x402_v2_example_eip2098",
    "x402_v2_example in EIP-2098 compact form r ‖ (yParity << 255 | s), computed here",
    X402_DIGEST,
    compact(xr, xs, xv),
    both(OK(X402_FROM)),
)

# High-s twin: (r, n - s) with the parity flipped is the same ECDSA signature.
twin_s = N - xs
twin_v = 55 - xv  # 27 <-> 28
assert twin_s > HALF_N
assert native_recover_allow_high_s(X402_DIGEST, xr, twin_s, twin_v) == X402_FROM
twin = join(xr, twin_s, twin_v)
add(
    "x402_v2_example_high_s_twin",
    "x402_v2_example's malleated twin s' = n - s, v' = 55 - v, computed here; eth-keys' "
    "native backend (no low-s rule on recovery) recovers the same address",
    X402_DIGEST,
    twin,
    {"default": ERR("high_s"), "allow_high_s": OK(X402_FROM)},
)
add(
    "x402_v2_example_high_s_twin_v0_1",
    "x402_v2_example_high_s_twin with v written as the y parity",
    X402_DIGEST,
    join(xr, twin_s, twin_v - 27),
    {"default": ERR("high_s"), "allow_high_s": OK(X402_FROM)},
)

# Rejections derived from the x402 example by editing one component.
rej = "x402_v2_example with "
for v in (26, 29, 2, 0xFF):
    add(f"reject_v_{v}", rej + f"v = {v}", X402_DIGEST, join(xr, xs, v), both(ERR("bad_v")))
add("reject_r_zero", rej + "r = 0", X402_DIGEST, join(0, xs, xv), both(ERR("r_out_of_range")))
add("reject_s_zero", rej + "s = 0", X402_DIGEST, join(xr, 0, xv), both(ERR("s_out_of_range")))
add("reject_r_n", rej + "r = n", X402_DIGEST, join(N, xs, xv), both(ERR("r_out_of_range")))
add("reject_s_n", rej + "s = n", X402_DIGEST, join(xr, N, xv), both(ERR("s_out_of_range")))
add(
    "reject_r_max",
    rej + "r = 2^256 - 1",
    X402_DIGEST,
    join(2**256 - 1, xs, xv),
    both(ERR("r_out_of_range")),
)
add(
    "reject_s_n_plus_1",
    rej + "s = n + 1 (a library that reduced s mod n would read s = 1)",
    X402_DIGEST,
    join(xr, N + 1, xv),
    both(ERR("s_out_of_range")),
)
add(
    "reject_r_n_plus_1",
    rej + "r = n + 1 (a library that reduced r mod n would read r = 1)",
    X402_DIGEST,
    join(N + 1, xs, xv),
    both(ERR("r_out_of_range")),
)
add(
    "reject_compact_r_zero",
    "x402_v2_example_eip2098 with r = 0",
    X402_DIGEST,
    compact(0, xs, xv),
    both(ERR("r_out_of_range")),
)
for length in (0, 63, 66, 130):
    body = (X402_SIG * 3)[:length]
    add(
        f"reject_length_{length}",
        f"first {length} bytes of x402_v2_example repeated",
        X402_DIGEST,
        body,
        both(ERR("bad_length")),
    )

# r in range but not the x-coordinate of any curve point: nothing to recover.
bad_r = xr
while is_x_coordinate(bad_r):
    bad_r += 1
assert 0 < bad_r < N
add(
    "reject_r_not_on_curve",
    rej
    + f"r = smallest value >= r with r^3 + 7 a non-square mod p (r + {bad_r - xr}), computed here",
    X402_DIGEST,
    join(bad_r, xs, xv),
    both(ERR("recovery_failed")),
)

# A valid signature over another digest recovers some other address (not an error).
other_digest = X402_DIGEST[:-1] + bytes([X402_DIGEST[-1] ^ 1])
other = recover(other_digest, X402_SIG)
assert other != X402_FROM
add(
    "x402_v2_example_wrong_digest",
    "x402_v2_example's signature over the digest with its last bit flipped; "
    "address from Account._recover_hash",
    other_digest,
    X402_SIG,
    both(OK(other)),
)

# ---------------------------------------------------------------------------
# 2. EIP-2098 test vectors (EIPS/eip-2098.md "Test Vectors"): personal_sign
#    (EIP-191) messages signed by a fixed key; reproduced here with eth-account.

EIP2098_KEY = "0x1234567890123456789012345678901234567890123456789012345678901234"
EIP2098_ADDR = Account.from_key(EIP2098_KEY).address
keys["eip2098"] = {
    "private_key": EIP2098_KEY,
    "address": EIP2098_ADDR,
    "source": "EIP-2098 test vectors; address from eth_account.Account.from_key",
}
EIP2098_VECTORS = [
    (
        "Hello World",
        0x68A020A209D3D56C46F38CC50A33F704F4A9A10A59377F8DD762AC66910E9B90,
        0x7E865AD05C4035AB5792787D4A0297A43617AE897930A6FE4D822B8FAEA52064,
        27,
        0x7E865AD05C4035AB5792787D4A0297A43617AE897930A6FE4D822B8FAEA52064,
    ),
    (
        "It's a small(er) world",
        0x9328DA16089FCBA9BECECA81663203989F2DF5FE1FAA6291A45381C81BD17F76,
        0x139C6D6B623B42DA56557E5E734A43DC83345DDFADEC52CBE24D0CC64F550793,
        28,
        0x939C6D6B623B42DA56557E5E734A43DC83345DDFADEC52CBE24D0CC64F550793,
    ),
]
for i, (text, r, s, v, y_parity_and_s) in enumerate(EIP2098_VECTORS, 1):
    signable = encode_defunct(text=text)
    digest = _hash_eip191_message(signable)
    signed = Account.sign_message(signable, EIP2098_KEY)
    assert (signed.r, signed.s, signed.v) == (r, s, v), text
    assert compact(r, s, v)[32:] == y_parity_and_s.to_bytes(32, "big")
    src = f"EIP-2098 test vector {i} (message {text!r}); reproduced with eth_account.Account.sign_message(encode_defunct(text=...))"
    msg = {"hex": hx(text.encode())}
    add(
        f"eip2098_{i}",
        src,
        digest,
        join(r, s, v),
        both(OK(EIP2098_ADDR)),
        message=msg,
        signed_by="eip2098",
    )
    add(
        f"eip2098_{i}_compact",
        src + "; compact form r ‖ yParityAndS as printed in the EIP",
        digest,
        r.to_bytes(32, "big") + y_parity_and_s.to_bytes(32, "big"),
        both(OK(EIP2098_ADDR)),
        message=msg,
    )
    add(
        f"eip2098_{i}_v0_1",
        src + "; v written as the y parity",
        digest,
        join(r, s, v - 27),
        both(OK(EIP2098_ADDR)),
        message=msg,
    )
    add(
        f"eip2098_{i}_high_s_twin",
        src + "; malleated twin s' = n - s, v' = 55 - v computed here",
        digest,
        join(r, N - s, 55 - v),
        {"default": ERR("high_s"), "allow_high_s": OK(EIP2098_ADDR)},
        message=msg,
    )
    assert native_recover_allow_high_s(digest, r, N - s, 55 - v) == EIP2098_ADDR

# ---------------------------------------------------------------------------
# 3. EIP-191 personal_sign vectors computed with eth-account and a fixed,
#    publicly known test key (anvil / hardhat account #0; never hold funds with it).

TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TEST_ADDR = Account.from_key(TEST_KEY).address
assert TEST_ADDR == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
keys["anvil0"] = {
    "private_key": TEST_KEY,
    "address": TEST_ADDR,
    "source": "anvil / hardhat default account #0 (public test key); address from eth_account.Account.from_key",
}
PERSONAL = [
    ("hello_world", encode_defunct(text="hello world")),
    ("empty", encode_defunct(text="")),
    ("unicode", encode_defunct(text="h\u00e9llo w\u00f6rld \U0001f30d")),
    ("newlines", encode_defunct(text="line one\nline two\r\n")),
    ("bytes_hexstr", encode_defunct(hexstr="0xdeadbeef00ff")),
    ("length_100", encode_defunct(text="x" * 100)),
    ("length_1000", encode_defunct(text="fastx402 " * 111 + "!")),
    ("looks_like_digest", encode_defunct(primitive=X402_DIGEST)),
]
for name, signable in PERSONAL:
    digest = _hash_eip191_message(signable)
    signed = Account.sign_message(signable, TEST_KEY)
    assert signed.s <= HALF_N and signed.v in (27, 28)
    assert recover(digest, signed.signature) == TEST_ADDR
    add(
        f"eip191_{name}",
        "eth_account.Account.sign_message(encode_defunct(...), anvil0) with eth-account "
        f"{eth_account.__version__}; digest = eth_account.messages._hash_eip191_message",
        digest,
        bytes(signed.signature),
        both(OK(TEST_ADDR)),
        message={"hex": hx(signable.body)},
        signed_by="anvil0",
    )

# Raw digest signing (no EIP-191 prefix), as EIP-712 payment signing does.
for label, digest in [
    ("x402_digest", X402_DIGEST),
    ("all_ff", b"\xff" * 32),
    ("zero", b"\x00" * 32),
]:
    signed = Account.unsafe_sign_hash(digest, TEST_KEY)
    assert signed.s <= HALF_N and signed.v in (27, 28)
    assert recover(digest, signed.signature) == TEST_ADDR
    add(
        f"raw_digest_{label}",
        f"eth_account.Account.unsafe_sign_hash(digest, anvil0) with eth-account {eth_account.__version__}",
        digest,
        bytes(signed.signature),
        both(OK(TEST_ADDR)),
        signed_by="anvil0",
    )

# ---------------------------------------------------------------------------

for c in cases:
    for outcome in c["expect"].values():
        if "address" in outcome:
            assert outcome["address"] == to_checksum_address(outcome["address"])

doc = {
    "provenance": {
        "generator": "tests/vectors/gen/make_signature_vectors.py",
        "libraries": {"eth-account": eth_account.__version__},
        "curve": "secp256k1; n = " + h32(N),
        "sources": {
            "x402_v2_example*": "x402 specification v2 example payment (https://github.com/coinbase/x402, specs/: "
            "the exact scheme on EVM): digest, signature and from address copied; digest recomputed from the typed data "
            "with eth-account, recovery checked with eth-account",
            "*_high_s_twin*": "derived here: s' = n - s, v' = 55 - v; eth-keys' NativeECCBackend recovers the same "
            "address from the twin",
            "reject_*": "derived here from x402_v2_example by replacing one component (v, r, s or the length)",
            "eip2098_*": "EIP-2098 'Test Vectors' (key 0x1234...1234, messages 'Hello World' and "
            '"It\'s a small(er) world", r, s, v, yParityAndS); eth-account reproduces r, s, v exactly',
            "eip191_*": "computed with eth-account: Account.sign_message(encode_defunct(...)) with key anvil0",
            "raw_digest_*": "computed with eth-account: Account.unsafe_sign_hash(digest) with key anvil0",
        },
        "schema": {
            "digest": "32-byte hash that was signed",
            "signature": "bytes given to recovery: 65 bytes r ‖ s ‖ v or 64 bytes EIP-2098 r ‖ yParityAndS",
            "message.hex": "EIP-191 personal message body; digest == keccak256('\\x19Ethereum Signed "
            "Message:\\n' ‖ len ‖ body)",
            "signed_by": "key (in 'keys') whose RFC 6979 low-s signature of digest is exactly this signature",
            "expect.default / expect.allow_high_s": "outcome of recovering an address under the default policy "
            "(low s required) and with allow_high_s: {address} or {error}",
            "errors": "bad_length | bad_v | r_out_of_range | s_out_of_range | high_s | recovery_failed | zero_address",
        },
    },
    "keys": keys,
    "cases": cases,
}

OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)
