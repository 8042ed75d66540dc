"""``fastx402 demo``: x402 end to end on a local chain (see :mod:`fastx402.demo`)."""

from __future__ import annotations

import argparse
import re

from fastx402.cli._common import CliError, Parser, print_json
from fastx402.cli._inputs import env_name

DESCRIPTION = """\
Start a local chain, deploy a test USDC, fund a buyer, start a facilitator and a priced FastAPI
seller, then let two agents (httpx, LangChain) read prices, pay within their policy and hit
their budget. Prints every receipt, the balances read from the chain before and after, and a
summary; exits non-zero if a step or a check fails, and stops everything it started.
"""

EPILOG = """\
By default everything runs here and is stopped at the end: anvil on a free 127.0.0.1 port
(--anvil PATH, else $FASTX402_ANVIL, else anvil on PATH, else
tests/contracts/node_modules/.bin/anvil as `make chain-tools` installs it), TestUSDC deployed
from the compiled artifact shipped with fastx402, a fresh buyer minted 1.00 tUSDC, fastx402's
facilitator service and the priced seller, each on a free port.

Other chains: --rpc URL alone needs a dev chain with unlocked accounts (anvil, hardhat): the
token is deployed and the buyer and the facilitator funded from its first account. With
--token ADDRESS (an EIP-3009 token) and --buyer-key-env NAME (a buyer holding that token),
nothing is deployed or minted; the facilitator's gas key then comes from
--facilitator-key-env NAME, or from the dev chain's first account, or use --facilitator URL.
--seller URL runs only the agents against a seller serving GET /weather, GET /joke and
POST /inference (a demo seller) on the --rpc chain, paying from --buyer-key-env.
Keys are read from the environment, never from the command line. The agents' ledgers live in
a temporary folder, never in your own ledger.
"""


def _url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value!r}")
    return value.rstrip("/")


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "demo",
        help="run x402 end to end on a local chain: seller, facilitator, paying agents",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--anvil", metavar="PATH", help="the anvil executable to run")
    p.add_argument("--rpc", type=_url, metavar="URL", help="use this chain instead of anvil")
    p.add_argument("--token", metavar="ADDRESS", help="an EIP-3009 token on --rpc (no deploy)")
    p.add_argument(
        "--buyer-key-env", type=env_name, metavar="NAME", help="variable holding the buyer's key"
    )
    p.add_argument("--facilitator", type=_url, metavar="URL", help="use this facilitator service")
    p.add_argument(
        "--facilitator-key-env",
        type=env_name,
        metavar="NAME",
        help="variable holding the key our facilitator settles with (needs ETH for gas)",
    )
    p.add_argument(
        "--in-process-facilitator",
        action="store_true",
        help="the seller calls the facilitator in-process instead of over HTTP",
    )
    p.add_argument("--seller", type=_url, metavar="URL", help="run only the agents, against it")
    p.add_argument("--no-langchain", action="store_true", help="skip the LangChain agent")
    p.add_argument(
        "--serve",
        action="store_true",
        help="set up, then keep the chain, facilitator and seller running and print the "
        "environment to reach them (no agents): pay it with your own code",
    )
    p.add_argument(
        "--serve-seconds", type=float, metavar="S", help="with --serve: stop after S seconds"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document (for scripts)")
    p.set_defaults(run=run)


def _validate(args: argparse.Namespace) -> None:
    if args.anvil and args.rpc:
        raise CliError("--anvil and --rpc: choose one chain", status=2)
    if (args.token or args.seller) and not args.rpc:
        raise CliError("--token and --seller need --rpc (the chain they are on)", status=2)
    if (args.token or args.seller) and not args.buyer_key_env:
        raise CliError("--token and --seller need --buyer-key-env (a funded buyer)", status=2)
    if args.facilitator and (args.facilitator_key_env or args.in_process_facilitator):
        raise CliError("--facilitator URL replaces our facilitator: drop its other options", 2)
    if args.serve and (args.rpc or args.seller):
        raise CliError("--serve runs its own local chain and seller: drop --rpc/--seller", 2)
    if args.serve_seconds is not None and not args.serve:
        raise CliError("--serve-seconds goes with --serve", status=2)
    if args.seller and (args.facilitator or args.token):
        raise CliError("--seller uses the seller's own facilitator and token", status=2)


def run(args: argparse.Namespace) -> int:
    _validate(args)
    try:
        from fastx402.demo import DemoError, Options, demo
        from fastx402.demo.report import Human, Quiet
    except ImportError as e:
        raise CliError(
            f"the demo needs its extra ({e.name} is missing): pip install 'fastx402[demo]'"
        ) from None
    options = Options(
        anvil=args.anvil,
        rpc=args.rpc,
        token=args.token,
        buyer_key_env=args.buyer_key_env,
        facilitator=args.facilitator,
        facilitator_key_env=args.facilitator_key_env,
        in_process_facilitator=args.in_process_facilitator,
        seller=args.seller,
        langchain=not args.no_langchain,
        serve=args.serve,
        serve_seconds=args.serve_seconds,
    )
    reporter = Quiet() if args.json else Human()
    if isinstance(reporter, Human):
        reporter.print("[bold]fastx402 demo[/]: x402 payments end to end on a local chain")
    try:
        doc = demo(options, reporter)
    except DemoError as e:
        raise CliError(str(e)) from None
    if args.json:
        print_json(doc)
    elif not args.serve:
        reporter.summary(doc)
    if not doc["ok"]:
        failed = "; ".join(c["what"] for c in doc["checks"] if not c["ok"])
        raise CliError(f"demo check failed: {failed}")
    return 0
