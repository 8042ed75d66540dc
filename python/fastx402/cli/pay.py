"""``fastx402 pay``: a curl-like request that pays a 402 under a spend policy
(``fastx402.client.paying_client``), recorded in the agent's ledger. The response body goes to
stdout, the receipt to stderr. Exit 0: a success answer (paid, or nothing asked); 1: refused,
failed before paying, or an HTTP error answer; 3: not charged; 4: outcome unknown (may have been
charged; never re-signed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fastx402.cli._common import CliError, Parser, describe_receipt, print_json, receipt_dict
from fastx402.cli._inputs import (
    add_key_options,
    add_ledger_option,
    add_policy_options,
    ledger_url,
    read_key,
    read_policy,
)

DEFAULT_KEY_ENV = "FASTX402_KEY"
TIMEOUT = 30.0
NOT_CHARGED = 3
UNKNOWN = 4


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "pay",
        help="a curl-like request that pays a 402 under a policy, with the receipt",
        description=(
            "Request URL; if it answers 402, pay the best offer the policy allows and send the "
            "request again. The body goes to stdout, the receipt to stderr (--json: both as "
            "JSON). The key comes from the environment, a file or a keystore, never the "
            "command line. Exit: 0 answered, 1 refused/error, 3 not charged, 4 unknown."
        ),
    )
    p.add_argument("url", metavar="URL")
    p.add_argument(
        "-X", "--request", dest="method", metavar="METHOD", help="default GET (POST with -d)"
    )
    p.add_argument("-d", "--data", metavar="DATA", help="request body ('@FILE', '@-' for stdin)")
    p.add_argument(
        "-H", "--header", action="append", default=[], metavar="'K: V'", help="(repeatable)"
    )
    add_policy_options(p)
    add_key_options(p, DEFAULT_KEY_ENV, keystore=True)
    add_ledger_option(p)
    p.add_argument(
        "--budget-store",
        metavar="URL",
        help="where the policy's budget counters live (default: the ledger's store, so a "
        "daily budget holds across runs)",
    )
    for who in ("agent", "tool", "user"):
        p.add_argument(f"--{who}", metavar="NAME", help=f"the {who} the ledger records")
    p.add_argument("--dry-run", action="store_true", help="quote and stop: sign nothing")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds (default 30)")
    p.add_argument("--json", action="store_true", help="print {status, headers, body, receipt}")
    p.set_defaults(run=run)


def _headers(values: list[str]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise CliError(f"-H: 'Name: value', not {value!r}", 2)
        out.append((name.strip(), rest.strip()))
    return out


def _body(data: str | None) -> bytes | None:
    """``-d``: the text itself, ``@FILE``'s bytes, or stdin's (``@-``), as curl reads them."""
    if data is None:
        return None
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_bytes()
        except OSError as e:
            raise CliError(f"-d: cannot read {data[1:]} ({e.strerror})", 2) from None
    return data.encode()


def _dry_run(args: argparse.Namespace, policy: Any, method: str) -> int:
    from fastx402.cli.quote import fetch_offers, offers_data

    found = fetch_offers(args.url, method, policy, args.timeout)
    if found is None:
        rows: list[dict[str, Any]] = []
    else:
        rows = offers_data(found)
    if args.json:
        payable = found is not None and bool(found.quotes)
        would = rows[:1] if payable else []
        print_json({"url": args.url, "dry_run": True, "would_pay": would, "offers": rows})
    elif found is None:
        print(f"{args.url}: no payment asked", file=sys.stderr)
    elif found.quotes:
        q = found.quotes[0]
        print(f"would pay {q.price} {q.symbol} to {q.pay_to} on {q.network}", file=sys.stderr)
    else:
        print("nothing payable: " + "; ".join(r for _, r in found.refused), file=sys.stderr)
    return 0 if found is None or found.quotes else 1


def _spending(args: argparse.Namespace) -> Any:
    from fastx402.client import Spending

    try:
        ledger = ledger_url(args, must_exist=False)
        return Spending(args.budget_store or ledger, ledger)
    except ValueError as e:  # a store URL the store layer refuses
        raise CliError(f"--ledger/--budget-store: {e}") from None


def run(args: argparse.Namespace) -> int:
    import httpx

    from fastx402 import ProtocolError, X402Error
    from fastx402.client import (
        NotA402,
        PaymentRefused,
        PaymentUnconfirmed,
        Spender,
        SpendingHalted,
        paying_client,
        receipt_of,
    )

    if not args.url.startswith(("http://", "https://")):
        raise CliError(f"URL: an http(s) URL, not {args.url!r}", 2)
    headers = _headers(args.header)
    body = _body(args.data)
    method = (args.method or ("POST" if body is not None else "GET")).upper()
    policy = read_policy(args)
    if args.dry_run:
        return _dry_run(args, policy, method)
    key = read_key(args, "payer")
    spender = Spender(agent=args.agent, tool=args.tool, user=args.user)
    spending = _spending(args)
    try:
        with paying_client(
            key, policy, spending=spending, spender=spender, timeout=args.timeout
        ) as client:
            try:
                response = client.request(method, args.url, headers=headers, content=body)
            except PaymentRefused as e:
                raise CliError(f"refused by policy: {e}") from None
            except SpendingHalted as e:
                raise CliError(f"spending halted: {e}") from None
            except PaymentUnconfirmed as e:
                print(describe_receipt(e.receipt), file=sys.stderr)
                raise CliError(f"{e}; check the ledger before paying again", UNKNOWN) from None
            except (NotA402, ProtocolError) as e:
                why = f"{args.url} answered 402 without a valid x402 request: {e}"
                raise CliError(why) from None
            except X402Error as e:  # e.g. the core refused to sign these terms
                raise CliError(f"{args.url}: cannot pay: {e}") from None
            except httpx.HTTPError as e:
                raise CliError(f"cannot reach {args.url}: {type(e).__name__}: {e}") from None
    finally:
        spending.close()
    del key
    receipt = receipt_of(response)
    if args.json:
        print_json(
            {
                "status": response.status_code,
                "headers": dict(response.headers),
                "body": response.text,
                "receipt": None if receipt is None else receipt_dict(receipt),
            }
        )
    else:
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
        if receipt is not None:
            print(describe_receipt(receipt), file=sys.stderr)
        elif response.status_code == 402:
            print("402 again: nothing paid", file=sys.stderr)
    if receipt is None:
        return 0 if response.status_code < 400 else 1
    return {"paid": 0, "not_charged": NOT_CHARGED}.get(receipt.outcome, UNKNOWN)
