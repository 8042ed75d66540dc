"""Differential tests of fastx402's EIP-712 engine against eth-account 0.14 and a spec reference.

Hypothesis generates typed-data documents; fastx402 must produce the same digest, byte for byte,
as eth-account (``encode_typed_data(full_message=...)`` then ``_hash_eip191_message``, i.e.
``keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))``), whether the document is given
as a dict, as a JSON ``str`` or as JSON ``bytes``. Signatures made by either side must be
byte-identical (RFC 6979, low-s, v = 27/28) and recover on the other.

eth-account 0.14 is a faithful oracle only on part of the input space; what it does elsewhere,
found by probing it and reading ``eth_account/messages.py`` and
``eth_account/_utils/encode_typed_data/encoding_and_hashing.py``:

* it drops ``types.EIP712Domain`` (after checking that its field *names* equal the domain's keys)
  and re-derives it from the domain's keys in the canonical order ``name, version, chainId,
  verifyingContract, salt`` (``hash_domain``). A non-canonical order such as
  ``EIP712Domain(uint256 chainId,string name)`` is silently hashed as
  ``EIP712Domain(string name,uint256 chainId)``, unlike MetaMask v4, which honours the given
  types. So the eth-account differential uses canonical domains only;
* it ignores ``primaryType`` except to check it equals the one type no *other* type references
  (``get_primary_type``), so it cannot hash mutually recursive types, a primary type that another
  type references, documents with unused types, or ``primaryType == "EIP712Domain"``;
* it lists ``"uint"`` and ``"int"`` as atomic types (``EIP712_SOLIDITY_TYPES``), so a struct
  named ``uint`` or ``int`` is left out of encodeType (see
  ``test_eth_account_drops_struct_named_uint``); MetaMask looks names up in ``types`` first;
* value forms it accepts but strict v4 rejects (so never generated here, fastx402 rejects them
  by design): decimal strings with leading zeros, spaces, ``+``, ``_`` or ``-0`` (even for
  uint), odd-length hex for ``bytes``, short hex for ``bytesN`` (padded), mixed-case addresses
  with a bad EIP-55 checksum, fixed arrays of the wrong length, non-bool values for ``bool``,
  ints for ``bytes``/``string``, missing fields and ``null``.

Those shapes (non-canonical and extended domains included) are checked against a small reference
encoder below, written from the EIP-712 spec with only ``eth_utils.keccak`` and
``eth_abi.encode``; the reference is itself checked against eth-account on the shared subset.

Forms that both accept with the same meaning, and are generated: integers as Python ints of any
size, canonical decimal strings (negative for intN), ``0x`` hex strings (lower or upper case
digits, zero-padded or not; for intN only non-negative values, both read hex as unsigned);
``bytes``/``bytesN`` as Python bytes or ``0x`` hex (either case); addresses lowercase,
uppercase or EIP-55 checksummed.
"""

from __future__ import annotations

import json
import pprint
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from random import Random
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import fastx402
from fastx402._core import _hash_typed_data_in_place

# Per-test example counts, sized to keep this file near 70 s on 2 cores (data generation is most
# of it). Digests checked against eth-account: 4_400 + 600 = 5_000 documents per run, plus 800
# against the reference encoder and 64 exhaustive integer-width documents; signatures are
# slower, so fewer.
DIGEST_EXAMPLES = 4_400
REFERENCE_EXAMPLES = 800
REFERENCE_SELF_CHECK_EXAMPLES = 600
SIGNATURE_EXAMPLES = 500

_SETTINGS = {
    "deadline": None,
    "derandomize": False,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

UINTS = [f"uint{8 * i}" for i in range(1, 33)]
INTS = [f"int{8 * i}" for i in range(1, 33)]
FIXED_BYTES = [f"bytes{n}" for n in range(1, 33)]
OTHER_ATOMIC = ["bytes", "string", "bool", "address"]
ATOMIC = frozenset(UINTS + INTS + FIXED_BYTES + OTHER_ATOMIC)

CANONICAL_DOMAIN = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
]

# Recursion and size bounds for generated values.
MAX_DEPTH = 4
STRUCT_BUDGET = 30


# ---------------------------------------------------------------------------
# Helpers.


def eth_digest(doc: dict[str, Any]) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=doc)))


def jsonable(value: Any) -> Any:
    """The document as plain JSON: Python bytes become 0x hex, as fastx402 reads them."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


@contextmanager
def shown(**things: Any) -> Iterator[None]:
    """On failure, print the offending document (and friends) with the falsifying example."""
    try:
        yield
    except Exception:
        for name, thing in things.items():
            note(f"{name} = {pprint.pformat(thing, width=100, sort_dicts=False)}")
        raise


def type_string(base: str, dims: tuple[int | None, ...]) -> str:
    """``dims`` in textual order: ``T[2][]`` is ``("T", (2, None))``, a dynamic array of T[2]."""
    return base + "".join("[]" if d is None else f"[{d}]" for d in dims)


# ---------------------------------------------------------------------------
# Reference encoder, from the EIP-712 spec (and MetaMask eth_signTypedData_v4), using only
# eth_utils.keccak and eth_abi.encode. Inputs are assumed valid.


def ref_encode_type(types: dict[str, list[dict[str, str]]], primary: str) -> str:
    deps: set[str] = set()
    stack = [primary]
    while stack:
        for f in types[stack.pop()]:
            base = f["type"].split("[", 1)[0]
            if base in types and base != primary and base not in deps:
                deps.add(base)
                stack.append(base)
    return "".join(
        f"{t}(" + ",".join(f"{f['type']} {f['name']}" for f in types[t]) + ")"
        for t in [primary, *sorted(deps)]
    )


def _ref_int(v: int | str) -> int:
    if isinstance(v, int):
        return v
    return int(v[2:], 16) if v.startswith("0x") else int(v, 10)


def _ref_bytes(v: bytes | str) -> bytes:
    return v if isinstance(v, bytes) else bytes.fromhex(v[2:])


def ref_encode_value(types: dict[str, list[dict[str, str]]], t: str, v: Any) -> bytes:
    if t.endswith("]"):
        inner = t[: t.rindex("[")]
        return keccak(b"".join(ref_encode_value(types, inner, item) for item in v))
    if t in types:  # custom types shadow everything else, as in MetaMask
        return ref_hash_struct(types, t, v)
    if t == "string":
        return keccak(v.encode("utf-8"))
    if t == "bytes":
        return keccak(_ref_bytes(v))
    if t == "bool":
        return abi_encode(["bool"], [v])
    if t == "address":
        return bytes(12) + bytes.fromhex(v[2:])
    if t.startswith("bytes"):
        raw = _ref_bytes(v)
        assert len(raw) == int(t[5:])
        return abi_encode([t], [raw])
    assert t.startswith(("uint", "int")), t
    return abi_encode([t], [_ref_int(v)])


def ref_hash_struct(types: dict[str, list[dict[str, str]]], t: str, value: dict[str, Any]) -> bytes:
    type_hash = keccak(ref_encode_type(types, t).encode())
    return keccak(
        type_hash + b"".join(ref_encode_value(types, f["type"], value[f["name"]]) for f in types[t])
    )


def ref_digest(doc: dict[str, Any]) -> bytes:
    types = dict(doc["types"])
    if "EIP712Domain" not in types:  # domain_types="infer"
        types["EIP712Domain"] = [
            {"name": k, "type": ty} for k, ty in CANONICAL_DOMAIN if k in doc["domain"]
        ]
    parts = [b"\x19\x01", ref_hash_struct(types, "EIP712Domain", doc["domain"])]
    if doc["primaryType"] != "EIP712Domain":
        parts.append(ref_hash_struct(types, doc["primaryType"], doc["message"]))
    return keccak(b"".join(parts))


# ---------------------------------------------------------------------------
# Strategies: atomic values.

_IDENT_START = string.ascii_letters + "_$"
_IDENT_REST = _IDENT_START + string.digits
# Valid identifiers that look like types but are not atomic in EIP-712.
_TRICKY_NAMES = ["uint7", "int512", "bytes33", "bytes0", "uint08", "Uint256", "String", "$", "_"]


def identifiers(*, allow_uint_int: bool) -> st.SearchStrategy[str]:
    reserved = ATOMIC | {"EIP712Domain"}
    if not allow_uint_int:
        reserved |= {"uint", "int"}  # eth-account treats them as atomic, see module docstring
    plain = st.builds(
        lambda a, b: a + b, st.sampled_from(_IDENT_START), st.text(_IDENT_REST, max_size=10)
    )
    extra = _TRICKY_NAMES + (["uint", "int"] if allow_uint_int else [])
    return st.one_of(plain, st.sampled_from(extra)).filter(lambda s: s not in reserved)


# Field names need only be identifiers: atomic type names are fine there.
field_names = st.one_of(
    st.builds(lambda a, b: a + b, st.sampled_from(_IDENT_START), st.text(_IDENT_REST, max_size=8)),
    st.sampled_from(["uint256", "string", "type", "name", "EIP712Domain", "from", "to"]),
)


def _uint_value(bits: int) -> st.SearchStrategy[int]:
    top = 2**bits - 1
    return st.one_of(st.sampled_from([0, 1, top, top - 1]), st.integers(0, top))


def _int_value(bits: int) -> st.SearchStrategy[int]:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return st.one_of(st.sampled_from([0, 1, -1, hi, lo, hi - 1, lo + 1]), st.integers(lo, hi))


def _int_forms(v: int, bits: int) -> list[int | str]:
    """Forms of ``v`` that fastx402 and eth-account both read as ``v``."""
    forms: list[int | str] = [v, str(v)]
    if v >= 0:  # both read 0x hex as unsigned; a negative intN has no hex form in either
        forms += [hex(v), f"0x{v:X}", f"0x{v:0{bits // 4}x}"]
    return forms


# Strategies below pick a form by index (``st.tuples(...).map``) rather than with ``flatmap``:
# building a strategy per draw costs more than hashing the whole document.
_FORM = st.integers(0, 11)


def _integer(t: str) -> st.SearchStrategy[int | str]:
    bits = int(t.removeprefix("u").removeprefix("int"))
    values = _uint_value(bits) if t.startswith("u") else _int_value(bits)

    def pick(pair: tuple[int, int]) -> int | str:
        v, i = pair
        if i < 4:  # a third Python ints, and every string form in turn otherwise
            return v
        forms = _int_forms(v, bits)
        return forms[1 + (i - 4) % (len(forms) - 1)]

    return st.tuples(values, _FORM).map(pick)


def _bytes_forms(raw: bytes) -> list[bytes | str]:
    return [raw, "0x" + raw.hex(), "0x" + raw.hex().upper()]


def _in_forms(raws: st.SearchStrategy[bytes], forms: Any) -> st.SearchStrategy[Any]:
    return st.tuples(raws, _FORM).map(lambda p: (f := forms(p[0]))[p[1] % len(f)])


def _address_forms(raw: bytes) -> list[str]:
    lower = "0x" + raw.hex()
    return [lower, "0x" + raw.hex().upper(), to_checksum_address(lower)]


_addresses = _in_forms(
    st.one_of(st.binary(min_size=20, max_size=20), st.sampled_from([bytes(20), b"\xff" * 20])),
    _address_forms,
)

_strings = st.one_of(
    st.text(max_size=24),  # any code point but surrogates: non-ASCII, astral, controls, NUL
    st.sampled_from(["", "0x", "0x1234", "-1", "héllo wörld", "💸 x402", "\u2028"]),
)

_ATOMIC_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "bool": st.booleans(),
    "string": _strings,
    "address": _addresses,
    "bytes": _in_forms(st.binary(max_size=70), _bytes_forms),
}
for _t in UINTS + INTS:
    _ATOMIC_STRATEGIES[_t] = _integer(_t)
for _n in range(1, 33):
    _ATOMIC_STRATEGIES[f"bytes{_n}"] = _in_forms(st.binary(min_size=_n, max_size=_n), _bytes_forms)

atomic_types = st.one_of(
    st.sampled_from(UINTS),
    st.sampled_from(INTS),
    st.sampled_from(FIXED_BYTES),
    st.sampled_from(OTHER_ATOMIC),
)

_ATOMIC_DIMS = st.sampled_from(
    [(), (), (), (), (), (), (None,), (1,), (3,), (None, None), (2, None), (None, 3), (2, 2)]
)
# References to types defined later: finite even when fixed, but kept small.
_FORWARD_DIMS = st.sampled_from([(), (), (), (None,), (1,), (2,), (None, None), (2, None)])
# Self (or backward) references: at least one dynamic dimension, so values are finite.
_RECURSIVE_DIMS = st.sampled_from([(None,), (None,), (None, None), (2, None), (None, 2)])


# ---------------------------------------------------------------------------
# Strategies: schemas and documents.


@cache
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


def _dedupe(names: list[str]) -> list[str]:
    """Distinct names by construction (``unique=True`` rejects too many short-name draws);
    a ``_<i>`` suffix keeps an identifier an identifier and never makes it atomic."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names):
        while name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        out.append(name)
    return out


@cache
def _unique_field_names(n: int) -> st.SearchStrategy[list[str]]:
    return st.lists(field_names, min_size=n, max_size=n).map(_dedupe)


@cache
def _type_names(n: int, graph: bool) -> st.SearchStrategy[list[str]]:
    return st.lists(identifiers(allow_uint_int=graph), min_size=n, max_size=n).map(_dedupe)


_FIELD_KIND = st.sampled_from(["atomic"] * 5 + ["forward", "recursive"])
# Dynamic array lengths; sampled_from, as st.integers leans hard on 0 (empty arrays stay common).
_LENGTHS = {3: st.sampled_from([0, 1, 2, 3]), 2: st.sampled_from([0, 1, 2])}
_ONE_IN_TEN = st.sampled_from([False] * 9 + [True])


@dataclass
class Schema:
    names: list[str]  # names[0] is the primary type
    # struct name -> [(field name, base type, dims)]
    structs: dict[str, list[tuple[str, str, tuple[int | None, ...]]]]


def draw_schema(draw: st.DrawFn, rnd: Random, *, graph: bool) -> Schema:
    """``graph=False``: what eth-account can hash. Type i references only types j > i or itself
    (self-recursion through a dynamic array), every type but the primary is referenced by an
    earlier one, nothing references the primary. ``graph=True``: any references (mutual
    recursion, primary referenced by others), unused types, structs named ``uint``/``int``."""
    k = draw(_ints(1, 4))
    names = draw(_type_names(k, graph))
    parents = {} if graph else {j: draw(_ints(0, j - 1)) for j in range(1, k)}
    structs: dict[str, list[tuple[str, str, tuple[int | None, ...]]]] = {}
    for i, name in enumerate(names):
        specs = [(names[j], draw(_FORWARD_DIMS)) for j, p in parents.items() if p == i]
        for _ in range(draw(_ints(0, 5))):
            kind = draw(_FIELD_KIND)
            if kind == "forward" and i + 1 < k:
                specs.append((names[draw(_ints(i + 1, k - 1))], draw(_FORWARD_DIMS)))
            elif kind == "recursive":
                target = names[draw(_ints(0, i))] if graph else name
                specs.append((target, draw(_RECURSIVE_DIMS)))
            else:
                specs.append((draw(atomic_types), draw(_ATOMIC_DIMS)))
        rnd.shuffle(specs)
        fnames = draw(_unique_field_names(len(specs)))
        structs[name] = [(f, b, d) for f, (b, d) in zip(fnames, specs, strict=True)]
    return Schema(names, structs)


@dataclass
class _Ctx:
    structs: dict[str, list[tuple[str, str, tuple[int | None, ...]]]]
    rnd: Random
    shuffle_keys: bool
    budget: int = STRUCT_BUDGET


def _draw_value(
    draw: st.DrawFn, ctx: _Ctx, base: str, dims: tuple[int | None, ...], depth: int
) -> Any:
    if dims:
        *inner, last = dims
        if last is None:
            if depth >= MAX_DEPTH or ctx.budget <= 0:
                n = 0
            else:
                n = draw(_LENGTHS[3 if depth < 2 else 2])
        else:
            n = last
        return [_draw_value(draw, ctx, base, tuple(inner), depth) for _ in range(n)]
    if base in ctx.structs:
        ctx.budget -= 1
        items = [
            (fname, _draw_value(draw, ctx, fb, fd, depth + 1))
            for fname, fb, fd in ctx.structs[base]
        ]
        if ctx.shuffle_keys:  # key order in the message must not matter
            ctx.rnd.shuffle(items)
        return dict(items)
    return draw(_ATOMIC_STRATEGIES[base])


_DOMAIN_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.one_of(st.sampled_from(["USD Coin", "Ether Mail", "Permit2"]), st.text(max_size=12)),
    "version": st.one_of(st.sampled_from(["1", "2"]), st.text(max_size=4)),
    "chainId": st.one_of(
        st.sampled_from([1, 8453, 84532, 43114, "8453", "0x2105"]), _ATOMIC_STRATEGIES["uint256"]
    ),
    "verifyingContract": _addresses,
    "salt": _ATOMIC_STRATEGIES["bytes32"],
}


_RANDOMS = st.randoms(use_true_random=False)


@dataclass
class Case:
    doc: dict[str, Any]
    domain_types: str | None  # passed to fastx402; "infer" when types.EIP712Domain is absent
    ensure_ascii: bool  # for the JSON text forms


@st.composite
def documents(draw: st.DrawFn, *, graph: bool = False) -> Case:
    rnd = draw(_RANDOMS)
    schema = draw_schema(draw, rnd, graph=graph)
    ctx = _Ctx(schema.structs, rnd, shuffle_keys=draw(st.booleans()))
    primary = schema.names[0]
    message = _draw_value(draw, ctx, primary, (), 0)

    present = [(k, t) for k, t in CANONICAL_DOMAIN if draw(st.booleans())]
    domain_fields = [{"name": k, "type": t} for k, t in present]
    domain = {k: draw(_DOMAIN_VALUES[k]) for k, _ in present}
    if graph and draw(st.booleans()):
        # Strict v4 honours types.EIP712Domain as given: any order, extra fields.
        used = set(domain)
        for _ in range(draw(_ints(0, 2))):
            fname = _dedupe([*used, draw(field_names)])[-1]
            used.add(fname)
            ftype = draw(atomic_types)
            domain_fields.append({"name": fname, "type": ftype})
            domain[fname] = draw(_ATOMIC_STRATEGIES[ftype])
        rnd.shuffle(domain_fields)

    types = {
        name: [{"name": f, "type": type_string(b, d)} for f, b, d in fields]
        for name, fields in schema.structs.items()
    }
    canonical = domain_fields == [{"name": k, "type": t} for k, t in present]
    if canonical and draw(st.booleans()):
        domain_types = "infer"  # types.EIP712Domain left out; both derive the canonical one
    else:
        domain_types = None
        # Put EIP712Domain anywhere among the types.
        items = list(types.items())
        items.insert(draw(_ints(0, len(items))), ("EIP712Domain", domain_fields))
        types = dict(items)
    if graph and draw(_ONE_IN_TEN):
        primary = "EIP712Domain"  # hashes the domain alone
    doc = {"types": types, "primaryType": primary, "domain": domain, "message": message}
    return Case(doc, domain_types, ensure_ascii=draw(st.booleans()))


def check_fastx402(case: Case, expected: bytes) -> None:
    """fastx402's digest of the document as a dict, a JSON str and JSON bytes is ``expected``."""
    dt = case.domain_types
    assert fastx402.hash_typed_data(case.doc, domain_types=dt) == expected
    # A dict is hashed by reading it in place unless that path defers (bytes values, a
    # message beside primaryType EIP712Domain); when it answers, it agrees.
    assert _hash_typed_data_in_place(case.doc, domain_types=dt) in (None, expected)
    plain = jsonable(case.doc)
    if case.doc["primaryType"] != "EIP712Domain":
        assert _hash_typed_data_in_place(plain, domain_types=dt) == expected
    text = json.dumps(plain, ensure_ascii=case.ensure_ascii)
    with shown(json_text=text):
        assert fastx402.hash_typed_data(text, domain_types=dt) == expected
        assert fastx402.hash_typed_data(text.encode(), domain_types=dt) == expected


# ---------------------------------------------------------------------------
# Tests.


@settings(max_examples=DIGEST_EXAMPLES, **_SETTINGS)
@given(documents())
def test_digest_matches_eth_account(case: Case) -> None:
    doc = case.doc
    with shown(document=doc, domain_types=case.domain_types):
        signable = encode_typed_data(full_message=doc)
        # Domain and message separately first: a failure then says which half differs.
        dt = case.domain_types
        assert fastx402.domain_separator(doc, domain_types=dt) == bytes(signable.header)
        assert fastx402.hash_struct(doc["types"], doc["primaryType"], doc["message"]) == bytes(
            signable.body
        )
        check_fastx402(case, bytes(_hash_eip191_message(signable)))


@settings(max_examples=REFERENCE_SELF_CHECK_EXAMPLES, **_SETTINGS)
@given(documents())
def test_reference_encoder_matches_eth_account(case: Case) -> None:
    """The reference encoder agrees with eth-account where eth-account is a valid oracle."""
    with shown(document=case.doc):
        expected = eth_digest(case.doc)
        assert ref_digest(case.doc) == expected
        # These documents count toward the digest differential too.
        check_fastx402(case, expected)


@settings(max_examples=REFERENCE_EXAMPLES, **_SETTINGS)
@given(documents(graph=True))
def test_digest_matches_reference_beyond_eth_account(case: Case) -> None:
    """Mutual recursion, referenced primary types, unused types, structs named uint/int,
    domains in any order with extra fields, primaryType EIP712Domain: eth-account cannot
    hash these (or hashes them unlike MetaMask v4), so the reference encoder is the oracle."""
    with shown(document=case.doc, domain_types=case.domain_types):
        check_fastx402(case, ref_digest(case.doc))


_private_keys = st.one_of(
    st.sampled_from([1, 2, SECP256K1_N - 1, SECP256K1_N // 2]), st.integers(1, SECP256K1_N - 1)
)


@settings(max_examples=SIGNATURE_EXAMPLES, **_SETTINGS)
@given(documents(), _private_keys)
def test_signatures_cross_recover_and_are_identical(case: Case, key_int: int) -> None:
    doc, dt = case.doc, case.domain_types
    key = key_int.to_bytes(32, "big")
    with shown(document=doc, key="0x" + key.hex()):
        account = Account.from_key(key)
        ours = fastx402.PrivateKey(key)
        assert ours.address == account.address
        assert fastx402.PrivateKey.from_hex("0x" + key.hex()).address == account.address

        digest = fastx402.hash_typed_data(doc, domain_types=dt)
        theirs_sig = bytes(Account.sign_typed_data(key, full_message=doc).signature)
        assert bytes(Account.unsafe_sign_hash(digest, key).signature) == theirs_sig
        our_sig = ours.sign_typed_data(doc, domain_types=dt)
        assert len(our_sig) == 65 and our_sig[64] in (27, 28)
        # Both are RFC 6979 deterministic and low-s: the very same bytes.
        assert our_sig == theirs_sig
        assert ours.sign_digest(digest) == our_sig

        # eth-account's signature recovers in fastx402, and fastx402's in eth-account.
        assert fastx402.recover_typed_data(doc, theirs_sig, domain_types=dt) == account.address
        assert fastx402.recover_digest(digest, theirs_sig) == account.address
        signable = encode_typed_data(full_message=doc)
        assert Account.recover_message(signable, signature=our_sig) == account.address


def _edge_values(t: str) -> list[int]:
    bits = int(t.removeprefix("u").removeprefix("int"))
    if t.startswith("u"):
        top = 2**bits - 1
        return [0, 1, top, top - 1, top // 3]
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return [0, 1, -1, hi, lo, hi - 1, lo + 1, hi // 3, lo // 3]


@pytest.mark.parametrize("t", UINTS + INTS)
def test_every_integer_width_at_its_edges(t: str) -> None:
    """Exhaustively: each edge value of each width, in every form, as a scalar and in arrays."""
    bits = int(t.removeprefix("u").removeprefix("int"))
    fields, message = [], {}
    for i, v in enumerate(_edge_values(t)):
        for j, form in enumerate(_int_forms(v, bits)):
            fields.append({"name": f"v{i}_{j}", "type": t})
            message[f"v{i}_{j}"] = form
        fields.append({"name": f"a{i}", "type": f"{t}[][2]"})
        message[f"a{i}"] = [_int_forms(v, bits), []]
    doc = {
        "types": {"EIP712Domain": [{"name": "chainId", "type": "uint256"}], "Edges": fields},
        "primaryType": "Edges",
        "domain": {"chainId": 8453},
        "message": message,
    }
    expected = eth_digest(doc)
    assert ref_digest(doc) == expected
    check_fastx402(Case(doc, None, ensure_ascii=True), expected)


def test_eth_account_drops_struct_named_uint() -> None:
    """Evidence for excluding struct names ``uint``/``int`` from the eth-account differential:
    eth-account's ``find_type_dependencies`` skips them as "solidity types", so encodeType
    misses ``uint(uint8 x)``. MetaMask v4 resolves names through ``types`` first, as the
    reference encoder and fastx402 do."""
    doc = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "Mail": [{"name": "u", "type": "uint"}],
            "uint": [{"name": "x", "type": "uint8"}],
        },
        "primaryType": "Mail",
        "domain": {"name": "n"},
        "message": {"u": {"x": 1}},
    }
    assert fastx402.encode_type(doc["types"], "Mail") == "Mail(uint u)uint(uint8 x)"
    assert fastx402.hash_typed_data(doc) == ref_digest(doc)
    assert eth_digest(doc) != ref_digest(doc)


def test_eth_account_reorders_noncanonical_domain() -> None:
    """Evidence for canonical domains only in the eth-account differential: eth-account hashes
    ``EIP712Domain(uint256 chainId,string name)`` as if it were ``(string name,uint256 chainId)``;
    strict v4 (like MetaMask v4) honours the order given."""
    doc = {
        "types": {
            "EIP712Domain": [
                {"name": "chainId", "type": "uint256"},
                {"name": "name", "type": "string"},
            ],
            "M": [{"name": "x", "type": "uint8"}],
        },
        "primaryType": "M",
        "domain": {"chainId": 1, "name": "n"},
        "message": {"x": 1},
    }
    canonical = {
        **doc,
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "M": doc["types"]["M"],
        },
    }
    assert fastx402.hash_typed_data(doc) == ref_digest(doc)
    assert eth_digest(doc) == ref_digest(canonical) != ref_digest(doc)


def _node(v: int, *kids: dict[str, Any]) -> dict[str, Any]:
    return {"v": v, "kids": list(kids)}


def test_self_recursive_type_matches_eth_account() -> None:
    """``Node{uint256 v, Node[] kids}``: eth-account hashes self-recursion (it excludes a type's
    references to itself when deriving the primary type), so it is the oracle here too."""
    doc = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "Node": [{"name": "v", "type": "uint256"}, {"name": "kids", "type": "Node[]"}],
        },
        "primaryType": "Node",
        "domain": {"name": "tree"},
        "message": _node(1, _node(2), _node(3, _node(4, _node(5)), _node(6))),
    }
    assert fastx402.encode_type(doc["types"], "Node") == "Node(uint256 v,Node[] kids)"
    expected = eth_digest(doc)
    assert ref_digest(doc) == expected
    check_fastx402(Case(doc, None, ensure_ascii=True), expected)


def test_mutually_recursive_types_match_reference() -> None:
    """``A{B[] bs}``, ``B{A[] as_}``: eth-account cannot pick a primary type (each is referenced
    by the other), so the reference encoder is the oracle."""
    doc = {
        "types": {
            "EIP712Domain": [{"name": "chainId", "type": "uint256"}],
            "A": [{"name": "n", "type": "string"}, {"name": "bs", "type": "B[]"}],
            "B": [{"name": "as_", "type": "A[]"}, {"name": "x", "type": "int8"}],
        },
        "primaryType": "A",
        "domain": {"chainId": 1},
        "message": {
            "n": "root",
            "bs": [
                {"as_": [{"n": "leaf", "bs": []}], "x": -128},
                {"as_": [], "x": 127},
            ],
        },
    }
    with pytest.raises(ValueError, match="primary type"):
        eth_digest(doc)
    assert fastx402.encode_type(doc["types"], "A") == "A(string n,B[] bs)B(A[] as_,int8 x)"
    assert fastx402.encode_type(doc["types"], "B") == "B(A[] as_,int8 x)A(string n,B[] bs)"
    check_fastx402(Case(doc, None, ensure_ascii=True), ref_digest(doc))
