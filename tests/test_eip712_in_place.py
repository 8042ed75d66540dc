"""A typed-data ``dict`` is hashed by reading the Python objects in place; every other input
(JSON ``str``/``bytes``, and any ``dict`` that path does not vouch for) is converted to JSON first.
Both feed the one engine (``src/crypto/eip712.rs``); these tests check that the two paths give the
same digest, and the same exception, path and message, on every typed-data vector, and that the
in-place path defers to the general one on everything it does not read exactly like it.
"""

from __future__ import annotations

import copy
import enum
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import fastx402
from fastx402 import InvalidTypedData
from fastx402._core import _hash_typed_data_in_place as in_place
from transfer_vector import TRANSFER_DIGEST, transfer

VECTORS = Path(__file__).resolve().parent / "vectors"

TRANSFER: dict[str, Any] = transfer()  # tests/vectors/transfer_with_authorization.json
KEY = fastx402.PrivateKey(
    bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
)


def typed_data_vectors() -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """Every typed-data document in tests/vectors/*.json, with its domain_types mode."""

    def walk(node: Any, where: str, mode: str | None) -> Iterator[tuple[str, Any, str | None]]:
        if isinstance(node, dict):
            mode = node.get("domain_types", mode)
            if "types" in node and "primaryType" in node:
                yield where, node, None if mode == "given" else mode
                return
            for key, value in node.items():
                yield from walk(value, f"{where}.{key}", mode)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                name = value.get("name") if isinstance(value, dict) else None
                yield from walk(value, f"{where}[{name or i}]", mode)

    for path in sorted(VECTORS.glob("*.json")):
        yield from walk(json.loads(path.read_text("utf-8")), path.stem, None)


VECTOR_DOCS = list(typed_data_vectors())


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", call())
    except InvalidTypedData as e:
        return ("error", type(e), e.path, str(e))


def test_the_vectors_are_found() -> None:
    files = {name.split(".")[0] for name, _, _ in VECTOR_DOCS}
    assert {"eip712_rejections", "eip712_noncanonical", "permit2", "x402_ts"} <= files
    assert len(VECTOR_DOCS) > 130


@pytest.mark.parametrize(("name", "doc", "mode"), VECTOR_DOCS, ids=[v[0] for v in VECTOR_DOCS])
def test_dict_and_json_paths_agree_on_every_vector(
    name: str, doc: dict[str, Any], mode: str | None
) -> None:
    text = json.dumps(doc)
    via_dict = outcome(lambda: fastx402.hash_typed_data(doc, domain_types=mode))  # type: ignore[arg-type]
    via_json = outcome(lambda: fastx402.hash_typed_data(text, domain_types=mode))  # type: ignore[arg-type]
    assert via_dict == via_json
    direct = in_place(doc, domain_types=mode)  # type: ignore[arg-type]
    if via_dict[0] == "error":
        assert direct is None  # the in-place path never accepts what the engine refuses
    elif doc["primaryType"] == "EIP712Domain" and "message" in doc:
        assert direct is None  # the message is not read: the general path converts it
    else:
        assert direct == via_dict[1]  # plain dicts are hashed in place
    # sign and recover take the same two paths.
    signed = outcome(lambda: KEY.sign_typed_data(doc, domain_types=mode))  # type: ignore[arg-type]
    assert signed == outcome(lambda: KEY.sign_typed_data(text, domain_types=mode))  # type: ignore[arg-type]
    if signed[0] == "ok":
        assert fastx402.recover_typed_data(doc, signed[1], domain_types=mode) == KEY.address  # type: ignore[arg-type]


def test_the_benchmarked_document_is_hashed_in_place() -> None:
    assert in_place(TRANSFER) == TRANSFER_DIGEST
    assert fastx402.hash_typed_data(TRANSFER) == TRANSFER_DIGEST


class Amount(enum.IntEnum):
    TEN_THOUSAND = 10000


class Text(str):
    pass


def _nonce_bytes(doc: dict[str, Any]) -> None:
    doc["message"]["nonce"] = bytes.fromhex(doc["message"]["nonce"][2:])


def _value_enum(doc: dict[str, Any]) -> None:
    doc["message"]["value"] = Amount.TEN_THOUSAND


def _value_str_subclass(doc: dict[str, Any]) -> None:
    doc["message"]["value"] = Text("10000")


def _key_str_subclass(doc: dict[str, Any]) -> None:
    doc["message"] = {Text(k): v for k, v in doc["message"].items()}


def _ordered_message(doc: dict[str, Any]) -> None:
    doc["message"] = OrderedDict(doc["message"])


def _tuple_fields(doc: dict[str, Any]) -> None:
    doc["types"]["EIP712Domain"] = tuple(doc["types"]["EIP712Domain"])


@pytest.mark.parametrize(
    "mutate",
    [_nonce_bytes, _value_enum, _value_str_subclass, _key_str_subclass, _ordered_message],
)
def test_python_only_forms_take_the_general_path(mutate: Callable[[dict[str, Any]], None]) -> None:
    doc = copy.deepcopy(TRANSFER)
    mutate(doc)
    assert in_place(doc) is None
    assert fastx402.hash_typed_data(doc) == TRANSFER_DIGEST
    assert fastx402.recover_typed_data(doc, KEY.sign_typed_data(TRANSFER)) == KEY.address


def test_tuples_and_python_ints_are_read_in_place() -> None:
    doc = copy.deepcopy(TRANSFER)
    _tuple_fields(doc)
    doc["message"]["value"] = 10000
    doc["message"]["validAfter"] = 1740672089
    assert in_place(doc) == TRANSFER_DIGEST


@pytest.mark.parametrize(
    ("ty", "value"),
    [
        ("uint256", 2**256 - 1),
        ("uint256", 2**64),
        ("int256", -(2**255)),
        ("int256", -(2**63) - 1),
        ("int64", -(2**63)),
        ("int8", -128),
        ("uint256", 2**256),
        ("int256", 2**255),
        ("int8", -129),
        ("uint8", -1),
    ],
)
def test_integers_of_any_size_agree(ty: str, value: int) -> None:
    doc = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "T": [{"name": "x", "type": ty}],
        },
        "primaryType": "T",
        "domain": {"name": "n"},
        "message": {"x": value},
    }
    via_dict = outcome(lambda: fastx402.hash_typed_data(doc))
    assert via_dict == outcome(lambda: fastx402.hash_typed_data(json.dumps(doc)))
    assert in_place(doc) == (via_dict[1] if via_dict[0] == "ok" else None)


def _bad(doc: dict[str, Any], where: str, value: object) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["message"][where] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "path", "match"),
    [
        (_bad(TRANSFER, "value", 10000.0), "message.value", "float"),
        (_bad(TRANSFER, "value", object()), "message.value", "unsupported Python type"),
        (_bad(TRANSFER, "value", {1: 2}), "message.value", "keys must be str"),
        (_bad(TRANSFER, "value", "\ud800"), "message.value", "UTF-8"),
        (_bad(TRANSFER, "value", True), "message.value", "integer"),
        (_bad(TRANSFER, "extra", 1), "message.extra", "not declared"),
    ],
)
def test_refusals_keep_their_exception_and_path(doc: dict[str, Any], path: str, match: str) -> None:
    assert in_place(doc) is None
    with pytest.raises(InvalidTypedData, match=match) as info:
        fastx402.hash_typed_data(doc)
    assert info.value.path == path
    with pytest.raises(InvalidTypedData, match=match):
        KEY.sign_typed_data(doc)


def test_an_unread_message_is_still_converted() -> None:
    """With primaryType EIP712Domain the message is not hashed, yet it must still be JSON-like."""
    doc = copy.deepcopy(TRANSFER)
    doc["primaryType"] = "EIP712Domain"
    expected = fastx402.hash_typed_data(json.dumps(doc))
    assert in_place(doc) is None
    assert fastx402.hash_typed_data(doc) == expected
    doc["message"]["value"] = {1, 2}
    with pytest.raises(InvalidTypedData, match="unsupported Python type") as info:
        fastx402.hash_typed_data(doc)
    assert info.value.path == "message.value"


def _chain(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"next": []}
    for _ in range(depth):
        node = {"next": [node]}
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "N": [{"name": "next", "type": "N[]"}],
        },
        "primaryType": "N",
        "domain": {"name": "n"},
        "message": node,
    }


def test_nesting_cap_is_the_same() -> None:
    # The message sits at depth 1 and each link adds a dict and a list: 63 links reach
    # depth 128 (allowed), 64 reach 130 (refused), as the conversion of a dict does.
    ok = _chain(63)
    digest = fastx402.hash_typed_data(ok)
    assert in_place(ok) == digest == fastx402.hash_typed_data(_chain(63))
    deep = _chain(64)
    assert in_place(deep) is None
    with pytest.raises(InvalidTypedData, match="too deep"):
        fastx402.hash_typed_data(deep)


def test_a_cycle_is_an_error_not_a_crash() -> None:
    loop: list[Any] = []
    loop.append({"next": loop})
    doc = _chain(0)
    doc["message"] = {"next": loop}
    assert in_place(doc) is None
    with pytest.raises(InvalidTypedData, match="too deep"):
        fastx402.hash_typed_data(doc)


def test_domain_memo_keys_tell_values_apart() -> None:
    """The domain separator is memoized on the domain's content: equal-looking values of
    different kinds must not share an entry."""
    doc = copy.deepcopy(TRANSFER)
    doc["types"]["EIP712Domain"].append({"name": "salt", "type": "bytes32"})
    salt = "0x" + "11" * 32
    doc["domain"]["salt"] = salt
    first = fastx402.hash_typed_data(doc)
    assert fastx402.hash_typed_data(json.dumps(doc)) == first
    doc["domain"]["salt"] = "0x" + "12" * 32
    assert fastx402.hash_typed_data(doc) != first
    doc["domain"]["salt"] = salt
    doc["domain"]["chainId"] = "84532"  # same number as a string: same digest
    assert fastx402.hash_typed_data(doc) == first
    doc["domain"]["chainId"] = 84533
    assert fastx402.hash_typed_data(doc) != first
