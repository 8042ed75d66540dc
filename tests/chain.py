"""Test-chain helpers: anvil on 127.0.0.1, a minimal JSON-RPC client, and the TestUSDC contract.

The tools come from ``make chain-tools`` (npm ``@foundry-rs/anvil-linux-amd64`` 1.7.1 and
``solc`` 0.8.37 in ``tests/contracts``). Loaded as a pytest plugin by ``tests/conftest.py``, this
module provides the session-scoped fixtures ``anvil`` (a running chain) and ``usdc`` (a deployed
:class:`Token`).

Everything here is bounded: process start-up (10 s), every RPC request (10 s), receipt waits.
Only 127.0.0.1 is ever contacted, and the HTTP client ignores proxy environment variables.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode

import fastx402

TESTS = Path(__file__).resolve().parent
CONTRACTS = TESTS / "contracts"
BUILD = CONTRACTS / "build"
NODE_MODULES = CONTRACTS / "node_modules"

CHAIN_ID = 31337
# Multicall3's address on every public EVM chain; anvil has no code there until install_multicall3.
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
NETWORK = f"eip155:{CHAIN_ID}"
STARTUP_TIMEOUT = 10.0
RPC_TIMEOUT = 10.0

# anvil's default dev accounts (mnemonic "test test ... junk"), each funded with 10 000 ETH.
# Public test keys: never use them anywhere but a local chain.
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

ANVIL_VERSION = "1.7.1"  # tests/contracts/package.json


class ChainToolsMissing(RuntimeError):
    """anvil or the compiled contract is missing: run ``make chain-tools``."""


# --- JSON-RPC -------------------------------------------------------------------------------------


class RpcError(Exception):
    """A JSON-RPC error object; ``revert_reason`` decodes ``Error(string)`` revert data."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: [{code}] {message}")
        self.method = method
        self.code = code
        self.message = message
        self.data = data

    @property
    def revert_data(self) -> bytes | None:
        data = self.data
        if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        return None

    @property
    def revert_reason(self) -> str | None:
        return decode_revert(self.revert_data)


class TransactionFailed(Exception):
    """A mined transaction with status 0; ``reason`` is its revert string (from a trace)."""

    def __init__(self, receipt: dict[str, Any], reason: str | None) -> None:
        super().__init__(f"transaction {receipt['transactionHash']} reverted: {reason}")
        self.receipt = receipt
        self.reason = reason


def decode_revert(data: bytes | None) -> str | None:
    """``Error(string)`` revert data -> the string; ``Panic(uint256)`` -> ``"Panic(0x..)"``."""
    if not data:
        return None
    if data[:4] == _ERROR_SELECTOR:
        (reason,) = abi_decode(["string"], data[4:])
        return str(reason)
    if data[:4] == _PANIC_SELECTOR:
        (code,) = abi_decode(["uint256"], data[4:])
        return f"Panic({code:#x})"
    return None


class Rpc:
    """A blocking JSON-RPC 2.0 client for a node on 127.0.0.1 (no proxies, bounded timeouts)."""

    def __init__(self, url: str, *, timeout: float = RPC_TIMEOUT) -> None:
        if not re.fullmatch(r"http://127\.0\.0\.1:\d{1,5}/?", url):
            raise ValueError(f"test RPC must be http://127.0.0.1:<port>, not {url!r}")
        self.url = url
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._id = 0

    def call(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        request = urllib.request.Request(
            self.url,
            data=body.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with self._opener.open(request, timeout=timeout or self.timeout) as response:
            answer = json.loads(response.read())
        if "error" in answer and answer["error"] is not None:
            err = answer["error"]
            raise RpcError(method, err.get("code", 0), err.get("message", ""), err.get("data"))
        return answer["result"]


# --- anvil ----------------------------------------------------------------------------------------


def anvil_binary() -> Path:
    """The anvil executable: ``$FASTX402_ANVIL``, else the one ``make chain-tools`` installed
    (npm ``@foundry-rs/anvil-linux-amd64``, linked from ``tests/contracts/node_modules/.bin``)."""
    override = os.environ.get("FASTX402_ANVIL")
    if override:
        return Path(override)
    binary = NODE_MODULES / ".bin" / "anvil"
    if not binary.exists():
        raise ChainToolsMissing(
            f"{binary} is missing: run `make chain-tools` (linux x64), or set FASTX402_ANVIL "
            f"to an anvil {ANVIL_VERSION} binary"
        )
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM anvil if the thread that started it dies without cleaning up (SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Anvil:
    """A local anvil chain on 127.0.0.1, started and stopped by PID. Use as a context manager.

    ``block_time``: mine a block every N seconds instead of one per transaction.
    ``no_mining``: never mine on its own (mine with :meth:`mine`).
    """

    def __init__(
        self,
        *,
        block_time: float | None = None,
        no_mining: bool = False,
        chain_id: int = CHAIN_ID,
        accounts: int = 10,
        extra_args: Sequence[str] = (),
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        if not 1 <= accounts <= len(DEV_KEYS):
            raise ValueError(f"accounts must be 1..{len(DEV_KEYS)}")
        self.block_time = block_time
        self.no_mining = no_mining
        self.chain_id = chain_id
        self.n_accounts = accounts
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.port = 0
        self.url = ""
        self.accounts: list[str] = []
        self.keys: list[str] = list(DEV_KEYS[:accounts])
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._rpc: Rpc | None = None

    # -- life cycle --

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def rpc(self) -> Rpc:
        if self._rpc is None:
            raise RuntimeError("anvil is not running")
        return self._rpc

    def start(self) -> Anvil:
        if self._proc is not None:
            raise RuntimeError("anvil already started")
        binary = anvil_binary()
        last_error = ""
        for _attempt in range(3):  # a free port may be taken between probe and bind
            self.port = free_port()
            args = [
                str(binary),
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--chain-id", str(self.chain_id),
                "--accounts", str(self.n_accounts),
                "--silent",
            ]  # fmt: skip
            if self.block_time is not None:
                args += ["--block-time", str(self.block_time)]
            if self.no_mining:
                args.append("--no-mining")
            args += self.extra_args
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as anvil
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
            self.url = f"http://127.0.0.1:{self.port}"
            self._rpc = Rpc(self.url, timeout=RPC_TIMEOUT)
            try:
                self._wait_ready()
            except _AnvilExited as exc:
                last_error = str(exc)
                self.stop()
                continue
            except BaseException:
                self.stop()
                raise
            break
        else:
            raise RuntimeError(f"anvil did not start after 3 attempts: {last_error}")
        self.accounts = [fastx402.to_checksum_address(a) for a in self.rpc.call("eth_accounts")]
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._rpc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._proc.poll() is not None:
                raise _AnvilExited(f"anvil exited with {self._proc.returncode}: {self.output()}")
            try:
                chain_id = int(self._rpc.call("eth_chainId", timeout=1.0), 16)
            except (OSError, urllib.error.URLError, RpcError, ValueError):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"anvil did not answer on {self.url} within {self.startup_timeout} s: "
                        f"{self.output()}"
                    ) from None
                time.sleep(0.05)
                continue
            if chain_id != self.chain_id:
                raise RuntimeError(f"anvil answered chain id {chain_id}, not {self.chain_id}")
            return

    def output(self) -> str:
        """What anvil printed so far (stdout and stderr; little with --silent)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return bytes(self._log.read()[-4000:]).decode("utf-8", "replace")

    def stop(self) -> None:
        """Terminate, wait, kill if needed: only the process this object started."""
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
        self._rpc = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # last resort; fixtures and `with` stop it deterministically
        with contextlib.suppress(Exception):
            self.stop()

    # -- chain helpers --

    def block(self, tag: str = "latest") -> dict[str, Any]:
        block: dict[str, Any] = self.rpc.call("eth_getBlockByNumber", tag, False)
        return block

    def timestamp(self) -> int:
        """The latest block's timestamp (stale when nothing has been mined for a while)."""
        return int(self.block()["timestamp"], 16)

    def now(self) -> int:
        """The timestamp the next block would get: the chain's clock, to sign payments against."""
        return int(self.block("pending")["timestamp"], 16)

    def mine(self, blocks: int = 1) -> None:
        self.rpc.call("anvil_mine", hex(blocks))

    def set_next_block_timestamp(self, timestamp: int) -> None:
        self.rpc.call("evm_setNextBlockTimestamp", hex(timestamp))

    def snapshot(self) -> str:
        snap: str = self.rpc.call("evm_snapshot")
        return snap

    def revert(self, snapshot_id: str) -> None:
        if not self.rpc.call("evm_revert", snapshot_id):
            raise RuntimeError(f"evm_revert({snapshot_id}) failed")

    def eth_balance(self, address: str) -> int:
        return int(self.rpc.call("eth_getBalance", address, "latest"), 16)

    def send(
        self,
        sender: str,
        to: str | None,
        data: bytes = b"",
        *,
        value: int = 0,
        gas: int | None = None,
        wait: bool = True,
        check: bool = True,
    ) -> dict[str, Any]:
        """``eth_sendTransaction`` from an unlocked dev account; returns the receipt.

        anvil mines a reverting transaction too (status 0): ``check`` then raises
        :class:`TransactionFailed` with the revert string. With ``wait=False`` returns
        ``{"transactionHash": ...}`` at once (use :meth:`wait_receipt`, and :meth:`mine` under
        ``no_mining``).
        """
        tx: dict[str, Any] = {"from": sender, "data": "0x" + data.hex(), "value": hex(value)}
        if to is not None:
            tx["to"] = to
        if gas is not None:
            tx["gas"] = hex(gas)
        tx_hash: str = self.rpc.call("eth_sendTransaction", tx)
        if not wait:
            return {"transactionHash": tx_hash}
        receipt = self.wait_receipt(tx_hash)
        if check and int(receipt["status"], 16) != 1:
            raise TransactionFailed(receipt, self.tx_revert_reason(tx_hash))
        return receipt

    def tx_revert_reason(self, tx_hash: str) -> str | None:
        """The revert string of a mined transaction (``debug_traceTransaction`` call tracer)."""
        trace = self.rpc.call("debug_traceTransaction", tx_hash, {"tracer": "callTracer"})
        output = trace.get("output") if trace.get("error") else None
        return decode_revert(bytes.fromhex(output[2:])) if output else None

    def wait_receipt(self, tx_hash: str, *, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            receipt: dict[str, Any] | None = self.rpc.call("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                raise TimeoutError(f"no receipt for {tx_hash} within {timeout} s")
            time.sleep(0.02)

    def call(
        self, to: str, data: bytes, *, sender: str | None = None, block: str = "latest"
    ) -> bytes:
        """``eth_call``; a revert raises :class:`RpcError` with ``revert_reason``."""
        tx: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
        if sender is not None:
            tx["from"] = sender
        result: str = self.rpc.call("eth_call", tx, block)
        return bytes.fromhex(result.removeprefix("0x"))

    def revert_reason(self, to: str, data: bytes, *, sender: str | None = None) -> str | None:
        """The revert string of ``eth_call``, or None if the call succeeds."""
        try:
            self.call(to, data, sender=sender)
        except RpcError as exc:
            reason = exc.revert_reason
            if reason is None:
                raise
            return reason
        return None


class _AnvilExited(RuntimeError):
    pass


# --- ABI ------------------------------------------------------------------------------------------

_SIGNATURE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\((.*)\)")


def selector(signature: str) -> bytes:
    """``"transfer(address,uint256)"`` -> its 4-byte selector."""
    return fastx402.keccak256(signature.encode())[:4]


def _types(signature: str) -> list[str]:
    """The argument types of ``name(t1,t2,...)``; tuples such as ``(address,bytes)[]`` allowed."""
    match = _SIGNATURE.fullmatch(signature.replace(" ", ""))
    if match is None:
        raise ValueError(f"function signature expected, got {signature!r}")
    types: list[str] = []
    depth, start, body = 0, 0, match.group(2)
    for i, ch in enumerate(body):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            raise ValueError(f"unbalanced parentheses in {signature!r}")
        if ch == "," and depth == 0:
            types.append(body[start:i])
            start = i + 1
    if depth != 0:
        raise ValueError(f"unbalanced parentheses in {signature!r}")
    if body:
        types.append(body[start:])
    return types


def encode_call(signature: str, *args: Any) -> bytes:
    """Calldata for ``signature``, e.g. ``encode_call("mint(address,uint256)", to, 5)``."""
    return selector(signature) + abi_encode(_types(signature), list(args))


def artifact(name: str = "TestUSDC") -> dict[str, Any]:
    """The compiled artifact ``tests/contracts/build/<name>.json``, (re)compiled when stale."""
    path = BUILD / f"{name}.json"
    sources = [*CONTRACTS.glob("*.sol"), CONTRACTS / "compile.mjs"]
    if not path.is_file() or path.stat().st_mtime < max(s.stat().st_mtime for s in sources):
        if not (NODE_MODULES / "solc").is_dir():
            raise ChainToolsMissing("npm solc is not installed: run `make chain-tools`")
        subprocess.run(
            ["node", str(CONTRACTS / "compile.mjs")],
            check=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def deploy(anvil: Anvil, name: str, ctor_types: Sequence[str] = (), *ctor_args: Any) -> str:
    """Deploys a compiled contract from dev account 0; returns its checksummed address."""
    code = bytes.fromhex(artifact(name)["bytecode"].removeprefix("0x"))
    if ctor_types:
        code += abi_encode(list(ctor_types), list(ctor_args))
    receipt = anvil.send(anvil.accounts[0], None, code)
    return fastx402.to_checksum_address(receipt["contractAddress"])


# --- TestUSDC -------------------------------------------------------------------------------------


def install_multicall3(anvil: Anvil) -> str:
    """Puts Multicall3's runtime code at its canonical address (the official x402 SDKs use it)."""
    runtime = artifact("Multicall3")["deployedBytecode"]
    anvil.rpc.call("anvil_setCode", MULTICALL3, runtime)
    return MULTICALL3


def deploy_token(anvil: Anvil) -> str:
    """Deploys TestUSDC (owner: dev account 0); returns its address."""
    return deploy(anvil, "TestUSDC")


def _uint(raw: bytes) -> int:
    (value,) = abi_decode(["uint256"], raw)
    return int(value)


def mint(anvil: Anvil, token: str, to: str, amount: int) -> dict[str, Any]:
    return anvil.send(anvil.accounts[0], token, encode_call("mint(address,uint256)", to, amount))


def balance_of(anvil: Anvil, token: str, owner: str) -> int:
    return _uint(anvil.call(token, encode_call("balanceOf(address)", owner)))


def authorization_state(anvil: Anvil, token: str, authorizer: str, nonce: bytes | str) -> bool:
    if isinstance(nonce, str):
        nonce = bytes.fromhex(nonce.removeprefix("0x"))
    raw = anvil.call(token, encode_call("authorizationState(address,bytes32)", authorizer, nonce))
    (used,) = abi_decode(["bool"], raw)
    return bool(used)


@dataclass(frozen=True)
class Token:
    """A deployed TestUSDC on an :class:`Anvil` chain."""

    anvil: Anvil
    address: str
    owner: str

    name = "USD Coin"
    version = "2"
    decimals = 6

    @property
    def extra(self) -> dict[str, str]:
        """The ``extra`` of x402 requirements for this token (its EIP-712 domain name/version)."""
        return {"name": self.name, "version": self.version}

    def domain(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.anvil.chain_id,
            "verifyingContract": self.address,
        }

    def mint(self, to: str, amount: int) -> dict[str, Any]:
        return mint(self.anvil, self.address, to, amount)

    def balance_of(self, owner: str) -> int:
        return balance_of(self.anvil, self.address, owner)

    def authorization_state(self, authorizer: str, nonce: bytes | str) -> bool:
        return authorization_state(self.anvil, self.address, authorizer, nonce)

    def call(self, signature: str, *args: Any, returns: Sequence[str] = ()) -> Any:
        raw = self.anvil.call(self.address, encode_call(signature, *args))
        values = abi_decode(list(returns), raw) if returns else ()
        return values[0] if len(values) == 1 else values


# --- pytest fixtures (registered by tests/conftest.py: pytest_plugins = ["chain"]) ---------------


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    """One anvil chain (id 31337, automine, Multicall3 installed) for the whole test session."""
    with Anvil() as chain:
        install_multicall3(chain)
        yield chain


@pytest.fixture(scope="session")
def usdc(anvil: Anvil) -> Token:
    """TestUSDC deployed once per session on the session chain, owned by dev account 0.

    Tests share it: give each test its own payer (``fastx402.PrivateKey.generate()``) and nonces,
    and never move the chain's clock here (use a private :class:`Anvil` for that).
    """
    return Token(anvil, deploy_token(anvil), anvil.accounts[0])
