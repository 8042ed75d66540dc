//! EIP-1559 (type 2) transactions: canonical encoding, signing with the core
//! signer, and a strict decoder. Sans-I/O.
//!
//! ```text
//! signing payload  0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas,
//!                              gasLimit, to, value, data, accessList])
//! raw transaction  0x02 ‖ rlp([… the 9 fields …, yParity, r, s])
//! signing hash     keccak256(signing payload)
//! transaction hash keccak256(raw transaction)
//! ```
//!
//! [`SignedTx::decode`] accepts exactly the bytes [`SignedTx::raw`] would
//! produce: type 2 only, canonical RLP (see [`super::rlp`]) with no trailing
//! bytes, exactly 12 fields, integers without leading zeros and within their
//! widths (`chainId`, `nonce`, `gasLimit`: 64 bits; fees, value, r, s: 256 bits),
//! `to` empty or 20 bytes, access-list addresses of 20 bytes and storage keys
//! of 32, `yParity` 0 or 1, r and s in [1, n) with s ≤ n/2 (EIP-2), and the
//! transaction rules of [`Eip1559Tx::validate`].

use super::rlp::{self, Item, RlpError};
use crate::crypto::address::Address;
use crate::crypto::ecdsa::{self, Policy, SecretKey, Signature, SignatureError};
use crate::crypto::hexutil;
use crate::crypto::keccak::keccak256;
use crate::num::U256;

/// The EIP-2718 type byte of EIP-1559 transactions.
pub const EIP1559_TX_TYPE: u8 = 0x02;

/// EIP-2930 access list: addresses and the storage keys the transaction touches.
pub type AccessList = Vec<(Address, Vec<[u8; 32]>)>;

/// An unsigned EIP-1559 transaction.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Eip1559Tx {
    pub chain_id: u64,
    pub nonce: u64,
    pub max_priority_fee_per_gas: U256,
    pub max_fee_per_gas: U256,
    pub gas_limit: u64,
    /// `None` creates a contract whose init code is `data`.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Vec<u8>,
    pub access_list: AccessList,
}

/// Why a transaction was refused (when built, signed or decoded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("transaction bytes are empty")]
    Empty,
    #[error("transaction type {0:#04x} is not supported (only EIP-1559, type 0x02)")]
    UnsupportedType(u8),
    #[error("transaction RLP: {0}")]
    Rlp(RlpError),
    #[error("transaction payload is an RLP string, not a list")]
    NotAList,
    #[error("EIP-1559 transaction must have {expected} fields, got {got}")]
    FieldCount { expected: usize, got: usize },
    #[error("transaction field {field}: {source}")]
    Field {
        field: &'static str,
        source: RlpError,
    },
    #[error("gas limit must be greater than 0")]
    GasLimitZero,
    #[error("max priority fee per gas ({priority}) exceeds max fee per gas ({max})")]
    PriorityFeeAboveMaxFee { priority: U256, max: U256 },
    #[error("nonce 2^64-1 is not allowed (EIP-2681)")]
    NonceOverflow,
    #[error("transaction signature: {0}")]
    Signature(SignatureError),
    #[error("transaction bytes are not in canonical encoding")]
    NonCanonical,
}

impl TxError {
    /// A stable snake_case name for the failure.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Empty => "empty",
            TxError::UnsupportedType(_) => "unsupported_type",
            TxError::Rlp(_) => "rlp",
            TxError::NotAList => "not_a_list",
            TxError::FieldCount { .. } => "field_count",
            TxError::Field { .. } => "field",
            TxError::GasLimitZero => "gas_limit_zero",
            TxError::PriorityFeeAboveMaxFee { .. } => "priority_fee_above_max_fee",
            TxError::NonceOverflow => "nonce_overflow",
            TxError::Signature(_) => "signature",
            TxError::NonCanonical => "non_canonical",
        }
    }
}

/// Attaches a field name to an RLP accessor error.
fn field<T>(name: &'static str, r: Result<T, RlpError>) -> Result<T, TxError> {
    r.map_err(|source| TxError::Field {
        field: name,
        source,
    })
}

const UNSIGNED_FIELDS: usize = 9;
const SIGNED_FIELDS: usize = 12;

impl Eip1559Tx {
    /// The rules every transaction must meet: `max_priority_fee_per_gas ≤
    /// max_fee_per_gas`, `gas_limit > 0` and `nonce < 2^64 − 1` (EIP-2681).
    pub fn validate(&self) -> Result<(), TxError> {
        if self.gas_limit == 0 {
            return Err(TxError::GasLimitZero);
        }
        if self.max_priority_fee_per_gas > self.max_fee_per_gas {
            return Err(TxError::PriorityFeeAboveMaxFee {
                priority: self.max_priority_fee_per_gas,
                max: self.max_fee_per_gas,
            });
        }
        if self.nonce == u64::MAX {
            return Err(TxError::NonceOverflow);
        }
        Ok(())
    }

    /// Appends the 9 unsigned fields (the payload of the RLP list, no header).
    fn encode_fields(&self, out: &mut Vec<u8>) {
        rlp::encode_u64(out, self.chain_id);
        rlp::encode_u64(out, self.nonce);
        rlp::encode_u256(out, &self.max_priority_fee_per_gas);
        rlp::encode_u256(out, &self.max_fee_per_gas);
        rlp::encode_u64(out, self.gas_limit);
        match &self.to {
            Some(to) => rlp::encode_bytes(out, &to.0),
            None => rlp::encode_bytes(out, &[]),
        }
        rlp::encode_u256(out, &self.value);
        rlp::encode_bytes(out, &self.data);
        rlp::encode_list(out, |out| {
            for (address, keys) in &self.access_list {
                rlp::encode_list(out, |out| {
                    rlp::encode_bytes(out, &address.0);
                    rlp::encode_list(out, |out| {
                        for key in keys {
                            rlp::encode_bytes(out, key);
                        }
                    });
                });
            }
        });
    }

    /// `0x02 ‖ rlp([chainId, …, accessList])`: the bytes whose keccak is signed.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.data.len());
        out.push(EIP1559_TX_TYPE);
        rlp::encode_list(&mut out, |out| self.encode_fields(out));
        out
    }

    /// keccak256 of [`Eip1559Tx::signing_payload`].
    pub fn signing_hash(&self) -> [u8; 32] {
        keccak256(&self.signing_payload())
    }

    /// Validates the transaction and signs it with `key` (RFC 6979, low s).
    pub fn sign(&self, key: &SecretKey) -> Result<SignedTx, TxError> {
        self.validate()?;
        let signing_hash = self.signing_hash();
        let signature = key.sign_digest(&signing_hash);
        SignedTx::build(self.clone(), signature, signing_hash)
    }

    /// Attaches a signature made elsewhere (e.g. by a remote signer over
    /// [`Eip1559Tx::signing_hash`]). The transaction is validated and the
    /// signature range-checked (low s), but not matched against any address:
    /// see [`SignedTx::recover_sender`].
    pub fn into_signed(self, signature: Signature) -> Result<SignedTx, TxError> {
        self.validate()?;
        let signing_hash = self.signing_hash();
        SignedTx::build(self, signature, signing_hash)
    }

    /// The 9 unsigned fields from a decoded list.
    fn from_fields(fields: &[Item<'_>]) -> Result<Self, TxError> {
        let to = field("to", fields[5].as_bytes())?;
        let to = match to.len() {
            0 => None,
            _ => Some(field("to", fields[5].as_address())?),
        };
        let mut access_list = Vec::new();
        for entry in field("access_list", fields[8].as_list())? {
            let pair = field("access_list", entry.as_list_of(2))?;
            let address = field("access_list.address", pair[0].as_address())?;
            let keys = field("access_list.storage_keys", pair[1].as_list())?
                .iter()
                .map(|k| field("access_list.storage_keys", k.as_fixed::<32>()))
                .collect::<Result<Vec<_>, _>>()?;
            access_list.push((address, keys));
        }
        Ok(Eip1559Tx {
            chain_id: field("chain_id", fields[0].as_u64())?,
            nonce: field("nonce", fields[1].as_u64())?,
            max_priority_fee_per_gas: field("max_priority_fee_per_gas", fields[2].as_u256())?,
            max_fee_per_gas: field("max_fee_per_gas", fields[3].as_u256())?,
            gas_limit: field("gas_limit", fields[4].as_u64())?,
            to,
            value: field("value", fields[6].as_u256())?,
            data: field("data", fields[7].as_bytes())?.to_vec(),
            access_list,
        })
    }
}

/// A signed EIP-1559 transaction with its raw bytes and hashes, consistent by
/// construction (the fields are read-only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    tx: Eip1559Tx,
    signature: Signature,
    signing_hash: [u8; 32],
    raw: Vec<u8>,
    hash: [u8; 32],
}

impl SignedTx {
    fn build(tx: Eip1559Tx, signature: Signature, signing_hash: [u8; 32]) -> Result<Self, TxError> {
        signature
            .check(Policy::default())
            .map_err(TxError::Signature)?;
        let mut raw = Vec::with_capacity(64 + 70 + tx.data.len());
        raw.push(EIP1559_TX_TYPE);
        rlp::encode_list(&mut raw, |out| {
            tx.encode_fields(out);
            rlp::encode_u64(out, u64::from(signature.y_parity));
            rlp::encode_uint(out, &signature.r);
            rlp::encode_uint(out, &signature.s);
        });
        let hash = keccak256(&raw);
        Ok(SignedTx {
            tx,
            signature,
            signing_hash,
            raw,
            hash,
        })
    }

    /// Strictly decodes a raw type-2 transaction (see the module docs).
    pub fn decode(raw: &[u8]) -> Result<Self, TxError> {
        let (&ty, payload) = raw.split_first().ok_or(TxError::Empty)?;
        if ty != EIP1559_TX_TYPE {
            return Err(TxError::UnsupportedType(ty));
        }
        let item = rlp::decode(payload).map_err(TxError::Rlp)?;
        let Item::List(fields) = &item else {
            return Err(TxError::NotAList);
        };
        if fields.len() != SIGNED_FIELDS {
            return Err(TxError::FieldCount {
                expected: SIGNED_FIELDS,
                got: fields.len(),
            });
        }
        let tx = Eip1559Tx::from_fields(&fields[..UNSIGNED_FIELDS])?;
        let signature = Signature {
            y_parity: field("y_parity", fields[9].as_bool())?,
            r: field("r", fields[10].as_u256())?.to_be_bytes(),
            s: field("s", fields[11].as_u256())?.to_be_bytes(),
        };
        tx.validate()?;
        let signing_hash = tx.signing_hash();
        let signed = SignedTx::build(tx, signature, signing_hash)?;
        // Strict decoding makes this hold; checked so that raw() is always what we parsed.
        if signed.raw != raw {
            return Err(TxError::NonCanonical);
        }
        Ok(signed)
    }

    /// The transaction fields.
    pub fn tx(&self) -> &Eip1559Tx {
        &self.tx
    }

    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// `0x02 ‖ rlp([…, yParity, r, s])`, ready for `eth_sendRawTransaction`.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    /// [`SignedTx::raw`] as `0x`-prefixed lowercase hex.
    pub fn raw_hex(&self) -> String {
        hexutil::encode_0x(&self.raw)
    }

    /// The transaction hash: keccak256 of the raw bytes.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// [`SignedTx::hash`] as `0x`-prefixed lowercase hex (what RPCs and
    /// `SettleResponse.transaction` use).
    pub fn hash_hex(&self) -> String {
        hexutil::encode_0x(&self.hash)
    }

    /// The hash that was signed.
    pub fn signing_hash(&self) -> [u8; 32] {
        self.signing_hash
    }

    /// The address whose key made the signature (low s enforced).
    pub fn recover_sender(&self) -> Result<Address, SignatureError> {
        ecdsa::recover_address(
            &self.signing_hash,
            &self.signature.to_bytes(),
            Policy::default(),
        )
    }
}

#[cfg(test)]
mod tests {
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
}
