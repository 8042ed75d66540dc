"""``fastx402 facilitator``: verify and settle x402 payments over HTTP on one EVM chain."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path

from fastx402.cli._common import HEX_KEY, CliError, Parser

DEFAULT_KEY_ENV = "FASTX402_FACILITATOR_KEY"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str) -> str:
    """``--key-env`` takes a variable's name; refuse a key there without printing it back."""
    if not _ENV_NAME.fullmatch(value) or HEX_KEY.fullmatch(value):
        raise argparse.ArgumentTypeError(
            "takes the NAME of an environment variable holding the key, not the key itself"
        )
    return value


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
    keys = p.add_mutually_exclusive_group()
    keys.add_argument(
        "--key-env", type=_env_name, default=DEFAULT_KEY_ENV, help="variable holding the hex key"
    )
    keys.add_argument("--key-file", type=Path, help="file holding the hex key")
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


def _read_key(args: argparse.Namespace) -> str:
    if args.key_file is not None:
        try:
            return str(args.key_file.read_text(encoding="ascii").strip())
        except OSError as e:
            # Never the path itself (nor str(e), which quotes it): a key typed where the
            # path belongs would be printed to the terminal and the logs.
            why = e.strerror or type(e).__name__
            raise CliError(f"--key-file: cannot read the key file ({why})") from None
        except UnicodeDecodeError:
            raise CliError("--key-file: the key file is not ASCII hex") from None
    value = os.environ.get(args.key_env)
    if not value:
        raise CliError(f"set ${args.key_env} to the facilitator's hex private key")
    return value.strip()


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from fastx402.facilitator import create_app
    except ImportError:
        raise CliError(
            "the facilitator needs its extra: pip install 'fastx402[facilitator]'"
        ) from None
    from fastx402 import Facilitator, PrivateKey, X402Error, parse_network, to_checksum_address

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
    try:
        key = PrivateKey.from_hex(_read_key(args))
    except X402Error as e:  # the message never contains the key
        raise CliError(f"invalid facilitator key: {e}") from None
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
