"""``fastx402 verify``: is this payment valid for these requirements? The core verifies it locally
(signature, amounts, time window); ``--facilitator URL`` asks a facilitator's ``/verify`` too
(balance, nonce state, smart wallets). Exit 0 valid, 1 invalid, 2 bad input, 3 no answer."""

from __future__ import annotations

import argparse
import time
from typing import Any

from fastx402.cli._common import CliError, Parser, print_json, verdict
from fastx402.cli._inputs import read_document, requirements_for

UNREACHABLE = 3


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "verify",
        help="verify a payment against requirements (exit 0 valid, 1 invalid)",
        description=(
            "PAYMENT is a PAYMENT-SIGNATURE / X-PAYMENT header value, its JSON, a file or '-'; "
            "--requirements a 402 (header, body or file) or one offer's requirements. "
            "Exit status: 0 valid, 1 invalid, 2 bad input, 3 the facilitator did not answer."
        ),
    )
    p.add_argument("payment", metavar="PAYMENT")
    p.add_argument("--requirements", required=True, metavar="ARG")
    p.add_argument("--facilitator", metavar="URL", help="also ask this facilitator's /verify")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def _remote(url: str, payment: Any, requirements: Any) -> dict[str, Any]:
    from fastx402 import RemoteFacilitator, X402Error

    try:
        answer = RemoteFacilitator(url).verify_blocking(payment, requirements)
    except X402Error as e:  # unreachable, garbage answer, or a bad URL
        raise CliError(f"--facilitator {url}: {e}", UNREACHABLE) from None
    return {
        "valid": answer.is_valid,
        "reason": answer.invalid_reason,
        "why": answer.invalid_message,
        "payer": answer.payer,
    }


def run(args: argparse.Namespace) -> int:
    try:
        payment = read_document(args.payment, "PAYMENT")
        if payment.kind != "payment":
            raise CliError(f"PAYMENT: a payment header, not a {payment.kind}")
        requirements = requirements_for(
            payment.value, read_document(args.requirements, "--requirements")
        )
    except CliError as e:
        raise CliError(str(e), 2) from None
    local = verdict(payment.value, requirements, int(time.time()))
    result: dict[str, Any] = {"local": local}
    valid = bool(local["valid"])
    if args.facilitator is not None and (valid or local.get("needs_chain")):
        result["facilitator"] = _remote(args.facilitator, payment.value, requirements)
        valid = bool(result["facilitator"]["valid"])
    elif local.get("needs_chain"):
        local["why"] = "a smart-wallet signature: pass --facilitator URL to verify it on chain"
    result["valid"] = valid
    final = result.get("facilitator", local)
    result["reason"] = None if valid else final["reason"]
    if args.json:
        print_json(result)
    elif valid:
        print(f"valid: paid by {final['payer']}")
    else:
        print(f"invalid: {final['reason']}: {final['why']}")
    return 0 if valid else 1
