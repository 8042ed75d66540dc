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
