#!/usr/bin/env python3
# ruff: noqa: E501  (provenance strings and one-line case tables)
"""Writes tests/vectors/eip1559.json: signed EIP-1559 (type 2) transactions,
malformed transactions, RLP encodings and token call data, read by the Rust
tests in src/chain/ (tx.rs, rlp.rs, calls.rs).

Run from the repository root with the project's virtualenv (eth-account 0.14):

    .venv/bin/python tests/vectors/gen/make_eip1559_vectors.py

How each value is obtained:

* `transactions`: `Account.sign_transaction({type: 2, ...}, key)` (eth-account,
  RFC 6979, so signatures are reproducible byte for byte). For each one the
  script also recomputes, independently of eth-account's transaction classes,
  the signing payload `0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas,
  maxFeePerGas, gas, to, value, data, accessList])` with pyrlp and its keccak,
  checks it equals `TypedTransaction.from_dict(tx).hash()`, checks that pyrlp
  decodes the raw transaction into the 12 expected fields, that
  `keccak(raw) == signed.hash`, and that `Account.recover_transaction(raw)` is
  the key's address.
* `invalid_transactions`: built here by editing the RLP fields of a valid
  transaction with pyrlp (or by signing out-of-range fields with eth-account,
  which does not range-check them) and, where the edit touches signed fields,
  re-signing with `Account.unsafe_sign_hash`. `error` is the `TxError::code()`
  fastx402 must return; `eth_account_accepts` records whether
  `Account.recover_transaction` accepts the same bytes (fastx402 is stricter).
* `rlp.valid`: pyrlp 5 `rlp.encode` of the given structure (bytes as hex, lists
  as JSON arrays), round-tripped through `rlp.decode(strict=True)`; the
  Ethereum wiki's RLP examples are included and asserted here.
* `rlp.invalid`: hand-written non-canonical or malformed encodings;
  `pyrlp_rejects` records whether `rlp.decode(strict=True)` refuses them.
* `calls`: call data `selector ‖ eth_abi.encode(types, values)` (eth-abi 6)
  with the selector = keccak(signature)[:4]; `returns` are `eth_abi.encode` of
  return values; `logs` are built from `keccak(event signature)` and
  `eth_abi.encode` of the indexed and non-indexed values.

The script asserts every independent check it can make and exits non-zero otherwise.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import rlp
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_canonical_address

OUT = Path(__file__).resolve().parent.parent / "eip1559.json"

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
U256_MAX = 2**256 - 1
U64_MAX = 2**64 - 1

KEYS = {
    "anvil0": "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "anvil1": "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "one": "0x" + (1).to_bytes(32, "big").hex(),
    "n_minus_1": "0x" + (N - 1).to_bytes(32, "big").hex(),
}

USDC_BASE = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
ANVIL1_ADDR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PAYEE = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
NONCE32 = bytes.fromhex("f3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480")
GWEI = 10**9


def hx(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def int_bytes(v: int) -> bytes:
    """RLP integer: big-endian, no leading zeros, zero is empty."""
    return b"" if v == 0 else v.to_bytes((v.bit_length() + 7) // 8, "big")


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def call(signature: str, types: list[str], values: list[Any]) -> bytes:
    return selector(signature) + abi_encode(types, values)


TWA_VRS_SIG = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
TWA_BYTES_SIG = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
TWA_HEAD = ["address", "address", "uint256", "uint256", "uint256", "bytes32"]


# ---------------------------------------------------------------------------
# Transactions


def unsigned_fields(tx: dict[str, Any]) -> list[Any]:
    to = tx.get("to")
    return [
        int_bytes(tx["chainId"]),
        int_bytes(tx["nonce"]),
        int_bytes(tx["maxPriorityFeePerGas"]),
        int_bytes(tx["maxFeePerGas"]),
        int_bytes(tx["gas"]),
        to_canonical_address(to) if to else b"",
        int_bytes(tx["value"]),
        bytes(tx["data"]),
        [
            [to_canonical_address(e["address"]), [bytes.fromhex(k[2:]) for k in e["storageKeys"]]]
            for e in tx["accessList"]
        ],
    ]


def tx_json(tx: dict[str, Any]) -> dict[str, Any]:
    return {
        "chain_id": str(tx["chainId"]),
        "nonce": str(tx["nonce"]),
        "max_priority_fee_per_gas": str(tx["maxPriorityFeePerGas"]),
        "max_fee_per_gas": str(tx["maxFeePerGas"]),
        "gas_limit": str(tx["gas"]),
        "to": tx.get("to"),
        "value": str(tx["value"]),
        "data": hx(tx["data"]),
        "access_list": [
            {"address": e["address"], "storage_keys": e["storageKeys"]} for e in tx["accessList"]
        ],
    }


def sign(name: str, key_name: str, tx: dict[str, Any], note: str) -> dict[str, Any]:
    key = KEYS[key_name]
    acct = Account.from_key(key)
    full = {"type": 2, **tx}
    if full.get("to") is None:
        full.pop("to", None)
    signed = Account.sign_transaction(full, key)
    raw = bytes(signed.raw_transaction)

    # Independent recomputation of the signing payload and hash.
    payload = b"\x02" + rlp.encode(unsigned_fields(tx))
    signing_hash = keccak(payload)
    assert signing_hash == bytes(TypedTransaction.from_dict(full).hash()), name
    # The raw transaction is 0x02 ‖ rlp(unsigned fields ‖ [yParity, r, s]).
    assert raw[0] == 2
    fields = rlp.decode(raw[1:], strict=True)
    assert len(fields) == 12
    assert rlp.encode(fields[:9]) == payload[1:], name
    y, r, s = (int.from_bytes(f, "big") for f in fields[9:])
    assert (y, r, s) == (signed.v, signed.r, signed.s), name
    assert y in (0, 1) and 0 < r < N and 0 < s <= N // 2, name
    assert (
        b"\x02" + rlp.encode([*unsigned_fields(tx), int_bytes(y), int_bytes(r), int_bytes(s)])
        == raw
    )
    assert keccak(raw) == bytes(signed.hash), name
    assert Account.recover_transaction(raw) == acct.address, name
    return {
        "name": name,
        "note": note,
        "key": key_name,
        "tx": tx_json(tx),
        "signing_payload": hx(payload),
        "signing_hash": hx(signing_hash),
        "y_parity": y,
        "r": hx(r.to_bytes(32, "big")),
        "s": hx(s.to_bytes(32, "big")),
        "raw": hx(raw),
        "hash": hx(bytes(signed.hash)),
        "sender": acct.address,
    }


def base_tx(**kw: Any) -> dict[str, Any]:
    tx = {
        "chainId": 1,
        "nonce": 0,
        "maxPriorityFeePerGas": 1 * GWEI,
        "maxFeePerGas": 30 * GWEI,
        "gas": 21000,
        "to": ANVIL1_ADDR,
        "value": 10**18,
        "data": b"",
        "accessList": [],
    }
    tx.update(kw)
    return tx


def search(tx_for: Any, key_name: str, pred: Any) -> dict[str, Any]:
    """The first tx_for(i), i = 0, 1, ..., whose eth-account signature satisfies pred(r, s)."""
    for i in range(100_000):
        tx = tx_for(i)
        full = {"type": 2, **tx}
        signed = Account.sign_transaction(full, KEYS[key_name])
        if pred(signed.r, signed.s):
            return tx
    raise AssertionError("no transaction found")


TWA_DATA = call(
    TWA_VRS_SIG,
    [*TWA_HEAD, "uint8", "bytes32", "bytes32"],
    [
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        PAYEE,
        10000,
        1740672089,
        1740672154,
        NONCE32,
        28,
        b"\x11" * 32,
        b"\x22" * 32,
    ],
)

STORAGE = [
    "0x" + "00" * 32,
    "0x" + "00" * 31 + "01",
    "0x" + keccak(b"slot").hex(),
]


def transactions() -> list[dict[str, Any]]:
    out = [
        sign(
            "eth_transfer_mainnet",
            "anvil0",
            base_tx(),
            "plain value transfer, chain 1, nonce 0, empty data",
        ),
        sign(
            "create_contract_anvil",
            "anvil0",
            base_tx(
                chainId=31337,
                nonce=7,
                to=None,
                value=0,
                gas=1_500_000,
                data=bytes.fromhex(
                    "6080604052348015600f57600080fd5b50603f80601d6000396000f3fe6080604052600080fdfea164736f6c6343000818000a"
                ),
            ),
            "contract creation (to = None) with init code",
        ),
        sign(
            "create_contract_empty",
            "anvil1",
            base_tx(chainId=31337, nonce=1, to=None, value=5, gas=53000, data=b""),
            "contract creation with empty init code and a value",
        ),
        sign(
            "usdc_twa_base",
            "anvil0",
            base_tx(
                chainId=8453,
                nonce=42,
                to=USDC_BASE,
                value=0,
                gas=100_000,
                maxPriorityFeePerGas=1_000_000,
                maxFeePerGas=12_000_000,
                data=TWA_DATA,
            ),
            "transferWithAuthorization (v,r,s) call on Base USDC",
        ),
        sign(
            "access_list_no_keys",
            "anvil1",
            base_tx(chainId=8453, nonce=3, accessList=[{"address": USDC_BASE, "storageKeys": []}]),
            "access list entry without storage keys",
        ),
        sign(
            "access_list_many",
            "anvil0",
            base_tx(
                chainId=31337,
                nonce=300,
                to=USDC_BASE,
                value=0,
                gas=80_000,
                data=selector("balanceOf(address)") + abi_encode(["address"], [PAYEE]),
                accessList=[
                    {"address": USDC_BASE, "storageKeys": STORAGE},
                    {"address": PAYEE, "storageKeys": [STORAGE[2]]},
                    {"address": ANVIL1_ADDR, "storageKeys": []},
                ],
            ),
            "three access list entries with 3, 1 and 0 storage keys (including an all-zero key)",
        ),
        sign(
            "extremes",
            "anvil0",
            base_tx(
                chainId=U64_MAX,
                nonce=U64_MAX - 1,
                maxPriorityFeePerGas=U256_MAX,
                maxFeePerGas=U256_MAX,
                gas=U64_MAX,
                value=U256_MAX,
            ),
            "largest u64 chain id and gas, nonce 2^64-2 (EIP-2681 maximum), all uint256 fields 2^256-1",
        ),
        sign(
            "zero_fees_zero_value",
            "one",
            base_tx(chainId=1, nonce=0, maxPriorityFeePerGas=0, maxFeePerGas=0, value=0, gas=1),
            "zero fees and value (encoded as empty strings), gas 1, key = 1",
        ),
        sign(
            "large_nonce_key_n_minus_1",
            "n_minus_1",
            base_tx(chainId=8453, nonce=2**32 + 5, maxFeePerGas=2**64, maxPriorityFeePerGas=2**63),
            "nonce above 2^32, fees around 2^64, key = n - 1",
        ),
        sign(
            "data_55_bytes",
            "anvil1",
            base_tx(chainId=1, nonce=55, data=bytes(range(55))),
            "55 bytes of data: the longest RLP short string",
        ),
        sign(
            "data_56_bytes",
            "anvil1",
            base_tx(chainId=1, nonce=56, data=bytes(range(56))),
            "56 bytes of data: the shortest RLP long string",
        ),
        sign(
            "data_1024_bytes",
            "anvil0",
            base_tx(chainId=31337, nonce=1024, data=bytes(i * 7 % 256 for i in range(1024))),
            "1024 bytes of data: two-byte RLP length; list payload over 255 bytes",
        ),
        sign(
            "data_single_byte_00",
            "anvil0",
            base_tx(chainId=1, nonce=1, data=b"\x00"),
            "data = 0x00, a single byte under 0x80 encoded as itself",
        ),
        sign(
            "short_r",
            "anvil0",
            search(
                lambda i: base_tx(chainId=31337, nonce=10_000 + i),
                "anvil0",
                lambda r, s: r < 2**248,
            ),
            "the first nonce from 10000 whose signature has r < 2^248 (r encoded in 31 bytes or fewer)",
        ),
        sign(
            "short_s",
            "anvil0",
            search(
                lambda i: base_tx(chainId=31337, nonce=20_000 + i),
                "anvil0",
                lambda r, s: s < 2**248,
            ),
            "the first nonce from 20000 whose signature has s < 2^248 (s encoded in 31 bytes or fewer)",
        ),
    ]
    parities = {t["y_parity"] for t in out}
    assert parities == {0, 1}, parities
    assert any(len(int_bytes(int(t["r"], 16))) < 32 for t in out)
    assert any(len(int_bytes(int(t["s"], 16))) < 32 for t in out)
    return out


# ---------------------------------------------------------------------------
# Invalid transactions


def resign(fields: list[Any], key: str) -> list[Any]:
    """Signs 0x02 ‖ rlp(fields[:9]) and appends yParity, r, s."""
    digest = keccak(b"\x02" + rlp.encode(fields[:9]))
    sig = Account.unsafe_sign_hash(digest, key)
    return [*fields[:9], int_bytes(sig.v - 27), int_bytes(sig.r), int_bytes(sig.s)]


def eth_account_accepts(raw: bytes) -> bool:
    try:
        Account.recover_transaction(raw)
        return True
    except Exception:
        return False


def invalid_transactions() -> list[dict[str, Any]]:
    key = KEYS["anvil0"]
    good_tx = base_tx(
        chainId=31337, nonce=9, accessList=[{"address": USDC_BASE, "storageKeys": [STORAGE[1]]}]
    )
    good = bytes(Account.sign_transaction({"type": 2, **good_tx}, key).raw_transaction)
    fields = rlp.decode(good[1:], strict=True)
    assert len(fields) == 12

    def env(fs: list[Any]) -> bytes:
        return b"\x02" + rlp.encode(fs)

    def edit(i: int, value: Any, re_sign: bool = True) -> bytes:
        fs = list(fields)
        fs[i] = value
        return env(resign(fs, key) if re_sign and i < 9 else fs)

    r = int.from_bytes(fields[10], "big")
    s = int.from_bytes(fields[11], "big")
    y = int.from_bytes(fields[9], "big")
    high_s = [*list(fields[:9]), int_bytes(1 - y), int_bytes(r), int_bytes(N - s)]

    def signed_with(**kw: Any) -> bytes:
        return bytes(Account.sign_transaction({"type": 2, **base_tx(**kw)}, key).raw_transaction)

    encoded = rlp.encode(fields)
    assert encoded[0] == 0xF8  # one length byte: the list payload is 56..255 bytes
    cases: list[tuple[str, bytes, str, str]] = [
        ("empty", b"", "empty", "no bytes at all"),
        (
            "legacy_rlp_list",
            bytes([0xF8]) + good[2:],
            "unsupported_type",
            "starts like a legacy (untyped) transaction",
        ),
        ("type_1", b"\x01" + good[1:], "unsupported_type", "EIP-2930 type byte"),
        ("type_3", b"\x03" + good[1:], "unsupported_type", "EIP-4844 type byte"),
        ("type_only", b"\x02", "rlp", "type byte and nothing else"),
        ("trailing_byte", good + b"\x00", "rlp", "one byte after the RLP list"),
        ("truncated", good[:-1], "rlp", "last byte missing"),
        (
            "not_a_list",
            b"\x02" + rlp.encode(b"\x01\x02"),
            "not_a_list",
            "the payload is an RLP string",
        ),
        ("eleven_fields", env(fields[:11]), "field_count", "s missing"),
        ("thirteen_fields", env([*fields, b""]), "field_count", "an extra field"),
        (
            "long_form_list_header",
            b"\x02" + bytes([0xF9, 0x00]) + encoded[1:],
            "rlp",
            "list length with a leading zero byte (0xf900xx instead of 0xf8xx)",
        ),
        (
            "nonce_leading_zero",
            edit(1, b"\x00\x09"),
            "field",
            "nonce 9 encoded as 0x0009 (re-signed)",
        ),
        (
            "nonce_zero_byte",
            edit(1, b"\x00"),
            "field",
            "nonce 0 encoded as 0x00 instead of the empty string (re-signed)",
        ),
        ("nonce_too_big", edit(1, b"\x01" + b"\x00" * 8), "field", "nonce 2^64 (re-signed)"),
        (
            "nonce_u64_max",
            signed_with(nonce=U64_MAX),
            "nonce_overflow",
            "nonce 2^64-1, signed by eth-account (EIP-2681: nonce < 2^64-1)",
        ),
        (
            "chain_id_too_big",
            signed_with(chainId=2**64),
            "field",
            "chain id 2^64, signed by eth-account",
        ),
        ("gas_limit_zero", signed_with(gas=0), "gas_limit_zero", "gas 0, signed by eth-account"),
        (
            "priority_fee_above_max_fee",
            signed_with(maxPriorityFeePerGas=31 * GWEI, maxFeePerGas=30 * GWEI),
            "priority_fee_above_max_fee",
            "signed by eth-account",
        ),
        ("value_33_bytes", edit(6, b"\x01" + b"\x00" * 32), "field", "value of 2^256 (re-signed)"),
        ("to_19_bytes", edit(5, b"\x11" * 19), "field", "19-byte to (re-signed)"),
        ("to_21_bytes", edit(5, b"\x11" * 21), "field", "21-byte to (re-signed)"),
        ("to_is_list", edit(5, []), "field", "to is an RLP list (re-signed)"),
        ("data_is_list", edit(7, [b"\x01"]), "field", "data is an RLP list (re-signed)"),
        ("access_list_not_list", edit(8, b"\x01"), "field", "access list is a string (re-signed)"),
        (
            "access_entry_one_item",
            edit(8, [[to_canonical_address(USDC_BASE)]]),
            "field",
            "access list entry without its key list (re-signed)",
        ),
        (
            "access_entry_three_items",
            edit(8, [[to_canonical_address(USDC_BASE), [], b""]]),
            "field",
            "access list entry with an extra item (re-signed)",
        ),
        (
            "access_address_19_bytes",
            edit(8, [[b"\x11" * 19, []]]),
            "field",
            "19-byte address in the access list (re-signed)",
        ),
        (
            "access_key_31_bytes",
            edit(8, [[to_canonical_address(USDC_BASE), [b"\x01" * 31]]]),
            "field",
            "31-byte storage key (re-signed)",
        ),
        (
            "access_keys_not_list",
            edit(8, [[to_canonical_address(USDC_BASE), b"\x01" * 32]]),
            "field",
            "storage keys given as a string (re-signed)",
        ),
        ("y_parity_2", env([*fields[:9], b"\x02", *fields[10:]]), "field", "yParity 2"),
        (
            "y_parity_27",
            env([*fields[:9], b"\x1b", *fields[10:]]),
            "field",
            "yParity 27 (legacy v)",
        ),
        (
            "y_parity_zero_byte",
            env([*fields[:9], b"\x00", *fields[10:]]),
            "field",
            "yParity 0 encoded as 0x00",
        ),
        (
            "r_leading_zero",
            env([*fields[:10], b"\x00" + fields[10], *fields[11:]]),
            "field",
            "r with a leading zero byte",
        ),
        (
            "r_33_bytes",
            env([*fields[:10], b"\x01" + b"\x00" * 32, *fields[11:]]),
            "field",
            "r of 33 bytes",
        ),
        ("r_zero", env([*fields[:10], b"", *fields[11:]]), "signature", "r = 0"),
        ("s_zero", env([*fields[:11], b""]), "signature", "s = 0"),
        ("r_equals_n", env([*fields[:10], int_bytes(N), *fields[11:]]), "signature", "r = n"),
        (
            "high_s_twin",
            env(high_s),
            "signature",
            "s' = n - s with yParity flipped: the same signer, but high s (EIP-2)",
        ),
    ]
    out = []
    for name, raw, error, note in cases:
        assert raw or name == "empty", name
        out.append(
            {
                "name": name,
                "note": note,
                "raw": hx(raw),
                "error": error,
                "eth_account_accepts": eth_account_accepts(raw),
            }
        )
    # The high-s twin recovers to the same signer in eth-account, which accepts it.
    return out


# ---------------------------------------------------------------------------
# RLP


def to_json(item: Any) -> Any:
    return [to_json(x) for x in item] if isinstance(item, list) else hx(item)


def nested(depth: int) -> list[Any]:
    """`depth` lists nested in each other, the innermost empty."""
    item: list[Any] = []
    for _ in range(depth - 1):
        item = [item]
    return item


def rlp_valid() -> list[dict[str, Any]]:
    lorem = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit"
    wiki = [
        (b"dog", "83646f67"),
        ([b"cat", b"dog"], "c88363617483646f67"),
        (b"", "80"),
        ([], "c0"),
        (b"\x00", "00"),
        (b"\x0f", "0f"),
        (b"\x04\x00", "820400"),
        ([[], [[]], [[], [[]]]], "c7c0c1c0c3c0c1c0"),
        (lorem, "b838" + lorem.hex()),
    ]
    items: list[tuple[str, Any]] = [(f"wiki_{i}", v) for i, (v, _) in enumerate(wiki)]
    for v, expected in wiki:
        assert rlp.encode(v).hex() == expected, expected
    items += [
        ("byte_7f", b"\x7f"),
        ("byte_80", b"\x80"),
        ("string_55", b"a" * 55),
        ("string_56", b"b" * 56),
        ("string_255", bytes(range(255))),
        ("string_256", bytes(256)),
        ("list_55_payload", [b"x" * 53]),
        ("list_56_payload", [b"x" * 54]),
        ("list_of_many", [int_bytes(i) for i in range(300)]),
        ("nested_16_deep", nested(16)),
        ("nested_mixed", [b"", [b"\x01", [b"\x02" * 40, []]], b"\xff" * 60, [[[[b"deep"]]]]]),
    ]
    out = []
    for name, item in items:
        enc = rlp.encode(item)
        assert rlp.decode(enc, strict=True) == item or to_json(
            rlp.decode(enc, strict=True)
        ) == to_json(item), name
        out.append({"name": name, "item": to_json(item), "encoded": hx(enc)})
    return out


def pyrlp_rejects(data: bytes) -> bool:
    try:
        rlp.decode(data, strict=True)
        return False
    except Exception:
        return True


def rlp_invalid() -> list[dict[str, Any]]:
    cases = [
        ("empty", "", "no item"),
        ("single_byte_as_short_string_00", "8100", "0x00 must be encoded as itself"),
        ("single_byte_as_short_string_7f", "817f", "0x7f must be encoded as itself"),
        ("short_string_truncated", "83646f", "declares 3 bytes, has 2"),
        ("long_string_for_short", "b803646f67", "long form for a 3-byte string"),
        ("long_string_for_55", "b837" + "61" * 55, "long form for a 55-byte string"),
        (
            "long_string_length_leading_zero",
            "b90038" + "61" * 56,
            "length-of-length with a leading zero",
        ),
        ("long_string_truncated_length", "b9", "length bytes missing"),
        ("long_string_huge_length", "bf" + "ff" * 8, "2^64-1 bytes declared, none present"),
        ("long_list_for_short", "f803c0c0c0", "long form for a 3-byte list"),
        (
            "long_list_length_leading_zero",
            "f90038" + "61" * 56,
            "list length-of-length with a leading zero",
        ),
        ("list_truncated", "c5010203", "declares 5 payload bytes, has 3"),
        ("list_item_overruns", "c28301", "inner string runs past the list payload"),
        ("trailing_bytes", "8364646400", "one byte after the item"),
        ("two_items", "c0c0", "two top-level items"),
        ("non_canonical_inside_list", "c28100", "0x8100 inside a list"),
        (
            "too_deep",
            rlp.encode(nested(17)).hex(),
            "17 nested lists: deeper than fastx402's limit of 16 (pyrlp has no limit)",
        ),
        (
            "nested_lists_bad_inner_length",
            "c1" * 17 + "c0",
            "each list declares 1 payload byte but the innermost holds 0xc0 inside a 1-byte list",
        ),
    ]
    out = []
    for name, h, note in cases:
        data = bytes.fromhex(h)
        out.append(
            {"name": name, "encoded": hx(data), "note": note, "pyrlp_rejects": pyrlp_rejects(data)}
        )
    for c in out:
        if c["name"] != "too_deep":  # pyrlp accepts any depth
            assert c["pyrlp_rejects"], c["name"]
    return out


# ---------------------------------------------------------------------------
# Calls, return data, logs


def calls() -> dict[str, Any]:
    frm = "0x857b06519E91e3A54538791bDbb0E22373e36b66"
    auth = {
        "from": frm,
        "to": PAYEE,
        "value": "10000",
        "valid_after": "1740672089",
        "valid_before": "1740672154",
        "nonce": hx(NONCE32),
    }
    big_auth = {
        "from": ANVIL1_ADDR,
        "to": USDC_BASE,
        "value": str(U256_MAX),
        "valid_after": "0",
        "valid_before": str(2**64),
        "nonce": "0x" + "ff" * 32,
    }
    r = bytes.fromhex("8c0e3a0f29cf2e7d59b6fc3ea63ab54e8d2c9a63a7c5bf0d6d4d70ff2d7fd0ab")
    s = bytes.fromhex("1a3e0bb3b3b3e04b5d7ee88c7f51b0d1a4c7c3ee3d87d2e4f3b7fb6a9f1f0a12")

    def head(a: dict[str, Any]) -> list[Any]:
        return [
            a["from"],
            a["to"],
            int(a["value"]),
            int(a["valid_after"]),
            int(a["valid_before"]),
            bytes.fromhex(a["nonce"][2:]),
        ]

    sig65 = r + s + b"\x1b"
    erc6492 = bytes(range(256)) * 2 + bytes.fromhex(
        "6492649264926492649264926492649264926492649264926492649264926492"
    )
    builders = []
    for name, a, v in [("twa_vrs_27", auth, 27), ("twa_vrs_28_extremes", big_auth, 28)]:
        builders.append(
            {
                "name": name,
                "fn": "transfer_with_authorization_vrs",
                "authorization": a,
                "signature": {"r": hx(r), "s": hx(s), "v": v},
                "calldata": hx(
                    call(
                        TWA_VRS_SIG, [*TWA_HEAD, "uint8", "bytes32", "bytes32"], [*head(a), v, r, s]
                    )
                ),
            }
        )
    for name, a, sig in [
        ("twa_bytes_65", auth, sig65),
        ("twa_bytes_erc6492", big_auth, erc6492),
        ("twa_bytes_empty", auth, b""),
    ]:
        builders.append(
            {
                "name": name,
                "fn": "transfer_with_authorization_bytes",
                "authorization": a,
                "signature_bytes": hx(sig),
                "calldata": hx(call(TWA_BYTES_SIG, [*TWA_HEAD, "bytes"], [*head(a), sig])),
            }
        )
    builders += [
        {
            "name": "authorization_state",
            "fn": "authorization_state",
            "authorizer": frm,
            "nonce": hx(NONCE32),
            "calldata": hx(
                call("authorizationState(address,bytes32)", ["address", "bytes32"], [frm, NONCE32])
            ),
        },
        {
            "name": "cancel_authorization",
            "fn": "cancel_authorization",
            "authorizer": frm,
            "nonce": hx(NONCE32),
            "signature": {"r": hx(r), "s": hx(s), "v": 28},
            "calldata": hx(
                call(
                    "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)",
                    ["address", "bytes32", "uint8", "bytes32", "bytes32"],
                    [frm, NONCE32, 28, r, s],
                )
            ),
        },
        {
            "name": "balance_of",
            "fn": "balance_of",
            "account": PAYEE,
            "calldata": hx(call("balanceOf(address)", ["address"], [PAYEE])),
        },
        {"name": "name", "fn": "name", "calldata": hx(selector("name()"))},
        {"name": "version", "fn": "version", "calldata": hx(selector("version()"))},
        {"name": "decimals", "fn": "decimals", "calldata": hx(selector("decimals()"))},
        {
            "name": "is_valid_signature",
            "fn": "is_valid_signature",
            "hash": hx(keccak(b"x402")),
            "signature_bytes": hx(sig65),
            "calldata": hx(
                call(
                    "isValidSignature(bytes32,bytes)",
                    ["bytes32", "bytes"],
                    [keccak(b"x402"), sig65],
                )
            ),
        },
    ]
    # Sanity: the vrs call for auth equals src/abi.rs's eth_abi vector except for v.
    returns = [
        {"fn": "authorization_state", "data": hx(abi_encode(["bool"], [True])), "value": True},
        {"fn": "authorization_state", "data": hx(abi_encode(["bool"], [False])), "value": False},
        {"fn": "balance_of", "data": hx(abi_encode(["uint256"], [0])), "value": "0"},
        {
            "fn": "balance_of",
            "data": hx(abi_encode(["uint256"], [U256_MAX])),
            "value": str(U256_MAX),
        },
        {"fn": "name", "data": hx(abi_encode(["string"], ["USD Coin"])), "value": "USD Coin"},
        {"fn": "name", "data": hx(abi_encode(["string"], [""])), "value": ""},
        {
            "fn": "name",
            "data": hx(abi_encode(["string"], ["Bridged USDC (Stargate) — ✓" * 3])),
            "value": "Bridged USDC (Stargate) — ✓" * 3,
        },
        {"fn": "version", "data": hx(abi_encode(["string"], ["2"])), "value": "2"},
        {"fn": "decimals", "data": hx(abi_encode(["uint8"], [6])), "value": 6},
        {"fn": "decimals", "data": hx(abi_encode(["uint8"], [255])), "value": 255},
        {
            "fn": "is_valid_signature",
            "data": hx(abi_encode(["bytes4"], [bytes.fromhex("1626ba7e")])),
            "value": True,
        },
        {
            "fn": "is_valid_signature",
            "data": hx(abi_encode(["bytes4"], [b"\xff\xff\xff\xff"])),
            "value": False,
        },
    ]
    bad_returns = [
        {
            "fn": "authorization_state",
            "data": hx(abi_encode(["uint256"], [2])),
            "note": "bool word 2",
        },
        {
            "fn": "authorization_state",
            "data": "0x",
            "note": "empty (call to an address without code)",
        },
        {
            "fn": "authorization_state",
            "data": hx(abi_encode(["bool"], [True]) + b"\x00"),
            "note": "trailing byte",
        },
        {"fn": "balance_of", "data": hx(abi_encode(["uint256"], [1])[:31]), "note": "31 bytes"},
        {
            "fn": "balance_of",
            "data": hx(abi_encode(["uint256", "uint256"], [1, 2])),
            "note": "two words",
        },
        {
            "fn": "decimals",
            "data": hx(abi_encode(["uint256"], [256])),
            "note": "uint8 out of range",
        },
        {
            "fn": "name",
            "data": hx(abi_encode(["bytes32"], [b"USD Coin".ljust(32, b"\x00")])),
            "note": "bytes32 name (MKR style)",
        },
        {"fn": "name", "data": hx(abi_encode(["bytes"], [b"\xff\xfe"])), "note": "invalid UTF-8"},
        {
            "fn": "name",
            "data": hx(abi_encode(["string"], ["USD Coin"]) + b"\x00" * 32),
            "note": "trailing word",
        },
        {
            "fn": "is_valid_signature",
            "data": hx(bytes.fromhex("1626ba7e") + b"\x00" * 27 + b"\x01"),
            "note": "magic with dirty bytes4 padding",
        },
        {"fn": "is_valid_signature", "data": hx(bytes.fromhex("1626ba7e")), "note": "4 bytes only"},
    ]

    transfer_topic = keccak(text="Transfer(address,address,uint256)")
    used_topic = keccak(text="AuthorizationUsed(address,bytes32)")
    canceled_topic = keccak(text="AuthorizationCanceled(address,bytes32)")
    assert (
        transfer_topic.hex() == "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    )

    def word(addr: str) -> bytes:
        return abi_encode(["address"], [addr])

    logs = [
        {
            "name": "transfer",
            "event": "transfer",
            "topics": [hx(transfer_topic), hx(word(frm)), hx(word(PAYEE))],
            "data": hx(abi_encode(["uint256"], [10000])),
            "decoded": {"from": frm, "to": PAYEE, "value": "10000"},
        },
        {
            "name": "transfer_max",
            "event": "transfer",
            "topics": [hx(transfer_topic), hx(word("0x" + "00" * 20)), hx(word(USDC_BASE))],
            "data": hx(abi_encode(["uint256"], [U256_MAX])),
            "decoded": {"from": "0x" + "00" * 20, "to": USDC_BASE, "value": str(U256_MAX)},
        },
        {
            "name": "authorization_used",
            "event": "authorization_used",
            "topics": [hx(used_topic), hx(word(frm)), hx(NONCE32)],
            "data": "0x",
            "decoded": {"authorizer": frm, "nonce": hx(NONCE32)},
        },
        {
            "name": "authorization_canceled",
            "event": "authorization_canceled",
            "topics": [hx(canceled_topic), hx(word(frm)), hx(NONCE32)],
            "data": "0x",
            "decoded": {"authorizer": frm, "nonce": hx(NONCE32)},
        },
    ]
    bad_logs = [
        {
            "event": "transfer",
            "topics": [hx(transfer_topic), hx(word(frm))],
            "data": hx(abi_encode(["uint256"], [1])),
            "note": "two topics",
        },
        {
            "event": "transfer",
            "topics": [
                hx(transfer_topic),
                hx(word(frm)),
                hx(word(PAYEE)),
                hx(abi_encode(["uint256"], [1])),
            ],
            "data": "0x",
            "note": "ERC-721 Transfer: tokenId indexed",
        },
        {
            "event": "transfer",
            "topics": [hx(transfer_topic), hx(b"\x01" + word(frm)[1:]), hx(word(PAYEE))],
            "data": hx(abi_encode(["uint256"], [1])),
            "note": "dirty address topic",
        },
        {
            "event": "transfer",
            "topics": [hx(transfer_topic), hx(word(frm)), hx(word(PAYEE))],
            "data": hx(abi_encode(["uint256"], [1]) + b"\x00"),
            "note": "33 data bytes",
        },
        {
            "event": "transfer",
            "topics": [hx(transfer_topic), hx(word(frm)), hx(word(PAYEE))],
            "data": "0x",
            "note": "no data",
        },
        {
            "event": "authorization_used",
            "topics": [hx(used_topic), hx(word(frm)), hx(NONCE32)],
            "data": hx(b"\x00" * 32),
            "note": "unexpected data",
        },
        {
            "event": "authorization_used",
            "topics": [hx(used_topic), hx(word(frm))],
            "data": "0x",
            "note": "nonce topic missing",
        },
    ]
    return {
        "topics": {
            "transfer": hx(transfer_topic),
            "authorization_used": hx(used_topic),
            "authorization_canceled": hx(canceled_topic),
        },
        "builders": builders,
        "returns": returns,
        "bad_returns": bad_returns,
        "logs": logs,
        "bad_logs": bad_logs,
    }


def main() -> int:
    doc = {
        "provenance": {
            "generator": "tests/vectors/gen/make_eip1559_vectors.py",
            "libraries": {
                lib: metadata.version(lib) for lib in ("eth-account", "eth-abi", "rlp", "eth-utils")
            },
            "transactions": "eth-account Account.sign_transaction({type: 2, chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList}, key) (RFC 6979): raw = signed.raw_transaction, hash = signed.hash, r/s/y_parity = signed.r/s/v; signing_payload = 0x02 ‖ pyrlp.encode(the 9 unsigned fields), recomputed here, and signing_hash = keccak(signing_payload) == TypedTransaction.from_dict(tx).hash(); sender = Account.recover_transaction(raw) == Account.from_key(key).address",
            "transactions.tx": "integers as decimal strings; to = null for contract creation; data and storage keys as 0x hex",
            "invalid_transactions": "edits of a valid eth-account transaction (pyrlp), re-signed with Account.unsafe_sign_hash when a signed field changes, or signed by eth-account with out-of-range fields; error = fastx402's TxError::code(); eth_account_accepts = whether Account.recover_transaction accepts the bytes",
            "rlp.valid": "pyrlp rlp.encode(item) (item: hex strings are byte strings, arrays are lists), decoded back with rlp.decode(strict=True); wiki_* are the Ethereum wiki RLP examples, asserted here",
            "rlp.invalid": "hand-written; pyrlp_rejects = rlp.decode(strict=True) raised",
            "calls": "selector = keccak(signature)[:4]; calldata = selector ‖ eth_abi.encode(types, values); returns = eth_abi.encode; log topics = keccak(event signature) and eth_abi.encode(['address'], [a]) for indexed addresses",
        },
        "keys": KEYS,
        "transactions": transactions(),
        "invalid_transactions": invalid_transactions(),
        "rlp": {"valid": rlp_valid(), "invalid": rlp_invalid()},
        "calls": calls(),
    }
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(
        f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}: "
        f"{len(doc['transactions'])} transactions, {len(doc['invalid_transactions'])} invalid, "
        f"{len(doc['rlp']['valid'])}+{len(doc['rlp']['invalid'])} rlp, {len(doc['calls']['builders'])} calls"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
