"""What every ``fastx402`` command shares: the parser class, the error that ends a command with a
message (never a traceback), redaction of anything shaped like a private key, JSON output."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, NoReturn

# 32 bytes of hex: a private key, wherever it was typed by mistake.
HEX_KEY = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")


class CliError(Exception):
    """Ends a command: ``fastx402: <message>`` on stderr and exit status ``status`` (1 by
    default; 2 is argparse's own for usage errors). The message is redacted before printing."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse that never echoes something shaped like a private key in its usage errors
    (``unrecognized arguments: --private-key 0x...`` would print the key to the terminal/logs)."""

    def error(self, message: str) -> NoReturn:
        super().error(redacted(message))


def redacted(text: str) -> str:
    """``text`` with anything shaped like a private key replaced (for messages we print)."""
    return HEX_KEY.sub("<redacted>", text)


def print_json(data: Any) -> None:
    """One JSON document on stdout (``--json`` output: machine-readable, nothing else printed)."""
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def human_amount(amount: int | str, network: str, asset: str) -> str:
    """``10000`` of USDC → ``0.01 USDC``; the raw amount when the asset is not registered."""
    from fastx402 import atomic_to_price, find_asset

    try:
        info = find_asset(network, asset)
        return f"{atomic_to_price(amount, info['decimals'])} {info.get('symbol') or info['name']}"
    except ValueError:
        return f"{amount} (atomic units of unregistered asset {asset})"


def relative_time(at: int, now: int) -> str:
    """``in 59 s`` / ``3 min ago``."""
    delta = at - now
    span = abs(delta)
    if span < 120:
        text = f"{span} s"
    else:
        text = f"{span // 60} min" if span < 7200 else f"{span // 3600} h"
    return f"in {text}" if delta >= 0 else f"{text} ago"


def _charged(receipt: Any) -> str:
    """What the receipt says was charged, in token units (0 unless paid)."""
    from fastx402 import atomic_to_price, find_asset

    q = receipt.quote
    return atomic_to_price(receipt.amount, find_asset(q.network, q.asset)["decimals"])


def receipt_dict(receipt: Any) -> dict[str, Any]:
    """A :class:`~fastx402.client.Receipt` as JSON-ready data (``amount``: atomic units charged,
    ``price``: the same in token units)."""
    q = receipt.quote
    return {
        "outcome": receipt.outcome,
        "amount": str(receipt.amount),
        "price": _charged(receipt),
        "quoted": str(q.price),
        "symbol": q.symbol,
        "payer": receipt.payer,
        "pay_to": q.pay_to,
        "network": q.network,
        "asset": q.asset,
        "transaction": receipt.transaction,
        "reason": receipt.reason,
        "payment_id": receipt.payment_id,
        "url": q.url,
    }


def describe_receipt(receipt: Any) -> str:
    """One line for humans: outcome, amount, payer → payee, network, transaction."""
    q = receipt.quote
    price = _charged(receipt) if receipt.outcome == "paid" else f"{q.price} (quoted)"
    line = f"{receipt.outcome}: {price} {q.symbol} {receipt.payer} -> {q.pay_to} on {q.network}"
    if receipt.transaction:
        line += f" tx {receipt.transaction}"
    if receipt.reason:
        line += f" ({receipt.reason})"
    return line


def network_label(network: str) -> str:
    """``eip155:8453 (base, chain 8453)``; the name as given when the core does not know it."""
    from fastx402 import parse_network

    try:
        caip2, chain_id, name = parse_network(network)
    except ValueError:
        return f"{network} (unknown network)"
    label = f"{caip2} ({name}, chain {chain_id})" if name else f"{caip2} (chain {chain_id})"
    return label if caip2 == network else f"{network} = {label}"


def verdict(payment: Any, requirements: Any, now: int) -> dict[str, Any]:
    """The core's local verification of ``payment`` (against ``requirements``, or the terms it
    accepted); never a chain or facilitator call."""
    from fastx402 import X402Error, verify_payment

    against = requirements if requirements is not None else payment.accepted
    if against is None:
        return {"checked": False, "why": "a v1 payment names no terms: pass --requirements"}
    try:
        result = verify_payment(payment, against, now=now)
    except X402Error as e:
        reason = getattr(e, "reason", None)
        return {"checked": True, "valid": False, "reason": reason, "why": str(e)}
    return {
        "checked": True,
        "against": "--requirements" if requirements is not None else "accepted terms",
        "valid": result.is_valid,
        "reason": result.reason,
        "why": result.message,
        "needs_chain": result.needs_chain,
        "payer": result.payer,
        "authenticated": result.is_valid,
    }
