"""Seeded mutations of one valid payment header sent to a running seller (uvicorn on 127.0.0.1,
fastx402's in-process facilitator on the session anvil): byte flips, base64 edits, JSON field
edits (amount, payTo, nonce, signature, validBefore, network, ...), extra and duplicate keys,
numbers for strings, deep nesting, one to three at a time.

Never a 5xx; never a served (200) answer for a header whose signed content changed (the
authorization, its signature, and the EIP-712 domain it is signed under: network, asset, token
name and version). A mutant that changed none of it (an extra key, an unsigned field) may be
served: it is the same payment, charged once. The original header is served in the end, the
handler has run once and the seller holds one price on chain. Bounded: ``MUTANTS`` requests.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import fastx402
from asgi_server import running
from chain import Token
from fastx402 import Facilitator, PaymentRequired
from test_server import PRICE, Shop, funded

SEED = 402
MUTANTS = 3000
CONCURRENCY = 16
TIME_LIMIT = 120.0  # seconds for every mutant (about 10 s here)
# An x402 reason code (snake case), or the settlement-failure and payload-shape reasons.
REASON = re.compile(r"[a-z0-9_]+|settlement failed: [a-z0-9_]+")

# Bytes h11 lets a client send in a header value (no control characters).
HEADER_BYTES = [9, *range(0x20, 0x7F), *range(0x80, 0x100)]
HEX = re.compile(r"[0-9a-fA-F]+")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


class Dup:
    """A JSON object serialized with its pairs as given (duplicate keys included)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


class Nest:
    """``inner`` wrapped ``depth`` times in arrays or objects (serialized without recursion)."""

    def __init__(self, inner: Any, depth: int, array: bool) -> None:
        self.inner, self.depth, self.array = inner, depth, array


def dumps(value: Any) -> str:
    if isinstance(value, Nest):
        left, right = ("[", "]") if value.array else ('{"a":', "}")
        return left * value.depth + dumps(value.inner) + right * value.depth
    if isinstance(value, Dup):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, dict):
        return dumps(Dup(list(value.items())))
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def _canonical(value: Any) -> Any:
    """Hex strings (addresses, nonce, signature) compared case-insensitively: the same bytes."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("0x") and HEX.fullmatch(value[2:]):
        return value.lower()
    return value


def signed_view(header: bytes) -> Any:
    """What the payer's signature covers in ``header`` (decoded as leniently as any x402 decoder
    might: either base64 alphabet, padding optional), or None when it does not decode to one
    unambiguous JSON object (duplicate keys included)."""
    try:
        text = header.decode("ascii").strip()
        padded = text + "=" * (-len(text) % 4)
        raw = None
        for alt in (b"+/", b"-_"):
            try:
                raw = base64.b64decode(padded, altchars=alt, validate=True)
                break
            except ValueError:
                continue
        if raw is None:
            return None
        data = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_constant)
        data = _canonical(data)
        accepted, payload = data["accepted"], data["payload"]
        extra = accepted["extra"]
        return json.dumps(
            [
                data["x402Version"],
                accepted["scheme"],
                accepted["network"],
                accepted["asset"],
                extra["name"],
                extra["version"],
                payload["authorization"],
                payload["signature"],
            ],
            sort_keys=True,
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


# --- mutations ----------------------------------------------------------------------------------


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        value = value[k]
    return value


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def _nested(rng: random.Random, inner: Any) -> Any:
    return Nest(inner, rng.choice([2, 10, 100, 600, 3000]), rng.random() < 0.5)


def _edit_string(rng: random.Random, s: str) -> Any:
    choices: list[Callable[[], Any]] = [
        lambda: s[:-1],
        lambda: s + rng.choice("0f1 "),
        lambda: s.upper(),
        lambda: s.lower(),
        lambda: s[2:] if s.startswith("0x") else "0x" + s,
        lambda: "",
        lambda: " " + s,
        lambda: s + "\u0000",
        lambda: s.replace(rng.choice(s), rng.choice("0123456789abcdefABCDEF"), 1) if s else "x",
        lambda: int(s) if s.isdigit() else s,  # a number for a string
        lambda: str(int(s) + rng.choice([-1, 1, 10**6])) if s.isdigit() else s,
        lambda: "-" + s,
        lambda: s + "0" * rng.choice([1, 70]),
        lambda: "0x" + "0" * 64,
        lambda: "\u0660" if s.isdigit() else s + "\u200b",
    ]
    return rng.choice(choices)()


def _edit_value(rng: random.Random, value: Any) -> Any:
    if isinstance(value, str) and rng.random() < 0.7:
        return _edit_string(rng, value)
    return rng.choice(
        [
            None,
            True,
            0,
            -1,
            2**256,
            10**80,
            1.5,
            1e308,
            [],
            {},
            [value],
            {"value": value},
            "",
            str(value),
        ]
    )


def mutate_json(rng: random.Random, data: dict[str, Any]) -> Any:
    data = json.loads(json.dumps(data))
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    kind = rng.choice(["edit", "edit", "edit", "remove", "extra", "dup", "nest"])
    if kind == "edit":
        return _set(data, path, _edit_value(rng, _get(data, path)))
    if kind == "remove":
        del _get(data, path[:-1])[path[-1]]
        return data
    objects = [p for p in _paths(data) if isinstance(_get(data, p), dict)]
    where = rng.choice(objects)
    target = _get(data, where)
    if kind == "extra":
        name = rng.choice(
            ["x", "extra", "x402Version", "__proto__", "signature", "value", "z" * 50]
        )
        target.setdefault(name, _edit_value(rng, "1"))
        if name in target and rng.random() < 0.5:
            target[name + "_"] = rng.choice([1, "a", None, {}])
        return data
    if kind == "dup" and target:
        key = rng.choice(list(target))
        other = _edit_value(rng, target[key])
        pairs = list(target.items())
        at = rng.randrange(len(pairs) + 1)
        pairs.insert(at, (key, other if rng.random() < 0.8 else target[key]))
        return _set(data, where, Dup(pairs))
    return _set(data, path, _nested(rng, _get(data, path)))


def mutate_b64(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text) + 1)
    return rng.choice(
        [
            lambda: text[:i],
            lambda: text[:i] + text[i + 1 :],
            lambda: text[:i] + rng.choice(B64) + text[i:],
            lambda: text.rstrip("="),
            lambda: text + "==",
            lambda: text.replace("+", "-").replace("/", "_"),
            lambda: text[:i] + rng.choice([" ", "\t", "  "]) + text[i:],
            lambda: " " + text + " ",
            lambda: text.lower(),
            lambda: base64.b64encode(text.encode()).decode(),
            lambda: "",
            lambda: text + text,
            lambda: text[::-1],
        ]
    )()


def mutate(rng: random.Random, original: dict[str, Any]) -> bytes:
    """One to three mutations of the original payment (as JSON, then as text, then as bytes)."""
    data: Any = original
    text: str | None = None
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        layer = rng.choice(["json", "json", "json", "b64", "bytes"])
        if layer == "json" and text is None and isinstance(data, dict):
            data = mutate_json(rng, data)
            try:
                json.dumps(data)
            except TypeError:  # duplicate keys, deep nesting: only text edits from here on
                text = base64.b64encode(dumps(data).encode()).decode()
            continue
        if text is None:
            text = base64.b64encode(dumps(data).encode()).decode()
        if layer == "bytes":
            raw = bytearray(text.encode("latin-1"))
            if raw:
                raw[rng.randrange(len(raw))] = rng.choice(HEADER_BYTES)
            text = raw.decode("latin-1")
        else:
            text = mutate_b64(rng, text)
    if text is None:
        text = base64.b64encode(dumps(data).encode()).decode()
    return text.encode("latin-1")


def _valid(header: bytes) -> bool:
    """h11 refuses to send control characters."""
    return all(b in HEADER_BYTES for b in header)


@pytest.fixture
def seller(usdc: Token, anvil: Any) -> Iterator[tuple[Shop, str, Token]]:
    from test_facilitator import new_facilitator

    fastx402.register_asset(
        "eip155:31337", usdc.address, usdc.name, usdc.version, 6, symbol="tUSDC"
    )
    facilitator: Facilitator = new_facilitator(anvil)
    shop = Shop(usdc, facilitator)
    with running(shop.app) as url:
        yield shop, url, usdc


def test_mutated_headers_never_crash_and_never_serve_a_changed_payment(
    seller: tuple[Shop, str, Token],
) -> None:
    shop, url, token = seller
    rng = random.Random(SEED)
    payer = funded(token, 2 * PRICE)  # funded twice over: a second charge would go through
    target = f"{url}/weather/paris"
    first = httpx.get(target, trust_env=False)
    required = PaymentRequired.from_header(first.headers["payment-required"])
    header = fastx402.create_payment(required, payer).to_header()
    original = json.loads(base64.b64decode(header))
    view = signed_view(header.encode())
    assert view is not None
    mutants: list[bytes] = []
    while len(mutants) < MUTANTS:
        mutant = mutate(rng, original).strip(b" \t")  # as any HTTP server would
        if _valid(mutant) and mutant != header.encode():
            mutants.append(mutant)

    async def send_all() -> list[httpx.Response]:
        # A few at a time: the answers are independent (a 409 for a copy still in flight is
        # fine), and 127.0.0.1 round trips dominate the time.
        gate = asyncio.Semaphore(CONCURRENCY)
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(timeout=10, trust_env=False, limits=limits) as client:

            async def one(mutant: bytes) -> httpx.Response:
                async with gate:
                    return await client.get(target, headers=[(b"PAYMENT-SIGNATURE", mutant)])

            return await asyncio.gather(*(one(m) for m in mutants))

    started = time.monotonic()
    answers = asyncio.run(send_all())
    elapsed = time.monotonic() - started
    statuses = Counter(r.status_code for r in answers)
    for mutant, r in zip(mutants, answers, strict=True):
        assert r.status_code < 500, (r.status_code, mutant[:300], r.text[:300])
        if r.status_code == 200:
            assert signed_view(mutant) == view, ("served a changed payment", mutant)
        if r.status_code == 402:
            # Reasons are x402 codes, never an exception's message.
            reason = r.json()["error"].removeprefix("invalid payment: ")
            assert reason == "no payment" or REASON.fullmatch(reason), r.json()["error"]
    assert elapsed < TIME_LIMIT, f"{MUTANTS} mutants in {elapsed:.1f} s"
    # The payment itself is intact: served (again, from the kept response if a mutant that
    # changed nothing signed was served first), charged once.
    r = httpx.get(target, headers={"PAYMENT-SIGNATURE": header}, trust_env=False, timeout=30)
    assert r.status_code == 200, r.text
    print(f"{MUTANTS} mutants in {elapsed:.1f} s: {dict(statuses)}")
    assert statuses[402] > MUTANTS // 2
    assert shop.runs == {"weather": 1}
    assert token.balance_of(shop.seller) == PRICE
    assert token.balance_of(payer.address) == PRICE
