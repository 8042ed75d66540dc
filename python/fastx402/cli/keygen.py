"""``fastx402 keygen``: a new secp256k1 key, written to a file (hex, mode 0600) or an encrypted
Ethereum v3 keystore. Prints the address; the key itself only when asked (``--print-key``)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path
from typing import Any

from fastx402.cli._common import CliError, Parser, print_json
from fastx402.cli._inputs import env_name, password

KEYSTORE_EXTRA = "fastx402[keystore]"


def add_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "keygen",
        help="create a key: a hex key file (0600) or an encrypted keystore",
        description=(
            "Create a new private key and write it to --out FILE (hex, mode 0600) or "
            "--keystore FILE (Ethereum v3, scrypt; password from --password-env or asked twice). "
            "Prints the address; the key is printed only with --print-key."
        ),
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, metavar="FILE", help="write the hex key here")
    where.add_argument("--keystore", type=Path, metavar="FILE", help="write a v3 keystore here")
    p.add_argument("--password-env", type=env_name, metavar="NAME", help="keystore password var")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--print-key", action="store_true", help="also print the private key")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def _new_key() -> tuple[bytes, Any]:
    from fastx402 import PrivateKey

    for _ in range(8):  # a 32-byte string outside the curve order is ~2^-128 likely
        raw = secrets.token_bytes(32)
        try:
            return raw, PrivateKey(raw)
        except ValueError:
            continue
    raise CliError("could not draw a valid key")  # pragma: no cover


def _write_private(path: Path, data: bytes, force: bool) -> None:
    """Create ``path`` with mode 0600 (refusing an existing file unless ``force``)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CliError(f"{path} exists: pass --force to overwrite it") from None
    except OSError as e:
        raise CliError(f"cannot write {path} ({e.strerror})") from None
    try:
        os.fchmod(fd, 0o600)  # O_TRUNC keeps an existing file's mode
        os.write(fd, data)
    finally:
        os.close(fd)


def run(args: argparse.Namespace) -> int:
    if args.out is None and args.keystore is None and not args.print_key:
        raise CliError("where to? --out FILE, --keystore FILE (or --print-key)", 2)
    if args.password_env is not None and args.keystore is None:
        raise CliError("--password-env goes with --keystore", 2)
    raw, key = _new_key()
    path: Path | None = None
    if args.keystore is not None:
        try:
            from eth_keyfile.keyfile import create_keyfile_json
        except ImportError:
            raise CliError(f"a keystore needs its extra: pip install '{KEYSTORE_EXTRA}'") from None
        if args.keystore.exists() and not args.force:
            raise CliError(f"{args.keystore} exists: pass --force to overwrite it")
        secret = password(args, confirm=True).encode()
        document = create_keyfile_json(raw, secret, kdf="scrypt")
        _write_private(args.keystore, json.dumps(document).encode(), args.force)
        path = args.keystore
    elif args.out is not None:
        _write_private(args.out, f"0x{raw.hex()}\n".encode(), args.force)
        path = args.out
    result: dict[str, Any] = {"address": key.address}
    if path is not None:
        result["path"] = str(path)
        result["format"] = "keystore" if args.keystore is not None else "hex"
    if args.print_key:
        result["private_key"] = f"0x{raw.hex()}"
    if args.json:
        print_json(result)
        return 0
    print(f"address  {key.address}")
    if path is not None:
        print(f"{result['format']:<8} {path} (mode 0600)")
    if args.print_key:
        print(f"key      {result['private_key']}")
    return 0
