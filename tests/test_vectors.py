"""The shared vectors in tests/vectors/ (also run by `cargo test`), through the Python API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import _hash_eip191_message, encode_typed_data

import fastx402
from fastx402 import InvalidAddress, InvalidSignature, InvalidTypedData

VECTORS = Path(__file__).resolve().parent / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


EIP55 = load("eip55.json")
SIGNATURES = load("signatures.json")


class RawInt(int):
    """An int that remembers its JSON text (a dict cannot hold `-0`, JSON text can)."""

    text: str

    def __new__(cls, text: str) -> RawInt:
        value = super().__new__(cls, int(text))
        value.text = text
        return value


def exact_json(obj: Any) -> str:
    """Compact JSON keeping every integer's original text."""
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{exact_json(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(exact_json(v) for v in obj) + "]"
    if isinstance(obj, RawInt):
        return obj.text
    return json.dumps(obj)


REJECTIONS = json.loads((VECTORS / "eip712_rejections.json").read_text("utf-8"), parse_int=RawInt)
NONCANONICAL = load("eip712_noncanonical.json")
STRICT = load("eip712_noncanonical_strict.json")["rejected"]


def test_every_file_records_its_provenance() -> None:
    for path in VECTORS.glob("*.json"):
        assert "provenance" in json.loads(path.read_text(encoding="utf-8")), path.name


def test_transfer_vector_is_the_x402_v2_example() -> None:
    """The shared TransferWithAuthorization document hashes (here and with eth-account) to the
    specification example's digest, which its signature in signatures.json recovers from."""
    vector = load("transfer_with_authorization.json")
    (example,) = [c for c in SIGNATURES["cases"] if c["name"] == "x402_v2_example"]
    assert vector["digest"] == example["digest"]
    digest = bytes.fromhex(vector["digest"][2:])
    assert fastx402.hash_typed_data(vector["typed_data"]) == digest
    assert _hash_eip191_message(encode_typed_data(full_message=vector["typed_data"])) == digest
    signer = fastx402.recover_typed_data(vector["typed_data"], example["signature"])
    assert signer == vector["typed_data"]["message"]["from"]
    assert signer == example["expect"]["default"]["address"]


@pytest.mark.parametrize("case", EIP55["accepted"], ids=lambda c: c["input"])
def test_eip55_accepted(case: dict[str, str]) -> None:
    assert fastx402.to_checksum_address(case["input"]) == case["checksum"]


@pytest.mark.parametrize("case", EIP55["rejected"], ids=lambda c: c["input"])
def test_eip55_rejected(case: dict[str, str]) -> None:
    with pytest.raises(InvalidAddress):
        fastx402.to_checksum_address(case["input"])


def digest_of(case: dict[str, Any]) -> bytes:
    if "message" in case:
        message = case["message"]
        raw = bytes.fromhex(message["hex"][2:]) if "hex" in message else message["text"]
        digest = fastx402.hash_message(raw)
        if case.get("digest"):
            assert digest == bytes.fromhex(case["digest"][2:])
        return digest
    return bytes.fromhex(case["digest"][2:])


@pytest.mark.parametrize("case", SIGNATURES["cases"], ids=ids(SIGNATURES["cases"]))
@pytest.mark.parametrize("policy", ["default", "allow_high_s"])
def test_signature_vectors(case: dict[str, Any], policy: str) -> None:
    digest = digest_of(case)
    signature = bytes.fromhex(case["signature"][2:])
    expect = case["expect"][policy]
    allow = policy == "allow_high_s"
    if "address" in expect:
        assert fastx402.recover_digest(digest, signature, allow_high_s=allow) == expect["address"]
    else:
        with pytest.raises(InvalidSignature) as info:
            fastx402.recover_digest(digest, signature, allow_high_s=allow)
        assert info.value.reason == expect["error"]


@pytest.mark.parametrize(
    "case", [c for c in SIGNATURES["cases"] if "signed_by" in c], ids=lambda c: c["name"]
)
def test_signing_reproduces_the_recorded_signature(case: dict[str, Any]) -> None:
    key = fastx402.PrivateKey.from_hex(SIGNATURES["keys"][case["signed_by"]]["private_key"])
    assert key.sign_digest(digest_of(case)) == bytes.fromhex(case["signature"][2:])


@pytest.mark.parametrize("case", REJECTIONS["cases"], ids=ids(REJECTIONS["cases"]))
def test_eip712_rejection_rules(case: dict[str, Any]) -> None:
    mode = "infer" if case["domain_types"] == "infer" else None
    text = exact_json(case["data"])
    forms: list[Any] = [text]
    # Some cases (e.g. `-0`) exist only as JSON text: a Python dict cannot express them.
    if text == json.dumps(case["data"], separators=(",", ":")):
        forms.append(case["data"])
    for form in forms:
        with pytest.raises(InvalidTypedData) as info:
            fastx402.hash_typed_data(form, domain_types=mode)
        assert info.value.path == case["path"], str(info.value)


@pytest.mark.parametrize("case", NONCANONICAL["cases"], ids=ids(NONCANONICAL["cases"]))
def test_eip712_noncanonical_matches_eth_sig_util(case: dict[str, Any]) -> None:
    data = case["data"]
    if case["name"] in STRICT:
        with pytest.raises(InvalidTypedData) as info:
            fastx402.hash_typed_data(data)
        assert info.value.path == STRICT[case["name"]]["path"]
    else:
        assert "0x" + fastx402.hash_typed_data(data).hex() == case["digest"]["eth_sig_util"]
        domain = fastx402.domain_separator(data)
        assert "0x" + domain.hex() == case["domain_separator"]["eth_sig_util"]
        if data["primaryType"] != "EIP712Domain":
            assert fastx402.encode_type(data["types"], data["primaryType"]) == case["encode_type"]
    if case["agree"]:
        assert case["digest"]["viem"] == case["digest"]["eth_sig_util"]
