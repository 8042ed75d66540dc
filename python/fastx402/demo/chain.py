"""The demo's chain: an anvil process, a small JSON-RPC client, and the TestUSDC token on it.

anvil's dev accounts are unlocked, so set-up transactions (deploy, mint, gas money for the
facilitator) go out with ``eth_sendTransaction`` and need no signing. The token is deployed
from the compiled artifact shipped with the package (``TestUSDC.json``, solc 0.8.37), so the
demo needs no compiler. Every wait here is bounded; anvil is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from fastx402 import keccak256, to_checksum_address
from fastx402.demo.errors import DemoError

# Where `make chain-tools` installs anvil (npm @foundry-rs/anvil-linux-amd64), under the repo.
REPO_ANVIL = Path("tests/contracts/node_modules/.bin/anvil")
ANVIL_CHAIN_ID = 31337
STARTUP_TIMEOUT = 15.0
RPC_TIMEOUT = 10.0
RECEIPT_TIMEOUT = 30.0
INSTALL_HINT = (
    "install anvil (Foundry: https://getfoundry.sh, or `make chain-tools` in a fastx402 "
    "checkout on linux x64), then put it on PATH, set $FASTX402_ANVIL or pass --anvil PATH"
)


# --- JSON-RPC ---------------------------------------------------------------------------------


class Rpc:
    """A blocking JSON-RPC 2.0 client (bounded timeouts, no proxies from the environment)."""

    def __init__(self, url: str, *, timeout: float = RPC_TIMEOUT) -> None:
        self.url = url
        # What messages show: an RPC URL's path and user part often hold an API key.
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        self.shown = f"{parts.scheme}://{parts.hostname}{port}"
        self._http = httpx.Client(timeout=timeout, trust_env=False)
        self._id = 0

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}
        try:
            response = self._http.post(self.url, json=body)
            answer = response.json()
        except httpx.HTTPError as e:
            raise DemoError(f"cannot reach the chain at {self.shown} ({type(e).__name__})") from e
        except ValueError as e:
            raise DemoError(f"{self.shown} answered {method} with something not JSON-RPC") from e
        if not isinstance(answer, dict):
            raise DemoError(f"{self.shown} answered {method} with something not JSON-RPC")
        error = answer.get("error")
        if error is not None:
            message = error.get("message", error) if isinstance(error, dict) else error
            raise DemoError(f"the chain refused {method}: {message}")
        return answer.get("result")

    def close(self) -> None:
        self._http.close()


# --- anvil ------------------------------------------------------------------------------------


def find_anvil(explicit: str | None) -> Path:
    """``--anvil PATH``, else ``$FASTX402_ANVIL``, else ``anvil`` on PATH, else the one
    ``make chain-tools`` installed under the current directory."""
    for origin, value in (
        ("--anvil", explicit),
        ("$FASTX402_ANVIL", os.environ.get("FASTX402_ANVIL")),
    ):
        if value:
            path = Path(value)
            if not path.is_file() or not os.access(path, os.X_OK):
                raise DemoError(f"{origin} {value}: no executable anvil there; {INSTALL_HINT}")
            return path
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    if REPO_ANVIL.is_file():
        return REPO_ANVIL.resolve()
    raise DemoError(f"anvil not found; {INSTALL_HINT}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: anvil gets SIGTERM if the demo is killed before it can stop it (SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Anvil:
    """An anvil chain on a free 127.0.0.1 port, started with :meth:`start`, stopped by PID."""

    def __init__(self, binary: Path, *, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.port = 0
        self.url = ""
        self.version = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> Anvil:
        self.version = self._version()
        last = ""
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
            args = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port)]
            args += ["--chain-id", str(ANVIL_CHAIN_ID), "--silent"]
            try:
                self._proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=self._log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            except OSError as e:
                self.stop()
                raise DemoError(f"cannot run {self.binary}: {e.strerror}") from None
            if self._wait_ready():
                return self
            last = self._output()
            self.stop()
        raise DemoError(f"anvil did not start: {last.strip()[-300:] or 'no output'}")

    def _version(self) -> str:
        try:
            out = subprocess.run(
                [str(self.binary), "--version"],
                capture_output=True,
                timeout=10,
                stdin=subprocess.DEVNULL,
                check=True,
            ).stdout.decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError) as e:
            raise DemoError(f"{self.binary} is not a working anvil ({type(e).__name__})") from None
        first = out.strip().splitlines()[0] if out.strip() else ""
        if "anvil" not in first.lower():
            raise DemoError(f"{self.binary} is not anvil (it says {first[:80]!r})")
        return first.split()[-1]

    def _wait_ready(self) -> bool:
        """True once anvil answers; False if it exited (port taken); raises on the time limit."""
        assert self._proc is not None
        rpc = Rpc(self.url, timeout=1.0)
        deadline = time.monotonic() + self.startup_timeout
        try:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    return False
                with contextlib.suppress(DemoError):
                    rpc.call("eth_chainId")
                    return True
                time.sleep(0.05)
        finally:
            rpc.close()
        self.stop()
        raise DemoError(f"anvil did not answer on {self.url} within {self.startup_timeout:.0f} s")

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-2000:].decode("utf-8", "replace")

    def stop(self) -> None:
        """Terminate, wait (bounded), kill if needed: only the process started here."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


# --- ABI (the few calls the demo makes) --------------------------------------------------------


def _selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def _word(value: str | int) -> bytes:
    if isinstance(value, str):  # an address
        return bytes(12) + bytes.fromhex(value.removeprefix("0x"))
    return value.to_bytes(32, "big")


def calldata(signature: str, *args: str | int) -> str:
    return "0x" + (_selector(signature) + b"".join(_word(a) for a in args)).hex()


def _uint(raw: str) -> int:
    return int(raw, 16) if raw not in ("0x", "") else 0


def _string(raw: str) -> str:
    data = bytes.fromhex(raw.removeprefix("0x"))
    if len(data) < 64:
        raise DemoError("the token answered a string call with too few bytes")
    offset = int.from_bytes(data[:32], "big")
    length = int.from_bytes(data[offset : offset + 32], "big")
    return data[offset + 32 : offset + 32 + length].decode("utf-8", "replace")


# --- the chain and its token ------------------------------------------------------------------

TRANSFER_TOPIC = "0x" + keccak256(b"Transfer(address,address,uint256)").hex()


def load_artifact() -> dict[str, Any]:
    """The shipped TestUSDC artifact (abi, creation bytecode, compiler, source hash)."""
    text = resources.files("fastx402.demo").joinpath("TestUSDC.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True)
class TokenInfo:
    address: str
    name: str
    version: str
    decimals: int
    symbol: str

    def units(self, amount: int) -> Decimal:
        return Decimal(amount).scaleb(-self.decimals)


@dataclass(frozen=True)
class TxReceipt:
    hash: str
    block: int
    gas_used: int
    gas_price: int
    sender: str
    ok: bool
    transfers: tuple[tuple[str, str, int], ...]  # (from, to, amount) of the token's Transfer logs


class Chain:
    """What the demo reads and writes on a chain over JSON-RPC."""

    def __init__(self, rpc: Rpc) -> None:
        self.rpc = rpc

    def chain_id(self) -> int:
        return _uint(self.rpc.call("eth_chainId"))

    def dev_account(self) -> str:
        """The first unlocked account (a dev chain's); set-up transactions are sent from it."""
        accounts = self.rpc.call("eth_accounts") or []
        if not accounts:
            raise DemoError(
                f"{self.rpc.shown} has no unlocked accounts to deploy and fund from: use a dev "
                "chain (anvil, hardhat), or pass --token with --buyer-key-env"
            )
        return to_checksum_address(accounts[0])

    def send(self, sender: str, to: str | None, data: str = "0x", value: int = 0) -> TxReceipt:
        tx: dict[str, str] = {"from": sender, "data": data, "value": hex(value)}
        if to is not None:
            tx["to"] = to
        receipt = self.wait_receipt(self.rpc.call("eth_sendTransaction", tx))
        if not receipt.ok:
            raise DemoError(f"set-up transaction {receipt.hash} reverted")
        return receipt

    def raw_receipt(self, tx_hash: str) -> dict[str, Any]:
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        while True:
            found = self.rpc.call("eth_getTransactionReceipt", tx_hash)
            if isinstance(found, dict):
                return found
            if time.monotonic() > deadline:
                raise DemoError(f"no receipt for {tx_hash} within {RECEIPT_TIMEOUT:.0f} s")
            time.sleep(0.05)

    def wait_receipt(self, tx_hash: str, token: str | None = None) -> TxReceipt:
        r = self.raw_receipt(tx_hash)
        transfers = tuple(
            (
                to_checksum_address("0x" + log["topics"][1][-40:]),
                to_checksum_address("0x" + log["topics"][2][-40:]),
                _uint(log["data"]),
            )
            for log in r.get("logs", [])
            if token is not None
            and log["address"].lower() == token.lower()
            and len(log["topics"]) == 3
            and log["topics"][0] == TRANSFER_TOPIC
        )
        return TxReceipt(
            hash=r["transactionHash"],
            block=_uint(r["blockNumber"]),
            gas_used=_uint(r["gasUsed"]),
            gas_price=_uint(r.get("effectiveGasPrice") or "0x0"),
            sender=to_checksum_address(r["from"]),
            ok=_uint(r["status"]) == 1,
            transfers=transfers,
        )

    def deploy(self, sender: str, bytecode: str) -> str:
        receipt = self.rpc.call("eth_sendTransaction", {"from": sender, "data": bytecode})
        found = self.raw_receipt(receipt)
        if _uint(found["status"]) != 1 or not found.get("contractAddress"):
            raise DemoError(f"deploying TestUSDC failed (transaction {receipt})")
        return to_checksum_address(found["contractAddress"])

    def mint(self, sender: str, token: str, to: str, amount: int) -> TxReceipt:
        return self.send(sender, token, calldata("mint(address,uint256)", to, amount))

    def token_balance(self, token: str, owner: str) -> int:
        data = calldata("balanceOf(address)", owner)
        return _uint(self.rpc.call("eth_call", {"to": token, "data": data}, "latest"))

    def eth_balance(self, owner: str) -> int:
        return _uint(self.rpc.call("eth_getBalance", owner, "latest"))

    def token_info(self, address: str) -> TokenInfo:
        """Name, version (its EIP-712 domain), decimals and symbol, read from the token."""

        def call(signature: str) -> str:
            out: str = self.rpc.call(
                "eth_call", {"to": address, "data": calldata(signature)}, "latest"
            )
            if out in ("0x", "", None):
                raise DemoError(f"{address} has no {signature}: not an EIP-3009 token")
            return out

        return TokenInfo(
            address=to_checksum_address(address),
            name=_string(call("name()")),
            version=_string(call("version()")),
            decimals=_uint(call("decimals()")),
            symbol=_string(call("symbol()")),
        )
