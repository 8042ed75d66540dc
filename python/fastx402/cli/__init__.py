"""The ``fastx402`` command line: one entry point, one module per command.

Each command module has ``add_parser(commands)``, which registers its subparser and sets
``run=<function(args) -> int>`` as a default. Errors a user can cause end with
``fastx402: <message>`` on stderr and a non-zero exit status, never a traceback
(``FASTX402_DEBUG=1`` shows the traceback of an unexpected error).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from fastx402.cli._common import CliError, Parser, redacted

# Command modules in the order ``--help`` lists them; imported only to build the parser, and
# each imports its own heavy dependencies (uvicorn, httpx, langchain) only when it runs.
COMMANDS = ("demo", "keygen", "inspect", "verify", "quote", "pay", "ledger", "facilitator")


def build_parser() -> Parser:
    parser = Parser(prog="fastx402", description="x402 payments for Python, with a Rust core.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"fastx402.cli.{name}").add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        status: int = run(args)
        return status
    except CliError as e:
        print(f"fastx402: {redacted(str(e))}", file=sys.stderr, flush=True)
        return e.status
    except KeyboardInterrupt:
        print("fastx402: interrupted", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:  # `fastx402 ... | head`
        return 1
    except Exception as e:  # a bug of ours: say so briefly, no traceback unless asked
        if os.environ.get("FASTX402_DEBUG"):
            traceback.print_exc()
        print(
            f"fastx402: unexpected error ({type(e).__name__}): {redacted(str(e))[:500]}",
            file=sys.stderr,
            flush=True,
        )
        return 1


__all__ = ["CliError", "build_parser", "main"]
