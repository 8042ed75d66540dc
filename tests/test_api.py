"""The Python surface of fastx402's crypto core, checked against eth-account."""

from __future__ import annotations

import json
import pickle
import threading

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct, encode_typed_data
from eth_utils import keccak

import fastx402
import transfer_vector
from fastx402 import (
    InvalidAddress,
    InvalidDigest,
    InvalidKey,
    InvalidSignature,
    InvalidTypedData,
    PrivateKey,
    X402Error,
)
from transfer_vector import transfer

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY_HEX = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

TRANSFER = transfer()  # the x402 v2 example (tests/vectors/transfer_with_authorization.json)
TRANSFER_DIGEST = transfer_vector.TRANSFER_DIGEST.hex()


def eth_account_digest(data: dict) -> bytes:
    return _hash_eip191_message(encode_typed_data(full_message=data))


def test_every_error_is_a_value_error_under_one_base() -> None:
    for exc in (InvalidAddress, InvalidDigest, InvalidKey, InvalidSignature, InvalidTypedData):
        assert issubclass(exc, X402Error)
        assert issubclass(exc, ValueError)


@pytest.mark.parametrize("data", [b"", b"abc", bytes(range(64)), b"\xff" * 1000])
def test_keccak_matches_eth_utils(data: bytes) -> None:
    assert fastx402.keccak256(data) == keccak(data)


def test_checksum_address() -> None:
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert fastx402.to_checksum_address(good.lower()) == good
    assert fastx402.to_checksum_address(good) == good
    for bad in (good[:-1] + "D", good[2:], good + "0", "0x" + "g" * 40, ""):
        with pytest.raises(InvalidAddress):
            fastx402.to_checksum_address(bad)


class TestPrivateKey:
    def test_address_matches_eth_account(self) -> None:
        key = PrivateKey.from_hex(KEY_HEX)
        assert key.address == Account.from_key(KEY_HEX).address
        assert PrivateKey.from_hex(KEY_HEX[2:]).address == key.address
        assert PrivateKey(bytes.fromhex(KEY_HEX[2:])).address == key.address
        assert len(key.public_key) == 64
        assert keccak(key.public_key)[12:] == bytes.fromhex(key.address[2:])

    def test_secret_is_never_shown_or_pickled(self) -> None:
        key = PrivateKey.from_hex(KEY_HEX)
        assert KEY_HEX[2:10] not in repr(key)
        assert repr(key) == f"PrivateKey(address={key.address})"
        with pytest.raises(TypeError):
            pickle.dumps(key)
        with pytest.raises(AttributeError):
            key.address = "0x"  # type: ignore[misc]

    def test_generate_gives_distinct_valid_keys(self) -> None:
        addresses = {PrivateKey.generate().address for _ in range(16)}
        assert len(addresses) == 16

    @pytest.mark.parametrize(
        "raw",
        [bytes(32), N.to_bytes(32, "big"), (N + 1).to_bytes(32, "big"), b"\x01" * 31, b"\x01" * 33],
    )
    def test_out_of_range_or_malformed_bytes(self, raw: bytes) -> None:
        with pytest.raises(InvalidKey):
            PrivateKey(raw)

    @pytest.mark.parametrize("text", ["0x01", "zz" * 32, "0x" + "0" * 64, " " + KEY_HEX[2:]])
    def test_bad_hex(self, text: str) -> None:
        with pytest.raises(InvalidKey):
            PrivateKey.from_hex(text)

    def test_sign_digest_is_byte_identical_to_eth_account(self) -> None:
        key = PrivateKey.from_hex(KEY_HEX)
        for i in range(32):
            digest = keccak(i.to_bytes(4, "big"))
            ours = key.sign_digest(digest)
            theirs = Account.unsafe_sign_hash(digest, KEY_HEX).signature
            assert ours == bytes(theirs)
            assert ours[64] in (27, 28)
            assert int.from_bytes(ours[32:64], "big") <= N // 2

    def test_sign_message_matches_eth_account(self) -> None:
        key = PrivateKey.from_hex(KEY_HEX)
        for text in ["", "hello world", "ünïcødé ✓"]:
            ours = key.sign_message(text)
            theirs = Account.sign_message(encode_defunct(text=text), KEY_HEX).signature
            assert ours == bytes(theirs)
            assert fastx402.hash_message(text) == _hash_eip191_message(encode_defunct(text=text))
            assert fastx402.recover_message(text, ours) == key.address
            assert (
                fastx402.recover_message(text.encode(), ours.hex()[:0] + "0x" + ours.hex())
                == key.address
            )

    def test_sign_typed_data_matches_eth_account(self) -> None:
        key = PrivateKey.from_hex(KEY_HEX)
        ours = key.sign_typed_data(TRANSFER)
        theirs = Account.sign_typed_data(KEY_HEX, full_message=TRANSFER).signature
        assert ours == bytes(theirs)
        assert fastx402.recover_typed_data(TRANSFER, ours) == key.address

    def test_digest_length(self) -> None:
        key = PrivateKey.generate()
        with pytest.raises(InvalidDigest):
            key.sign_digest(b"\x00" * 31)
        with pytest.raises(InvalidDigest):
            fastx402.recover_digest(b"\x00" * 33, b"\x00" * 65)

    def test_signing_from_threads(self) -> None:
        key = PrivateKey.from_hex(KEY_HEX)
        digests = [keccak(i.to_bytes(2, "big")) for i in range(200)]
        results: dict[int, bytes] = {}

        def work(offset: int) -> None:
            for i in range(offset, len(digests), 4):
                results[i] = key.sign_digest(digests[i])

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(results) == len(digests)
        for i, sig in results.items():
            assert fastx402.recover_digest(digests[i], sig) == key.address


class TestRecover:
    key = PrivateKey.from_hex(KEY_HEX)
    digest = keccak(b"x402")

    def high_s_twin(self, sig: bytes) -> bytes:
        s = int.from_bytes(sig[32:64], "big")
        v = 55 - sig[64]  # 27 <-> 28
        return sig[:32] + (N - s).to_bytes(32, "big") + bytes([v])

    def test_v_forms_and_compact(self) -> None:
        sig = self.key.sign_digest(self.digest)
        v01 = sig[:64] + bytes([sig[64] - 27])
        compact = bytearray(sig[:64])
        compact[32] |= (sig[64] - 27) << 7
        for form in (sig, v01, bytes(compact), "0x" + sig.hex()):
            assert fastx402.recover_digest(self.digest, form) == self.key.address

    def test_high_s_rejected_unless_allowed(self) -> None:
        sig = self.key.sign_digest(self.digest)
        twin = self.high_s_twin(sig)
        with pytest.raises(InvalidSignature, match="high-s"):
            fastx402.recover_digest(self.digest, twin)
        assert fastx402.recover_digest(self.digest, twin, allow_high_s=True) == self.key.address
        assert fastx402.normalize_signature(twin) == sig

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda s: s[:64] + b"\x1d",  # v = 29
            lambda s: s[:64] + b"\x02",
            lambda s: bytes(32) + s[32:],  # r = 0
            lambda s: s[:32] + bytes(32) + s[64:],  # s = 0
            lambda s: N.to_bytes(32, "big") + s[32:],  # r = n
            lambda s: s[:63],
            lambda s: s + b"\x00",
            lambda s: b"",
        ],
    )
    def test_malformed(self, mutate) -> None:  # type: ignore[no-untyped-def]
        sig = self.key.sign_digest(self.digest)
        with pytest.raises(InvalidSignature):
            fastx402.recover_digest(self.digest, mutate(sig))

    def test_truncated_to_64_bytes_reads_as_eip2098_with_parity_0(self) -> None:
        for i in range(8):
            digest = keccak(bytes([i]))
            sig = self.key.sign_digest(digest)
            recovered = fastx402.recover_digest(digest, sig[:64])
            assert (recovered == self.key.address) == (sig[64] == 27)

    @pytest.mark.parametrize("bad", ["0x12", "1234", "0xzz", 12, None])
    def test_signature_argument_types(self, bad: object) -> None:
        with pytest.raises(InvalidSignature):
            fastx402.recover_digest(self.digest, bad)  # type: ignore[arg-type]


class TestTypedDataInputs:
    def test_dict_json_str_and_bytes_agree(self) -> None:
        expected = bytes.fromhex(TRANSFER_DIGEST)
        assert fastx402.hash_typed_data(TRANSFER) == expected
        assert fastx402.hash_typed_data(json.dumps(TRANSFER)) == expected
        assert fastx402.hash_typed_data(json.dumps(TRANSFER).encode()) == expected
        assert eth_account_digest(TRANSFER) == expected

    def test_duplicate_json_keys_rejected(self) -> None:
        text = json.dumps(TRANSFER).replace('"value": "10000"', '"value": "1", "value": "10000"')
        with pytest.raises(InvalidTypedData, match="duplicate key") as info:
            fastx402.hash_typed_data(text)
        assert info.value.path == "$"

    @pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"types": {}} trailing'])
    def test_bad_json(self, text: str) -> None:
        with pytest.raises(InvalidTypedData):
            fastx402.hash_typed_data(text)

    def test_infer_domain(self) -> None:
        data = json.loads(json.dumps(TRANSFER))
        del data["types"]["EIP712Domain"]
        with pytest.raises(InvalidTypedData) as info:
            fastx402.hash_typed_data(data)
        assert info.value.path == "types.EIP712Domain"
        digest = fastx402.hash_typed_data(data, domain_types="infer")
        assert digest == bytes.fromhex(TRANSFER_DIGEST)
        with pytest.raises(ValueError, match="domain_types"):
            fastx402.hash_typed_data(data, domain_types="guess")  # type: ignore[arg-type]

    def test_python_values_are_checked_with_paths(self) -> None:
        data = json.loads(json.dumps(TRANSFER))
        data["message"]["value"] = 10000.0
        with pytest.raises(InvalidTypedData, match="float") as info:
            fastx402.hash_typed_data(data)
        assert info.value.path == "message.value"
        data["message"]["value"] = object()
        with pytest.raises(InvalidTypedData) as info:
            fastx402.hash_typed_data(data)
        assert info.value.path == "message.value"
        data["message"]["value"] = {1: 2}
        with pytest.raises(InvalidTypedData, match="keys must be str"):
            fastx402.hash_typed_data(data)

    def test_python_ints_bytes_and_tuples(self) -> None:
        data = json.loads(json.dumps(TRANSFER))
        data["message"]["value"] = 10000
        data["message"]["nonce"] = bytes.fromhex(TRANSFER["message"]["nonce"][2:])  # type: ignore[index]
        data["domain"]["chainId"] = 84532
        assert fastx402.hash_typed_data(data) == bytes.fromhex(TRANSFER_DIGEST)

    def test_deep_nesting_is_an_error_not_a_crash(self) -> None:
        deep: object = []
        for _ in range(10_000):
            deep = [deep]
        data = json.loads(json.dumps(TRANSFER))
        data["message"]["value"] = deep
        with pytest.raises(InvalidTypedData, match="too deep"):
            fastx402.hash_typed_data(data)
        with pytest.raises(InvalidTypedData):
            fastx402.hash_typed_data("[" * 100_000)

    def test_struct_helpers(self) -> None:
        types = TRANSFER["types"]
        assert fastx402.encode_type(types, "TransferWithAuthorization") == (
            "TransferWithAuthorization(address from,address to,uint256 value,"
            "uint256 validAfter,uint256 validBefore,bytes32 nonce)"
        )
        assert fastx402.type_hash(types, "TransferWithAuthorization").hex() == (
            "7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267"
        )
        assert fastx402.type_hash(types, "EIP712Domain").hex() == (
            "8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f"
        )
        assert fastx402.domain_separator(TRANSFER).hex() == (
            "71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818"
        )
        struct_hash = fastx402.hash_struct(types, "TransferWithAuthorization", TRANSFER["message"])
        assert keccak(
            b"\x19\x01" + fastx402.domain_separator(TRANSFER) + struct_hash
        ) == bytes.fromhex(TRANSFER_DIGEST)
