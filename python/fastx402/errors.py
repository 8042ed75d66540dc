"""Exceptions raised by fastx402.

They are defined here, in Python, and raised from the Rust core. Every one is a
``ValueError`` (bad input) under one base, :class:`X402Error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastx402._core import SettleResponse

__all__ = [
    "FacilitatorError",
    "FacilitatorUnavailable",
    "HeaderTooLarge",
    "InvalidAddress",
    "InvalidAsset",
    "InvalidDigest",
    "InvalidKey",
    "InvalidNetwork",
    "InvalidPrice",
    "InvalidSignature",
    "InvalidTypedData",
    "ProtocolError",
    "SettlementOutcomeUnknown",
    "X402Error",
]


class X402Error(Exception):
    """Base of every fastx402 error."""


class InvalidAddress(X402Error, ValueError):
    """Not ``0x`` + 40 hex digits, or mixed case that fails its EIP-55 checksum."""


class InvalidDigest(X402Error, ValueError):
    """A digest that is not exactly 32 bytes."""


class InvalidKey(X402Error, ValueError):
    """A private key that is malformed or outside [1, n)."""


class InvalidSignature(X402Error, ValueError):
    """A malformed, out-of-range, high-s or unrecoverable signature.

    ``reason`` is one of ``malformed``, ``bad_length``, ``bad_v``, ``r_out_of_range``,
    ``s_out_of_range``, ``high_s``, ``recovery_failed``, ``zero_address``.
    """

    reason: str

    def __init__(self, message: str, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason


class InvalidTypedData(X402Error, ValueError):
    """EIP-712 typed data that breaks a strict-v4 rule.

    ``path`` names where, e.g. ``message.to[1].wallet`` or ``types.Mail[2].type``.
    """

    path: str

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.path = path


class ProtocolError(X402Error, ValueError):
    """An x402 message (header, payload, requirements, response) that breaks the protocol.

    ``reason`` is an x402 reason code (``invalid_payload``, ``invalid_x402_version``, …);
    ``path`` names the field (``accepted.extra.name``, ``payload.authorization.value``).
    """

    reason: str
    path: str

    def __init__(self, message: str, reason: str = "invalid_payload", path: str = "$") -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path


class HeaderTooLarge(ProtocolError):
    """A header value over the size cap, refused before any decoding (HTTP 431)."""


class InvalidNetwork(X402Error, ValueError):
    """A network that is malformed, unknown (v1 name) or not EVM (CAIP-2 namespace).

    ``reason`` is the x402 reason code (``invalid_network``); ``code`` the specific
    failure (``unknown_network``, ``unsupported_namespace``, ``invalid_chain_id``, …).
    """

    reason: str
    code: str

    def __init__(
        self, message: str, reason: str = "invalid_network", code: str = "malformed"
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = code


class InvalidAsset(X402Error, ValueError):
    """An asset that is unknown on its network, or an invalid asset definition.

    ``reason`` is ``invalid_payment_requirements``; ``code`` the specific failure
    (``no_default_asset``, ``unknown_asset``, ``unknown_symbol``, ``asset_conflict``, …).
    """

    reason: str
    code: str

    def __init__(
        self,
        message: str,
        reason: str = "invalid_payment_requirements",
        code: str = "unknown_asset",
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = code


class InvalidPrice(X402Error, ValueError):
    """A price or amount that breaks the grammar or needs more precision than the asset has.

    ``reason`` is ``invalid_payment_requirements``; ``code`` the specific failure
    (``too_precise``, ``exponent``, ``negative``, ``separator``, ``symbol_mismatch``, …).
    """

    reason: str
    code: str

    def __init__(
        self,
        message: str,
        reason: str = "invalid_payment_requirements",
        code: str = "malformed",
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = code


class FacilitatorError(X402Error):
    """A facilitator could not be set up (``code`` ``config``), a remote facilitator
    call got no usable answer, or fastx402 itself failed (``code`` ``internal``: a bug,
    such as a Rust panic, reported instead of crashing; no ``PanicException`` ever
    reaches Python from the facilitators).

    ``code`` names what went wrong: ``config``, ``timeout``, ``connection_lost``,
    ``redirect``, ``http_status``, ``too_large``, ``malformed``, ``internal``, …;
    ``message`` says more (it never contains the configured headers).
    """

    code: str
    message: str

    def __init__(self, message: str, code: str = "malformed") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FacilitatorUnavailable(X402Error):
    """The facilitator could not be reached and the request was certainly not sent
    (connection refused, DNS, TLS, connect timeout): a settlement did not happen."""

    code: str
    message: str

    def __init__(self, message: str, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SettlementOutcomeUnknown(X402Error):
    """A settlement that may or may not have happened: timeout or connection lost after
    the request was sent, a 3xx or 5xx answer, garbage, or an inconsistent answer
    (success without a valid transaction, on the wrong network or for the wrong payer;
    failure naming a transaction). Never a failure: reconcile before asking the payer
    for a new payment.

    ``code`` names the cause; ``response`` is the facilitator's answer when one parsed.
    """

    code: str
    message: str
    response: SettleResponse | None

    def __init__(
        self, message: str, code: str = "unknown", response: SettleResponse | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.response = response
