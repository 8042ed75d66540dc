"""Loading the agent's :class:`~fastx402.PrivateKey` from the environment, a file or an Ethereum
v3 keystore. The key never appears in a repr, a log line or an error message: every failure is
a :class:`WalletError` that names the source, never its content, and chains nothing that could.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastx402._core import PrivateKey
from fastx402.errors import X402Error

DEFAULT_ENV = "FASTX402_PRIVATE_KEY"
KEYSTORE_EXTRA = "fastx402[keystore]"


class WalletError(X402Error):
    """A key that could not be loaded (the message names where from, never the key)."""


def _from_hex(text: str, source: str) -> PrivateKey:
    value = text.strip()
    hexpart = value[2:] if value[:2].lower() == "0x" else value
    if len(hexpart) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hexpart):
        raise WalletError(f"{source} does not hold a 32-byte hex private key")
    try:
        return PrivateKey.from_hex(hexpart)
    except ValueError:
        raise WalletError(f"{source} holds an invalid secp256k1 private key") from None


def wallet_from_env(name: str = DEFAULT_ENV) -> PrivateKey:
    """The key in environment variable ``name`` (hex, with or without ``0x``)."""
    value = os.environ.get(name)
    if not value:
        raise WalletError(f"environment variable {name} is not set")
    return _from_hex(value, f"environment variable {name}")


def wallet_from_file(path: str | os.PathLike[str]) -> PrivateKey:
    """The key in a file holding its hex (a keystore JSON: use :func:`wallet_from_keystore`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise WalletError(f"cannot read key file {p}: {type(e).__name__}") from None
    if text.lstrip().startswith("{"):
        raise WalletError(f"{p} is a JSON file: load a keystore with wallet_from_keystore")
    return _from_hex(text, f"key file {p}")


def wallet_from_keystore(path: str | os.PathLike[str], password: str | bytes) -> PrivateKey:
    """The key in an Ethereum v3 keystore (scrypt or pbkdf2), decrypted with ``eth_keyfile``
    (``pip install 'fastx402[keystore]'``)."""
    try:
        from eth_keyfile.keyfile import decode_keyfile_json
    except ImportError:
        raise WalletError(
            f"reading a keystore needs eth-keyfile: pip install '{KEYSTORE_EXTRA}'"
        ) from None
    p = Path(path)
    try:
        data: Any = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise WalletError(f"cannot read keystore {p}: {type(e).__name__}") from None
    if not isinstance(data, dict) or data.get("version") != 3:
        raise WalletError(f"{p} is not an Ethereum v3 keystore")
    secret = password.encode() if isinstance(password, str) else password
    try:
        raw = bytes(decode_keyfile_json(data, secret))
    except Exception:
        raise WalletError(f"cannot decrypt keystore {p}: wrong password or corrupt") from None
    try:
        key = PrivateKey(raw)
    except ValueError:
        raise WalletError(f"keystore {p} holds an invalid private key") from None
    expected = data.get("address")
    if (
        isinstance(expected, str)
        and expected
        and key.address.lower().removeprefix("0x") != expected.lower().removeprefix("0x")
    ):
        raise WalletError(f"keystore {p} decrypts to another address than it names")
    return key
