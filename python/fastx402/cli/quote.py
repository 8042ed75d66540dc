"""``fastx402 quote``: what a URL asks to be paid and the policy's verdict on each offer, without
paying (``fastx402.client.quote``). Exit 0: free or payable; 1: nothing the policy allows."""

from __future__ import annotations

import argparse
from typing import Any

from fastx402.cli._common import CliError, Parser, human_amount, print_json
from fastx402.cli._inputs import add_policy_options, read_policy

TIMEOUT = 10.0


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "quote",
        help="show a URL's offers and the policy's verdict on each, without paying",
        description="Ask URL once, read its 402 and check every offer against the policy.",
    )
    p.add_argument("url", metavar="URL")
    p.add_argument("-X", "--request", dest="method", default="GET", metavar="METHOD")
    add_policy_options(p)
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def fetch_offers(url: str, method: str, policy: Any, timeout: float) -> Any:
    """The :class:`~fastx402.client.Offers` of ``url`` (None: it asked no payment)."""
    import httpx

    from fastx402 import X402Error
    from fastx402.client import NotA402, quote

    if not url.startswith(("http://", "https://")):
        raise CliError(f"URL: an http(s) URL, not {url!r}", 2)
    try:
        return quote(url, policy, method=method.upper(), timeout=timeout)
    except httpx.HTTPError as e:
        raise CliError(f"cannot reach {url}: {type(e).__name__}: {e}") from None
    except (NotA402, X402Error) as e:
        raise CliError(f"{url} answered 402 without a valid x402 request: {e}") from None


def offers_data(found: Any) -> list[dict[str, Any]]:
    """Every offer, payable (best first) then refused, with the verdict."""
    rows = [
        {
            "verdict": "payable" if i else "payable (chosen)",
            "price": str(q.price),
            "symbol": q.symbol,
            "amount": str(q.amount),
            "network": q.network,
            "asset": q.asset,
            "pay_to": q.pay_to,
            "scheme": q.requirements.scheme,
        }
        for i, q in enumerate(found.quotes)
    ]
    rows += [
        {
            "verdict": f"refused: {reason}",
            "price": human_amount(r.amount, r.network, r.asset),
            "symbol": None,
            "amount": r.amount,
            "network": r.network,
            "asset": r.asset,
            "pay_to": r.pay_to,
            "scheme": r.scheme,
        }
        for r, reason in found.refused
    ]
    return rows


def run(args: argparse.Namespace) -> int:
    policy = read_policy(args)
    found = fetch_offers(args.url, args.method, policy, args.timeout)
    if found is None:
        if args.json:
            print_json({"url": args.url, "payment_required": False, "offers": []})
        else:
            print(f"{args.url}: no payment asked")
        return 0
    rows = offers_data(found)
    if args.json:
        print_json({"url": args.url, "payment_required": True, "offers": rows})
    else:
        print(f"{args.url}: {len(rows)} offer(s)")
        for row in rows:
            price = f"{row['price']} {row['symbol']}" if row["symbol"] else row["price"]
            print(f"  {price} on {row['network']} to {row['pay_to']}: {row['verdict']}")
    return 0 if found.quotes else 1
