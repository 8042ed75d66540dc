"""``fastx402 facilitator``: verify and settle x402 payments over HTTP on one EVM chain."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from fastx402.cli._common import CliError, Parser
from fastx402.cli._inputs import add_key_options, read_key

DEFAULT_KEY_ENV = "FASTX402_FACILITATOR_KEY"


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "facilitator",
        help="run an x402 facilitator (POST /verify, POST /settle, GET /supported)",
        description=(
            "Verify and settle x402 `exact` EIP-3009 payments on one EVM chain. The signing "
            f"key comes from the environment (${DEFAULT_KEY_ENV}, or --key-env) or a file "
            "(--key-file), never from the command line."
        ),
    )
    p.add_argument("--rpc", required=True, help="JSON-RPC URL of the chain")
    p.add_argument("--network", required=True, help="CAIP-2 network, e.g. eip155:8453")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4020)
    add_key_options(p, DEFAULT_KEY_ENV)
    p.add_argument("--journal", type=Path, help="settlement journal (survives restarts)")
    p.add_argument(
        "--allow-factory",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="ERC-6492 wallet factory the facilitator may deploy through (repeatable)",
    )
    p.add_argument("--receipt-timeout", type=float, default=60.0)
    p.add_argument("--reconcile-interval", type=float, default=5.0)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from fastx402.facilitator import create_app
    except ImportError:
        raise CliError(
            "the facilitator needs its extra: pip install 'fastx402[facilitator]'"
        ) from None
    from fastx402 import Facilitator, X402Error, parse_network, to_checksum_address

    # Name the option at fault (the core's messages say what is wrong, not where it came from).
    checks: list[tuple[str, Callable[[str], object], str]] = [
        ("--network", parse_network, args.network)
    ]
    checks += [("--allow-factory", to_checksum_address, a) for a in args.allow_factory]
    for option, check, value in checks:
        try:
            check(value)
        except X402Error as e:
            raise CliError(f"{option} {value}: {e}") from None
    key = read_key(args, "facilitator")
    try:
        facilitator = Facilitator(
            args.rpc,
            args.network,
            key,
            journal=args.journal,
            allowed_factories=args.allow_factory,
            receipt_timeout=args.receipt_timeout,
        )
    except X402Error as e:
        raise CliError(str(e)) from None
    del key
    print(
        f"fastx402 facilitator {facilitator.address} on {facilitator.network} "
        f"at http://{args.host}:{args.port}",
        flush=True,
    )
    app = create_app(facilitator, reconcile_interval=args.reconcile_interval)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
