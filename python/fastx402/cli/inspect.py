"""``fastx402 inspect``: decode and pretty-print an x402 header, a 402 body, or a URL's 402 (with
the seller's rate card), with a verdict. Decoding and verification are the core's; this module
only lays them out."""

from __future__ import annotations

import argparse
import time
from typing import Any

from fastx402.cli._common import (
    CliError,
    Parser,
    human_amount,
    network_label,
    print_json,
    relative_time,
    verdict,
)
from fastx402.cli._inputs import Document, parse_document, read_document, requirements_for

TIMEOUT = 10.0  # seconds, for the URL and its rate card
MAX_CARD_ROUTES = 50  # routes of a rate card printed (all of them in --json)


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "inspect",
        help="decode any x402 header, 402 body or URL's 402, with a verdict",
        description=(
            "ARG is a PAYMENT-REQUIRED, PAYMENT-SIGNATURE / X-PAYMENT or PAYMENT-RESPONSE "
            "header value (base64 JSON, v1 or v2; with or without its 'Name: '), its JSON, a "
            "file holding one, '-' for stdin, "
            "or an http(s) URL (its 402 and the origin's rate card at /.well-known/x402). "
            "A payment is verified locally against the terms it accepted, or --requirements."
        ),
    )
    p.add_argument("arg", metavar="ARG")
    p.add_argument("--requirements", metavar="ARG", help="a 402 or requirements to verify against")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


# --- layout of each kind --------------------------------------------------------------------------


def requirements_data(r: Any, now: int) -> dict[str, Any]:
    del now  # requirements carry a timeout, not a time
    data: dict[str, Any] = r.to_dict()
    data["_price"] = human_amount(r.amount, r.network, r.asset)
    return data


def _requirements_lines(r: Any, indent: str) -> list[str]:
    lines = [
        f"{indent}scheme   {r.scheme}",
        f"{indent}network  {network_label(r.network)}",
        f"{indent}amount   {human_amount(r.amount, r.network, r.asset)} ({r.amount} atomic)",
        f"{indent}asset    {r.asset}",
        f"{indent}payTo    {r.pay_to}",
        f"{indent}timeout  {r.max_timeout_seconds} s",
    ]
    if r.resource:
        lines.append(f"{indent}resource {r.resource}")
    return lines


def _required(value: Any, now: int) -> tuple[list[str], dict[str, Any]]:
    lines = [f"PAYMENT-REQUIRED (x402 v{value.x402_version})"]
    if value.error:
        lines.append(f"  error    {value.error}")
    if value.resource:
        lines.append(f"  resource {value.resource.get('url', value.resource)}")
    for i, r in enumerate(value.accepts, 1):
        lines.append(f"  offer {i}")
        lines += _requirements_lines(r, "    ")
    data = {
        "kind": "payment-required",
        "decoded": value.to_dict(),
        "offers": [requirements_data(r, now) for r in value.accepts],
    }
    return lines, data


def _window(value: Any, now: int) -> dict[str, Any]:
    window: dict[str, Any] = {}
    for name in ("valid_after", "valid_before", "deadline"):
        at = getattr(value, name)
        if at is not None:
            window[name] = {"at": at, "relative": relative_time(at, now)}
    return window


def _payment(value: Any, requirements: Any, now: int) -> tuple[list[str], dict[str, Any]]:
    lines = [f"PAYMENT-SIGNATURE (x402 v{value.x402_version}, {value.scheme} on {value.network})"]
    lines.append(f"  payer    {value.payer or '?'} (claimed)")
    terms = requirements if requirements is not None else value.accepted
    if value.amount_atomic is not None and terms is not None:
        a = terms
        lines.append(f"  amount   {human_amount(value.amount_atomic, a.network, a.asset)}")
    elif value.amount_atomic is not None:
        lines.append(f"  amount   {value.amount_atomic} atomic")
    window = _window(value, now)
    for name, w in window.items():
        lines.append(f"  {name:<12} {w['at']} ({w['relative']})")
    if value.accepted is not None:
        lines.append("  accepted")
        lines += _requirements_lines(value.accepted, "    ")
    v = verdict(value, requirements, now)
    if not v["checked"]:
        lines.append(f"verdict: not checked ({v['why']})")
    elif v["valid"]:
        lines.append(f"verdict: VALID, signed by {v['payer']} ({v['against']})")
    else:
        lines.append(f"verdict: INVALID {v['reason']}: {v['why']}")
    data = {"kind": "payment", "decoded": value.to_dict(), "window": window, "verdict": v}
    return lines, data


def _settled(value: Any) -> tuple[list[str], dict[str, Any]]:
    outcome = "SUCCESS" if value.success else f"FAILED {value.error_reason}"
    lines = [f"PAYMENT-RESPONSE {outcome}", f"  network  {network_label(value.network)}"]
    if value.transaction:
        lines.append(f"  tx       {value.transaction}")
    if value.payer:
        lines.append(f"  payer    {value.payer}")
    if value.amount is not None:
        lines.append(f"  amount   {value.amount} atomic")
    if value.error_message:
        lines.append(f"  message  {value.error_message}")
    return lines, {"kind": "settle-response", "decoded": value.to_dict()}


def describe(doc: Document, requirements: Any, now: int) -> tuple[list[str], dict[str, Any]]:
    if doc.kind == "payment-required":
        return _required(doc.value, now)
    if doc.kind == "payment":
        return _payment(doc.value, requirements, now)
    if doc.kind == "settle-response":
        return _settled(doc.value)
    lines = ["PAYMENT REQUIREMENTS", *_requirements_lines(doc.value, "  ")]
    return lines, {"kind": "requirements", "decoded": requirements_data(doc.value, now)}


# --- URLs -----------------------------------------------------------------------------------------


def _rate_card(client: Any, url: str) -> dict[str, Any] | None:
    """The origin's rate card, or None when it has none (anything but a JSON card)."""
    import httpx

    from fastx402.client import origin_of

    try:
        answer = client.get(f"{origin_of(url)}/.well-known/x402")
        card = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return card if isinstance(card, dict) and isinstance(card.get("routes"), list) else None


def _card_lines(card: dict[str, Any]) -> list[str]:
    lines = [f"rate card (version {card.get('version', '?')})"]
    for route in card["routes"][:MAX_CARD_ROUTES]:
        if not isinstance(route, dict):
            continue
        prices = []
        for o in route.get("accepts") or []:
            if isinstance(o, dict) and o.get("amount") not in (None, "dynamic"):
                prices.append(human_amount(str(o["amount"]), str(o["network"]), str(o["asset"])))
            else:
                prices.append("dynamic")
        lines.append(f"  {route.get('route')}  {' | '.join(prices)}  {route.get('description')}")
    return lines


def _from_url(url: str, now: int) -> tuple[list[str], dict[str, Any]]:
    import httpx

    from fastx402 import X402Error
    from fastx402.client.quote import NotA402, parse_402

    with httpx.Client(follow_redirects=False, timeout=TIMEOUT) as client:
        try:
            answer = client.get(url)
        except httpx.HTTPError as e:
            raise CliError(f"cannot reach {url}: {type(e).__name__}: {e}") from None
        card = _rate_card(client, url)
    data: dict[str, Any] = {"url": url, "status": answer.status_code}
    if answer.status_code == 402:
        try:
            required = parse_402(answer)
        except (NotA402, X402Error) as e:
            raise CliError(f"{url} answered 402 without a valid x402 request: {e}") from None
        lines, described = _required(required, now)
        data.update(described)
        lines.insert(0, f"{url}: HTTP 402")
    else:
        lines = [f"{url}: HTTP {answer.status_code}, no payment asked"]
        if answer.is_redirect:
            lines.append(f"  redirects to {answer.headers.get('location')} (not followed)")
        data["kind"] = None
    receipt = answer.headers.get("payment-response")
    if receipt:
        more, settled = describe(parse_document(receipt, "PAYMENT-RESPONSE"), None, now)
        lines += more
        data["settle_response"] = settled
    data["rate_card"] = card
    if card is not None:
        lines += _card_lines(card)
    return lines, data


def run(args: argparse.Namespace) -> int:
    now = int(time.time())
    if args.arg.startswith(("http://", "https://")):
        if args.requirements is not None:
            raise CliError("--requirements goes with a payment, not a URL", 2)
        lines, data = _from_url(args.arg, now)
    else:
        doc = read_document(args.arg, "ARG")
        requirements = None
        if args.requirements is not None:
            if doc.kind != "payment":
                raise CliError(f"--requirements goes with a payment, not a {doc.kind}", 2)
            against = read_document(args.requirements, "--requirements")
            requirements = requirements_for(doc.value, against)
        lines, data = describe(doc, requirements, now)
    if args.json:
        print_json(data)
    else:
        print("\n".join(lines))
    return 0
