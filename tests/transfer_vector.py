"""The EIP-3009 ``TransferWithAuthorization`` typed-data document the tests share.

Its one home is ``tests/vectors/transfer_with_authorization.json`` (the x402 v2 specification's
example payment; read its ``provenance``). Every test that needs the document, its digest or the
EIP-3009 type definitions takes them from here, each call a fresh copy.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

VECTOR_FILE = Path(__file__).resolve().parent / "vectors" / "transfer_with_authorization.json"
_VECTOR: dict[str, Any] = json.loads(VECTOR_FILE.read_text(encoding="utf-8"))


def transfer() -> dict[str, Any]:
    """The example typed-data document (a fresh deep copy: callers may change it)."""
    return copy.deepcopy(_VECTOR["typed_data"])


TRANSFER_DIGEST: bytes = bytes.fromhex(_VECTOR["digest"].removeprefix("0x"))
"""The document's EIP-712 digest."""

DOMAIN_FIELDS: list[dict[str, str]] = _VECTOR["typed_data"]["types"]["EIP712Domain"]
"""``EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)``."""

AUTHORIZATION_FIELDS: list[dict[str, str]] = _VECTOR["typed_data"]["types"][
    "TransferWithAuthorization"
]
"""The EIP-3009 authorization struct (from, to, value, validAfter, validBefore, nonce), the same
for ``TransferWithAuthorization`` and ``ReceiveWithAuthorization``."""


def authorization_typed_data(
    domain: dict[str, Any], message: dict[str, Any], primary: str = "TransferWithAuthorization"
) -> dict[str, Any]:
    """An EIP-3009 authorization document over ``domain`` (the vector's types, another token or
    message)."""
    return {
        "types": {
            "EIP712Domain": copy.deepcopy(DOMAIN_FIELDS),
            primary: copy.deepcopy(AUTHORIZATION_FIELDS),
        },
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }
