#!/usr/bin/env python3
# ruff: noqa: E501  (provenance strings and one-line case tables)
"""Writes tests/vectors/eip712_rejections.json: typed-data documents that fastx402's
"strict v4" EIP-712 engine must reject, one rule per case, each with the JSON path
the error must name. Shared by the Rust (tests/vectors.rs) and Python test suites.

    python3 tests/vectors/gen/make_eip712_rejections.py

Every case is one of the valid base documents below with a single edit. The Rust
test also hashes every base document, so each rejection is caused by its edit.
The rules are "strict v4" as the module docs of src/crypto/eip712.rs define it.
Standard library only.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "eip712_rejections.json"


class Raw:
    """A JSON number written verbatim (Python cannot emit `1e3` or `-0` as integers)."""

    def __init__(self, text: str) -> None:
        self.text = text


RAW_MARK = "\u0000raw:"


def _encode_raw(value):
    if isinstance(value, Raw):
        return RAW_MARK + value.text
    if isinstance(value, dict):
        return {k: _encode_raw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode_raw(v) for v in value]
    return value


def dumps(doc) -> str:
    text = json.dumps(_encode_raw(doc), indent=2, ensure_ascii=False)
    # json escapes U+0000 as \u0000 inside the marker strings.
    return re.sub(r'"\\u0000raw:([^"]*)"', r"\1", text)


# ---------------------------------------------------------------------------
# Valid base documents.

USDC_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

BASES = {
    # The x402 v2 spec's example payment (EIP-3009 on Base Sepolia USDC).
    "twa": {
        "types": {
            "EIP712Domain": USDC_DOMAIN_TYPE,
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
            "value": "10000",
            "validAfter": "1740672089",
            "validBefore": "1740672154",
            "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480",
        },
    },
    # The EIP-712 "Mail" example with an array of recipients (eth_signTypedData_v4 style).
    "mail": {
        "types": {
            "EIP712Domain": USDC_DOMAIN_TYPE,
            "Person": [
                {"name": "name", "type": "string"},
                {"name": "wallet", "type": "address"},
            ],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person[]"},
                {"name": "contents", "type": "string"},
            ],
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": [
                {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
                {"name": "Carol", "wallet": "0xB0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57"},
            ],
            "contents": "Hello, Bob!",
        },
    },
    # One field of each atomic kind, at its range limits.
    "kinds": {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "Kinds": [
                {"name": "u8", "type": "uint8"},
                {"name": "i8", "type": "int8"},
                {"name": "i8min", "type": "int8"},
                {"name": "u256", "type": "uint256"},
                {"name": "flag", "type": "bool"},
                {"name": "data", "type": "bytes"},
                {"name": "b4", "type": "bytes4"},
                {"name": "pair", "type": "address[2]"},
                {"name": "text", "type": "string"},
            ],
        },
        "primaryType": "Kinds",
        "domain": {"name": "Kinds"},
        "message": {
            "u8": 255,
            "i8": "127",
            "i8min": -128,
            "u256": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            "flag": True,
            "data": "0xdeadbeef",
            "b4": "0x01020304",
            "pair": [
                "0x857b06519E91e3A54538791bDbb0E22373e36b66",
                "0x209693bc6afc0c5328ba36faf03c514ef312287c",
            ],
            "text": "strict",
        },
    },
}

TWA_VALUE_PATH = ("message", "value")


def at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def setp(doc, path, value):
    at(doc, path[:-1])[path[-1]] = value


def delp(doc, path):
    del at(doc, path[:-1])[path[-1]]


cases: list[dict] = []


def case(name, rule, base, edit, path, domain_types="given"):
    data = copy.deepcopy(BASES[base])
    edit(data)
    cases.append(
        {
            "name": name,
            "rule": rule,
            "base": base,
            "data": data,
            "domain_types": domain_types,
            "path": path,
        }
    )


def set_(path, value):
    return lambda d: setp(d, path, value)


def del_(path):
    return lambda d: delp(d, path)


def field_type(struct, index, new_type):
    return lambda d: d["types"][struct][index].__setitem__("type", new_type)


UINT256_MAX = 2**256 - 1

# --- document structure -----------------------------------------------------
case(
    "missing_eip712domain",
    "types.EIP712Domain is required unless domain_types='infer'",
    "twa",
    del_(("types", "EIP712Domain")),
    "types.EIP712Domain",
)
case(
    "infer_nonstandard_domain_key",
    "with domain_types='infer', every domain key must be one of name, version, chainId, verifyingContract, salt",
    "twa",
    lambda d: (delp(d, ("types", "EIP712Domain")), setp(d, ("domain", "chain"), "base")),
    "domain.chain",
    domain_types="infer",
)
case(
    "unknown_top_level_key",
    "only types, primaryType, domain and message at the top level",
    "twa",
    set_(("metadata",), {"note": "x"}),
    "metadata",
)
case(
    "primary_type_undefined",
    "primaryType must name a type in types",
    "twa",
    set_(("primaryType",), "Transfer"),
    "primaryType",
)
case(
    "missing_message",
    "message is required (unless primaryType is EIP712Domain)",
    "twa",
    del_(("message",)),
    "message",
)
case("missing_domain", "domain is required", "twa", del_(("domain",)), "domain")
case("domain_not_object", "domain must be an object", "twa", set_(("domain",), []), "domain")

# --- type definitions ---------------------------------------------------------
case(
    "undefined_type_reference",
    "every field type is atomic or defined in types",
    "mail",
    field_type("Mail", 1, "Persn[]"),
    "types.Mail[1].type",
)
case(
    "type_name_shadows_atomic",
    "a struct may not be named like an atomic type",
    "mail",
    set_(("types", "uint256"), [{"name": "x", "type": "string"}]),
    "types.uint256",
)
case(
    "duplicate_field_name",
    "a field name appears once per struct",
    "mail",
    lambda d: d["types"]["Person"].append({"name": "name", "type": "address"}),
    "types.Person[2].name",
)
case(
    "array_length_zero",
    "fixed array length is a decimal >= 1",
    "mail",
    field_type("Mail", 1, "Person[0]"),
    "types.Mail[1].type",
)
case(
    "array_length_leading_zero",
    "fixed array length has no leading zero",
    "mail",
    field_type("Mail", 1, "Person[01]"),
    "types.Mail[1].type",
)
case(
    "array_length_negative",
    "fixed array length is a decimal >= 1",
    "mail",
    field_type("Mail", 1, "Person[-1]"),
    "types.Mail[1].type",
)
for bad in ["uint", "int", "bytes0", "bytes33", "uint7", "uint264", "int0", "uint08", "Uint256"]:
    case(
        f"field_type_{bad}",
        "uintN/intN need N in 8..256 step 8 (no bare uint/int); bytesN needs N in 1..32; types are case-sensitive",
        "kinds",
        field_type("Kinds", 0, bad),
        "types.Kinds[0].type",
    )
case(
    "field_definition_extra_key",
    "a field definition is exactly {name, type}",
    "mail",
    lambda d: d["types"]["Person"][0].__setitem__("indexed", True),
    "types.Person[0].indexed",
)

# --- integers -----------------------------------------------------------------
case("uint8_256", "uintN range: uint8 <= 255", "kinds", set_(("message", "u8"), 256), "message.u8")
case(
    "uint8_256_string",
    "uintN range: uint8 <= 255",
    "kinds",
    set_(("message", "u8"), "256"),
    "message.u8",
)
case(
    "uint8_256_hex",
    "uintN range: uint8 <= 255",
    "kinds",
    set_(("message", "u8"), "0x100"),
    "message.u8",
)
case(
    "uint256_2pow256",
    "uintN range: uint256 < 2^256",
    "twa",
    set_(TWA_VALUE_PATH, 2**256),
    "message.value",
)
case(
    "uint256_2pow256_string",
    "uintN range: uint256 < 2^256",
    "twa",
    set_(TWA_VALUE_PATH, str(2**256)),
    "message.value",
)
case(
    "uint256_2pow256_hex",
    "uintN range: uint256 < 2^256",
    "twa",
    set_(TWA_VALUE_PATH, "0x1" + "0" * 64),
    "message.value",
)
case(
    "int8_minus_129",
    "intN range: int8 >= -128",
    "kinds",
    set_(("message", "i8min"), -129),
    "message.i8min",
)
case(
    "int8_minus_129_string",
    "intN range: int8 >= -128",
    "kinds",
    set_(("message", "i8min"), "-129"),
    "message.i8min",
)
case("int8_128", "intN range: int8 <= 127", "kinds", set_(("message", "i8"), 128), "message.i8")
case(
    "int8_128_string",
    "intN range: int8 <= 127",
    "kinds",
    set_(("message", "i8"), "128"),
    "message.i8",
)
case(
    "int8_hex_0x80",
    "intN range: hex integers are unsigned magnitudes, 0x80 = 128 > 127",
    "kinds",
    set_(("message", "i8"), "0x80"),
    "message.i8",
)
case(
    "int8_negative_hex",
    "hex integers carry no sign",
    "kinds",
    set_(("message", "i8"), "-0x1"),
    "message.i8",
)
case(
    "uint_negative_string",
    "uintN cannot be negative",
    "twa",
    set_(TWA_VALUE_PATH, "-1"),
    "message.value",
)
case(
    "uint_negative_number",
    "uintN cannot be negative",
    "twa",
    set_(TWA_VALUE_PATH, -1),
    "message.value",
)
case(
    "uint_float_number",
    "no floats: JSON number with a fraction",
    "twa",
    set_(TWA_VALUE_PATH, Raw("10000.0")),
    "message.value",
)
case(
    "uint_exponent_number",
    "no floats: JSON number with an exponent",
    "twa",
    set_(TWA_VALUE_PATH, Raw("1e4")),
    "message.value",
)
case(
    "uint_negative_zero_number",
    "no negative zero",
    "twa",
    set_(TWA_VALUE_PATH, Raw("-0")),
    "message.value",
)
case(
    "chain_id_float",
    "no floats, in the domain too",
    "twa",
    set_(("domain", "chainId"), Raw("84532.0")),
    "domain.chainId",
)
for name, text, rule in [
    ("leading_space", " 10000", "no whitespace"),
    ("trailing_space", "10000 ", "no whitespace"),
    ("trailing_newline", "10000\n", "no whitespace"),
    ("plus_sign", "+10000", "no '+' sign"),
    ("leading_zero", "010000", "no leading zeros"),
    ("minus_zero", "-0", "no negative zero"),
    ("exponent", "1e3", "decimal digits only"),
    ("underscore", "1_000", "decimal digits only"),
    ("fullwidth_digits", "\uff11\uff10\uff10\uff10\uff10", "ASCII digits only"),
    ("arabic_indic_digits", "\u0661\u0660", "ASCII digits only"),
    ("fraction", "10000.0", "decimal digits only"),
    ("empty", "", "at least one digit"),
    ("hex_uppercase_prefix", "0X2710", "hex integers start with lowercase 0x"),
    ("hex_no_digits", "0x", "hex integers have at least one digit"),
    ("hex_bad_digit", "0x27g0", "hex digits only"),
]:
    case(
        f"uint_string_{name}",
        f"integer strings: {rule}",
        "twa",
        set_(TWA_VALUE_PATH, text),
        "message.value",
    )
case(
    "int_string_minus_zero",
    "no negative zero",
    "kinds",
    set_(("message", "i8"), "-0"),
    "message.i8",
)
case(
    "int_string_double_minus",
    "one '-' at most",
    "kinds",
    set_(("message", "i8"), "--1"),
    "message.i8",
)
case(
    "uint_given_as_bool",
    "integers are JSON integers or strings",
    "twa",
    set_(TWA_VALUE_PATH, False),
    "message.value",
)

# --- bool -----------------------------------------------------------------------
case(
    "bool_as_1",
    "bool only as JSON true/false",
    "kinds",
    set_(("message", "flag"), 1),
    "message.flag",
)
case(
    "bool_as_0",
    "bool only as JSON true/false",
    "kinds",
    set_(("message", "flag"), 0),
    "message.flag",
)
case(
    "bool_as_string_true",
    "bool only as JSON true/false",
    "kinds",
    set_(("message", "flag"), "true"),
    "message.flag",
)

# --- bytes ----------------------------------------------------------------------
NONCE = BASES["twa"]["message"]["nonce"]
case(
    "bytes32_too_short",
    "bytesN is exactly N bytes",
    "twa",
    set_(("message", "nonce"), NONCE[:-2]),
    "message.nonce",
)
case(
    "bytes32_too_long",
    "bytesN is exactly N bytes",
    "twa",
    set_(("message", "nonce"), NONCE + "00"),
    "message.nonce",
)
case(
    "bytes32_no_prefix",
    "bytesN is 0x-prefixed hex",
    "twa",
    set_(("message", "nonce"), NONCE[2:]),
    "message.nonce",
)
case(
    "bytes32_uppercase_prefix",
    "bytesN is 0x-prefixed hex",
    "twa",
    set_(("message", "nonce"), "0X" + NONCE[2:]),
    "message.nonce",
)
case(
    "bytes32_as_number",
    "bytesN is a hex string",
    "twa",
    set_(("message", "nonce"), 1),
    "message.nonce",
)
case(
    "bytes4_odd_length",
    "bytesN is whole bytes",
    "kinds",
    set_(("message", "b4"), "0x0102030"),
    "message.b4",
)
case(
    "bytes_odd_length",
    "bytes is whole bytes of hex",
    "kinds",
    set_(("message", "data"), "0xabc"),
    "message.data",
)
case(
    "bytes_no_prefix",
    "bytes is 0x-prefixed hex",
    "kinds",
    set_(("message", "data"), "deadbeef"),
    "message.data",
)
case(
    "bytes_non_hex",
    "bytes is hex",
    "kinds",
    set_(("message", "data"), "0xdeadbeeg"),
    "message.data",
)
case(
    "bytes_as_array",
    "bytes is a hex string",
    "kinds",
    set_(("message", "data"), [222, 173]),
    "message.data",
)

# --- addresses -----------------------------------------------------------------
TO = BASES["twa"]["message"]["to"]
case(
    "address_bad_checksum",
    "mixed-case addresses must pass EIP-55",
    "twa",
    set_(("message", "to"), TO[:-1] + TO[-1].swapcase()),
    "message.to",
)
case(
    "address_39_digits",
    "addresses are 0x + 40 hex digits",
    "twa",
    set_(("message", "to"), TO[:-1]),
    "message.to",
)
case(
    "address_41_digits",
    "addresses are 0x + 40 hex digits",
    "twa",
    set_(("message", "to"), TO + "0"),
    "message.to",
)
case(
    "address_no_prefix",
    "addresses are 0x + 40 hex digits",
    "twa",
    set_(("message", "to"), TO[2:]),
    "message.to",
)
case("address_as_number", "addresses are strings", "twa", set_(("message", "to"), 1), "message.to")
case(
    "nested_address_bad_checksum",
    "mixed-case addresses must pass EIP-55 (error path through an array of structs)",
    "mail",
    set_(("message", "to", 1, "wallet"), "0xb0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57"),
    "message.to[1].wallet",
)
case(
    "domain_address_bad_checksum",
    "mixed-case addresses must pass EIP-55 (in the domain)",
    "twa",
    set_(("domain", "verifyingContract"), "0x036CbD53842c5426634e7929541eC2318f3dCF7E"),
    "domain.verifyingContract",
)
case(
    "fixed_array_item_bad_address",
    "addresses are 0x + 40 hex digits (error path through a fixed array)",
    "kinds",
    set_(("message", "pair", 1), "0x209693bc6afc0c5328ba36faf03c514ef312287"),
    "message.pair[1]",
)

# --- presence ---------------------------------------------------------------------
case(
    "missing_field",
    "every declared field is present",
    "twa",
    del_(("message", "nonce")),
    "message.nonce",
)
case(
    "missing_nested_field",
    "every declared field is present",
    "mail",
    del_(("message", "to", 0, "wallet")),
    "message.to[0].wallet",
)
case(
    "missing_domain_field",
    "every declared domain field is present",
    "twa",
    del_(("domain", "chainId")),
    "domain.chainId",
)
case("null_field", "null is not a value", "twa", set_(("message", "nonce"), None), "message.nonce")
case(
    "null_string_field",
    "null is not a value",
    "mail",
    set_(("message", "contents"), None),
    "message.contents",
)
case(
    "null_struct_field",
    "null is not a value",
    "mail",
    set_(("message", "from"), None),
    "message.from",
)
case(
    "undeclared_message_field",
    "no undeclared fields in a struct value",
    "twa",
    set_(("message", "memo"), "hi"),
    "message.memo",
)
case(
    "undeclared_nested_field",
    "no undeclared fields in a struct value",
    "mail",
    set_(("message", "from", "age"), 3),
    "message.from.age",
)
case(
    "undeclared_domain_field",
    "no domain value outside the declared EIP712Domain type",
    "twa",
    set_(("domain", "salt"), "0x" + "00" * 32),
    "domain.salt",
)
case(
    "undeclared_field_non_identifier_key",
    "no undeclared fields in a struct value (non-identifier keys are quoted in paths)",
    "twa",
    set_(("message", "memo field"), "hi"),
    'message["memo field"]',
)

# --- shapes ---------------------------------------------------------------------
case(
    "fixed_array_too_long",
    "fixed arrays have exactly their length",
    "kinds",
    lambda d: d["message"]["pair"].append(TO),
    "message.pair",
)
case(
    "fixed_array_too_short",
    "fixed arrays have exactly their length",
    "kinds",
    lambda d: d["message"]["pair"].pop(),
    "message.pair",
)
case(
    "string_as_number",
    "string is a JSON string",
    "kinds",
    set_(("message", "text"), 42),
    "message.text",
)
case(
    "string_as_array",
    "string is a JSON string",
    "mail",
    set_(("message", "contents"), ["Hello"]),
    "message.contents",
)
case(
    "struct_as_string",
    "a struct is a JSON object",
    "mail",
    set_(("message", "from"), "Cow"),
    "message.from",
)
case(
    "struct_as_array",
    "a struct is a JSON object",
    "mail",
    set_(("message", "from"), ["Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"]),
    "message.from",
)
case(
    "array_as_object",
    "an array is a JSON array",
    "mail",
    set_(
        ("message", "to"),
        {"0": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}},
    ),
    "message.to",
)
case(
    "array_item_as_string",
    "array items have the element type",
    "mail",
    set_(("message", "to", 0), "Bob"),
    "message.to[0]",
)

names = [c["name"] for c in cases]
assert len(names) == len(set(names)), "duplicate case names"

doc = {
    "provenance": {
        "generator": "tests/vectors/gen/make_eip712_rejections.py",
        "rules": "'strict v4' as the module docs of src/crypto/eip712.rs define it",
        "bases": "twa: the x402 v2 spec example payment (EIP-3009 TransferWithAuthorization, Base Sepolia USDC); "
        "mail: the EIP-712 spec 'Mail' example with `to` turned into Person[] and a second recipient; "
        "kinds: written here, one field of each atomic kind at its range limit. Every base is valid and hashes.",
        "cases": "written here: each is one base document with a single edit that breaks one rule. Many are "
        "accepted by @metamask/eth-sig-util and viem (e.g. undeclared fields, bool as 1, whitespace in integers); "
        "strict v4 rejects them deliberately.",
        "schema": {
            "data": "the full typed-data document",
            "domain_types": "'given' (types.EIP712Domain required) or 'infer' (derive it from the domain keys)",
            "path": "the JSON path the engine's error must name, in its format: message.to[1].wallet, "
            "types.Mail[2].type, domain.chainId; top-level keys are bare (metadata)",
            "base": "key of bases: the valid document this case edits",
        },
    },
    "bases": BASES,
    "cases": cases,
}

OUT.write_text(dumps(doc) + "\n")
json.loads(OUT.read_text())  # still valid JSON after the raw-number substitution
print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)
