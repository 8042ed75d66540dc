"""``fastx402 facilitator`` as a real subprocess on 127.0.0.1, against the session anvil.

The process is started with ``python -m fastx402.cli`` (the ``fastx402`` console script runs the
same ``main``), given its key through the environment or a file, asked over HTTP, and stopped by
PID: terminate, bounded wait, kill.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import fastx402
from chain import NETWORK, Anvil, Token, free_port
from fastx402 import PrivateKey

CLI = [sys.executable, "-m", "fastx402.cli"]
KEY_ENV = "FASTX402_FACILITATOR_KEY"
STARTUP_TIMEOUT = 20.0  # interpreter start-up and imports included
STOP_TIMEOUT = 10.0
AMOUNT = 10_000


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any facilitator key or proxy, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FASTX402_") and "proxy" not in k.lower()
    }
    env.update(extra)
    return env


def run_cli(args: Sequence[str], env: dict[str, str], timeout: float = 30.0) -> Any:
    """A CLI invocation expected to exit by itself (bounded)."""
    return subprocess.run(
        [*CLI, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    url: str
    out: Any
    err: Any

    def output(self) -> tuple[str, str]:
        self.out.seek(0)
        self.err.seek(0)
        return self.out.read().decode(), self.err.read().decode()


def stop(proc: subprocess.Popen[bytes]) -> int:
    """Terminate this PID, wait (bounded), kill if it lingers; its exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    return proc.returncode


def _wait_ready(proc: subprocess.Popen[bytes], url: str) -> bool:
    """True once GET /supported answers 200; False if the process exited first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while proc.poll() is None:
            try:
                if client.get(f"{url}/supported").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"`fastx402 facilitator` did not answer on {url}")
            time.sleep(0.1)
    return False


@contextlib.contextmanager
def facilitator_process(args: Sequence[str], env: dict[str, str]) -> Iterator[Running]:
    """``fastx402 facilitator ARGS --port <free>``, ready to answer; stopped by PID on exit."""
    for _attempt in range(3):  # the free port may be taken between probe and bind
        port = free_port()
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
        proc = subprocess.Popen(
            [*CLI, "facilitator", *args, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        running = Running(proc, f"http://127.0.0.1:{port}", out, err)
        try:
            if _wait_ready(proc, running.url):
                break
        except BaseException:
            stop(proc)
            raise
        stdout, stderr = running.output()
        if "address already in use" not in stderr.lower():
            raise RuntimeError(f"facilitator exited with {proc.returncode}: {stdout}{stderr}")
    else:
        raise RuntimeError("no free port after 3 attempts")
    try:
        yield running
    finally:
        stop(proc)
        out.close()
        err.close()


# --- no key on the command line -------------------------------------------------------------------


def test_help_offers_no_way_to_pass_the_key_itself() -> None:
    result = run_cli(["facilitator", "--help"], clean_env())
    assert result.returncode == 0, result.stderr
    assert "--key-env" in result.stdout and "--key-file" in result.stdout
    options = {word.strip(",[]") for word in result.stdout.split() if word.startswith("--")}
    assert not any(o in options for o in ("--key", "--private-key", "--secret")), options


@pytest.mark.parametrize("option", ["--key", "--private-key", "--key-hex", "-k"])
def test_a_key_on_the_command_line_is_refused(anvil: Anvil, option: str) -> None:
    secret = "0x" + "ab" * 32
    result = run_cli(
        ["facilitator", "--rpc", anvil.url, "--network", NETWORK, option, secret],
        clean_env(),
    )
    assert result.returncode == 2, result.stderr  # argparse usage error; nothing started
    assert "Traceback" not in result.stderr
    assert "usage:" in result.stderr
    assert secret[2:] not in result.stderr + result.stdout  # not even in the usage error


def test_key_env_given_a_key_instead_of_a_name_is_refused_without_echoing_it(
    anvil: Anvil,
) -> None:
    """``--key-env`` takes a variable *name*; a key passed there must not be printed back."""
    for secret in ("0x" + "5a" * 32, "5a" * 32):
        result = run_cli(
            ["facilitator", "--rpc", anvil.url, "--network", NETWORK, "--key-env", secret],
            clean_env(),
        )
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert secret not in result.stderr + result.stdout
        assert "--key-env" in result.stderr


@pytest.mark.parametrize("form", ["0x", "0X", "bare", "upper"])
def test_key_file_given_a_key_instead_of_a_path_is_refused_without_echoing_it(form: str) -> None:
    """A key typed where ``--key-file``'s path belongs: the error names the option, never the
    value (``str(FileNotFoundError)`` quotes the path)."""
    digits = "c0ffee" + "5a" * 29
    secret = {
        "0x": "0x" + digits,
        "0X": "0X" + digits,
        "bare": digits,
        "upper": "0x" + digits.upper(),
    }[form]
    result = run_cli(
        ["facilitator", "--rpc", "http://127.0.0.1:9", "--network", NETWORK, "--key-file", secret],
        clean_env(),
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("fastx402: --key-file: cannot read"), result.stderr
    printed = (result.stdout + result.stderr).lower()
    assert digits.lower() not in printed, printed
    assert digits.lower()[8:40] not in printed  # not even in part


@pytest.mark.parametrize("option", ["--network", "--allow-factory"])
def test_a_key_typed_into_another_option_is_not_echoed(option: str) -> None:
    """The options whose bad value is quoted back (``--network``, ``--allow-factory``) redact
    anything shaped like a key."""
    secret = "0x" + "7e" * 32
    args = ["facilitator", "--rpc", "http://127.0.0.1:9", "--network", NETWORK]
    if option == "--network":
        args[args.index(NETWORK)] = secret
    else:
        args += [option, secret]
    result = run_cli(args, clean_env(**{KEY_ENV: "0x" + "11" * 32}))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"fastx402: {option} <redacted>"), result.stderr
    assert "7e" * 32 not in (result.stdout + result.stderr).lower()


def test_missing_key_is_a_clear_error_without_traceback(anvil: Anvil) -> None:
    result = run_cli(["facilitator", "--rpc", anvil.url, "--network", NETWORK], clean_env())
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"${KEY_ENV}" in result.stderr
    custom = run_cli(
        ["facilitator", "--rpc", anvil.url, "--network", NETWORK, "--key-env", "MY_KEY"],
        clean_env(),
    )
    assert custom.returncode == 1 and "$MY_KEY" in custom.stderr
    assert "Traceback" not in custom.stderr


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        ("bad-key", "invalid facilitator key"),
        ("zero-key", "invalid facilitator key"),
        ("missing-file", "--key-file: cannot read the key file"),
        ("bad-network", "--network eip155:not-a-number"),
        ("bad-factory", "--allow-factory 0x1234"),
    ],
)
def test_bad_configuration_exits_cleanly(
    anvil: Anvil, tmp_path: Path, setup: str, needle: str
) -> None:
    good = "0x" + "11" * 32
    args = ["facilitator", "--rpc", anvil.url, "--network", NETWORK]
    env = clean_env(**{KEY_ENV: good})
    secret = good
    if setup == "bad-key":
        secret = "0x" + "zz" * 32
        env[KEY_ENV] = secret
    elif setup == "zero-key":
        secret = "0x" + "00" * 32
        env[KEY_ENV] = secret
    elif setup == "missing-file":
        args += ["--key-file", str(tmp_path / "nope.key")]
    elif setup == "bad-network":
        args[args.index(NETWORK)] = "eip155:not-a-number"
    else:
        args += ["--allow-factory", "0x1234"]
    result = run_cli(args, env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("fastx402: "), result.stderr
    assert needle in result.stderr, result.stderr
    assert secret not in result.stderr + result.stdout


# --- running --------------------------------------------------------------------------------------


def test_key_from_env_serves_supported_and_settles(
    anvil: Anvil, usdc: Token, tmp_path: Path
) -> None:
    key_hex = "0x" + os.urandom(32).hex()
    key = PrivateKey.from_hex(key_hex)
    anvil.rpc.call("anvil_setBalance", key.address, hex(100 * 10**18))
    journal = tmp_path / "settlements.jsonl"
    args = ["--rpc", anvil.url, "--network", NETWORK, "--journal", str(journal)]
    with facilitator_process(args, clean_env(**{KEY_ENV: key_hex})) as running:
        # The key is nowhere in the process's command line.
        cmdline = Path(f"/proc/{running.proc.pid}/cmdline").read_bytes()
        assert key_hex[2:].encode() not in cmdline

        with httpx.Client(base_url=running.url, timeout=30.0, trust_env=False) as client:
            supported = client.get("/supported").json()
            assert supported["signers"] == {"eip155:*": [key.address]}
            assert [(k["x402Version"], k["scheme"], k["network"]) for k in supported["kinds"]] == [
                (2, "exact", NETWORK)
            ]

            payer = PrivateKey.generate()
            usdc.mint(payer.address, AMOUNT)
            pay_to = PrivateKey.generate().address
            reqs = {
                "scheme": "exact",
                "network": NETWORK,
                "asset": usdc.address,
                "amount": str(AMOUNT),
                "payTo": pay_to,
                "maxTimeoutSeconds": 60,
                "extra": usdc.extra,
            }
            paid = fastx402.create_payment(
                {"x402Version": 2, "resource": {"url": "http://127.0.0.1/x"}, "accepts": [reqs]},
                payer,
            )
            request = {
                "x402Version": 2,
                "paymentPayload": paid.to_dict(),
                "paymentRequirements": reqs,
            }
            settled = client.post("/settle", json=request)
            assert settled.status_code == 200, settled.text
            answer = settled.json()
            assert answer["success"] is True, answer
        assert usdc.balance_of(pay_to) == AMOUNT and usdc.balance_of(payer.address) == 0
        receipt = anvil.rpc.call("eth_getTransactionReceipt", answer["transaction"])
        assert fastx402.to_checksum_address(receipt["from"]) == key.address
        status = stop(running.proc)
        stdout, stderr = running.output()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it (exit status -SIGTERM).
    assert status in (0, -signal.SIGTERM), (status, stderr)
    assert "Traceback" not in stderr, stderr
    assert key.address in stdout and key_hex[2:] not in stdout + stderr
    assert answer["transaction"] in journal.read_text()


def test_key_file_works(anvil: Anvil, tmp_path: Path) -> None:
    raw = "0x" + os.urandom(32).hex()
    key = PrivateKey.from_hex(raw)
    key_file = tmp_path / "facilitator.key"
    key_file.write_text(raw + "\n")
    key_file.chmod(0o600)
    # An environment key is present too: --key-file wins and the env value is not used.
    env = clean_env(**{KEY_ENV: "0x" + "22" * 32})
    args = ["--rpc", anvil.url, "--network", NETWORK, "--key-file", str(key_file)]
    with (
        facilitator_process(args, env) as running,
        httpx.Client(base_url=running.url, timeout=10.0, trust_env=False) as client,
    ):
        assert client.get("/supported").json()["signers"] == {"eip155:*": [key.address]}
        assert client.get("/health").json()["address"] == key.address
    assert running.proc.returncode is not None


def test_key_env_and_key_file_are_exclusive(anvil: Anvil, tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text("0x" + "11" * 32)
    result = run_cli(
        [
            "facilitator", "--rpc", anvil.url, "--network", NETWORK,
            "--key-env", "X", "--key-file", str(key_file),
        ],
        clean_env(),
    )  # fmt: skip
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "fastx402"
    assert script.is_file()
    result = subprocess.run(
        [str(script), "facilitator", "--help"],
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and "--key-file" in result.stdout
