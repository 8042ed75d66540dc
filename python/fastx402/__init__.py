"""fastx402: x402 payments for Python, with a Rust core."""

from __future__ import annotations

from fastx402._core import (
    PrivateKey,
    __version__,
    domain_separator,
    ecdsa_backend,
    encode_type,
    hash_message,
    hash_struct,
    hash_typed_data,
    keccak256,
    normalize_signature,
    recover_digest,
    recover_message,
    recover_typed_data,
    to_checksum_address,
    type_hash,
)
from fastx402.errors import (
    InvalidAddress,
    InvalidDigest,
    InvalidKey,
    InvalidSignature,
    InvalidTypedData,
    X402Error,
)

__all__ = [
    "InvalidAddress",
    "InvalidDigest",
    "InvalidKey",
    "InvalidSignature",
    "InvalidTypedData",
    "PrivateKey",
    "X402Error",
    "__version__",
    "domain_separator",
    "ecdsa_backend",
    "encode_type",
    "hash_message",
    "hash_struct",
    "hash_typed_data",
    "keccak256",
    "normalize_signature",
    "recover_digest",
    "recover_message",
    "recover_typed_data",
    "to_checksum_address",
    "type_hash",
]
