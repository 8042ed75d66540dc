use super::*;
use crate::chain::test_vectors::{hex, vectors};
use serde_json::Value;

fn u256(v: &Value) -> U256 {
    U256::from_dec_str(v.as_str().unwrap()).unwrap()
}

fn u64_of(v: &Value) -> u64 {
    v.as_str().unwrap().parse().unwrap()
}

fn addr(v: &Value) -> Address {
    Address::parse(v.as_str().unwrap()).unwrap()
}

fn tx_from_json(t: &Value) -> Eip1559Tx {
    Eip1559Tx {
        chain_id: u64_of(&t["chain_id"]),
        nonce: u64_of(&t["nonce"]),
        max_priority_fee_per_gas: u256(&t["max_priority_fee_per_gas"]),
        max_fee_per_gas: u256(&t["max_fee_per_gas"]),
        gas_limit: u64_of(&t["gas_limit"]),
        to: (!t["to"].is_null()).then(|| addr(&t["to"])),
        value: u256(&t["value"]),
        data: hex(t["data"].as_str().unwrap()),
        access_list: t["access_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let keys = e["storage_keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| hex(k.as_str().unwrap()).try_into().unwrap())
                    .collect();
                (addr(&e["address"]), keys)
            })
            .collect(),
    }
}

fn key(name: &str) -> SecretKey {
    SecretKey::from_hex(vectors()["keys"][name].as_str().unwrap()).unwrap()
}

fn b32(v: &Value) -> [u8; 32] {
    hex(v.as_str().unwrap()).try_into().unwrap()
}

#[test]
fn eth_account_vectors_sign_byte_for_byte() {
    let cases = vectors()["transactions"].as_array().unwrap();
    assert!(cases.len() >= 12);
    let mut creations = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let tx = tx_from_json(&case["tx"]);
        creations += usize::from(tx.to.is_none());
        assert_eq!(
            tx.signing_payload(),
            hex(case["signing_payload"].as_str().unwrap()),
            "{name}"
        );
        assert_eq!(tx.signing_hash(), b32(&case["signing_hash"]), "{name}");
        let key = key(case["key"].as_str().unwrap());
        let signed = tx.sign(&key).unwrap();
        assert_eq!(signed.signature().r, b32(&case["r"]), "{name}");
        assert_eq!(signed.signature().s, b32(&case["s"]), "{name}");
        assert_eq!(
            u8::from(signed.signature().y_parity),
            case["y_parity"].as_u64().unwrap() as u8,
            "{name}"
        );
        assert_eq!(signed.raw_hex(), case["raw"].as_str().unwrap(), "{name}");
        assert_eq!(signed.hash_hex(), case["hash"].as_str().unwrap(), "{name}");
        assert_eq!(signed.signing_hash(), tx.signing_hash());
        let sender = addr(&case["sender"]);
        assert_eq!(key.address(), sender);
        assert_eq!(signed.recover_sender().unwrap(), sender, "{name}");
    }
    assert!(creations >= 2);
}

#[test]
fn eth_account_vectors_decode_and_recover() {
    for case in vectors()["transactions"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let raw = hex(case["raw"].as_str().unwrap());
        let decoded = SignedTx::decode(&raw).unwrap();
        assert_eq!(decoded.tx(), &tx_from_json(&case["tx"]), "{name}");
        assert_eq!(decoded.raw(), &raw[..]);
        assert_eq!(decoded.hash(), b32(&case["hash"]), "{name}");
        assert_eq!(decoded.signing_hash(), b32(&case["signing_hash"]), "{name}");
        assert_eq!(
            decoded.recover_sender().unwrap(),
            addr(&case["sender"]),
            "{name}"
        );
        // Re-attaching the decoded signature gives the same transaction.
        let again = decoded.tx().clone().into_signed(*decoded.signature());
        assert_eq!(again.unwrap(), decoded);
    }
}

#[test]
fn malformed_transactions_are_refused() {
    let cases = vectors()["invalid_transactions"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let mut stricter_than_eth_account = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let raw = hex(case["raw"].as_str().unwrap());
        let err = SignedTx::decode(&raw).expect_err(name);
        assert_eq!(err.code(), case["error"].as_str().unwrap(), "{name}: {err}");
        stricter_than_eth_account += usize::from(case["eth_account_accepts"] == true);
    }
    assert!(stricter_than_eth_account >= 5);
}

#[test]
fn field_errors_name_the_field() {
    let by_name = |n: &str| {
        let case = vectors()["invalid_transactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap();
        SignedTx::decode(&hex(case["raw"].as_str().unwrap())).unwrap_err()
    };
    assert_eq!(
        by_name("nonce_leading_zero"),
        TxError::Field {
            field: "nonce",
            source: RlpError::IntegerLeadingZero
        }
    );
    assert_eq!(
        by_name("to_19_bytes"),
        TxError::Field {
            field: "to",
            source: RlpError::WrongLength {
                expected: 20,
                got: 19
            }
        }
    );
    assert_eq!(
        by_name("y_parity_2"),
        TxError::Field {
            field: "y_parity",
            source: RlpError::NotABool
        }
    );
    assert_eq!(
        by_name("access_key_31_bytes"),
        TxError::Field {
            field: "access_list.storage_keys",
            source: RlpError::WrongLength {
                expected: 32,
                got: 31
            }
        }
    );
    assert_eq!(
        by_name("high_s_twin"),
        TxError::Signature(SignatureError::HighS)
    );
    assert_eq!(by_name("type_1"), TxError::UnsupportedType(1));
    assert_eq!(
        by_name("thirteen_fields"),
        TxError::FieldCount {
            expected: 12,
            got: 13
        }
    );
    assert_eq!(
        by_name("nonce_leading_zero").to_string(),
        "transaction field nonce: RLP integer has a leading zero byte"
    );
}

fn sample() -> Eip1559Tx {
    Eip1559Tx {
        chain_id: 31337,
        nonce: 3,
        max_priority_fee_per_gas: U256::from_u64(1_000_000_000),
        max_fee_per_gas: U256::from_u64(2_000_000_000),
        gas_limit: 100_000,
        to: Some(Address([0x42; 20])),
        value: U256::ZERO,
        data: vec![0xa9, 0x05, 0x9c, 0xbb],
        access_list: vec![(Address([1; 20]), vec![[2; 32], [3; 32]])],
    }
}

#[test]
fn validation_on_sign() {
    let key = SecretKey::from_bytes(&[0x11; 32]).unwrap();
    let mut tx = sample();
    tx.gas_limit = 0;
    assert_eq!(tx.sign(&key).unwrap_err(), TxError::GasLimitZero);
    let mut tx = sample();
    tx.max_priority_fee_per_gas = U256::from_u64(2_000_000_001);
    assert_eq!(
        tx.sign(&key).unwrap_err().code(),
        "priority_fee_above_max_fee"
    );
    // Equal fees are fine.
    tx.max_fee_per_gas = tx.max_priority_fee_per_gas;
    assert!(tx.sign(&key).is_ok());
    let mut tx = sample();
    tx.nonce = u64::MAX;
    assert_eq!(tx.sign(&key).unwrap_err(), TxError::NonceOverflow);
    tx.nonce = u64::MAX - 1;
    assert!(tx.sign(&key).is_ok());
}

#[test]
fn into_signed_checks_the_signature() {
    let key = SecretKey::from_bytes(&[0x22; 32]).unwrap();
    let tx = sample();
    let good = key.sign_digest(&tx.signing_hash());
    let signed = tx.clone().into_signed(good).unwrap();
    assert_eq!(signed, tx.sign(&key).unwrap());
    assert_eq!(signed.recover_sender().unwrap(), key.address());
    let high = Signature {
        s: {
            // n - s, flipping parity: the high-s twin of a valid signature.
            let n = U256::from_hex_digits(
                b"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
            )
            .unwrap();
            let s = U256::from_be_bytes(&good.s);
            sub(n, s).to_be_bytes()
        },
        y_parity: !good.y_parity,
        ..good
    };
    assert_eq!(
        tx.clone().into_signed(high).unwrap_err(),
        TxError::Signature(SignatureError::HighS)
    );
    let zero_r = Signature { r: [0; 32], ..good };
    assert_eq!(
        tx.into_signed(zero_r).unwrap_err(),
        TxError::Signature(SignatureError::ROutOfRange)
    );
}

fn sub(a: U256, b: U256) -> U256 {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for (i, limb) in out.iter_mut().enumerate() {
        let (d, b1) = a.0[i].overflowing_sub(b.0[i]);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        *limb = d;
        borrow = b1 || b2;
    }
    U256(out)
}

#[test]
fn round_trips_and_flips() {
    let key = SecretKey::from_bytes(&[0x33; 32]).unwrap();
    let mut tx = sample();
    for (i, data_len) in [0usize, 1, 55, 56, 300, 70_000].into_iter().enumerate() {
        tx.nonce = i as u64;
        tx.data = (0..data_len).map(|j| j as u8).collect();
        tx.to = (i % 2 == 0).then_some(Address([0x42; 20]));
        tx.access_list = (0..i)
            .map(|a| (Address([a as u8; 20]), vec![[a as u8; 32]; a]))
            .collect();
        let signed = tx.sign(&key).unwrap();
        let decoded = SignedTx::decode(signed.raw()).unwrap();
        assert_eq!(decoded, signed);
        assert_eq!(decoded.recover_sender().unwrap(), key.address());
    }
    // Any single-byte change is refused or decodes to a different transaction
    // (never to the same one from different bytes).
    let signed = sample().sign(&key).unwrap();
    let raw = signed.raw().to_vec();
    for i in 0..raw.len() {
        for flip in [0x01u8, 0x80] {
            let mut bad = raw.clone();
            bad[i] ^= flip;
            if let Ok(other) = SignedTx::decode(&bad) {
                assert_ne!(other.hash(), signed.hash());
                assert_eq!(other.raw(), &bad[..]);
            }
        }
    }
}

#[test]
fn display_and_codes() {
    let e = TxError::PriorityFeeAboveMaxFee {
        priority: U256::from_u64(3),
        max: U256::from_u64(2),
    };
    assert_eq!(
        e.to_string(),
        "max priority fee per gas (3) exceeds max fee per gas (2)"
    );
    assert_eq!(
        TxError::UnsupportedType(0xf8).to_string(),
        "transaction type 0xf8 is not supported (only EIP-1559, type 0x02)"
    );
    assert_eq!(SignedTx::decode(&[]), Err(TxError::Empty));
}
