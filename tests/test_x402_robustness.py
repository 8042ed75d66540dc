"""Hostile x402 headers through the Python API, where the official stack is weak
(no header size cap, unbounded nesting, lenient parsing): size and depth caps, junk,
and every lenient-parsing trick the official stack accepts. Only typed
``fastx402.ProtocolError``s may come out; no RecursionError, no crash, no lenient acceptance.

The Rust side (tests/x402_robustness.rs, fuzz/) mutates headers by the thousand;
this file pins the Python-visible contract: exception type, ``reason``, ``path``.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import fastx402
from fastx402 import HeaderTooLarge, PaymentPayload, PaymentRequired, PrivateKey, ProtocolError
from transfer_vector import authorization_typed_data

NOW = 1_740_672_100
RESOURCE = "https://api.example.com/weather"
OTHER_RESOURCE = "https://api.example.com/premium"
TOKEN = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
TEN_YEARS = 10 * 365 * 86_400

REQUIREMENTS = {
    "scheme": "exact",
    "network": "eip155:84532",
    "amount": "10000",
    "asset": TOKEN,
    "payTo": PAY_TO,
    "maxTimeoutSeconds": 60,
    "extra": {"name": "USDC", "version": "2"},
}
PAYMENT_REQUIRED = {
    "x402Version": 2,
    "resource": {"url": RESOURCE, "description": "weather", "mimeType": "application/json"},
    "accepts": [REQUIREMENTS],
}
KEY = PrivateKey(bytes([0x42] * 32))


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture(scope="module")
def payment() -> dict[str, Any]:
    """A valid v2 payment as a dict (fixed key, nonce and clock)."""
    p = fastx402.create_payment(PAYMENT_REQUIRED, KEY, now=NOW, nonce=bytes([0x9A] * 32))
    return p.to_dict()


@pytest.fixture(scope="module")
def header(payment: dict[str, Any]) -> str:
    return fastx402.encode_header(payment)


def verify(payment: Any, **kw: Any) -> fastx402.VerifyResult:
    kw.setdefault("now", NOW + 1)
    return fastx402.verify_payment(payment, REQUIREMENTS, **kw)


def test_fixture_is_valid(header: str) -> None:
    result = verify(header, resource_url=RESOURCE)
    assert result.is_valid, result
    assert result.payer == KEY.address


# --- size and depth ---------------------------------------------------------------


@pytest.mark.parametrize(
    "decode",
    [
        lambda h: PaymentPayload.from_header(h),
        lambda h: PaymentRequired.from_header(h),
        lambda h: fastx402.SettleResponse.from_header(h),
        lambda h: fastx402.decode_header(h),
        lambda h: verify(h),
    ],
    ids=["PaymentPayload", "PaymentRequired", "SettleResponse", "decode_header", "verify_payment"],
)
def test_one_megabyte_header_is_too_large(decode: Callable[[str], Any]) -> None:
    big = b64(compact({"x402Version": 2, "pad": "a" * 786_000}))
    assert len(big) > 1_000_000
    with pytest.raises(HeaderTooLarge) as info:
        decode(big)
    assert isinstance(info.value, ProtocolError)
    assert info.value.reason == "invalid_payload"
    assert info.value.path == "$"


def test_header_cap_is_inclusive_and_in_bytes(header: str) -> None:
    assert PaymentPayload.from_header(header, max_bytes=len(header))
    with pytest.raises(HeaderTooLarge):
        PaymentPayload.from_header(header, max_bytes=len(header) - 1)
    with pytest.raises(HeaderTooLarge):
        PaymentPayload.from_header("é" * 5000)  # 10,000 bytes, 5,000 characters


@pytest.mark.parametrize(
    "doc",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        '{"x402Version":2,"extensions":' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["open-arrays", "balanced-arrays", "objects", "inside-a-payment"],
)
def test_deep_nesting_is_a_protocol_error(doc: str) -> None:
    header = b64(doc)
    for decode in (
        lambda: PaymentPayload.from_header(header, max_bytes=1 << 21),
        lambda: PaymentRequired.from_header(header, max_bytes=1 << 21),
        lambda: fastx402.decode_header(header, max_bytes=1 << 21),
        lambda: verify(header, max_header_bytes=1 << 21),
    ):
        with pytest.raises(ProtocolError) as info:
            decode()
        assert not isinstance(info.value, HeaderTooLarge)
        assert info.value.reason == "invalid_payload"
        assert info.value.path == "$"
        assert "JSON" in str(info.value)
    with pytest.raises(HeaderTooLarge):  # under the default cap: refused before decoding
        PaymentPayload.from_header(header)


def test_deeply_nested_dict_is_refused_without_recursion_error() -> None:
    nested: list[Any] = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(fastx402.X402Error):
        PaymentPayload.from_dict({"x402Version": 2, "extensions": {"x": nested}})


# --- junk ------------------------------------------------------------------------

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def junk_header(rng: random.Random, valid: str) -> str:
    kind = rng.randrange(6)
    n = rng.randrange(0, 400)
    if kind == 0:  # printable ASCII
        return "".join(chr(rng.randrange(32, 127)) for _ in range(n))
    if kind == 1:  # any code point but surrogates
        return "".join(
            chr(rng.choice([rng.randrange(0, 0xD800), rng.randrange(0xE000, 0x110000)]))
            for _ in range(n)
        )
    if kind == 2:  # base64 of random bytes
        return b64(rng.randbytes(n))
    if kind == 3:  # random base64 characters, any padding
        return "".join(rng.choice(B64) for _ in range(n)) + "=" * rng.randrange(3)
    if kind == 4:  # a valid header, damaged
        chars = list(valid)
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(chars))
            chars[i] = rng.choice(B64 + "=-_ \n\0é")
        return "".join(chars)
    return valid[: rng.randrange(len(valid))]  # truncated


def test_random_junk_headers_raise_only_protocol_errors(header: str) -> None:
    rng = random.Random(0x402)
    refused: Counter[str] = Counter()
    for _ in range(1_000):
        h = junk_header(rng, header)
        for decode in (PaymentPayload.from_header, PaymentRequired.from_header):
            # Anything but a ProtocolError (RecursionError, UnicodeError, a crash) fails.
            try:
                decode(h)
            except ProtocolError as e:
                assert e.reason in {
                    "invalid_payload",
                    "invalid_payment_requirements",
                    "invalid_x402_version",
                }, e
                assert isinstance(e.path, str)
                refused[f"{type(e).__name__}:{e.path}"] += 1
    # A handful of lightly damaged headers may still decode; nearly all must not.
    assert refused.total() >= 1_900, refused


@pytest.mark.parametrize(
    "decode",
    [
        PaymentPayload.from_header,
        fastx402.PaymentRequired.from_header,
        fastx402.SettleResponse.from_header,
        fastx402.decode_header,
    ],
)
def test_lone_surrogate_header_is_a_protocol_error(decode: Callable[[str], Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        decode("eyJ4\ud800")
    assert (info.value.reason, info.value.path) == ("invalid_payload", "$")


@pytest.mark.parametrize(
    "message",
    [{"x402Version": 2, 1: 2}, {"x402Version": 2, "payload": {"a": object()}}],
)
def test_unconvertible_dicts_are_protocol_errors(message: dict[Any, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        PaymentPayload.from_dict(message)
    assert info.value.reason == "invalid_payload"


# --- lenient parsing (what the official stack coerces), one case each ----------------------------

Mutation = Callable[[dict[str, Any], str], str]


def set_field(path: str, value: Any) -> Mutation:
    """Sets a dotted path in the payment dict, then encodes it."""

    def mutate(doc: dict[str, Any], _header: str) -> str:
        doc = copy.deepcopy(doc)
        *parents, last = path.split(".")
        target = doc
        for p in parents:
            target = target[p]
        target[last] = value
        return b64(compact(doc))

    return mutate


def splice(old: str, new: str) -> Mutation:
    """Replaces raw JSON text (for what a dict cannot hold: duplicate keys, `010000`)."""

    def mutate(doc: dict[str, Any], _header: str) -> str:
        text = compact(doc)
        assert old in text, old
        return b64(text.replace(old, new, 1))

    return mutate


def text(f: Callable[[str], str]) -> Mutation:
    return lambda _doc, header: f(header)


VALUE = "payload.authorization.value"
FULL_WIDTH_10000 = "\uff11\uff10\uff10\uff10\uff10"
ARABIC_INDIC_10000 = "\u0661\u0660\u0660\u0660\u0660"
LENIENT: list[tuple[str, Mutation, str, str]] = [
    # (id, mutation, reason, path)
    ("junk-char-in-base64", text(lambda h: h[:40] + "*" + h[40:]), "invalid_payload", "$"),
    ("junk-after-base64", text(lambda h: h + "!!"), "invalid_payload", "$"),
    ("extra-padding", text(lambda h: h + "="), "invalid_payload", "$"),
    ("padding-inside", text(lambda h: h[:40] + "=" + h[40:]), "invalid_payload", "$"),
    ("leading-space", text(lambda h: " " + h), "invalid_payload", "$"),
    ("trailing-newline", text(lambda h: h + "\n"), "invalid_payload", "$"),
    (
        "mixed-alphabets",
        text(lambda h: h.replace("J", "-", 1).replace("e", "+", 1)),
        "invalid_payload",
        "$",
    ),
    (
        "duplicate-key-same-value",
        splice('"value":"10000"', '"value":"10000","value":"10000"'),
        "invalid_payload",
        "$",
    ),
    (
        "duplicate-key-last-wins",
        splice('"value":"10000"', '"value":"1","value":"10000"'),
        "invalid_payload",
        "$",
    ),
    (
        "duplicate-top-level-key",
        splice('"x402Version":2', '"x402Version":1,"x402Version":2'),
        "invalid_payload",
        "$",
    ),
    ("trailing-data", splice('"x402Version":2', '"x402Version":2} {"a":1'), "invalid_payload", "$"),
    ("spaces-around-digits", set_field(VALUE, " 10000 "), "invalid_payload", VALUE),
    ("leading-zero", set_field(VALUE, "010000"), "invalid_payload", VALUE),
    ("underscore", set_field(VALUE, "10_000"), "invalid_payload", VALUE),
    ("full-width-digits", set_field(VALUE, FULL_WIDTH_10000), "invalid_payload", VALUE),
    ("one-full-width-digit", set_field(VALUE, "1000\uff10"), "invalid_payload", VALUE),
    ("arabic-indic-digits", set_field(VALUE, ARABIC_INDIC_10000), "invalid_payload", VALUE),
    ("plus-sign", set_field(VALUE, "+10000"), "invalid_payload", VALUE),
    ("exponent-string", set_field(VALUE, "1e4"), "invalid_payload", VALUE),
    ("hex-string", set_field(VALUE, "0x2710"), "invalid_payload", VALUE),
    ("json-number-for-value", set_field(VALUE, 10000), "invalid_payload", VALUE),
    (
        "json-number-for-validBefore",
        set_field("payload.authorization.validBefore", NOW + 60),
        "invalid_payload",
        "payload.authorization.validBefore",
    ),
    (
        "false-for-validAfter",
        set_field("payload.authorization.validAfter", False),
        "invalid_payload",
        "payload.authorization.validAfter",
    ),
    (
        "null-for-nonce",
        set_field("payload.authorization.nonce", None),
        "invalid_payload",
        "payload.authorization.nonce",
    ),
    (
        "number-for-amount",
        set_field("accepted.amount", 10000),
        "invalid_payload",
        "accepted.amount",
    ),
    (
        "string-for-maxTimeoutSeconds",
        set_field("accepted.maxTimeoutSeconds", "60"),
        "invalid_payload",
        "accepted.maxTimeoutSeconds",
    ),
    (
        "float-for-maxTimeoutSeconds",
        splice('"maxTimeoutSeconds":60', '"maxTimeoutSeconds":60.0'),
        "invalid_payload",
        "accepted.maxTimeoutSeconds",
    ),
    (
        "leading-zero-number",
        splice('"maxTimeoutSeconds":60', '"maxTimeoutSeconds":060'),
        "invalid_payload",
        "$",
    ),
    (
        "string-for-x402Version",
        set_field("x402Version", "2"),
        "invalid_x402_version",
        "x402Version",
    ),
    ("true-for-x402Version", set_field("x402Version", True), "invalid_x402_version", "x402Version"),
    (
        "bad-eip55-checksum",
        set_field("payload.authorization.to", PAY_TO.replace("B", "b", 1)),
        "invalid_payload",
        "payload.authorization.to",
    ),
    (
        "uppercase-0X",
        set_field("payload.authorization.to", "0X" + PAY_TO[2:]),
        "invalid_payload",
        "payload.authorization.to",
    ),
    (
        "full-width-network",
        set_field("accepted.network", "eip155:\uff18\uff14\uff15\uff13\uff12"),
        "invalid_payload",
        "accepted.network",
    ),
    (
        "non-ascii-scheme",
        set_field("accepted.scheme", "ex\u0430ct"),  # Cyrillic a
        "invalid_payload",
        "accepted.scheme",
    ),
    (
        "unknown-field",
        set_field("payload.authorization.memo", "hi"),
        "invalid_payload",
        "payload.authorization.memo",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "reason", "path"), [c[1:] for c in LENIENT], ids=[c[0] for c in LENIENT]
)
def test_lenient_spellings_are_refused(
    payment: dict[str, Any], header: str, mutate: Mutation, reason: str, path: str
) -> None:
    bad = mutate(payment, header)
    with pytest.raises(ProtocolError) as info:
        PaymentPayload.from_header(bad)
    assert (info.value.reason, info.value.path) == (reason, path), str(info.value)
    assert not isinstance(info.value, HeaderTooLarge)
    with pytest.raises(ProtocolError):  # verify_payment decodes the same way
        verify(bad)


def test_800kb_header_is_refused(payment: dict[str, Any]) -> None:
    doc = copy.deepcopy(payment)
    doc["extensions"] = {"pad": "x" * 600_000}
    header = b64(compact(doc))
    assert len(header) >= 800_000
    with pytest.raises(HeaderTooLarge) as info:
        verify(header)
    assert info.value.reason == "invalid_payload"


def test_equivalent_encodings_stay_valid(payment: dict[str, Any], header: str) -> None:
    """The strictness is about grammar, not about one byte sequence."""
    raw = compact(payment).encode()
    for h in (
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        b64(json.dumps(payment, indent=2)),
        b64(compact(dict(reversed(list(payment.items()))))),
        b64(compact(payment).replace('"value"', '"\\u0076alue"')),
    ):
        result = verify(h, resource_url=RESOURCE)
        assert result.is_valid, (h, result)


def resign(payment: dict[str, Any], **fields: str) -> dict[str, Any]:
    """The payment with authorization fields changed and signed again by its payer."""
    doc = copy.deepcopy(payment)
    auth = doc["payload"]["authorization"]
    auth.update(fields)
    message = {
        k: (int(v) if k in ("value", "validAfter", "validBefore") else v) for k, v in auth.items()
    }
    domain = {"name": "USDC", "version": "2", "chainId": 84532, "verifyingContract": TOKEN}
    typed = authorization_typed_data(domain, message)
    doc["payload"]["signature"] = "0x" + KEY.sign_typed_data(typed).hex()
    return doc


def test_resign_helper_is_faithful(payment: dict[str, Any]) -> None:
    assert resign(payment) == payment


def test_valid_before_ten_years_out_is_refused(payment: dict[str, Any]) -> None:
    far = resign(payment, validBefore=str(NOW + TEN_YEARS))
    result = verify(fastx402.encode_header(far), resource_url=RESOURCE)
    assert not result.is_valid
    assert result.reason == "invalid_exact_evm_payload_authorization_valid_before"
    # The bound is maxTimeoutSeconds + skew (30 s by default) past now.
    edge = resign(payment, validBefore=str(NOW + 1 + 60 + 30))
    assert verify(edge, resource_url=RESOURCE).is_valid
    over = resign(payment, validBefore=str(NOW + 1 + 60 + 31))
    assert (
        verify(over, resource_url=RESOURCE).reason
        == "invalid_exact_evm_payload_authorization_valid_before"
    )


def test_payment_for_one_route_is_refused_on_another(header: str) -> None:
    assert verify(header, resource_url=RESOURCE).is_valid
    result = verify(header, resource_url=OTHER_RESOURCE)
    assert not result.is_valid
    assert result.reason == "invalid_payload"
    assert OTHER_RESOURCE in (result.message or "")


def test_payment_for_a_route_with_other_terms_is_refused(payment: dict[str, Any]) -> None:
    """`resource` is not signed; what cannot be rewritten is `accepted`: a payment for
    a route is refused where the terms differ, even with `resource.url` edited."""
    moved = copy.deepcopy(payment)
    moved["resource"]["url"] = OTHER_RESOURCE
    dearer = {**REQUIREMENTS, "amount": "20000"}
    result = fastx402.verify_payment(moved, dearer, now=NOW + 1, resource_url=OTHER_RESOURCE)
    assert result.reason == "invalid_payment_requirements"
    assert verify(moved, resource_url=RESOURCE).reason == "invalid_payload"


def test_high_s_twin_is_refused(payment: dict[str, Any]) -> None:
    sig = bytes.fromhex(payment["payload"]["signature"][2:])
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    twin = r + (N - s).to_bytes(32, "big") + bytes([55 - v])
    doc = copy.deepcopy(payment)
    doc["payload"]["signature"] = "0x" + twin.hex()
    result = verify(doc, resource_url=RESOURCE)
    assert result.reason == "invalid_exact_evm_payload_signature"
