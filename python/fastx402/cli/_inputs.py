"""Inputs several commands share: a private key (environment, file or keystore, never the command
line), an x402 document (an argument, a file or stdin), a spend policy, a ledger URL.

A key is never printed: errors name the option at fault, never its value (a key typed where a
path or a variable name belongs would otherwise reach the terminal and the logs).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastx402.cli._common import HEX_KEY, CliError, Parser

if TYPE_CHECKING:
    from fastx402 import PrivateKey

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A header pasted with its name (``PAYMENT-REQUIRED: eyJ...``): the value is what is decoded.
_NAMED = re.compile(
    r"(?i)(?:payment-required|payment-signature|x-payment|payment-response|x-payment-response)"
    r"\s*:\s*(\S+)"
)
MAX_INPUT_BYTES = 1 << 20  # a header, a 402 body or a policy: never more than 1 MiB


# --- keys -----------------------------------------------------------------------------------------


def env_name(value: str) -> str:
    """An argparse type for options that take a variable's *name*; refuses a key there without
    printing it back."""
    if not _ENV_NAME.fullmatch(value) or HEX_KEY.fullmatch(value):
        raise argparse.ArgumentTypeError(
            "takes the NAME of an environment variable holding the key, not the key itself"
        )
    return value


def add_key_options(p: Parser, default_env: str, *, keystore: bool = False) -> None:
    """``--key-env NAME`` | ``--key-file FILE`` (| ``--keystore FILE`` + ``--password-env``)."""
    keys = p.add_mutually_exclusive_group()
    keys.add_argument(
        "--key-env",
        type=env_name,
        default=default_env,
        metavar="NAME",
        help=f"environment variable holding the hex key (default: {default_env})",
    )
    keys.add_argument("--key-file", type=Path, metavar="FILE", help="file holding the hex key")
    if keystore:
        keys.add_argument(
            "--keystore", type=Path, metavar="FILE", help="Ethereum v3 keystore (encrypted)"
        )
        p.add_argument(
            "--password-env",
            type=env_name,
            metavar="NAME",
            help="environment variable holding the keystore's password (default: ask)",
        )


def password(args: argparse.Namespace, *, confirm: bool = False) -> str:
    """The keystore password: ``--password-env``'s variable, or asked on the terminal."""
    if args.password_env is not None:
        value = os.environ.get(args.password_env)
        if not value:
            raise CliError(f"--password-env: ${args.password_env} is not set")
        return value
    if not sys.stdin.isatty():  # never block a script on a prompt it cannot answer
        raise CliError("no terminal to ask the keystore password on: use --password-env NAME")
    first = getpass.getpass("keystore password: ")
    if not first:
        raise CliError("an empty keystore password is refused")
    if confirm and getpass.getpass("again: ") != first:
        raise CliError("the passwords differ")
    return first


def _hex_from_file(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError as e:
        # Never the path itself (nor str(e), which quotes it).
        why = e.strerror or type(e).__name__
        raise CliError(f"--key-file: cannot read the key file ({why})") from None
    except UnicodeDecodeError:
        raise CliError("--key-file: the key file is not ASCII hex") from None


def read_key(args: argparse.Namespace, role: str) -> PrivateKey:
    """The :class:`~fastx402.PrivateKey` the options name (``role`` words the errors)."""
    from fastx402 import PrivateKey, X402Error

    store = getattr(args, "keystore", None)
    if store is not None:
        from fastx402.client import WalletError, wallet_from_keystore

        if not store.is_file():  # before asking a password for nothing
            raise CliError("--keystore: no such keystore file")
        try:
            return wallet_from_keystore(store, password(args))
        except WalletError as e:
            raise CliError(f"--keystore: {e}") from None
    if args.key_file is not None:
        text = _hex_from_file(args.key_file)
        if text.startswith("{"):
            hint = "pass a keystore with --keystore" if hasattr(args, "keystore") else "hex only"
            raise CliError(f"--key-file: the file is JSON; {hint}")
    else:
        text = os.environ.get(args.key_env, "").strip()
        if not text:
            raise CliError(f"set ${args.key_env} to the {role}'s hex private key")
    try:
        return PrivateKey.from_hex(text)
    except X402Error as e:  # the message never contains the key
        raise CliError(f"invalid {role} key: {e}") from None


# --- x402 documents -------------------------------------------------------------------------------

Kind = Literal["payment-required", "payment", "settle-response", "requirements"]


@dataclass(frozen=True)
class Document:
    """One x402 document, parsed (strictly) by the core."""

    kind: Kind
    value: Any  # PaymentRequired | PaymentPayload | SettleResponse | PaymentRequirements
    source: str  # "header" (base64) or "json"


def read_text(arg: str, what: str) -> str:
    """``arg`` itself, the content of the file it names, or stdin for ``-`` (at most 1 MiB)."""
    if arg == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        source = "stdin"
    elif len(arg) < 4096 and "\n" not in arg and os.path.isfile(arg):
        try:
            with open(arg, "rb") as f:
                data = f.read(MAX_INPUT_BYTES + 1)
        except OSError as e:
            raise CliError(f"{what}: cannot read {arg} ({e.strerror})") from None
        source = arg
    else:
        return arg.strip()
    if len(data) > MAX_INPUT_BYTES:
        raise CliError(f"{what}: {source} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CliError(f"{what}: {source} is not UTF-8 text") from None


def _kind(data: Any) -> Kind:
    if isinstance(data, dict):
        if "accepts" in data:
            return "payment-required"
        if "payload" in data:
            return "payment"
        if "success" in data:
            return "settle-response"
        if "payTo" in data or "maxAmountRequired" in data:
            return "requirements"
    raise CliError(
        "not an x402 document: expected PAYMENT-REQUIRED, PAYMENT-SIGNATURE / X-PAYMENT, "
        "PAYMENT-RESPONSE, a 402 body or payment requirements"
    )


def parse_document(text: str, what: str) -> Document:
    """A header value (base64 JSON, v1 or v2) or its JSON, parsed by the core."""
    from fastx402 import (
        PaymentPayload,
        PaymentRequired,
        PaymentRequirements,
        SettleResponse,
        X402Error,
        decode_header,
    )

    if not text:
        raise CliError(f"{what}: empty input")
    named = _NAMED.fullmatch(text)
    if named:
        text = named.group(1)
    source = "json" if text[0] in "{[" else "header"
    try:
        data = json.loads(text) if source == "json" else decode_header(text)
    except ValueError as e:  # ProtocolError is a ValueError; so is json's error
        raise CliError(f"{what}: cannot decode: {e}") from None
    kind = _kind(data)
    try:
        if kind == "payment-required":
            value: Any = PaymentRequired.from_dict(data)
        elif kind == "payment":
            value = PaymentPayload.from_dict(data)
        elif kind == "settle-response":
            value = SettleResponse.from_dict(data)
        else:
            version = 1 if "maxAmountRequired" in data else 2
            value = PaymentRequirements.from_dict(data, x402_version=version)
    except X402Error as e:
        raise CliError(f"{what}: invalid {kind}: {e}") from None
    return Document(kind, value, source)


def read_document(arg: str, what: str) -> Document:
    return parse_document(read_text(arg, what), what)


def requirements_for(payment: Any, doc: Document) -> Any:
    """The requirements ``payment`` is checked against: ``doc`` itself, or the offer of a 402
    that ``payment`` accepted (v2: the same terms; v1: the same scheme and network)."""
    if doc.kind == "requirements":
        return doc.value
    if doc.kind != "payment-required":
        raise CliError(f"--requirements: a 402 or payment requirements, not a {doc.kind}")
    accepted = payment.accepted
    for offer in doc.value.accepts:
        if accepted is not None and offer.to_dict() == accepted.to_dict():
            return offer
    for offer in doc.value.accepts:
        if (offer.scheme, offer.network) == (payment.scheme, payment.network):
            return offer
    raise CliError("--requirements: no offer of that 402 matches the payment's scheme and network")


# --- policy and ledger ----------------------------------------------------------------------------


def money(value: str, option: str) -> Decimal:
    """``$0.01`` or ``0.01``: token units, exactly."""
    try:
        amount = Decimal(value.strip().removeprefix("$"))
    except InvalidOperation:
        raise CliError(f"{option}: not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise CliError(f"{option}: not a non-negative amount: {value!r}")
    return amount


def add_policy_options(p: Parser) -> None:
    p.add_argument("--policy", type=Path, metavar="FILE", help="spend policy (JSON)")
    p.add_argument(
        "--max",
        metavar="AMOUNT",
        help="per-call cap in token units ('$0.01'); with --policy it can only lower its cap",
    )
    p.add_argument(
        "--allow-http", action="store_true", help="pay plain-http origins too (local tests)"
    )


def read_policy(args: argparse.Namespace) -> Any:
    """The :class:`~fastx402.client.SpendPolicy` of ``--policy`` / ``--max`` / ``--allow-http``."""
    import dataclasses

    from fastx402.client import PolicyError, SpendPolicy

    if args.policy is None:
        policy = SpendPolicy()
        if args.max is not None:
            policy = dataclasses.replace(policy, max_per_call=money(args.max, "--max"))
    else:
        if not args.policy.is_file():
            raise CliError(f"--policy: no file {args.policy}")
        try:
            data = json.loads(read_text(str(args.policy), "--policy"))
            if not isinstance(data, dict):
                raise CliError("--policy: a JSON object of policy fields")
            policy = SpendPolicy.from_dict(data)
        except json.JSONDecodeError as e:
            raise CliError(f"--policy: not JSON ({e})") from None
        except (PolicyError, ValueError, KeyError, TypeError, ArithmeticError) as e:
            raise CliError(f"--policy: {type(e).__name__}: {e}") from None
        if args.max is not None:
            policy = policy.with_cap(money(args.max, "--max"))
    if args.allow_http:
        policy = dataclasses.replace(policy, allow_http=True)
    return policy


def add_ledger_option(p: Parser, *, inherit: bool = False) -> None:
    """``--ledger``; ``inherit``: on a subcommand, keep the parent's value when not given."""
    p.add_argument(
        "--ledger",
        metavar="URL",
        default=argparse.SUPPRESS if inherit else None,
        help="the agent's ledger: a SQLite file or a fastx402.store URL (default: "
        "$FASTX402_LEDGER or ~/.local/share/fastx402/ledger.db)",
    )


def ledger_url(args: argparse.Namespace, *, must_exist: bool) -> str:
    """``--ledger`` (a store URL, or a path: SQLite) or the per-user default; when reading, a
    SQLite file that does not exist is an error (never an empty ledger created by a typo)."""
    from fastx402.client.ledger import default_ledger_url

    url: str = args.ledger or default_ledger_url()
    if "://" not in url:
        url = f"sqlite:///{os.path.abspath(url)}"
    path = url.removeprefix("sqlite:///")
    sqlite_file = url.startswith("sqlite:///") and path != ":memory:"
    if must_exist and sqlite_file and not os.path.isfile(path):
        raise CliError(f"no ledger at {path}")
    return url
